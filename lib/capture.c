/*
 * Output capture: drain a task's pipe on the event loop into its log file
 * or a memory buffer, up to a cap.
 *
 * The pipe is always drained, even past the cap and even if the log
 * cannot be written, so a task never blocks on a full pipe because of us;
 * only what is kept is bounded.  Each wakeup reads a few chunks at most,
 * so one chatty task cannot starve the rest of the loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "capture.h"
#include "log.h"
#include "units.h"
#include "xmalloc.h"

#define CAPTURE_CHUNK		(64 * 1024)
/* Chunks per wakeup: 256 KiB, then the loop gets a turn. */
#define CAPTURE_ROUNDS		4

struct capture {
	struct event	*ev;
	int		 fd;
	int		 out_fd;
	struct buf	*mem;
	int64_t		 cap;		/* < 0: no cap */
	int64_t		 nread;
	int64_t		 kept;
	int		 cut;
	bool		 write_failed;
	int		(*open_cb)(void *);
	void		*open_arg;
	capture_eof_cb	 cb;
	void		*arg;
};

/* One buffer for every capture: the loop runs them one at a time. */
static char	capture_chunk[CAPTURE_CHUNK];

/* Write all of p to the log file, or keep it in memory. */
static void
capture_emit(struct capture *c, const char *p, size_t len)
{
	ssize_t	n;

	if (c->out_fd == -1 && c->open_cb != NULL && !c->write_failed &&
	    len > 0 && (c->out_fd = c->open_cb(c->open_arg)) == -1) {
		log_warn("capture: opening the output log");
		c->write_failed = true;
	}
	if (c->out_fd == -1) {
		if (c->mem != NULL)
			buf_add(c->mem, p, len);
		return;
	}
	while (len > 0 && !c->write_failed) {
		if ((n = write(c->out_fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			/* Keep draining the pipe; only the log loses. */
			log_warn("capture: writing output");
			c->write_failed = true;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Keep what fits under the cap; mark the cut once, drop the rest. */
static void
capture_take(struct capture *c, const char *p, size_t len)
{
	char	 marker[64], size[32];
	size_t	 keep = len;
	int	 n;

	c->nread += (int64_t)len;
	if (c->cut)
		return;
	if (c->cap >= 0 && (int64_t)len > c->cap - c->kept)
		keep = (size_t)(c->cap - c->kept);
	capture_emit(c, p, keep);
	c->kept += (int64_t)keep;
	if (keep == len)
		return;
	units_format_size(c->cap, size, sizeof size);
	n = snprintf(marker, sizeof marker,
	    "\n[pipelined: output cut at %s]\n", size);
	if (n > 0 && (size_t)n < sizeof marker)
		capture_emit(c, marker, (size_t)n);
	c->cut = 1;
}

/* EOF or a read error: stop watching, release the pipe, tell the owner. */
static void
capture_finish(struct capture *c)
{
	event_del(c->ev);
	close(c->fd);
	c->fd = -1;
	/* Last: the callback may free c. */
	c->cb(c, c->arg);
}

/* The pipe is readable: drain a bounded amount. */
static void
capture_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capture	*c = arg;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < CAPTURE_ROUNDS; i++) {
		n = read(c->fd, capture_chunk, sizeof capture_chunk);
		if (n > 0) {
			capture_take(c, capture_chunk, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR) {
			i--;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1)
			log_warn("capture: reading output");
		capture_finish(c);
		return;
	}
}

/*
 * Start draining fd (see capture.h).  A cap < 0 keeps everything.  On
 * failure (a bad descriptor, libevent refusing the event) fd is closed,
 * since the capture owned it, and NULL returned.
 */
struct capture *
capture_start(struct event_base *base, int fd, int out_fd, struct buf *mem,
    int64_t cap, capture_eof_cb cb, void *arg)
{
	struct capture	*c;
	int		 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("capture: descriptor %d", fd);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->out_fd = out_fd;
	c->mem = mem;
	c->cap = cap;
	c->cb = cb;
	c->arg = arg;
	c->ev = event_new(base, fd, EV_READ | EV_PERSIST, capture_read_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1) {
		log_warnx("capture: cannot watch descriptor %d", fd);
		capture_free(c);
		return NULL;
	}
	return c;
}

/*
 * Open the output file only when the first byte comes: most tasks print
 * nothing, and creating a file costs more than running them.
 */
void
capture_set_opener(struct capture *c, int (*open_cb)(void *), void *arg)
{
	c->open_cb = open_cb;
	c->open_arg = arg;
}

/* Bytes read from the pipe so far, kept or not. */
int64_t
capture_bytes(const struct capture *c)
{
	return c->nread;
}

/* 1 once the cap was reached and output dropped. */
int
capture_cut(const struct capture *c)
{
	return c->cut;
}

/* Stop capturing and close the pipe; the log file stays the caller's. */
void
capture_free(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}
