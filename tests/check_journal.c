/*
 * Unit tests for lib/journal.c, lib/jcompact.c and lib/jcodec.c, the
 * journal writer and what replay makes of its records: the state
 * directory's lock (a second open fails naming the holder's pid); group
 * commit (many appends, one write, one sync) and the three sync modes;
 * durability callbacks; a write the disk refuses half way (the file is cut
 * back to its last good end, waiters are told, the records are kept and
 * written with contiguous seqs once the retry works); journal_forget();
 * rotation; a clean close; replay through jcodec_apply() rebuilding every
 * execution exactly (view_execution() trees compared); compaction (what
 * keep() says and every unfinished execution kept, covered segments gone,
 * a damaged one moved to journal/damaged/, the same history after) and ids
 * that never go back after gc removed the newest executions; padding (every
 * write ends on JOURNAL_PAD, PAD records never delivered, replay the same);
 * the .tmp files a crash left removed at the next open.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "journal.h"
#include "journal_int.h"
#include "jsample.h"
#include "jscan.h"
#include "log.h"
#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "result.h"
#include "status.h"
#include "view.h"
#include "xmalloc.h"

/* One open journal in a fresh state directory. */
struct jt {
	char			*state;
	char			*jdir;
	struct event_base	*base;
	struct journal		*j;
	struct jscan		 scan;
	size_t			 pad;		/* journal_open()'s */
};

/* Records a scan delivered. */
struct recs {
	uint64_t	 seq[512];
	uint8_t		 type[512];
	int64_t		 exec[512];
	size_t		 n;
};

/* Log hook: tests print nothing (and write no file under RLIMIT_FSIZE). */
static void
quiet_log(enum log_level l, const char *line, void *arg)
{
}

/* Replay callback: accept everything. */
static int
accept_cb(const struct jrec *r, void *arg)
{
	return 0;
}

/* Replay callback: rebuild a history. */
static int
apply_cb(const struct jrec *r, void *arg)
{
	char	*err = NULL;

	if (jcodec_apply(arg, r, &err) == -1) {
		fprintf(stderr, "record %llu: %s\n", (unsigned long long)r->seq,
		    err);
		free(err);
		return -1;
	}
	return 0;
}

/* Scan callback: note seq, type and the "execution" field. */
static int
recs_cb(const struct jrec *r, void *arg)
{
	struct recs		*l = arg;
	struct proto_limits	 lim;
	struct node		*m;
	char			*err = NULL;

	ck_assert_uint_lt(l->n, 512);
	l->seq[l->n] = r->seq;
	l->type[l->n] = r->type;
	proto_limits_default(&lim);
	m = proto_decode(r->payload, r->len, &lim, &err);
	ck_assert_ptr_nonnull(m);
	if (proto_get_int(m, "execution", &l->exec[l->n]) == -1)
		l->exec[l->n] = 0;
	node_free(m);
	l->n++;
	return 0;
}

/* Open a journal in a new state directory (or t->state when set). */
static void
jt_open(struct jt *t, enum journal_sync sync, jscan_cb cb, void *arg)
{
	char	*err = NULL;

	if (t->state == NULL) {
		t->state = js_tmpdir("journal");
		t->jdir = xprintf("%s/journal", t->state);
	}
	t->base = js_base();
	t->j = journal_open(t->state, sync, t->pad, t->base, cb != NULL ? cb :
	    accept_cb, arg, &t->scan, &err);
	ck_assert_msg(t->j != NULL, "journal_open: %s", err);
}

/* Close the journal (clean or not), keeping the directory. */
static void
jt_close(struct jt *t, bool clean)
{
	journal_close(t->j, clean);
	t->j = NULL;
	jscan_clear(&t->scan);
	event_base_free(t->base);
	t->base = NULL;
}

/* Remove the state directory. */
static void
jt_free(struct jt *t)
{
	if (t->j != NULL)
		jt_close(t, false);
	js_rmtree(t->state);
	free(t->state);
	free(t->jdir);
	memset(t, 0, sizeof *t);
}

/* Append a record {execution: exec, n: n} about exec. */
static void
put(struct journal *j, uint8_t type, uint64_t exec, int64_t n)
{
	struct node	*m = node_new(NODE_MAP);

	node_map_set_str(m, "execution", node_new_int((int64_t)exec));
	node_map_set_str(m, "n", node_new_int(n));
	node_map_set_str(m, "pad", node_new_str("........................"
	    "........................................", 64));
	journal_append(j, type, exec, m);
	node_free(m);
}

/* Scan t's journal into l; the scan is kept in *sc. */
static void
rescan(struct jt *t, struct recs *l, struct jscan *sc)
{
	char	*err = NULL;

	memset(l, 0, sizeof *l);
	ck_assert_int_eq(jscan_dir(t->jdir, false, recs_cb, l, sc, &err), 0);
}

/* Seqs from..from+n-1, in order, nothing missing. */
static void
assert_contiguous(const struct recs *l, uint64_t from)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		ck_assert_uint_eq(l->seq[i], from + i);
}

struct done {
	int	calls;
	int	ok;
};

/* journal_when_durable() callback. */
static void
done_cb(bool ok, void *arg)
{
	struct done	*d = arg;

	d->calls++;
	d->ok += ok;
}

/* A second daemon on the same state directory is refused, naming us. */
START_TEST(test_lock)
{
	struct jt	 t = { 0 };
	struct jscan	 scan;
	struct journal	*j2;
	char		*err = NULL, want[64];

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	errno = 0;
	j2 = journal_open(t.state, JOURNAL_SYNC_BATCH, 0, t.base, accept_cb,
	    NULL, &scan, &err);
	ck_assert_ptr_null(j2);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_ptr_nonnull(err);
	snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, t.state));
	free(err);
	jt_close(&t, true);
	/* Once closed, the directory opens again. */
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	jt_free(&t);
}
END_TEST

/* N appends in one turn: one commit, one sync; waiters told after it. */
START_TEST(test_group_commit)
{
	struct jt		t = { 0 };
	struct journal_stats	a, b;
	struct done		d = { 0, 0 };
	struct recs		l;
	struct jscan		sc;
	int			i;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	journal_stats(t.j, &a);
	for (i = 0; i < 20; i++)
		put(t.j, JREC_STATUS, 1, i);
	journal_when_durable(t.j, done_cb, &d);
	ck_assert_int_eq(d.calls, 0);		/* never from inside */
	journal_stats(t.j, &b);
	ck_assert_uint_eq(b.records_written, a.records_written);
	/* The end of the turn writes; the sync thread then reports back. */
	event_base_loop(t.base, EVLOOP_NONBLOCK);
	journal_stats(t.j, &b);
	ck_assert_uint_eq(b.records_written - a.records_written, 20);
	while (d.calls == 0)
		event_base_loop(t.base, EVLOOP_ONCE);
	journal_stats(t.j, &b);
	ck_assert_uint_eq(b.commits - a.commits, 1);
	ck_assert_uint_eq(b.syncs - a.syncs, 1);
	ck_assert_uint_eq(b.last_seq, 20);
	ck_assert_ptr_null(b.error);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.ok, 1);
	/* A turn with nothing new commits nothing. */
	event_base_loop(t.base, EVLOOP_NONBLOCK);
	journal_stats(t.j, &a);
	ck_assert_uint_eq(a.commits, b.commits);
	/* A waiter with nothing pending is told at the next commit. */
	journal_when_durable(t.j, done_cb, &d);
	ck_assert_int_eq(journal_flush(t.j), 0);
	ck_assert_int_eq(d.calls, 2);
	ck_assert_int_eq(d.ok, 2);
	jt_close(&t, false);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(l.n, 20);
	assert_contiguous(&l, 1);
	ck_assert(!sc.clean_shutdown);
	jscan_clear(&sc);
	jt_free(&t);
}
END_TEST

/* always: a sync per record; off: none. */
START_TEST(test_sync_modes)
{
	struct jt		t = { 0 };
	struct journal_stats	a, b;
	enum journal_sync	s;
	int			i;

	ck_assert_int_eq(journal_sync_from_name("always", &s), 0);
	ck_assert_int_eq(s, JOURNAL_SYNC_ALWAYS);
	ck_assert_int_eq(journal_sync_from_name("sometimes", &s), -1);
	ck_assert_str_eq(journal_sync_name(JOURNAL_SYNC_OFF), "off");
	jt_open(&t, JOURNAL_SYNC_ALWAYS, NULL, NULL);
	journal_stats(t.j, &a);
	for (i = 0; i < 5; i++)
		put(t.j, JREC_STATUS, 1, i);
	journal_stats(t.j, &b);			/* no turn needed */
	ck_assert_uint_eq(b.records_written - a.records_written, 5);
	ck_assert_uint_eq(b.syncs - a.syncs, 5);
	ck_assert_uint_eq(b.commits - a.commits, 5);
	jt_close(&t, false);
	jt_open(&t, JOURNAL_SYNC_OFF, NULL, NULL);
	journal_stats(t.j, &a);
	for (i = 0; i < 5; i++)
		put(t.j, JREC_STATUS, 1, i);
	ck_assert_int_eq(journal_flush(t.j), 0);
	journal_stats(t.j, &b);
	ck_assert_uint_eq(b.records_written - a.records_written, 5);
	ck_assert_uint_eq(b.syncs - a.syncs, 0);
	ck_assert_uint_eq(b.commits - a.commits, 1);
	ck_assert_uint_eq(b.last_seq, 10);
	jt_free(&t);
}
END_TEST

/*
 * A write cut short by the disk (RLIMIT_FSIZE: part written, then
 * EFBIG): cut back, waiters told, records kept, written by the retry.
 */
START_TEST(test_write_failure)
{
	struct jt		t = { 0 };
	struct journal_stats	st;
	struct rlimit		old, lim;
	struct timeval		tv = { 1, 500000 };
	struct done		d = { 0, 0 };
	struct recs		l;
	struct jscan		sc;
	off_t			good, after;
	size_t			pending;
	int			rc, i;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	for (i = 0; i < 3; i++)
		put(t.j, JREC_STATUS, 1, i);
	ck_assert_int_eq(journal_flush(t.j), 0);
	good = js_size(t.jdir, t.j->seg_name);
	ck_assert_int_eq(good, t.j->end);
	for (i = 3; i < 6; i++)
		put(t.j, JREC_STATUS, 2, i);
	journal_when_durable(t.j, done_cb, &d);
	/* Room for a part of the batch only; no check calls until undone. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)good + 50;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = journal_flush(t.j);
	after = js_size(t.jdir, t.j->seg_name);
	pending = t.j->npending;
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(after, good);		/* cut back */
	ck_assert_int_eq(pending, 3);		/* kept */
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.ok, 0);
	ck_assert(!journal_available(t.j));
	journal_stats(t.j, &st);
	ck_assert_ptr_nonnull(st.error);
	ck_assert_uint_eq(st.last_seq, 3);
	/* More comes while unavailable; the retry (a second) writes all. */
	put(t.j, JREC_STATUS, 3, 6);
	journal_when_durable(t.j, done_cb, &d);
	event_base_loopexit(t.base, &tv);
	event_base_dispatch(t.base);
	ck_assert(journal_available(t.j));
	ck_assert_int_eq(d.calls, 2);
	ck_assert_int_eq(d.ok, 1);
	journal_stats(t.j, &st);
	ck_assert_ptr_null(st.error);
	ck_assert_uint_eq(st.last_seq, 7);
	jt_close(&t, true);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(l.n, 8);
	assert_contiguous(&l, 1);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(l.exec[i], i < 3 ? 1 : i < 6 ? 2 : 3);
	ck_assert_uint_eq(sc.ndamage, 0);
	ck_assert(sc.clean_shutdown);
	jscan_clear(&sc);
	jt_free(&t);
}
END_TEST

/*
 * A failed batch that held only a submission, which its caller then
 * dropped (journal_forget): the retry finds nothing to write, and the
 * journal must take submissions again, not stay unavailable for good.
 */
START_TEST(test_write_failure_forgotten)
{
	struct jt		t = { 0 };
	struct rlimit		old, lim;
	struct timeval		tv = { 1, 500000 };
	struct recs		l;
	struct jscan		sc;
	off_t			good;
	int			rc;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	put(t.j, JREC_EXEC_CREATED, 1, 0);
	ck_assert_int_eq(journal_flush(t.j), 0);
	good = js_size(t.jdir, t.j->seg_name);
	put(t.j, JREC_EXEC_CREATED, 2, 1);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)good + 10;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = journal_flush(t.j);
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(rc, -1);
	ck_assert(!journal_available(t.j));
	journal_forget(t.j, 2);
	event_base_loopexit(t.base, &tv);
	event_base_dispatch(t.base);
	ck_assert(journal_available(t.j));
	put(t.j, JREC_EXEC_CREATED, 3, 2);
	ck_assert_int_eq(journal_flush(t.j), 0);
	jt_close(&t, false);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(l.n, 2);
	assert_contiguous(&l, 1);
	ck_assert_int_eq(l.exec[1], 3);
	jscan_clear(&sc);
	jt_free(&t);
}
END_TEST

/* journal_forget() drops one execution's buffered records only. */
START_TEST(test_forget)
{
	struct jt	t = { 0 };
	struct recs	l;
	struct jscan	sc;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	put(t.j, JREC_EXEC_CREATED, 1, 0);
	ck_assert_int_eq(journal_flush(t.j), 0);
	put(t.j, JREC_EXEC_CREATED, 2, 1);
	put(t.j, JREC_STATUS, 1, 2);
	put(t.j, JREC_REPORTER, 2, 3);
	put(t.j, JREC_EXEC_CREATED, 3, 4);
	journal_forget(t.j, 2);
	journal_forget(t.j, 99);
	ck_assert_int_eq(journal_flush(t.j), 0);
	jt_close(&t, false);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(l.n, 3);
	assert_contiguous(&l, 1);
	ck_assert_int_eq(l.exec[0], 1);
	ck_assert_int_eq(l.exec[1], 1);
	ck_assert_int_eq(l.type[1], JREC_STATUS);
	ck_assert_int_eq(l.exec[2], 3);
	jscan_clear(&sc);
	jt_free(&t);
}
END_TEST

/* Rotation: SEGMENT_END closes the old segment, seqs go on. */
START_TEST(test_rotation)
{
	struct jseg_header	 h;
	struct jt		 t = { 0 };
	struct js_sample	 s;
	struct recs		 l;
	struct jscan		 sc;
	int			 i;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	for (i = 0; i < 4; i++)
		put(t.j, JREC_STATUS, 1, i);
	ck_assert_int_eq(journal_flush(t.j), 0);
	journal_rotate(t.j);
	ck_assert_str_eq(t.j->seg_name, "seg-0000000000000006.pjl");
	put(t.j, JREC_STATUS, 1, 9);
	jt_close(&t, true);
	js_load(&s, t.jdir);
	ck_assert_uint_eq(s.nfiles, 2);
	ck_assert_str_eq(s.files[0].name, "seg-0000000000000001.pjl");
	ck_assert_uint_eq(s.files[0].nrec, 5);
	ck_assert_int_eq(s.recs[4].type, JREC_SEGMENT_END);
	ck_assert_int_eq(jseg_header_parse(s.files[1].data, &h), 0);
	ck_assert_uint_eq(h.segment_no, 2);
	ck_assert_uint_eq(h.first_seq, 6);
	ck_assert_mem_eq(h.journal_id, s.files[0].data + 32, 16);
	js_free(&s);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(l.n, 7);		/* ... 9, CLEAN_SHUTDOWN */
	assert_contiguous(&l, 1);
	ck_assert_uint_eq(sc.ndamage, 0);
	ck_assert_uint_eq(sc.segments, 2);
	ck_assert_uint_eq(sc.max_segment_no, 2);
	ck_assert(sc.clean_shutdown);
	jscan_clear(&sc);
	/* A new run never appends to an old segment. */
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	ck_assert_str_eq(t.j->seg_name, "seg-0000000000000008.pjl");
	ck_assert_uint_eq(t.scan.last_seq, 7);
	jt_free(&t);
}
END_TEST

/* The same executions, compared as "show --json" trees. */
static void
assert_same_history(struct history *a, struct history *b)
{
	struct node	*va, *vb;
	char		*ja, *jb;
	size_t		 i;

	ck_assert_uint_eq(history_count(a), history_count(b));
	ck_assert_uint_eq(history_next_id(a), history_next_id(b));
	for (i = 0; i < history_count(a); i++) {
		execution_recount(history_at(b, i));
		va = view_execution(history_at(a, i), true);
		vb = view_execution(history_at(b, i), true);
		if (!node_equal(va, vb)) {
			ja = nodejson_encode(va);
			jb = nodejson_encode(vb);
			fprintf(stderr, "written:  %s\nreplayed: %s\n", ja, jb);
			ck_abort_msg("execution %zu differs (see above)", i);
		}
		ck_assert(result_is_final(&history_at(a, i)->r) ==
		    result_is_final(&history_at(b, i)->r));
		node_free(va);
		node_free(vb);
	}
}

/* Replay rebuilds what was written, snapshot and segments alike. */
START_TEST(test_replay)
{
	struct history	*h, *h2;
	struct jscan	 sc;
	char		*state = js_tmpdir("replay"), *jdir, *err = NULL;

	js_build(state, &h);
	ck_assert_uint_eq(history_count(h), 12);
	jdir = xprintf("%s/journal", state);
	h2 = history_new();
	ck_assert_int_eq(jscan_dir(jdir, false, apply_cb, h2, &sc, &err), 0);
	ck_assert_uint_eq(sc.ndamage, 0);
	ck_assert_ptr_nonnull(sc.snapshot);
	assert_same_history(h, h2);
	jscan_clear(&sc);
	history_free(h);
	history_free(h2);
	js_rmtree(state);
	free(state);
	free(jdir);
}
END_TEST

/* Keep odd ids (and, whatever this says, every unfinished execution). */
static bool
keep_odd(const struct execution *e, void *arg)
{
	return e->id % 2 == 1;
}

/* Drop from h what compaction did not keep, as store_gc() does. */
static void
drop_unkept(struct history *h, bool (*keep)(const struct execution *,
    void *), void *arg)
{
	struct execution	*e;
	size_t			 i;

	for (i = history_count(h); i-- > 0;) {
		e = history_at(h, i);
		if (result_is_final(&e->r) && !keep(e, arg))
			history_remove(h, e->id);
	}
}

/* Compaction: what keep() says, unfinished ones, the same history after. */
START_TEST(test_compaction)
{
	struct jt	 t = { 0 };
	struct history	*h = history_new(), *h2;
	struct js_sample s;
	struct jscan	 sc;
	char		*err = NULL;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	history_set_journal(h, t.j);
	js_work(h, t.j, 6, JS_T0);
	journal_rotate(t.j);
	js_work(h, t.j, 2, JS_T0 + 10000000000LL);
	ck_assert(!result_is_final(&history_get(h, 6)->r));
	ck_assert(result_is_final(&history_get(h, 4)->r));
	ck_assert_int_eq(journal_compact(t.j, h, keep_odd, NULL, &err), 0);
	drop_unkept(h, keep_odd, NULL);
	ck_assert_uint_eq(history_count(h), 5);	/* 1 3 5 6 7 */
	ck_assert_ptr_nonnull(history_get(h, 6));
	/* The snapshot and the segment it does not cover, nothing else. */
	js_load(&s, t.jdir);
	ck_assert_uint_eq(s.nfiles, 2);
	ck_assert(s.files[0].snapshot);
	ck_assert_str_eq(s.files[1].name, t.j->seg_name);
	ck_assert_uint_eq(s.files[1].nrec, 0);
	js_free(&s);
	/* Changes after it go on in the new segment. */
	js_run(history_get(h, 6), JS_T0 + 20000000000LL, false, true);
	ck_assert_int_eq(journal_flush(t.j), 0);
	history_set_journal(h, NULL);
	jt_close(&t, true);
	h2 = history_new();
	ck_assert_int_eq(jscan_dir(t.jdir, false, apply_cb, h2, &sc, &err), 0);
	ck_assert_uint_eq(sc.ndamage, 0);
	assert_same_history(h, h2);
	jscan_clear(&sc);
	history_free(h);
	history_free(h2);
	jt_free(&t);
}
END_TEST

/* Keep ids up to *arg. */
static bool
keep_upto(const struct execution *e, void *arg)
{
	return e->id <= *(uint64_t *)arg;
}

/* A gc that removed the newest executions never gives their ids again. */
START_TEST(test_ids_after_gc)
{
	struct jt		 t = { 0 };
	struct history		*h = history_new(), *h2;
	struct execution	*e;
	uint64_t		 upto = 3;
	char			*err = NULL;
	int			 i;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	history_set_journal(h, t.j);
	for (i = 0; i < 5; i++) {
		e = js_submit(h, js_yaml, JS_T0 + i);
		js_run(e, JS_T0 + i, false, true);
		ck_assert(result_is_final(&e->r));
	}
	ck_assert_int_eq(journal_compact(t.j, h, keep_upto, &upto, &err), 0);
	drop_unkept(h, keep_upto, &upto);
	ck_assert_uint_eq(history_count(h), 3);
	ck_assert_uint_eq(history_next_id(h), 6);
	history_set_journal(h, NULL);
	jt_close(&t, true);
	h2 = history_new();
	jt_open(&t, JOURNAL_SYNC_BATCH, apply_cb, h2);
	assert_same_history(h, h2);
	ck_assert_uint_eq(history_next_id(h2), 6);
	history_set_journal(h2, t.j);
	e = js_submit(h2, js_yaml, JS_T0 + 100);
	ck_assert_uint_eq(e->id, 6);
	history_set_journal(h2, NULL);
	history_free(h);
	history_free(h2);
	jt_free(&t);
}
END_TEST

/*
 * T6 and compaction: mid-log damage is reported at open, writing goes to a
 * new segment, and the next compaction moves the damaged segment to
 * journal/damaged/ and keeps what the replay had.
 */
START_TEST(test_compaction_damaged)
{
	struct jt	 t = { 0 };
	struct history	*h = history_new(), *h2;
	struct js_sample s;
	struct jscan	 sc;
	uint8_t		 junk[1024];
	char		*err = NULL, *path, first[64];
	size_t		 i;
	int		 fd;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	history_set_journal(h, t.j);
	js_work(h, t.j, 3, JS_T0);
	journal_rotate(t.j);
	js_work(h, t.j, 3, JS_T0 + 10000000000LL);
	history_set_journal(h, NULL);
	jt_close(&t, true);
	history_free(h);
	/* Garbage in the middle of the older segment. */
	js_load(&s, t.jdir);
	strlcpy(first, s.files[0].name, sizeof first);
	for (i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	path = xprintf("%s/%s", t.jdir, first);
	ck_assert_int_ne(fd = open(path, O_WRONLY), -1);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk,
	    (off_t)s.files[0].len / 2), (ssize_t)sizeof junk);
	close(fd);
	h = history_new();
	jt_open(&t, JOURNAL_SYNC_BATCH, apply_cb, h);
	ck_assert(jscan_damaged(&t.scan));
	ck_assert_str_eq(t.scan.damage[0].file, first);
	ck_assert_str_ne(t.j->seg_name, first);
	ck_assert_int_eq(js_size(t.jdir, first), (off_t)s.files[0].len);
	for (i = 0; i < history_count(h); i++)
		execution_recount(history_at(h, i));
	history_set_journal(h, t.j);
	ck_assert_int_eq(journal_compact(t.j, h, keep_odd, NULL, &err), 0);
	drop_unkept(h, keep_odd, NULL);
	ck_assert_int_eq(js_size(t.jdir, first), -1);
	free(path);
	path = xprintf("%s/damaged", t.jdir);
	ck_assert_int_eq(js_size(path, first), (off_t)s.files[0].len);
	js_free(&s);
	history_set_journal(h, NULL);
	jt_close(&t, true);
	h2 = history_new();
	ck_assert_int_eq(jscan_dir(t.jdir, false, apply_cb, h2, &sc, &err), 0);
	ck_assert_uint_eq(sc.ndamage, 0);
	assert_same_history(h, h2);
	jscan_clear(&sc);
	history_free(h);
	history_free(h2);
	free(path);
	jt_free(&t);
}
END_TEST

/* A newest segment cut inside its header: the next open replaces it. */
START_TEST(test_torn_header_healed)
{
	struct jt	 t = { 0 };
	struct recs	 l;
	struct jscan	 sc;
	char		*path;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	put(t.j, JREC_STATUS, 1, 0);
	journal_rotate(t.j);
	jt_close(&t, false);
	path = xprintf("%s/seg-0000000000000003.pjl", t.jdir);
	ck_assert_int_eq(truncate(path, 30), 0);
	free(path);
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	ck_assert_uint_eq(t.scan.ndamage, 1);
	ck_assert(t.scan.damage[0].torn);
	ck_assert(!jscan_damaged(&t.scan));
	ck_assert_str_eq(t.j->seg_name, "seg-0000000000000003.pjl");
	put(t.j, JREC_STATUS, 1, 1);
	jt_close(&t, true);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(sc.ndamage, 0);
	ck_assert_uint_eq(l.n, 4);
	assert_contiguous(&l, 1);
	jscan_clear(&sc);
	jt_free(&t);
}
END_TEST

/*
 * Padding, as the daemon writes: the header and every batch end on a
 * multiple of JOURNAL_PAD (a batch bigger than it too); the PAD records
 * are not delivered and take no sequence number; the clean shutdown is
 * still the last record; after a reopen every record is read back and the
 * new segment starts padded.
 */
START_TEST(test_padding)
{
	struct jt	 t = { 0 };
	struct recs	 l;
	struct jscan	 sc;
	struct stat	 st;
	char		*path;
	off_t		 end;
	int		 i;

	t.pad = JOURNAL_PAD;
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	ck_assert_int_eq(t.j->end, JOURNAL_PAD);
	for (i = 1; i <= 3; i++) {
		put(t.j, JREC_STATUS, 1, i);
		ck_assert_int_eq(journal_flush(t.j), 0);
		ck_assert_int_eq(t.j->end, (off_t)(i + 1) * JOURNAL_PAD);
	}
	for (i = 0; i < 60; i++)
		put(t.j, JREC_STATUS, 1, 100 + i);
	ck_assert_int_eq(journal_flush(t.j), 0);
	ck_assert_int_gt(t.j->end, 5 * JOURNAL_PAD);
	ck_assert_int_eq(t.j->end % JOURNAL_PAD, 0);
	end = t.j->end;
	path = xprintf("%s/%s", t.jdir, t.j->seg_name);
	jt_close(&t, true);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, end + JOURNAL_PAD);	/* the shutdown */
	free(path);
	rescan(&t, &l, &sc);
	ck_assert_uint_eq(sc.ndamage, 0);
	ck_assert_uint_eq(l.n, 3 + 60 + 1);
	assert_contiguous(&l, 1);
	ck_assert_uint_eq(l.type[l.n - 1], JREC_CLEAN_SHUTDOWN);
	ck_assert(sc.clean_shutdown);
	ck_assert_uint_eq(sc.records, 64);
	jscan_clear(&sc);
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	ck_assert_uint_eq(t.scan.records, 64);
	ck_assert(t.scan.clean_shutdown);
	ck_assert_int_eq(t.j->end, JOURNAL_PAD);
	jt_free(&t);
}
END_TEST

/*
 * What a crash left half made, a snapshot's and a segment's .tmp, is
 * removed at the next open; other files are left alone.
 */
START_TEST(test_leftover_tmp_removed)
{
	struct jt	 t = { 0 };
	struct stat	 st;
	const char	*names[] = { "snap-000000000000000a.pjl.tmp",
			    "seg-000000000000000b.pjl.tmp", "notes.tmp" };
	char		*path[3];
	size_t		 i;
	int		 fd;

	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	put(t.j, JREC_STATUS, 1, 0);
	jt_close(&t, true);
	for (i = 0; i < 3; i++) {
		path[i] = xprintf("%s/%s", t.jdir, names[i]);
		fd = open(path[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ne(fd, -1);
		ck_assert_int_eq(write(fd, "partial", 7), 7);
		close(fd);
	}
	jt_open(&t, JOURNAL_SYNC_BATCH, NULL, NULL);
	ck_assert_uint_eq(t.scan.ndamage, 0);
	ck_assert_int_eq(stat(path[0], &st), -1);
	ck_assert_int_eq(stat(path[1], &st), -1);
	ck_assert_int_eq(stat(path[2], &st), 0);
	for (i = 0; i < 3; i++)
		free(path[i]);
	jt_free(&t);
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite	*s = suite_create("journal");
	TCase	*tc;

	tc = tcase_create("writer");
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_group_commit);
	tcase_add_test(tc, test_sync_modes);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_write_failure_forgotten);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_torn_header_healed);
	tcase_add_test(tc, test_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_compaction);
	tcase_add_test(tc, test_ids_after_gc);
	tcase_add_test(tc, test_compaction_damaged);
	tcase_add_test(tc, test_leftover_tmp_removed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	log_set_hook(quiet_log, NULL);
	sr = srunner_create(journal_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
