/*
 * Stopping a Celery task (a cancel, or rule 4 stopping an instance's
 * siblings): a message still in its queue is taken off it with LREM of the
 * exact bytes pushed, so that it never runs; one a worker holds is revoked
 * with terminate (SIGTERM only: the worker module sends SIGTERM to the
 * command's group, SIGKILL after the kill grace).  The attempt ends once
 * the worker confirms (REVOKED) or its kill grace and a margin passed; the
 * walker records it CANCELLED.  What could not be revoked because the
 * broker was away is revoked, and unqueued, once it is back.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celery.h"

/* Past the kill grace, how long a revoke's confirmation may take. */
#define CTASK_CONFIRM_MS	3000

/* A stopped attempt ends (the walker records it CANCELLED). */
void
ctask_end_stopped(struct ctask *ct, const char *how)
{
	cx_log(0, "task %s stopped: %s", ct->id, how);
	ctask_fail(ct, "stopped: %s", how);
}

/* Remember to revoke (and unqueue) a task once the broker is back. */
void
ctask_orphan(struct ctask *ct)
{
	struct corphan	*o;

	o = cx_calloc(1, sizeof *o);
	strlcpy(o->id, ct->id, sizeof o->id);
	o->queue = cx_strdup(ct->queue);
	if (ct->msg != NULL) {
		o->msg = cx_malloc(ct->msglen);
		memcpy(o->msg, ct->msg, ct->msglen);
		o->msglen = ct->msglen;
	}
	TAILQ_INSERT_TAIL(&ct->c->orphans, o, entry);
}

/* Broadcast a revoke with terminate (to its worker when known). */
int
ctask_publish_revoke(struct celery *c, const char *id, const char *worker)
{
	const char	*argv[3];
	size_t		 argvlen[3], len;
	char		*msg, *chan;
	int		 rc;

	msg = envelope_revoke(c, id, worker, &len);
	chan = cx_printf("/%d.celery.pidbox", c->cfg.url.db);
	argv[0] = "PUBLISH";
	argv[1] = chan;
	argv[2] = msg;
	argvlen[0] = 7;
	argvlen[1] = strlen(chan);
	argvlen[2] = len;
	rc = broker_command(c->br, NULL, NULL, 3, argv, argvlen);
	free(chan);
	free(msg);
	return rc;
}

/* Revoke a task a worker holds; it ends at the confirmation or the grace. */
static void
ctask_revoke(struct ctask *ct)
{
	struct timeval	tv;
	int64_t		ms = ct->kill_grace_ms + CTASK_CONFIRM_MS;

	if (!ct->revoked) {
		ct->revoked = true;
		if (ctask_publish_revoke(ct->c, ct->id, ct->worker) == -1)
			ctask_orphan(ct);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ct->timer, &tv);
}

/* The stop's grace passed (or an unsent task was stopped): it ends. */
void
ctask_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctask	*ct = arg;

	if (ct->state == CT_UNSENT || ct->state == CT_RECORDING) {
		ctask_end_stopped(ct, "before it was sent");
		return;
	}
	/* One more try, should the first have been missed. */
	ctask_publish_revoke(ct->c, ct->id, ct->worker);
	ctask_end_stopped(ct, "no confirmation from the worker in time");
}

/* LREM answered: 1, it was still queued and never runs; 0, a worker has it. */
static void
ctask_lrem_reply(struct celery *c, const char *id, long long n,
    const char *s, size_t len, bool err)
{
	struct ctask	*ct;

	if ((ct = ctask_find(c, id)) == NULL)
		return;
	if (!err && n == 1)
		ctask_end_stopped(ct, "removed from its queue before any "
		    "worker took it");
	else
		ctask_revoke(ct);
}

/* LREM QUEUE 1 MSG: take one copy of a message off its queue. */
static int
ctask_lrem(struct celery *c, broker_cb cb, const char *arg,
    const char *queue, const char *msg, size_t msglen)
{
	const char	*argv[4] = { "LREM", queue, "1", msg };
	size_t		 argvlen[4] = { 4, strlen(queue), 1, msglen };

	return broker_command(c->br, cb, arg, 4, argv, argvlen);
}

/*
 * Take a stopped task's message off its queue: if that works it never
 * runs, else a worker has it and it is revoked.  Bounded by the grace.
 */
void
ctask_unqueue(struct ctask *ct)
{
	struct timeval	 tv;
	int64_t		 ms = ct->kill_grace_ms + CTASK_CONFIRM_MS;

	if (ctask_lrem(ct->c, ctask_lrem_reply, ct->id, ct->queue, ct->msg,
	    ct->msglen) == -1) {
		ctask_revoke(ct);	/* queued for when it is back */
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ct->timer, &tv);
}

/* Stop the attempt (from the walker: report nothing from here). */
void
ctask_stop(struct ctask *ct)
{
	struct timeval	 tv = { 0, 0 };

	if (ct->stopping)
		return;
	ct->stopping = true;
	switch (ct->state) {
	case CT_RECORDING:
		break;		/* ctask_recorded() ends it */
	case CT_UNSENT:
		evtimer_add(ct->timer, &tv);
		break;
	case CT_SENT:
		ctask_unqueue(ct);
		break;
	case CT_STARTED:
		ctask_revoke(ct);
		break;
	case CT_DONE:
		break;
	}
}

/* The broker is back: unqueue and revoke what was given up meanwhile. */
void
ctask_orphans_flush(struct celery *c)
{
	struct corphan	*o;

	while ((o = TAILQ_FIRST(&c->orphans)) != NULL) {
		if (o->msg == NULL || ctask_lrem(c, NULL, NULL, o->queue,
		    o->msg, o->msglen) == 0)
			ctask_publish_revoke(c, o->id, NULL);
		TAILQ_REMOVE(&c->orphans, o, entry);
		free(o->queue);
		free(o->msg);
		free(o);
	}
}
