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
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
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

/* Read a whole file. */
static int
jscan_read(const char *path, struct buf *b, char **err)
{
	ssize_t	n;
	int	fd;

	buf_init(b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		buf_reserve(b, 1 << 20);
		n = read(fd, b->data + b->len, b->cap - 1 - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*err = xprintf("%s: %s", path, strerror(errno));
			close(fd);
			buf_release(b);
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	close(fd);
	return 0;
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
	if ((fd = open(aside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || write(fd, p + off, len - off) !=
	    (ssize_t)(len - off) || fsync(fd) == -1) {
		*err = xprintf("%s: %s", aside, strerror(errno));
		goto out;
	}
	close(fd);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    ftruncate(fd, (off_t)off) == -1 || fsync(fd) == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
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

	if (r->seq <= st->covered)
		return;		/* in the snapshot already */
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
	if (s->records++ == 0)
		s->first_seq = r->seq;
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
	struct buf		 b;
	enum jrec_check		 rc;
	const uint8_t		*p;
	size_t			 off = JSEG_HEADER, next;
	char			*path;

	path = xprintf("%s/%s", dir, name);
	if (jscan_read(path, &b, err) == -1) {
		free(path);
		return -1;
	}
	free(path);
	s->segments++;
	s->bytes += b.len;
	p = (const uint8_t *)b.data;
	if (b.len < JSEG_HEADER || jseg_header_parse(p, &h) == -1) {
		if (newest && b.len < JSEG_HEADER) {
			/* Cut while being created. */
			jscan_damage(s, name, 0, b.len, true,
			    "segment header torn");
			if (repair && b.len > 0 && jscan_repair(dir, name, p, 0,
			    b.len, err) == -1)
				log_warnx("journal: %s", *err);
			buf_release(&b);
			return 0;
		}
		/* Its records still verify on their own. */
		jscan_damage(s, name, 0, JSEG_HEADER, false,
		    "bad segment header");
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
	buf_release(&b);
	return 0;
}

struct jscan_snap {
	struct jscan_state	*st;
	uint64_t		 count;
	uint64_t		 last_seq;
	bool			 ended;
	bool			 bad;
};

static int
jscan_snap_cb(const struct jrec *r, void *arg)
{
	struct jscan_snap	*sn = arg;

	if (sn->ended)
		sn->bad = true;
	if (r->type == JREC_SNAPSHOT_END) {
		/* Its seq is the last journal record the snapshot covers. */
		sn->ended = true;
		sn->last_seq = r->seq;
		return 0;
	}
	sn->count++;
	return 0;
}

/*
 * Whether a snapshot file is whole: a valid header, every record valid,
 * ending with SNAPSHOT_END.  A snapshot cut by a crash is simply unused.
 */
static bool
jscan_snapshot_ok(const char *dir, const char *name, uint64_t *last)
{
	struct jseg_header	 h;
	struct jscan_snap	 sn;
	struct jrec		 r;
	struct buf		 b;
	const uint8_t		*p;
	size_t			 off = JSEG_HEADER;
	char			*path, *err = NULL;
	int			 rc;

	path = xprintf("%s/%s", dir, name);
	rc = jscan_read(path, &b, &err);
	free(path);
	free(err);
	if (rc == -1)
		return false;
	memset(&sn, 0, sizeof sn);
	p = (const uint8_t *)b.data;
	if (b.len < JSEG_HEADER || jseg_header_parse(p, &h) == -1 ||
	    !(h.flags & JSEG_FLAG_SNAPSHOT))
		sn.bad = true;
	while (!sn.bad && off < b.len) {
		if (jrec_parse(p + off, b.len - off, &r) != JREC_OK) {
			sn.bad = true;
			break;
		}
		jscan_snap_cb(&r, &sn);
		off += r.size;
	}
	buf_release(&b);
	*last = sn.last_seq;
	return !sn.bad && sn.ended;
}

static int
jscan_snap_deliver_cb(const struct jrec *r, void *arg)
{
	struct jscan_state	*st = arg;
	struct jscan		*s = st->out;

	if (r->type == JREC_SNAPSHOT_END) {
		s->last_seq = r->seq;
		return st->cb(r, st->arg);
	}
	s->records++;
	return st->cb(r, st->arg);
}

/* Deliver the records of a whole snapshot. */
static int
jscan_snapshot(struct jscan_state *st, const char *dir, const char *name,
    char **err)
{
	struct jseg_header	 h;
	struct jrec		 r;
	struct buf		 b;
	const uint8_t		*p;
	size_t			 off = JSEG_HEADER;
	char			*path;

	path = xprintf("%s/%s", dir, name);
	if (jscan_read(path, &b, err) == -1) {
		free(path);
		return -1;
	}
	free(path);
	p = (const uint8_t *)b.data;
	st->out->bytes += b.len;
	if (jseg_header_parse(p, &h) == 0) {
		memcpy(st->out->journal_id, h.journal_id, 16);
		st->out->have_id = true;
		if (h.segment_no > st->out->max_segment_no)
			st->out->max_segment_no = h.segment_no;
	}
	while (off < b.len && jrec_parse(p + off, b.len - off, &r) ==
	    JREC_OK) {
		if (jscan_snap_deliver_cb(&r, st) == -1)
			jscan_damage(st->out, name, off, off + r.size, false,
			    "record %" PRIu64 " (%s) could not be applied",
			    r.seq, jrec_type_name(r.type));
		off += r.size;
	}
	buf_release(&b);
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
	uint64_t		 last = 0;

	memset(s, 0, sizeof *s);
	memset(&st, 0, sizeof st);
	st.out = s;
	st.cb = cb;
	st.arg = arg;
	if (jscan_list(dir, &segs, &nseg, &snaps, &nsnap, err) == -1)
		return -1;
	/* The newest whole snapshot; older ones are what gc left behind. */
	for (i = nsnap; i-- > 0;) {
		if (!jscan_snapshot_ok(dir, snaps[i], &last)) {
			log_warnx("journal: snapshot %s is incomplete; not used",
			    snaps[i]);
			continue;
		}
		if (jscan_snapshot(&st, dir, snaps[i], err) == -1)
			goto fail;
		s->snapshot = xstrdup(snaps[i]);
		s->snapshot_seq = last;
		st.covered = last;
		break;
	}
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
