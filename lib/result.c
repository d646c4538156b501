/*
 * Result objects of the four levels, status changes and their roll-up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "defcache.h"
#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "xmalloc.h"

static void	result_try_finish(struct result *, int64_t);

static void
result_init(struct result *r, enum level level, struct result *parent,
    struct execution *exec)
{
	memset(r, 0, sizeof *r);
	r->level = level;
	r->status = STATUS_PENDING;
	r->message = xstrdup("pending");
	r->parent = parent;
	r->exec = exec;
	if (parent != NULL) {
		if (parent->sealed)
			fatalx("result: child added to a sealed %s",
			    result_level_name(parent->level));
		parent->nchildren++;
	}
}

/* A new execution of a shared definition (the reference is taken). */
struct execution *
execution_new_shared(uint64_t id, struct defref *dref)
{
	struct execution	*e;

	e = execution_new(id, dref->def, NULL, NULL);
	e->dref = dref;
	e->doc = dref->doc;
	return e;
}

/*
 * A new execution of the registered pipeline name, which did not load: its
 * definition is a placeholder (the name, no task), so it can only be made
 * final, and its document is {name: NAME}, which is what the journal keeps.
 */
struct execution *
execution_new_invalid(uint64_t id, const char *name)
{
	struct execution	*e;
	struct pipeline		*p;

	p = xcalloc(1, sizeof *p);
	p->name = xstrdup(name);
	e = execution_new(id, p, NULL, NULL);
	e->owned_def = p;
	e->doc = node_new(NODE_MAP);
	node_map_set_str(e->doc, "name", node_new_str(name, strlen(name)));
	e->registered = xstrdup(name);
	e->invalid = true;
	return e;
}

/* A new, PENDING execution of def without pipeline results yet. */
struct execution *
execution_new(uint64_t id, struct pipeline *def, result_change_cb cb,
    void *arg)
{
	struct execution	*e;

	e = xcalloc(1, sizeof *e);
	result_init(&e->r, LEVEL_EXECUTION, NULL, e);
	e->id = id;
	e->def = def;
	e->change_cb = cb;
	e->change_arg = arg;
	return e;
}

static void
task_result_free(struct task_result *tr)
{
	node_free(tr->object);
	free(tr->r.message);
	free(tr);
}

/* Free an execution and all its results. */
void
execution_free(struct execution *e)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	uint32_t		 i, t, k;

	if (e == NULL)
		return;
	for (i = 0; i < e->nresults; i++) {
		pr = e->results[i];
		for (t = 0; t < e->def->ntasks; t++) {
			te = &pr->tasks[t];
			for (k = 0; k < te->ninst; k++)
				task_result_free(te->inst[k]);
			free(te->inst);
			free(te->r.message);
		}
		free(pr->tasks);
		node_free(pr->object);
		free(pr->r.message);
		free(pr);
	}
	free(e->results);
	free(e->r.message);
	if (e->dref != NULL)
		defref_release(e->dref);
	else {
		pipeline_free(e->owned_def);
		node_free(e->doc);
	}
	node_free(e->input);
	free(e->cwd);
	free(e->user);
	free(e->runner);
	free(e->registered);
	free(e);
}

/*
 * Room for one more in an array of n: it doubles when n is a power of two,
 * so appending stays linear without a capacity to keep (an iterator may
 * add 100000 items in one go).
 */
static void *
result_grow(void *v, size_t n, size_t size)
{
	if (n == 0)
		return xreallocarray(v, 1, size);
	if ((n & (n - 1)) == 0)
		return xreallocarray(v, 2 * n, size);
	return v;
}

/*
 * Add the next pipeline result (object: its iterator item, or NULL) with a
 * task execution per task; a task without iterator or with a non-empty
 * static list gets its task results now and is sealed.
 */
struct pipeline_result *
execution_add_result(struct execution *e, const struct node *object,
    int64_t now_us)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	const struct task_def	*t;
	uint32_t		 i;
	size_t			 k;

	pr = xcalloc(1, sizeof *pr);
	result_init(&pr->r, LEVEL_PIPELINE_RESULT, &e->r, e);
	pr->index = e->nresults;
	pr->object = node_copy(object);
	pr->tasks = xcalloc(e->def->ntasks, sizeof *pr->tasks);
	e->size += e->def->ntasks;
	for (i = 0; i < e->def->ntasks; i++) {
		t = &e->def->tasks[i];
		te = &pr->tasks[i];
		result_init(&te->r, LEVEL_TASK_EXECUTION, &pr->r, e);
		te->pr = pr;
		te->task = i;
		if (t->iterate_command != NULL)
			continue;
		if (t->iterate == NULL)
			execution_add_instance(te, NULL);
		else
			for (k = 0; k < t->iterate->nkids; k++)
				execution_add_instance(te, t->iterate->kids[k]);
	}
	e->results = result_grow(e->results, e->nresults, sizeof *e->results);
	e->results[e->nresults++] = pr;
	/*
	 * Seal what is complete.  An empty static list stays open: it ends
	 * DONE when its turn comes (the walker seals it then), and is
	 * cancelled like any task if a parent fails first.
	 */
	for (i = 0; i < e->def->ntasks; i++)
		if (pr->tasks[i].ninst > 0)
			result_seal(&pr->tasks[i].r, now_us);
	pr->r.sealed = true;
	result_try_finish(&pr->r, now_us);
	return pr;
}

/*
 * Add what a definition gives at once: one pipeline result per item of a
 * static pipeline iterator (or one without iterator), then seal.  An
 * iterator command's items come later, through execution_add_items().
 */
void
execution_add_static(struct execution *e, int64_t now_us)
{
	const struct node	*items = e->def->iterate;
	size_t			 i;

	if (e->def->iterate_command != NULL)
		return;
	if (items == NULL)
		execution_add_result(e, NULL, now_us);
	else
		for (i = 0; i < items->nkids; i++)
			execution_add_result(e, items->kids[i], now_us);
	result_seal(&e->r, now_us);
}

/*
 * Add the items an iterator command printed as children of an execution
 * (pipeline results) or a task execution (task results), tell the items
 * callback, then seal the parent.
 */
void
execution_add_items(struct result *parent, const struct node *items,
    int64_t now_us)
{
	struct execution	*e = parent->exec;
	size_t			 i;

	for (i = 0; i < items->nkids; i++) {
		if (parent->level == LEVEL_EXECUTION)
			execution_add_result(e, items->kids[i], now_us);
		else
			execution_add_instance((struct task_execution *)parent,
			    items->kids[i]);
	}
	if (e->items_cb != NULL)
		e->items_cb(parent, items, e->change_arg);
	result_seal(parent, now_us);
}

/* Add the next task result of a task execution (object: its item). */
struct task_result *
execution_add_instance(struct task_execution *te, const struct node *object)
{
	struct task_result	*tr;

	tr = xcalloc(1, sizeof *tr);
	result_init(&tr->r, LEVEL_TASK_RESULT, &te->r, te->r.exec);
	tr->te = te;
	tr->index = te->ninst;
	tr->object = node_copy(object);
	tr->exit_code = -1;
	te->inst = result_grow(te->inst, te->ninst, sizeof *te->inst);
	te->inst[te->ninst++] = tr;
	te->r.exec->size++;
	return tr;
}

/*
 * Whether nitems more items of an iterator command under parent (pipeline
 * results of an execution, task results of a task execution) keep its
 * execution within PL_MAX_RESULTS task executions and task results.
 */
bool
execution_has_room(const struct result *parent, size_t nitems)
{
	const struct execution	*e = parent->exec;
	uint64_t		 each = 1;

	if (parent->level == LEVEL_EXECUTION)
		each = pipeline_result_size(e->def);
	return e->size <= PL_MAX_RESULTS &&
	    (uint64_t)nitems * each <= PL_MAX_RESULTS - e->size;
}

static void
result_emit(struct result *r)
{
	struct execution	*e = r->exec;

	if (e->change_cb != NULL)
		e->change_cb(r, e->change_arg);
}

/*
 * Apply a change and count a final one in the parent, then tell the
 * callback: it always sees counts that agree with the statuses.
 */
static void
result_apply(struct result *r, enum status st, char *msg, int64_t now_us)
{
	r->status = st;
	free(r->message);
	r->message = msg;
	if (st == STATUS_RUNNING && r->started_us == 0)
		r->started_us = now_us;
	if (status_is_final(st)) {
		r->completed_us = now_us;
		r->sealed = true;
		if (r->parent != NULL) {
			r->parent->nfinal++;
			if (status_is_failure(st) &&
			    r->parent->first_failed == NULL)
				r->parent->first_failed = r;
		}
	}
	result_emit(r);
}

static const char *
result_task_name(const struct task_execution *te)
{
	return te->r.exec->def->tasks[te->task].name;
}

static bool
result_has_iterator(const struct result *r)
{
	const struct task_execution	*te;
	const struct pipeline		*p = r->exec->def;

	if (r->level == LEVEL_EXECUTION)
		return p->iterate != NULL || p->iterate_command != NULL;
	te = (const struct task_execution *)r;
	return pipeline_task_has_iterator(&p->tasks[te->task]);
}

/* The message a parent gets when its children decide its status. */
static char *
result_rollup_message(const struct result *r)
{
	const struct result	*f = r->first_failed;

	switch (r->level) {
	case LEVEL_TASK_EXECUTION:
		if (!result_has_iterator(r) && r->nchildren == 1) {
			const struct task_execution *te = (const void *)r;
			return xstrdup(te->inst[0]->r.message);
		}
		if (f != NULL)
			return xprintf("instance %u failed: %s",
			    ((const struct task_result *)f)->index, f->message);
		if (r->nchildren == 0)
			return xstrdup("no items: nothing to run");
		return xprintf("%s %u instance%s done", r->nchildren == 1 ?
		    "the" : "all", r->nchildren, r->nchildren == 1 ? "" : "s");
	case LEVEL_PIPELINE_RESULT:
		if (f != NULL)
			return xprintf("task %s: %s",
			    result_task_name((const void *)f), f->message);
		return xprintf("%s %u task%s done", r->nchildren == 1 ? "the" :
		    "all", r->nchildren, r->nchildren == 1 ? "" : "s");
	case LEVEL_EXECUTION:
		if (!result_has_iterator(r) && r->nchildren == 1) {
			const struct execution *e = (const void *)r;
			return xstrdup(e->results[0]->r.message);
		}
		if (f != NULL)
			return xprintf("pipeline result %u: %s",
			    ((const struct pipeline_result *)f)->index,
			    f->message);
		if (r->nchildren == 0)
			return xstrdup("no items: nothing to run");
		return xprintf("%s %u pipeline result%s done",
		    r->nchildren == 1 ? "the" : "all", r->nchildren,
		    r->nchildren == 1 ? "" : "s");
	case LEVEL_TASK_RESULT:
		break;
	}
	fatalx("result_rollup_message: a task result has no children");
}

/* Make a sealed parent final once its last child is. */
static void
result_try_finish(struct result *r, int64_t now_us)
{
	enum status	st;

	while (r != NULL && !status_is_final(r->status) && r->sealed &&
	    r->nfinal == r->nchildren) {
		st = r->first_failed != NULL ? r->first_failed->status :
		    STATUS_DONE;
		result_apply(r, st, result_rollup_message(r), now_us);
		r = r->parent;
	}
}

/*
 * Change a status.  Returns -1 (and changes nothing) when the change would
 * not advance, would finalize a parent with unfinished children, or would
 * call a parent DONE whose children did not all succeed.
 */
int
result_set(struct result *r, enum status st, const char *msg, int64_t now_us)
{
	struct result	*a;

	if (!status_can_change(r->status, st))
		return -1;
	if (status_is_final(st) && r->nfinal != r->nchildren)
		return -1;
	if (st == STATUS_DONE && r->first_failed != NULL)
		return -1;
	result_apply(r, st, xstrdup(msg), now_us);
	if (st == STATUS_RUNNING) {
		for (a = r->parent; a != NULL && a->status == STATUS_PENDING;
		    a = a->parent)
			result_apply(a, STATUS_RUNNING, xstrdup("running"),
			    now_us);
		return 0;
	}
	result_try_finish(r->parent, now_us);
	return 0;
}

/* Change only the message of an unfinished object (e.g. a new attempt). */
int
result_note(struct result *r, const char *msg)
{
	if (status_is_final(r->status))
		return -1;
	free(r->message);
	r->message = xstrdup(msg);
	r->noted = true;
	result_emit(r);
	r->noted = false;
	return 0;
}

/* Declare that all children exist; finishes the object if they are final. */
void
result_seal(struct result *r, int64_t now_us)
{
	r->sealed = true;
	result_try_finish(r, now_us);
}

/* Whether the object has a final status. */
bool
result_is_final(const struct result *r)
{
	return status_is_final(r->status);
}

/* The canonical address: 42, 42/1, 42/1/build, 42/1/build/3. */
char *
result_address(const struct result *r)
{
	const struct task_result	*tr;
	const struct task_execution	*te;
	const struct pipeline_result	*pr;
	unsigned long long		 id = r->exec->id;

	switch (r->level) {
	case LEVEL_EXECUTION:
		return xprintf("%llu", id);
	case LEVEL_PIPELINE_RESULT:
		pr = (const void *)r;
		return xprintf("%llu/%u", id, pr->index);
	case LEVEL_TASK_EXECUTION:
		te = (const void *)r;
		return xprintf("%llu/%u/%s", id, te->pr->index,
		    result_task_name(te));
	case LEVEL_TASK_RESULT:
		tr = (const void *)r;
		return xprintf("%llu/%u/%s/%u", id, tr->te->pr->index,
		    result_task_name(tr->te), tr->index);
	}
	fatalx("result_address: bad level");
}

/* "execution", "pipeline_result", "task_execution", "task_result". */
const char *
result_level_name(enum level level)
{
	static const char *const names[] = { "execution", "pipeline_result",
	    "task_execution", "task_result" };

	if ((unsigned)level > LEVEL_TASK_RESULT)
		return "unknown";
	return names[level];
}

/* Count final children and find the first to fail, from their states. */
static void
result_recount_one(struct result *r, struct result **kids, size_t n)
{
	struct result	*k;
	size_t		 i;

	r->nfinal = 0;
	r->first_failed = NULL;
	for (i = 0; i < n; i++) {
		k = kids[i];
		if (!status_is_final(k->status))
			continue;
		r->nfinal++;
		if (status_is_failure(k->status) && (r->first_failed == NULL ||
		    k->completed_us < r->first_failed->completed_us))
			r->first_failed = k;
	}
	if (status_is_final(r->status))
		r->sealed = true;
}

/*
 * Rebuild the roll-up bookkeeping of an execution whose states were set
 * one by one from the journal.
 */
void
execution_recount(struct execution *e)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct result		**kids;
	uint32_t		  i, t, k, n;

	n = e->nresults > e->def->ntasks ? e->nresults : e->def->ntasks;
	kids = xreallocarray(NULL, n + 1, sizeof *kids);
	for (i = 0; i < e->nresults; i++) {
		pr = e->results[i];
		for (t = 0; t < e->def->ntasks; t++) {
			te = &pr->tasks[t];
			if (te->ninst > 0) {
				struct result **ik = xreallocarray(NULL,
				    te->ninst, sizeof *ik);
				for (k = 0; k < te->ninst; k++)
					ik[k] = &te->inst[k]->r;
				result_recount_one(&te->r, ik, te->ninst);
				free(ik);
			} else
				result_recount_one(&te->r, NULL, 0);
			kids[t] = &te->r;
		}
		result_recount_one(&pr->r, kids, e->def->ntasks);
	}
	for (i = 0; i < e->nresults; i++)
		kids[i] = &e->results[i]->r;
	result_recount_one(&e->r, kids, e->nresults);
	free(kids);
}
