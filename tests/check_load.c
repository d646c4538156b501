/*
 * Unit tests for the pipeline loader: every kind of error at its exact
 * LINE:COL, all errors at once, every field into the model, ordering
 * semantics, JSON input and the hard limits.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "graph.h"
#include "bounds.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "xmalloc.h"

struct expect {
	const char	*pos;	/* "LINE:COL" */
	const char	*msg;	/* a substring of the message */
};

/* Load text and return the diag (the pipeline, if any, in *pp). */
static struct diag *
try_load(const char *text, unsigned flags, struct pipeline **pp)
{
	struct diag	*d = diag_new("t.yaml");
	struct pipeline	*p;

	p = load_buffer(text, strlen(text), flags, d, NULL);
	if (pp != NULL)
		*pp = p;
	else
		pipeline_free(p);
	diag_sort(d);
	return d;
}

/* Assert that text fails with exactly the expected errors, in order. */
static void
expect_errors(const char *text, unsigned flags, const struct expect *want,
    size_t n)
{
	struct pipeline	*p;
	struct diag	*d = try_load(text, flags, &p);
	char		*got, prefix[64];
	size_t		 i;

	ck_assert_ptr_null(p);
	for (i = 0; i < d->n && i < n; i++) {
		got = diag_format(d, i);
		snprintf(prefix, sizeof prefix, "t.yaml:%s: ", want[i].pos);
		ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0,
		    "error %zu: want position %s, got '%s'", i, want[i].pos,
		    got);
		ck_assert_msg(strstr(got, want[i].msg) != NULL,
		    "error %zu: want '%s' in '%s'", i, want[i].msg, got);
		free(got);
	}
	if (d->n != n) {
		for (i = 0; i < d->n; i++) {
			got = diag_format(d, i);
			fprintf(stderr, "  got: %s\n", got);
			free(got);
		}
	}
	ck_assert_uint_eq(d->n, n);
	diag_free(d);
}

#define EXPECT1(text, pos, msg) do {					\
	const struct expect w_[] = { { pos, msg } };			\
	expect_errors(text, 0, w_, 1);					\
} while (0)

/* Load text that must be valid. */
static struct pipeline *
must_load(const char *text, unsigned flags)
{
	struct diag	*d;
	struct pipeline	*p;
	char		*s;

	d = try_load(text, flags, &p);
	if (p == NULL && d->n > 0) {
		s = diag_format(d, 0);
		ck_abort_msg("unexpected error: %s", s);
	}
	ck_assert_ptr_nonnull(p);
	diag_free(d);
	return p;
}

START_TEST(test_syntax_error)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x\n  b: y\n", "4:4",
	    "did not find expected");
}
END_TEST

/*
 * An error quoting a name cut inside a character is still text: it is
 * sent in replies, which clients must be able to decode.
 */
START_TEST(test_error_text)
{
	/* 79 letters then U+00E9: "%.80s" cuts the character in two. */
	EXPECT1("name: x\ntasks:\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9: {run: x}\n", "3:3",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaa?' is not valid");
}
END_TEST

START_TEST(test_unknown_key_top)
{
	EXPECT1("name: x\ndescripton: y\ntasks:\n  a: {run: x}\n", "2:1",
	    "unknown key 'descripton' (did you mean 'description'?)");
}
END_TEST

START_TEST(test_unknown_key_task)
{
	EXPECT1("name: x\ntasks:\n  a:\n    run: x\n    timout: 5s\n", "5:5",
	    "task 'a': unknown key 'timout' (did you mean 'timeout'?)");
	EXPECT1("name: x\ntasks:\n  a:\n    run: x\n    frobnicate: 1\n",
	    "5:5", "task 'a': unknown key 'frobnicate'");
	EXPECT1("name: x\ntasks:\n  a:\n    run: x\n    keep_going: true\n",
	    "5:5", "keep_going is a pipeline key, not a task key");
	EXPECT1("name: x\ntasks:\n  a:\n    run: x\n    limits: {cpu: 1}\n",
	    "5:14", "limits: unknown key 'cpu' (did you mean 'cpu_time'?)");
}
END_TEST

START_TEST(test_duplicate_key)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: y}\n  a: {run: z}\n",
	    "5:3", "duplicate key 'a' (first defined at line 3)");
	EXPECT1("name: x\nname: y\ntasks:\n  a: {run: x}\n", "2:1",
	    "duplicate key 'name'");
}
END_TEST

START_TEST(test_anchor_alias)
{
	/* The alias is reported once, not again as a wrong type. */
	const struct expect w[] = {
		{ "3:12", "anchors are not allowed (anchor '&r')" },
		{ "4:12", "aliases are not allowed (alias '*r')" },
	};

	expect_errors("name: x\ntasks:\n  a: {run: &r echo}\n  b: {run: *r}\n",
	    0, w, 2);
}
END_TEST

START_TEST(test_wrong_types)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x, retries: \"3\"}\n", "3:24",
	    "retries must be an integer, not the string '3'");
	EXPECT1("name: x\nkeep_going: yes\ntasks:\n  a: {run: x}\n", "2:13",
	    "keep_going must be true or false, not 'yes'");
	EXPECT1("name: x\ntasks:\n  a: {run: [x]}\n", "3:12",
	    "run must be a string, not a list");
	EXPECT1("name: x\ntasks: [a, b]\n", "2:8",
	    "tasks must be a mapping");
	EXPECT1("name: x\ntasks:\n  a: {run: x, iterate: 3}\n", "3:24",
	    "iterate must be a list of items, not an integer");
	EXPECT1("name: x\nmax_parallel: 0\ntasks:\n  a: {run: x}\n", "2:15",
	    "max_parallel must be between 1 and");
	EXPECT1("name: x\ntasks:\n  a: {run: x, options: [1]}\n", "3:24",
	    "options must be a mapping");
	EXPECT1("- a\n- b\n", "1:1", "a pipeline must be a mapping");
}
END_TEST

START_TEST(test_durations_sizes)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x, timeout: 5x}\n", "3:24",
	    "timeout must be a duration such as 250ms");
	EXPECT1("name: x\ntasks:\n  a: {run: x, timeout: 0}\n", "3:24",
	    "timeout must be at least 1ms");
	EXPECT1("name: x\ntasks:\n  a: {run: x, limits: {memory: 5Q}}\n",
	    "3:32", "limits.memory must be a size such as 512K");
	EXPECT1("name: x\ntasks:\n  a: {run: x, retry_delay: 400d}\n", "3:28",
	    "retry_delay must be at most 366d");
}
END_TEST

START_TEST(test_parents)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: y, parents: [aa]}\n",
	    "4:25", "unknown parent 'aa' (did you mean 'a'?)");
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: y, parents: [zzzz]}\n",
	    "4:25", "unknown parent 'zzzz': no task has that name");
	EXPECT1("name: x\ntasks:\n  a: {run: x, parents: [a]}\n", "3:25",
	    "task 'a': 'a' cannot be its own parent");
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: y, parents: [a, a]}\n",
	    "4:28", "parent 'a' is listed twice");
	EXPECT1("name: x\ntasks:\n  a: {run: x}\nordering:\n  c: [a]\n", "5:3",
	    "ordering: unknown task 'c'");
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: x}\nordering:\n"
	    "  b: [q]\n", "6:7", "ordering of 'b': unknown parent 'q'");
}
END_TEST

START_TEST(test_cycles)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x, parents: [b]}\n"
	    "  b: {run: y, parents: [a]}\n", "4:25", "cycle: a -> b -> a");
	EXPECT1("name: x\ntasks:\n  a: {run: x, parents: [c]}\n"
	    "  b: {run: y, parents: [a]}\n  c: {run: z, parents: [b]}\n",
	    "4:25", "cycle: a -> b -> c -> a");
	/* An edge from ordering closes the cycle: reported where written. */
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n  b: {run: y, parents: [a]}\n"
	    "ordering:\n  a: [b]\n", "4:25", "cycle: a -> b -> a");
	/* Two separate cycles: two errors. */
	{
		const struct expect w[] = {
			{ "4:25", "cycle: a -> b -> a" },
			{ "6:25", "cycle: c -> d -> c" },
		};
		expect_errors("name: x\ntasks:\n  a: {run: x, parents: [b]}\n"
		    "  b: {run: y, parents: [a]}\n  c: {run: x, parents: [d]}\n"
		    "  d: {run: y, parents: [c]}\n", 0, w, 2);
	}
}
END_TEST

START_TEST(test_required)
{
	EXPECT1("tasks:\n  a: {run: x}\n", "1:1", "missing required key 'name'");
	EXPECT1("name: x\n", "1:1", "missing required key 'tasks'");
	EXPECT1("name: x\ntasks: {}\n", "2:8", "tasks must not be empty");
	EXPECT1("name: x\ntasks:\n  a: {cwd: /}\n", "3:3",
	    "task 'a': needs a command: run (a shell line) or argv");
	EXPECT1("name: x\ntasks:\n  a: {run: x, argv: [y]}\n", "3:21",
	    "run and argv cannot both be given");
	EXPECT1("", "1:1", "the file is empty");
}
END_TEST

START_TEST(test_iterators)
{
	EXPECT1("name: x\ntasks:\n  a: {run: x, iterate: [1], iterate_command: ls}\n",
	    "3:29", "iterate and iterate_command cannot both be given");
	EXPECT1("name: x\niterate: [1]\niterate_command: ls\ntasks:\n"
	    "  a: {run: x}\n", "3:18",
	    "iterate and iterate_command cannot both be given");
}
END_TEST

START_TEST(test_placeholders)
{
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{pipline.object}}\"]}\n",
	    "3:20", "unknown placeholder {{pipline.object}} (did you mean "
	    "{{pipeline.object}}?)");
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{pipeline.object}}\"]}\n",
	    "3:20", "{{pipeline.object}} needs a pipeline iterator");
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{task.object}}\"]}\n",
	    "3:20", "{{task.object}} needs an iterator on this task");
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{input.x\"]}\n",
	    "3:20", "unterminated placeholder");
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{nope}}\"]}\n",
	    "3:20", "unknown placeholder {{nope}}: known are");
	EXPECT1("name: x\ntasks:\n  a: {argv: [echo, \"{{input.}}\"]}\n",
	    "3:20", "input key '' in {{input.}} is not valid");
}
END_TEST

START_TEST(test_names_env_user)
{
	EXPECT1("name: \"bad name\"\ntasks:\n  a: {run: x}\n", "1:7",
	    "name 'bad name' is not valid");
	EXPECT1("name: x\ntasks:\n  1a: {run: x}\n", "3:3",
	    "task name '1a' is not valid");
	EXPECT1("name: x\nenv: {PIPELINE_NAME: y}\ntasks:\n  a: {run: x}\n",
	    "2:7", "env name 'PIPELINE_NAME' is reserved");
	EXPECT1("name: x\ntasks:\n  a: {run: x, env: {A-B: 1}}\n", "3:21",
	    "env name 'A-B' is not valid");
	EXPECT1("name: x\ntasks:\n  a: {run: x, env: {A: [1]}}\n", "3:24",
	    "env A must be a string, not a list");
	EXPECT1("name: x\nuser: bob\ntasks:\n  a: {run: x}\n", "2:1",
	    "user is only allowed in registered pipelines");
	EXPECT1("name: x\nrunner: Celery!\ntasks:\n  a: {run: x}\n", "2:9",
	    "runner 'Celery!' is not valid");
}
END_TEST

START_TEST(test_yaml_level)
{
	EXPECT1("name: x\ntasks:\n  a: {run: !!binary eA==}\n", "3:12",
	    "unsupported tag 'tag:yaml.org,2002:binary'");
	EXPECT1("name: x\ntasks:\n  a: {run: x}\n---\nname: y\n", "4:1",
	    "only one document is allowed");
	EXPECT1("name: x\ntasks:\n  a: {run: x, retries: 99999999999999999999}\n",
	    "3:24", "integer 99999999999999999999 is out of range");
	EXPECT1("name: x\ntasks:\n  a: {run: \"x\\0y\"}\n", "3:12",
	    "must not contain NUL");
	EXPECT1("name: x\ntasks:\n  a: {run: x, env: {[1]: x}}\n", "3:21",
	    "mapping keys must be scalars");
}
END_TEST

/* A file with five different mistakes reports all five, in file order. */
START_TEST(test_five_errors)
{
	const struct expect w[] = {
		{ "2:1", "unknown key 'descriptio'" },
		{ "5:14", "retries must be an integer" },
		{ "6:15", "unknown parent 'nope'" },
		{ "8:14", "timeout must be a duration" },
		{ "9:5", "duplicate key 'run'" },
	};

	expect_errors(
	    "name: five\n"
	    "descriptio: typo\n"
	    "tasks:\n"
	    "  a:\n"
	    "    retries: many\n"
	    "    parents: [nope]\n"
	    "    run: x\n"
	    "    timeout: soon\n"
	    "    run: y\n", 0, w, 5);
}
END_TEST

/* Every field of the schema reaches the model. */
START_TEST(test_round_trip)
{
	struct pipeline	*p;
	struct task_def	*t;

	p = must_load(
	    "name: nightly-report\n"
	    "description: Build the report\n"
	    "iterate: [eu, {region: us}]\n"
	    "env: {TZ: UTC, MODE: \"0755\"}\n"
	    "cwd: /srv/report\n"
	    "keep_going: true\n"
	    "max_parallel: 4\n"
	    "runner: eager\n"
	    "user: report\n"
	    "tasks:\n"
	    "  fetch:\n"
	    "    run: ./fetch.sh\n"
	    "  render:\n"
	    "    argv: [./render, \"{{pipeline.object}}\", \"{{task.object}}\",\n"
	    "           \"{{input.date}}\", \"{{execution.id}}\", \"{{ task.index }}\"]\n"
	    "    parents: [fetch]\n"
	    "    iterate_command: cat parts.txt\n"
	    "    env: {PORT: 8080}\n"
	    "    cwd: sub\n"
	    "    timeout: 5m\n"
	    "    kill_grace: 2s\n"
	    "    retries: 2\n"
	    "    retry_delay: 1h30m\n"
	    "    inputs: [region]\n"
	    "    queue: render\n"
	    "    limits: {memory: 512M, cpu_time: 10m, open_files: 1024,\n"
	    "             processes: 256, output: 16M}\n"
	    "    options: {priority: 3}\n", LOAD_REGISTERED);
	ck_assert_str_eq(p->name, "nightly-report");
	ck_assert_str_eq(p->description, "Build the report");
	ck_assert_uint_eq(p->iterate->nkids, 2);
	ck_assert_int_eq(p->iterate->kids[1]->type, NODE_MAP);
	ck_assert_uint_eq(p->nenv, 2);
	ck_assert_str_eq(p->env[0].name, "TZ");
	ck_assert_str_eq(p->env[1].value, "0755");
	ck_assert_str_eq(p->cwd, "/srv/report");
	ck_assert(p->keep_going);
	ck_assert_uint_eq(p->max_parallel, 4);
	ck_assert_str_eq(p->runner, "eager");
	ck_assert_str_eq(p->user, "report");
	ck_assert(!p->chained);
	ck_assert_uint_eq(p->ntasks, 2);
	t = &p->tasks[0];
	ck_assert_str_eq(t->run, "./fetch.sh");
	ck_assert_int_eq(t->kill_grace_ms, 10000);
	ck_assert_int_eq(t->limits.output, 16 * 1024 * 1024);
	ck_assert_int_eq(t->limits.memory, -1);
	t = &p->tasks[1];
	ck_assert_ptr_null(t->run);
	ck_assert_uint_eq(t->argc, 6);
	ck_assert_str_eq(t->argv[1], "{{pipeline.object}}");
	ck_assert_ptr_null(t->argv[6]);
	ck_assert_uint_eq(t->argv_uses, ARGV_USES_PIPELINE_OBJECT |
	    ARGV_USES_TASK_OBJECT | ARGV_USES_INPUT | ARGV_USES_EXECUTION_ID |
	    ARGV_USES_TASK_INDEX);
	ck_assert_str_eq(t->iterate_command, "cat parts.txt");
	ck_assert_str_eq(t->env[0].name, "PORT");
	ck_assert_str_eq(t->env[0].value, "8080");
	ck_assert_str_eq(t->cwd, "sub");
	ck_assert_int_eq(t->timeout_ms, 300000);
	ck_assert_int_eq(t->kill_grace_ms, 2000);
	ck_assert_uint_eq(t->retries, 2);
	ck_assert_int_eq(t->retry_delay_ms, 5400000);
	/* Required inputs: listed ones, then those argv uses. */
	ck_assert_uint_eq(t->ninputs, 2);
	ck_assert_str_eq(t->inputs[0], "region");
	ck_assert_str_eq(t->inputs[1], "date");
	ck_assert_str_eq(t->queue, "render");
	ck_assert_int_eq(t->limits.memory, 512LL * 1024 * 1024);
	ck_assert_int_eq(t->limits.cpu_time_ms, 600000);
	ck_assert_int_eq(t->limits.open_files, 1024);
	ck_assert_int_eq(t->limits.processes, 256);
	ck_assert_int_eq(t->limits.output, 16 * 1024 * 1024);
	ck_assert_ptr_nonnull(node_map_get(t->options, "priority"));
	ck_assert_uint_eq(pipeline_edges(p), 1);
	pipeline_free(p);
}
END_TEST

static void
assert_order(const struct pipeline *p, const char *want)
{
	struct buf	b;
	uint32_t	i;

	buf_init(&b);
	for (i = 0; i < p->ntasks; i++)
		buf_addf(&b, "%s%s", i ? " " : "", p->tasks[p->flat[i]].name);
	ck_assert_str_eq(b.data, want);
	buf_release(&b);
}

START_TEST(test_ordering_semantics)
{
	struct pipeline	*p;

	/* Neither ordering nor parents: a chain in definition order. */
	p = must_load("name: x\ntasks:\n  c: {run: x}\n  a: {run: x}\n"
	    "  b: {run: x}\n", 0);
	ck_assert(p->chained);
	ck_assert_uint_eq(pipeline_edges(p), 2);
	assert_order(p, "c a b");
	pipeline_free(p);
	/* ordering present, even empty: no chain, all parentless. */
	p = must_load("name: x\ntasks:\n  c: {run: x}\n  a: {run: x}\n"
	    "ordering: {}\n", 0);
	ck_assert(!p->chained);
	ck_assert_uint_eq(pipeline_edges(p), 0);
	assert_order(p, "c a");
	pipeline_free(p);
	/* The seed's example: first, second(first), third(second), fourth. */
	p = must_load("name: x\ntasks:\n  first: {run: x}\n"
	    "  second: {run: x, parents: [first]}\n"
	    "  third: {run: x, parents: [second]}\n  fourth: {run: x}\n", 0);
	assert_order(p, "first fourth second third");
	pipeline_free(p);
	/* A child defined before its parent waits for it. */
	p = must_load("name: x\ntasks:\n  child: {run: x, parents: [parent]}\n"
	    "  parent: {run: x}\n", 0);
	assert_order(p, "parent child");
	pipeline_free(p);
	/* The union of ordering and parents; the same edge twice is one. */
	p = must_load("name: x\ntasks:\n  a: {run: x}\n  b: {run: x}\n"
	    "  c: {run: x, parents: [a]}\nordering:\n  c: [a, b]\n", 0);
	ck_assert_uint_eq(pipeline_edges(p), 2);
	assert_order(p, "a b c");
	pipeline_free(p);
}
END_TEST

START_TEST(test_json)
{
	struct pipeline	*p;

	p = must_load("{\"name\": \"j\", \"tasks\": {\"a\": {\"argv\": [\"true\"]},\n"
	    "\t\"b\": {\"run\": \"x\", \"parents\": [\"a\"],\n"
	    "\t\"iterate\": [1, 2.5, null, true, {\"k\": [1]}]}}}\n", 0);
	ck_assert_str_eq(p->name, "j");
	ck_assert_uint_eq(p->tasks[1].iterate->nkids, 5);
	ck_assert_int_eq(p->tasks[1].iterate->kids[1]->type, NODE_FLOAT);
	pipeline_free(p);
	EXPECT1("{\"name\": \"j\", \"tasks\": {\"a\": {\"argv\": \"true\"}}}",
	    "1:39", "argv must be a non-empty list");
}
END_TEST

/* Build "name: x\ntasks:\n" plus n tasks. */
static char *
many_tasks(size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "  t%zu: {run: x}\n", i);
	return buf_detach(&b);
}

START_TEST(test_limits)
{
	struct pipeline	*p;
	struct diag	*d;
	struct buf	 b;
	char		*s;
	size_t		 i;

	/* At the task limit: fine; one over: an error. */
	s = many_tasks(PL_MAX_TASKS);
	p = must_load(s, 0);
	ck_assert_uint_eq(p->ntasks, PL_MAX_TASKS);
	pipeline_free(p);
	free(s);
	s = many_tasks(PL_MAX_TASKS + 1);
	EXPECT1(s, "3:3", "100001 tasks, over the limit of 100000");
	free(s);

	/* Iterator items. */
	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  a:\n    run: x\n    iterate: [");
	for (i = 0; i <= PL_MAX_ITEMS; i++)
		buf_addf(&b, "%s%zu", i ? "," : "", i);
	buf_adds(&b, "]\n");
	EXPECT1(b.data, "5:14", "iterate has 100001 items, over the limit");
	buf_release(&b);

	/* String lengths: a run line and a name. */
	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  a: {run: ");
	for (i = 0; i <= PL_MAX_COMMAND; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "}\n");
	EXPECT1(b.data, "3:12", "run is 65537 bytes long, over the limit");
	buf_release(&b);
	buf_init(&b);
	buf_adds(&b, "name: ");
	for (i = 0; i <= PL_MAX_NAME; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "\ntasks:\n  a: {run: x}\n");
	EXPECT1(b.data, "1:7", "is not valid");
	buf_release(&b);

	/* Nesting depth. */
	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  a: {run: x, options: {o: ");
	for (i = 0; i < PL_MAX_DEPTH; i++)
		buf_addc(&b, '[');
	for (i = 0; i < PL_MAX_DEPTH; i++)
		buf_addc(&b, ']');
	buf_adds(&b, "}}\n");
	d = try_load(b.data, 0, &p);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(d->n, 1);
	ck_assert(strstr(d->v[0].msg, "nesting deeper than 20") != NULL);
	diag_free(d);
	buf_release(&b);

	/* File size: one byte over is refused before parsing. */
	s = xmalloc(PL_MAX_FILE_SIZE + 2);
	memset(s, ' ', PL_MAX_FILE_SIZE + 1);
	s[PL_MAX_FILE_SIZE + 1] = '\0';
	d = diag_new("t.yaml");
	ck_assert_ptr_null(load_buffer(s, PL_MAX_FILE_SIZE + 1, 0, d, NULL));
	ck_assert_uint_eq(d->n, 1);
	ck_assert(strstr(d->v[0].msg, "over the limit") != NULL);
	diag_free(d);
	free(s);

	/*
	 * What a pipeline makes at once: 1000 items of 200 task executions
	 * and results is the most; one more task is over.
	 */
	buf_init(&b);
	buf_adds(&b, "name: x\niterate: [");
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%s%zu", i ? "," : "", i);
	buf_adds(&b, "]\ntasks:\n");
	for (i = 0; i < 100; i++)
		buf_addf(&b, "  t%zu: {run: x}\n", i);
	p = must_load(b.data, 0);
	ck_assert_uint_eq(pipeline_result_size(p), 200);
	pipeline_free(p);
	buf_adds(&b, "  u: {run: x, iterate_command: ls}\n");
	EXPECT1(b.data, "1:1", "the pipeline makes 201000 task executions "
	    "and task results, over the limit of 200000");
	buf_release(&b);

	/* argv element count. */
	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  a: {argv: [");
	for (i = 0; i <= PL_MAX_ARGV; i++)
		buf_addf(&b, "%sa", i ? "," : "");
	buf_adds(&b, "]}\n");
	EXPECT1(b.data, "3:13", "argv has 4097 elements, over the limit");
	buf_release(&b);
}
END_TEST

/*
 * Lists a client can make huge cost O(n log n): the largest pipeline with
 * one task depending on all the others, and a list that names the same
 * tasks again and again (each repeat an error, 200 of them kept).
 */
START_TEST(test_big_parent_lists)
{
	struct pipeline	*p;
	struct diag	*d;
	struct buf	 b;
	size_t		 i;
	char		*s;

	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  t0:\n    run: x\n    parents: [");
	for (i = 1; i < PL_MAX_TASKS; i++)
		buf_addf(&b, "%st%zu", i > 1 ? "," : "", i);
	buf_adds(&b, "]\n");
	for (i = 1; i < PL_MAX_TASKS; i++)
		buf_addf(&b, "  t%zu: {run: x}\n", i);
	p = must_load(b.data, 0);
	ck_assert_uint_eq(p->ntasks, PL_MAX_TASKS);
	ck_assert_uint_eq(graph_edges(p->graph), PL_MAX_TASKS - 1);
	pipeline_free(p);
	buf_release(&b);

	buf_init(&b);
	buf_adds(&b, "name: x\ntasks:\n  a: {run: x}\n  b: {run: x}\n"
	    "  c:\n    run: x\n    parents: [");
	for (i = 0; i < 300000; i++)
		buf_addf(&b, "%s%s", i > 0 ? "," : "", i % 3 == 0 ? "a" :
		    i % 3 == 1 ? "b" : "zz");
	buf_adds(&b, "]\n");
	d = try_load(b.data, 0, &p);
	ck_assert_ptr_null(p);
	/* zz is unknown each time; a and b are listed twice after once. */
	ck_assert_uint_eq(diag_count(d), 300000 - 2);
	ck_assert_uint_eq(d->n, DIAG_MAX_KEPT);
	s = diag_format(d, 0);
	ck_assert_str_eq(s, "t.yaml:7:19: task 'c': unknown parent 'zz': no "
	    "task has that name");
	free(s);
	s = diag_format(d, 1);
	ck_assert_str_eq(s, "t.yaml:7:22: task 'c': parent 'a' is listed "
	    "twice");
	free(s);
	diag_free(d);
	buf_release(&b);
}
END_TEST

START_TEST(test_load_file)
{
	struct pipeline	*p;
	struct diag	*d = diag_new("x");
	struct node	*doc = NULL;

	p = load_file(TOP_SRCDIR "/examples/hello.yaml", 0, d, &doc);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(doc);
	ck_assert(node_is_str(node_map_get(doc, "name"), "hello"));
	pipeline_free(p);
	node_free(doc);
	ck_assert_ptr_null(load_file(TOP_SRCDIR "/does/not/exist.yaml", 0, d,
	    NULL));
	ck_assert_uint_eq(d->n, 1);
	ck_assert(strstr(d->v[0].msg, "cannot open") != NULL);
	diag_free(d);
}
END_TEST

/* A document built by hand (as the daemon gets it) is checked the same. */
START_TEST(test_document)
{
	struct node	*doc, *tasks, *task;
	struct pipeline	*p;
	struct diag	*d = diag_new("<submitted>");

	doc = node_new(NODE_MAP);
	node_map_set_str(doc, "name", node_new_str("doc", 3));
	tasks = node_new(NODE_MAP);
	task = node_new(NODE_MAP);
	node_map_set_str(task, "run", node_new_int(5));
	node_map_set_str(tasks, "a", task);
	node_map_set_str(doc, "tasks", tasks);
	ck_assert_ptr_null(load_document(doc, 0, d));
	ck_assert_uint_eq(d->n, 1);
	ck_assert_str_eq(d->v[0].msg,
	    "task 'a': run must be a string, not an integer");
	diag_clear(d);
	node_free(node_map_value(task, 0));
	task->kids[1] = node_new_str("true", 4);
	p = load_document(doc, 0, d);
	ck_assert_ptr_nonnull(p);
	pipeline_free(p);
	node_free(doc);
	diag_free(d);
}
END_TEST

/* A hand-built document within the file's bounds, or refused like one. */
START_TEST(test_document_bounds)
{
	struct node	*doc, *tasks, *task, *deep, *items, *seq;
	struct diag	*d = diag_new("<submitted>");
	struct pipeline	*p;
	char		*big;
	size_t		 i;

	doc = node_new(NODE_MAP);
	node_map_set_str(doc, "name", node_new_str("doc", 3));
	tasks = node_new(NODE_MAP);
	task = node_new(NODE_MAP);
	node_map_set_str(task, "run", node_new_str("true", 4));
	items = node_new(NODE_SEQ);
	node_map_set_str(task, "iterate", items);
	node_map_set_str(tasks, "a", task);
	node_map_set_str(doc, "tasks", tasks);
	/* doc, tasks, a, iterate: 4 levels; 16 more make 20, the most. */
	deep = node_new_int(1);
	for (i = 0; i < PL_MAX_DEPTH - 4; i++) {
		seq = node_new(NODE_SEQ);
		node_append(seq, deep);
		deep = seq;
	}
	node_append(items, deep);
	p = load_document(doc, 0, d);
	ck_assert_ptr_nonnull(p);
	pipeline_free(p);
	/* One level more. */
	deep = node_new(NODE_SEQ);
	node_append(deep, items->kids[0]);
	items->kids[0] = deep;
	ck_assert_ptr_null(load_document(doc, 0, d));
	ck_assert_uint_eq(d->n, 1);
	ck_assert_str_eq(d->v[0].msg, "nesting deeper than 20 levels");
	diag_clear(d);
	node_free(deep);
	items->nkids = 0;
	/* A value of PL_MAX_SCALAR bytes is fine, one more is not. */
	big = xmalloc(PL_MAX_SCALAR + 1);
	memset(big, 'v', PL_MAX_SCALAR + 1);
	node_append(items, node_new_str(big, PL_MAX_SCALAR));
	p = load_document(doc, 0, d);
	ck_assert_ptr_nonnull(p);
	pipeline_free(p);
	node_append(items, node_new_str(big, PL_MAX_SCALAR + 1));
	ck_assert_ptr_null(load_document(doc, 0, d));
	ck_assert_uint_eq(d->n, 1);
	ck_assert_str_eq(d->v[0].msg,
	    "a value is 1048577 bytes long, over the limit of 1048576");
	free(big);
	node_free(doc);
	diag_free(d);
}
END_TEST

static Suite *
load_suite(void)
{
	Suite	*s = suite_create("load");
	TCase	*tc = tcase_create("errors");

	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_error_text);
	tcase_add_test(tc, test_unknown_key_top);
	tcase_add_test(tc, test_unknown_key_task);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_anchor_alias);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_durations_sizes);
	tcase_add_test(tc, test_parents);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_required);
	tcase_add_test(tc, test_iterators);
	tcase_add_test(tc, test_placeholders);
	tcase_add_test(tc, test_names_env_user);
	tcase_add_test(tc, test_yaml_level);
	tcase_add_test(tc, test_five_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_ordering_semantics);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_document);
	tcase_add_test(tc, test_document_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_big_parent_lists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(load_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
