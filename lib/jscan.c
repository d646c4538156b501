/*
 * Journal reading: snapshot and segments, damage reports, torn-tail repair.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "jio.h"
#include "jscan.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

struct jscan_state {
	struct jscan	*out;
	jscan_cb	 cb;
	void		*arg;
	uint64_t	 covered;	/* seqs up to this are in the snapshot */
};

static int
jscan_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name is PREFIX-<16 hex>.pjl. */
static bool
jscan_is(const char *name, const char *prefix)
{
	size_t	plen = strlen(prefix), i;

	if (strncmp(name, prefix, plen) != 0 || strlen(name) != plen + 20 ||
	    strcmp(name + plen + 16, ".pjl") != 0)
		return false;
	for (i = plen; i < plen + 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* The segment (seg-...) and snapshot (snap-...) names of dir, sorted. */
int
jscan_list(const char *dir, char ***segs, size_t *nseg, char ***snaps,
    size_t *nsnap, char **err)
{
	struct dirent	*de;
	DIR		*d;

	*segs = *snaps = NULL;
	*nseg = *nsnap = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		*err = xprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (jscan_is(de->d_name, "seg-")) {
			*segs = xreallocarray(*segs, *nseg + 1, sizeof **segs);
			(*segs)[(*nseg)++] = xstrdup(de->d_name);
		} else if (jscan_is(de->d_name, "snap-")) {
			*snaps = xreallocarray(*snaps, *nsnap + 1,
			    sizeof **snaps);
			(*snaps)[(*nsnap)++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	/* Fixed-width hex: name order is sequence order. */
	if (*nseg > 1)
		qsort(*segs, *nseg, sizeof **segs, jscan_name_cmp);
	if (*nsnap > 1)
		qsort(*snaps, *nsnap, sizeof **snaps, jscan_name_cmp);
	return 0;
}

/* Free a list from jscan_list(). */
void
jscan_free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
jscan_damage(struct jscan *s, const char *file, uint64_t start, uint64_t end,
    bool torn, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Record one damaged stretch. */
static void
jscan_damage(struct jscan *s, const char *file, uint64_t start, uint64_t end,
    bool torn, const char *fmt, ...)
{
	struct jdamage	*d;
	va_list		 ap;

	s->damage = xreallocarray(s->damage, s->ndamage + 1, sizeof *s->damage);
	d = &s->damage[s->ndamage++];
	d->file = xstrdup(file);
	d->start = start;
	d->end = end;
	d->seq_before = s->last_seq;
	d->torn = torn;
	va_start(ap, fmt);
	if (vasprintf(&d->what, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
}

/* A file's bytes, mapped read-only (or empty). */
struct jscan_file {
	const uint8_t	*data;
	size_t		 len;
	bool		 mapped;
};

/*
 * A whole file, mapped (no copy, and no heap the size of a segment) when
 * map, read otherwise.
 */
static int
jscan_read(const char *path, struct jscan_file *f, bool map, char **err)
{
	struct stat	st;
	void		*p;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	f->data = NULL;
	f->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	f->mapped = map;
	if (st.st_size > 0 && !map) {
		f->data = p = xmalloc((size_t)st.st_size);
		while (got < (size_t)st.st_size) {
			n = read(fd, (char *)p + got, (size_t)st.st_size - got);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		f->len = got;	/* it may have shrunk meanwhile */
	} else if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
		    0);
		if (p == MAP_FAILED) {
			*err = xprintf("%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
		f->data = p;
		f->len = (size_t)st.st_size;
	}
	close(fd);
	return 0;
}

static void
jscan_release(struct jscan_file *f)
{
	if (f->data != NULL && f->mapped)
		munmap((void *)f->data, f->len);
	else
		free((void *)f->data);
	f->data = NULL;
	f->len = 0;
}

/* The offset of the next valid record after off, or len. */
static size_t
jscan_resync(const uint8_t *p, size_t len, size_t off, uint64_t after)
{
	struct jrec	r;
	size_t		i;

	for (i = off + 1; i + JREC_HEADER <= len; i++) {
		if (p[i] != 0x52 || p[i + 1] != 0x4a || p[i + 2] != 0x50 ||
		    p[i + 3] != 0x4c)
			continue;
		if (jrec_parse(p + i, len - i, &r) == JREC_OK && r.seq > after)
			return i;
	}
	return len;
}

/* Copy [off, EOF) of path aside and cut it off, syncing both. */
static int
jscan_repair(const char *dir, const char *name, const uint8_t *p, size_t off,
    size_t len, char **err)
{
	char	*path, *aside;
	int	 fd, dfd, rc = -1;

	path = xprintf("%s/%s", dir, name);
	aside = xprintf("%s.broken-%lld", path, (long long)timefmt_now_us());
	if ((fd = jio_open(aside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || jio_write(fd, p + off, len - off) !=
	    (ssize_t)(len - off) || jio_fsync(fd) == -1) {
		*err = xprintf("%s: %s", aside, strerror(errno));
		goto out;
	}
	jio_close(fd);
	if ((fd = jio_open(path, O_WRONLY | O_CLOEXEC, 0)) == -1 ||
	    jio_ftruncate(fd, (off_t)off) == -1 || jio_fsync(fd) == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		jio_fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd != -1)
		jio_close(fd);
	free(path);
	free(aside);
	return rc;
}

/* Deliver one valid record, checking the sequence. */
static void
jscan_deliver(struct jscan_state *st, const char *file, size_t off,
    const struct jrec *r)
{
	struct jscan	*s = st->out;

	if (r->type == JREC_PAD || r->seq <= st->covered)
		return;		/* filler, or in the snapshot already */
	if (s->last_seq != 0 && r->seq <= s->last_seq) {
		jscan_damage(s, file, off, off + r->size, false,
		    "record %" PRIu64 " repeats or goes back (after %" PRIu64
		    ")", r->seq, s->last_seq);
		return;
	}
	if (s->last_seq != 0 && r->seq != s->last_seq + 1)
		jscan_damage(s, file, off, off, false, "records %" PRIu64
		    " to %" PRIu64 " are missing", s->last_seq + 1, r->seq - 1);
	if (st->cb(r, st->arg) == -1) {
		jscan_damage(s, file, off, off + r->size, false,
		    "record %" PRIu64 " (%s) could not be applied", r->seq,
		    jrec_type_name(r->type));
	}
	if (s->first_seq == 0)
		s->first_seq = r->seq;
	s->records++;
	s->last_seq = r->seq;
	s->clean_shutdown = r->type == JREC_CLEAN_SHUTDOWN;
}

/* Scan one segment file. */
static int
jscan_segment(struct jscan_state *st, const char *dir, const char *name,
    bool newest, bool repair, char **err)
{
	struct jscan		*s = st->out;
	struct jseg_header	 h;
	struct jrec		 r;
	struct jscan_file	 b;
	enum jrec_check		 rc;
	const uint8_t		*p;
	size_t			 off = JSEG_HEADER, next;
	char			*path;

	path = xprintf("%s/%s", dir, name);
	if (jscan_read(path, &b, repair, err) == -1) {
		free(path);
		return -1;
	}
	free(path);
	s->segments++;
	s->bytes += b.len;
	p = b.data;
	if (b.len < JSEG_HEADER || jseg_header_parse(p, &h) == -1) {
		if (newest && b.len < JSEG_HEADER) {
			/* Cut while being created. */
			jscan_damage(s, name, 0, b.len, true,
			    "segment header torn");
			if (repair && b.len > 0 && jscan_repair(dir, name, p, 0,
			    b.len, err) == -1)
				log_warnx("journal: %s", *err);
			jscan_release(&b);
			return 0;
		}
		/* Its records still verify on their own. */
		jscan_damage(s, name, 0, b.len < JSEG_HEADER ? b.len :
		    JSEG_HEADER, false, "bad segment header");
	} else {
		if (!s->have_id) {
			memcpy(s->journal_id, h.journal_id, 16);
			s->have_id = true;
		} else if (memcmp(s->journal_id, h.journal_id, 16) != 0)
			jscan_damage(s, name, 0, JSEG_HEADER, false,
			    "segment of another journal");
		if (h.segment_no > s->max_segment_no)
			s->max_segment_no = h.segment_no;
	}
	while (off < b.len) {
		if ((rc = jrec_parse(p + off, b.len - off, &r)) == JREC_OK) {
			jscan_deliver(st, name, off, &r);
			off += r.size;
			continue;
		}
		next = jscan_resync(p, b.len, off, s->last_seq);
		if (next < b.len) {
			jscan_damage(s, name, off, next, false, "%s",
			    jrec_check_name(rc));
			off = next;
			continue;
		}
		if (newest) {
			jscan_damage(s, name, off, b.len, true, "torn tail (%s)",
			    jrec_check_name(rc));
			if (repair && jscan_repair(dir, name, p, off, b.len,
			    err) == -1)
				log_warnx("journal: %s", *err);
		} else
			jscan_damage(s, name, off, b.len, false, "%s to the "
			    "end of the segment", jrec_check_name(rc));
		break;
	}
	jscan_release(&b);
	return 0;
}

/*
 * Read the newest snapshot.  A published snapshot was whole when it was
 * renamed into place, and the segments it covers may be gone: so damage
 * in it is reported and skipped like damage in a segment, and every
 * intact record is still delivered.  It covers the journal up to the seq
 * of its SNAPSHOT_END (or, if that is lost, the one in its name).
 */
static int
jscan_snapshot(struct jscan_state *st, const char *dir, const char *name,
    bool map, char **err)
{
	struct jscan		*s = st->out;
	struct jseg_header	 h;
	struct jrec		 r;
	struct jscan_file	 b;
	enum jrec_check		 rc;
	const uint8_t		*p;
	uint64_t		 covered, prev = 0;
	size_t			 off = JSEG_HEADER, next;
	bool			 ended = false;
	char			*path;

	path = xprintf("%s/%s", dir, name);
	if (jscan_read(path, &b, map, err) == -1) {
		free(path);
		return -1;
	}
	free(path);
	covered = strtoull(name + 5, NULL, 16);
	p = b.data;
	s->bytes += b.len;
	if (b.len < JSEG_HEADER || jseg_header_parse(p, &h) == -1 ||
	    !(h.flags & JSEG_FLAG_SNAPSHOT))
		jscan_damage(s, name, 0, b.len < JSEG_HEADER ? b.len :
		    JSEG_HEADER, false, "bad snapshot header");
	else {
		memcpy(s->journal_id, h.journal_id, 16);
		s->have_id = true;
		if (h.segment_no > s->max_segment_no)
			s->max_segment_no = h.segment_no;
	}
	while (off < b.len) {
		if ((rc = jrec_parse(p + off, b.len - off, &r)) != JREC_OK) {
			next = jscan_resync(p, b.len, off, prev);
			jscan_damage(s, name, off, next, false, "%s in the "
			    "snapshot", jrec_check_name(rc));
			off = next;
			continue;
		}
		if (r.type == JREC_PAD) {
			off += r.size;
			continue;
		}
		if (ended) {
			jscan_damage(s, name, off, b.len, false, "records after "
			    "the end of the snapshot");
			break;
		}
		if (r.type == JREC_SNAPSHOT_END) {
			ended = true;
			covered = r.seq;
		} else
			s->records++;
		if (st->cb(&r, st->arg) == -1)
			jscan_damage(s, name, off, off + r.size, false,
			    "record %" PRIu64 " (%s) of the snapshot could not "
			    "be applied", r.seq, jrec_type_name(r.type));
		prev = r.seq;
		off += r.size;
	}
	if (!ended)
		jscan_damage(s, name, b.len, b.len, false, "the snapshot has "
		    "no end record");
	jscan_release(&b);
	s->snapshot = xstrdup(name);
	s->snapshot_seq = covered;
	s->last_seq = covered;
	st->covered = covered;
	return 0;
}

/* Read a journal directory (see jscan.h). */
int
jscan_dir(const char *dir, bool repair, jscan_cb cb, void *arg,
    struct jscan *s, char **err)
{
	struct jscan_state	 st;
	char			**segs, **snaps;
	size_t			 nseg, nsnap, i;

	memset(s, 0, sizeof *s);
	memset(&st, 0, sizeof st);
	st.out = s;
	st.cb = cb;
	st.arg = arg;
	if (jscan_list(dir, &segs, &nseg, &snaps, &nsnap, err) == -1)
		return -1;
	/*
	 * The newest snapshot (older ones are what a gc interrupted left
	 * behind: the newest covers more), then the segments.  Files are
	 * mapped only when the lock is held (repair): nobody then cuts them
	 * while they are read.
	 */
	if (nsnap > 0 && jscan_snapshot(&st, dir, snaps[nsnap - 1], repair,
	    err) == -1)
		goto fail;
	for (i = 0; i < nseg; i++)
		if (jscan_segment(&st, dir, segs[i], i == nseg - 1, repair,
		    err) == -1)
			goto fail;
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
	return 0;
fail:
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
	return -1;
}

/* Free what a scan found. */
void
jscan_clear(struct jscan *s)
{
	size_t	i;

	for (i = 0; i < s->ndamage; i++) {
		free(s->damage[i].file);
		free(s->damage[i].what);
	}
	free(s->damage);
	free(s->snapshot);
	memset(s, 0, sizeof *s);
}

/* Whether anything but a torn tail was damaged. */
bool
jscan_damaged(const struct jscan *s)
{
	size_t	i;

	for (i = 0; i < s->ndamage; i++)
		if (!s->damage[i].torn)
			return true;
	return false;
}
