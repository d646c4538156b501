/*
 * The operations that create executions (docs/protocol.md): submit and
 * retry, with their checks (the client's definition loaded again, never
 * trusted; inputs; the per-user limit on unfinished executions, counted
 * here) and the reply once the journal holds the new execution.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "daemon.h"
#include "defcache.h"
#include "diag.h"
#include "history.h"
#include "journal.h"
#include "load.h"
#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "reporter.h"
#include "result.h"
#include "retry.h"
#include "runner.h"
#include "timefmt.h"
#include "xmalloc.h"

/* The counter of unfinished executions of uid (created when missing). */
static unsigned *
submit_unfinished(struct daemon *d, uid_t uid)
{
	size_t	i;

	for (i = 0; i < d->nusers; i++)
		if (d->users[i].uid == uid)
			return &d->users[i].unfinished;
	d->users = xreallocarray(d->users, d->nusers + 1, sizeof *d->users);
	d->users[d->nusers].uid = uid;
	d->users[d->nusers].unfinished = 0;
	return &d->users[d->nusers++].unfinished;
}

static void
submit_uncount(struct daemon *d, const struct execution *e)
{
	unsigned	*n = submit_unfinished(d, e->uid);

	if (*n > 0)
		(*n)--;
}

/* Count the unfinished executions per user (at start). */
void
submit_count_unfinished(struct daemon *d)
{
	struct execution	*e;
	size_t			 i;

	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		if (!result_is_final(&e->r))
			(*submit_unfinished(d, e->uid))++;
	}
}

/* A reporter sink: an execution that became final no longer counts. */
void
submit_final_cb(struct result *r, void *arg)
{
	if (r->level == LEVEL_EXECUTION && result_is_final(r))
		submit_uncount(arg, r->exec);
}

/* Answer an invalid pipeline with every error found. */
static void
submit_invalid(struct conn *c, int64_t id, struct diag *d)
{
	struct node	*r, *errs;
	char		*s;
	size_t		 i;

	r = proto_reply_error(id, "invalid", "the pipeline is not valid "
	    "(%zu error%s)", diag_count(d), diag_count(d) == 1 ? "" : "s");
	errs = node_new(NODE_SEQ);
	diag_sort(d);
	for (i = 0; i < d->n; i++) {
		s = diag_format(d, i);
		node_append(errs, node_new_str(s, strlen(s)));
		free(s);
	}
	node_map_set_str(r, "errors", errs);
	dispatch_reply(c, r);
}

/* Join the pipeline's cwd to the client's. */
static char *
submit_cwd(const char *client, const char *pipeline)
{
	if (pipeline == NULL)
		return xstrdup(client);
	if (pipeline[0] == '/')
		return xstrdup(pipeline);
	return xprintf("%s/%s", strcmp(client, "/") == 0 ? "" : client,
	    pipeline);
}

/* Inputs: a mapping of valid keys. */
static int
submit_check_input(struct conn *c, int64_t id, const struct node *input)
{
	size_t	i;

	if (input->type != NODE_MAP) {
		conn_send_error(c, id, "bad_request", "input must be a map");
		return -1;
	}
	if (node_depth(input) > PL_MAX_DEPTH) {
		conn_send_error(c, id, "bad_request", "input is nested deeper "
		    "than %d levels", PL_MAX_DEPTH);
		return -1;
	}
	/*
	 * Each key is an environment variable of every task
	 * (docs/protocol.md).
	 */
	if (node_count(input) > PL_MAX_ENV) {
		conn_send_error(c, id, "bad_request", "input has %zu keys, over "
		    "the limit of %d", node_count(input), PL_MAX_ENV);
		return -1;
	}
	if ((i = node_longest(input)) > PL_MAX_SCALAR) {
		conn_send_error(c, id, "bad_request", "input holds a value of "
		    "%zu bytes, over the limit of %u", i, PL_MAX_SCALAR);
		return -1;
	}
	for (i = 0; i < node_count(input); i++) {
		if (!load_valid_input_key(node_map_key(input, i)->text)) {
			conn_send_error(c, id, "bad_request", "input key "
			    "'%.64s' is not valid", node_map_key(input, i)->text);
			return -1;
		}
	}
	return 0;
}

/* A submission (or retry) waiting for its creation record to be durable. */
struct dispatch_pending {
	struct daemon	*d;
	uint64_t	 conn;
	int64_t		 id;
	uint64_t	 exec;
	bool		 watch;		/* follow it from the start */
};

/*
 * The creation record is durable (ok): acknowledge, then run.  It could
 * not be written: the execution never was; say so and forget it.
 */
static void
submit_created_cb(bool ok, void *arg)
{
	struct dispatch_pending	*dp = arg;
	struct daemon		*d = dp->d;
	struct execution	*e = history_get(d->hist, dp->exec);
	struct conn		*c = conn_find(d, dp->conn);
	struct runner		*run;
	struct node		*r;
	char			*err = NULL;

	if (!ok || e == NULL) {
		journal_forget(d->journal, dp->exec);
		if (e != NULL) {
			submit_uncount(d, e);
			stream_forget(e);
			history_remove(d->hist, dp->exec);
		}
		if (c != NULL)
			conn_send_error(c, dp->id, "journal_unavailable",
			    "the journal cannot be written; nothing was "
			    "submitted");
		free(dp);
		return;
	}
	if (c != NULL) {
		r = proto_reply_ok(dp->id);
		node_map_set_str(r, "execution", node_new_int((int64_t)e->id));
		dispatch_reply(c, r);
		/* Before the runner starts: the first event is not missed. */
		if (dp->watch)
			stream_watch(c, dp->id, e);
	}
	free(dp);
	/* Born final (a registered pipeline that does not load): no run. */
	if (result_is_final(&e->r))
		return;
	if ((run = runner_find(e->runner)) != NULL &&
	    run->ops->start_runner(run->state, e, d->rep, &err) != 0) {
		if (!result_is_final(&e->r))
			result_set(&e->r, STATUS_CONFIG_ERROR, err != NULL ? err :
			    "the runner refused it", timefmt_now_us());
		free(err);
	}
}

/*
 * Answer and start e once its creation is durable; with "watch: true" in
 * the request, the connection then follows it as a watch does.
 */
static void
submit_when_created(struct conn *c, const struct node *req, int64_t id,
    struct execution *e)
{
	struct dispatch_pending	*dp;

	dp = xmalloc(sizeof *dp);
	dp->d = conn_daemon(c);
	dp->conn = conn_serial(c);
	dp->id = id;
	dp->exec = e->id;
	dp->watch = false;
	proto_get_bool(req, "watch", &dp->watch);
	(*submit_unfinished(dp->d, e->uid))++;
	journal_when_durable(dp->d->journal, submit_created_cb, dp);
}

/* Refuse to create anything while the journal cannot be written. */
static int
submit_can_create(struct conn *c, int64_t id)
{
	struct daemon	*d = conn_daemon(c);

	if (d->stopping) {
		conn_send_error(c, id, "unavailable", "pipelined is stopping");
		return -1;
	}
	if (!journal_available(d->journal)) {
		conn_send_error(c, id, "journal_unavailable", "the journal "
		    "cannot be written: nothing can be submitted until it "
		    "can");
		return -1;
	}
	if (*submit_unfinished(d, conn_peer(c)->uid) >= d->opts.max_pending) {
		conn_send_error(c, id, "limit", "%s has %u unfinished "
		    "executions, the most one user may have "
		    "(max_pending_per_user): wait for some to finish",
		    conn_peer(c)->user, d->opts.max_pending);
		return -1;
	}
	return 0;
}

/*
 * The definition a submit names: the document it carries, checked, or the
 * registered pipeline of its "name" (*rep; its dref is NULL when that one
 * does not load).  -1 once an error is sent.
 */
static int
submit_def(struct conn *c, const struct node *req, int64_t id,
    struct defref **drefp, const struct registry_entry **rep)
{
	const struct node	*doc = proto_get(req, "pipeline");
	const char		*source;
	struct diag		*dg;

	*drefp = NULL;
	*rep = NULL;
	if (proto_get(req, "name") != NULL) {
		if ((*rep = pipelines_submit_entry(c, req, id)) == NULL)
			return -1;
		if ((*rep)->dref != NULL)
			*drefp = defref_hold((*rep)->dref);
		return 0;
	}
	/* A file name, and the prefix of every error: kept short. */
	if ((source = proto_get_str(req, "source")) == NULL)
		source = "<submitted>";
	else if (strlen(source) > PL_MAX_PATH) {
		conn_send_error(c, id, "bad_request", "source is longer than %d "
		    "bytes", PL_MAX_PATH);
		return -1;
	}
	dg = diag_new(source);
	/* Never trust the client's check: load it (once per distinct doc). */
	*drefp = defcache_get(history_defs(conn_daemon(c)->hist), doc, 0, dg);
	if (*drefp == NULL)
		submit_invalid(c, id, dg);
	diag_free(dg);
	return *drefp != NULL ? 0 : -1;
}

/* The submit operation: a pipeline, or a registered one by name. */
void
submit_op(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon		*d = conn_daemon(c);
	const struct peer	*peer = conn_peer(c);
	const struct registry_entry *re;
	const struct node	*doc, *input;
	const char		*cwd, *rname;
	struct defref		*dref;
	struct pipeline		*p;
	struct execution	*e;
	char			*msg;

	if (submit_can_create(c, id) == -1 ||
	    dispatch_optional(c, req, id, "runner", NODE_STR, "a string") == -1 ||
	    dispatch_optional(c, req, id, "source", NODE_STR, "a string") == -1 ||
	    dispatch_optional(c, req, id, "watch", NODE_BOOL, "a boolean") == -1)
		return;
	doc = proto_get(req, "pipeline");
	cwd = proto_get_str(req, "cwd");
	input = proto_get(req, "input");
	if (proto_get(req, "name") != NULL && doc != NULL) {
		conn_send_error(c, id, "bad_request", "give pipeline or name, "
		    "not both");
		return;
	}
	if (proto_get(req, "name") == NULL &&
	    (doc == NULL || doc->type != NODE_MAP)) {
		conn_send_error(c, id, "bad_request", "pipeline must be a map");
		return;
	}
	if (cwd == NULL || cwd[0] != '/' || strlen(cwd) > PL_MAX_PATH) {
		conn_send_error(c, id, "bad_request",
		    "cwd must be an absolute path of at most %d bytes",
		    PL_MAX_PATH);
		return;
	}
	if (input != NULL && submit_check_input(c, id, input) == -1)
		return;
	if (submit_def(c, req, id, &dref, &re) == -1)
		return;
	p = dref != NULL ? dref->def : NULL;
	if ((rname = proto_get_str(req, "runner")) == NULL)
		rname = p != NULL && p->runner != NULL ? p->runner :
		    d->opts.runner;
	if (runner_find(rname) == NULL) {
		conn_send_error(c, id, "unknown_runner", "no runner named '%s'",
		    rname);
		defref_release(dref);
		return;
	}
	if (dref != NULL)
		e = execution_new_shared(history_next_id(d->hist), dref);
	else
		e = execution_new_invalid(history_next_id(d->hist), re->name);
	if (re != NULL && e->registered == NULL)
		e->registered = xstrdup(re->name);
	e->input = input != NULL ? node_copy(input) : node_new(NODE_MAP);
	e->cwd = submit_cwd(cwd, e->def->cwd);
	e->uid = peer->uid;
	e->gid = peer->gid;
	e->user = xstrdup(peer->user);
	e->runner = xstrdup(rname);
	e->submitted_us = timefmt_now_us();
	history_add(d->hist, e);
	reporter_attach(d->rep, e);
	msg = xprintf("submitted by %s", peer->user);
	result_note(&e->r, msg);
	free(msg);
	log_info("execution %llu: %s%s submitted by %s, runner %s",
	    (unsigned long long)e->id, re != NULL ? "registered pipeline " : "",
	    e->def->name, peer->user, rname);
	submit_when_created(c, req, id, e);
	if (e->invalid) {
		/*
		 * After submit_when_created, which counts it unfinished:
		 * submit_final_cb takes that back now.
		 */
		msg = pipelines_invalid_message(re);
		result_set(&e->r, STATUS_CONFIG_ERROR, msg, timefmt_now_us());
		free(msg);
	}
}

/* The retry operation: what did not end DONE, run again. */
void
submit_retry(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon		*d = conn_daemon(c);
	const struct peer	*peer = conn_peer(c);
	struct execution	*orig, *e;
	char			*err = NULL;

	if (dispatch_optional(c, req, id, "watch", NODE_BOOL, "a boolean") == -1 ||
	    (orig = dispatch_execution(c, req, id)) == NULL ||
	    submit_can_create(c, id) == -1 ||
	    pipelines_check_user(c, id, orig->def->name, orig->def->user) == -1)
		return;
	if (!result_is_final(&orig->r)) {
		conn_send_error(c, id, "not_final", "execution %llu is still "
		    "%s: wait for it, or cancel it first",
		    (unsigned long long)orig->id, status_name(orig->r.status));
		return;
	}
	if ((e = retry_new(d->hist, d->rep, orig, peer->user, &err)) == NULL) {
		conn_send_error(c, id, "invalid", "execution %llu cannot be "
		    "retried: %s", (unsigned long long)orig->id, err);
		free(err);
		return;
	}
	log_info("execution %llu: retry of %llu by %s",
	    (unsigned long long)e->id, (unsigned long long)orig->id,
	    peer->user);
	submit_when_created(c, req, id, e);
}
