/*
 * The replay check, in the crash-simulation build only
 * (daemon/pipelined-crashsim; PIPELINED_REPLAY_CHECK=N): each time N more
 * records were written, the journal is flushed and read again from disk
 * into a fresh history, and every execution must look exactly as it does
 * live (its whole view, byte for byte: what `pipectl show --json` sends).
 * A difference is logged, execution and field, and stops the daemon
 * (abort).  PostgreSQL's wal_consistency_checking, for this journal.
 */
#include "config.h"

#ifndef PIPELINED_CRASHSIM
#error "replaycheck.c belongs to the crash-simulation build only"
#endif

#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"
#include "history.h"
#include "jcodec.h"
#include "journal.h"
#include "jscan.h"
#include "log.h"
#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "result.h"
#include "view.h"
#include "xmalloc.h"

#define REPLAYCHECK_POLL_MS	100

void	replaycheck_start(struct daemon *);

static struct {
	struct daemon	*d;
	struct event	*timer;
	uint64_t	 every;
	uint64_t	 next;		/* records written that trigger a check */
	uint64_t	 checks;
} rc;

static int
replaycheck_apply_cb(const struct jrec *r, void *arg)
{
	char	*err = NULL;

	if (jcodec_apply(arg, r, &err) == -1) {
		free(err);
		return -1;
	}
	return 0;
}

/* The view of e, packed: what is compared. */
static void
replaycheck_pack(const struct execution *e, struct buf *b)
{
	struct node	*v = view_execution(e, true);

	buf_init(b);
	proto_pack(b, v);
	node_free(v);
}

/* Say what differs between the live and the replayed view of e; abort. */
static void __attribute__((noreturn))
replaycheck_fail(const struct execution *live, const struct execution *again,
    const char *why)
{
	struct node	*a, *b;
	char		*ja = NULL, *jb = NULL;

	log_warnx("REPLAY CHECK FAILED after %" PRIu64 " checks: execution "
	    "%llu: %s", rc.checks, (unsigned long long)live->id, why);
	if (again != NULL) {
		a = view_execution(live, true);
		b = view_execution(again, true);
		ja = nodejson_encode(a);
		jb = nodejson_encode(b);
		log_warnx("replay check: live:     %s", ja);
		log_warnx("replay check: replayed: %s", jb);
		node_free(a);
		node_free(b);
	}
	free(ja);
	free(jb);
	abort();
}

/* Read the journal again and compare every execution with the live one. */
static void
replaycheck_run(struct daemon *d)
{
	struct history		*h;
	struct execution	*live, *again;
	struct journal_stats	 st;
	struct jscan		 scan;
	struct buf		 a, b;
	size_t			 i;
	char			*err = NULL;

	/*
	 * Everything live must be written: a flush tells the waiters for
	 * durability, and they may record more (a task they start).
	 */
	for (i = 0; i < 8; i++) {
		if (journal_flush(d->journal) == -1)
			return;		/* not writable now: the next time */
		journal_stats(d->journal, &st);
		if (st.pending == 0)
			break;
	}
	if (st.pending > 0)
		return;
	h = history_new();
	if (jscan_dir(journal_dir(d->journal), false, replaycheck_apply_cb, h,
	    &scan, &err) == -1) {
		log_warnx("replay check: %s", err);
		abort();
	}
	for (i = 0; i < scan.ndamage; i++)
		log_warnx("replay check: %s bytes %" PRIu64 "-%" PRIu64 ": %s",
		    scan.damage[i].file, scan.damage[i].start,
		    scan.damage[i].end, scan.damage[i].what);
	history_reserve_ids(h, 0);
	for (i = 0; i < history_count(h); i++)
		execution_recount(history_at(h, i));
	for (i = 0; i < history_count(d->hist); i++) {
		live = history_at(d->hist, i);
		if ((again = history_get(h, live->id)) == NULL)
			replaycheck_fail(live, NULL, "not in the journal");
		replaycheck_pack(live, &a);
		replaycheck_pack(again, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			replaycheck_fail(live, again, "replayed differently");
		buf_release(&a);
		buf_release(&b);
	}
	if (history_count(h) != history_count(d->hist)) {
		log_warnx("REPLAY CHECK FAILED: %zu executions live, %zu "
		    "replayed", history_count(d->hist), history_count(h));
		abort();
	}
	rc.checks++;
	log_info("replay check %" PRIu64 ": %zu executions, %" PRIu64
	    " records: identical", rc.checks, history_count(h), scan.records);
	jscan_clear(&scan);
	history_free(h);
}

static void
replaycheck_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct journal_stats	 st;
	struct timeval		 tv = { 0, REPLAYCHECK_POLL_MS * 1000 };

	if (rc.d->journal == NULL)
		return;
	journal_stats(rc.d->journal, &st);
	if (st.records_written >= rc.next) {
		replaycheck_run(rc.d);
		rc.next = st.records_written + rc.every;
	}
	evtimer_add(rc.timer, &tv);
}

/* Start checking, when PIPELINED_REPLAY_CHECK asks. */
void
replaycheck_start(struct daemon *d)
{
	const char	*s = getenv("PIPELINED_REPLAY_CHECK");
	struct timeval	 tv = { 0, REPLAYCHECK_POLL_MS * 1000 };

	if (s == NULL || (rc.every = strtoull(s, NULL, 10)) == 0)
		return;
	rc.d = d;
	rc.next = rc.every;
	rc.timer = evtimer_new(d->base, replaycheck_timer_cb, NULL);
	evtimer_add(rc.timer, &tv);
	log_info("replay check every %" PRIu64 " records", rc.every);
}
