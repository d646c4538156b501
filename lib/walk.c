/*
 * The walker: readiness, the four rules and the failure policy for one
 * execution (walk_run.c: what runners report, retries and cancels; they
 * come back here through walk_settle).  Every consequence of a task execution
 * becoming final is handled from one work list (walk_settle), so that
 * cancels cascading into further cancels never recurse.
 */
#include "config.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "graph.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "runas.h"
#include "timefmt.h"
#include "walk_int.h"
#include "xmalloc.h"

static void	walk_start_result(struct walk *, uint32_t);

struct walk *
walk_of(const struct execution *e)
{
	return e->walk;
}

struct walk_tr *
walk_tr(const struct task_result *tr)
{
	return tr->walk;
}

static struct walk_te *
walk_te(const struct task_execution *te)
{
	return te->walk;
}

const struct task_def *
walk_task(const struct task_execution *te)
{
	return &te->r.exec->def->tasks[te->task];
}

/* Remember that te went final; walk_settle() acts on it. */
void
walk_te_changed(struct walk *w, struct task_execution *te)
{
	struct walk_te	*wte = walk_te(te);

	if (!result_is_final(&te->r) || wte->listed)
		return;
	wte->listed = true;
	if (w->nsettle == w->capsettle) {
		w->capsettle = w->capsettle == 0 ? 16 : w->capsettle * 2;
		w->settle = xreallocarray(w->settle, w->capsettle,
		    sizeof *w->settle);
	}
	w->settle[w->nsettle++] = te;
}

/* Give a task result and its task execution their walker state. */
void
walk_attach_te(struct task_execution *te)
{
	uint32_t	i;

	if (te->walk == NULL)
		te->walk = xcalloc(1, sizeof(struct walk_te));
	for (i = 0; i < te->ninst; i++)
		if (te->inst[i]->walk == NULL)
			te->inst[i]->walk = xcalloc(1, sizeof(struct walk_tr));
}

/* Make a task result final now (it was never launched or is not any more). */
void
walk_finish_tr(struct walk *w, struct task_result *tr, enum status st,
    const char *msg)
{
	struct walk_tr	*wtr = walk_tr(tr);

	if (wtr->retry != NULL) {
		event_free(wtr->retry);
		wtr->retry = NULL;
	}
	result_set(&tr->r, st, msg, timefmt_now_us());
	walk_te_changed(w, tr->te);
}

/*
 * Cancel a task result: stop it when launched (it ends CANCELLED when it
 * exits), else cancel it now.
 */
int
walk_cancel_tr(struct walk *w, struct task_result *tr, const char *why,
    bool stop_running)
{
	struct walk_tr	*wtr = walk_tr(tr);

	if (result_is_final(&tr->r))
		return 0;
	if (wtr->launched) {
		if (!stop_running || wtr->cancel != NULL)
			return 0;
		wtr->cancel = xstrdup(why);
		w->ops->stop(tr, w->arg);
		return 1;
	}
	walk_finish_tr(w, tr, STATUS_CANCELLED, why);
	return 1;
}

/*
 * Cancel what of a task execution has not started; with stop_running,
 * stop what has too.  A task execution without task results yet (its
 * iterator has not run) is cancelled directly.
 */
int
walk_cancel_te(struct walk *w, struct task_execution *te, const char *why,
    bool stop_running)
{
	struct walk_te	*wte;
	uint32_t	 i;
	int		 n = 0;

	if (result_is_final(&te->r))
		return 0;
	walk_attach_te(te);
	wte = walk_te(te);
	if (wte->iter != NULL) {
		walk_iter_stop(wte->iter, why);
		return 1;
	}
	for (i = 0; i < te->ninst; i++)
		n += walk_cancel_tr(w, te->inst[i], why, stop_running);
	if (te->ninst == 0) {
		if (result_set(&te->r, STATUS_CANCELLED, why,
		    timefmt_now_us()) == 0)
			n++;
	}
	walk_te_changed(w, te);
	return n;
}

/* The comma-separated required inputs of t that the execution lacks. */
static char *
walk_missing_inputs(const struct execution *e, const struct task_def *t,
    size_t *n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	*n = 0;
	for (i = 0; i < t->ninputs; i++) {
		if (e->input != NULL && node_map_get(e->input,
		    t->inputs[i]) != NULL)
			continue;
		buf_addf(&b, "%s%s", *n ? ", " : "", t->inputs[i]);
		(*n)++;
	}
	return buf_detach(&b);
}

/* Hand every task result of te to the runner. */
static void
walk_dispatch(struct walk *w, struct task_execution *te)
{
	uint32_t	i;

	walk_attach_te(te);
	for (i = 0; i < te->ninst; i++)
		if (!result_is_final(&te->inst[i]->r))
			w->ops->ready(te->inst[i], w->arg);
	walk_te_changed(w, te);
}

/* A task iterator command ended: its items become task results. */
static void
walk_task_iter_done(struct walk_iter *it)
{
	struct walk		*w = it->w;
	struct task_execution	*te = it->target;
	struct walk_te		*wte = walk_te(te);
	struct node		*items;
	char			*msg;

	wte->iter = NULL;
	if (it->cancel != NULL)
		result_set(&te->r, STATUS_CANCELLED, it->cancel,
		    timefmt_now_us());
	else if ((items = walk_iter_items(it, &te->r, &msg)) == NULL) {
		result_set(&te->r, STATUS_RUNTIME_ERROR, msg, timefmt_now_us());
		free(msg);
	} else {
		execution_add_items(&te->r, items, timefmt_now_us());
		node_free(items);
		/* Stopped meanwhile: walk_failure() cancels them later. */
		if (!((struct walk_pr *)te->pr->walk)->stopped)
			walk_dispatch(w, te);
	}
	walk_iter_free(it);
	walk_te_changed(w, te);
	walk_settle(w);
}

/* A task's parents are all DONE: check inputs, run its iterator, go. */
static void
walk_task_ready(struct walk *w, struct task_execution *te)
{
	const struct task_def	*t = walk_task(te);
	struct walk_te		*wte;
	char			*missing, *msg, *err;
	size_t			 n, i;

	walk_attach_te(te);
	wte = walk_te(te);
	if (result_is_final(&te->r)) {
		walk_te_changed(w, te);	/* an empty static list */
		return;
	}
	missing = walk_missing_inputs(w->e, t, &n);
	if (n > 0) {
		msg = xprintf("missing input%s: %s", n > 1 ? "s" : "", missing);
		if (te->ninst == 0)
			result_set(&te->r, STATUS_VALIDATION_ERROR, msg,
			    timefmt_now_us());
		for (i = 0; i < te->ninst; i++)
			walk_finish_tr(w, te->inst[i],
			    STATUS_VALIDATION_ERROR, msg);
		free(msg);
		free(missing);
		walk_te_changed(w, te);
		return;
	}
	free(missing);
	/* An empty static list ends now, when it is its turn. */
	if (t->iterate_command == NULL && !te->r.sealed) {
		result_seal(&te->r, timefmt_now_us());
		walk_te_changed(w, te);
		return;
	}
	/* Sealed: static, or its command's items came before a restart. */
	if (t->iterate_command == NULL || te->r.sealed) {
		walk_dispatch(w, te);
		return;
	}
	result_set(&te->r, STATUS_RUNNING, "running iterate_command",
	    timefmt_now_us());
	wte->iter = walk_iter_start(w, te->pr, te->task, walk_task_iter_done,
	    te, &err);
	if (wte->iter == NULL) {
		msg = xprintf("iterate_command: %s", err);
		result_set(&te->r, STATUS_RUNTIME_ERROR, msg, timefmt_now_us());
		free(msg);
		free(err);
		walk_te_changed(w, te);
	}
}

/* Hand the ready tasks of a pipeline result to walk_task_ready(). */
static void
walk_ready_tasks(struct walk *w, struct pipeline_result *pr)
{
	struct walk_pr	*wpr = pr->walk;
	uint32_t	 ready[64], n, i;

	/* A stopped one starts nothing: walk_failure() cancels what waits. */
	while ((n = topo_get_ready(wpr->topo, ready, 64)) > 0)
		for (i = 0; i < n; i++)
			if (!wpr->stopped)
				walk_task_ready(w, &pr->tasks[ready[i]]);
}

/* Mark every descendant of task a in desc (ntasks bytes). */
static void
walk_descendants(const struct pipeline *p, uint32_t a, char *desc)
{
	const uint32_t	*kids;
	uint32_t	*stack, sp = 0, n, i, v;

	memset(desc, 0, p->ntasks);
	stack = xreallocarray(NULL, p->ntasks, sizeof *stack);
	stack[sp++] = a;
	while (sp > 0) {
		v = stack[--sp];
		kids = graph_children(p->graph, v, &n);
		for (i = 0; i < n; i++) {
			if (!desc[kids[i]]) {
				desc[kids[i]] = 1;
				stack[sp++] = kids[i];
			}
		}
	}
	free(stack);
}

/*
 * A task execution failed.  Its descendants are cancelled; without
 * keep_going the whole pipeline result stops: what has not started is
 * cancelled, what runs finishes.
 */
static void
walk_failure(struct walk *w, struct task_execution *te)
{
	const struct pipeline	*p = w->e->def;
	struct pipeline_result	*pr = te->pr;
	struct walk_pr		*wpr = pr->walk;
	const char		*verb;
	char			*as_parent, *as_task, *desc;
	uint32_t		 t;

	verb = te->r.status == STATUS_CANCELLED ? "was cancelled" : "failed";
	as_parent = xprintf("cancelled: parent %s %s", p->tasks[te->task].name,
	    verb);
	as_task = xprintf("cancelled: task %s %s", p->tasks[te->task].name,
	    verb);
	if (!p->keep_going)
		wpr->stopped = true;
	desc = xmalloc(p->ntasks);
	walk_descendants(p, te->task, desc);
	for (t = 0; t < p->ntasks; t++) {
		if (result_is_final(&pr->tasks[t].r))
			continue;
		if (desc[t])
			walk_cancel_te(w, &pr->tasks[t], as_parent, false);
		else if (!p->keep_going)
			walk_cancel_te(w, &pr->tasks[t], as_task, false);
	}
	free(desc);
	free(as_parent);
	free(as_task);
}

/* Free the walker state of a pipeline result's tasks. */
static void
walk_free_result(struct pipeline_result *pr, uint32_t ntasks)
{
	struct task_execution	*te;
	struct walk_tr		*wtr;
	uint32_t		 t, i;

	for (t = 0; t < ntasks; t++) {
		te = &pr->tasks[t];
		for (i = 0; i < te->ninst; i++) {
			if ((wtr = te->inst[i]->walk) == NULL)
				continue;
			if (wtr->retry != NULL)
				event_free(wtr->retry);
			free(wtr->cancel);
			free(wtr);
			te->inst[i]->walk = NULL;
		}
		free(te->walk);
		te->walk = NULL;
	}
	if (pr->walk != NULL)
		topo_free(((struct walk_pr *)pr->walk)->topo);
	pr->walk = NULL;
}

/* The execution is final: tell the runner, then forget everything. */
static void
walk_finish(struct walk *w)
{
	struct execution	*e = w->e;
	uint32_t		 i;

	w->finishing = true;
	for (i = 0; i < e->nresults; i++)
		walk_free_result(e->results[i], e->def->ntasks);
	free(w->prs);
	free(w->settle);
	runas_free(w->ra);
	e->walk = NULL;
	w->ops->finished(e, w->arg);
	free(w);
}

/*
 * Act on every task execution that went final: a DONE one makes its
 * children ready, a failed one applies the failure policy.  Then start
 * the next pipeline result of a sequential runner, and finish the
 * execution when everything is final.
 */
void
walk_settle(struct walk *w)
{
	struct execution	*e = w->e;
	struct task_execution	*te;
	struct walk_pr		*wpr;
	uint32_t		 i;

	if (w->finishing)
		return;
	do {
		while (w->nsettle > 0) {
			te = w->settle[--w->nsettle];
			if (walk_te(te)->handled)
				continue;
			walk_te(te)->handled = true;
			wpr = te->pr->walk;
			if (te->r.status == STATUS_DONE) {
				if (topo_done(wpr->topo, te->task) == 0)
					walk_ready_tasks(w, te->pr);
			} else
				walk_failure(w, te);
		}
		/* Starting the next may make more final at once. */
		for (i = 0; i < e->nresults; i++) {
			wpr = e->results[i]->walk;
			if (wpr == NULL || wpr->handled ||
			    !result_is_final(&e->results[i]->r))
				continue;
			wpr->handled = true;
			if (w->ops->sequential && w->next_pr < e->nresults)
				walk_start_result(w, w->next_pr++);
		}
	} while (w->nsettle > 0);
	if (result_is_final(&e->r))
		walk_finish(w);
}

/*
 * Start a pipeline result: hand out the ready tasks.  A resumed one (after
 * a restart) has tasks final already: DONE ones let their children go,
 * failed ones apply the failure policy again (it only cancels what is
 * still unfinished).
 */
static void
walk_start_result(struct walk *w, uint32_t i)
{
	struct pipeline_result	*pr = w->e->results[i];
	struct walk_pr		*wpr = pr->walk;
	struct task_execution	*te;
	uint32_t		 ready[64], n, k;
	bool			 progress = true;

	if (wpr->started)
		return;
	wpr->started = true;
	while (progress) {
		progress = false;
		while ((n = topo_get_ready(wpr->topo, ready, 64)) > 0) {
			for (k = 0; k < n; k++) {
				te = &pr->tasks[ready[k]];
				walk_attach_te(te);
				if (te->r.status == STATUS_DONE) {
					walk_te(te)->handled = true;
					topo_done(wpr->topo, ready[k]);
					progress = true;
				} else if (!wpr->stopped)
					walk_task_ready(w, te);
			}
		}
	}
}

/* Set up every pipeline result and start them (or the first). */
void
walk_start_results(struct walk *w)
{
	struct execution	*e = w->e;
	uint32_t		 i;

	w->prs = xcalloc(e->nresults > 0 ? e->nresults : 1, sizeof *w->prs);
	w->nprs = e->nresults;
	for (i = 0; i < e->nresults; i++) {
		w->prs[i].topo = topo_new(e->def->graph);
		w->prs[i].handled = result_is_final(&e->results[i]->r);
		e->results[i]->walk = &w->prs[i];
	}
	for (i = 0; i < e->nresults; i++) {
		if (result_is_final(&e->results[i]->r))
			continue;
		if (w->ops->sequential) {
			/* One after another: the first unfinished one now. */
			w->next_pr = i + 1;
			walk_start_result(w, i);
			break;
		}
		walk_start_result(w, i);
	}
	if (w->ops->sequential && i == e->nresults)
		w->next_pr = e->nresults;
	walk_settle(w);
}

/* The pipeline iterator command ended. */
static void
walk_pipeline_iter_done(struct walk_iter *it)
{
	struct walk	*w = it->w;
	struct node	*items;
	char		*msg;

	w->iter = NULL;
	if (it->cancel != NULL) {
		result_set(&w->e->r, STATUS_CANCELLED, it->cancel,
		    timefmt_now_us());
		walk_iter_free(it);
		walk_settle(w);
		return;
	}
	if ((items = walk_iter_items(it, &w->e->r, &msg)) == NULL) {
		result_set(&w->e->r, STATUS_CONFIG_ERROR, msg, timefmt_now_us());
		free(msg);
		walk_iter_free(it);
		walk_settle(w);
		return;
	}
	walk_iter_free(it);
	execution_add_items(&w->e->r, items, timefmt_now_us());
	node_free(items);
	walk_start_results(w);
}

/*
 * Who the tasks of e run as.  As root: the owner, or the user: of a
 * registered pipeline.  Otherwise the daemon's own user, which user: may
 * name but not change.
 */
static struct runas *
walk_identity(const struct execution *e, char **err)
{
	struct runas	*ra;

	if (e->def->user == NULL)
		return runas_lookup(geteuid() == 0 ? e->uid : geteuid(), err);
	if ((ra = runas_lookup_name(e->def->user, err)) == NULL)
		return NULL;
	if (geteuid() != 0 && ra->uid != geteuid()) {
		*err = xprintf("user %s: the daemon is not root (it runs as "
		    "uid %u) and cannot switch users", e->def->user,
		    (unsigned)geteuid());
		runas_free(ra);
		return NULL;
	}
	return ra;
}

/* Start walking an execution. */
int
walk_start(struct execution *e, const struct walk_host *host,
    const struct walk_ops *ops, void *arg, char **err)
{
	struct walk	*w;
	char		*msg;

	w = xcalloc(1, sizeof *w);
	w->e = e;
	w->host = *host;
	w->ops = ops;
	w->arg = arg;
	e->walk = w;
	if ((w->ra = walk_identity(e, err)) == NULL) {
		msg = xprintf("cannot run tasks: %s", *err);
		result_set(&e->r, STATUS_CONFIG_ERROR, msg, timefmt_now_us());
		free(msg);
		walk_finish(w);
		return -1;
	}
	if (e->r.sealed) {
		/* Resumed after a restart: its results exist already. */
		walk_start_results(w);
		return 0;
	}
	if (e->def->iterate_command != NULL) {
		result_note(&e->r, "running iterate_command");
		w->iter = walk_iter_start(w, NULL, 0, walk_pipeline_iter_done,
		    e, err);
		if (w->iter == NULL) {
			msg = xprintf("iterate_command: %s", *err);
			result_set(&e->r, STATUS_CONFIG_ERROR, msg,
			    timefmt_now_us());
			free(msg);
			walk_settle(w);
			return -1;
		}
		return 0;
	}
	execution_add_static(e, timefmt_now_us());
	walk_start_results(w);
	return 0;
}
