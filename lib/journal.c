/*
 * The journal writer: the lock, segments, group commit, rotation, and
 * what happens when the disk says no.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "jformat.h"
#include "jio.h"
#include "journal.h"
#include "journal_int.h"
#include "jsync.h"
#include "log.h"
#include "node.h"
#include "proto.h"
#include "timefmt.h"
#include "xmalloc.h"

/* Buffered records beyond this mean the disk has been gone too long. */
#define JOURNAL_PENDING_MAX	(256u * 1024 * 1024)
#define JOURNAL_RETRY_S		1

/* batch, always, off. */
int
journal_sync_from_name(const char *s, enum journal_sync *out)
{
	if (strcmp(s, "batch") == 0)
		*out = JOURNAL_SYNC_BATCH;
	else if (strcmp(s, "always") == 0)
		*out = JOURNAL_SYNC_ALWAYS;
	else if (strcmp(s, "off") == 0)
		*out = JOURNAL_SYNC_OFF;
	else
		return -1;
	return 0;
}

/* The name of a sync mode. */
const char *
journal_sync_name(enum journal_sync s)
{
	return s == JOURNAL_SYNC_ALWAYS ? "always" : s == JOURNAL_SYNC_OFF ?
	    "off" : "batch";
}

/* fdatasync, or stop: a failed sync leaves nothing to trust. */
void
journal_sync_fd(struct journal *j, int fd, const char *what)
{
	if (jio_fdatasync(fd) == -1) {
		log_warn("journal: fdatasync of %s failed; stopping, the "
		    "journal will be replayed at the next start", what);
		abort();
	}
	j->syncs++;
}

void
journal_sync_dir(struct journal *j)
{
	if (jio_fsync(j->dirfd) == -1) {
		log_warn("journal: fsync of %s failed; stopping", j->dir);
		abort();
	}
	j->syncs++;
}

/* Take STATE_DIR/lock, or say who has it. */
static int
journal_lock(const char *state_dir, char **err)
{
	char	*path, pid[32], who[32] = "";
	ssize_t	 n;
	int	 fd;

	path = xprintf("%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK && (n = pread(fd, who, sizeof who - 1,
		    0)) > 0)
			who[strcspn(who, "\n")] = '\0';
		*err = xprintf("%s is in use by another pipelined%s%s%s",
		    state_dir, *who ? " (pid " : "", who, *who ? ")" : "");
		close(fd);
		free(path);
		errno = EWOULDBLOCK;
		return -1;
	}
	free(path);
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, strlen(pid), 0) == -1)
		log_warn("journal: writing the lock file");
	return fd;
}

/* Create the next segment: tmp, header, sync, rename, sync the dir. */
int
journal_new_segment(struct journal *j, char **err)
{
	struct jseg_header	 h;
	struct buf		 b;
	uint8_t			 hdr[JSEG_HEADER];
	char			*tmp, *path, *name;
	ssize_t			 n = -1;
	int			 fd;

	memset(&h, 0, sizeof h);
	h.version = JSEG_VERSION;
	h.segment_no = ++j->seg_no;
	h.first_seq = j->last_seq + 1;
	memcpy(h.journal_id, j->id, 16);
	h.created_us = (uint64_t)timefmt_now_us();
	jseg_header_encode(hdr, &h);
	buf_init(&b);
	buf_add(&b, hdr, sizeof hdr);
	if (j->pad > 0)
		jrec_pad(&b, 0, j->pad);
	name = xprintf("seg-%016" PRIx64 ".pjl", h.first_seq);
	tmp = xprintf("%s/%s.tmp", j->dir, name);
	path = xprintf("%s/%s", j->dir, name);
	fd = jio_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (n = jio_write(fd, b.data, b.len)) != (ssize_t)b.len) {
		*err = xprintf("%s: %s", tmp, fd != -1 && n >= 0 ?
		    "short write" : strerror(errno));
		buf_release(&b);
		if (fd != -1)
			jio_close(fd);
		jio_unlink(tmp);
		free(tmp);
		free(path);
		free(name);
		return -1;
	}
	journal_sync_fd(j, fd, tmp);
	if (jio_rename(tmp, path) == -1) {
		*err = xprintf("rename %s: %s", tmp, strerror(errno));
		buf_release(&b);
		jio_close(fd);
		jio_unlink(tmp);
		free(tmp);
		free(path);
		free(name);
		return -1;
	}
	journal_sync_dir(j);
	if (j->fd != -1)
		jio_close(j->fd);
	j->fd = fd;
	j->end = (off_t)b.len;
	buf_release(&b);
	free(j->seg_name);
	j->seg_name = name;
	free(tmp);
	free(path);
	return 0;
}

static void	journal_commit_cb(evutil_socket_t, short, void *);
static void	journal_synced_cb(uint64_t, void *);

/* Remember the segments with mid-log damage: compaction sets them aside. */
static void
journal_note_damage(struct journal *j, const struct jscan *scan)
{
	size_t	i, k;

	for (i = 0; i < scan->ndamage; i++) {
		if (scan->damage[i].torn)
			continue;
		for (k = 0; k < j->ndamaged; k++)
			if (strcmp(j->damaged[k], scan->damage[i].file) == 0)
				break;
		if (k < j->ndamaged)
			continue;
		j->damaged = xreallocarray(j->damaged, j->ndamaged + 1,
		    sizeof *j->damaged);
		j->damaged[j->ndamaged++] = xstrdup(scan->damage[i].file);
	}
}
static void	journal_retry_cb(evutil_socket_t, short, void *);

/* Open the journal of a state directory (see journal.h). */
struct journal *
journal_open(const char *state_dir, enum journal_sync sync, size_t pad,
    struct event_base *base, jscan_cb cb, void *arg, struct jscan *scan,
    char **err)
{
	struct journal	*j;
	int		 lockfd;

	if ((lockfd = journal_lock(state_dir, err)) == -1)
		return NULL;
	j = xcalloc(1, sizeof *j);
	j->lockfd = lockfd;
	j->fd = j->dirfd = -1;
	j->sync = sync;
	j->pad = pad;
	j->base = base;
	j->dir = xprintf("%s/journal", state_dir);
	j->available = true;
	if (mkdir(j->dir, 0700) == -1 && errno != EEXIST) {
		*err = xprintf("%s: %s", j->dir, strerror(errno));
		goto fail;
	}
	if ((j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		*err = xprintf("%s: %s", j->dir, strerror(errno));
		goto fail;
	}
	jcompact_remove_tmp(j);
	if (jscan_dir(j->dir, true, cb, arg, scan, err) == -1)
		goto fail;
	j->last_seq = scan->last_seq;
	j->seg_no = scan->max_segment_no;
	journal_note_damage(j, scan);
	if (scan->have_id)
		memcpy(j->id, scan->journal_id, 16);
	else if (getrandom(j->id, sizeof j->id, 0) != (ssize_t)sizeof j->id) {
		*err = xprintf("getrandom: %s", strerror(errno));
		goto fail;
	}
	/* Never append to an old segment: it may be damaged, or cut. */
	if (journal_new_segment(j, err) == -1)
		goto fail;
	j->commit_ev = event_new(base, -1, 0, journal_commit_cb, j);
	/* Below everything else: the commit runs once the turn's work is done. */
	event_priority_set(j->commit_ev, 2);
	j->retry_ev = evtimer_new(base, journal_retry_cb, j);
	if (sync == JOURNAL_SYNC_BATCH)
		j->syncer = jsync_start(base, journal_synced_cb, j);
	return j;
fail:
	if (j->dirfd != -1)
		close(j->dirfd);
	close(j->lockfd);
	free(j->dir);
	free(j);
	return NULL;
}

/* Buffer a record; the commit at the end of the turn writes it. */
void
journal_append(struct journal *j, uint8_t type, uint64_t exec,
    const struct node *payload)
{
	struct journal_rec	*r;

	if (j->pending_bytes > JOURNAL_PENDING_MAX)
		fatalx("journal: %zu bytes could not be written for too long; "
		    "stopping", j->pending_bytes);
	/* Doubling: a turn may append a record per task result. */
	if (j->npending == j->cappending) {
		j->cappending = j->cappending == 0 ? 64 : 2 * j->cappending;
		j->pending = xreallocarray(j->pending, j->cappending,
		    sizeof *j->pending);
	}
	r = &j->pending[j->npending++];
	r->type = type;
	r->exec = exec;
	buf_init(&r->payload);
	proto_pack(&r->payload, payload);
	j->pending_bytes += r->payload.len + JREC_HEADER;
	if (j->sync == JOURNAL_SYNC_ALWAYS)
		journal_flush(j);
	else if (j->available)
		event_active(j->commit_ev, EV_TIMEOUT, 0);
}

/*
 * Run cb once what was appended so far is durable or failed: it waits for
 * the write of what is pending (the next generation), or, with nothing
 * pending, for the sync of what was written already.
 */
void
journal_when_durable(struct journal *j, journal_done_cb cb, void *arg)
{
	j->waiters = xreallocarray(j->waiters, j->nwaiters + 1,
	    sizeof *j->waiters);
	j->waiters[j->nwaiters].cb = cb;
	j->waiters[j->nwaiters].arg = arg;
	j->waiters[j->nwaiters].gen = j->gen + (j->npending > 0 ? 1 : 0);
	j->nwaiters++;
	if (j->available)
		event_active(j->commit_ev, EV_TIMEOUT, 0);
}

/*
 * Drop the buffered records of an execution whose creation failed to be
 * written: it was never acknowledged, so it must never appear.
 */
void
journal_forget(struct journal *j, uint64_t exec)
{
	size_t	i, out = 0;

	for (i = 0; i < j->npending; i++) {
		if (j->pending[i].exec == exec) {
			j->pending_bytes -= j->pending[i].payload.len +
			    JREC_HEADER;
			buf_release(&j->pending[i].payload);
			continue;
		}
		j->pending[out++] = j->pending[i];
	}
	j->npending = out;
}

/*
 * Tell the waiters for generations up to gen how it went: all of them
 * when ok (synced), only those of generation gen when not (its write
 * failed; earlier ones are written and still wait for their sync).
 */
static void
journal_notify(struct journal *j, uint64_t gen, bool ok)
{
	struct journal_waiter	*w, *due = NULL;
	size_t			 i, ndue = 0, keep = 0;

	for (i = 0; i < j->nwaiters; i++) {
		w = &j->waiters[i];
		if (ok ? w->gen <= gen : w->gen == gen) {
			due = xreallocarray(due, ndue + 1, sizeof *due);
			due[ndue++] = *w;
		} else
			j->waiters[keep++] = *w;
	}
	j->nwaiters = keep;
	for (i = 0; i < ndue; i++)
		due[i].cb(ok, due[i].arg);
	free(due);
}

/* Everything up to gen is durable. */
static void
journal_synced(struct journal *j, uint64_t gen)
{
	if (gen > j->synced)
		j->synced = gen;
	journal_notify(j, j->synced, true);
}

/* The sync thread finished generations up to gen. */
static void
journal_synced_cb(uint64_t gen, void *arg)
{
	journal_synced(arg, gen);
}

static void
journal_drop_pending(struct journal *j)
{
	size_t	i;

	for (i = 0; i < j->npending; i++)
		buf_release(&j->pending[i].payload);
	free(j->pending);
	j->pending = NULL;
	j->npending = j->cappending = 0;
	j->pending_bytes = 0;
}

/* Rotate once the segment is big: SEGMENT_END, then a new segment. */
void
journal_rotate(struct journal *j)
{
	struct node	*end;
	char		*err = NULL;

	if (j->rotating)
		return;
	j->rotating = true;
	end = node_new(NODE_MAP);
	node_map_set_str(end, "next_segment", node_new_int(
	    (int64_t)j->seg_no + 1));
	journal_append(j, JREC_SEGMENT_END, 0, end);
	node_free(end);
	if (j->syncer != NULL)
		jsync_wait_idle(j->syncer);	/* it must not sync a closed fd */
	if (journal_flush(j) == 0 && journal_new_segment(j, &err) == -1) {
		log_warnx("journal: %s; staying in %s", err, j->seg_name);
		free(err);
	}
	j->rotating = false;
}

/* Writing works (again). */
static void
journal_works(struct journal *j)
{
	if (j->available)
		return;
	log_info("journal: writing works again");
	j->available = true;
	free(j->error);
	j->error = NULL;
}

/*
 * Write everything buffered at the end of the segment in one write (a new
 * generation); sequence numbers are given here.  A failed or short write
 * is cut back and the batch's waiters told; its records stay buffered for
 * the retry.
 */
static int
journal_write(struct journal *j)
{
	struct buf	 b;
	ssize_t		 n;
	size_t		 i, done = 0;

	if (j->npending == 0) {
		/*
		 * Nothing waits (the failed batch's submissions were dropped):
		 * the journal takes submissions again, their write will tell.
		 */
		journal_works(j);
		return 0;
	}
	buf_init(&b);
	for (i = 0; i < j->npending; i++)
		jrec_encode(&b, j->last_seq + 1 + i, j->pending[i].type,
		    j->pending[i].payload.data,
		    (uint32_t)j->pending[i].payload.len);
	/* The next batch must not share a sector with this one. */
	if (j->pad > 0)
		jrec_pad(&b, (uint64_t)j->end, j->pad);
	while (done < b.len) {
		n = jio_pwrite(j->fd, b.data + done, b.len - done,
		    j->end + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < b.len) {
		free(j->error);
		j->error = xprintf("writing %s: %s", j->seg_name,
		    done > 0 || errno == 0 ? "short write" : strerror(errno));
		log_warnx("journal: %s; new submissions are refused until "
		    "writing works again", j->error);
		if (jio_ftruncate(j->fd, j->end) == -1)
			log_warn("journal: cutting %s back", j->seg_name);
		buf_release(&b);
		j->available = false;
		journal_notify(j, j->gen + 1, false);
		if (!evtimer_pending(j->retry_ev, NULL)) {
			struct timeval tv = { JOURNAL_RETRY_S, 0 };
			evtimer_add(j->retry_ev, &tv);
		}
		return -1;
	}
	j->end += (off_t)b.len;
	j->last_seq += j->npending;
	j->records_written += j->npending;
	j->commits++;
	j->gen++;
	buf_release(&b);
	journal_drop_pending(j);
	journal_works(j);
	return 0;
}

/*
 * Write and sync everything now, on this thread (compaction, closing,
 * "always", and runners' callers that must not wait).
 */
int
journal_flush(struct journal *j)
{
	if (journal_write(j) == -1)
		return -1;
	if (j->sync != JOURNAL_SYNC_OFF && j->synced < j->gen)
		journal_sync_fd(j, j->fd, j->seg_name);
	journal_synced(j, j->gen);
	if (j->end >= jio_segment_max())
		journal_rotate(j);
	return 0;
}

/*
 * The end of a turn: write what it produced; with "batch", the sync
 * thread makes it durable while the loop goes on, and the waiters are
 * told when it did.
 */
static void
journal_commit(struct journal *j)
{
	if (j->sync != JOURNAL_SYNC_BATCH || j->syncer == NULL) {
		journal_flush(j);
		return;
	}
	if (journal_write(j) == -1)
		return;
	if (j->end >= jio_segment_max()) {
		journal_flush(j);	/* rotation syncs on this thread */
		return;
	}
	if (j->synced < j->gen)
		jsync_request(j->syncer, j->fd, j->gen);
	else
		journal_notify(j, j->synced, true);
}

static void
journal_commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	journal_commit(arg);
}

static void
journal_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct journal	*j = arg;
	struct timeval	 tv = { JOURNAL_RETRY_S, 0 };

	if (journal_flush(j) == -1 && !evtimer_pending(j->retry_ev, NULL))
		evtimer_add(j->retry_ev, &tv);
}

/* Whether writing works. */
bool
journal_available(const struct journal *j)
{
	return j->available;
}

/* Stop: mark a clean shutdown, write what is left, release the lock. */
void
journal_close(struct journal *j, bool clean)
{
	struct node	*n;
	size_t		 i;

	if (j == NULL)
		return;
	if (clean) {
		n = node_new(NODE_MAP);
		node_map_set_str(n, "time", node_new_int(timefmt_now_us()));
		journal_append(j, JREC_CLEAN_SHUTDOWN, 0, n);
		node_free(n);
	}
	if (journal_flush(j) == -1)
		log_warnx("journal: %zu records could not be written at exit",
		    j->npending);
	if (j->syncer != NULL) {
		jsync_wait_idle(j->syncer);
		jsync_stop(j->syncer);
	}
	journal_drop_pending(j);
	event_free(j->commit_ev);
	event_free(j->retry_ev);
	if (j->fd != -1)
		jio_close(j->fd);
	close(j->dirfd);
	close(j->lockfd);
	free(j->waiters);
	for (i = 0; i < j->ndamaged; i++)
		free(j->damaged[i]);
	free(j->damaged);
	free(j->seg_name);
	free(j->error);
	free(j->dir);
	free(j);
}

/* Figures for pipectl status. */
void
journal_stats(struct journal *j, struct journal_stats *st)
{
	char	**segs, **snaps, *path, *err = NULL;
	size_t	  nseg, nsnap, i;
	struct stat sb;

	memset(st, 0, sizeof *st);
	st->last_seq = j->last_seq;
	st->records_written = j->records_written;
	st->pending = j->npending;
	st->commits = j->commits;
	st->syncs = j->syncs + (j->syncer != NULL ? jsync_count(j->syncer) : 0);
	st->error = j->error;
	if (jscan_list(j->dir, &segs, &nseg, &snaps, &nsnap, &err) == -1) {
		free(err);
		return;
	}
	st->segments = (unsigned)nseg;
	for (i = 0; i < nseg + nsnap; i++) {
		path = xprintf("%s/%s", j->dir, i < nseg ? segs[i] :
		    snaps[i - nseg]);
		if (stat(path, &sb) == 0)
			st->bytes += (uint64_t)sb.st_size;
		free(path);
	}
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
}

/* STATE_DIR/journal. */
const char *
journal_dir(const struct journal *j)
{
	return j->dir;
}
