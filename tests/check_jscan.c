/*
 * Unit tests for lib/jscan.c, reading a journal directory, against a
 * sample journal the journal itself wrote (jsample.c: a snapshot, an older
 * segment ended by a rotation, the newest segment; about 64 KiB):
 *
 * T4, truncation: each file cut at every byte offset.  Newest segment: the
 * records wholly before the cut and every other file's come back, the
 * damage is exactly [last good end, cut) and torn, the cut bytes are kept
 * in FILE.broken-*, the file is cut to the last good end, and a second
 * scan is clean (a cut inside the header leaves an empty segment, which
 * the next journal_open() replaces: check_journal.c).  Older segment:
 * damage to its end, not torn, and the seq gap; the newest segment still
 * read.  Snapshot: still used; the records wholly before the cut come
 * back, the cut record is reported to the end of the file, its missing
 * end record too, and the segments after what its name says it covers
 * are read in full.
 * T5, bit flips: every bit of the newest segment, header included, plus
 * the header and first record of the snapshot and of the older segment
 * (every bit of every file with PIPELINED_FULL_SWEEP=1): each flip is
 * reported exactly where it is (in the snapshot: that record, or its
 * header), no record with a changed byte is ever delivered, and every
 * other record, the snapshot's included, is.
 * T6, mid-log damage: 4 KiB zeroed, 1 KiB of garbage in the middle of the
 * older segment: the exact range, the seq before it, all else delivered.
 * Snapshot rules (only the newest is read, older ones are ignored
 * silently; an incomplete or damaged newest one is still used, its damage
 * reported and its intact records delivered; records after its end are
 * reported; what a snapshot covers, up to its end record, is skipped
 * silently) and sequence rules
 * (gaps, repeats, steps back, a refused record, a foreign segment) on
 * hand-built files.  Last, docs/journal.md's rule that damage never costs
 * records that are intact, for a damaged snapshot.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "jformat.h"
#include "jsample.h"
#include "jscan.h"
#include "log.h"
#include "xmalloc.h"

static struct js_sample	S;
static size_t		SNAP, OLD, NEW;	/* file indices in S */
static bool		full_sweep;
static unsigned long	warnings;

static struct js_got	G;

/* Log hook: count warnings, print nothing. */
static void
quiet_log(enum log_level l, const char *line, void *arg)
{
	if (l >= LOG_LEVEL_WARN)
		warnings++;
}

/* Scan dir into sc, collecting in G; false when jscan_dir() failed. */
static bool
scan(const char *dir, bool repair, struct jscan *sc)
{
	return js_scan(&G, dir, repair, sc);
}

/* The untouched sample scans clean, every record delivered in order. */
START_TEST(test_sample_clean)
{
	struct js_fails	 fl = { 0 };
	struct jscan	 sc;
	uint8_t		*want = xmalloc(S.nrecs);
	char		*dir = js_tmpdir("jscan");
	unsigned	 types = 0;
	size_t		 k;

	ck_assert_uint_eq(S.nfiles, 3);
	ck_assert(S.files[SNAP].snapshot);
	ck_assert_uint_ge(S.total, 48 * 1024);
	ck_assert_uint_le(S.total, 96 * 1024);
	/*
	 * Every record type is in it, so the sweeps damage each; but PAD,
	 * which only padded journals hold (check_journal.c).
	 */
	for (k = 0; k < S.nrecs; k++)
		types |= 1u << S.recs[k].type;
	ck_assert_uint_eq(types, ((1u << (JREC_TYPE_MAX + 1)) - 1) & ~1u &
	    ~(1u << JREC_PAD));
	js_write(&S, dir);
	ck_assert(scan(dir, true, &sc));
	memset(want, 1, S.nrecs);
	js_check_seen(&G, want, &fl, "clean");
	js_check_damage(&S, &sc, NULL, 0, &fl, "clean");
	ck_assert_msg(fl.n == 0, "%s", fl.msg);
	ck_assert_str_eq(sc.snapshot, S.files[SNAP].name);
	ck_assert_uint_eq(sc.snapshot_seq, S.recs[S.files[SNAP].nrec - 1].seq);
	ck_assert_uint_eq(sc.segments, 2);
	ck_assert_uint_eq(sc.records, S.nrecs - 1);	/* SNAPSHOT_END not */
	/* The first segment record's: the snapshot's do not count. */
	ck_assert_uint_eq(sc.first_seq, S.recs[S.files[OLD].first].seq);
	ck_assert_uint_eq(sc.last_seq, S.recs[S.nrecs - 1].seq);
	ck_assert(sc.clean_shutdown);
	ck_assert(sc.have_id);
	ck_assert_uint_eq(sc.max_segment_no, 3);
	ck_assert_uint_eq(sc.bytes, S.total);
	ck_assert(!jscan_damaged(&sc));
	jscan_clear(&sc);
	js_rmtree(dir);
	free(dir);
	free(want);
}
END_TEST

/* T4 on the newest segment: torn tails, repaired. */
START_TEST(test_t4_newest)
{
	const struct js_file	*jf = &S.files[NEW];
	struct js_fails		 fl = { 0 };
	struct timespec		 t0;
	struct jscan		 sc;
	struct js_wd		 w = { 0 };
	struct buf		 b;
	uint8_t			*want = xmalloc(S.nrecs);
	char			*dir = js_tmpdir("t4new"), ctx[64];
	size_t			 c, lge;
	int			 nb;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_init(&b);
	js_write(&S, dir);
	for (c = 0; c <= jf->len; c++) {
		snprintf(ctx, sizeof ctx, "%s cut at %zu", jf->name, c);
		js_put(dir, jf->name, jf->data, c);
		if (!scan(dir, true, &sc)) {
			js_failf(&fl, "%s: scan failed", ctx);
			continue;
		}
		js_want_upto(&S, want, NEW, c);
		js_check_seen(&G, want, &fl, ctx);
		lge = c < JSEG_HEADER ? 0 : js_good_end(&S, NEW, c);
		w.file = NEW;
		w.start = lge;
		w.end = c;
		w.torn = true;
		w.seq_before = js_prev_seq(&S, want, jf->first + jf->nrec);
		/* A cut on a record boundary leaves a whole segment. */
		js_check_damage(&S, &sc, &w, c != lge || c == 0 ? 1 : 0, &fl,
		    ctx);
		jscan_clear(&sc);
		if (js_size(dir, jf->name) != (off_t)lge)
			js_failf(&fl, "%s: file is %lld bytes, want %zu", ctx,
			    (long long)js_size(dir, jf->name), lge);
		nb = js_broken_copies(dir, jf->name, &b);
		if (nb != (c > lge ? 1 : 0) || (nb == 1 && (b.len != c - lge ||
		    memcmp(b.data, jf->data + lge, b.len) != 0)))
			js_failf(&fl, "%s: %d broken copies, the last %zu "
			    "bytes", ctx, nb, b.len);
		/* A second scan finds the repaired directory clean. */
		if (!scan(dir, false, &sc))
			continue;
		js_check_seen(&G, want, &fl, ctx);
		/*
		 * Except for a segment cut inside its header: it is left
		 * empty, and reported until journal_open() replaces it.
		 */
		w.start = w.end = 0;
		js_check_damage(&S, &sc, &w, c < JSEG_HEADER ? 1 : 0, &fl, ctx);
		jscan_clear(&sc);
	}
	fprintf(stderr, "T4 %s: %zu cuts in %.1f s\n", jf->name, jf->len + 1,
	    js_since(&t0));
	ck_assert_msg(fl.n == 0, "%zu failures:\n%s", fl.n, fl.msg);
	buf_release(&b);
	js_rmtree(dir);
	free(dir);
	free(want);
}
END_TEST

/* T4 on the older segment: damage to its end, and the seq gap. */
START_TEST(test_t4_older)
{
	const struct js_file	*jf = &S.files[OLD];
	struct js_fails		 fl = { 0 };
	struct timespec		 t0;
	struct jscan		 sc;
	struct js_wd		 w[2];
	struct buf		 b;
	uint8_t			*want = xmalloc(S.nrecs);
	char			*dir = js_tmpdir("t4old"), ctx[64];
	size_t			 c, lge, n, g;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_init(&b);
	js_write(&S, dir);
	for (c = 0; c <= jf->len; c++) {
		snprintf(ctx, sizeof ctx, "%s cut at %zu", jf->name, c);
		js_put(dir, jf->name, jf->data, c);
		if (!scan(dir, true, &sc)) {
			js_failf(&fl, "%s: scan failed", ctx);
			continue;
		}
		js_want_upto(&S, want, OLD, c);
		js_check_seen(&G, want, &fl, ctx);
		n = 0;
		lge = js_good_end(&S, OLD, c);
		g = S.files[NEW].first;
		if (c < JSEG_HEADER) {
			/* The header is damaged as far as the file goes. */
			w[n] = (struct js_wd){ OLD, 0, c, false,
			    js_prev_seq(&S, want, jf->first) };
			n++;
		} else if (c != lge) {
			w[n] = (struct js_wd){ OLD, lge, c, false,
			    js_prev_seq(&S, want, g) };
			n++;
		}
		if (!want[g - 1])	/* its SEGMENT_END lost: a gap */
			w[n++] = (struct js_wd){ NEW, JSEG_HEADER, JSEG_HEADER,
			    false, js_prev_seq(&S, want, g) };
		js_check_damage(&S, &sc, w, n, &fl, ctx);
		if (jscan_damaged(&sc) != (n > 0))
			js_failf(&fl, "%s: jscan_damaged() wrong", ctx);
		jscan_clear(&sc);
		/* Only the newest segment is ever repaired. */
		if (js_size(dir, jf->name) != (off_t)c ||
		    js_broken_copies(dir, jf->name, &b) != 0)
			js_failf(&fl, "%s: the older segment was changed", ctx);
	}
	fprintf(stderr, "T4 %s: %zu cuts in %.1f s\n", jf->name, jf->len + 1,
	    js_since(&t0));
	ck_assert_msg(fl.n == 0, "%zu failures:\n%s", fl.n, fl.msg);
	buf_release(&b);
	js_rmtree(dir);
	free(dir);
	free(want);
}
END_TEST

/*
 * T4 on the snapshot: still used.  The records wholly before the cut come
 * back; a cut inside the header is a bad header [0, cut), a cut inside a
 * record a truncated record from the last good end to the cut (nothing
 * valid follows it); the end record is missing (unless the cut is at the
 * end), so what the snapshot covers comes from its name and the segments
 * after it are read in full, without a gap.
 */
START_TEST(test_t4_snapshot)
{
	const struct js_file	*jf = &S.files[SNAP];
	const struct js_rec	*end = &S.recs[jf->first + jf->nrec - 1];
	struct js_fails		 fl = { 0 };
	struct timespec		 t0;
	struct jscan		 sc;
	struct js_wd		 w[2];
	uint8_t			*want = xmalloc(S.nrecs);
	char			*dir = js_tmpdir("t4snap"), ctx[64];
	size_t			 c, k, lge, n;
	uint64_t		 records;

	ck_assert_uint_eq(end->type, JREC_SNAPSHOT_END);
	ck_assert_uint_eq(end->off + end->size, jf->len);
	/* Its name says what it covers, as its end record does. */
	ck_assert_uint_eq(strtoull(jf->name + 5, NULL, 16), end->seq);
	ck_assert_uint_eq(S.recs[S.files[OLD].first].seq, end->seq + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	js_write(&S, dir);
	for (c = 0; c <= jf->len; c++) {
		snprintf(ctx, sizeof ctx, "%s cut at %zu", jf->name, c);
		js_put(dir, jf->name, jf->data, c);
		if (!scan(dir, true, &sc)) {
			js_failf(&fl, "%s: scan failed", ctx);
			continue;
		}
		js_want_upto(&S, want, SNAP, c);
		js_check_seen(&G, want, &fl, ctx);
		for (k = 0, records = 0; k < S.nrecs; k++)
			if (want[k] && S.recs[k].type != JREC_SNAPSHOT_END)
				records++;
		if (sc.snapshot == NULL || strcmp(sc.snapshot, jf->name) != 0 ||
		    sc.snapshot_seq != end->seq)
			js_failf(&fl, "%s: snapshot %s up to %" PRIu64 " used",
			    ctx, sc.snapshot != NULL ? sc.snapshot : "none",
			    sc.snapshot_seq);
		if (sc.records != records || sc.first_seq !=
		    S.recs[S.files[OLD].first].seq || sc.last_seq !=
		    S.recs[S.nrecs - 1].seq || sc.segments != 2 || sc.bytes !=
		    S.total - jf->len + c)
			js_failf(&fl, "%s: %" PRIu64 " records, seqs %" PRIu64
			    "-%" PRIu64 ", %zu segments, %" PRIu64 " bytes", ctx,
			    sc.records, sc.first_seq, sc.last_seq, sc.segments,
			    sc.bytes);
		n = 0;
		if (c < JSEG_HEADER)
			w[n++] = (struct js_wd){ SNAP, 0, c, false, 0,
			    "bad snapshot header" };
		else if ((lge = js_good_end(&S, SNAP, c)) != c)
			w[n++] = (struct js_wd){ SNAP, lge, c, false, 0,
			    "truncated record in the snapshot" };
		if (c < jf->len)
			w[n++] = (struct js_wd){ SNAP, c, c, false, 0,
			    "the snapshot has no end record" };
		js_check_damage(&S, &sc, w, n, &fl, ctx);
		if (jscan_damaged(&sc) != (n > 0))
			js_failf(&fl, "%s: jscan_damaged() wrong", ctx);
		jscan_clear(&sc);
		if (js_size(dir, jf->name) != (off_t)c)
			js_failf(&fl, "%s: the snapshot was changed", ctx);
	}
	fprintf(stderr, "T4 %s: %zu cuts in %.1f s\n", jf->name, jf->len + 1,
	    js_since(&t0));
	ck_assert_msg(fl.n == 0, "%zu failures:\n%s", fl.n, fl.msg);
	js_rmtree(dir);
	free(dir);
	free(want);
}
END_TEST

/* The words for a flip at byte at of a snapshot record's bytes. */
static const char *
flip_snapshot_what(size_t at)
{
	if (at < 4)
		return "no record magic in the snapshot";
	if (at < JREC_HEADER)	/* the header CRC is checked first */
		return "record header checksum mismatch in the snapshot";
	return "record payload checksum mismatch in the snapshot";
}

/* The damage one flipped bit at byte off of file f must cause. */
static size_t
flip_expect(size_t f, size_t off, uint8_t *want, struct js_wd *w)
{
	const struct js_file	*jf = &S.files[f];
	const struct js_rec	*r;
	long			 g;
	size_t			 last;

	memset(want, 1, S.nrecs);
	if (jf->snapshot) {
		/*
		 * The snapshot is still used: a bad header is reported and
		 * its records read; a damaged record is reported up to the
		 * next (records of a snapshot are not checked for gaps), and
		 * every other record is delivered.  A damaged end record
		 * reaches the end of the file, and the end is missing: what
		 * the snapshot covers then comes from its name, the same.
		 */
		if (off < JSEG_HEADER) {
			w[0] = (struct js_wd){ f, 0, JSEG_HEADER, false, 0,
			    "bad snapshot header" };
			return 1;
		}
		g = js_rec_at(&S, f, off);
		ck_assert_int_ge(g, 0);
		r = &S.recs[g];
		want[g] = 0;
		w[0] = (struct js_wd){ f, r->off, r->off + r->size, false, 0,
		    flip_snapshot_what(off - r->off) };
		if (r->type != JREC_SNAPSHOT_END)
			return 1;
		ck_assert_uint_eq(r->off + r->size, jf->len);
		w[1] = (struct js_wd){ f, jf->len, jf->len, false, 0,
		    "the snapshot has no end record" };
		return 2;
	}
	if (off < JSEG_HEADER) {
		/* A bad header is reported; its records still verify. */
		w[0] = (struct js_wd){ f, 0, JSEG_HEADER, false,
		    js_prev_seq(&S, want, jf->first) };
		return 1;
	}
	g = js_rec_at(&S, f, off);
	ck_assert_int_ge(g, 0);
	r = &S.recs[g];
	want[g] = 0;
	last = jf->first + jf->nrec - 1;
	if ((size_t)g < last) {
		w[0] = (struct js_wd){ f, r->off, r[1].off, false,
		    js_prev_seq(&S, want, (size_t)g) };
		w[1] = (struct js_wd){ f, r[1].off, r[1].off, false,
		    w[0].seq_before };
		return 2;
	}
	if (f == NEW) {
		w[0] = (struct js_wd){ f, r->off, jf->len, true,
		    js_prev_seq(&S, want, (size_t)g) };
		return 1;
	}
	w[0] = (struct js_wd){ f, r->off, jf->len, false, js_prev_seq(&S, want,
	    (size_t)g) };
	w[1] = (struct js_wd){ f + 1, JSEG_HEADER, JSEG_HEADER, false,
	    w[0].seq_before };
	return 2;
}

/* The seq of the first wanted segment record. */
static uint64_t
flip_first_seq(const uint8_t *want)
{
	size_t	k;

	for (k = S.files[OLD].first; k < S.nrecs; k++)
		if (want[k])
			return S.recs[k].seq;
	return 0;
}

/* T5 over bits [from, to) of file f. */
static void
flip_sweep(size_t f, size_t from, size_t to, struct js_fails *fl)
{
	const struct js_file	*jf = &S.files[f];
	struct timespec		 t0;
	struct jscan		 sc;
	struct js_wd		 w[2];
	uint8_t			*want = xmalloc(S.nrecs), byte;
	char			*dir = js_tmpdir("t5"), *path, ctx[64];
	size_t			 bit, off, n;
	int			 fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	js_write(&S, dir);
	path = xprintf("%s/%s", dir, jf->name);
	ck_assert_int_ne(fd = open(path, O_RDWR), -1);
	for (bit = from; bit < to; bit++) {
		off = bit / 8;
		snprintf(ctx, sizeof ctx, "%s bit %zu (byte %zu)", jf->name,
		    bit % 8, off);
		byte = jf->data[off] ^ (uint8_t)(1u << (bit % 8));
		ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)off), 1);
		if (scan(dir, false, &sc)) {
			n = flip_expect(f, off, want, w);
			if (sc.ndamage == 0)
				js_failf(fl, "%s: flip not reported", ctx);
			js_check_seen(&G, want, fl, ctx);
			js_check_damage(&S, &sc, w, n, fl, ctx);
			/* The snapshot is used, covering what it did. */
			if (sc.snapshot == NULL || strcmp(sc.snapshot,
			    S.files[SNAP].name) != 0 || sc.snapshot_seq !=
			    S.recs[S.files[SNAP].first + S.files[SNAP].nrec -
			    1].seq)
				js_failf(fl, "%s: snapshot %s up to %" PRIu64
				    " used", ctx, sc.snapshot != NULL ?
				    sc.snapshot : "none", sc.snapshot_seq);
			if (sc.first_seq != flip_first_seq(want))
				js_failf(fl, "%s: first seq %" PRIu64, ctx,
				    sc.first_seq);
			jscan_clear(&sc);
		} else
			js_failf(fl, "%s: scan failed", ctx);
		ck_assert_int_eq(pwrite(fd, jf->data + off, 1, (off_t)off), 1);
	}
	fprintf(stderr, "T5 %s: %zu flips in %.1f s\n", jf->name, to - from,
	    js_since(&t0));
	close(fd);
	free(path);
	js_rmtree(dir);
	free(dir);
	free(want);
}

/*
 * T5: every bit of the newest segment, header included, and the header
 * and first record of the others; PIPELINED_FULL_SWEEP=1: every bit.
 */
START_TEST(test_t5_flips)
{
	struct js_fails	fl = { 0 };
	size_t		f;

	for (f = 0; f < S.nfiles; f++)
		if (full_sweep || f == NEW)
			flip_sweep(f, 0, S.files[f].len * 8, &fl);
	if (!full_sweep) {
		/* The snapshot's and older segment's header, first record. */
		flip_sweep(SNAP, 0, (JSEG_HEADER + S.recs[S.files[SNAP].first]
		    .size) * 8, &fl);
		flip_sweep(OLD, 0, (JSEG_HEADER + S.recs[S.files[OLD].first]
		    .size) * 8, &fl);
	}
	ck_assert_msg(fl.n == 0, "%zu failures:\n%s", fl.n, fl.msg);
}
END_TEST

/* T6: damage [at, at+len) of the older segment (garbage: else zeros). */
static void
midlog(size_t at, size_t len, bool garbage)
{
	const struct js_file	*jf = &S.files[OLD];
	struct js_fails		 fl = { 0 };
	struct jscan		 sc;
	struct js_wd		 w[2];
	uint8_t			*want = xmalloc(S.nrecs), *data;
	uint32_t		 x = 0x2545f491;
	char			*dir = js_tmpdir("t6");
	size_t			 i, k, first = 0, after = 0;

	data = xmalloc(jf->len);
	memcpy(data, jf->data, jf->len);
	for (i = at; i < at + len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = garbage ? (uint8_t)x : 0;
	}
	/* The records with a changed byte are lost; the rest are not. */
	memset(want, 1, S.nrecs);
	for (k = jf->first; k < jf->first + jf->nrec; k++) {
		if (memcmp(data + S.recs[k].off, jf->data + S.recs[k].off,
		    S.recs[k].size) != 0) {
			if (first == 0)
				first = k;
			want[k] = 0;
		} else if (first != 0 && after == 0)
			after = k;
	}
	ck_assert_uint_ne(first, 0);
	ck_assert_uint_ne(after, 0);	/* the middle: valid records follow */
	js_write(&S, dir);
	js_put(dir, jf->name, data, jf->len);
	ck_assert(scan(dir, true, &sc));
	js_check_seen(&G, want, &fl, "mid-log");
	w[0] = (struct js_wd){ OLD, S.recs[first].off, S.recs[after].off, false,
	    S.recs[first - 1].seq };
	w[1] = (struct js_wd){ OLD, S.recs[after].off, S.recs[after].off, false,
	    S.recs[first - 1].seq };
	js_check_damage(&S, &sc, w, 2, &fl, "mid-log");
	ck_assert_msg(fl.n == 0, "%s", fl.msg);
	ck_assert(jscan_damaged(&sc));
	ck_assert_ptr_nonnull(strstr(sc.damage[1].what, "missing"));
	ck_assert_uint_eq(sc.last_seq, S.recs[S.nrecs - 1].seq);
	jscan_clear(&sc);
	/* Mid-log damage is never "repaired": the file stays as it was. */
	ck_assert_int_eq(js_size(dir, jf->name), (off_t)jf->len);
	js_rmtree(dir);
	free(dir);
	free(data);
	free(want);
}

/* T6: 4 KiB of zeros, then 1 KiB of garbage, mid-segment. */
START_TEST(test_t6_midlog)
{
	size_t	mid = S.files[OLD].len / 2;

	midlog(mid - 2048, 4096, false);
	midlog(mid - 512, 1024, true);
	/* Starting on a record's first byte, ending on a boundary. */
	midlog(S.recs[S.files[OLD].first + 3].off, S.recs[S.files[OLD].first +
	    3].size, true);
}
END_TEST

/* A file of records with the given seqs, after a header of journal id. */
static void
craft(const char *dir, const char *name, uint8_t idbyte, uint32_t flags,
    const uint64_t *seqs, const uint8_t *types, size_t n, size_t *offs)
{
	struct jseg_header	h;
	struct buf		b;
	uint8_t			hdr[JSEG_HEADER];
	size_t			i;

	memset(&h, 0, sizeof h);
	h.version = JSEG_VERSION;
	h.segment_no = 1;
	h.first_seq = n > 0 ? seqs[0] : 1;
	memcpy(h.journal_id, S.files[0].data + 32, 16);
	h.journal_id[0] ^= idbyte;
	h.flags = flags;
	jseg_header_encode(hdr, &h);
	buf_init(&b);
	buf_add(&b, hdr, sizeof hdr);
	for (i = 0; i < n; i++) {
		if (offs != NULL)
			offs[i] = b.len;
		jrec_encode(&b, seqs[i], types != NULL ? types[i] : JREC_STATUS,
		    "\x81\xa1k\xa1v", 5);
	}
	js_put(dir, name, b.data, b.len);
	buf_release(&b);
}

struct seqlog {
	uint64_t	 seq[64];
	size_t		 n;
};

/* Scan callback: note each seq. */
static int
seq_cb(const struct jrec *r, void *arg)
{
	struct seqlog	*l = arg;

	if (l->n < 64)
		l->seq[l->n++] = r->seq;
	return r->seq == 77 ? -1 : 0;
}

/* Gaps, repeats and steps back are reported; only new seqs delivered. */
START_TEST(test_seq_rules)
{
	static const uint64_t	seqs[] = { 1, 2, 4, 5, 5, 3, 6, 77, 78 };
	struct seqlog		l = { .n = 0 };
	struct jscan		sc;
	size_t			offs[9];
	char			*dir = js_tmpdir("seq"), *err = NULL;

	craft(dir, "seg-0000000000000001.pjl", 0, 0, seqs, NULL, 9, offs);
	ck_assert_int_eq(jscan_dir(dir, false, seq_cb, &l, &sc, &err), 0);
	ck_assert_uint_eq(l.n, 7);		/* 1 2 4 5 6 77 78 */
	ck_assert_uint_eq(l.seq[2], 4);
	ck_assert_uint_eq(l.seq[4], 6);
	ck_assert_uint_eq(l.seq[5], 77);
	ck_assert_uint_eq(sc.ndamage, 5);
	ck_assert_uint_eq(sc.damage[0].start, offs[2]);		/* 3 missing */
	ck_assert_uint_eq(sc.damage[0].end, offs[2]);
	ck_assert_str_eq(sc.damage[0].what, "records 3 to 3 are missing");
	ck_assert_uint_eq(sc.damage[1].start, offs[4]);		/* 5 again */
	ck_assert_uint_eq(sc.damage[1].end, offs[5]);
	ck_assert_uint_eq(sc.damage[1].seq_before, 5);
	ck_assert_uint_eq(sc.damage[2].start, offs[5]);		/* 3 late */
	ck_assert_uint_eq(sc.damage[3].start, offs[7]);		/* 7-76 */
	ck_assert_uint_eq(sc.damage[4].start, offs[7]);		/* refused */
	ck_assert_uint_eq(sc.damage[4].end, offs[8]);
	ck_assert_ptr_nonnull(strstr(sc.damage[4].what, "could not be"));
	ck_assert(jscan_damaged(&sc));
	ck_assert_uint_eq(sc.last_seq, 78);
	jscan_clear(&sc);
	js_rmtree(dir);
	free(dir);
}
END_TEST

/* A segment of another journal is reported; its records still read. */
START_TEST(test_foreign_segment)
{
	static const uint64_t	a[] = { 1, 2 }, b[] = { 3, 4 };
	struct seqlog		l = { .n = 0 };
	struct jscan		sc;
	char			*dir = js_tmpdir("foreign"), *err = NULL;

	craft(dir, "seg-0000000000000001.pjl", 0, 0, a, NULL, 2, NULL);
	craft(dir, "seg-0000000000000003.pjl", 0x40, 0, b, NULL, 2, NULL);
	ck_assert_int_eq(jscan_dir(dir, false, seq_cb, &l, &sc, &err), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_uint_eq(sc.ndamage, 1);
	ck_assert_str_eq(sc.damage[0].file, "seg-0000000000000003.pjl");
	ck_assert_uint_eq(sc.damage[0].end, JSEG_HEADER);
	jscan_clear(&sc);
	js_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * A newer snapshot over the sample, made of the sample snapshot's records
 * and covering the older segment (up to its SEGMENT_END); end: with its
 * SNAPSHOT_END, cut: bytes kept of it (0: all).
 */
static char *
newer_snapshot(const char *dir, bool end, size_t cut)
{
	const struct js_file	*sf = &S.files[SNAP];
	uint64_t		 covered = S.recs[S.files[OLD].first +
				    S.files[OLD].nrec - 1].seq;
	struct buf		 b;
	char			*name;
	size_t			 k;

	buf_init(&b);
	buf_add(&b, sf->data, JSEG_HEADER);
	for (k = 0; k + 1 < sf->nrec; k++)
		jrec_encode(&b, S.recs[k].seq, S.recs[k].type,
		    S.recs[k].payload, S.recs[k].len);
	if (end)
		jrec_encode(&b, covered, JREC_SNAPSHOT_END,
		    S.recs[sf->nrec - 1].payload, S.recs[sf->nrec - 1].len);
	name = xprintf("snap-%016" PRIx64 ".pjl", covered);
	js_put(dir, name, b.data, cut != 0 ? cut : b.len);
	buf_release(&b);
	return name;
}

/* Whether damage entry i of sc is exactly this. */
static void
check_entry(const struct jscan *sc, size_t i, const char *file,
    uint64_t start, uint64_t end, const char *what)
{
	ck_assert_uint_gt(sc->ndamage, i);
	ck_assert_str_eq(sc->damage[i].file, file);
	ck_assert_uint_eq(sc->damage[i].start, start);
	ck_assert_uint_eq(sc->damage[i].end, end);
	ck_assert(!sc->damage[i].torn);
	ck_assert_uint_eq(sc->damage[i].seq_before, 0);
	ck_assert_str_eq(sc->damage[i].what, what);
}

/*
 * An incomplete newer snapshot is still the one used (the older is
 * ignored silently): its damage is reported, its intact records are
 * delivered, and it covers what its name says, so the older segment is
 * skipped and the newest read from just after it.
 */
START_TEST(test_snapshot_incomplete)
{
	const struct js_file	*sf = &S.files[SNAP], *nf = &S.files[NEW];
	const struct js_rec	*rec1 = &S.recs[sf->first];
	struct js_fails		 fl = { 0 };
	struct jscan		 sc;
	uint8_t			*want = xmalloc(S.nrecs);
	uint64_t		 covered = S.recs[S.files[OLD].first +
				    S.files[OLD].nrec - 1].seq;
	/* Without its end record, the newer snapshot is this long. */
	size_t			 whole = S.recs[sf->nrec - 1].off;
	char			*dir = js_tmpdir("snap"), *name;
	size_t			 cuts[] = { 0, 40, 200 }, i, len;
	unsigned long		 warned;

	ck_assert_uint_eq(S.recs[sf->nrec - 1].type, JREC_SNAPSHOT_END);
	ck_assert_uint_eq(S.recs[nf->first].seq, covered + 1);
	ck_assert_uint_gt(rec1->off + rec1->size, 200);
	js_write(&S, dir);
	for (i = 0; i < 3; i++) {
		/* No SNAPSHOT_END, or cut in its header or a record. */
		name = newer_snapshot(dir, i != 0, cuts[i]);
		len = cuts[i] != 0 ? cuts[i] : whole;
		warned = warnings;
		ck_assert(scan(dir, true, &sc));
		ck_assert_str_eq(sc.snapshot, name);
		ck_assert_uint_eq(sc.snapshot_seq, covered);
		/*
		 * Its intact records (the sample snapshot's but its end:
		 * the same bytes), none of the older snapshot's (not its
		 * end record either), none of the older segment's (all
		 * covered), all of the newest segment's.
		 */
		memset(want, 0, S.nrecs);
		if (i == 0)
			memset(want, 1, sf->nrec - 1);
		memset(want + nf->first, 1, nf->nrec);
		js_check_seen(&G, want, &fl, name);
		ck_assert_msg(fl.n == 0, "%s", fl.msg);
		ck_assert_uint_eq(sc.records, (i == 0 ? sf->nrec - 1 : 0) +
		    nf->nrec);
		ck_assert_uint_eq(sc.first_seq, covered + 1);
		ck_assert_uint_eq(sc.last_seq, S.recs[S.nrecs - 1].seq);
		/* The older snapshot is not even read. */
		ck_assert_uint_eq(sc.bytes, len + S.files[OLD].len + nf->len);
		ck_assert_uint_eq(sc.segments, 2);
		/* Reported in full; the older snapshot silently ignored. */
		switch (i) {
		case 0:
			ck_assert_uint_eq(sc.ndamage, 1);
			break;
		case 1:
			ck_assert_uint_eq(sc.ndamage, 2);
			check_entry(&sc, 0, name, 0, len, "bad snapshot header");
			break;
		case 2:
			ck_assert_uint_eq(sc.ndamage, 2);
			check_entry(&sc, 0, name, rec1->off, len,
			    "truncated record in the snapshot");
			break;
		}
		check_entry(&sc, sc.ndamage - 1, name, len, len,
		    "the snapshot has no end record");
		ck_assert(jscan_damaged(&sc));
		ck_assert_uint_eq(warnings, warned);
		jscan_clear(&sc);
		free(name);
	}
	js_rmtree(dir);
	free(dir);
	free(want);
}
END_TEST

/* A whole newer snapshot is used; what it covers is skipped silently. */
START_TEST(test_snapshot_covers)
{
	const struct js_file	*sf = &S.files[SNAP];
	struct jscan		 sc;
	uint8_t			*want = xmalloc(S.nrecs);
	uint64_t		 early[3];
	char			*dir = js_tmpdir("snap"), *name;
	size_t			 k;

	js_write(&S, dir);
	/* Records the sample snapshot covers, in a segment gc left. */
	for (k = 0; k < 3; k++)
		early[k] = S.recs[sf->nrec - 1].seq - 2 + k;
	craft(dir, "seg-0000000000000001.pjl", 0, 0, early, NULL, 3, NULL);
	ck_assert(scan(dir, false, &sc));
	memset(want, 1, S.nrecs);
	ck_assert_mem_eq(G.seen, want, S.nrecs);
	ck_assert_uint_eq(G.changed, 0);
	ck_assert_uint_eq(sc.ndamage, 0);
	jscan_clear(&sc);
	name = xprintf("%s/seg-0000000000000001.pjl", dir);
	unlink(name);
	free(name);
	name = newer_snapshot(dir, true, 0);
	ck_assert(scan(dir, false, &sc));
	ck_assert_str_eq(sc.snapshot, name);
	ck_assert_uint_eq(sc.snapshot_seq, S.recs[S.files[OLD].first +
	    S.files[OLD].nrec - 1].seq);
	/* Its records (the older snapshot's but its end), then NEW's. */
	memset(want, 0, S.nrecs);
	memset(want, 1, sf->nrec - 1);
	memset(want + S.files[NEW].first, 1, S.files[NEW].nrec);
	ck_assert_mem_eq(G.seen, want, S.nrecs);
	ck_assert_uint_eq(G.changed, 1);	/* its own SNAPSHOT_END */
	ck_assert_uint_eq(sc.ndamage, 0);
	jscan_clear(&sc);
	js_rmtree(dir);
	free(name);
	free(dir);
	free(want);
}
END_TEST

/*
 * Records after a snapshot's end record are reported to the end of the
 * file and not delivered; it covers up to its end record's seq (not the
 * one in its name), and segment records up to that are skipped silently.
 */
START_TEST(test_snapshot_after_end)
{
	static const uint64_t	snap[] = { 1, 2, 5, 3 }, seg[] = { 4, 5, 6, 7 };
	static const uint8_t	types[] = { JREC_STATUS, JREC_STATUS,
				    JREC_SNAPSHOT_END, JREC_STATUS };
	struct seqlog		l = { .n = 0 };
	struct jscan		sc;
	size_t			offs[4];
	char			*dir = js_tmpdir("snapend"), *err = NULL;

	craft(dir, "snap-0000000000000009.pjl", 0, JSEG_FLAG_SNAPSHOT, snap,
	    types, 4, offs);
	craft(dir, "seg-0000000000000004.pjl", 0, 0, seg, NULL, 4, NULL);
	ck_assert_int_eq(jscan_dir(dir, false, seq_cb, &l, &sc, &err), 0);
	ck_assert_uint_eq(l.n, 5);		/* 1 2 5(end) 6 7 */
	ck_assert_uint_eq(l.seq[2], 5);
	ck_assert_uint_eq(l.seq[3], 6);
	ck_assert_uint_eq(l.seq[4], 7);
	ck_assert_str_eq(sc.snapshot, "snap-0000000000000009.pjl");
	ck_assert_uint_eq(sc.snapshot_seq, 5);
	ck_assert_uint_eq(sc.records, 4);	/* 1 2 6 7 */
	ck_assert_uint_eq(sc.first_seq, 6);
	ck_assert_uint_eq(sc.last_seq, 7);
	ck_assert_uint_eq(sc.ndamage, 1);
	ck_assert_str_eq(sc.damage[0].file, "snap-0000000000000009.pjl");
	ck_assert_uint_eq(sc.damage[0].start, offs[3]);
	ck_assert_uint_eq(sc.damage[0].end, offs[3] + JREC_HEADER + 5);
	ck_assert(!sc.damage[0].torn);
	ck_assert_str_eq(sc.damage[0].what, "records after the end of the "
	    "snapshot");
	ck_assert(jscan_damaged(&sc));
	jscan_clear(&sc);
	js_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * docs/journal.md: "a damaged journal ... never costs records that are
 * intact".
 * The sample's snapshot cut after its tenth record, with nothing older to
 * fall back on: its first ten records must still come back.
 */
START_TEST(test_snapshot_damage_keeps_records)
{
	const struct js_file	*sf = &S.files[SNAP];
	struct jscan		 sc;
	char			*dir = js_tmpdir("snap");
	size_t			 k, cut = S.recs[10].off + 5;
	bool			 scanned, damaged;

	js_write(&S, dir);
	js_put(dir, sf->name, sf->data, cut);
	scanned = scan(dir, false, &sc);
	damaged = scanned && jscan_damaged(&sc);
	jscan_clear(&sc);
	js_rmtree(dir);
	free(dir);
	ck_assert(scanned && damaged);
	for (k = 0; k < 10; k++)
		ck_assert_msg(G.seen[k], "snapshot record %zu of %zu (before "
		    "the cut at %zu) lost with the snapshot", k, sf->nrec, cut);
}
END_TEST

static Suite *
jscan_suite(void)
{
	Suite	*s = suite_create("jscan");
	TCase	*tc;

	tc = tcase_create("sample");
	tcase_add_test(tc, test_sample_clean);
	tcase_add_test(tc, test_t6_midlog);
	tcase_add_test(tc, test_seq_rules);
	tcase_add_test(tc, test_foreign_segment);
	tcase_add_test(tc, test_snapshot_incomplete);
	tcase_add_test(tc, test_snapshot_covers);
	tcase_add_test(tc, test_snapshot_after_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("t4");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_t4_newest);
	tcase_add_test(tc, test_t4_older);
	tcase_add_test(tc, test_t4_snapshot);
	suite_add_tcase(s, tc);

	tc = tcase_create("t5");
	tcase_set_timeout(tc, full_sweep ? 7200 : 300);
	tcase_add_test(tc, test_t5_flips);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec");
	tcase_add_test(tc, test_snapshot_damage_keeps_records);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner		*sr;
	const char	*e = getenv("PIPELINED_FULL_SWEEP");
	char		*state, *jdir;
	int		 failed;

	full_sweep = e != NULL && strcmp(e, "1") == 0;
	log_set_hook(quiet_log, NULL);
	/* The sample, built once; every test works on copies. */
	state = js_tmpdir("jscan-sample");
	js_build(state, NULL);
	jdir = xprintf("%s/journal", state);
	js_load(&S, jdir);
	js_rmtree(state);
	free(jdir);
	free(state);
	SNAP = 0;
	OLD = 1;
	NEW = 2;
	G.s = &S;
	G.seen = xmalloc(S.nrecs);
	fprintf(stderr, "sample: %s %zu, %s %zu, %s %zu bytes, %zu records\n",
	    S.files[0].name, S.files[0].len, S.files[1].name, S.files[1].len,
	    S.files[2].name, S.files[2].len, S.nrecs);

	sr = srunner_create(jscan_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	js_free(&S);
	free(G.seen);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
