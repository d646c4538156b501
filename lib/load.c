/*
 * The pipeline loader: top-level keys, ordering, the task graph, cycles
 * and the flat order.  Task keys are read in load_task.c, typed fields in
 * load_field.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "graph.h"
#include "bounds.h"
#include "load.h"
#include "load_int.h"
#include "node.h"
#include "xmalloc.h"
#include "yamldoc.h"

static const char *const load_pipeline_keys[] = {
	"name", "description", "iterate", "iterate_command", "env", "cwd",
	"keep_going", "max_parallel", "runner", "user", "tasks", "ordering",
};
#define LOAD_NPIPELINE_KEYS \
	(sizeof load_pipeline_keys / sizeof load_pipeline_keys[0])

static bool
load_valid_runner(const char *s)
{
	size_t	i;

	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return i <= PL_MAX_NAME;
}

static bool
load_valid_user(const char *s)
{
	size_t	i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i]) ||
		    (s[i] == '$' && s[i + 1] == '\0')))
			return false;
	return i <= 32;
}

/* One top-level key other than tasks and ordering. */
static void
load_pipeline_key(struct load *l, const struct node *k, const struct node *v)
{
	struct pipeline	*p = l->p;
	int64_t		 i64;

	if (node_is_str(k, "name"))
		load_name(l, v, "", "name", pipeline_valid_name,
		    "start with a letter or digit, then up to 63 letters, "
		    "digits, '_', '.', '-'", &p->name);
	else if (node_is_str(k, "description"))
		load_str(l, v, "", "description", PL_MAX_TEXT, &p->description);
	else if (node_is_str(k, "iterate"))
		load_iterate(l, v, "", &p->iterate);
	else if (node_is_str(k, "iterate_command"))
		load_command(l, v, "", "iterate_command", &p->iterate_command);
	else if (node_is_str(k, "env"))
		load_env(l, v, "", &p->env, &p->nenv);
	else if (node_is_str(k, "cwd"))
		load_str(l, v, "", "cwd", PL_MAX_PATH, &p->cwd);
	else if (node_is_str(k, "keep_going"))
		load_bool(l, v, "", "keep_going", &p->keep_going);
	else if (node_is_str(k, "max_parallel")) {
		if (load_int(l, v, "", "max_parallel", 1, PL_MAX_PARALLEL,
		    &i64) == 0)
			p->max_parallel = (uint32_t)i64;
	} else if (node_is_str(k, "runner"))
		load_name(l, v, "", "runner", load_valid_runner,
		    "use lower-case letters, digits, '_' and '-'", &p->runner);
	else if (node_is_str(k, "user")) {
		if (load_name(l, v, "", "user", load_valid_user,
		    "not a user name", &p->user) == 0 &&
		    !(l->flags & LOAD_REGISTERED))
			load_err(l, k, "user is only allowed in registered "
			    "pipelines (in the daemon's pipelines directory)");
	} else
		load_unknown_key(l, k, "", load_pipeline_keys,
		    LOAD_NPIPELINE_KEYS);
}

/* ordering: task -> list of parents, the seed's form. */
static void
load_ordering(struct load *l, const struct node *n)
{
	const struct node	*k, *v, *it;
	uint32_t		 child;
	char			 ctx[PL_MAX_NAME + 32];
	size_t			 i, j;

	if (n->type == NODE_NULL)
		return;
	if (n->type != NODE_MAP) {
		load_err(l, n, "ordering must be a mapping of task names to "
		    "lists of parents");
		return;
	}
	for (i = 0; i < node_count(n); i++) {
		k = node_map_key(n, i);
		v = node_map_value(n, i);
		if (k->type != NODE_STR)
			continue;
		if (load_task_index(l, k->text, &child) == -1) {
			load_err(l, k, "ordering: unknown task '%s'", k->text);
			continue;
		}
		snprintf(ctx, sizeof ctx, "ordering of '%s': ", k->text);
		if (v->type == NODE_NULL)
			continue;
		if (v->type != NODE_SEQ) {
			load_err(l, v, "%smust be a list of parent task names",
			    ctx);
			continue;
		}
		for (j = 0; j < v->nkids; j++) {
			it = node_item(v, j);
			if (it->type != NODE_STR)
				load_err(l, it, "%sparents must be task names, "
				    "not %s", ctx, node_type_name(it->type));
			else
				load_parent_ref(l, child, it, ctx);
		}
	}
}

static int
load_edge_cmp(const void *a, const void *b)
{
	const struct load_edge	*x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/* Report one cycle at the place where its first edge was written. */
static void
load_cycle_cb(const uint32_t *v, uint32_t len, void *arg)
{
	struct load		*l = arg;
	struct load_edge	 key, *e;
	struct buf		 b;
	uint32_t		 i;
	size_t			 lo = 0, hi = l->nedges, mid;

	buf_init(&b);
	for (i = 0; i < len; i++)
		buf_addf(&b, "%s -> ", l->p->tasks[v[i]].name);
	buf_adds(&b, l->p->tasks[v[0]].name);
	/* Edges are sorted: find the first one written for v0 -> v1. */
	key.parent = v[0];
	key.child = v[len > 1 ? 1 : 0];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = &l->edges[mid];
		if (e->parent < key.parent || (e->parent == key.parent &&
		    e->child < key.child))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->nedges && l->edges[lo].parent == key.parent &&
	    l->edges[lo].child == key.child)
		diag_add(l->d, l->edges[lo].line, l->edges[lo].col,
		    "cycle: %s", b.data);
	else
		diag_add(l->d, 0, 0, "cycle: %s", b.data);
	buf_release(&b);
}

/* Build the graph: the chain, or the union of parents and ordering. */
static void
load_graph(struct load *l)
{
	struct pipeline	*p = l->p;
	uint32_t	 i;
	size_t		 e;

	p->graph = graph_new(p->ntasks);
	if (p->chained) {
		for (i = 1; i < p->ntasks; i++)
			graph_add_edge(p->graph, i - 1, i);
	}
	for (e = 0; e < l->nedges; e++)
		graph_add_edge(p->graph, l->edges[e].parent, l->edges[e].child);
	if (graph_prepare(p->graph) == -1) {
		qsort(l->edges, l->nedges, sizeof *l->edges, load_edge_cmp);
		graph_find_cycles(p->graph, load_cycle_cb, l);
		return;
	}
	p->flat = xreallocarray(NULL, p->ntasks + 1, sizeof *p->flat);
	if (graph_flat_order(p->graph, p->flat) == -1)
		diag_add(l->d, 0, 0, "the task graph has a cycle");
}

/*
 * What the pipeline makes at once (iterator commands count for nothing
 * here; the walker checks their items) must fit PL_MAX_RESULTS.
 */
static void
load_size_check(struct load *l, const struct node *doc)
{
	uint64_t	n, total, per = pipeline_result_size(l->p);

	n = l->p->iterate != NULL ? l->p->iterate->nkids : 1;
	total = n * per;
	if (total > PL_MAX_RESULTS)
		load_err(l, doc, "the pipeline makes %llu task executions and "
		    "task results, over the limit of %u",
		    (unsigned long long)total, PL_MAX_RESULTS);
}

/* Check a parsed document and build the pipeline it describes. */
struct pipeline *
load_document(const struct node *doc, unsigned flags, struct diag *d)
{
	const struct node	*k, *v, *tasks = NULL, *ordering = NULL;
	struct load		 l;
	size_t			 i, before = diag_count(d);

	memset(&l, 0, sizeof l);
	l.d = d;
	l.flags = flags;
	l.p = xcalloc(1, sizeof *l.p);
	if (doc == NULL || doc->type != NODE_MAP) {
		load_err(&l, doc, "a pipeline must be a mapping with name and "
		    "tasks");
		goto out;
	}
	/*
	 * The bounds a file gets from the parser, for a document that came
	 * another way (a submission's msgpack).
	 */
	if (node_depth(doc) > PL_MAX_DEPTH) {
		load_err(&l, doc, "nesting deeper than %d levels", PL_MAX_DEPTH);
		goto out;
	}
	if ((i = node_longest(doc)) > PL_MAX_SCALAR) {
		load_err(&l, doc, "a value is %zu bytes long, over the limit of "
		    "%u", i, PL_MAX_SCALAR);
		goto out;
	}
	/* Top-level keys first: task placeholders depend on the iterator. */
	for (i = 0; i < node_count(doc); i++) {
		k = node_map_key(doc, i);
		v = node_map_value(doc, i);
		if (k->type != NODE_STR)
			continue;
		if (node_is_str(k, "tasks"))
			tasks = v;
		else if (node_is_str(k, "ordering"))
			ordering = v;
		else
			load_pipeline_key(&l, k, v);
	}
	if (node_map_get(doc, "name") == NULL)
		load_err(&l, doc, "missing required key 'name'");
	if (l.p->iterate != NULL && l.p->iterate_command != NULL)
		load_err(&l, node_map_get(doc, "iterate_command"),
		    "iterate and iterate_command cannot both be given");
	if (tasks == NULL) {
		load_err(&l, doc, "missing required key 'tasks'");
		goto out;
	}
	load_tasks(&l, tasks);
	load_size_check(&l, doc);
	if (ordering != NULL)
		load_ordering(&l, ordering);
	l.p->chained = ordering == NULL && !l.any_parents;
	/* Even with other errors, so that cycles are reported with them. */
	if (l.p->ntasks > 0)
		load_graph(&l);
out:
	free(l.by_name);
	free(l.task_nodes);
	free(l.edges);
	if (diag_count(d) != before) {
		pipeline_free(l.p);
		return NULL;
	}
	return l.p;
}

/* Parse YAML or JSON bytes and check them. */
struct pipeline *
load_buffer(const char *buf, size_t len, unsigned flags, struct diag *d,
    struct node **docp)
{
	struct node	*doc;
	struct pipeline	*p;
	size_t		 before = diag_count(d);

	if (docp != NULL)
		*docp = NULL;
	if (len > PL_MAX_FILE_SIZE) {
		diag_add(d, 0, 0, "file is %zu bytes, over the limit of %u",
		    len, PL_MAX_FILE_SIZE);
		return NULL;
	}
	doc = yamldoc_parse(buf, len, d);
	if (doc == NULL) {
		if (diag_count(d) == before)
			diag_add(d, 1, 1, "the file is empty: a pipeline needs "
			    "name and tasks");
		return NULL;
	}
	p = load_document(doc, flags, d);
	if (p != NULL && diag_count(d) != before) {
		/* Parser-level errors (anchors, duplicates) fail it too. */
		pipeline_free(p);
		p = NULL;
	}
	if (p != NULL && docp != NULL)
		*docp = doc;
	else
		node_free(doc);
	return p;
}

/* Read a file (bounded by PL_MAX_FILE_SIZE) and check it. */
struct pipeline *
load_file(const char *path, unsigned flags, struct diag *d, struct node **docp)
{
	struct pipeline	*p = NULL;
	struct buf	 b;
	ssize_t		 n;
	int		 fd;

	if (docp != NULL)
		*docp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diag_add(d, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf_init(&b);
	/* Read at most one byte past the limit: enough to know it is over. */
	while (b.len <= PL_MAX_FILE_SIZE) {
		buf_reserve(&b, 65536);
		n = read(fd, b.data + b.len, b.cap - 1 - b.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			diag_add(d, 0, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	if (b.len > PL_MAX_FILE_SIZE) {
		diag_add(d, 0, 0, "file is over the limit of %u bytes",
		    PL_MAX_FILE_SIZE);
		goto out;
	}
	p = load_buffer(b.data, b.len, flags, d, docp);
out:
	close(fd);
	buf_release(&b);
	return p;
}

/* Make a scalar that stands for a string a string, keeping its text. */
static void
load_canonical_scalar(struct node *n)
{
	if (n->type != NODE_STR && node_is_scalar(n) && n->type != NODE_NULL &&
	    n->type != NODE_BIN && n->text != NULL)
		n->type = NODE_STR;
}

static void
load_canonical_env(struct node *env)
{
	size_t	i;

	if (env == NULL || env->type != NODE_MAP)
		return;
	for (i = 0; i < node_count(env); i++)
		load_canonical_scalar(node_map_value(env, i));
}

/*
 * Before a parsed file travels as msgpack, which keeps values but not
 * their source text: env values and argv elements become strings of
 * their text, so that "MODE: 0755" arrives as "0755", not 493.
 */
void
load_canonical(struct node *doc)
{
	struct node	*tasks, *t, *argv;
	size_t		 i, k;

	if (doc == NULL || doc->type != NODE_MAP)
		return;
	load_canonical_env(node_map_get(doc, "env"));
	if ((tasks = node_map_get(doc, "tasks")) == NULL ||
	    tasks->type != NODE_MAP)
		return;
	for (i = 0; i < node_count(tasks); i++) {
		t = node_map_value(tasks, i);
		load_canonical_env(node_map_get(t, "env"));
		if ((argv = node_map_get(t, "argv")) != NULL &&
		    argv->type == NODE_SEQ)
			for (k = 0; k < argv->nkids; k++)
				load_canonical_scalar(argv->kids[k]);
	}
}
