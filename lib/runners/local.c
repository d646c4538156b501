/*
 * The built-in runners "local" and "eager": task results as processes on
 * this host.
 *
 * local: in parallel under the daemon-wide max_parallel, each execution's
 * own max_parallel and the per-queue limits; fair across executions (each
 * pass of the pump starts at most one task result per execution, round
 * robin).  eager: one task result at a time per execution, in flat order,
 * pipeline results one after another - for development and debugging.
 *
 * Ready task results wait in their execution's queue; the pump launches
 * them from the event loop, never from inside the walker's callbacks.
 */
#include "config.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "log.h"
#include "outcome.h"
#include "pipeline.h"
#include "proc.h"
#include "reporter.h"
#include "result.h"
#include "runner.h"
#include "xmalloc.h"

struct local_item {
	struct task_result		*tr;
	TAILQ_ENTRY(local_item)		 entry;
};
TAILQ_HEAD(local_items, local_item);

struct local_exec {
	struct local			*l;
	struct execution		*e;
	struct local_items		 queue;
	unsigned			 queued;
	unsigned			 running;
	unsigned			 limit;		/* 0: none */
	TAILQ_ENTRY(local_exec)		 entry;
};
TAILQ_HEAD(local_execs, local_exec);

struct local_queue {
	char		*name;
	unsigned	 running;
};

struct local {
	const struct pipelined_host	*host;
	struct proc_host		 ph;
	int				 eager;
	struct walk_ops			 ops;
	struct local_execs		 execs;
	struct local_exec		*next;		/* round robin */
	unsigned			 running;
	unsigned			 queued;
	struct local_queue		*queues;
	size_t				 nqueues;
	struct event			*pump;
	struct event			*retry;
};

static struct local_queue *
local_queue(struct local *l, const char *name)
{
	size_t	i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < l->nqueues; i++)
		if (strcmp(l->queues[i].name, name) == 0)
			return &l->queues[i];
	l->queues = xreallocarray(l->queues, l->nqueues + 1,
	    sizeof *l->queues);
	l->queues[l->nqueues].name = xstrdup(name);
	l->queues[l->nqueues].running = 0;
	return &l->queues[l->nqueues++];
}

static const char *
local_queue_name(const struct task_result *tr)
{
	return tr->r.exec->def->tasks[tr->te->task].queue;
}

/* Ask for a pump pass on the next loop turn. */
static void
local_kick(struct local *l)
{
	event_active(l->pump, EV_TIMEOUT, 0);
}

static void
local_done_cb(struct proc *p, struct task_result *tr, const struct outcome *o,
    void *arg)
{
	struct local_exec	*le = arg;
	struct local		*l = le->l;
	struct local_queue	*q;

	l->running--;
	le->running--;
	if ((q = local_queue(l, local_queue_name(tr))) != NULL)
		q->running--;
	tr->runner_data = NULL;
	l->host->walk_exited(tr, o);
	proc_free(p);
	local_kick(l);
}

/* Whether tr may start now under the execution's and its queue's limits. */
static int
local_may_start(struct local *l, struct local_exec *le,
    const struct task_result *tr)
{
	const char	*qname = local_queue_name(tr);
	unsigned	 qlimit;

	if (le->limit != 0 && le->running >= le->limit)
		return 0;
	if (qname != NULL && (qlimit = l->host->queue_limit(qname)) != 0 &&
	    local_queue(l, qname)->running >= qlimit)
		return 0;
	return 1;
}

/*
 * Begin the first task result of le's queue that may start, adding it to
 * the batch; 1 if one did.
 */
static int
local_launch_one(struct local *l, struct local_exec *le, struct proc **batch,
    size_t *nbatch)
{
	struct local_item	*it, *nx;
	struct local_queue	*q;
	struct task_result	*tr;
	struct proc		*p;

	TAILQ_FOREACH_SAFE(it, &le->queue, entry, nx) {
		tr = it->tr;
		if (result_is_final(&tr->r)) {
			/* Cancelled while it waited. */
			TAILQ_REMOVE(&le->queue, it, entry);
			le->queued--;
			l->queued--;
			free(it);
			continue;
		}
		if (!local_may_start(l, le, tr)) {
			/* eager and per-execution limits: in order, no skipping. */
			if (l->eager || (le->limit != 0 &&
			    le->running >= le->limit))
				return 0;
			continue;
		}
		TAILQ_REMOVE(&le->queue, it, entry);
		le->queued--;
		l->queued--;
		free(it);
		if ((p = proc_prepare(&l->ph, tr, local_done_cb, le)) == NULL)
			continue;
		batch[(*nbatch)++] = p;
		tr->runner_data = p;
		l->running++;
		le->running++;
		if ((q = local_queue(l, local_queue_name(tr))) != NULL)
			q->running++;
		return 1;
	}
	return 0;
}

/* Launches whose RUNNING records are being made durable. */
struct local_batch {
	struct proc	**v;
	size_t		  n;
};

/* The batch's records are durable (or could not be written): go. */
static void
local_batch_cb(bool ok, void *arg)
{
	struct local_batch	*lb = arg;
	size_t			 i;

	for (i = 0; i < lb->n; i++) {
		if (!ok)
			proc_fail(lb->v[i], xstrdup("cannot record the start "
			    "in the journal"));
		else
			proc_start(lb->v[i]);
	}
	free(lb->v);
	free(lb);
}

/*
 * Start what may start, one task result per execution per pass.  Every
 * launch of the pass is recorded first, then started once the journal
 * made those records durable (one sync for the batch).
 */
static void
local_pump_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct local		*l = arg;
	struct local_exec	*le, *start, *nx;
	struct timeval		 tv = { 1, 0 };
	struct proc		**batch;
	struct local_batch	 *lb;
	size_t			  nbatch = 0;
	int			  progress;

	if (l->running >= l->host->max_parallel || l->queued == 0)
		return;
	if (!l->host->can_start()) {
		/* The journal cannot record starts: try again in a while. */
		evtimer_add(l->retry, &tv);
		return;
	}
	batch = xreallocarray(NULL, l->host->max_parallel - l->running,
	    sizeof *batch);
	do {
		progress = 0;
		if ((le = l->next) == NULL)
			le = TAILQ_FIRST(&l->execs);
		start = le;
		while (le != NULL && l->running < l->host->max_parallel) {
			if ((nx = TAILQ_NEXT(le, entry)) == NULL)
				nx = TAILQ_FIRST(&l->execs);
			if (local_launch_one(l, le, batch, &nbatch)) {
				/* The next pass begins after the last served. */
				progress = 1;
				l->next = nx;
			}
			if ((le = nx) == start)
				break;
		}
	} while (progress && l->running < l->host->max_parallel);
	if (nbatch == 0) {
		free(batch);
		return;
	}
	lb = xmalloc(sizeof *lb);
	lb->v = batch;
	lb->n = nbatch;
	l->host->when_durable(local_batch_cb, lb);
}

static void
local_ready(struct task_result *tr, void *arg)
{
	struct local_exec	*le = arg;
	struct local_item	*it;

	it = xmalloc(sizeof *it);
	it->tr = tr;
	TAILQ_INSERT_TAIL(&le->queue, it, entry);
	le->queued++;
	le->l->queued++;
	local_kick(le->l);
}

static void
local_stop(struct task_result *tr, void *arg)
{
	if (tr->runner_data != NULL)
		proc_stop(tr->runner_data);
}

static void
local_finished(struct execution *e, void *arg)
{
	struct local_exec	*le = arg;
	struct local		*l = le->l;
	struct local_item	*it;

	while ((it = TAILQ_FIRST(&le->queue)) != NULL) {
		TAILQ_REMOVE(&le->queue, it, entry);
		l->queued--;
		free(it);
	}
	if (l->next == le)
		l->next = TAILQ_NEXT(le, entry);
	TAILQ_REMOVE(&l->execs, le, entry);
	e->runner_data = NULL;
	free(le);
}

static int
local_start_runner(void *state, struct execution *e, struct reporter *rp,
    char **err)
{
	struct local		*l = state;
	struct local_exec	*le;

	le = xcalloc(1, sizeof *le);
	le->l = l;
	le->e = e;
	TAILQ_INIT(&le->queue);
	le->limit = l->eager ? 1 : e->def->max_parallel;
	TAILQ_INSERT_TAIL(&l->execs, le, entry);
	e->runner_data = le;
	/* On failure the walker already made the execution final. */
	if (l->host->walk_start(e, &l->ops, le, err) == -1)
		log_debug("execution %llu: %s", (unsigned long long)e->id,
		    *err);
	free(*err);
	*err = NULL;
	return 0;
}

static int
local_cancel(void *state, struct result *target, const char *why)
{
	struct local	*l = state;

	return l->host->walk_cancel(target, why);
}

static void
local_stats(void *state, unsigned *running, unsigned *queued)
{
	struct local	*l = state;

	*running = l->running;
	*queued = l->queued;
}

static void
local_shutdown(void *state)
{
	struct local	*l = state;
	size_t		 i;

	event_free(l->pump);
	event_free(l->retry);
	for (i = 0; i < l->nqueues; i++)
		free(l->queues[i].name);
	free(l->queues);
	free(l);
}

static void *
local_init_common(const struct pipelined_host *host, int eager)
{
	const struct runner_config	*cfg = runner_config();
	struct local			*l;

	l = xcalloc(1, sizeof *l);
	l->host = host;
	l->eager = eager;
	l->ph.base = host->base;
	l->ph.state_dir = host->state_dir;
	l->ph.lang = cfg->lang;
	l->ph.cgroots = cfg->cgroots;
	l->ops.ready = local_ready;
	l->ops.stop = local_stop;
	l->ops.finished = local_finished;
	l->ops.sequential = eager;
	TAILQ_INIT(&l->execs);
	l->pump = event_new(host->base, -1, 0, local_pump_cb, l);
	l->retry = evtimer_new(host->base, local_pump_cb, l);
	return l;
}

static void *
local_init(const struct pipelined_host *host, char **err)
{
	return local_init_common(host, 0);
}

static void *
eager_init(const struct pipelined_host *host, char **err)
{
	return local_init_common(host, 1);
}

/* A new max_parallel: start more at once if it grew. */
static void
local_reconfigure(void *state)
{
	local_kick(state);
}

static const struct pipelined_runner local_runner = {
	.abi = PIPELINED_RUNNER_ABI,
	.name = "local",
	.init = local_init,
	.start_runner = local_start_runner,
	.cancel = local_cancel,
	.stats = local_stats,
	.shutdown = local_shutdown,
	.reconfigure = local_reconfigure,
};

static const struct pipelined_runner eager_runner = {
	.abi = PIPELINED_RUNNER_ABI,
	.name = "eager",
	.init = eager_init,
	.start_runner = local_start_runner,
	.cancel = local_cancel,
	.stats = local_stats,
	.shutdown = local_shutdown,
	.reconfigure = local_reconfigure,
};

/* The parallel runner on this host. */
const struct pipelined_runner *
runner_local(void)
{
	return &local_runner;
}

/* The one-at-a-time runner. */
const struct pipelined_runner *
runner_eager(void)
{
	return &eager_runner;
}
