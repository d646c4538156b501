/*
 * Streams: "watch" (every change as it happens) and "logs" (an output log,
 * optionally followed while its task runs).  A stream belongs to its
 * connection and ends with it.  Log data is sent in chunks, and only while
 * the client keeps up, so a big log never piles up in the daemon.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "node.h"
#include "outlog.h"
#include "proto.h"
#include "result.h"
#include "status.h"
#include "timefmt.h"
#include "view.h"
#include "xmalloc.h"

#define STREAM_CHUNK		(64 * 1024)
#define STREAM_BACKLOG		(1024 * 1024)	/* pending before pausing */
#define STREAM_POLL_MS		100

struct watch {
	struct conn		*c;
	int64_t			 id;
	struct execution	*filter;
	TAILQ_ENTRY(watch)	 entry;
};
TAILQ_HEAD(watches, watch);
static struct watches	 stream_watches = TAILQ_HEAD_INITIALIZER(stream_watches);

struct logs {
	struct conn		*c;
	int64_t			 id;
	struct task_result	*tr;
	bool			 follow;
	int			 fd;
	char			*path;
	struct event		*timer;
	TAILQ_ENTRY(logs)	 entry;
};
TAILQ_HEAD(logses, logs);
static struct logses	 stream_logses = TAILQ_HEAD_INITIALIZER(stream_logses);

static struct node *
stream_status(const struct result *r)
{
	const char	*s = status_name(r->status);

	return node_new_str(s, strlen(s));
}

static void
stream_watch_free(void *arg)
{
	struct watch	*w = arg;

	TAILQ_REMOVE(&stream_watches, w, entry);
	free(w);
}

/* The last message of a single-execution watch: it is final. */
static void
stream_watch_end(struct watch *w)
{
	struct node	*r = proto_reply_ok(w->id);
	struct conn	*c = w->c;

	node_map_set_str(r, "end", node_new_bool(true));
	node_map_set_str(r, "status", stream_status(&w->filter->r));
	conn_set_stream(c, NULL, NULL);		/* frees w */
	conn_send(c, r);
	node_free(r);
}

/* Start a watch of every visible execution, or of one. */
void
stream_watch(struct conn *c, int64_t id, struct execution *filter)
{
	struct watch	*w;
	struct node	*r;

	w = xcalloc(1, sizeof *w);
	w->c = c;
	w->id = id;
	w->filter = filter;
	TAILQ_INSERT_TAIL(&stream_watches, w, entry);
	conn_set_stream(c, w, stream_watch_free);
	r = proto_reply_ok(id);
	node_map_set_str(r, "watching", node_new_bool(true));
	if (filter != NULL)
		node_map_set_str(r, "status", stream_status(&filter->r));
	conn_send(c, r);
	node_free(r);
	if (filter != NULL && result_is_final(&filter->r) &&
	    conn_stream(c) == w)
		stream_watch_end(w);
}

/* The reporter's sink: pass a change to every watch that wants it. */
void
stream_change_cb(struct result *res, void *arg)
{
	struct watch	*w, *next;
	struct node	*ev = NULL, *msg;
	struct conn	*c;

	TAILQ_FOREACH_SAFE(w, &stream_watches, entry, next) {
		if (w->filter != NULL && w->filter != res->exec)
			continue;
		if (!dispatch_may_see(conn_peer(w->c), res->exec))
			continue;
		if (ev == NULL)
			ev = view_event(res, timefmt_now_us());
		msg = proto_reply_ok(w->id);
		node_map_set_str(msg, "event", node_copy(ev));
		c = w->c;
		conn_send(c, msg);
		node_free(msg);
		/* conn_send may have dropped a slow client, and w with it. */
		if (conn_stream(c) == w && w->filter != NULL &&
		    res == &w->filter->r && result_is_final(res))
			stream_watch_end(w);
	}
	node_free(ev);
}

static void
stream_logs_free(void *arg)
{
	struct logs	*l = arg;

	TAILQ_REMOVE(&stream_logses, l, entry);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->fd != -1)
		close(l->fd);
	free(l->path);
	free(l);
}

/* Send what the log holds beyond what was sent; -1 on a read error. */
static int
stream_logs_send(struct logs *l, bool *at_eof)
{
	struct node	*r;
	char		 buf[STREAM_CHUNK];
	ssize_t		 n;

	*at_eof = false;
	if (l->fd == -1 && (l->fd = open(l->path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		*at_eof = true;		/* not written yet */
		return errno == ENOENT ? 0 : -1;
	}
	while (conn_output_pending(l->c) < STREAM_BACKLOG) {
		if ((n = read(l->fd, buf, sizeof buf)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			*at_eof = true;
			break;
		}
		r = proto_reply_ok(l->id);
		node_map_set_str(r, "data", node_new_bin(buf, (size_t)n));
		conn_send(l->c, r);
		node_free(r);
		if (conn_stream(l->c) != l)
			return 1;	/* the client was dropped */
	}
	return 0;
}

static void
stream_logs_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct logs	*l = arg;
	struct conn	*c = l->c;
	struct timeval	 tv = { 0, STREAM_POLL_MS * 1000 };
	struct node	*r;
	bool		 eof, final;
	int		 rc;

	/* Final first: once final, what is in the file is all there is. */
	final = result_is_final(&l->tr->r);
	if ((rc = stream_logs_send(l, &eof)) == 1)
		return;
	if (rc == -1) {
		conn_send_error(c, l->id, "io", "reading %s: %s", l->path,
		    strerror(errno));
		conn_set_stream(c, NULL, NULL);
		return;
	}
	if (eof && (final || !l->follow)) {
		r = proto_reply_ok(l->id);
		node_map_set_str(r, "eof", node_new_bool(true));
		node_map_set_str(r, "status", stream_status(&l->tr->r));
		conn_set_stream(c, NULL, NULL);
		conn_send(c, r);
		node_free(r);
		return;
	}
	evtimer_add(l->timer, &tv);
}

/* Send a task result's output log, and follow it if asked. */
void
stream_logs(struct conn *c, int64_t id, struct result *r, bool follow)
{
	struct logs	*l;

	l = xcalloc(1, sizeof *l);
	l->c = c;
	l->id = id;
	l->tr = (struct task_result *)r;
	l->follow = follow;
	l->fd = -1;
	l->path = outlog_path(conn_daemon(c)->opts.state_dir, l->tr);
	l->timer = evtimer_new(conn_daemon(c)->base, stream_logs_cb, l);
	TAILQ_INSERT_TAIL(&stream_logses, l, entry);
	conn_set_stream(c, l, stream_logs_free);
	stream_logs_cb(-1, 0, l);
}

/* An execution goes away (gc): end every stream that follows it. */
void
stream_forget(struct execution *e)
{
	struct watch	*w, *wn;
	struct logs	*l, *ln;
	struct conn	*c;
	int64_t		 id;

	if (e == NULL)
		return;
	TAILQ_FOREACH_SAFE(w, &stream_watches, entry, wn) {
		if (w->filter != e)
			continue;
		c = w->c;
		id = w->id;
		conn_set_stream(c, NULL, NULL);
		conn_send_error(c, id, "not_found", "execution %llu was "
		    "removed", (unsigned long long)e->id);
	}
	TAILQ_FOREACH_SAFE(l, &stream_logses, entry, ln) {
		if (l->tr->r.exec != e)
			continue;
		c = l->c;
		id = l->id;
		conn_set_stream(c, NULL, NULL);
		conn_send_error(c, id, "not_found", "execution %llu was "
		    "removed", (unsigned long long)e->id);
	}
}
