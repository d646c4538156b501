/*
 * The walker's side of running: what runners report (a task result begun,
 * started, exited), the failure policy's sibling kills, retries after
 * retry_delay, and cancels from users.
 */
#include "config.h"

#include <event2/event.h>
#include <stdlib.h>

#include "outcome.h"
#include "pipeline.h"
#include "result.h"
#include "runas.h"
#include "timefmt.h"
#include "units.h"
#include "walk_int.h"
#include "xmalloc.h"

/* The runner launches tr now. */
int
walk_begin(struct task_result *tr)
{
	struct walk_tr	*wtr = walk_tr(tr);
	const struct task_def *t = walk_task(tr->te);
	char		*msg;

	if (wtr == NULL || result_is_final(&tr->r) || wtr->launched ||
	    ((struct walk_pr *)tr->te->pr->walk)->stopped)
		return -1;
	wtr->attempt++;
	wtr->launched = true;
	tr->attempts = wtr->attempt;
	if (wtr->attempt == 1)
		result_set(&tr->r, STATUS_RUNNING, "starting", timefmt_now_us());
	else {
		msg = xprintf("attempt %u of %u starting", wtr->attempt,
		    t->retries + 1);
		result_note(&tr->r, msg);
		free(msg);
	}
	return (int)wtr->attempt;
}

/* The attempt runs as pid. */
void
walk_started(struct task_result *tr, pid_t pid)
{
	char	*msg;

	tr->pid = pid;
	msg = xprintf("running as pid %ld", (long)pid);
	result_note(&tr->r, msg);
	free(msg);
}

static void
walk_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct task_result	*tr = arg;
	struct walk		*w = walk_of(tr->r.exec);

	event_free(walk_tr(tr)->retry);
	walk_tr(tr)->retry = NULL;
	w->ops->ready(tr, w->arg);
}

/* Rule 4: an instance failed, so its unfinished siblings are cancelled. */
static void
walk_cancel_siblings(struct walk *w, struct task_result *tr)
{
	struct task_execution	*te = tr->te;
	char			*why;
	uint32_t		 i;

	if (!pipeline_task_has_iterator(walk_task(te)))
		return;
	why = xprintf("cancelled: instance %u of %s failed", tr->index,
	    walk_task(te)->name);
	for (i = 0; i < te->ninst; i++)
		if (te->inst[i] != tr)
			walk_cancel_tr(w, te->inst[i], why, true);
	free(why);
}

/* The attempt ended: retry, or make the task result final. */
void
walk_exited(struct task_result *tr, const struct outcome *o)
{
	struct walk		*w = walk_of(tr->r.exec);
	struct walk_tr		*wtr = walk_tr(tr);
	const struct task_def	*t = walk_task(tr->te);
	struct timeval		 tv;
	enum status		 st;
	char			*msg, *note, dbuf[32];

	wtr->launched = false;
	if (o->pid != 0)
		tr->pid = o->pid;
	tr->exit_code = o->exit_code;
	tr->signal = o->signal;
	tr->cpu_user_us += o->cpu_user_us;
	tr->cpu_system_us += o->cpu_system_us;
	if (o->max_rss_kib > tr->max_rss_kib)
		tr->max_rss_kib = o->max_rss_kib;
	if (wtr->cancel != NULL) {
		walk_finish_tr(w, tr, STATUS_CANCELLED, wtr->cancel);
		walk_settle(w);
		return;
	}
	st = outcome_status(o, &msg);
	/* No retry once the pipeline result stopped: that would be a start. */
	if (st != STATUS_DONE && wtr->attempt <= t->retries &&
	    !((struct walk_pr *)tr->te->pr->walk)->stopped) {
		note = xprintf("attempt %u of %u %s; retrying in %s",
		    wtr->attempt, t->retries + 1, msg,
		    units_format_duration(t->retry_delay_ms, dbuf,
		    sizeof dbuf));
		result_note(&tr->r, note);
		free(note);
		free(msg);
		tv.tv_sec = t->retry_delay_ms / 1000;
		tv.tv_usec = (t->retry_delay_ms % 1000) * 1000;
		wtr->retry = evtimer_new(w->host.base, walk_retry_cb, tr);
		evtimer_add(wtr->retry, &tv);
		return;
	}
	walk_finish_tr(w, tr, st, msg);
	free(msg);
	if (st != STATUS_DONE) {
		walk_cancel_siblings(w, tr);
		/*
		 * The first failure stops the pipeline result at once: nothing
		 * new starts.  What waits is cancelled once the failed task is
		 * final (its siblings may still be stopping), so that the
		 * failure, not a cancel, is the first to end.
		 */
		if (!w->e->def->keep_going)
			((struct walk_pr *)tr->te->pr->walk)->stopped = true;
	}
	walk_settle(w);
}

/* Cancel everything under a pipeline result. */
static int
walk_cancel_result(struct walk *w, struct pipeline_result *pr,
    const char *why)
{
	uint32_t	t;
	int		n = 0;

	if (pr->walk != NULL)
		((struct walk_pr *)pr->walk)->stopped = true;
	for (t = 0; t < w->e->def->ntasks; t++)
		n += walk_cancel_te(w, &pr->tasks[t], why, true);
	return n;
}

/* A user (or the daemon stopping) cancels part of an execution. */
int
walk_cancel(struct result *target, const char *why)
{
	struct walk	*w = walk_of(target->exec);
	struct execution *e = target->exec;
	uint32_t	 i;
	int		 n = 0;

	if (w == NULL || result_is_final(target))
		return 0;
	switch (target->level) {
	case LEVEL_EXECUTION:
		if (w->iter != NULL) {
			walk_iter_stop(w->iter, why);
			return 1;
		}
		for (i = 0; i < e->nresults; i++)
			n += walk_cancel_result(w, e->results[i], why);
		break;
	case LEVEL_PIPELINE_RESULT:
		n = walk_cancel_result(w, (struct pipeline_result *)target, why);
		break;
	case LEVEL_TASK_EXECUTION:
		walk_attach_te((struct task_execution *)target);
		n = walk_cancel_te(w, (struct task_execution *)target, why,
		    true);
		break;
	case LEVEL_TASK_RESULT:
		walk_attach_te(((struct task_result *)target)->te);
		n = walk_cancel_tr(w, (struct task_result *)target, why, true);
		walk_te_changed(w, ((struct task_result *)target)->te);
		break;
	}
	walk_settle(w);
	return n;
}

/* The identity tasks of e run as. */
const struct runas *
walk_runas(const struct execution *e)
{
	return walk_of(e) != NULL ? walk_of(e)->ra : NULL;
}

/* Whether an attempt of tr is running. */
bool
walk_launched(const struct task_result *tr)
{
	return tr->walk != NULL && walk_tr(tr)->launched;
}

/* The current (or last) attempt of tr. */
unsigned
walk_attempt(const struct task_result *tr)
{
	return tr->walk != NULL ? walk_tr(tr)->attempt : tr->attempts;
}
