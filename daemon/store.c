/*
 * The daemon's durable state: opening the journal and replaying it into
 * the history, what a restart does with executions left unfinished,
 * retention (gc), the durability barrier runners use, and the offline
 * check behind pipelined --verify.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "history.h"
#include "jcodec.h"
#include "journal.h"
#include "jscan.h"
#include "log.h"
#include "outlog.h"
#include "pipeline.h"
#include "reporter.h"
#include "result.h"
#include "runner.h"
#include "timefmt.h"
#include "xmalloc.h"

#ifdef PIPELINED_CRASHSIM
void	replaycheck_start(struct daemon *);
#endif

#define STORE_GC_INTERVAL_S	3600	/* retention runs this often */
#define STORE_DAY_US		(24LL * 3600 * 1000000)

static int
store_replay_cb(const struct jrec *r, void *arg)
{
	struct history	*h = arg;
	char		*err = NULL;

	if (jcodec_apply(h, r, &err) == -1) {
		log_warnx("journal: record %" PRIu64 " (%s): %s", r->seq,
		    jrec_type_name(r->type), err);
		free(err);
		return -1;
	}
	return 0;
}

/* Say what the scan found: loud for damage, quiet otherwise. */
static void
store_report(struct daemon *d, const struct jscan *s)
{
	const struct jdamage	*dm;
	size_t			 i;

	log_info("journal: %" PRIu64 " records in %zu segment%s%s%s, %zu "
	    "executions", s->records, s->segments, s->segments == 1 ? "" :
	    "s", s->snapshot != NULL ? " after snapshot " : "",
	    s->snapshot != NULL ? s->snapshot : "", history_count(d->hist));
	for (i = 0; i < s->ndamage; i++) {
		dm = &s->damage[i];
		if (dm->torn)
			log_warnx("journal: %s: torn tail at offset %" PRIu64
			    " (%" PRIu64 " bytes, %s) cut off and kept in "
			    "%s.broken-*", dm->file, dm->start,
			    dm->end - dm->start, dm->what, dm->file);
		else
			log_warnx("journal: DAMAGE in %s, bytes %" PRIu64 "-%"
			    PRIu64 " after record %" PRIu64 ": %s; skipped",
			    dm->file, dm->start, dm->end, dm->seq_before,
			    dm->what);
	}
	if (s->records > 0 && !s->clean_shutdown)
		log_warnx("journal: the last run did not stop cleanly");
}

/* Lock the state directory, replay the journal, keep it for writing. */
int
store_open(struct daemon *d, char **err)
{
	struct execution	*e;
	size_t			 i;

	d->journal = journal_open(d->opts.state_dir, d->opts.journal_sync,
	    JOURNAL_PAD, d->base, store_replay_cb, d->hist, &d->scan, err);
	if (d->journal == NULL)
		return errno == EWOULDBLOCK ? JOURNAL_LOCKED : 1;
	store_report(d, &d->scan);
	history_reserve_ids(d->hist, 0);
	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		reporter_attach(d->rep, e);
		execution_recount(e);
	}
	history_set_journal(d->hist, d->journal);
#ifdef PIPELINED_CRASHSIM
	replaycheck_start(d);	/* replaycheck.c */
#endif
	return 0;
}

/*
 * An unfinished execution after a crash: what was running may have run,
 * so it is not run again but recorded as interrupted; then the rules go
 * on from there (its runner resumes it).
 */
static void
store_resume_one(struct daemon *d, struct execution *e)
{
	const char		*why = "interrupted: daemon restarted";
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct runner		*run;
	int64_t			 now = timefmt_now_us();
	uint32_t		 i, t, k;
	char			*err = NULL;

	if (!e->r.sealed) {
		/* Its pipeline iterator command was running. */
		result_set(&e->r, STATUS_RUNTIME_ERROR, why, now);
		return;
	}
	for (i = 0; i < e->nresults; i++) {
		pr = e->results[i];
		for (t = 0; t < e->def->ntasks; t++) {
			te = &pr->tasks[t];
			for (k = 0; k < te->ninst; k++)
				if (te->inst[k]->r.status == STATUS_RUNNING)
					result_set(&te->inst[k]->r,
					    STATUS_RUNTIME_ERROR, why, now);
			if (!te->r.sealed && te->r.status == STATUS_RUNNING)
				result_set(&te->r, STATUS_RUNTIME_ERROR, why,
				    now);
			/*
			 * A power loss may keep a later write and lose an
			 * earlier one: the end of every child, not its
			 * parent's.  Nothing would finish that parent.
			 */
			if (te->r.sealed)
				result_seal(&te->r, now);
		}
		if (pr->r.sealed)
			result_seal(&pr->r, now);
	}
	result_seal(&e->r, now);
	if (result_is_final(&e->r))
		return;
	if ((run = runner_find(e->runner)) == NULL) {
		result_set(&e->r, STATUS_CONFIG_ERROR, "its runner is not loaded "
		    "any more", now);
		return;
	}
	log_info("execution %llu: resuming after a restart",
	    (unsigned long long)e->id);
	if (run->ops->start_runner(run->state, e, d->rep, &err) != 0) {
		if (!result_is_final(&e->r))
			result_set(&e->r, STATUS_CONFIG_ERROR, err != NULL ? err :
			    "the runner refused it", now);
		free(err);
	}
}

/* Resume every unfinished execution. */
void
store_resume(struct daemon *d)
{
	struct execution	*e;
	size_t			 i;

	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		if (!result_is_final(&e->r))
			store_resume_one(d, e);
	}
}

static int
store_id_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Compaction keeps every execution not on the (sorted) list to remove. */
static bool
store_gc_keep(const struct execution *e, void *arg)
{
	struct daemon	*d = arg;

	return bsearch(&e->id, d->gc_gone, d->gc_ngone, sizeof *d->gc_gone,
	    store_id_cmp) == NULL;
}

/*
 * Remove final executions completed before before_us (0: the retention's
 * cut) and the oldest final ones beyond max_executions, with their logs.
 * Returns how many went, or -1 with *err set.
 */
long
store_gc(struct daemon *d, int64_t before_us, char **err)
{
	struct execution	*e;
	size_t			 i, n = 0, total = history_count(d->hist);
	size_t			 excess = 0;
	int			 rc;

	if (before_us == 0)
		before_us = timefmt_now_us() -
		    (int64_t)d->opts.retention_days * STORE_DAY_US;
	if (d->opts.max_executions > 0 && total > d->opts.max_executions)
		excess = total - d->opts.max_executions;
	d->gc_gone = xreallocarray(NULL, total + 1, sizeof *d->gc_gone);
	/* Oldest first: the excess goes from the front. */
	for (i = 0; i < total; i++) {
		e = history_at(d->hist, i);
		if (!result_is_final(&e->r))
			continue;
		if (e->r.completed_us < before_us || n < excess)
			d->gc_gone[n++] = e->id;
	}
	d->gc_ngone = n;
	rc = n > 0 ? journal_compact(d->journal, d->hist, store_gc_keep, d,
	    err) : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		stream_forget(history_get(d->hist, d->gc_gone[i]));
		history_remove(d->hist, d->gc_gone[i]);
		outlog_remove(d->opts.state_dir,
		    (unsigned long long)d->gc_gone[i]);
	}
	free(d->gc_gone);
	d->gc_gone = NULL;
	d->gc_ngone = 0;
	if (rc == -1)
		return -1;
	if (n > 0)
		log_info("gc: removed %zu execution%s", n, n == 1 ? "" : "s");
	return (long)n;
}

static void
store_gc_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { STORE_GC_INTERVAL_S, 0 };
	char		*err = NULL;

	if (store_gc(d, 0, &err) == -1) {
		log_warnx("gc: %s", err);
		free(err);
	}
	evtimer_add(d->gc_timer, &tv);
}

/* Apply the retention now and every STORE_GC_INTERVAL_S from now on. */
void
store_start_gc(struct daemon *d)
{
	d->gc_timer = evtimer_new(d->base, store_gc_timer_cb, d);
	store_gc_timer_cb(-1, 0, d);
}

/* The runners' barrier: what was recorded is durable before effects. */
static void
store_when_durable(void (*cb)(bool, void *), void *arg)
{
	journal_when_durable(daemon_g->journal, cb, arg);
}

static bool
store_can_start(void)
{
	return journal_available(daemon_g->journal);
}

/* Give the runners the journal's barrier. */
void
store_runner_config(struct daemon *d, struct runner_config *rc)
{
	rc->when_durable = store_when_durable;
	rc->can_start = store_can_start;
}

/* Stop writing: a clean shutdown when every execution is final. */
void
store_close(struct daemon *d)
{
	struct execution	*e;
	bool			 clean = true;
	size_t			 i;

	if (d->journal == NULL)
		return;
	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		clean &= result_is_final(&e->r);
	}
	if (d->gc_timer != NULL)
		event_free(d->gc_timer);
	journal_close(d->journal, clean);
	d->journal = NULL;
	jscan_clear(&d->scan);
}

/*
 * pipelined --verify: read the journal without changing it, say what was
 * found, and exit non-zero on any damage (a torn tail included).
 */
int
store_verify(const char *state_dir)
{
	struct history	*h = history_new();
	struct jscan	 s;
	char		*dir, *err = NULL;
	size_t		 i, unfinished = 0;
	int		 rc;

	dir = xprintf("%s/journal", state_dir);
	if (jscan_dir(dir, false, store_replay_cb, h, &s, &err) == -1) {
		fprintf(stderr, "pipelined: %s\n", err);
		free(err);
		free(dir);
		history_free(h);
		return 1;
	}
	for (i = 0; i < history_count(h); i++)
		if (!result_is_final(&history_at(h, i)->r))
			unfinished++;
	printf("%s: %" PRIu64 " records (%" PRIu64 " to %" PRIu64 ") in %zu "
	    "segment%s%s%s, %" PRIu64 " bytes\n", dir, s.records,
	    s.first_seq, s.last_seq, s.segments, s.segments == 1 ? "" : "s",
	    s.snapshot != NULL ? " after snapshot " : "",
	    s.snapshot != NULL ? s.snapshot : "", s.bytes);
	printf("executions: %zu (%zu unfinished), next id %llu\n",
	    history_count(h), unfinished,
	    (unsigned long long)history_next_id(h));
	printf("last run stopped %s\n", s.records == 0 ? "(no records)" :
	    s.clean_shutdown ? "cleanly" : "without a clean shutdown");
	for (i = 0; i < s.ndamage; i++)
		printf("damage: %s bytes %" PRIu64 "-%" PRIu64 " after record %"
		    PRIu64 ": %s%s\n", s.damage[i].file, s.damage[i].start,
		    s.damage[i].end, s.damage[i].seq_before, s.damage[i].what,
		    s.damage[i].torn ? " (torn tail)" : "");
	rc = s.ndamage > 0 ? 1 : 0;
	printf("%s\n", rc == 0 ? "no damage" : "DAMAGED");
	jscan_clear(&s);
	history_free(h);
	free(dir);
	return rc;
}
