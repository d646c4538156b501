/*
 * Registered pipelines seen from the protocol: the checks of a submit by
 * name, who may run a pipeline that names a user:, and the "pipelines"
 * operation, which lists the registry with a digest of each pipeline's
 * runs taken from the history.
 *
 * Every client sees the whole list, but a digest counts only the
 * executions that client may see (all of them for administrators).  A run
 * counts for a registered pipeline when it was started by that name (the
 * execution's "registered", kept in the journal): a file submitted with
 * the same name does not.
 */
#include "config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"
#include "defcache.h"
#include "history.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "status.h"
#include "view.h"
#include "xmalloc.h"

#define PIPELINES_MESSAGE_ERRORS	20	/* in a CONFIG_ERROR message */

/* What the history says of one registered name, for one client. */
struct pipelines_digest {
	int64_t			 runs;
	int64_t			 final;
	int64_t			 done;
	const struct execution	*last;
};

/*
 * Whether peer may run a pipeline whose tasks run as user: administrators
 * may run any; others only one that runs as themselves.
 */
static bool
pipelines_may_run_as(const struct peer *peer, const char *user)
{
	struct passwd	*pw;

	if (user == NULL || peer->admin || strcmp(user, peer->user) == 0)
		return true;
	/* Another name for the same uid is still the same user. */
	return (pw = getpwnam(user)) != NULL && pw->pw_uid == peer->uid;
}

/*
 * Refuse (forbidden) to run pipeline as user for a client who is not an
 * administrator nor that user; -1 once the error is sent.
 */
int
pipelines_check_user(struct conn *c, int64_t id, const char *pipeline,
    const char *user)
{
	if (pipelines_may_run_as(conn_peer(c), user))
		return 0;
	conn_send_error(c, id, "forbidden", "pipeline %s runs as user %s: only "
	    "administrators and %s may run it", pipeline, user, user);
	return -1;
}

/*
 * The registered pipeline a submit names by "name", checked: there is
 * one, honoured, and the client may run it.  NULL once an error is sent.
 */
const struct registry_entry *
pipelines_submit_entry(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon			*d = conn_daemon(c);
	const struct registry_entry	*re;
	const struct pipeline		*p;
	const char			*name;

	if ((name = proto_get_str(req, "name")) == NULL) {
		conn_send_error(c, id, "bad_request", "name must be a string");
		return NULL;
	}
	if (d->reg == NULL || (re = registry_find(d->reg, name)) == NULL) {
		conn_send_error(c, id, "not_found", "no registered pipeline "
		    "named '%.64s'", name);
		return NULL;
	}
	if (re->state == REGISTRY_REFUSED) {
		conn_send_error(c, id, "not_found", "no registered pipeline "
		    "named '%s': %s", name, re->nerrors > 0 ? re->errors[0] :
		    "its file is refused");
		return NULL;
	}
	p = re->dref != NULL ? re->dref->def : NULL;
	if (p != NULL && pipelines_check_user(c, id, p->name, p->user) == -1)
		return NULL;
	return re;
}

/* Why running an invalid registered pipeline failed: its errors. */
char *
pipelines_invalid_message(const struct registry_entry *re)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_addf(&b, "registered pipeline %s is not valid (%zu error%s): ",
	    re->name, re->nerrors, re->nerrors == 1 ? "" : "s");
	for (i = 0; i < re->nerrors && i < PIPELINES_MESSAGE_ERRORS; i++)
		buf_addf(&b, "%s%s", i > 0 ? "; " : "", re->errors[i]);
	if (re->nerrors > PIPELINES_MESSAGE_ERRORS)
		buf_addf(&b, "; and %zu more", re->nerrors -
		    PIPELINES_MESSAGE_ERRORS);
	return buf_detach(&b);
}

/*
 * One pass over the history: the digest of each name, kept at the first
 * entry of that name (the history is oldest first: the last one seen is
 * the latest run).
 */
static struct pipelines_digest *
pipelines_digests(struct daemon *d, const struct peer *peer)
{
	struct pipelines_digest	*dg;
	const struct execution	*e;
	ssize_t			 k;
	size_t			 i;

	dg = xcalloc(d->reg->n + 1, sizeof *dg);
	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		if (e->registered == NULL || !dispatch_may_see(peer, e) ||
		    (k = registry_index(d->reg, e->registered)) == -1)
			continue;
		dg[k].runs++;
		if (result_is_final(&e->r)) {
			dg[k].final++;
			if (e->r.status == STATUS_DONE)
				dg[k].done++;
		}
		dg[k].last = e;
	}
	return dg;
}

static struct node *
pipelines_str(const char *s)
{
	return node_new_str(s, strlen(s));
}

/* {runs, last_status, last_run, last_execution, success_rate}. */
static struct node *
pipelines_digest_node(const struct pipelines_digest *dg)
{
	struct node	*m = node_new(NODE_MAP);

	node_map_set_str(m, "runs", node_new_int(dg->runs));
	if (dg->last != NULL) {
		node_map_set_str(m, "last_status",
		    pipelines_str(status_name(dg->last->r.status)));
		node_map_set_str(m, "last_run",
		    view_time(dg->last->submitted_us));
		node_map_set_str(m, "last_execution",
		    node_new_int((int64_t)dg->last->id));
	} else {
		node_map_set_str(m, "last_status", node_new(NODE_NULL));
		node_map_set_str(m, "last_run", node_new(NODE_NULL));
		node_map_set_str(m, "last_execution", node_new(NODE_NULL));
	}
	/* Of the runs that ended: a running one has not failed yet. */
	node_map_set_str(m, "success_rate", dg->final > 0 ?
	    node_new_float((double)dg->done / (double)dg->final) :
	    node_new(NODE_NULL));
	return m;
}

static const char *
pipelines_state_name(enum registry_state st)
{
	switch (st) {
	case REGISTRY_VALID:
		return "valid";
	case REGISTRY_INVALID:
		return "invalid";
	case REGISTRY_REFUSED:
		return "refused";
	}
	return "?";
}

/* One entry of the list, with its document when asked for. */
static struct node *
pipelines_entry(const struct registry_entry *re,
    const struct pipelines_digest *dg, bool definition)
{
	const struct pipeline	*p = re->dref != NULL ? re->dref->def : NULL;
	struct node		*m = node_new(NODE_MAP), *errs;
	size_t			 i;

	node_map_set_str(m, "name", pipelines_str(re->name));
	node_map_set_str(m, "file", pipelines_str(re->file));
	node_map_set_str(m, "status",
	    pipelines_str(pipelines_state_name(re->state)));
	node_map_set_str(m, "valid", node_new_bool(p != NULL));
	if (re->nerrors > 0) {
		errs = node_new(NODE_SEQ);
		for (i = 0; i < re->nerrors; i++)
			node_append(errs, pipelines_str(re->errors[i]));
		node_map_set_str(m, "errors", errs);
	}
	if (p != NULL) {
		if (p->description != NULL)
			node_map_set_str(m, "description",
			    pipelines_str(p->description));
		if (p->user != NULL)
			node_map_set_str(m, "user", pipelines_str(p->user));
		node_map_set_str(m, "tasks", node_new_int(p->ntasks));
	}
	node_map_set_str(m, "digest", pipelines_digest_node(dg));
	if (definition && p != NULL)
		node_map_set_str(m, "definition", node_copy(re->dref->doc));
	return m;
}

/*
 * {op: "pipelines", name?, definition?}: the registry (or the entries of
 * one name, not_found when none) with each digest; with definition (and
 * name), the document of the valid one too (what pipectl graph NAME
 * draws).
 */
void
pipelines_op(struct conn *c, const struct node *req, int64_t id)
{
	struct daemon		*d = conn_daemon(c);
	struct pipelines_digest	*dg;
	struct node		*r, *list;
	const char		*name = NULL;
	bool			 definition = false;
	ssize_t			 k;
	size_t			 i;

	if (proto_get(req, "name") != NULL &&
	    (name = proto_get_str(req, "name")) == NULL) {
		conn_send_error(c, id, "bad_request", "name must be a string");
		return;
	}
	if (proto_get(req, "definition") != NULL &&
	    proto_get_bool(req, "definition", &definition) == -1) {
		conn_send_error(c, id, "bad_request",
		    "definition must be a boolean");
		return;
	}
	/* One document per reply: all of them could outgrow a frame. */
	if (definition && name == NULL) {
		conn_send_error(c, id, "bad_request",
		    "definition is given for one name at a time");
		return;
	}
	if (name != NULL && (d->reg == NULL ||
	    registry_index(d->reg, name) == -1)) {
		conn_send_error(c, id, "not_found", "no registered pipeline "
		    "named '%.64s'", name);
		return;
	}
	list = node_new(NODE_SEQ);
	if (d->reg != NULL) {
		dg = pipelines_digests(d, conn_peer(c));
		for (i = 0; i < d->reg->n; i++) {
			if (name != NULL && strcmp(d->reg->v[i].name, name) != 0)
				continue;
			k = registry_index(d->reg, d->reg->v[i].name);
			node_append(list, pipelines_entry(&d->reg->v[i], &dg[k],
			    definition));
		}
		free(dg);
	}
	r = proto_reply_ok(id);
	node_map_set_str(r, "pipelines", list);
	if (d->reg != NULL)
		node_map_set_str(r, "dir", pipelines_str(d->reg->dir));
	conn_send(c, r);
	node_free(r);
}
