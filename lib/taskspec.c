/*
 * Task specs: argv placeholders and the task environment
 * (docs/pipeline-format.md).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "result.h"
#include "runas.h"
#include "taskspec.h"
#include "xmalloc.h"

#define TASKSPEC_PATH		"/usr/local/bin:/usr/bin:/bin"
#define TASKSPEC_ROOT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
				"/usr/bin:/sbin:/bin"

/* An environment under construction: later settings replace earlier ones. */
struct envb {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static void
envb_set(struct envb *b, const char *name, const char *value)
{
	size_t	i, len = strlen(name);
	char	*entry = xprintf("%s=%s", name, value);

	for (i = 0; i < b->n; i++) {
		if (strncmp(b->v[i], name, len) == 0 && b->v[i][len] == '=') {
			free(b->v[i]);
			b->v[i] = entry;
			return;
		}
	}
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap == 0 ? 32 : b->cap * 2;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	b->v[b->n++] = entry;
	b->v[b->n] = NULL;
}

/* A string item as it is; anything else as compact JSON. */
char *
taskspec_value_text(const struct node *n)
{
	return node_item_text(n);
}

/* PIPELINE_INPUT_<KEY>: upper case, anything but [A-Z0-9] as '_'. */
char *
taskspec_input_env_name(const char *key)
{
	char	*s = xprintf("PIPELINE_INPUT_%s", key), *p;

	for (p = s + 15; *p != '\0'; p++) {
		*p = (char)toupper((unsigned char)*p);
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return s;
}

/* The run-as user's login variables, LANG, and the pipeline's env. */
static void
taskspec_base_env(struct envb *b, const struct execution *e,
    const struct runas *ra, const char *lang)
{
	size_t	i;

	envb_set(b, "PATH", ra->uid == 0 ? TASKSPEC_ROOT_PATH : TASKSPEC_PATH);
	envb_set(b, "HOME", ra->home);
	envb_set(b, "USER", ra->name);
	envb_set(b, "LOGNAME", ra->name);
	envb_set(b, "SHELL", ra->shell);
	if (lang != NULL)
		envb_set(b, "LANG", lang);
	for (i = 0; i < e->def->nenv; i++)
		envb_set(b, e->def->env[i].name, e->def->env[i].value);
}

/* PIPELINE_NAME, _EXECUTION_ID, the inputs, and the pipeline result's. */
static void
taskspec_pipeline_vars(struct envb *b, const struct execution *e,
    const struct pipeline_result *pr)
{
	char	 num[32], *s, *name;
	size_t	 i;

	envb_set(b, "PIPELINE_NAME", e->def->name);
	snprintf(num, sizeof num, "%llu", (unsigned long long)e->id);
	envb_set(b, "PIPELINE_EXECUTION_ID", num);
	if (pr != NULL) {
		snprintf(num, sizeof num, "%u", pr->index);
		envb_set(b, "PIPELINE_RESULT_INDEX", num);
		if (pr->object != NULL) {
			s = taskspec_value_text(pr->object);
			envb_set(b, "PIPELINE_OBJECT", s);
			free(s);
		}
	}
	s = e->input != NULL ? nodejson_encode(e->input) : xstrdup("{}");
	envb_set(b, "PIPELINE_INPUT", s);
	free(s);
	for (i = 0; e->input != NULL && i < node_count(e->input); i++) {
		name = taskspec_input_env_name(node_map_key(e->input, i)->text);
		s = taskspec_value_text(node_map_value(e->input, i));
		envb_set(b, name, s);
		free(name);
		free(s);
	}
}

/* The working directory: absolute, or relative to the execution's. */
static char *
taskspec_cwd(const struct execution *e, const char *dir)
{
	const char	*base = e->cwd != NULL ? e->cwd : "/";

	if (dir == NULL)
		return xstrdup(base);
	if (dir[0] == '/')
		return xstrdup(dir);
	return xprintf("%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
	    dir);
}

/* The value of one placeholder name for a task result. */
static char *
taskspec_placeholder(const struct task_result *tr, const char *name)
{
	const struct execution	*e = tr->r.exec;
	const struct node	*v;

	if (strcmp(name, "pipeline.object") == 0)
		return tr->te->pr->object != NULL ?
		    taskspec_value_text(tr->te->pr->object) : xstrdup("");
	if (strcmp(name, "task.object") == 0)
		return tr->object != NULL ? taskspec_value_text(tr->object) :
		    xstrdup("");
	if (strcmp(name, "execution.id") == 0)
		return xprintf("%llu", (unsigned long long)e->id);
	if (strcmp(name, "task.index") == 0)
		return xprintf("%u", tr->index);
	if (strncmp(name, "input.", 6) == 0 && e->input != NULL &&
	    (v = node_map_get(e->input, name + 6)) != NULL)
		return taskspec_value_text(v);
	return xstrdup("");
}

/* One argv element with every {{placeholder}} filled in. */
static char *
taskspec_fill(const struct task_result *tr, const char *s)
{
	const char	*open, *close, *a, *b;
	struct buf	 out;
	char		*name, *val;

	buf_init(&out);
	while ((open = strstr(s, "{{")) != NULL &&
	    (close = strstr(open + 2, "}}")) != NULL) {
		buf_add(&out, s, (size_t)(open - s));
		for (a = open + 2; a < close && *a == ' '; a++)
			;
		for (b = close; b > a && b[-1] == ' '; b--)
			;
		name = xstrndup(a, (size_t)(b - a));
		val = taskspec_placeholder(tr, name);
		buf_adds(&out, val);
		free(val);
		free(name);
		s = close + 2;
	}
	buf_adds(&out, s);
	return buf_detach(&out);
}

static char **
taskspec_shell(const char *line)
{
	char	**argv = xcalloc(4, sizeof *argv);

	argv[0] = xstrdup("/bin/sh");
	argv[1] = xstrdup("-c");
	argv[2] = xstrdup(line);
	return argv;
}

static void
taskspec_limits(struct taskspec *ts, const struct task_def *t)
{
	ts->limits.memory = t->limits.memory;
	ts->limits.cpu_time_ms = t->limits.cpu_time_ms;
	ts->limits.open_files = t->limits.open_files;
	ts->limits.processes = t->limits.processes;
	ts->output_cap = t->limits.output;
	ts->timeout_ms = t->timeout_ms;
	ts->kill_grace_ms = t->kill_grace_ms;
	ts->queue = t->queue;
	ts->options = t->options;
}

/* Resolve attempt of a task result: argv, environment, cwd and limits. */
void
taskspec_task(struct taskspec *ts, const struct task_result *tr,
    const struct runas *ra, const char *lang, uint32_t attempt)
{
	const struct execution	*e = tr->r.exec;
	const struct task_def	*t = &e->def->tasks[tr->te->task];
	struct envb		 b = { NULL, 0, 0 };
	char			 num[32], *s;
	size_t			 i;

	memset(ts, 0, sizeof *ts);
	if (t->run != NULL)
		ts->argv = taskspec_shell(t->run);
	else {
		ts->argv = xcalloc(t->argc + 1, sizeof *ts->argv);
		for (i = 0; i < t->argc; i++)
			ts->argv[i] = t->argv_uses != 0 ?
			    taskspec_fill(tr, t->argv[i]) : xstrdup(t->argv[i]);
	}
	taskspec_base_env(&b, e, ra, lang);
	for (i = 0; i < t->nenv; i++)
		envb_set(&b, t->env[i].name, t->env[i].value);
	taskspec_pipeline_vars(&b, e, tr->te->pr);
	envb_set(&b, "PIPELINE_TASK", t->name);
	snprintf(num, sizeof num, "%u", tr->index);
	envb_set(&b, "TASK_INDEX", num);
	if (tr->object != NULL) {
		s = taskspec_value_text(tr->object);
		envb_set(&b, "TASK_OBJECT", s);
		free(s);
	}
	snprintf(num, sizeof num, "%u", attempt);
	envb_set(&b, "PIPELINE_ATTEMPT", num);
	ts->envp = b.v;
	ts->cwd = taskspec_cwd(e, t->cwd);
	taskspec_limits(ts, t);
}

/* Resolve an iterator command (pipeline's when t is NULL). */
void
taskspec_iterator(struct taskspec *ts, const struct execution *e,
    const struct pipeline_result *pr, const struct task_def *t,
    const struct runas *ra, const char *lang)
{
	struct envb	b = { NULL, 0, 0 };

	memset(ts, 0, sizeof *ts);
	ts->argv = taskspec_shell(t != NULL ? t->iterate_command :
	    e->def->iterate_command);
	taskspec_base_env(&b, e, ra, lang);
	taskspec_pipeline_vars(&b, e, pr);
	if (t != NULL)
		envb_set(&b, "PIPELINE_TASK", t->name);
	ts->envp = b.v;
	ts->cwd = taskspec_cwd(e, NULL);
	ts->limits.memory = ts->limits.cpu_time_ms = -1;
	ts->limits.open_files = ts->limits.processes = -1;
	ts->kill_grace_ms = PIPELINE_KILL_GRACE_MS;
	ts->output_cap = PIPELINE_OUTPUT_LIMIT;
}

static void
taskspec_free_strv(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Free what a spec holds (the borrowed queue and options excepted). */
void
taskspec_clear(struct taskspec *ts)
{
	taskspec_free_strv(ts->argv);
	taskspec_free_strv(ts->envp);
	free(ts->cwd);
	memset(ts, 0, sizeof *ts);
}

/*
 * A spawn command for a resolved spec, run as ra: argv, environment,
 * cwd, limits and identity.  The caller sets the descriptors.
 */
void
taskspec_spawn_cmd(struct spawn_cmd *cmd, const struct taskspec *ts,
    const struct runas *ra)
{
	memset(cmd, 0, sizeof *cmd);
	cmd->argv = ts->argv;
	cmd->envp = ts->envp;
	cmd->cwd = ts->cwd;
	cmd->set_identity = ra->set_identity;
	cmd->uid = ra->uid;
	cmd->gid = ra->gid;
	cmd->groups = ra->groups;
	cmd->ngroups = ra->ngroups;
	cmd->limits = ts->limits;
	cmd->out_fd = cmd->err_fd = cmd->cgroup_fd = -1;
}
