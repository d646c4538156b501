/*
 * One client connection: frames in, replies out, limits on both.
 *
 * Input is cut into frames by the pure decoder; a frame that cannot be
 * decoded gets an error reply (the length prefix keeps the stream in
 * step); a frame over max_frame gets one and the connection is closed,
 * since its body cannot be skipped safely.  A frame started but not
 * finished within DAEMON_READ_TIMEOUT closes the connection, so slow
 * clients cannot hold a slot forever; a client that does not read its
 * replies is dropped once DAEMON_MAX_OUTPUT is queued for it.
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "node.h"
#include "proto.h"
#include "xmalloc.h"

struct conn {
	struct daemon		*d;
	struct bufferevent	*bev;
	struct peer		 peer;
	struct event		*read_timer;
	struct event		*kill_ev;	/* a deferred close */
	bool			 closing;
	bool			 kill_pending;
	bool			 dead;		/* freed once the stack unwinds */
	int			 busy;		/* inside a callback */
	void			*stream;
	void			(*stream_free)(void *);
	uint64_t		 serial;	/* to find it again later */
	TAILQ_ENTRY(conn)	 entry;
};

static void	conn_maybe_free(struct conn *);
static void	conn_set_input_limit(struct conn *);

static void
conn_kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	conn_free(arg);
}

static void
conn_read_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	log_info("client pid %ld (%s): frame not finished within %ds; "
	    "closing", (long)c->peer.pid, c->peer.user, DAEMON_READ_TIMEOUT);
	conn_free(c);
}

/* Handle every whole frame in the input buffer. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct proto_limits	 lim;
	struct timeval		 tv = { DAEMON_READ_TIMEOUT, 0 };
	struct node		*msg;
	uint8_t			 hdr[PROTO_HEADER], *frame;
	size_t			 avail, body, need, frames = 0;
	char			*err;

	proto_limits_default(&lim);
	lim.max_frame = c->d->opts.max_frame;
	c->busy++;
	while (!c->closing && !c->dead) {
		avail = evbuffer_get_length(in);
		if (avail < PROTO_HEADER)
			break;
		evbuffer_copyout(in, hdr, PROTO_HEADER);
		if (proto_frame(hdr, PROTO_HEADER, lim.max_frame, &body,
		    &need) == -1) {
			conn_send_error(c, 0, "too_large", "frame of %zu bytes "
			    "is over the limit of %zu", body, lim.max_frame);
			conn_close_after_write(c);
			break;
		}
		if (avail < PROTO_HEADER + body)
			break;
		frame = evbuffer_pullup(in, (ev_ssize_t)(PROTO_HEADER + body));
		msg = proto_decode(frame + PROTO_HEADER, body, &lim, &err);
		evbuffer_drain(in, PROTO_HEADER + body);
		frames++;
		if (msg == NULL) {
			conn_send_error(c, 0, "bad_frame", "%s", err);
			free(err);
			continue;
		}
		dispatch(c, msg);
		node_free(msg);
	}
	/*
	 * A frame begun but not finished must finish in time, counted from
	 * its own first byte: after whole frames, the rest began just now.
	 */
	if (!c->dead && !c->closing && evbuffer_get_length(in) > 0) {
		if (frames > 0 || !evtimer_pending(c->read_timer, NULL))
			evtimer_add(c->read_timer, &tv);
	} else if (!c->dead)
		evtimer_del(c->read_timer);
	c->busy--;
	conn_maybe_free(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

/* A new client on fd, whose credentials were taken at accept. */
struct conn *
conn_new(struct daemon *d, int fd, const struct peer *peer)
{
	struct conn	*c;
	static uint64_t	 serial;

	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->serial = ++serial;
	c->peer = *peer;
	c->peer.user = xstrdup(peer->user);
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	c->read_timer = evtimer_new(d->base, conn_read_timeout_cb, c);
	c->kill_ev = event_new(d->base, -1, 0, conn_kill_cb, c);
	conn_set_input_limit(c);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&d->conns, c, entry);
	d->nconns++;
	return c;
}

static void
conn_maybe_free(struct conn *c)
{
	if (!c->dead || c->busy > 0)
		return;
	free(c->peer.user);
	free(c);
}

/* Close a connection (deferred while one of its callbacks runs). */
void
conn_free(struct conn *c)
{
	struct daemon	*d = c->d;

	if (c->dead)
		return;
	c->dead = true;
	if (c->stream_free != NULL)
		c->stream_free(c->stream);
	c->stream = NULL;
	c->stream_free = NULL;
	TAILQ_REMOVE(&d->conns, c, entry);
	d->nconns--;
	event_free(c->read_timer);
	event_free(c->kill_ev);
	bufferevent_free(c->bev);
	c->bev = NULL;
	conn_maybe_free(c);
	daemon_check_stopped(d);
}

/*
 * Queue one message.  A client that stopped reading is dropped - later,
 * from the event loop, so that callers may go on using the connection.
 */
void
conn_send(struct conn *c, const struct node *msg)
{
	struct evbuffer	*out;
	struct buf	 b;

	if (c->dead || c->kill_pending)
		return;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) > DAEMON_MAX_OUTPUT) {
		log_info("client pid %ld (%s) is not reading its replies; "
		    "closing", (long)c->peer.pid, c->peer.user);
		c->kill_pending = true;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		event_active(c->kill_ev, EV_TIMEOUT, 0);
		return;
	}
	buf_init(&b);
	proto_encode(&b, msg);
	bufferevent_write(c->bev, b.data, b.len);
	buf_release(&b);
}

/* Send {id, ok: false, error: {code, message}}. */
void
conn_send_error(struct conn *c, int64_t id, const char *code,
    const char *fmt, ...)
{
	struct node	*reply;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	reply = proto_reply_error(id, code, "%s", msg);
	conn_send(c, reply);
	node_free(reply);
	free(msg);
}

/* Stop reading; close once everything queued was written. */
void
conn_close_after_write(struct conn *c)
{
	if (c->dead)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/* A number that names the connection while it lives. */
uint64_t
conn_serial(const struct conn *c)
{
	return c->serial;
}

/* The live connection with this serial, or NULL once it went. */
struct conn *
conn_find(struct daemon *d, uint64_t serial)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &d->conns, entry)
		if (c->serial == serial && !c->dead)
			return c;
	return NULL;
}

/* Never buffer more input than one frame (max_frame) and its header. */
static void
conn_set_input_limit(struct conn *c)
{
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    c->d->opts.max_frame + PROTO_HEADER);
}

/* max_frame changed (a reload): every connection takes the new limit. */
void
conn_limits_changed(struct daemon *d)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &d->conns, entry)
		conn_set_input_limit(c);
}

/* Close every connection once what is queued for it was written. */
void
conn_drain_all(struct daemon *d)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&d->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_close_after_write(c);
	}
}

/* Who the client is. */
const struct peer *
conn_peer(const struct conn *c)
{
	return &c->peer;
}

/* Bytes queued for the client. */
size_t
conn_output_pending(const struct conn *c)
{
	return c->dead ? 0 : evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* The daemon a connection belongs to. */
struct daemon *
conn_daemon(const struct conn *c)
{
	return c->d;
}

/* Attach a stream (watch, logs); free_fn runs when the connection goes. */
void
conn_set_stream(struct conn *c, void *stream, void (*free_fn)(void *))
{
	if (c->stream_free != NULL)
		c->stream_free(c->stream);
	c->stream = stream;
	c->stream_free = free_fn;
}

/* The attached stream, or NULL. */
void *
conn_stream(const struct conn *c)
{
	return c->stream;
}
