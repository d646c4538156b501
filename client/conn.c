/*
 * pipectl's side of the socket: finding the daemon, sending requests and
 * reading the replies (docs/protocol-ops.md).
 *
 * Everything here blocks, since a client does one thing at a time; the
 * one wait with a timeout (conn_poll) lets run --wait redraw its progress
 * line while nothing arrives.  Failing to talk to the daemon at all - no
 * socket, a lost connection, a frame the decoder refuses - ends the
 * program with exit status 3, because no command can go on without it.
 * An error the daemon reports is an answer, not a failure to talk: the
 * command turns it into its exit status through conn_check.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "node.h"
#include "proto.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "pipectl.h"

#define CONN_DEFAULT_SOCKET	"/run/pipelined/pipelined.sock"
#define CONN_READ_SIZE		65536

struct conn {
	int			 fd;
	char			*path;
	int64_t			 next_id;
	struct buf		 in;	/* bytes read, not yet a frame */
	struct proto_limits	 limits;
};

static volatile sig_atomic_t	conn_sigint;
static bool			conn_catching;
static sigset_t			conn_pollmask;	/* the mask, SIGINT let in */

/*
 * Print an error about talking to the daemon and exit 3.  A progress line
 * may be on the screen: the message must not land in the middle of it.
 */
void
conn_fail(const char *fmt, ...)
{
	va_list	ap;

	progress_clear();
	fflush(stdout);
	fprintf(stderr, "pipectl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_NODAEMON);
}

/*
 * The socket to use, as `pipectl --help` orders the choices: --socket, then
 * $PIPELINED_SOCKET, then the per-user socket when one exists (a user
 * daemon), then the system one.  An empty variable counts as unset.
 */
static char *
conn_socket_path(const struct pipectl *ctl)
{
	struct stat	 sb;
	const char	*env;
	char		*path;

	if (ctl->socket != NULL)
		return xstrdup(ctl->socket);
	if ((env = getenv("PIPELINED_SOCKET")) != NULL && *env != '\0')
		return xstrdup(env);
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0') {
		path = xprintf("%s/pipelined.sock", env);
		if (stat(path, &sb) == 0)
			return path;
		free(path);
	}
	return xstrdup(CONN_DEFAULT_SOCKET);
}

/* Connect to the daemon, or exit 3 saying where it was looked for. */
struct conn *
conn_open(const struct pipectl *ctl)
{
	struct sockaddr_un	 sun;
	struct conn		*c;
	char			*path;
	int			 fd;

	path = conn_socket_path(ctl);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path)
		conn_fail("cannot reach pipelined at %s: %s", path,
		    strerror(ENAMETOOLONG));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		conn_fail("cannot reach pipelined at %s: %s", path,
		    strerror(errno));
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno != EINTR)
			conn_fail("cannot reach pipelined at %s: %s", path,
			    strerror(errno));
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->path = path;
	c->next_id = 1;
	buf_init(&c->in);
	proto_limits_default(&c->limits);
	return c;
}

/* Close the connection (the daemon ends any stream of ours). */
void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	buf_release(&c->in);
	close(c->fd);
	free(c->path);
	free(c);
}

/* A request map holding only its op; the caller adds the fields. */
struct node *
conn_new_op(const char *op)
{
	struct node	*req = node_new(NODE_MAP);

	node_map_set_str(req, "op", node_new_str(op, strlen(op)));
	return req;
}

/*
 * Send a request under the next id and return that id.  The caller keeps
 * req: the frame is built from a copy carrying v and id first.
 */
int64_t
conn_request(struct conn *c, const struct node *req)
{
	struct node	*msg, *k;
	struct buf	 out;
	int64_t		 id = c->next_id++;
	size_t		 i, off = 0;
	ssize_t		 n;

	msg = node_new(NODE_MAP);
	node_map_set_str(msg, "v", node_new_int(PROTO_VERSION));
	node_map_set_str(msg, "id", node_new_int(id));
	for (i = 0; i < node_count(req); i++) {
		k = node_map_key(req, i);
		if (node_is_str(k, "v") || node_is_str(k, "id"))
			continue;
		node_map_put(msg, node_copy(k),
		    node_copy(node_map_value(req, i)));
	}
	buf_init(&out);
	proto_encode(&out, msg);
	node_free(msg);
	/* MSG_NOSIGNAL: a daemon gone away is an error message, not SIGPIPE. */
	while (off < out.len) {
		n = send(c->fd, out.data + off, out.len - off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			conn_fail("lost the connection to pipelined at %s: %s",
			    c->path, strerror(errno));
		}
		off += (size_t)n;
	}
	buf_release(&out);
	return id;
}

/* Take one whole frame off the input buffer, if there is one. */
static int
conn_take(struct conn *c, struct node **msg)
{
	size_t	 body, need;
	int64_t	 id;
	char	*err;
	bool	 ok;
	int	 r;

	r = proto_frame((const uint8_t *)c->in.data, c->in.len,
	    c->limits.max_frame, &body, &need);
	if (r == -1)
		conn_fail("pipelined at %s sent a frame of %zu bytes, over "
		    "the limit of %zu", c->path, body, c->limits.max_frame);
	if (r == 0)
		return 0;
	*msg = proto_decode((const uint8_t *)c->in.data + PROTO_HEADER, body,
	    &c->limits, &err);
	if (*msg == NULL)
		conn_fail("bad reply from pipelined at %s: %s", c->path, err);
	buf_consume(&c->in, PROTO_HEADER + body);
	if ((*msg)->type != NODE_MAP)
		conn_fail("bad reply from pipelined at %s: not a map",
		    c->path);
	/*
	 * Id 0 (ours start at 1): the daemon could not read a request of
	 * ours at all and will likely close; its message says why.
	 */
	if (proto_get_int(*msg, "id", &id) == 0 && id == 0 &&
	    proto_get_bool(*msg, "ok", &ok) == 0 && !ok)
		exit(conn_check(*msg));
	return 1;
}

/*
 * Wait up to timeout_ms (-1: for ever) for the next message: 1 with it in
 * *msg (to free), 0 on timeout, -1 when SIGINT arrived (see
 * conn_catch_interrupt).  A closed connection or a bad frame exits 3.
 */
int
conn_poll(struct conn *c, int timeout_ms, struct node **msg)
{
	struct pollfd	pfd;
	struct timespec	ts;
	int64_t		deadline = 0, left;
	ssize_t		n;
	int		r, wait_ms;

	if (timeout_ms >= 0)
		deadline = timefmt_mono_us() + (int64_t)timeout_ms * 1000;
	for (;;) {
		if (conn_take(c, msg))
			return 1;
		if (conn_sigint)
			return -1;
		wait_ms = -1;
		if (timeout_ms >= 0) {
			left = deadline - timefmt_mono_us();
			if (left <= 0)
				return 0;
			wait_ms = (int)((left + 999) / 1000);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		/* SIGINT is let through only here: none slips past the check. */
		if ((r = ppoll(&pfd, 1, wait_ms < 0 ? NULL : &ts,
		    conn_catching ? &conn_pollmask : NULL)) == -1) {
			if (errno == EINTR)
				continue;
			conn_fail("poll: %s", strerror(errno));
		}
		if (r == 0)
			continue;	/* the deadline check above decides */
		buf_reserve(&c->in, CONN_READ_SIZE);
		n = read(c->fd, c->in.data + c->in.len, CONN_READ_SIZE);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			conn_fail("lost the connection to pipelined at %s: %s",
			    c->path, strerror(errno));
		}
		if (n == 0)
			conn_fail("pipelined at %s closed the connection%s",
			    c->path, c->in.len > 0 ? " in mid-message" : "");
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
	}
}

/* Block for the next message; NULL only when SIGINT arrived. */
struct node *
conn_read(struct conn *c)
{
	struct node	*msg;

	if (conn_poll(c, -1, &msg) == 1)
		return msg;
	return NULL;
}

/*
 * Send a request and return its reply (to free), or NULL on SIGINT.
 * Frames under other ids are the tail of a stream this connection asked
 * for before (a watch that was left once its execution was final): they
 * are dropped.
 */
struct node *
conn_call(struct conn *c, const struct node *req)
{
	struct node	*msg;
	int64_t		 id, rid;

	id = conn_request(c, req);
	while ((msg = conn_read(c)) != NULL) {
		if (proto_get_int(msg, "id", &rid) == 0 && rid == id)
			return msg;
		node_free(msg);
	}
	return NULL;
}

/*
 * EXIT_OK for a successful reply; otherwise print the daemon's message
 * (and every error of an invalid pipeline) and return the exit status its
 * code calls for.
 */
int
conn_check(const struct node *reply)
{
	const struct node	*e, *errs, *s;
	const char		*code, *msg;
	size_t			 i;
	bool			 ok;

	if (proto_get_bool(reply, "ok", &ok) == -1)
		conn_fail("bad reply from pipelined: no \"ok\" field");
	if (ok)
		return EXIT_OK;
	e = proto_get(reply, "error");
	code = proto_get_str(e, "code");
	msg = proto_get_str(e, "message");
	if (code == NULL)
		code = "unknown";
	progress_clear();
	fflush(stdout);
	fprintf(stderr, "pipectl: %s\n", msg != NULL ? msg : code);
	if ((errs = proto_get(reply, "errors")) != NULL &&
	    errs->type == NODE_SEQ) {
		for (i = 0; i < errs->nkids; i++) {
			s = node_item(errs, i);
			if (s->type == NODE_STR)
				fprintf(stderr, "%s\n", s->text);
		}
	}
	if (strcmp(code, "not_found") == 0 || strcmp(code, "forbidden") == 0)
		return EXIT_NOTFOUND;
	if (strcmp(code, "invalid") == 0 || strcmp(code, "bad_request") == 0 ||
	    strcmp(code, "unknown_runner") == 0)
		return EXIT_USAGE;
	/*
	 * The daemon stopping, or refusing how we speak (frame, version,
	 * op): this client cannot get its answer from it.
	 */
	if (strcmp(code, "unavailable") == 0 || strcmp(code, "version") == 0 ||
	    strcmp(code, "unknown_op") == 0 || strcmp(code, "bad_frame") == 0 ||
	    strcmp(code, "too_large") == 0)
		return EXIT_NODAEMON;
	return EXIT_FAILED;	/* limit, and codes added later */
}

/* An execution id on the command line: a positive decimal integer. */
int
conn_parse_id(const char *s, int64_t *id)
{
	char		*end;
	long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* Only note the signal: the reading loop decides what to do. */
static void
conn_sigint_cb(int sig)
{
	conn_sigint = 1;
}

/*
 * Catch SIGINT so that a command following the daemon can end cleanly:
 * conn_poll returns -1 instead of the program dying mid-line.  The signal
 * stays blocked but while conn_poll waits, so that it cannot arrive
 * between the check of the flag and the wait, and be missed.
 */
void
conn_catch_interrupt(void)
{
	struct sigaction	sa;
	sigset_t		block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = conn_sigint_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &conn_pollmask);
	sigdelset(&conn_pollmask, SIGINT);
	conn_catching = true;
}

/*
 * Leave after SIGINT stopped a command that followed an execution: say
 * that it goes on, then die of the signal as the shell expects.
 */
void
conn_interrupt_exit(int64_t execution)
{
	sigset_t	unblock;

	progress_clear();
	fflush(stdout);
	if (execution > 0)
		fprintf(stderr, "pipectl: stopped following execution %" PRId64
		    "; it goes on (pipectl cancel %" PRId64 " stops it)\n",
		    execution, execution);
	/* Die of the signal, as the shell expects; if that fails, exit. */
	(void)signal(SIGINT, SIG_DFL);
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGINT);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	(void)raise(SIGINT);
	exit(EXIT_FAILED);
}
