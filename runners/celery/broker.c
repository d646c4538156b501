/*
 * The Celery runner's Redis connections, non-blocking on the daemon's
 * event loop (hiredis with its libevent adapter).
 *
 * Two connections: one for commands (LPUSH, GET, LREM, PUBLISH, DEL), one
 * holding a single PSUBSCRIBE for every result (celery-task-meta-*) and
 * every worker event (/DB.celeryev/worker.*).  Pub/sub delivers only to
 * connected clients, so whenever both are (again) up the runner GETs the
 * result of every task in flight: nothing published while we were away is
 * missed.  A probe published every few seconds on a channel of our own
 * must come back on the subscription, and its PUBLISH must be answered:
 * a connection that stops answering is dropped, not waited on forever.
 * Lost connections are re-opened with exponential backoff, and at once
 * when a task comes to be sent.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <stdlib.h>
#include <string.h>

#include "celery.h"

#define BROKER_BACKOFF_MIN_MS	100
#define BROKER_BACKOFF_MAX_MS	5000
#define BROKER_CONNECT_MS	5000
#define BROKER_PROBE_MS		2000
#define BROKER_PROBE_LATE_MS	5000
#define BROKER_META_PREFIX	"celery-task-meta-"

struct broker;

/* One connection and where its setup stands. */
struct bconn {
	struct broker		*br;
	const char		*what;		/* for messages */
	bool			 sub;
	redisAsyncContext	*ac;
	bool			 up;		/* connected and set up */
	int			 confirms;	/* patterns subscribed */
	struct event		*deadline;	/* connecting takes too long */
};

struct broker {
	struct celery	*c;
	struct bconn	 cmd;
	struct bconn	 sub;
	bool		 ready;
	int64_t		 down_since_ms;
	char		*error;		/* why the broker is not reachable */
	int64_t		 backoff_ms;
	int64_t		 attempt_ms;	/* the last reconnect */
	struct event	*reconnect;
	struct event	*probe;
	char		*probe_chan;
	unsigned long	 probe_seq;
	unsigned long	 probe_answered;	/* by the command connection */
	unsigned long	 probe_echoed;		/* on the subscription */
	int64_t		 probe_sent_ms;
	char		*pattern_meta;
	char		*pattern_events;
};

/* A command's reply goes to fn with arg. */
struct bcall {
	struct broker	*br;
	broker_cb	 fn;
	char		*arg;
};

/* The setup commands, as their replies' private data. */
static char	broker_auth[] = "AUTH";
static char	broker_select[] = "SELECT";

static void	broker_open(struct bconn *);

/* Remember why the broker cannot be reached; log each new reason once. */
static void
broker_set_error(struct broker *br, const char *what, const char *detail)
{
	char	*e;

	e = cx_printf("%s: %s", br->c->cfg.url.display, detail);
	if (br->error != NULL && strcmp(br->error, e) == 0) {
		free(e);
		return;
	}
	free(br->error);
	br->error = e;
	cx_log(2, "%s %s", what, br->error);
}

/* Backoff passed: open again what is closed. */
static void
broker_reconnect_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct broker	*br = arg;

	br->attempt_ms = cx_now_ms();
	if (br->cmd.ac == NULL)
		broker_open(&br->cmd);
	if (br->sub.ac == NULL)
		broker_open(&br->sub);
}

/* A connection is gone: not ready any more, try again after a while. */
static void
broker_lost(struct broker *br)
{
	struct timeval	tv;

	if (br->c->closing)
		return;
	if (br->ready) {
		br->ready = false;
		br->down_since_ms = cx_now_ms();
		evtimer_del(br->probe);
		celery_arm_tick(br->c);
	}
	if (evtimer_pending(br->reconnect, NULL))
		return;
	tv.tv_sec = br->backoff_ms / 1000;
	tv.tv_usec = (br->backoff_ms % 1000) * 1000;
	evtimer_add(br->reconnect, &tv);
	/* Never so slow that a waiting task gives up between two tries. */
	br->backoff_ms *= 2;
	if (br->backoff_ms > BROKER_BACKOFF_MAX_MS)
		br->backoff_ms = BROKER_BACKOFF_MAX_MS;
	if (br->backoff_ms > br->c->cfg.broker_timeout_ms / 4)
		br->backoff_ms = br->c->cfg.broker_timeout_ms / 4;
	if (br->backoff_ms < BROKER_BACKOFF_MIN_MS)
		br->backoff_ms = BROKER_BACKOFF_MIN_MS;
}

/*
 * A task waits for the broker: try now rather than at the end of the
 * backoff (at most once per BROKER_BACKOFF_MIN_MS).
 */
void
broker_poke(struct broker *br)
{
	if (br->ready || br->c->closing || !evtimer_pending(br->reconnect,
	    NULL) || cx_now_ms() - br->attempt_ms < BROKER_BACKOFF_MIN_MS)
		return;
	evtimer_del(br->reconnect);
	br->backoff_ms = BROKER_BACKOFF_MIN_MS;
	broker_reconnect_cb(-1, 0, br);
}

/* Drop a connection (from anywhere, hiredis callbacks included). */
static void
broker_drop(struct bconn *bc, const char *why)
{
	redisAsyncContext	*ac = bc->ac;

	if (ac == NULL)
		return;
	broker_set_error(bc->br, "dropped broker", why);
	bc->ac = NULL;
	bc->up = false;
	evtimer_del(bc->deadline);
	/* Its disconnect callback must not see us any more. */
	ac->data = NULL;
	redisAsyncFree(ac);
	broker_lost(bc->br);
}

/* Both connections are set up: tell the runner, start probing. */
static void
broker_maybe_ready(struct broker *br)
{
	struct timeval	tv = { BROKER_PROBE_MS / 1000,
			    (BROKER_PROBE_MS % 1000) * 1000 };

	if (br->ready || !br->cmd.up || !br->sub.up)
		return;
	br->ready = true;
	br->backoff_ms = BROKER_BACKOFF_MIN_MS;
	if (br->error != NULL)
		cx_log(1, "broker %s reachable again",
		    br->c->cfg.url.display);
	else
		cx_log(1, "connected to broker %s", br->c->cfg.url.display);
	free(br->error);
	br->error = NULL;
	br->down_since_ms = 0;
	br->probe_answered = br->probe_echoed = br->probe_seq;
	evtimer_add(br->probe, &tv);
	celery_broker_up(br->c);
}

/* A connect attempt failed (success needs no action: setup replies follow). */
static void
broker_connect_cb(const redisAsyncContext *ac, int status)
{
	struct bconn	*bc = ac->data;

	if (bc == NULL || status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	bc->ac = NULL;
	bc->up = false;
	evtimer_del(bc->deadline);
	broker_set_error(bc->br, "cannot reach broker",
	    ac->errstr[0] != '\0' ? ac->errstr : "connection failed");
	broker_lost(bc->br);
}

/* A connection closed under us: note why, try again later. */
static void
broker_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct bconn	*bc = ac->data;

	if (bc == NULL)
		return;
	bc->ac = NULL;
	bc->up = false;
	evtimer_del(bc->deadline);
	broker_set_error(bc->br, "lost broker", ac->errstr[0] != '\0' ?
	    ac->errstr : "connection closed");
	broker_lost(bc->br);
}

/* Connecting and setting up took too long: drop it, try again later. */
static void
broker_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bconn	*bc = arg;

	if (!bc->up)
		broker_drop(bc, "timed out connecting");
}

/* The reply of a setup command (AUTH, SELECT): an error drops it all. */
static void
broker_setup_cb(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*reply = r;
	struct bconn	*bc = ac->data;
	char		*why;

	if (bc == NULL || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		why = cx_printf("refused %s (%s)", (const char *)priv,
		    reply->str);
		broker_drop(bc, why);
		free(why);
		return;
	}
	if (priv == broker_select) {
		bc->up = true;
		evtimer_del(bc->deadline);
		broker_maybe_ready(bc->br);
	}
}

/* A message on the subscription: a result, a worker event, our probe. */
static void
broker_message(struct broker *br, const redisReply *chan,
    const redisReply *msg)
{
	const char	*id;
	size_t		 plen = strlen(BROKER_META_PREFIX);

	if (chan->len > plen && memcmp(chan->str, BROKER_META_PREFIX,
	    plen) == 0) {
		id = chan->str + plen;
		if (strcmp(chan->str, br->probe_chan) == 0)
			br->probe_echoed = strtoul(msg->str, NULL, 10);
		else
			celery_result(br->c, id, msg->str, msg->len);
	} else
		celery_event(br->c, chan->str, msg->str, msg->len);
}

/* Every reply on the subscription: confirmations, then messages. */
static void
broker_sub_cb(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*reply = r;
	struct bconn	*bc = ac->data;

	if (bc == NULL || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		broker_drop(bc, reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcasecmp(reply->element[0]->str, "psubscribe") == 0) {
		if (++bc->confirms == 2) {
			bc->up = true;
			evtimer_del(bc->deadline);
			broker_maybe_ready(bc->br);
		}
		return;
	}
	if (strcasecmp(reply->element[0]->str, "pmessage") == 0 &&
	    reply->elements == 4 &&
	    reply->element[2]->type == REDIS_REPLY_STRING &&
	    reply->element[3]->type == REDIS_REPLY_STRING)
		broker_message(bc->br, reply->element[2], reply->element[3]);
}

/* Open one connection: connect, authenticate, select or subscribe. */
static void
broker_open(struct bconn *bc)
{
	struct broker		*br = bc->br;
	const struct broker_url	*u = &br->c->cfg.url;
	struct timeval		 tv = { BROKER_CONNECT_MS / 1000, 0 };
	redisAsyncContext	*ac;
	char			 db[16];

	bc->up = false;
	bc->confirms = 0;
	ac = redisAsyncConnect(u->host, u->port);
	if (ac == NULL || ac->err != 0) {
		broker_set_error(br, "cannot reach broker", ac != NULL ?
		    ac->errstr : strerror(errno));
		if (ac != NULL)
			redisAsyncFree(ac);
		broker_lost(br);
		return;
	}
	bc->ac = ac;
	ac->data = bc;
	redisEnableKeepAlive(&ac->c);
	redisLibeventAttach(ac, br->c->host->base);
	redisAsyncSetConnectCallback(ac, broker_connect_cb);
	redisAsyncSetDisconnectCallback(ac, broker_disconnect_cb);
	evtimer_add(bc->deadline, &tv);
	/* Queued now, sent once connected. */
	if (u->password != NULL && u->user != NULL)
		redisAsyncCommand(ac, broker_setup_cb, broker_auth,
		    "AUTH %s %s", u->user, u->password);
	else if (u->password != NULL)
		redisAsyncCommand(ac, broker_setup_cb, broker_auth, "AUTH %s",
		    u->password);
	if (bc->sub)
		redisAsyncCommand(ac, broker_sub_cb, NULL, "PSUBSCRIBE %s %s",
		    br->pattern_meta, br->pattern_events);
	else {
		snprintf(db, sizeof db, "%d", u->db);
		redisAsyncCommand(ac, broker_setup_cb, broker_select,
		    "SELECT %s", db);
	}
}

/* A command's reply: hand it on; none (the connection went) is dropped. */
static void
broker_call_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct bcall	*call = priv;
	redisReply	*reply = r;

	if (reply != NULL && call->fn != NULL && !call->br->c->closing)
		call->fn(call->br->c, call->arg, reply->type ==
		    REDIS_REPLY_INTEGER ? reply->integer : -1,
		    reply->type == REDIS_REPLY_STRING ||
		    reply->type == REDIS_REPLY_ERROR ||
		    reply->type == REDIS_REPLY_STATUS ? reply->str : NULL,
		    reply->type == REDIS_REPLY_STRING ? reply->len : 0,
		    reply->type == REDIS_REPLY_ERROR);
	free(call->arg);
	free(call);
}

/*
 * Send a command on the command connection; fn (may be NULL) gets the
 * reply with arg.  -1 when the broker is not reachable now.
 */
int
broker_command(struct broker *br, broker_cb fn, const char *arg,
    int argc, const char **argv, const size_t *argvlen)
{
	struct bcall	*call;

	if (br->cmd.ac == NULL || !br->cmd.up)
		return -1;
	call = cx_malloc(sizeof *call);
	call->br = br;
	call->fn = fn;
	call->arg = arg != NULL ? cx_strdup(arg) : NULL;
	if (redisAsyncCommandArgv(br->cmd.ac, broker_call_cb, call, argc,
	    argv, argvlen) != REDIS_OK) {
		free(call->arg);
		free(call);
		return -1;
	}
	return 0;
}

/* The probe's PUBLISH was answered. */
static void
broker_probe_reply(struct celery *c, const char *arg, long long n,
    const char *s, size_t len, bool err)
{
	struct broker	*br = c->br;

	if (!err)
		br->probe_answered = strtoul(arg, NULL, 10);
}

/* Every few seconds: was the last probe answered and echoed?  Send one. */
static void
broker_probe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct broker	*br = arg;
	struct timeval	 tv = { BROKER_PROBE_MS / 1000,
			    (BROKER_PROBE_MS % 1000) * 1000 };
	const char	*argv[3];
	char		 seq[32];
	int64_t		 now = cx_now_ms();

	if (!br->ready)
		return;
	if (br->probe_sent_ms != 0 && now - br->probe_sent_ms >=
	    BROKER_PROBE_LATE_MS) {
		if (br->probe_answered != br->probe_seq) {
			broker_drop(&br->cmd, "not answering");
			return;
		}
		if (br->probe_echoed != br->probe_seq) {
			broker_drop(&br->sub, "subscription not delivering");
			return;
		}
	}
	if (br->probe_answered == br->probe_seq &&
	    br->probe_echoed == br->probe_seq) {
		snprintf(seq, sizeof seq, "%lu", ++br->probe_seq);
		argv[0] = "PUBLISH";
		argv[1] = br->probe_chan;
		argv[2] = seq;
		if (broker_command(br, broker_probe_reply, seq, 3, argv,
		    NULL) == 0)
			br->probe_sent_ms = now;
	}
	evtimer_add(br->probe, &tv);
}

/* Start connecting; the broker is ready once both connections are. */
struct broker *
broker_new(struct celery *c)
{
	struct broker	*br;

	br = cx_calloc(1, sizeof *br);
	br->c = c;
	br->backoff_ms = BROKER_BACKOFF_MIN_MS;
	br->down_since_ms = cx_now_ms();
	br->cmd.br = br->sub.br = br;
	br->cmd.what = "commands";
	br->sub.what = "subscription";
	br->sub.sub = true;
	br->cmd.deadline = evtimer_new(c->host->base, broker_deadline_cb,
	    &br->cmd);
	br->sub.deadline = evtimer_new(c->host->base, broker_deadline_cb,
	    &br->sub);
	br->reconnect = evtimer_new(c->host->base, broker_reconnect_cb, br);
	br->probe = evtimer_new(c->host->base, broker_probe_cb, br);
	br->probe_chan = cx_printf(BROKER_META_PREFIX "pipelined-probe-%s",
	    c->origin);
	br->pattern_meta = cx_strdup(BROKER_META_PREFIX "*");
	/* Worker events carry the database: /0.celeryev/worker.heartbeat */
	br->pattern_events = cx_printf("/%d.celeryev/worker.*",
	    c->cfg.url.db);
	broker_open(&br->cmd);
	broker_open(&br->sub);
	return br;
}

/* Close both connections (pending replies are dropped) and free. */
void
broker_free(struct broker *br)
{
	struct bconn	*bcs[2];
	size_t		 i;

	if (br == NULL)
		return;
	bcs[0] = &br->cmd;
	bcs[1] = &br->sub;
	for (i = 0; i < 2; i++) {
		if (bcs[i]->ac != NULL) {
			bcs[i]->ac->data = NULL;
			redisAsyncFree(bcs[i]->ac);
		}
		event_free(bcs[i]->deadline);
	}
	event_free(br->reconnect);
	event_free(br->probe);
	free(br->probe_chan);
	free(br->pattern_meta);
	free(br->pattern_events);
	free(br->error);
	free(br);
}

/* Whether commands can be sent and results are being heard. */
bool
broker_ready(const struct broker *br)
{
	return br->ready;
}

/* Since when (cx_now_ms) the broker is unreachable; 0 while ready. */
int64_t
broker_down_since(const struct broker *br)
{
	return br->ready ? 0 : br->down_since_ms;
}

/* Why the broker is unreachable, for messages; NULL while connecting. */
const char *
broker_error(const struct broker *br)
{
	return br->error;
}
