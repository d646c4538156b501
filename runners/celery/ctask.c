/*
 * One attempt of a task result as a Celery task, from its RUNNING record
 * to its outcome:
 *
 *   RECORDING --durable--> UNSENT --broker--> SENT --STARTED--> STARTED
 *        |                   |                 |                  |
 *        +-------------------+---- outcome ----+------------------+
 *
 * The outcome is the worker's result (mapped exactly as a local process's
 * end), or the runner's own failure: the broker unreachable for
 * broker_timeout, the worker lost, the message lost by the broker.
 * Stopping one is ctask_stop.c's.
 */
#include "config.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celery.h"

/* Between two checks that find no trace of a message (lost or not). */
#define CTASK_RECHECK_MS	3000
/* A task running this long is said to run where it runs. */
#define CTASK_NOTE_MS		500

/*
 * Is a message still anywhere?  1: it has a result; 2: still queued (as
 * pushed, or as a worker put it back after losing its connection: other
 * bytes, same id; a queue too long to scan counts as holding it); 3:
 * reserved by a worker (kombu's "unacked" hash); 0: nowhere.  One script,
 * so that the message cannot move between two looks.
 */
static const char ctask_trace_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end "
    "if redis.call('LLEN', KEYS[2]) > 10000 then return 2 end "
    "for _, m in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do "
    "if string.find(m, ARGV[1], 1, true) then return 2 end end "
    "if redis.call('HEXISTS', 'unacked', ARGV[2]) == 1 then return 3 end "
    "return 0";

/* Attempts by Celery task id. */
static int
ctask_id_cmp(struct ctask *a, struct ctask *b)
{
	return strcmp(a->id, b->id);
}

/* Attempts by task result. */
static int
ctask_tr_cmp(struct ctask *a, struct ctask *b)
{
	return a->tr < b->tr ? -1 : a->tr > b->tr;
}

RB_GENERATE(ctask_ids, ctask, by_id, ctask_id_cmp)
RB_GENERATE(ctask_trs, ctask, by_tr, ctask_tr_cmp)

/*
 * A new attempt of tr, just begun (RUNNING): its spec resolved and its
 * message built, to be sent once its record is durable.
 */
struct ctask *
ctask_new(struct celery *c, struct cexec *ce, struct task_result *tr,
    unsigned attempt)
{
	const struct pipelined_host	*host = c->host;
	struct taskspec			 ts;
	struct ctask			*ct;

	ct = cx_calloc(1, sizeof *ct);
	ct->c = c;
	ct->ce = ce;
	ct->tr = tr;
	ct->attempt = attempt;
	cx_uuid4(ct->id);
	cx_uuid4(ct->tag);
	memset(&ts, 0, sizeof ts);
	host->taskspec(&ts, tr, attempt);
	ct->queue = cx_strdup(ts.queue != NULL ? ts.queue :
	    c->cfg.default_queue);
	ct->program = cx_strdup(ts.argv[0]);
	ct->cwd = ts.cwd != NULL ? cx_strdup(ts.cwd) : NULL;
	ct->timeout_ms = ts.timeout_ms;
	ct->kill_grace_ms = ts.kill_grace_ms;
	ct->msg = envelope_task(c, ct, &ts, &ct->msglen, &ct->error);
	host->taskspec_clear(&ts);
	ct->state = CT_RECORDING;
	ct->since_ms = cx_now_ms();
	ct->timer = evtimer_new(host->base, ctask_timer_cb, ct);
	RB_INSERT(ctask_ids, &c->ids, ct);
	RB_INSERT(ctask_trs, &c->trs, ct);
	TAILQ_INSERT_TAIL(&c->tasks, ct, entry);
	return ct;
}

/* Forget an attempt (it was reported, or the runner shuts down). */
void
ctask_free(struct ctask *ct)
{
	struct celery	*c = ct->c;

	if (ct->state != CT_DONE) {
		RB_REMOVE(ctask_ids, &c->ids, ct);
		RB_REMOVE(ctask_trs, &c->trs, ct);
	}
	TAILQ_REMOVE(&c->tasks, ct, entry);
	event_free(ct->timer);
	free(ct->queue);
	free(ct->msg);
	free(ct->error);
	free(ct->program);
	free(ct->cwd);
	free(ct->worker);
	free(ct);
}

/* The attempt with this Celery id, or NULL. */
struct ctask *
ctask_find(struct celery *c, const char *id)
{
	struct ctask	key;

	if (strlen(id) >= sizeof key.id)
		return NULL;
	strlcpy(key.id, id, sizeof key.id);
	return RB_FIND(ctask_ids, &c->ids, &key);
}

/* The attempt of a launched task result, or NULL. */
struct ctask *
ctask_of(struct celery *c, struct task_result *tr)
{
	struct ctask	key;

	key.tr = tr;
	return RB_FIND(ctask_trs, &c->trs, &key);
}

/* Append what the worker sent back of the output to the task's log. */
static void
ctask_output(struct ctask *ct, const struct meta *m)
{
	const struct pipelined_host	*host = ct->c->host;
	char				*line;

	if (m == NULL || (m->outlen == 0 && m->dropped <= 0))
		return;
	if (ct->attempt > 1) {
		line = cx_printf("[pipelined: attempt %u]\n", ct->attempt);
		host->output(ct->tr, line, strlen(line));
		free(line);
	}
	if (m->dropped > 0) {
		line = cx_printf("[pipelined: %lld earlier bytes of output "
		    "not kept by the worker]\n", m->dropped);
		host->output(ct->tr, line, strlen(line));
		free(line);
	}
	if (m->outlen > 0 && host->output(ct->tr, m->output, m->outlen) == -1)
		cx_log(2, "cannot write the output of task %s", ct->id);
}

/*
 * Report the attempt's end to the walker and free it.  Counts are settled
 * first: walk_exited() may finish the execution (and free its cexec).
 */
static void
ctask_finish(struct ctask *ct, const struct outcome *o, const struct meta *m)
{
	struct celery		*c = ct->c;
	struct task_result	*tr = ct->tr;
	const char		*argv[2];
	char			*key;

	ctask_output(ct, m);
	RB_REMOVE(ctask_ids, &c->ids, ct);
	RB_REMOVE(ctask_trs, &c->trs, ct);
	if (ct->state >= CT_SENT && broker_ready(c->br)) {
		/* Read: the result document is not needed any more. */
		key = cx_printf("celery-task-meta-%s", ct->id);
		argv[0] = "DEL";
		argv[1] = key;
		broker_command(c->br, NULL, NULL, 2, argv, NULL);
		free(key);
	}
	ct->state = CT_DONE;
	celery_task_ended(c, ct);
	/* o may point into ct: free it after. */
	c->host->walk_exited(tr, o);
	ctask_free(ct);
	celery_kick(c);
}

/* End with the runner's own failure (RUNTIME_ERROR with this message). */
void
ctask_fail(struct ctask *ct, const char *fmt, ...)
{
	struct outcome	o;
	va_list		ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	memset(&o, 0, sizeof o);
	o.exit_code = -1;
	o.error = msg != NULL ? msg : "the Celery runner failed";
	ctask_finish(ct, &o, NULL);
	free(msg);
}

/* The LPUSH was answered: only an error matters. */
static void
ctask_push_reply(struct celery *c, const char *id, long long n,
    const char *s, size_t len, bool err)
{
	struct ctask	*ct;

	if (err && (ct = ctask_find(c, id)) != NULL && ct->state == CT_SENT)
		ctask_fail(ct, "the Celery broker refused the task: %s",
		    s != NULL ? s : "error");
}

/*
 * Push the message to its queue (docs/runners.md, "The Celery runner":
 * Sending), or wait for the broker.
 */
void
ctask_send(struct ctask *ct)
{
	struct celery	*c = ct->c;
	const char	*argv[3];
	size_t		 argvlen[3];
	char		*note;

	ct->since_ms = cx_now_ms();
	argv[0] = "LPUSH";
	argv[1] = ct->queue;
	argv[2] = ct->msg;
	argvlen[0] = 5;
	argvlen[1] = strlen(ct->queue);
	argvlen[2] = ct->msglen;
	if (!broker_ready(c->br) || broker_command(c->br, ctask_push_reply,
	    ct->id, 3, argv, argvlen) == -1) {
		/* Quietly while connecting, said when it failed. */
		if (ct->state != CT_UNSENT && broker_error(c->br) != NULL) {
			note = cx_printf("waiting for the Celery broker (%s)",
			    broker_error(c->br));
			c->host->note(ct->tr, note);
			free(note);
		}
		ct->state = CT_UNSENT;
		celery_arm_tick(c);
		broker_poke(c->br);
		return;
	}
	ct->state = CT_SENT;
}

/* The attempt's RUNNING record is durable (or could not be written). */
void
ctask_recorded(struct ctask *ct, bool ok)
{
	if (!ok)
		ctask_fail(ct, "cannot record the start in the journal");
	else if (ct->stopping)
		ctask_end_stopped(ct, "before it was sent");
	else if (ct->error != NULL)
		ctask_fail(ct, "%s", ct->error);
	else
		ctask_send(ct);
}

/* A worker started the task: remember where (said by ctask_tick()). */
static void
ctask_started(struct ctask *ct, const struct meta *m)
{
	if (ct->state != CT_SENT)
		return;
	ct->state = CT_STARTED;
	ct->since_ms = cx_now_ms();
	ct->suspect = 0;
	free(ct->worker);
	ct->worker = cx_strdup(m->worker != NULL ? m->worker : "?");
	ct->pool_pid = m->pool_pid;
	ct->worker_epoch = fleet_seen(ct->c->fleet, ct->worker, ct->since_ms);
	/*
	 * Revoked while the worker was handing it to a pool process, it may
	 * have missed the terminate: it is running now, so say it again.
	 */
	if (ct->stopping && ct->revoked)
		ctask_publish_revoke(ct->c, ct->id, ct->worker);
}

/* A result document for this attempt, published or read back. */
void
ctask_meta(struct ctask *ct, const char *s, size_t len)
{
	struct meta	 m;
	char		*err = NULL;

	if (ct->state < CT_SENT)
		return;
	if (envelope_meta(&m, s, len, &err) == -1) {
		ctask_fail(ct, "cannot read the Celery result: %s", err);
		free(err);
		envelope_meta_clear(&m);
		return;
	}
	m.o.program = ct->program;
	m.o.cwd = ct->cwd;
	m.o.timeout_ms = ct->timeout_ms;
	switch (m.status) {
	case META_STARTED:
		ctask_started(ct, &m);
		break;
	case META_SUCCESS:
	case META_FAILURE:
		ctask_finish(ct, &m.o, &m);
		break;
	case META_REVOKED:
		if (ct->stopping)
			ctask_end_stopped(ct, "revoked, the worker confirmed");
		else
			ctask_fail(ct, "revoked on the Celery side (%s)",
			    m.why != NULL ? m.why : "?");
		break;
	case META_OTHER:
		break;
	}
	envelope_meta_clear(&m);
}

/* The trace check answered (see ctask_trace_lua). */
static void
ctask_trace_reply(struct celery *c, const char *id, long long n,
    const char *s, size_t len, bool err)
{
	struct ctask	*ct;

	if ((ct = ctask_find(c, id)) == NULL)
		return;
	ct->checking = false;
	if (err) {
		cx_log(0, "cannot check task %s: %s", id, s);
		return;
	}
	if (n != 0 || ct->state != CT_SENT) {
		ct->suspect = 0;
		return;
	}
	if (++ct->suspect >= 2) {
		/* Should it turn up after all, workers are to discard it. */
		ctask_publish_revoke(c, ct->id, NULL);
		ctask_fail(ct, "lost by the Celery broker before any worker "
		    "started it (was Redis restarted without persistence?)");
	}
	else
		ct->since_ms = cx_now_ms();
}

/* Ask whether a message that has no result is still anywhere. */
static void
ctask_trace(struct ctask *ct)
{
	const char	*argv[7];
	size_t		 argvlen[7];
	char		*key;

	key = cx_printf("celery-task-meta-%s", ct->id);
	argv[0] = "EVAL";
	argv[1] = ctask_trace_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = ct->queue;
	argv[5] = ct->id;
	argv[6] = ct->tag;
	argvlen[0] = 4;
	argvlen[1] = strlen(ctask_trace_lua);
	argvlen[2] = 1;
	argvlen[3] = strlen(key);
	argvlen[4] = strlen(ct->queue);
	argvlen[5] = strlen(ct->id);
	argvlen[6] = strlen(ct->tag);
	if (broker_command(ct->c->br, ctask_trace_reply, ct->id, 7, argv,
	    argvlen) == 0)
		ct->checking = true;
	free(key);
}

/* GET answered: a result missed while not subscribed, or a trace check. */
static void
ctask_get_reply(struct celery *c, const char *id, long long n, const char *s,
    size_t len, bool err)
{
	struct ctask	*ct;

	if ((ct = ctask_find(c, id)) == NULL || err)
		return;
	if (s != NULL)
		ctask_meta(ct, s, len);
	else if (ct->state == CT_SENT && !ct->stopping)
		ctask_trace(ct);
}

/*
 * The broker is (again) reachable and we are subscribed: send what
 * waited, and read back every result that may have been published while
 * nobody listened.
 */
void
ctask_resync(struct ctask *ct)
{
	const char	*argv[2];
	char		*key;

	if (ct->state == CT_UNSENT && !ct->stopping) {
		ctask_send(ct);
		return;
	}
	if (ct->state == CT_SENT && ct->stopping && !ct->revoked)
		ctask_unqueue(ct);	/* its LREM may have been lost */
	if (ct->state != CT_SENT && ct->state != CT_STARTED)
		return;
	key = cx_printf("celery-task-meta-%s", ct->id);
	argv[0] = "GET";
	argv[1] = key;
	broker_command(ct->c->br, ctask_get_reply, ct->id, 2, argv, NULL);
	free(key);
}

/* Once a second: time limits of the broker, liveness of the worker. */
void
ctask_tick(struct ctask *ct, int64_t now)
{
	struct celery	*c = ct->c;
	int64_t		 down = broker_down_since(c->br);
	int64_t		 limit = c->cfg.broker_timeout_ms;
	const char	*why;
	char		 buf[256], d[32];

	cx_format_ms(limit, d, sizeof d);
	if (ct->state == CT_UNSENT && !ct->stopping &&
	    now - ct->since_ms >= limit) {
		ctask_fail(ct, "cannot reach the Celery broker (%s); gave up "
		    "after %s", broker_error(c->br) != NULL ?
		    broker_error(c->br) : c->cfg.url.display, d);
		return;
	}
	if ((ct->state == CT_SENT || ct->state == CT_STARTED) &&
	    down != 0 && now - down >= limit) {
		if (!ct->revoked)
			ctask_orphan(ct);
		if (ct->stopping)
			ctask_end_stopped(ct, "the Celery broker is "
			    "unreachable");
		else
			ctask_fail(ct, "lost contact with the Celery broker "
			    "(%s) for %s; the task will be revoked once it is "
			    "back", broker_error(c->br) != NULL ?
			    broker_error(c->br) : c->cfg.url.display, d);
		return;
	}
	if (down != 0 || ct->stopping)
		return;
	if (ct->state == CT_STARTED && !ct->noted &&
	    now - ct->since_ms >= CTASK_NOTE_MS) {
		/*
		 * Where it runs, once it runs for a while: a note is a journal
		 * record, not worth writing for tasks that end at once.
		 */
		ct->noted = true;
		snprintf(buf, sizeof buf, "running on %s (pool process %lld)",
		    ct->worker, ct->pool_pid);
		c->host->note(ct->tr, buf);
	}
	if (ct->state == CT_STARTED && (why = fleet_lost(c->fleet, ct->worker,
	    ct->worker_epoch, now, c->cfg.worker_timeout_ms, buf,
	    sizeof buf)) != NULL) {
		/* If it still runs there, it must not go on. */
		ctask_publish_revoke(c, ct->id, ct->worker);
		ctask_fail(ct, "%s", why);
		return;
	}
	if (ct->state == CT_SENT && ct->suspect > 0 && !ct->checking &&
	    now - ct->since_ms >= CTASK_RECHECK_MS)
		ctask_trace(ct);
}
