/*
 * The loader's task schema: each task's keys, its parents, and the
 * placeholders of its argv.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "bounds.h"
#include "load.h"
#include "load_int.h"
#include "node.h"
#include "suggest.h"
#include "xmalloc.h"

static const char *const load_task_keys[] = {
	"run", "argv", "parents", "iterate", "iterate_command", "env", "cwd",
	"timeout", "kill_grace", "retries", "retry_delay", "inputs", "queue",
	"limits", "options",
};
#define LOAD_NTASK_KEYS	(sizeof load_task_keys / sizeof load_task_keys[0])

static const char *const load_limit_keys[] = {
	"memory", "cpu_time", "open_files", "processes", "output",
};
#define LOAD_NLIMIT_KEYS (sizeof load_limit_keys / sizeof load_limit_keys[0])

static const char *const load_placeholders[] = {
	"pipeline.object", "task.object", "input.KEY", "execution.id",
	"task.index",
};
#define LOAD_NPLACEHOLDERS \
	(sizeof load_placeholders / sizeof load_placeholders[0])

/* Input keys: letters, digits, '_', '.', '-', starting with a letter or '_'. */
bool
load_valid_input_key(const char *s)
{
	size_t	i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return false;
	return i <= PL_MAX_NAME;
}

/* Add an input key to a task's required list unless already there. */
static void
load_require_input(struct task_def *t, const char *key)
{
	size_t	i;

	for (i = 0; i < t->ninputs; i++)
		if (strcmp(t->inputs[i], key) == 0)
			return;
	t->inputs = xreallocarray(t->inputs, t->ninputs + 2, sizeof *t->inputs);
	t->inputs[t->ninputs++] = xstrdup(key);
	t->inputs[t->ninputs] = NULL;
}

/* Check one {{name}} placeholder (name already trimmed). */
static void
load_placeholder(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx, const char *name)
{
	const char	*near;

	if (strcmp(name, "pipeline.object") == 0) {
		if (l->p->iterate == NULL && l->p->iterate_command == NULL)
			load_err(l, n, "%s{{pipeline.object}} needs a pipeline "
			    "iterator (iterate or iterate_command)", ctx);
		t->argv_uses |= ARGV_USES_PIPELINE_OBJECT;
	} else if (strcmp(name, "task.object") == 0) {
		if (!pipeline_task_has_iterator(t))
			load_err(l, n, "%s{{task.object}} needs an iterator on "
			    "this task (iterate or iterate_command)", ctx);
		t->argv_uses |= ARGV_USES_TASK_OBJECT;
	} else if (strcmp(name, "execution.id") == 0)
		t->argv_uses |= ARGV_USES_EXECUTION_ID;
	else if (strcmp(name, "task.index") == 0)
		t->argv_uses |= ARGV_USES_TASK_INDEX;
	else if (strncmp(name, "input.", 6) == 0) {
		if (!load_valid_input_key(name + 6))
			load_err(l, n, "%sinput key '%s' in {{%s}} is not valid",
			    ctx, name + 6, name);
		else
			load_require_input(t, name + 6);
		t->argv_uses |= ARGV_USES_INPUT;
	} else if ((near = suggest(name, load_placeholders,
	    LOAD_NPLACEHOLDERS)) != NULL)
		load_err(l, n, "%sunknown placeholder {{%s}} (did you mean "
		    "{{%s}}?)", ctx, name, near);
	else
		load_err(l, n, "%sunknown placeholder {{%s}}: known are "
		    "{{pipeline.object}}, {{task.object}}, {{input.KEY}}, "
		    "{{execution.id}} and {{task.index}}", ctx, name);
}

/* Find and check every {{...}} in one argv element. */
static void
load_placeholders_in(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx, const char *s)
{
	const char	*open, *close, *a, *b;
	char		*name;

	while ((open = strstr(s, "{{")) != NULL) {
		if ((close = strstr(open + 2, "}}")) == NULL) {
			load_err(l, n, "%sunterminated placeholder: '{{' "
			    "without '}}'", ctx);
			return;
		}
		for (a = open + 2; a < close && *a == ' '; a++)
			;
		for (b = close; b > a && b[-1] == ' '; b--)
			;
		name = xstrndup(a, (size_t)(b - a));
		load_placeholder(l, t, n, ctx, name);
		free(name);
		s = close + 2;
	}
}

/* argv: a non-empty list of scalars, within the size limits. */
static void
load_argv(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx)
{
	const struct node	*it;
	size_t			 i, total = 0;
	char			*text;

	if (n->type != NODE_SEQ || n->nkids == 0) {
		load_err(l, n, "%sargv must be a non-empty list of strings", ctx);
		return;
	}
	if (n->nkids > PL_MAX_ARGV) {
		load_err(l, n, "%sargv has %zu elements, over the limit of %d",
		    ctx, n->nkids, PL_MAX_ARGV);
		return;
	}
	t->argv = xcalloc(n->nkids + 1, sizeof *t->argv);
	for (i = 0; i < n->nkids; i++) {
		it = node_item(n, i);
		if ((text = load_scalar_text(it)) == NULL) {
			load_err(l, it, "%sargv[%zu] must be a string, not %s",
			    ctx, i, node_type_name(it->type));
			t->argv[t->argc++] = xstrdup("");
			continue;
		}
		total += strlen(text) + 1;
		t->argv[t->argc++] = text;
		load_placeholders_in(l, t, it, ctx, text);
	}
	if (t->argv[0][0] == '\0')
		load_err(l, node_item(n, 0), "%sargv[0] (the program) must not "
		    "be empty", ctx);
	if (total > PL_MAX_COMMAND)
		load_err(l, n, "%sargv is %zu bytes long, over the limit of %u",
		    ctx, total, PL_MAX_COMMAND);
}

/* Order the strings of a list (indexes into it) by text, then place. */
static int
load_item_cmp(const void *a, const void *b, void *arg)
{
	const struct node	*list = arg;
	size_t			 i = *(const size_t *)a, j = *(const size_t *)b;
	const struct node	*x = list->kids[i], *y = list->kids[j];
	int			 c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(x->text, y->text, x->len)) != 0)
		return c;
	return i < j ? -1 : i > j;
}

/*
 * Which strings of a list repeat an earlier one.  Sorted, equal strings
 * sit side by side, the first written first: O(n log n), where comparing
 * each with all before it took minutes on a list of 100000.
 */
static bool *
load_repeats(const struct node *list)
{
	const struct node	*x, *y;
	bool			*rep;
	size_t			*ix, i, n = 0;

	rep = xcalloc(list->nkids, sizeof *rep);
	ix = xreallocarray(NULL, list->nkids, sizeof *ix);
	for (i = 0; i < list->nkids; i++)
		if (list->kids[i]->type == NODE_STR)
			ix[n++] = i;
	qsort_r(ix, n, sizeof *ix, load_item_cmp, (void *)list);
	for (i = 1; i < n; i++) {
		x = list->kids[ix[i - 1]];
		y = list->kids[ix[i]];
		if (x->len == y->len && memcmp(x->text, y->text, x->len) == 0)
			rep[ix[i]] = true;
	}
	free(ix);
	return rep;
}

/* parents: a list of task names; each becomes an edge. */
static void
load_parents(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx)
{
	const struct node	*it;
	bool			*rep;
	size_t			 i;

	l->any_parents = true;
	if (n->type == NODE_NULL)
		return;
	if (n->type != NODE_SEQ) {
		load_err(l, n, "%sparents must be a list of task names", ctx);
		return;
	}
	if (n->nkids == 0)
		return;
	rep = load_repeats(n);
	for (i = 0; i < n->nkids; i++) {
		it = node_item(n, i);
		if (it->type != NODE_STR) {
			load_err(l, it, "%sparents[%zu] must be a task name, not "
			    "%s", ctx, i, node_type_name(it->type));
			continue;
		}
		if (rep[i]) {
			load_err(l, it, "%sparent '%s' is listed twice", ctx,
			    it->text);
			continue;
		}
		load_parent_ref(l, t->index, it, ctx);
	}
	free(rep);
}

/* inputs: a list of input keys the task requires. */
static void
load_inputs(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx)
{
	const struct node	*it;
	size_t			 i;

	if (n->type != NODE_SEQ) {
		load_err(l, n, "%sinputs must be a list of input keys", ctx);
		return;
	}
	if (n->nkids > PL_MAX_INPUTS) {
		load_err(l, n, "%sinputs has %zu keys, over the limit of %d",
		    ctx, n->nkids, PL_MAX_INPUTS);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		it = node_item(n, i);
		if (it->type != NODE_STR || !load_valid_input_key(it->text)) {
			load_err(l, it, "%sinputs[%zu] must be an input key "
			    "(letters, digits, '_', '.', '-')", ctx, i);
			continue;
		}
		load_require_input(t, it->text);
	}
}

/* limits: memory, cpu_time, open_files, processes, output. */
static void
load_limits(struct load *l, struct task_def *t, const struct node *n,
    const char *ctx)
{
	const struct node	*k, *v;
	struct task_limits	*lim = &t->limits;
	char			 lctx[PL_MAX_NAME + 32];
	size_t			 i;

	snprintf(lctx, sizeof lctx, "%slimits: ", ctx);
	if (n->type != NODE_MAP) {
		load_err(l, n, "%slimits must be a mapping", ctx);
		return;
	}
	for (i = 0; i < node_count(n); i++) {
		k = node_map_key(n, i);
		v = node_map_value(n, i);
		if (node_is_str(k, "memory"))
			load_size(l, v, ctx, "limits.memory", &lim->memory);
		else if (node_is_str(k, "cpu_time"))
			load_duration(l, v, ctx, "limits.cpu_time", 1000,
			    &lim->cpu_time_ms);
		else if (node_is_str(k, "open_files"))
			load_int(l, v, ctx, "limits.open_files", 4, 1 << 20,
			    &lim->open_files);
		else if (node_is_str(k, "processes"))
			load_int(l, v, ctx, "limits.processes", 1, 1 << 22,
			    &lim->processes);
		else if (node_is_str(k, "output"))
			load_size(l, v, ctx, "limits.output", &lim->output);
		else if (k->type == NODE_STR)
			load_unknown_key(l, k, lctx, load_limit_keys,
			    LOAD_NLIMIT_KEYS);
	}
}

/* Resolve a parent name written at n and record the edge to child. */
void
load_parent_ref(struct load *l, uint32_t child, const struct node *n,
    const char *ctx)
{
	const char	**names, *near = NULL;
	uint32_t	  pi, i;

	if (load_task_index(l, n->text, &pi) == 0) {
		if (pi == child)
			load_err(l, n, "%s'%s' cannot be its own parent", ctx,
			    n->text);
		else
			load_add_edge(l, pi, child, n);
		return;
	}
	/*
	 * Suggestions cost O(tasks); skip them for huge pipelines, and once
	 * errors are only counted.
	 */
	if (l->p->ntasks <= 2000 && !load_diag_full(l)) {
		names = xreallocarray(NULL, l->p->ntasks + 1, sizeof *names);
		for (i = 0; i < l->p->ntasks; i++)
			names[i] = l->p->tasks[i].name;
		near = suggest(n->text, names, l->p->ntasks);
		free(names);
	}
	if (near != NULL)
		load_err(l, n, "%sunknown parent '%s' (did you mean '%s'?)", ctx,
		    n->text, near);
	else
		load_err(l, n, "%sunknown parent '%s': no task has that name",
		    ctx, n->text);
}

/* Read one task's mapping into t (its name and index are already set). */
static void
load_task(struct load *l, struct task_def *t, const struct node *n)
{
	const struct node	*k, *v, *argv = NULL, *run = NULL;
	const struct node	*iter = NULL, *itercmd = NULL;
	char			 ctx[PL_MAX_NAME + 16];
	int64_t			 i64;
	size_t			 i;

	snprintf(ctx, sizeof ctx, "task '%s': ", t->name);
	t->kill_grace_ms = PIPELINE_KILL_GRACE_MS;
	t->limits.memory = t->limits.cpu_time_ms = -1;
	t->limits.open_files = t->limits.processes = -1;
	t->limits.output = PIPELINE_OUTPUT_LIMIT;
	if (n->type != NODE_MAP) {
		load_err(l, n, "%sa task must be a mapping with run or argv",
		    ctx);
		return;
	}
	for (i = 0; i < node_count(n); i++) {
		k = node_map_key(n, i);
		v = node_map_value(n, i);
		if (k->type != NODE_STR)
			continue;	/* reported by the parser */
		if (node_is_str(k, "run")) {
			run = v;
			load_command(l, v, ctx, "run", &t->run);
		} else if (node_is_str(k, "argv"))
			argv = v;
		else if (node_is_str(k, "parents"))
			load_parents(l, t, v, ctx);
		else if (node_is_str(k, "iterate")) {
			iter = k;
			load_iterate(l, v, ctx, &t->iterate);
		} else if (node_is_str(k, "iterate_command")) {
			itercmd = k;
			load_command(l, v, ctx, "iterate_command",
			    &t->iterate_command);
		} else if (node_is_str(k, "env"))
			load_env(l, v, ctx, &t->env, &t->nenv);
		else if (node_is_str(k, "cwd"))
			load_str(l, v, ctx, "cwd", PL_MAX_PATH, &t->cwd);
		else if (node_is_str(k, "timeout"))
			load_duration(l, v, ctx, "timeout", 1, &t->timeout_ms);
		else if (node_is_str(k, "kill_grace"))
			load_duration(l, v, ctx, "kill_grace", 0,
			    &t->kill_grace_ms);
		else if (node_is_str(k, "retries")) {
			if (load_int(l, v, ctx, "retries", 0, PL_MAX_RETRIES,
			    &i64) == 0)
				t->retries = (uint32_t)i64;
		} else if (node_is_str(k, "retry_delay"))
			load_duration(l, v, ctx, "retry_delay", 0,
			    &t->retry_delay_ms);
		else if (node_is_str(k, "inputs"))
			load_inputs(l, t, v, ctx);
		else if (node_is_str(k, "queue"))
			load_name(l, v, ctx, "queue", pipeline_valid_name,
			    "use up to 64 letters, digits, '_', '.', '-'",
			    &t->queue);
		else if (node_is_str(k, "limits"))
			load_limits(l, t, v, ctx);
		else if (node_is_str(k, "options")) {
			if (v->type != NODE_MAP)
				load_err(l, v, "%soptions must be a mapping",
				    ctx);
			else
				t->options = node_copy(v);
		} else if (node_is_str(k, "keep_going") ||
		    node_is_str(k, "max_parallel") || node_is_str(k, "runner") ||
		    node_is_str(k, "description") || node_is_str(k, "name"))
			load_err(l, k, "%s%s is a pipeline key, not a task key",
			    ctx, k->text);
		else
			load_unknown_key(l, k, ctx, load_task_keys,
			    LOAD_NTASK_KEYS);
	}
	if (iter != NULL && itercmd != NULL)
		load_err(l, itercmd, "%siterate and iterate_command cannot both "
		    "be given", ctx);
	/* After the iterator keys: placeholders depend on them. */
	if (argv != NULL)
		load_argv(l, t, argv, ctx);
	if (run != NULL && argv != NULL)
		load_err(l, argv, "%srun and argv cannot both be given: run is "
		    "a shell line, argv a program and its arguments", ctx);
	else if (run == NULL && argv == NULL)
		diag_add(l->d, t->line, t->col, "%sneeds a command: run (a "
		    "shell line) or argv (a program and its arguments)", ctx);
}

/*
 * Read the tasks mapping: first every name, so that parents can refer to
 * tasks defined later, then each task's keys.
 */
void
load_tasks(struct load *l, const struct node *tasks)
{
	struct pipeline		*p = l->p;
	const struct node	*k;
	size_t			 i, count;

	if (tasks->type != NODE_MAP) {
		load_err(l, tasks, "tasks must be a mapping of task names to "
		    "tasks");
		return;
	}
	count = node_count(tasks);
	if (count == 0) {
		load_err(l, tasks, "tasks must not be empty");
		return;
	}
	if (count > PL_MAX_TASKS) {
		load_err(l, tasks, "%zu tasks, over the limit of %d", count,
		    PL_MAX_TASKS);
		return;
	}
	p->tasks = xcalloc(count, sizeof *p->tasks);
	l->task_nodes = xcalloc(count, sizeof *l->task_nodes);
	for (i = 0; i < count; i++) {
		k = node_map_key(tasks, i);
		if (k->type != NODE_STR)
			continue;	/* reported by the parser */
		if (!pipeline_valid_task_name(k->text))
			load_err(l, k, "task name '%.80s' is not valid: start "
			    "with a letter, then up to 63 letters, digits, "
			    "'_', '.', '-'", k->text);
		p->tasks[p->ntasks].name = xstrdup(k->text);
		p->tasks[p->ntasks].index = p->ntasks;
		p->tasks[p->ntasks].line = k->line;
		p->tasks[p->ntasks].col = k->col;
		l->task_nodes[p->ntasks] = node_map_value(tasks, i);
		p->ntasks++;
	}
	for (i = 0; i < p->ntasks; i++)
		load_task(l, &p->tasks[i], l->task_nodes[i]);
}
