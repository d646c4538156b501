/*
 * Retries: new executions that skip what already succeeded.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "defcache.h"
#include "diag.h"
#include "history.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "reporter.h"
#include "result.h"
#include "retry.h"
#include "timefmt.h"
#include "xmalloc.h"

static struct node *
retry_object(const struct node *obj)
{
	return obj != NULL ? node_copy(obj) : node_new(NODE_NULL);
}

/* Carry the items of orig's task execution over, and its DONE instances. */
static void
retry_task(struct task_execution *te, const struct task_execution *ote,
    const char *msg, int64_t now)
{
	const struct task_def	*t = &te->r.exec->def->tasks[te->task];
	struct task_result	*tr;
	const struct task_result *otr;
	struct node		*items;
	uint32_t		 k;

	if (t->iterate_command != NULL) {
		if (!ote->r.sealed)
			return;		/* its command never finished: run it */
		items = node_new(NODE_SEQ);
		for (k = 0; k < ote->ninst; k++)
			node_append(items, retry_object(ote->inst[k]->object));
		execution_add_items(&te->r, items, now);
		node_free(items);
	}
	if (te->ninst != ote->ninst)
		return;
	for (k = 0; k < te->ninst; k++) {
		tr = te->inst[k];
		otr = ote->inst[k];
		if (otr->r.status != STATUS_DONE)
			continue;
		tr->exit_code = otr->exit_code;
		tr->attempts = otr->attempts;
		tr->pid = otr->pid;
		tr->isolation = otr->isolation;
		result_set(&tr->r, STATUS_DONE, msg, now);
	}
}

/* Create the retry of orig (see retry.h). */
struct execution *
retry_new(struct history *h, struct reporter *rp, struct execution *orig,
    const char *by, char **err)
{
	struct execution	*e;
	struct pipeline		*p;
	struct defref		*dref;
	struct diag		*d;
	struct node		*items;
	int64_t			 now = timefmt_now_us();
	uint32_t		 i, t;
	char			*msg;

	if (orig->invalid) {
		*err = xprintf("registered pipeline %s did not load when it "
		    "ran: run it again by name", orig->registered);
		return NULL;
	}
	d = diag_new("retry");
	if ((dref = defcache_get(history_defs(h), orig->doc, LOAD_REGISTERED,
	    d)) == NULL) {
		diag_sort(d);
		*err = diag_format(d, 0);
		diag_free(d);
		return NULL;
	}
	diag_free(d);
	p = dref->def;
	e = execution_new_shared(history_next_id(h), dref);
	e->input = node_copy(orig->input);
	e->cwd = xstrdup(orig->cwd);
	e->uid = orig->uid;
	e->gid = orig->gid;
	e->user = xstrdup(orig->user);
	e->runner = xstrdup(orig->runner);
	e->submitted_us = now;
	e->retry_of = orig->id;
	if (orig->registered != NULL)
		e->registered = xstrdup(orig->registered);
	history_add(h, e);
	orig->retried_by = e->id;
	reporter_attach(rp, e);
	msg = xprintf("retry of execution %llu by %s",
	    (unsigned long long)orig->id, by);
	result_note(&e->r, msg);
	free(msg);
	if (p->iterate_command == NULL)
		execution_add_static(e, now);
	else if (orig->r.sealed) {
		/* The same items: the same pipeline results. */
		items = node_new(NODE_SEQ);
		for (i = 0; i < orig->nresults; i++)
			node_append(items,
			    retry_object(orig->results[i]->object));
		execution_add_items(&e->r, items, now);
		node_free(items);
	}
	msg = xprintf("done in execution %llu", (unsigned long long)orig->id);
	for (i = 0; i < e->nresults && i < orig->nresults; i++)
		for (t = 0; t < p->ntasks; t++)
			retry_task(&e->results[i]->tasks[t],
			    &orig->results[i]->tasks[t], msg, now);
	free(msg);
	return e;
}
