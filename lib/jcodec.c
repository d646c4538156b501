/*
 * Journal payloads: from the model, and back into it at replay.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "diag.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "status.h"
#include "timefmt.h"
#include "xmalloc.h"

static void
jcodec_put_str(struct node *m, const char *key, const char *s)
{
	if (s != NULL)
		node_map_set_str(m, key, node_new_str(s, strlen(s)));
}

static void
jcodec_put_int(struct node *m, const char *key, int64_t v)
{
	node_map_set_str(m, key, node_new_int(v));
}

/* EXEC_CREATED: everything the submission said. */
struct node *
jcodec_created(const struct execution *e)
{
	struct node	*m = node_new(NODE_MAP);

	jcodec_put_int(m, "execution", (int64_t)e->id);
	node_map_set_str(m, "pipeline", node_copy(e->doc));
	node_map_set_str(m, "input", e->input != NULL ? node_copy(e->input) :
	    node_new(NODE_MAP));
	jcodec_put_str(m, "cwd", e->cwd);
	jcodec_put_int(m, "uid", e->uid);
	jcodec_put_int(m, "gid", e->gid);
	jcodec_put_str(m, "user", e->user);
	jcodec_put_str(m, "runner", e->runner);
	jcodec_put_int(m, "submitted", e->submitted_us);
	if (e->retry_of != 0)
		jcodec_put_int(m, "retry_of", (int64_t)e->retry_of);
	return m;
}

/* STATUS or REPORTER: one result's state after a change. */
struct node *
jcodec_change(const struct result *r, int64_t time_us)
{
	const struct task_result	*tr;
	struct node			*m = node_new(NODE_MAP);
	char				*addr = result_address(r);

	jcodec_put_int(m, "execution", (int64_t)r->exec->id);
	jcodec_put_str(m, "address", addr);
	jcodec_put_str(m, "status", status_name(r->status));
	jcodec_put_str(m, "message", r->message);
	jcodec_put_int(m, "time", time_us);
	jcodec_put_int(m, "started", r->started_us);
	jcodec_put_int(m, "completed", r->completed_us);
	free(addr);
	if (r->level != LEVEL_TASK_RESULT)
		return m;
	tr = (const struct task_result *)r;
	jcodec_put_int(m, "pid", tr->pid);
	jcodec_put_int(m, "exit_code", tr->exit_code);
	jcodec_put_int(m, "signal", tr->signal);
	jcodec_put_int(m, "attempts", tr->attempts);
	jcodec_put_int(m, "cpu_user_us", tr->cpu_user_us);
	jcodec_put_int(m, "cpu_system_us", tr->cpu_system_us);
	jcodec_put_int(m, "max_rss_kib", tr->max_rss_kib);
	jcodec_put_str(m, "isolation", tr->isolation);
	return m;
}

/* ITEMS: what an iterator command printed, under its parent. */
struct node *
jcodec_items(const struct result *parent, const struct node *items)
{
	struct node	*m = node_new(NODE_MAP);
	char		*addr = result_address(parent);

	jcodec_put_int(m, "execution", (int64_t)parent->exec->id);
	jcodec_put_str(m, "address", addr);
	jcodec_put_int(m, "time", timefmt_now_us());
	node_map_set_str(m, "items", node_copy(items));
	free(addr);
	return m;
}

/* An integer field, or def when absent. */
static int64_t
jcodec_int(const struct node *m, const char *key, int64_t def)
{
	int64_t	v;

	return proto_get_int(m, key, &v) == 0 ? v : def;
}

/* Rebuild an execution from its EXEC_CREATED record. */
static int
jcodec_apply_created(struct history *h, const struct node *m, char **err)
{
	const struct node	*doc = proto_get(m, "pipeline");
	const struct node	*input = proto_get(m, "input");
	struct execution	*e, *orig;
	struct pipeline		*p;
	struct diag		*d;
	int64_t			 id = jcodec_int(m, "execution", 0);
	char			*msg;

	if (id <= 0 || doc == NULL || (uint64_t)id < history_next_id(h)) {
		*err = xprintf("execution %lld: missing fields or an id used "
		    "before", (long long)id);
		return -1;
	}
	d = diag_new("journal");
	if ((p = load_document(doc, LOAD_REGISTERED, d)) == NULL) {
		diag_sort(d);
		msg = diag_format(d, 0);
		*err = xprintf("execution %lld: its definition does not load: "
		    "%s", (long long)id, msg);
		free(msg);
		diag_free(d);
		return -1;
	}
	diag_free(d);
	e = execution_new((uint64_t)id, p, NULL, NULL);
	e->owned_def = p;
	e->doc = node_copy(doc);
	e->input = input != NULL && input->type == NODE_MAP ?
	    node_copy(input) : node_new(NODE_MAP);
	e->cwd = xstrdup(proto_get_str(m, "cwd") != NULL ?
	    proto_get_str(m, "cwd") : "/");
	e->uid = (uid_t)jcodec_int(m, "uid", -1);
	e->gid = (gid_t)jcodec_int(m, "gid", -1);
	e->user = xstrdup(proto_get_str(m, "user") != NULL ?
	    proto_get_str(m, "user") : "?");
	e->runner = xstrdup(proto_get_str(m, "runner") != NULL ?
	    proto_get_str(m, "runner") : "local");
	e->submitted_us = jcodec_int(m, "submitted", 0);
	e->retry_of = (uint64_t)jcodec_int(m, "retry_of", 0);
	if (e->retry_of != 0 && (orig = history_get(h, e->retry_of)) != NULL)
		orig->retried_by = e->id;
	/* What the definition gives at once, as at submission. */
	execution_add_static(e, e->submitted_us);
	history_add(h, e);
	return 0;
}

/* The result an address in a record names. */
static struct result *
jcodec_result(struct history *h, const struct node *m, char **err)
{
	struct execution	*e;
	struct address		 a;
	const char		*s = proto_get_str(m, "address");

	if (s == NULL || address_parse(s, &a) == -1) {
		*err = xprintf("bad address");
		return NULL;
	}
	if ((e = history_get(h, a.id)) == NULL) {
		*err = xprintf("%s: no such execution", s);
		return NULL;
	}
	return address_resolve(e, &a, err);
}

/* Set a result to the state a STATUS or REPORTER record gives. */
static int
jcodec_apply_change(struct history *h, const struct node *m, char **err)
{
	struct task_result	*tr;
	struct result		*r;
	const char		*st, *msg, *iso;
	enum status		 status;

	if ((r = jcodec_result(h, m, err)) == NULL)
		return -1;
	if ((st = proto_get_str(m, "status")) == NULL ||
	    status_from_name(st, &status) == -1 ||
	    (msg = proto_get_str(m, "message")) == NULL) {
		*err = xprintf("bad status or message");
		return -1;
	}
	r->status = status;
	free(r->message);
	r->message = xstrdup(msg);
	r->started_us = jcodec_int(m, "started", r->started_us);
	r->completed_us = jcodec_int(m, "completed", r->completed_us);
	if (status_is_final(status))
		r->sealed = true;
	if (r->level != LEVEL_TASK_RESULT)
		return 0;
	tr = (struct task_result *)r;
	tr->pid = (pid_t)jcodec_int(m, "pid", tr->pid);
	tr->exit_code = (int)jcodec_int(m, "exit_code", tr->exit_code);
	tr->signal = (int)jcodec_int(m, "signal", tr->signal);
	tr->attempts = (uint32_t)jcodec_int(m, "attempts", tr->attempts);
	tr->cpu_user_us = jcodec_int(m, "cpu_user_us", tr->cpu_user_us);
	tr->cpu_system_us = jcodec_int(m, "cpu_system_us",
	    tr->cpu_system_us);
	tr->max_rss_kib = jcodec_int(m, "max_rss_kib", tr->max_rss_kib);
	if ((iso = proto_get_str(m, "isolation")) != NULL)
		tr->isolation = strcmp(iso, "cgroup") == 0 ? "cgroup" :
		    "process_group";
	return 0;
}

/* Add the children an iterator command gave. */
static int
jcodec_apply_items(struct history *h, const struct node *m, char **err)
{
	const struct node	*items = proto_get(m, "items");
	struct result		*r;

	if ((r = jcodec_result(h, m, err)) == NULL)
		return -1;
	if (items == NULL || items->type != NODE_SEQ || r->sealed ||
	    (r->level != LEVEL_EXECUTION && r->level !=
	    LEVEL_TASK_EXECUTION)) {
		*err = xprintf("items for a result that cannot take them");
		return -1;
	}
	execution_add_items(r, items, jcodec_int(m, "time", 0));
	return 0;
}

/* Apply one replayed record. */
int
jcodec_apply(struct history *h, const struct jrec *rec, char **err)
{
	struct proto_limits	 lim;
	struct node		*m;
	int			 rc;

	switch (rec->type) {
	case JREC_SEGMENT_END:
	case JREC_CLEAN_SHUTDOWN:
		return 0;
	}
	proto_limits_default(&lim);
	lim.max_frame = rec->len;
	if ((m = proto_decode(rec->payload, rec->len, &lim, err)) == NULL)
		return -1;
	switch (rec->type) {
	case JREC_EXEC_CREATED:
		rc = jcodec_apply_created(h, m, err);
		break;
	case JREC_STATUS:
	case JREC_REPORTER:
		rc = jcodec_apply_change(h, m, err);
		break;
	case JREC_ITEMS:
		rc = jcodec_apply_items(h, m, err);
		break;
	case JREC_SNAPSHOT_END:
		/* Ids of executions gc removed are never given again. */
		history_reserve_ids(h, (uint64_t)jcodec_int(m, "next_id", 1) - 1);
		rc = 0;
		break;
	default:
		*err = xprintf("unexpected record type %u", rec->type);
		rc = -1;
		break;
	}
	node_free(m);
	return rc;
}
