/*
 * Unit tests for lib/taskspec.c and lib/outcome.c: the task environment
 * (docs/pipeline-format.md) exactly (every name and value, nothing more,
 * later levels overriding earlier ones), the iterator objects and inputs as
 * text or JSON, input key mangling, argv placeholders, run lines, the
 * working directory, the limits a spec carries, iterator command specs, and
 * the status and message of every kind of outcome.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "outcome.h"
#include "pipeline.h"
#include "result.h"
#include "runas.h"
#include "taskspec.h"
#include "xmalloc.h"

#define LANG_C	"C.UTF-8"

/* An execution of a pipeline, with its results, and who runs it. */
struct fix {
	struct pipeline		*p;
	struct execution	*e;
	struct runas		 ra;
	gid_t			 groups[1];
	char			 name[32];
	char			 home[64];
	char			 shell[32];
};

/* Run as a user given by hand, not looked up. */
static void
fix_user(struct fix *x, uid_t uid, const char *name, const char *home,
    const char *shell)
{
	x->ra.uid = uid;
	x->ra.gid = (gid_t)uid;
	x->groups[0] = (gid_t)uid;
	x->ra.groups = x->groups;
	x->ra.ngroups = 1;
	snprintf(x->name, sizeof x->name, "%s", name);
	snprintf(x->home, sizeof x->home, "%s", home);
	snprintf(x->shell, sizeof x->shell, "%s", shell);
	x->ra.name = x->name;
	x->ra.home = x->home;
	x->ra.shell = x->shell;
}

/* Load yaml, make execution 42 with input (JSON or NULL) and cwd. */
static void
fix_init(struct fix *x, const char *yaml, const char *input, const char *cwd)
{
	struct diag	*d = diag_new("t.yaml");
	size_t		 i, n;
	char		*err = NULL;

	memset(x, 0, sizeof *x);
	x->p = load_buffer(yaml, strlen(yaml), 0, d, NULL);
	ck_assert_msg(x->p != NULL, "does not load: %s", diag_count(d) > 0 ?
	    diag_format(d, 0) : "?");
	diag_free(d);
	x->e = execution_new(42, x->p, NULL, NULL);
	x->e->owned_def = x->p;
	x->e->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	if (input != NULL) {
		x->e->input = nodejson_decode(input, strlen(input), &err);
		ck_assert_msg(x->e->input != NULL, "input: %s", err);
	}
	n = x->p->iterate != NULL ? x->p->iterate->nkids : 1;
	for (i = 0; i < n; i++)
		execution_add_result(x->e, x->p->iterate != NULL ?
		    x->p->iterate->kids[i] : NULL, 1);
	fix_user(x, 1000, "alice", "/home/alice", "/bin/zsh");
}

/* Free the execution (and the pipeline it owns). */
static void
fix_free(struct fix *x)
{
	execution_free(x->e);
}

/* The task result of result pr, task name, instance i. */
static struct task_result *
fix_tr(struct fix *x, uint32_t pr, const char *task, uint32_t i)
{
	const struct task_def	*t = pipeline_task(x->p, task);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(i, x->e->results[pr]->tasks[t->index].ninst);
	return x->e->results[pr]->tasks[t->index].inst[i];
}

/* qsort() order of C strings. */
static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The value of name in envp, or NULL. */
static const char *
env_get(char **envp, const char *name)
{
	size_t	len = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/*
 * envp must be exactly want (NULL-terminated, any order): same entries,
 * each name once.
 */
static void
env_expect(char **envp, const char *const *want)
{
	size_t	 n = 0, m = 0, i;
	char	**a;
	const char **b;

	while (envp[n] != NULL)
		n++;
	while (want[m] != NULL)
		m++;
	a = xcalloc(n + 1, sizeof *a);
	b = xcalloc(m + 1, sizeof *b);
	memcpy(a, envp, n * sizeof *a);
	memcpy(b, want, m * sizeof *b);
	qsort(a, n, sizeof *a, strp_cmp);
	qsort(b, m, sizeof *b, strp_cmp);
	for (i = 0; i < n && i < m; i++)
		ck_assert_str_eq(a[i], b[i]);
	ck_assert_uint_eq(n, m);
	for (i = 0; i + 1 < n; i++)
		ck_assert_msg(strcspn(a[i], "=") != strcspn(a[i + 1], "=") ||
		    strncmp(a[i], a[i + 1], strcspn(a[i], "=")) != 0,
		    "%s set twice", a[i]);
	free(a);
	free(b);
}

/* Give a loaded env list one more entry, as a document could. */
static void
env_append(struct env_var **v, size_t *n, const char *name, const char *val)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[*n].name = xstrdup(name);
	(*v)[*n].value = xstrdup(val);
	(*n)++;
}

/* The whole environment of a task without iterators, name by name. */
START_TEST(test_env_exact)
{
	static const char *const want[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=/override",
		"USER=alice",
		"LOGNAME=alice",
		"SHELL=/bin/zsh",
		"LANG=xx",
		"TZ=UTC",
		"SHARED=task",
		"MODE=full",
		"EMPTY=",
		"PIPELINE_NAME=envp",
		"PIPELINE_EXECUTION_ID=42",
		"PIPELINE_RESULT_INDEX=0",
		"PIPELINE_TASK=a",
		"TASK_INDEX=0",
		"PIPELINE_ATTEMPT=2",
		"PIPELINE_INPUT={\"date\":\"2026-11-27\",\"my-key.x\":1,"
		    "\"n\":{\"a\":[1,\"b\"]},\"t\":true}",
		"PIPELINE_INPUT_DATE=2026-11-27",
		"PIPELINE_INPUT_MY_KEY_X=1",
		"PIPELINE_INPUT_N={\"a\":[1,\"b\"]}",
		"PIPELINE_INPUT_T=true",
		NULL,
	};
	struct fix		 x;
	struct taskspec		 ts;
	struct task_def		*t;

	fix_init(&x, "name: envp\n"
	    "env: {TZ: UTC, SHARED: pipeline, LANG: xx}\n"
	    "tasks:\n"
	    "  a:\n"
	    "    run: echo \"$MODE\"\n"
	    "    env: {SHARED: task, MODE: full, HOME: /override, EMPTY: ''}\n",
	    "{\"date\": \"2026-11-27\", \"my-key.x\": 1, "
	    "\"n\": {\"a\": [1, \"b\"]}, \"t\": true}", "/");
	/* The loader refuses these names; the spec must win anyway. */
	env_append(&x.p->env, &x.p->nenv, "PIPELINE_NAME", "fake");
	t = pipeline_task(x.p, "a");
	env_append(&t->env, &t->nenv, "PIPELINE_TASK", "fake");
	env_append(&t->env, &t->nenv, "TASK_INDEX", "9");
	env_append(&t->env, &t->nenv, "PIPELINE_INPUT_DATE", "fake");
	taskspec_task(&ts, fix_tr(&x, 0, "a", 0), &x.ra, LANG_C, 2);
	env_expect(ts.envp, want);
	ck_assert_ptr_null(env_get(ts.envp, "PIPELINE_OBJECT"));
	ck_assert_ptr_null(env_get(ts.envp, "TASK_OBJECT"));
	taskspec_clear(&ts);
	ck_assert_ptr_null(ts.envp);
	fix_free(&x);
}
END_TEST

/* Defaults: no LANG without one, {} without input, root's PATH. */
START_TEST(test_env_defaults)
{
	static const char *const want[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
		    "/bin",
		"HOME=/root",
		"USER=root",
		"LOGNAME=root",
		"SHELL=/bin/sh",
		"PIPELINE_NAME=d",
		"PIPELINE_EXECUTION_ID=42",
		"PIPELINE_RESULT_INDEX=0",
		"PIPELINE_TASK=a",
		"TASK_INDEX=0",
		"PIPELINE_ATTEMPT=1",
		"PIPELINE_INPUT={}",
		NULL,
	};
	struct fix		 x;
	struct taskspec		 ts;

	fix_init(&x, "name: d\ntasks:\n  a: {run: 'true'}\n", NULL, NULL);
	fix_user(&x, 0, "root", "/root", "/bin/sh");
	taskspec_task(&ts, fix_tr(&x, 0, "a", 0), &x.ra, NULL, 1);
	env_expect(ts.envp, want);
	ck_assert_str_eq(ts.cwd, "/");
	taskspec_clear(&ts);
	fix_free(&x);
}
END_TEST

/* Iterator objects: strings as they are, anything else as JSON. */
START_TEST(test_env_objects)
{
	static const char *const pobj[] = { "eu", "{\"k\":\"v\"}" };
	static const char *const tobj[] = { "1", "two", "[1,\"x\"]", "null",
	    "2.5", "false" };
	struct fix		 x;
	struct taskspec		 ts;
	struct task_result	*tr;
	uint32_t		 pr, i;
	char			 num[16];

	fix_init(&x, "name: o\niterate: [eu, {k: v}]\ntasks:\n"
	    "  a: {run: 'true', iterate: [1, two, [1, x], null, 2.5, false]}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, "/");
	for (pr = 0; pr < 2; pr++) {
		for (i = 0; i < 6; i++) {
			tr = fix_tr(&x, pr, "a", i);
			taskspec_task(&ts, tr, &x.ra, LANG_C, 1);
			ck_assert_str_eq(env_get(ts.envp, "PIPELINE_OBJECT"),
			    pobj[pr]);
			ck_assert_str_eq(env_get(ts.envp, "TASK_OBJECT"),
			    tobj[i]);
			snprintf(num, sizeof num, "%u", i);
			ck_assert_str_eq(env_get(ts.envp, "TASK_INDEX"), num);
			snprintf(num, sizeof num, "%u", pr);
			ck_assert_str_eq(env_get(ts.envp,
			    "PIPELINE_RESULT_INDEX"), num);
			taskspec_clear(&ts);
		}
		taskspec_task(&ts, fix_tr(&x, pr, "b", 0), &x.ra, LANG_C, 1);
		ck_assert_str_eq(env_get(ts.envp, "PIPELINE_OBJECT"), pobj[pr]);
		ck_assert_ptr_null(env_get(ts.envp, "TASK_OBJECT"));
		ck_assert_str_eq(env_get(ts.envp, "TASK_INDEX"), "0");
		taskspec_clear(&ts);
	}
	fix_free(&x);
}
END_TEST

/* PIPELINE_INPUT_<KEY>: upper case, anything but [A-Z0-9] as '_'. */
START_TEST(test_input_env_name)
{
	static const char *const cases[][2] = {
		{ "date", "PIPELINE_INPUT_DATE" },
		{ "my-key.x", "PIPELINE_INPUT_MY_KEY_X" },
		{ "_x9", "PIPELINE_INPUT__X9" },
		{ "Ab-C.d_e", "PIPELINE_INPUT_AB_C_D_E" },
		{ "a b", "PIPELINE_INPUT_A_B" },
		{ "\xc3\xa9t\xc3\xa9", "PIPELINE_INPUT___T__" },
		{ "", "PIPELINE_INPUT_" },
	};
	size_t	i;
	char	*s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = taskspec_input_env_name(cases[i][0]);
		ck_assert_str_eq(s, cases[i][1]);
		free(s);
	}
}
END_TEST

/* An item or input value as text. */
START_TEST(test_value_text)
{
	static const char *const cases[][2] = {
		{ "\"plain text\"", "plain text" },
		{ "\"\"", "" },
		{ "5", "5" },
		{ "-1.5", "-1.5" },
		{ "true", "true" },
		{ "null", "null" },
		{ "[1, \"a\", [], {}]", "[1,\"a\",[],{}]" },
		{ "{\"b\": 1, \"a\": [null]}", "{\"b\":1,\"a\":[null]}" },
	};
	struct node	*n;
	size_t		 i;
	char		*err, *s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = nodejson_decode(cases[i][0], strlen(cases[i][0]), &err);
		ck_assert_ptr_nonnull(n);
		s = taskspec_value_text(n);
		ck_assert_str_eq(s, cases[i][1]);
		free(s);
		node_free(n);
	}
}
END_TEST

/* argv placeholders, spaces inside the braces included. */
START_TEST(test_argv_placeholders)
{
	static const char *const want[2][12] = {
		{ "/bin/prog", "eu", "x[1,2]y", "2026-11-27-1", "42", "0", "0",
		    "plain", "{\"a\":[1]}", "a{b}c", "a}}b", NULL },
		{ "/bin/prog", "eu", "xby", "2026-11-27-1", "42", "1", "1",
		    "plain", "{\"a\":[1]}", "a{b}c", "a}}b", NULL },
	};
	struct fix	x;
	struct taskspec	ts;
	uint32_t	i;
	size_t		k;

	fix_init(&x, "name: p\niterate: [eu]\ntasks:\n"
	    "  a:\n"
	    "    argv: [/bin/prog, '{{pipeline.object}}', "
	    "'x{{ task.object }}y', '{{input.date}}-{{  input.my-key.x  }}', "
	    "'{{execution.id}}', '{{task.index}}', '{{ task.index}}', plain, "
	    "'{{input.n}}', 'a{b}c', 'a}}b']\n"
	    "    iterate: [[1, 2], b]\n"
	    "  s:\n"
	    "    argv: [/bin/echo, 'x y', '']\n",
	    "{\"date\": \"2026-11-27\", \"my-key.x\": 1, \"n\": {\"a\": [1]}}",
	    "/");
	for (i = 0; i < 2; i++) {
		taskspec_task(&ts, fix_tr(&x, 0, "a", i), &x.ra, LANG_C, 1);
		for (k = 0; want[i][k] != NULL; k++) {
			ck_assert_ptr_nonnull(ts.argv[k]);
			ck_assert_str_eq(ts.argv[k], want[i][k]);
		}
		ck_assert_ptr_null(ts.argv[k]);
		taskspec_clear(&ts);
	}
	taskspec_task(&ts, fix_tr(&x, 0, "s", 0), &x.ra, LANG_C, 1);
	ck_assert_str_eq(ts.argv[0], "/bin/echo");
	ck_assert_str_eq(ts.argv[1], "x y");
	ck_assert_str_eq(ts.argv[2], "");
	ck_assert_ptr_null(ts.argv[3]);
	taskspec_clear(&ts);
	fix_free(&x);
}
END_TEST

/* A run line is /bin/sh -c LINE, placeholders left alone. */
START_TEST(test_run_line)
{
	struct fix	x;
	struct taskspec	ts;

	fix_init(&x, "name: r\ntasks:\n"
	    "  a: {run: 'echo {{task.index}} \"$X\" | tr a b'}\n", NULL, "/");
	taskspec_task(&ts, fix_tr(&x, 0, "a", 0), &x.ra, LANG_C, 1);
	ck_assert_str_eq(ts.argv[0], "/bin/sh");
	ck_assert_str_eq(ts.argv[1], "-c");
	ck_assert_str_eq(ts.argv[2], "echo {{task.index}} \"$X\" | tr a b");
	ck_assert_ptr_null(ts.argv[3]);
	taskspec_clear(&ts);
	fix_free(&x);
}
END_TEST

/* The working directory: absolute, relative to the execution's, none. */
START_TEST(test_cwd)
{
	static const struct {
		const char	*ecwd;
		const char	*tcwd;
		const char	*want;
	} cases[] = {
		{ "/home/alice", "/srv/x", "/srv/x" },
		{ "/home/alice", "sub/dir", "/home/alice/sub/dir" },
		{ "/home/alice/", "sub", "/home/alice/sub" },
		{ "/", "sub", "/sub" },
		{ NULL, "sub", "/sub" },
		{ "/home/alice", NULL, "/home/alice" },
		{ NULL, NULL, "/" },
	};
	struct fix	x;
	struct taskspec	ts;
	char		*yaml;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		yaml = cases[i].tcwd != NULL ? xprintf("name: c\ntasks:\n"
		    "  a: {run: 'true', cwd: '%s'}\n", cases[i].tcwd) :
		    xstrdup("name: c\ntasks:\n  a: {run: 'true'}\n");
		fix_init(&x, yaml, NULL, cases[i].ecwd);
		free(yaml);
		taskspec_task(&ts, fix_tr(&x, 0, "a", 0), &x.ra, LANG_C, 1);
		ck_assert_str_eq(ts.cwd, cases[i].want);
		taskspec_clear(&ts);
		fix_free(&x);
	}
}
END_TEST

/* Limits, timeout, kill_grace, output cap, queue and options. */
START_TEST(test_limits)
{
	struct fix		 x;
	struct taskspec		 ts;
	const struct task_def	*t;

	fix_init(&x, "name: l\nordering: {}\ntasks:\n"
	    "  a:\n"
	    "    run: 'true'\n"
	    "    limits: {memory: 512M, cpu_time: 10m, open_files: 1024, "
	    "processes: 256, output: 1M}\n"
	    "    timeout: 5m\n"
	    "    kill_grace: 3s\n"
	    "    queue: render\n"
	    "    options: {a: 1}\n"
	    "  b: {run: 'true'}\n", NULL, "/");
	t = pipeline_task(x.p, "a");
	taskspec_task(&ts, fix_tr(&x, 0, "a", 0), &x.ra, LANG_C, 1);
	ck_assert_int_eq(ts.limits.memory, 512LL * 1024 * 1024);
	ck_assert_int_eq(ts.limits.cpu_time_ms, 600000);
	ck_assert_int_eq(ts.limits.open_files, 1024);
	ck_assert_int_eq(ts.limits.processes, 256);
	ck_assert_int_eq(ts.output_cap, 1024 * 1024);
	ck_assert_int_eq(ts.timeout_ms, 300000);
	ck_assert_int_eq(ts.kill_grace_ms, 3000);
	ck_assert_ptr_eq(ts.queue, t->queue);
	ck_assert_str_eq(ts.queue, "render");
	ck_assert_ptr_eq(ts.options, t->options);
	taskspec_clear(&ts);
	ck_assert_ptr_null(ts.queue);

	taskspec_task(&ts, fix_tr(&x, 0, "b", 0), &x.ra, LANG_C, 1);
	ck_assert_int_eq(ts.limits.memory, -1);
	ck_assert_int_eq(ts.limits.cpu_time_ms, -1);
	ck_assert_int_eq(ts.limits.open_files, -1);
	ck_assert_int_eq(ts.limits.processes, -1);
	ck_assert_int_eq(ts.output_cap, PIPELINE_OUTPUT_LIMIT);
	ck_assert_int_eq(ts.timeout_ms, 0);
	ck_assert_int_eq(ts.kill_grace_ms, PIPELINE_KILL_GRACE_MS);
	ck_assert_ptr_null(ts.queue);
	ck_assert_ptr_null(ts.options);
	taskspec_clear(&ts);
	fix_free(&x);
}
END_TEST

/* Iterator commands: /bin/sh -c, the pipeline's env and cwd, no limits. */
START_TEST(test_iterator_spec)
{
	static const char *const want_pipeline[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=/home/alice",
		"USER=alice",
		"LOGNAME=alice",
		"SHELL=/bin/zsh",
		"LANG=C.UTF-8",
		"TZ=UTC",
		"PIPELINE_NAME=it",
		"PIPELINE_EXECUTION_ID=42",
		"PIPELINE_INPUT={\"k\":\"v\"}",
		"PIPELINE_INPUT_K=v",
		NULL,
	};
	static const char *const want_task[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=/home/alice",
		"USER=alice",
		"LOGNAME=alice",
		"SHELL=/bin/zsh",
		"LANG=C.UTF-8",
		"TZ=UTC",
		"PIPELINE_NAME=it",
		"PIPELINE_EXECUTION_ID=42",
		"PIPELINE_RESULT_INDEX=1",
		"PIPELINE_OBJECT=us",
		"PIPELINE_INPUT={\"k\":\"v\"}",
		"PIPELINE_INPUT_K=v",
		"PIPELINE_TASK=a",
		NULL,
	};
	struct fix	x;
	struct taskspec	ts;

	fix_init(&x, "name: it\niterate: [eu, us]\nenv: {TZ: UTC}\n"
	    "tasks:\n"
	    "  a:\n"
	    "    run: 'true'\n"
	    "    iterate_command: ls /srv\n"
	    "    env: {MODE: full}\n"
	    "    cwd: /elsewhere\n"
	    "    limits: {memory: 1M}\n", "{\"k\": \"v\"}", "/work");
	/* The pipeline's own: as if it had iterate_command. */
	x.p->iterate_command = xstrdup("printf 'a\\nb\\n'");
	taskspec_iterator(&ts, x.e, NULL, NULL, &x.ra, LANG_C);
	ck_assert_str_eq(ts.argv[0], "/bin/sh");
	ck_assert_str_eq(ts.argv[1], "-c");
	ck_assert_str_eq(ts.argv[2], "printf 'a\\nb\\n'");
	ck_assert_ptr_null(ts.argv[3]);
	env_expect(ts.envp, want_pipeline);
	ck_assert_str_eq(ts.cwd, "/work");
	ck_assert_int_eq(ts.limits.memory, -1);
	ck_assert_int_eq(ts.limits.cpu_time_ms, -1);
	ck_assert_int_eq(ts.limits.open_files, -1);
	ck_assert_int_eq(ts.limits.processes, -1);
	ck_assert_int_eq(ts.kill_grace_ms, PIPELINE_KILL_GRACE_MS);
	ck_assert_int_eq(ts.output_cap, PIPELINE_OUTPUT_LIMIT);
	ck_assert_int_eq(ts.timeout_ms, 0);
	taskspec_clear(&ts);

	taskspec_iterator(&ts, x.e, x.e->results[1], pipeline_task(x.p, "a"),
	    &x.ra, LANG_C);
	ck_assert_str_eq(ts.argv[2], "ls /srv");
	env_expect(ts.envp, want_task);
	ck_assert_str_eq(ts.cwd, "/work");
	ck_assert_int_eq(ts.limits.memory, -1);
	taskspec_clear(&ts);
	fix_free(&x);
}
END_TEST

/* Every branch of outcome_status(), and outcome_init(). */
START_TEST(test_outcome_messages)
{
	static const struct {
		int		 exit_code;
		int		 sig;
		int		 err;
		const char	*step;
		const char	*program;
		const char	*cwd;
		int64_t		 timeout_ms;	/* > 0: timed out */
		const char	*error;
		enum status	 st;
		const char	*msg;
	} cases[] = {
		{ 0, 0, 0, NULL, NULL, NULL, 0, NULL, STATUS_DONE,
		    "exited with status 0" },
		{ 1, 0, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "exited with status 1" },
		{ 255, 0, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "exited with status 255" },
		{ -1, 15, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "killed by signal 15 (SIGTERM)" },
		{ -1, 11, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "killed by signal 11 (SIGSEGV)" },
		{ -1, 99, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "killed by signal 99 (signal 99)" },
		{ -1, 0, ENOENT, "exec", "/x", NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot run /x: No such file or directory" },
		{ -1, 0, EACCES, NULL, "./run.sh", NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot run ./run.sh: Permission denied" },
		{ -1, 0, ENOENT, "exec", NULL, NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot run the command: No such file or directory" },
		{ -1, 0, ENOTDIR, "chdir", "/x", "/etc/passwd", 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot change to directory /etc/passwd: Not a directory" },
		{ -1, 0, ENOENT, "chdir", NULL, NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot change to directory ?: No such file or directory" },
		{ -1, 0, EPERM, "setuid", "/x", NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot start (setuid): Operation not permitted" },
		{ -1, 9, 0, NULL, NULL, NULL, 300, NULL, STATUS_RUNTIME_ERROR,
		    "timed out after 300ms" },
		{ -1, 15, 0, NULL, NULL, NULL, 5400000, "ignored",
		    STATUS_RUNTIME_ERROR, "timed out after 1h30m" },
		{ 0, 0, 0, NULL, NULL, NULL, 0, "worker lost",
		    STATUS_RUNTIME_ERROR, "worker lost" },
		{ -1, 0, ENOENT, "exec", "/x", NULL, 0, "runner says",
		    STATUS_RUNTIME_ERROR, "runner says" },
		{ 2, 0, ENOENT, "exec", "/x", NULL, 0, NULL,
		    STATUS_RUNTIME_ERROR,
		    "cannot run /x: No such file or directory" },
		{ 0, 9, 0, NULL, NULL, NULL, 0, NULL, STATUS_RUNTIME_ERROR,
		    "killed by signal 9 (SIGKILL)" },
	};
	struct outcome	o;
	size_t		i;
	char		*msg;

	outcome_init(&o);
	ck_assert_int_eq(o.exit_code, -1);
	ck_assert_int_eq(o.signal, 0);
	ck_assert_int_eq(o.pid, 0);
	ck_assert(!o.timed_out);
	ck_assert_ptr_null(o.error);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outcome_init(&o);
		o.exit_code = cases[i].exit_code;
		o.signal = cases[i].sig;
		o.exec_errno = cases[i].err;
		o.exec_step = cases[i].step;
		o.program = cases[i].program;
		o.cwd = cases[i].cwd;
		o.timed_out = cases[i].timeout_ms > 0;
		o.timeout_ms = cases[i].timeout_ms;
		o.error = cases[i].error;
		ck_assert_int_eq(outcome_status(&o, &msg), cases[i].st);
		ck_assert_str_eq(msg, cases[i].msg);
		free(msg);
	}
}
END_TEST

/* The environment, the rest of a spec, and outcomes. */
static Suite *
taskspec_suite(void)
{
	Suite	*s = suite_create("taskspec");
	TCase	*tc;

	tc = tcase_create("env");
	tcase_add_test(tc, test_env_exact);
	tcase_add_test(tc, test_env_defaults);
	tcase_add_test(tc, test_env_objects);
	tcase_add_test(tc, test_input_env_name);
	tcase_add_test(tc, test_value_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec");
	tcase_add_test(tc, test_argv_placeholders);
	tcase_add_test(tc, test_run_line);
	tcase_add_test(tc, test_cwd);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_iterator_spec);
	suite_add_tcase(s, tc);

	tc = tcase_create("outcome");
	tcase_add_test(tc, test_outcome_messages);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(taskspec_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
