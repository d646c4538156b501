/*
 * The operations of the protocol (docs/protocol.md): each request is
 * checked field by field, then answered from the history or acted on
 * through the runners.  Who may see what: root and the daemon's own user
 * see everything, others only their own executions; another user's
 * execution answers exactly like a missing one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "daemon.h"
#include "history.h"
#include "journal.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "runner.h"
#include "timefmt.h"
#include "view.h"
#include "xmalloc.h"

/* Whether a client may see (and act on) an execution. */
bool
dispatch_may_see(const struct peer *p, const struct execution *e)
{
	return p->admin || p->uid == e->uid;
}

/* Send a reply and free it. */
void
dispatch_reply(struct conn *c, struct node *reply)
{
	conn_send(c, reply);
	node_free(reply);
}

/*
 * An optional field: 0 when it is absent or of type t; otherwise a
 * bad_request reply ("KEY must be WHAT") and -1.
 */
int
dispatch_optional(struct conn *c, const struct node *req, int64_t id,
    const char *key, enum node_type t, const char *what)
{
	const struct node	*v = proto_get(req, key);

	if (v == NULL || v->type == t)
		return 0;
	conn_send_error(c, id, "bad_request", "%s must be %s", key, what);
	return -1;
}

/* The execution a request names by "execution", or an error reply. */
struct execution *
dispatch_execution(struct conn *c, const struct node *req, int64_t id)
{
	struct execution	*e;
	int64_t			 eid;

	if (proto_get_int(req, "execution", &eid) == -1 || eid <= 0) {
		conn_send_error(c, id, "bad_request",
		    "execution must be a positive integer");
		return NULL;
	}
	e = history_get(conn_daemon(c)->hist, (uint64_t)eid);
	if (e == NULL || !dispatch_may_see(conn_peer(c), e)) {
		conn_send_error(c, id, "not_found", "no execution %lld",
		    (long long)eid);
		return NULL;
	}
	return e;
}

/* The object an "address" names, or an error reply. */
static struct result *
dispatch_address(struct conn *c, const struct node *req, int64_t id)
{
	struct address		 a;
	struct execution	*e;
	struct result		*r;
	const char		*s;
	char			*err;

	if ((s = proto_get_str(req, "address")) == NULL) {
		conn_send_error(c, id, "bad_request", "address must be a string");
		return NULL;
	}
	if (address_parse(s, &a) == -1) {
		conn_send_error(c, id, "bad_request", "'%.80s' is not an address "
		    "(42, 42/1, 42/1/task, 42/task, 42/1/task/3)", s);
		return NULL;
	}
	e = history_get(conn_daemon(c)->hist, a.id);
	if (e == NULL || !dispatch_may_see(conn_peer(c), e)) {
		conn_send_error(c, id, "not_found", "no execution %llu",
		    (unsigned long long)a.id);
		return NULL;
	}
	if ((r = address_resolve(e, &a, &err)) == NULL) {
		conn_send_error(c, id, "not_found", "%s", err);
		free(err);
	}
	return r;
}

static void
dispatch_hello(struct conn *c, const struct node *req, int64_t id)
{
	const struct peer	*p = conn_peer(c);
	struct node		*r = proto_reply_ok(id);

	node_map_set_str(r, "server", node_new_str("pipelined", 9));
	node_map_set_str(r, "version", node_new_str(PACKAGE_VERSION,
	    strlen(PACKAGE_VERSION)));
	node_map_set_str(r, "protocol", node_new_int(PROTO_VERSION));
	node_map_set_str(r, "uid", node_new_int(p->uid));
	node_map_set_str(r, "user", node_new_str(p->user, strlen(p->user)));
	node_map_set_str(r, "admin", node_new_bool(p->admin));
	dispatch_reply(c, r);
}

static void
dispatch_gc(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon	*d = conn_daemon(c);
	struct node	*r;
	int64_t		 older = 0;
	long		 n;
	char		*err = NULL;

	if (!conn_peer(c)->admin) {
		conn_send_error(c, id, "forbidden", "gc is for administrators");
		return;
	}
	if (proto_get(req, "older_than") != NULL &&
	    (proto_get_int(req, "older_than", &older) == -1 || older < 0)) {
		conn_send_error(c, id, "bad_request",
		    "older_than must be a number of microseconds");
		return;
	}
	n = store_gc(d, older > 0 ? timefmt_now_us() - older : 0, &err);
	if (n == -1) {
		conn_send_error(c, id, "journal_unavailable", "%s", err);
		free(err);
		return;
	}
	r = proto_reply_ok(id);
	node_map_set_str(r, "removed", node_new_int(n));
	dispatch_reply(c, r);
}

/* Read the configuration and the registered pipelines again. */
static void
dispatch_reload(struct conn *c, const struct node *req, int64_t id)
{
	struct node	*r;
	char		*msg;

	if (!conn_peer(c)->admin) {
		conn_send_error(c, id, "forbidden", "reload is for "
		    "administrators");
		return;
	}
	if (daemon_reload(conn_daemon(c), &msg) == -1) {
		conn_send_error(c, id, "config_error", "%s", msg);
		free(msg);
		return;
	}
	r = proto_reply_ok(id);
	node_map_set_str(r, "message", node_new_str(msg, strlen(msg)));
	free(msg);
	dispatch_reply(c, r);
}

static void
dispatch_list(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon		*d = conn_daemon(c);
	const struct peer	*peer = conn_peer(c);
	const char		*pname, *sname;
	struct execution	*e;
	struct node		*r, *list;
	enum status		 st = STATUS_PENDING;
	int64_t			 since = 0, limit = 50;
	size_t			 i;

	if (dispatch_optional(c, req, id, "pipeline", NODE_STR,
	    "a string") == -1 ||
	    dispatch_optional(c, req, id, "status", NODE_STR,
	    "a string") == -1)
		return;
	pname = proto_get_str(req, "pipeline");
	if ((sname = proto_get_str(req, "status")) != NULL &&
	    status_from_name(sname, &st) == -1) {
		conn_send_error(c, id, "bad_request", "unknown status '%.40s'",
		    sname);
		return;
	}
	if (proto_get(req, "since") != NULL &&
	    proto_get_int(req, "since", &since) == -1) {
		conn_send_error(c, id, "bad_request", "since must be an integer");
		return;
	}
	if (proto_get(req, "limit") != NULL &&
	    (proto_get_int(req, "limit", &limit) == -1 || limit < 1)) {
		conn_send_error(c, id, "bad_request",
		    "limit must be a positive integer");
		return;
	}
	list = node_new(NODE_SEQ);
	for (i = history_count(d->hist); i-- > 0 &&
	    (int64_t)list->nkids < limit;) {
		e = history_at(d->hist, i);
		if (!dispatch_may_see(peer, e) ||
		    (pname != NULL && strcmp(pname, e->def->name) != 0) ||
		    (sname != NULL && e->r.status != st) ||
		    e->submitted_us < since)
			continue;
		node_append(list, view_execution(e, false));
	}
	r = proto_reply_ok(id);
	node_map_set_str(r, "executions", list);
	dispatch_reply(c, r);
}

static void
dispatch_show(struct conn *c, const struct node *req, int64_t id)
{
	struct execution	*e;
	struct node		*r;

	if ((e = dispatch_execution(c, req, id)) == NULL)
		return;
	r = proto_reply_ok(id);
	node_map_set_str(r, "execution", view_execution(e, true));
	dispatch_reply(c, r);
}

static void
dispatch_cancel(struct conn *c, const struct node *req, int64_t id)
{
	struct result		*target;
	struct runner		*run;
	struct node		*r;
	char			*why;
	int			 n = 0;

	if ((target = dispatch_address(c, req, id)) == NULL)
		return;
	why = xprintf("cancelled by user %s", conn_peer(c)->user);
	if (!result_is_final(target) &&
	    (run = runner_find(target->exec->runner)) != NULL)
		n = run->ops->cancel(run->state, target, why);
	free(why);
	r = proto_reply_ok(id);
	node_map_set_str(r, "cancelled", node_new_int(n));
	node_map_set_str(r, "status", node_new_str(status_name(target->status),
	    strlen(status_name(target->status))));
	dispatch_reply(c, r);
}

static void
dispatch_logs(struct conn *c, const struct node *req, int64_t id)
{
	struct result	*target;
	bool		 follow = false;

	if (proto_get(req, "follow") != NULL &&
	    proto_get_bool(req, "follow", &follow) == -1) {
		conn_send_error(c, id, "bad_request", "follow must be a boolean");
		return;
	}
	if ((target = dispatch_address(c, req, id)) == NULL)
		return;
	if (target->level == LEVEL_TASK_EXECUTION &&
	    ((struct task_execution *)target)->ninst == 1)
		target = &((struct task_execution *)target)->inst[0]->r;
	if (target->level != LEVEL_TASK_RESULT) {
		conn_send_error(c, id, "bad_request", "logs belong to task "
		    "results: give an address like 42/0/build/0");
		return;
	}
	stream_logs(c, id, target, follow);
}

static void
dispatch_watch(struct conn *c, const struct node *req, int64_t id)
{
	struct execution	*e = NULL;

	if (proto_get(req, "execution") != NULL &&
	    (e = dispatch_execution(c, req, id)) == NULL)
		return;
	stream_watch(c, id, e);
}

/* The journal part of "status": size, segments, damage found at start. */
static void
dispatch_journal_status(struct daemon *d, struct node *r)
{
	struct journal_stats	 st;
	struct node		*j, *dmg, *one;
	const struct jdamage	*dm;
	size_t			 i;

	journal_stats(d->journal, &st);
	j = node_new(NODE_MAP);
	node_map_set_str(j, "dir", node_new_str(journal_dir(d->journal),
	    strlen(journal_dir(d->journal))));
	node_map_set_str(j, "sync", node_new_str(journal_sync_name(
	    d->opts.journal_sync), strlen(journal_sync_name(
	    d->opts.journal_sync))));
	node_map_set_str(j, "bytes", node_new_int((int64_t)st.bytes));
	node_map_set_str(j, "segments", node_new_int(st.segments));
	node_map_set_str(j, "last_seq", node_new_int((int64_t)st.last_seq));
	node_map_set_str(j, "records_written",
	    node_new_int((int64_t)st.records_written));
	node_map_set_str(j, "commits", node_new_int((int64_t)st.commits));
	node_map_set_str(j, "syncs", node_new_int((int64_t)st.syncs));
	node_map_set_str(j, "available", node_new_bool(st.error == NULL));
	if (st.error != NULL)
		node_map_set_str(j, "error", node_new_str(st.error,
		    strlen(st.error)));
	dmg = node_new(NODE_SEQ);
	for (i = 0; i < d->scan.ndamage; i++) {
		dm = &d->scan.damage[i];
		one = node_new(NODE_MAP);
		node_map_set_str(one, "file", node_new_str(dm->file,
		    strlen(dm->file)));
		node_map_set_str(one, "start", node_new_int((int64_t)dm->start));
		node_map_set_str(one, "end", node_new_int((int64_t)dm->end));
		node_map_set_str(one, "what", node_new_str(dm->what,
		    strlen(dm->what)));
		node_map_set_str(one, "torn", node_new_bool(dm->torn));
		node_append(dmg, one);
	}
	node_map_set_str(j, "damage_at_start", dmg);
	node_map_set_str(r, "journal", j);
}

static void
dispatch_status(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon	*d = conn_daemon(c);
	struct node	*r, *names, *plugins, *one;
	unsigned	 running = 0, queued = 0, rn, qn;
	size_t		 i, unfinished = 0;
	struct runner	*run;

	names = node_new(NODE_SEQ);
	plugins = node_new(NODE_SEQ);
	for (i = 0; i < runner_count(); i++) {
		run = runner_at(i);
		run->ops->stats(run->state, &rn, &qn);
		running += rn;
		queued += qn;
		node_append(names, node_new_str(run->ops->name,
		    strlen(run->ops->name)));
		if (run->path == NULL)
			continue;
		one = node_new(NODE_MAP);
		node_map_set_str(one, "name", node_new_str(run->ops->name,
		    strlen(run->ops->name)));
		node_map_set_str(one, "path", node_new_str(run->path,
		    strlen(run->path)));
		node_append(plugins, one);
	}
	for (i = 0; i < history_count(d->hist); i++)
		if (!result_is_final(&history_at(d->hist, i)->r))
			unfinished++;
	r = proto_reply_ok(id);
	node_map_set_str(r, "version", node_new_str(PACKAGE_VERSION,
	    strlen(PACKAGE_VERSION)));
	node_map_set_str(r, "pid", node_new_int(getpid()));
	node_map_set_str(r, "started", view_time(d->started_us));
	node_map_set_str(r, "uptime_s", node_new_int((timefmt_now_us() -
	    d->started_us) / 1000000));
	node_map_set_str(r, "socket", node_new_str(d->opts.socket,
	    strlen(d->opts.socket)));
	node_map_set_str(r, "state_dir", node_new_str(d->opts.state_dir,
	    strlen(d->opts.state_dir)));
	node_map_set_str(r, "runner", node_new_str(d->opts.runner,
	    strlen(d->opts.runner)));
	node_map_set_str(r, "max_parallel", node_new_int(d->opts.max_parallel));
	node_map_set_str(r, "running", node_new_int(running));
	node_map_set_str(r, "queued", node_new_int(queued));
	node_map_set_str(r, "executions",
	    node_new_int((int64_t)history_count(d->hist)));
	node_map_set_str(r, "unfinished", node_new_int((int64_t)unfinished));
	node_map_set_str(r, "connections", node_new_int(d->nconns));
	node_map_set_str(r, "runners", names);
	node_map_set_str(r, "runner_dir", node_new_str(d->opts.runner_dir,
	    strlen(d->opts.runner_dir)));
	node_map_set_str(r, "plugins", plugins);
	dispatch_journal_status(d, r);
	dispatch_reply(c, r);
}

static const struct {
	const char	*op;
	void		(*fn)(struct conn *, const struct node *, int64_t);
} dispatch_ops[] = {
	{ "hello", dispatch_hello },
	{ "submit", submit_op },
	{ "list", dispatch_list },
	{ "show", dispatch_show },
	{ "cancel", dispatch_cancel },
	{ "logs", dispatch_logs },
	{ "watch", dispatch_watch },
	{ "status", dispatch_status },
	{ "stats", dispatch_status },
	{ "retry", submit_retry },
	{ "gc", dispatch_gc },
	{ "reload", dispatch_reload },
	{ "pipelines", pipelines_op },
};

/* Check the envelope of a request and run its operation. */
void
dispatch(struct conn *c, const struct node *req)
{
	const char	*op;
	int64_t		 id, v;
	size_t		 i;

	if (proto_get_int(req, "id", &id) == -1) {
		conn_send_error(c, 0, "bad_request", "id must be an integer");
		return;
	}
	if (proto_get_int(req, "v", &v) == -1 || v != PROTO_VERSION) {
		conn_send_error(c, id, "version", "protocol version %d is "
		    "required", PROTO_VERSION);
		return;
	}
	if ((op = proto_get_str(req, "op")) == NULL) {
		conn_send_error(c, id, "bad_request", "op must be a string");
		return;
	}
	for (i = 0; i < sizeof dispatch_ops / sizeof dispatch_ops[0]; i++) {
		if (strcmp(op, dispatch_ops[i].op) == 0) {
			dispatch_ops[i].fn(c, req, id);
			return;
		}
	}
	conn_send_error(c, id, "unknown_op", "unknown operation '%.40s'", op);
}
