/*
 * Fuzz target: journal replay, from the bytes of a journal directory to
 * the history the daemon rebuilds at start (jscan.c, jformat.c, jcodec.c,
 * history.c).
 *
 * The input is the journal's files laid end to end: a new file starts
 * wherever the segment magic (89 50 4C 4A 0D 0A 1A 0A) is, the bytes
 * before the first one being a file of their own.  A file whose header
 * says "snapshot" is written as snap-<seq of its last record>.pjl, any
 * other as seg-<its place>.pjl, into a private directory on tmpfs; then
 * the directory is scanned and every record replayed into a history, as
 * store_open() does.
 *
 * Each input is read as it is, where random changes nearly always break
 * a CRC; and, when that changes anything, once more with every header
 * and record CRC made right ("fixed up"), so that the record payloads'
 * decoding is fuzzed too.  When a scan finds a torn tail, the directory
 * is scanned again with repair, then once more: the repair must cut only
 * the tail.
 *
 * Checked beyond "no crash, leak, hang or huge allocation": no record
 * with a bad CRC is ever accepted (every record handed to replay is
 * verified again here, with a CRC-32C of our own); damage reports lie
 * within their files and say what they are in text; a record replay
 * refuses comes with a reason; after a repair the same records are read
 * and no torn tail is left; and the history built is one the daemon can
 * show (each execution's view packs into a message that decodes).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "jscan.h"
#include "node.h"
#include "proto.h"
#include "result.h"
#include "view.h"
#include "xmalloc.h"

#define FZ_MAX_FILES	8

static const uint8_t	fz_magic[8] = {
	0x89, 0x50, 0x4c, 0x4a, 0x0d, 0x0a, 0x1a, 0x0a
};

static char	*fz_dir;	/* the journal directory */
static char	*fz_top;	/* its parent, removed at exit */

/* One file of the input. */
struct fz_file {
	char		 name[32];
	const uint8_t	*data;
	size_t		 len;
};

/* What one scan delivered, for comparing scans. */
struct fz_seen {
	struct history	*h;
	uint64_t	*seqs;
	size_t		 n;
};

static void
fz_cleanup(void)
{
	if (fz_top != NULL)
		fuzz_rmtree(fz_top);
}

/* A private journal directory for the run, removed at exit. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fz_top = fuzz_tmpdir("journal");
	fz_dir = xprintf("%s/journal", fz_top);
	if (mkdir(fz_dir, 0700) == -1)
		fuzz_fail(__FILE__, __LINE__, "mkdir", "%s", fz_dir);
	atexit(fz_cleanup);
	return 0;
}

/*
 * CRC-32C (Castagnoli), a byte at a time from a table made here from the
 * polynomial: independent of lib/crc32c.c.
 */
static uint32_t
fz_crc32c(const uint8_t *p, size_t len)
{
	static uint32_t	table[256];
	uint32_t	crc = 0xffffffffu, c;
	size_t		i;
	int		k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? c >> 1 ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = crc >> 8 ^ table[(crc ^ p[i]) & 0xff];
	return ~crc;
}

/* The journal's stored form of a CRC (docs/journal.md). */
static uint32_t
fz_mask(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static uint32_t
fz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
fz_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Cut the input into files at each segment magic. */
static size_t
fz_split(const uint8_t *p, size_t len, struct fz_file *f)
{
	size_t	n = 0, start = 0, i;

	for (i = 1; i + sizeof fz_magic <= len && n + 1 < FZ_MAX_FILES; i++) {
		if (p[i] != fz_magic[0] ||
		    memcmp(p + i, fz_magic, sizeof fz_magic) != 0)
			continue;
		f[n].data = p + start;
		f[n++].len = i - start;
		start = i;
	}
	f[n].data = p + start;
	f[n++].len = len - start;
	return n;
}

/*
 * Make every CRC right: the header's, and each record's found by walking
 * from the header by the records' lengths (a byte at a time where there
 * is no record).  Whether anything changed.
 */
static bool
fz_fixup(uint8_t *p, size_t len)
{
	uint32_t	plen, crc;
	size_t		off;
	bool		changed = false;

	if (len < JSEG_HEADER)
		return false;
	if (memcmp(p, fz_magic, sizeof fz_magic) == 0 &&
	    fz_get32(p + 60) != (crc = fz_mask(fz_crc32c(p, 60)))) {
		fz_put32(p + 60, crc);
		changed = true;
	}
	for (off = JSEG_HEADER; off + JREC_HEADER <= len;) {
		plen = fz_get32(p + off + 4);
		if (fz_get32(p + off) != JREC_MAGIC || plen == 0 ||
		    plen > len - off - JREC_HEADER) {
			off++;
			continue;
		}
		if (fz_get32(p + off + 20) != (crc = fz_mask(fz_crc32c(p +
		    off + JREC_HEADER, plen)))) {
			fz_put32(p + off + 20, crc);
			changed = true;
		}
		if (fz_get32(p + off + 24) != (crc = fz_mask(fz_crc32c(p + off,
		    24)))) {
			fz_put32(p + off + 24, crc);
			changed = true;
		}
		off += JREC_HEADER + plen;
	}
	return changed;
}

/* The seq of the last record a walk from the header finds, or 0. */
static uint64_t
fz_last_seq(const uint8_t *p, size_t len)
{
	struct jrec	r;
	uint64_t	seq = 0;
	size_t		off = JSEG_HEADER;

	while (off < len && jrec_parse(p + off, len - off, &r) == JREC_OK) {
		seq = r.seq;
		off += r.size;
	}
	return seq;
}

/*
 * Name the files as a journal directory would hold them; two snapshots
 * ending at the same seq get names one apart, not one file.
 */
static void
fz_name(struct fz_file *f, size_t n)
{
	struct jseg_header	h;
	uint64_t		seq;
	size_t			i, k;

	for (i = 0; i < n; i++) {
		if (f[i].len < JSEG_HEADER ||
		    jseg_header_parse(f[i].data, &h) == -1 ||
		    !(h.flags & JSEG_FLAG_SNAPSHOT)) {
			snprintf(f[i].name, sizeof f[i].name,
			    "seg-%016zx.pjl", i + 1);
			continue;
		}
		seq = fz_last_seq(f[i].data, f[i].len);
		do {
			snprintf(f[i].name, sizeof f[i].name,
			    "snap-%016" PRIx64 ".pjl", seq++);
			for (k = 0; k < i; k++)
				if (strcmp(f[k].name, f[i].name) == 0)
					break;
		} while (k < i);
	}
}

/* Empty the journal directory. */
static void
fz_clear(void)
{
	struct dirent	*de;
	DIR		*d;
	char		*p;

	if ((d = opendir(fz_dir)) == NULL)
		fuzz_fail(__FILE__, __LINE__, "opendir", "%s", fz_dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = xprintf("%s/%s", fz_dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

/* Write the files into the empty journal directory. */
static void
fz_write(const struct fz_file *f, size_t n)
{
	char	*p;
	size_t	 i;
	int	 fd;

	fz_clear();
	for (i = 0; i < n; i++) {
		p = xprintf("%s/%s", fz_dir, f[i].name);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		FUZZ_CHECK(fd != -1 && (f[i].len == 0 || write(fd, f[i].data,
		    f[i].len) == (ssize_t)f[i].len), "cannot write %s", p);
		close(fd);
		free(p);
	}
}

/*
 * The replay callback: verify the record again before it counts, then
 * apply it as the daemon does.
 */
static int
fz_replay_cb(const struct jrec *r, void *arg)
{
	struct fz_seen	*s = arg;
	const uint8_t	*h = r->payload - JREC_HEADER;
	char		*err = NULL;

	FUZZ_CHECK(fz_get32(h) == JREC_MAGIC, "a record without its magic "
	    "was accepted");
	FUZZ_CHECK(fz_get32(h + 24) == fz_mask(fz_crc32c(h, 24)),
	    "record %" PRIu64 " with a bad header CRC was accepted", r->seq);
	FUZZ_CHECK(fz_get32(h + 4) == r->len && r->len > 0 &&
	    r->len <= JREC_MAX_PAYLOAD && r->size == JREC_HEADER + r->len,
	    "record %" PRIu64 " accepted with a wrong length", r->seq);
	FUZZ_CHECK(fz_get32(h + 20) == fz_mask(fz_crc32c(r->payload, r->len)),
	    "record %" PRIu64 " with a bad payload CRC was accepted", r->seq);
	FUZZ_CHECK(r->type >= 1 && r->type <= JREC_TYPE_MAX, "record %" PRIu64
	    " of unknown type %u was accepted", r->seq, r->type);
	s->seqs = xreallocarray(s->seqs, s->n + 1, sizeof *s->seqs);
	s->seqs[s->n++] = r->seq;
	if (jcodec_apply(s->h, r, &err) == 0)
		return 0;
	FUZZ_CHECK(err != NULL && proto_str_ok(err, strlen(err)),
	    "record %" PRIu64 " refused without a reason in text", r->seq);
	free(err);
	return -1;
}

/* The history as the daemon takes it over, and as "show" sends it. */
static void
fz_check_history(struct history *h)
{
	struct execution	*e;
	struct node		*v, *back;
	struct buf		 b;
	size_t			 i;
	char			*err;

	history_reserve_ids(h, 0);
	for (i = 0; i < history_count(h); i++) {
		e = history_at(h, i);
		FUZZ_CHECK(e->id > 0 && e->id < history_next_id(h),
		    "execution %" PRIu64 " replayed beyond the next id",
		    e->id);
		execution_recount(e);
		v = view_execution(e, true);
		buf_init(&b);
		proto_pack(&b, v);
		back = proto_decode((const uint8_t *)b.data, b.len, NULL, &err);
		FUZZ_CHECK(back != NULL, "execution %" PRIu64 " replays into "
		    "something show cannot send: %s", e->id, err);
		node_free(back);
		buf_release(&b);
		node_free(v);
	}
}

/* Damage lies within the files and is told in words. */
static void
fz_check_damage(const struct jscan *s, const struct fz_file *f, size_t n)
{
	const struct jdamage	*d;
	size_t			 i, k;

	for (i = 0; i < s->ndamage; i++) {
		d = &s->damage[i];
		for (k = 0; k < n; k++)
			if (strcmp(d->file, f[k].name) == 0)
				break;
		FUZZ_CHECK(k < n, "damage in a file that is not there: %s",
		    d->file);
		FUZZ_CHECK(d->start <= d->end && d->end <= f[k].len,
		    "damage %" PRIu64 "-%" PRIu64 " outside %s (%zu bytes)",
		    d->start, d->end, d->file, f[k].len);
		FUZZ_CHECK(d->what != NULL && proto_str_ok(d->what,
		    strlen(d->what)), "damage without words");
	}
}

/* Scan the directory into a fresh history; whether a torn tail was found. */
static bool
fz_scan(bool repair, struct fz_seen *seen, struct jscan *s)
{
	char	*err = NULL;
	size_t	 i;
	bool	 torn = false;

	memset(seen, 0, sizeof *seen);
	seen->h = history_new();
	FUZZ_CHECK(jscan_dir(fz_dir, repair, fz_replay_cb, seen, s, &err) == 0,
	    "the scan failed: %s", err);
	fz_check_history(seen->h);
	for (i = 0; i < s->ndamage; i++)
		if (s->damage[i].torn && s->damage[i].end > s->damage[i].start)
			torn = true;
	return torn;
}

static void
fz_seen_free(struct fz_seen *s)
{
	history_free(s->h);
	free(s->seqs);
}

/*
 * Repair a torn tail, then read again: the same records, no torn tail
 * left.  (The repair reads the files mapped, not copied: another way in.)
 */
static void
fz_check_repair(const struct fz_seen *before)
{
	struct fz_seen	 fixed, after;
	struct jscan	 s1, s2;

	fz_scan(true, &fixed, &s1);
	FUZZ_CHECK(fixed.n == before->n && (before->n == 0 ||
	    memcmp(fixed.seqs, before->seqs, before->n * sizeof *before->seqs)
	    == 0), "a scan with repair reads other records");
	FUZZ_CHECK(!fz_scan(false, &after, &s2), "a torn tail is left after "
	    "the repair");
	FUZZ_CHECK(after.n == before->n && (before->n == 0 ||
	    memcmp(after.seqs, before->seqs, before->n * sizeof *before->seqs)
	    == 0), "the repair cut a record that was read before");
	jscan_clear(&s1);
	jscan_clear(&s2);
	fz_seen_free(&fixed);
	fz_seen_free(&after);
}

/* Write the files, scan and check; repair if a tail is torn. */
static void
fz_run(struct fz_file *f, size_t n)
{
	struct fz_seen	seen;
	struct jscan	s;

	bool		torn;

	fz_name(f, n);
	fz_write(f, n);
	torn = fz_scan(false, &seen, &s);
	fz_check_damage(&s, f, n);
	if (torn)
		fz_check_repair(&seen);
	jscan_clear(&s);
	fz_seen_free(&seen);
}

/* One journal directory: as it is, then with its CRCs fixed up. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_file	 f[FZ_MAX_FILES];
	uint8_t		*copy;
	size_t		 n, i;
	bool		 changed = false;

	n = fz_split(data, size, f);
	fz_run(f, n);
	/* Again with every CRC right, so that payloads are read. */
	copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	n = fz_split(copy, size, f);
	for (i = 0; i < n; i++)
		changed |= fz_fixup((uint8_t *)f[i].data, f[i].len);
	if (changed)
		fz_run(f, n);
	free(copy);
	return 0;
}
