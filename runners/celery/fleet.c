/*
 * Worker liveness.  Every Celery worker publishes worker.heartbeat every
 * 2 s (and worker.online, worker.offline) on /DB.celeryev/; a task whose
 * worker went silent for worker_timeout, went offline, or came back as a
 * new process (its earlier tasks died with the old one) is lost: without
 * this it would stay STARTED forever (docs/runners.md, Liveness).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "celery.h"

/* A worker heard from lately. */
struct fworker {
	char			*name;
	long long		 pid;		/* main process; 0: unknown */
	unsigned		 epoch;		/* bumped when pid changes */
	int64_t			 seen_ms;
	int64_t			 offline_ms;	/* 0: online */
	TAILQ_ENTRY(fworker)	 entry;
};

struct fleet {
	TAILQ_HEAD(, fworker)	 workers;
};

/*
 * Offline this long is gone: a worker whose broker connection was cut
 * says offline and online again at once when it is back, and a finishing
 * task's result comes before its worker's offline.
 */
#define FLEET_OFFLINE_GRACE_MS	5000

/* An empty table of workers. */
struct fleet *
fleet_new(void)
{
	struct fleet	*f;

	f = cx_calloc(1, sizeof *f);
	TAILQ_INIT(&f->workers);
	return f;
}

/* Free the table. */
void
fleet_free(struct fleet *f)
{
	struct fworker	*w;

	if (f == NULL)
		return;
	while ((w = TAILQ_FIRST(&f->workers)) != NULL) {
		TAILQ_REMOVE(&f->workers, w, entry);
		free(w->name);
		free(w);
	}
	free(f);
}

/* The worker called name, added when new. */
static struct fworker *
fleet_worker(struct fleet *f, const char *name, int64_t now_ms)
{
	struct fworker	*w;

	TAILQ_FOREACH(w, &f->workers, entry)
		if (strcmp(w->name, name) == 0)
			return w;
	w = cx_calloc(1, sizeof *w);
	w->name = cx_strdup(name);
	w->seen_ms = now_ms;
	TAILQ_INSERT_TAIL(&f->workers, w, entry);
	return w;
}

/* A worker event: "heartbeat", "online" or "offline". */
void
fleet_event(struct fleet *f, const char *type, const char *name,
    long long pid, int64_t now_ms)
{
	struct fworker	*w = fleet_worker(f, name, now_ms);

	if (pid != 0 && w->pid != 0 && pid != w->pid) {
		cx_log(1, "worker %s restarted (pid %lld, was %lld)", name,
		    pid, w->pid);
		w->epoch++;
	}
	if (pid != 0)
		w->pid = pid;
	w->seen_ms = now_ms;
	if (strcmp(type, "offline") == 0) {
		w->offline_ms = now_ms;
		cx_log(1, "worker %s went offline", name);
	} else {
		if (w->offline_ms != 0 || strcmp(type, "online") == 0)
			cx_log(1, "worker %s is online", name);
		w->offline_ms = 0;
	}
}

/*
 * A task started on worker name: it counts as alive from now on.  Returns
 * the epoch to compare later with.
 */
unsigned
fleet_seen(struct fleet *f, const char *name, int64_t now_ms)
{
	struct fworker	*w = fleet_worker(f, name, now_ms);

	if (w->offline_ms == 0 && now_ms > w->seen_ms)
		w->seen_ms = now_ms;
	return w->epoch;
}

/*
 * Why a task started on worker name in epoch is lost, or NULL while the
 * worker lives.
 */
const char *
fleet_lost(struct fleet *f, const char *name, unsigned epoch, int64_t now_ms,
    int64_t timeout_ms, char *buf, size_t len)
{
	struct fworker	*w = fleet_worker(f, name, now_ms);
	char		 d[32];

	if (w->epoch != epoch)
		snprintf(buf, len, "worker lost: %s restarted while it ran "
		    "the task", name);
	else if (w->offline_ms != 0 && now_ms - w->offline_ms >=
	    FLEET_OFFLINE_GRACE_MS)
		snprintf(buf, len, "worker lost: %s went offline while it "
		    "ran the task", name);
	else if (now_ms - w->seen_ms >= timeout_ms)
		snprintf(buf, len, "worker lost: no heartbeat from %s for %s",
		    name, cx_format_ms(timeout_ms, d, sizeof d));
	else
		return NULL;
	return buf;
}

/*
 * We were cut off from the broker: silence meanwhile proves nothing, so
 * every worker starts afresh.
 */
void
fleet_forgive(struct fleet *f, int64_t now_ms)
{
	struct fworker	*w;

	TAILQ_FOREACH(w, &f->workers, entry)
		if (w->offline_ms == 0)
			w->seen_ms = now_ms;
}
