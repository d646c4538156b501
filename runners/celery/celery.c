/*
 * The Celery runner: configuration, executions, and the launch pump.
 *
 * Task results the walker says may run wait in their execution's queue;
 * the pump (on the event loop) begins each one that the execution's
 * max_parallel and its queue's limit allow, builds its Celery message,
 * and sends the whole batch once the journal made their RUNNING records
 * durable (log before effect).  There is no daemon-wide cap: the fleet's
 * size is the workers' business, so the whole graph runs in parallel
 * across them.  Settings ([celery] or --runner-option celery.KEY=VALUE):
 *
 *   broker          redis://[[user]:password@]host[:port][/db]
 *                   (default redis://127.0.0.1:6379/0)
 *   default_queue   for tasks without a queue key (default celery)
 *   worker_timeout  a task's worker silent this long is lost (30s)
 *   broker_timeout  the broker unreachable this long fails the tasks
 *                   that wait for it (30s)
 *   result_batch    results recorded together at most this often while
 *                   other tasks are in flight (250ms; 0: each at once)
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "celery.h"

#define CELERY_TICK_MS		1000
#define CELERY_RESULT_BATCH_MS	250

PIPELINED_EXPORT const struct pipelined_runner *pipelined_runner_v1(void);

/* Ask for a pump pass on the next loop turn. */
void
celery_kick(struct celery *c)
{
	event_active(c->pump, EV_TIMEOUT, 0);
}

/* Make sure the once-a-second checks run while anything is in flight. */
void
celery_arm_tick(struct celery *c)
{
	struct timeval	tv = { CELERY_TICK_MS / 1000, 0 };

	if (!evtimer_pending(c->tick, NULL))
		evtimer_add(c->tick, &tv);
}

/* The counts of a queue, by its Celery name. */
struct cqueue *
celery_queue(struct celery *c, const char *name)
{
	struct cqueue	*q;

	TAILQ_FOREACH(q, &c->queues, entry)
		if (strcmp(q->name, name) == 0)
			return q;
	q = cx_calloc(1, sizeof *q);
	q->name = cx_strdup(name);
	TAILQ_INSERT_TAIL(&c->queues, q, entry);
	return q;
}

/* An attempt was reported: it no longer counts against any limit. */
void
celery_task_ended(struct celery *c, struct ctask *ct)
{
	c->running--;
	ct->ce->running--;
	celery_queue(c, ct->queue)->running--;
}

/* Whether tr may start now under its execution's and queue's limits. */
static bool
celery_may_start(struct celery *c, struct cexec *ce, struct task_result *tr,
    struct cqueue **qp)
{
	const char	*name = c->host->task_queue(tr);
	unsigned	 limit;

	*qp = celery_queue(c, name != NULL ? name : c->cfg.default_queue);
	limit = c->host->queue_limit((*qp)->name);
	return limit == 0 || (*qp)->running < limit;
}

/* Launches whose RUNNING records are being made durable. */
struct celery_batch {
	struct ctask	**v;
	size_t		  n;
};

/* The batch's RUNNING records are durable (or not): send each. */
static void
celery_batch_cb(bool ok, void *arg)
{
	struct celery_batch	*b = arg;
	size_t			 i;

	for (i = 0; i < b->n; i++)
		ctask_recorded(b->v[i], ok);
	free(b->v);
	free(b);
}

/*
 * Begin every waiting task result that may start, and send the batch once
 * its records are durable (one sync for all of them).
 */
static void
celery_pump_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct celery		*c = arg;
	struct timeval		 tv = { 1, 0 };
	struct celery_batch	*b;
	struct cexec		*ce;
	struct citem		*it, *nx;
	struct cqueue		*q;
	struct ctask		*ct;
	size_t			 cap = 0;
	int			 attempt;

	if (c->queued == 0)
		return;
	if (!c->host->can_start()) {
		/* The journal cannot record starts: try again in a while. */
		evtimer_add(c->retry, &tv);
		return;
	}
	b = cx_calloc(1, sizeof *b);
	TAILQ_FOREACH(ce, &c->execs, entry) {
		TAILQ_FOREACH_SAFE(it, &ce->queue, entry, nx) {
			if (ce->limit != 0 && ce->running >= ce->limit)
				break;
			if (!celery_may_start(c, ce, it->tr, &q))
				continue;
			TAILQ_REMOVE(&ce->queue, it, entry);
			ce->queued--;
			c->queued--;
			attempt = c->host->walk_begin(it->tr);
			if (attempt != -1) {
				ct = ctask_new(c, ce, it->tr,
				    (unsigned)attempt);
				ce->running++;
				c->running++;
				q->running++;
				if (b->n == cap) {
					cap = cap == 0 ? 64 : cap * 2;
					b->v = cx_reallocarray(b->v, cap,
					    sizeof *b->v);
				}
				b->v[b->n++] = ct;
			}
			free(it);
		}
	}
	if (b->n == 0) {
		free(b->v);
		free(b);
		return;
	}
	celery_arm_tick(c);
	c->host->when_durable(celery_batch_cb, b);
}

/* Once a second: broker time limits and worker liveness, per task. */
static void
celery_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct celery	*c = arg;
	struct ctask	*ct, *nx;
	int64_t		 now = cx_now_ms();

	TAILQ_FOREACH_SAFE(ct, &c->tasks, entry, nx)
		ctask_tick(ct, now);
	if (TAILQ_EMPTY(&c->tasks))
		evtimer_del(c->tick);
}

/* The broker is reachable (again) and results are heard: catch up. */
void
celery_broker_up(struct celery *c)
{
	struct ctask	*ct, *nx;

	fleet_forgive(c->fleet, cx_now_ms());
	ctask_orphans_flush(c);
	TAILQ_FOREACH_SAFE(ct, &c->tasks, entry, nx)
		ctask_resync(ct);
	celery_kick(c);
}

/* The results that came since the last batch, together. */
static void
celery_batch_results_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct celery	*c = arg;
	struct cresults	 batch;
	struct cresult	*r;
	struct ctask	*ct;

	c->batch_ms = cx_now_ms();
	TAILQ_INIT(&batch);
	TAILQ_CONCAT(&batch, &c->results, entry);
	while ((r = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, r, entry);
		if ((ct = ctask_find(c, r->id)) != NULL)
			ctask_meta(ct, r->doc, r->len);
		free(r->doc);
		free(r);
	}
}

/*
 * A result document was published (or read back) for task id.
 *
 * Every result the walker hears of is a journal record, and the journal
 * syncs once per loop turn that wrote: a fan-out of thousands finishing
 * on a fleet would sync for each.  So while other tasks are in flight,
 * results are handled at most once per result_batch, together (one sync
 * for all of them); a result after a quiet spell, or the only task in
 * flight (a chain's next link waits for it), is handled at once.
 */
void
celery_result(struct celery *c, const char *id, const char *s, size_t len)
{
	struct timeval	 tv;
	struct cresult	*r;
	struct ctask	*ct;
	int64_t		 now, wait;
	bool		 pending = evtimer_pending(c->batch, NULL);

	if ((ct = ctask_find(c, id)) == NULL)
		return;
	now = cx_now_ms();
	wait = c->batch_ms + c->cfg.result_batch_ms - now;
	if (!pending && (wait <= 0 || c->running <= 1)) {
		c->batch_ms = now;
		ctask_meta(ct, s, len);
		return;
	}
	r = cx_malloc(sizeof *r);
	strlcpy(r->id, ct->id, sizeof r->id);
	r->doc = cx_malloc(len);
	memcpy(r->doc, s, len);
	r->len = len;
	TAILQ_INSERT_TAIL(&c->results, r, entry);
	if (c->running <= 1) {
		/* Nothing else to wait for: now, after those before it. */
		evtimer_del(c->batch);
		celery_batch_results_cb(-1, 0, c);
	} else if (!pending) {
		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		evtimer_add(c->batch, &tv);
	}
}

/* A worker event on /DB.celeryev/worker.TYPE. */
void
celery_event(struct celery *c, const char *chan, const char *s, size_t len)
{
	const char	*type;
	long long	 pid;
	char		*worker;

	if ((type = strstr(chan, "/worker.")) == NULL)
		return;
	type += strlen("/worker.");
	if (envelope_event(s, len, &worker, &pid) == 0)
		fleet_event(c->fleet, type, worker, pid, cx_now_ms());
	free(worker);
}

/* The walker says tr may run: queue it, launch from the pump. */
static void
celery_ready(struct task_result *tr, void *arg)
{
	struct cexec	*ce = arg;
	struct citem	*it;

	it = cx_malloc(sizeof *it);
	it->tr = tr;
	it->since_ms = cx_now_ms();
	TAILQ_INSERT_TAIL(&ce->queue, it, entry);
	ce->queued++;
	ce->c->queued++;
	celery_kick(ce->c);
}

/* The walker stops a launched task result. */
static void
celery_stop(struct task_result *tr, void *arg)
{
	struct cexec	*ce = arg;
	struct ctask	*ct;

	if ((ct = ctask_of(ce->c, tr)) != NULL)
		ctask_stop(ct);
}

/* The execution is final: drop what of it still waits. */
static void
celery_finished(struct execution *e, void *arg)
{
	struct cexec	*ce = arg;
	struct celery	*c = ce->c;
	struct citem	*it;

	while ((it = TAILQ_FIRST(&ce->queue)) != NULL) {
		TAILQ_REMOVE(&ce->queue, it, entry);
		c->queued--;
		free(it);
	}
	TAILQ_REMOVE(&c->execs, ce, entry);
	free(ce);
}

/* Take an execution: the walker drives it through this runner. */
static int
celery_start_runner(void *state, struct execution *e, struct reporter *rp,
    char **err)
{
	struct celery	*c = state;
	struct cexec	*ce;

	/* The broker is reached for the first execution, not at load. */
	if (c->br == NULL)
		c->br = broker_new(c);
	ce = cx_calloc(1, sizeof *ce);
	ce->c = c;
	ce->e = e;
	TAILQ_INIT(&ce->queue);
	ce->limit = c->host->exec_max_parallel(e);
	TAILQ_INSERT_TAIL(&c->execs, ce, entry);
	/* On failure the walker already made the execution final. */
	if (c->host->walk_start(e, &c->ops, ce, err) == -1)
		cx_log(0, "an execution could not start: %s", *err);
	free(*err);
	*err = NULL;
	return 0;
}

/* Cancel under target; the walker stops and cancels. */
static int
celery_cancel(void *state, struct result *target, const char *why)
{
	struct celery	*c = state;

	return c->host->walk_cancel(target, why);
}

/* Counts for pipectl status: in flight, and waiting to be sent. */
static void
celery_stats(void *state, unsigned *running, unsigned *queued)
{
	struct celery	*c = state;

	*running = c->running;
	*queued = c->queued;
}

/* Free everything; every execution is final by now. */
static void
celery_shutdown(void *state)
{
	struct celery	*c = state;
	struct ctask	*ct;
	struct cexec	*ce;
	struct cqueue	*q;
	struct corphan	*o;
	struct cresult	*r;

	c->closing = true;
	while ((ct = TAILQ_FIRST(&c->tasks)) != NULL)
		ctask_free(ct);
	while ((ce = TAILQ_FIRST(&c->execs)) != NULL)
		celery_finished(ce->e, ce);
	while ((q = TAILQ_FIRST(&c->queues)) != NULL) {
		TAILQ_REMOVE(&c->queues, q, entry);
		free(q->name);
		free(q);
	}
	while ((o = TAILQ_FIRST(&c->orphans)) != NULL) {
		TAILQ_REMOVE(&c->orphans, o, entry);
		free(o->queue);
		free(o->msg);
		free(o);
	}
	while ((r = TAILQ_FIRST(&c->results)) != NULL) {
		TAILQ_REMOVE(&c->results, r, entry);
		free(r->doc);
		free(r);
	}
	event_free(c->batch);
	broker_free(c->br);
	fleet_free(c->fleet);
	event_free(c->pump);
	event_free(c->retry);
	event_free(c->tick);
	cx_url_clear(&c->cfg.url);
	free(c->cfg.default_queue);
	free(c);
}

/* A duration setting, or its default; -1 with *err when invalid. */
static int
celery_duration(const struct pipelined_host *host, const char *key,
    int64_t def, int64_t *ms, char **err)
{
	const char	*v = host->option("celery", key);

	*ms = def;
	if (v == NULL)
		return 0;
	if (cx_duration(v, ms) == -1 || *ms <= 0) {
		*err = cx_printf("celery.%s: '%s' is not a duration (250ms, "
		    "30s, 5m, 2h, 1d)", key, v);
		return -1;
	}
	return 0;
}

/* Read the settings. */
static int
celery_configure(struct celery *c, char **err)
{
	const struct pipelined_host	*host = c->host;
	const char			*v;

	v = host->option("celery", "broker");
	if (cx_url_parse(v != NULL ? v : "redis://127.0.0.1:6379/0",
	    &c->cfg.url, err) == -1)
		return -1;
	v = host->option("celery", "default_queue");
	if (v != NULL && *v == '\0') {
		*err = cx_strdup("celery.default_queue: empty");
		return -1;
	}
	c->cfg.default_queue = cx_strdup(v != NULL ? v : "celery");
	if (celery_duration(host, "worker_timeout", 30000,
	    &c->cfg.worker_timeout_ms, err) == -1 ||
	    celery_duration(host, "broker_timeout", 30000,
	    &c->cfg.broker_timeout_ms, err) == -1)
		return -1;
	v = host->option("celery", "result_batch");
	if (v == NULL)
		c->cfg.result_batch_ms = CELERY_RESULT_BATCH_MS;
	else if (cx_duration(v, &c->cfg.result_batch_ms) == -1 ||
	    c->cfg.result_batch_ms > 1000) {
		*err = cx_printf("celery.result_batch: '%s' is not a duration "
		    "of at most 1s", v);
		return -1;
	}
	return 0;
}

/*
 * Settings were reloaded.  Timeouts and the default queue apply at once; a
 * new broker only while nothing is in flight (tasks cannot move brokers).
 */
static void
celery_reconfigure(void *state)
{
	struct celery		*c = state;
	struct celery_config	 old = c->cfg;
	char			*err = NULL;

	memset(&c->cfg, 0, sizeof c->cfg);
	if (celery_configure(c, &err) == -1) {
		cx_log(2, "new settings refused, keeping the old ones: %s",
		    err);
		free(err);
		cx_url_clear(&c->cfg.url);
		free(c->cfg.default_queue);
		c->cfg = old;
		return;
	}
	if (strcmp(old.url.display, c->cfg.url.display) != 0 ||
	    (old.url.password == NULL) != (c->cfg.url.password == NULL) ||
	    (old.url.password != NULL &&
	    strcmp(old.url.password, c->cfg.url.password) != 0)) {
		if (!TAILQ_EMPTY(&c->tasks)) {
			cx_log(2, "tasks are in flight on %s: the new broker "
			    "is not used until the daemon restarts",
			    old.url.display);
			cx_url_clear(&c->cfg.url);
			c->cfg.url = old.url;
			memset(&old.url, 0, sizeof old.url);
		} else {
			/* Reached again on the next execution. */
			broker_free(c->br);
			c->br = NULL;
		}
	}
	cx_url_clear(&old.url);
	free(old.default_queue);
	cx_log(1, "settings reloaded: broker %s, default queue %s",
	    c->cfg.url.display, c->cfg.default_queue);
}

/* Set up at load: settings, state; the broker is reached on first use. */
static void *
celery_init(const struct pipelined_host *host, char **err)
{
	struct celery	*c;
	char		 hostname[64], d1[32], d2[32];

	if (host->abi != PIPELINED_RUNNER_ABI) {
		*err = cx_printf("the host has ABI version %u, celery.so "
		    "needs %u", host->abi, PIPELINED_RUNNER_ABI);
		return NULL;
	}
	cx_set_log(host);
	c = cx_calloc(1, sizeof *c);
	c->host = host;
	if (celery_configure(c, err) == -1) {
		cx_url_clear(&c->cfg.url);
		free(c->cfg.default_queue);
		free(c);
		return NULL;
	}
	if (gethostname(hostname, sizeof hostname) == -1)
		strlcpy(hostname, "localhost", sizeof hostname);
	hostname[sizeof hostname - 1] = '\0';
	snprintf(c->origin, sizeof c->origin, "%ld@%s", (long)getpid(),
	    hostname);
	c->ops.ready = celery_ready;
	c->ops.stop = celery_stop;
	c->ops.finished = celery_finished;
	TAILQ_INIT(&c->execs);
	TAILQ_INIT(&c->queues);
	TAILQ_INIT(&c->tasks);
	TAILQ_INIT(&c->orphans);
	TAILQ_INIT(&c->results);
	RB_INIT(&c->ids);
	RB_INIT(&c->trs);
	c->fleet = fleet_new();
	c->pump = event_new(host->base, -1, 0, celery_pump_cb, c);
	c->retry = evtimer_new(host->base, celery_pump_cb, c);
	c->tick = event_new(host->base, -1, EV_PERSIST, celery_tick_cb, c);
	c->batch = evtimer_new(host->base, celery_batch_results_cb, c);
	cx_log(1, "broker %s, default queue %s, worker timeout %s, broker "
	    "timeout %s", c->cfg.url.display, c->cfg.default_queue,
	    cx_format_ms(c->cfg.worker_timeout_ms, d1, sizeof d1),
	    cx_format_ms(c->cfg.broker_timeout_ms, d2, sizeof d2));
	return c;
}

static const struct pipelined_runner celery_runner = {
	.abi = PIPELINED_RUNNER_ABI,
	.name = "celery",
	.init = celery_init,
	.start_runner = celery_start_runner,
	.cancel = celery_cancel,
	.stats = celery_stats,
	.shutdown = celery_shutdown,
	.reconfigure = celery_reconfigure,
};

/* The plugin's entry point (PIPELINED_RUNNER_SYMBOL). */
const struct pipelined_runner *
pipelined_runner_v1(void)
{
	return &celery_runner;
}
