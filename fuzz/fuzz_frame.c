/*
 * Fuzz target: the daemon's request path, from the bytes a client writes
 * to the replies it reads back.
 *
 * The input is what one client sends on one connection.  It goes through
 * a socketpair into a real connection of the daemon (conn.c), so that the
 * daemon's own code cuts it into frames (proto_frame), checks and decodes
 * them (proto_decode: the bounds walk, msgpack-c, the conversion) and
 * dispatches each request (dispatch.c, stream.c) with all its field
 * checks - a submit's pipeline goes through the loader - against a small
 * history held in memory.  The event loop is run in place, without
 * waiting, until the daemon has read everything and written all it had
 * to say; then the client side closes.
 *
 * Nothing here can fork or write a file: no runner is loaded (so every
 * submit ends at "unknown runner" after its checks), the client is not an
 * administrator (gc and reload are refused), the history holds nothing
 * the client could retry, and the state directory does not exist.
 *
 * Checked beyond "no crash, leak or hang": every reply is a well-formed
 * frame the client can decode, with an integer id and a boolean ok, and
 * errors carry a string code and message; the history is unchanged; and
 * each frame body, decoded on its own, agrees with proto_unpack() and
 * survives a round trip through proto_pack().
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/sockios.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "defcache.h"
#include "diag.h"
#include "fuzz.h"
#include "history.h"
#include "journal_int.h"
#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "proto.h"
#include "reporter.h"
#include "result.h"
#include "xmalloc.h"

#define FZ_MAX_TURNS	100000	/* event loop turns without an end: a hang */
#define FZ_T0		1795810500000000LL	/* 2026-11-27T20:15:00Z */

static struct daemon	fz_d;
static struct peer	fz_peer;
static size_t		fz_nexec;
static bool		fz_verbose;	/* FUZZ_VERBOSE: print the replies */

/* The pipeline of the executions in the history. */
static const char	*fz_yaml =
    "name: nightly\n"
    "iterate: [eu, us]\n"
    "tasks:\n"
    "  fetch:\n"
    "    run: ./fetch.sh \"$PIPELINE_OBJECT\"\n"
    "  render:\n"
    "    argv: [./render, \"{{task.object}}\"]\n"
    "    parents: [fetch]\n"
    "    iterate: [p1, p2]\n";

/* Add an execution of fz_yaml owned by uid, as a submission does. */
static struct execution *
fz_add(uid_t uid, const char *user)
{
	struct execution	*e;
	struct defref		*dref;
	struct diag		*dg = diag_new("fuzz.yaml");
	struct node		*doc = NULL;
	struct pipeline		*p;

	p = load_buffer(fz_yaml, strlen(fz_yaml), 0, dg, &doc);
	FUZZ_CHECK(p != NULL, "the history's pipeline does not load");
	pipeline_free(p);
	load_canonical(doc);
	dref = defcache_get(history_defs(fz_d.hist), doc, 0, dg);
	FUZZ_CHECK(dref != NULL, "the history's pipeline does not load");
	node_free(doc);
	diag_free(dg);
	e = execution_new_shared(history_next_id(fz_d.hist), dref);
	e->input = node_new(NODE_MAP);
	node_map_set_str(e->input, "date", node_new_str("2026-11-27", 10));
	e->cwd = xstrdup("/srv/report");
	e->uid = uid;
	e->gid = uid;
	e->user = xstrdup(user);
	e->runner = xstrdup("local");
	e->submitted_us = FZ_T0 + (int64_t)fz_nexec * 1000000;
	history_add(fz_d.hist, e);
	reporter_attach(fz_d.rep, e);
	execution_add_static(e, e->submitted_us);
	result_note(&e->r, "submitted");
	fz_nexec++;
	return e;
}

/* Move a task result on: RUNNING, then final unless st is RUNNING. */
static void
fz_run(struct task_result *tr, enum status st, int64_t t)
{
	tr->pid = 4000 + (pid_t)tr->index;
	tr->attempts = 1;
	tr->isolation = "process_group";
	FUZZ_CHECK(result_set(&tr->r, STATUS_RUNNING, "running", t) == 0,
	    "cannot start a task result");
	if (st == STATUS_RUNNING)
		return;
	tr->exit_code = st == STATUS_DONE ? 0 : 3;
	FUZZ_CHECK(result_set(&tr->r, st, st == STATUS_DONE ?
	    "exited with status 0" : "exited with status 3", t + 1000) == 0,
	    "cannot end a task result");
}

/*
 * The history: the client's own executions, one running (with results in
 * every state but final) and one pending, and another user's, finished.
 * Nothing the client may see is final, so nothing can be retried.
 */
static void
fz_history(void)
{
	struct execution	*e;
	uint32_t		 i, t, k;

	e = fz_add(fz_peer.uid, fz_peer.user);
	fz_run(e->results[0]->tasks[0].inst[0], STATUS_DONE, FZ_T0 + 10);
	fz_run(e->results[0]->tasks[1].inst[0], STATUS_RUNTIME_ERROR,
	    FZ_T0 + 20);
	fz_run(e->results[0]->tasks[1].inst[1], STATUS_RUNNING, FZ_T0 + 30);
	fz_run(e->results[1]->tasks[0].inst[0], STATUS_RUNNING, FZ_T0 + 40);
	fz_add(fz_peer.uid, fz_peer.user);
	e = fz_add(fz_peer.uid + 1, "bob");
	for (i = 0; i < e->nresults; i++)
		for (t = 0; t < e->def->ntasks; t++)
			for (k = 0; k < e->results[i]->tasks[t].ninst; k++)
				fz_run(e->results[i]->tasks[t].inst[k],
				    STATUS_DONE, FZ_T0 + 50);
	FUZZ_CHECK(result_is_final(&e->r), "bob's execution is not final");
}

/*
 * A daemon as daemon_main() sets one up, short of the journal, the
 * runners and the socket: an event loop, a history with its reporter,
 * and a journal that is available but never written (nothing is created).
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct journal	*j;

	fuzz_quiet();
	fz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	signal(SIGPIPE, SIG_IGN);
	memset(&fz_d, 0, sizeof fz_d);
	fz_d.opts.state_dir = xstrdup("/nonexistent/pipelined-fuzz");
	fz_d.opts.socket = xstrdup("/nonexistent/pipelined-fuzz.sock");
	options_defaults(&fz_d.opts);
	TAILQ_INIT(&fz_d.conns);
	fz_d.admin_gid = (gid_t)-1;
	fz_d.listen_fd = -1;
	fz_d.ready_fd = -1;
	if ((fz_d.base = event_base_new()) == NULL ||
	    event_base_priority_init(fz_d.base, 3) != 0)
		fuzz_fail(__FILE__, __LINE__, "event_base_new", "no event base");
	fz_d.hist = history_new();
	fz_d.rep = reporter_new();
	reporter_add_sink(fz_d.rep, history_record_cb, history_items_cb,
	    fz_d.hist);
	reporter_add_sink(fz_d.rep, stream_change_cb, NULL, &fz_d);
	reporter_add_sink(fz_d.rep, submit_final_cb, NULL, &fz_d);
	j = xcalloc(1, sizeof *j);
	j->dir = xstrdup("/nonexistent/pipelined-fuzz/journal");
	j->fd = j->dirfd = j->lockfd = -1;
	j->available = true;
	fz_d.journal = j;
	fz_d.started_us = FZ_T0;
	fz_peer.uid = 1000;
	fz_peer.gid = 1000;
	fz_peer.pid = 4242;
	fz_peer.user = xstrdup("alice");
	fz_peer.admin = false;
	fz_history();
	submit_count_unfinished(&fz_d);
	return 0;
}

/* Whether a decoded reply has the fields every reply must have. */
static void
fz_check_reply(const struct node *r)
{
	const struct node	*e;
	int64_t			 id;
	bool			 ok;

	FUZZ_CHECK(proto_get_int(r, "id", &id) == 0, "a reply without id");
	FUZZ_CHECK(proto_get_bool(r, "ok", &ok) == 0, "a reply without ok");
	if (ok)
		return;
	e = proto_get(r, "error");
	FUZZ_CHECK(e != NULL && e->type == NODE_MAP, "an error reply without "
	    "error");
	FUZZ_CHECK(proto_get_str(e, "code") != NULL, "an error without code");
	FUZZ_CHECK(proto_get_str(e, "message") != NULL, "an error without "
	    "message");
}

/* Every reply must be a whole frame the client can decode. */
static void
fz_check_replies(const uint8_t *p, size_t len)
{
	struct node	*r;
	size_t		 body, need;
	char		*err;

	while (len > 0) {
		FUZZ_CHECK(proto_frame(p, len, PROTO_MAX_FRAME, &body,
		    &need) == 1, "a reply frame is cut short or too large "
		    "(%zu bytes left, %zu announced)", len, body);
		r = proto_decode(p + PROTO_HEADER, body, NULL, &err);
		FUZZ_CHECK(r != NULL, "a reply the client cannot decode: %s",
		    err);
		fz_check_reply(r);
		if (fz_verbose) {
			err = nodejson_encode(r);
			fprintf(stderr, "reply: %s\n", err);
			free(err);
		}
		node_free(r);
		p += PROTO_HEADER + body;
		len -= PROTO_HEADER + body;
	}
}

/*
 * Tighter limits only ever refuse more: what decodes within them decodes
 * the same within the daemon's.  (A max_depth over msgpack-c's 32 is
 * lowered to it.)
 */
static void
fz_check_limits(const uint8_t *body, size_t len, const struct node *n)
{
	struct proto_limits	 lim = { len, 64, 64 };
	struct node		*tight;
	char			*err;

	if ((tight = proto_decode(body, len, &lim, &err)) == NULL) {
		free(err);
		return;
	}
	FUZZ_CHECK(n != NULL && node_equal(n, tight), "tighter limits "
	    "accept what the daemon's refuse, or read it otherwise");
	node_free(tight);
}

/*
 * One frame body on its own: what proto_decode() accepts, proto_unpack()
 * (which leaves strings to its caller) accepts too; and a decoded value
 * packed again decodes to the same value.
 */
static void
fz_check_body(const uint8_t *body, size_t len)
{
	struct node	*n, *again;
	msgpack_zone	 zone;
	msgpack_object	 obj;
	struct buf	 b;
	char		*err, *err2 = NULL;
	int		 rc;

	n = proto_decode(body, len, NULL, &err);
	fz_check_limits(body, len, n);
	msgpack_zone_init(&zone, 2048);
	rc = proto_unpack(body, len, NULL, &zone, &obj, &err2);
	msgpack_zone_destroy(&zone);
	free(err2);
	if (n == NULL) {
		FUZZ_CHECK(err != NULL && *err != '\0', "refused without a "
		    "reason");
		FUZZ_CHECK(proto_str_ok(err, strlen(err)), "a reason that is "
		    "not text: %s", err);
		free(err);
		return;
	}
	FUZZ_CHECK(rc == 0, "proto_unpack refuses what proto_decode takes");
	buf_init(&b);
	proto_pack(&b, n);
	again = proto_decode((const uint8_t *)b.data, b.len, NULL, &err);
	FUZZ_CHECK(again != NULL, "a decoded message packed again does not "
	    "decode: %s", err);
	FUZZ_CHECK(node_equal(n, again), "a round trip changes the message");
	node_free(again);
	node_free(n);
	buf_release(&b);
}

/* Cut the input into frames as the daemon does, and check each body. */
static void
fz_check_frames(const uint8_t *p, size_t len)
{
	size_t	body, need;

	while (proto_frame(p, len, PROTO_MAX_FRAME, &body, &need) == 1) {
		fz_check_body(p + PROTO_HEADER, body);
		p += PROTO_HEADER + body;
		len -= PROTO_HEADER + body;
	}
}

/*
 * Whether the daemon is done with what it was sent: every byte read (the
 * socket holds none for it), every reply written.
 */
static bool
fz_quiet(int fd, uint64_t serial)
{
	struct conn	*c;
	int		 unread;

	if (ioctl(fd, SIOCOUTQ, &unread) == -1 || unread != 0)
		return false;
	return (c = conn_find(&fz_d, serial)) == NULL ||
	    conn_output_pending(c) == 0;
}

/*
 * One client's connection: send the bytes, let the daemon answer all it
 * will, hang up, then check what came back.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 out;
	uint64_t	 serial;
	char		 chunk[16384];
	size_t		 off = 0, turns;
	ssize_t		 n;
	bool		 progress;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		fuzz_fail(__FILE__, __LINE__, "socketpair", "%s",
		    strerror(errno));
	serial = conn_serial(conn_new(&fz_d, sv[0], &fz_peer));
	buf_init(&out);
	for (turns = 0;; turns++) {
		FUZZ_CHECK(turns < FZ_MAX_TURNS, "the daemon is stuck");
		progress = false;
		if (off < size) {
			n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				progress = true;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				off = size;	/* it closed: stop sending */
		}
		event_base_loop(fz_d.base, EVLOOP_NONBLOCK);
		while ((n = recv(sv[1], chunk, sizeof chunk, 0)) > 0) {
			buf_add(&out, chunk, (size_t)n);
			progress = true;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			break;		/* the daemon closed the connection */
		if (off == size && !progress && fz_quiet(sv[1], serial))
			break;
	}
	close(sv[1]);
	/* The daemon sees the end of input and lets the connection go. */
	for (turns = 0; conn_find(&fz_d, serial) != NULL; turns++) {
		FUZZ_CHECK(turns < FZ_MAX_TURNS, "the connection is never "
		    "closed");
		event_base_loop(fz_d.base, EVLOOP_NONBLOCK);
	}
	fz_check_replies((const uint8_t *)out.data, out.len);
	buf_release(&out);
	FUZZ_CHECK(history_count(fz_d.hist) == fz_nexec, "the history changed "
	    "(%zu executions, not %zu)", history_count(fz_d.hist), fz_nexec);
	fz_check_frames(data, size);
	return 0;
}
