/*
 * Journal payloads: from the model, and back into it at replay.
 */
#include "config.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "bounds.h"
#include "defcache.h"
#include "diag.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "load.h"
#include "log.h"
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
	jcodec_put_str(m, "registered", e->registered);
	if (e->invalid)
		node_map_set_str(m, "invalid", node_new_bool(true));
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

/* A new execution of the definition doc, loaded (or shared). */
static struct execution *
jcodec_new_loaded(struct history *h, const struct node *doc, int64_t id,
    char **err)
{
	struct defref	*dref;
	struct diag	*d;
	char		*msg;

	d = diag_new("journal");
	if ((dref = defcache_get(history_defs(h), doc, LOAD_REGISTERED,
	    d)) == NULL) {
		diag_sort(d);
		msg = diag_format(d, 0);
		*err = xprintf("execution %lld: its definition does not load: "
		    "%s", (long long)id, msg);
		free(msg);
		diag_free(d);
		return NULL;
	}
	diag_free(d);
	return execution_new_shared((uint64_t)id, dref);
}

/* Rebuild an execution from its EXEC_CREATED record. */
static int
jcodec_apply_created(struct history *h, const struct node *m, char **err)
{
	const struct node	*doc = proto_get(m, "pipeline");
	const struct node	*input = proto_get(m, "input");
	const char		*reg = proto_get_str(m, "registered");
	struct execution	*e, *orig;
	int64_t			 id = jcodec_int(m, "execution", 0);
	bool			 invalid = false;

	if (id <= 0 || doc == NULL || (uint64_t)id < history_next_id(h)) {
		*err = xprintf("execution %lld: missing fields or an id used "
		    "before", (long long)id);
		return -1;
	}
	proto_get_bool(m, "invalid", &invalid);
	if (invalid && reg == NULL) {
		*err = xprintf("execution %lld: invalid without a registered "
		    "name", (long long)id);
		return -1;
	}
	if (invalid)
		e = execution_new_invalid((uint64_t)id, reg);
	else if ((e = jcodec_new_loaded(h, doc, id, err)) == NULL)
		return -1;
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
	if (reg != NULL && e->registered == NULL)
		e->registered = xstrdup(reg);
	/* What the definition gives at once, as at submission. */
	if (!e->invalid)
		execution_add_static(e, e->submitted_us);
	history_add(h, e);
	return 0;
}

/* The result an address names. */
static struct result *
jcodec_resolve(struct history *h, const char *s, char **err)
{
	struct execution	*e;
	struct address		 a;

	if (s == NULL || address_parse(s, &a) == -1) {
		*err = xprintf("bad address");
		return NULL;
	}
	/*
	 * A record naming an execution means its id was given out, even
	 * when its creation record was lost to damage: never again.
	 */
	history_reserve_ids(h, a.id);
	if ((e = history_get(h, a.id)) == NULL) {
		*err = xprintf("%s: no such execution", s);
		return NULL;
	}
	return address_resolve(e, &a, err);
}

/* The result an address in a record names. */
static struct result *
jcodec_result(struct history *h, const struct node *m, char **err)
{
	return jcodec_resolve(h, proto_get_str(m, "address"), err);
}

/* A STATUS or REPORTER record's fields, read without building a tree. */
struct jcodec_change {
	char		 address[PL_MAX_NAME + 64];
	char		 status[32];
	char		*message;
	char		 isolation[16];
	int64_t		 started, completed, pid, exit_code, sig, attempts;
	int64_t		 cpu_user, cpu_system, max_rss;
	bool		 has_started, has_completed, has_details;
};

static bool
jcodec_key(const msgpack_object *k, const char *name)
{
	size_t	len = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
	    memcmp(k->via.str.ptr, name, len) == 0;
}

static bool
jcodec_int_of(const msgpack_object *v, int64_t *out)
{
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    v->via.u64 <= INT64_MAX)
		*out = (int64_t)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*out = v->via.i64;
	else
		return false;
	return true;
}

/* Copy a checked string into buf; false when it is not one or too long. */
static bool
jcodec_str_of(const msgpack_object *v, char *buf, size_t len)
{
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= len ||
	    !proto_str_ok(v->via.str.ptr, v->via.str.size))
		return false;
	memcpy(buf, v->via.str.ptr, v->via.str.size);
	buf[v->via.str.size] = '\0';
	return true;
}

/* Read the fields of a change record from its map. */
static int
jcodec_read_change(const msgpack_object *o, struct jcodec_change *c,
    char **err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	bool			 ok = true;

	memset(c, 0, sizeof *c);
	for (i = 0; ok && i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (jcodec_key(&kv->key, "address"))
			ok = jcodec_str_of(&kv->val, c->address,
			    sizeof c->address);
		else if (jcodec_key(&kv->key, "status"))
			ok = jcodec_str_of(&kv->val, c->status,
			    sizeof c->status);
		else if (jcodec_key(&kv->key, "message")) {
			ok = kv->val.type == MSGPACK_OBJECT_STR &&
			    proto_str_ok(kv->val.via.str.ptr,
			    kv->val.via.str.size);
			if (ok && c->message == NULL)
				c->message = xstrndup(kv->val.via.str.ptr,
				    kv->val.via.str.size);
		} else if (jcodec_key(&kv->key, "isolation"))
			ok = jcodec_str_of(&kv->val, c->isolation,
			    sizeof c->isolation);
		else if (jcodec_key(&kv->key, "started"))
			ok = c->has_started = jcodec_int_of(&kv->val,
			    &c->started);
		else if (jcodec_key(&kv->key, "completed"))
			ok = c->has_completed = jcodec_int_of(&kv->val,
			    &c->completed);
		else if (jcodec_key(&kv->key, "pid"))
			ok = c->has_details = jcodec_int_of(&kv->val, &c->pid);
		else if (jcodec_key(&kv->key, "exit_code"))
			ok = jcodec_int_of(&kv->val, &c->exit_code);
		else if (jcodec_key(&kv->key, "signal"))
			ok = jcodec_int_of(&kv->val, &c->sig);
		else if (jcodec_key(&kv->key, "attempts"))
			ok = jcodec_int_of(&kv->val, &c->attempts);
		else if (jcodec_key(&kv->key, "cpu_user_us"))
			ok = jcodec_int_of(&kv->val, &c->cpu_user);
		else if (jcodec_key(&kv->key, "cpu_system_us"))
			ok = jcodec_int_of(&kv->val, &c->cpu_system);
		else if (jcodec_key(&kv->key, "max_rss_kib"))
			ok = jcodec_int_of(&kv->val, &c->max_rss);
	}
	if (!ok || c->address[0] == '\0' || c->status[0] == '\0' ||
	    c->message == NULL) {
		*err = xprintf("a field is missing or of the wrong type");
		free(c->message);
		c->message = NULL;
		return -1;
	}
	return 0;
}

/*
 * Set a result to the state a STATUS or REPORTER record gives.  These are
 * nearly every record of a journal: they are read straight from the
 * msgpack object, without a tree.
 */
static int
jcodec_apply_change(struct history *h, const msgpack_object *o, char **err)
{
	struct jcodec_change	 c;
	struct task_result	*tr;
	struct result		*r;
	enum status		 status;

	if (jcodec_read_change(o, &c, err) == -1)
		return -1;
	if ((r = jcodec_resolve(h, c.address, err)) == NULL ||
	    status_from_name(c.status, &status) == -1) {
		if (r != NULL)
			*err = xprintf("bad status");
		free(c.message);
		return -1;
	}
	r->status = status;
	free(r->message);
	r->message = c.message;
	if (c.has_started)
		r->started_us = c.started;
	if (c.has_completed)
		r->completed_us = c.completed;
	if (status_is_final(status))
		r->sealed = true;
	if (r->level != LEVEL_TASK_RESULT || !c.has_details)
		return 0;
	tr = (struct task_result *)r;
	tr->pid = (pid_t)c.pid;
	tr->exit_code = (int)c.exit_code;
	tr->signal = (int)c.sig;
	tr->attempts = (uint32_t)c.attempts;
	tr->cpu_user_us = c.cpu_user;
	tr->cpu_system_us = c.cpu_system;
	tr->max_rss_kib = c.max_rss;
	if (c.isolation[0] != '\0')
		tr->isolation = strcmp(c.isolation, "cgroup") == 0 ? "cgroup" :
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
	case JREC_PAD:
		return 0;
	}
	proto_limits_default(&lim);
	lim.max_frame = rec->len;
	if (rec->type == JREC_STATUS || rec->type == JREC_REPORTER) {
		static msgpack_zone	*zone;
		msgpack_object		 o;

		if (zone == NULL && (zone = msgpack_zone_new(4096)) == NULL)
			fatalx("msgpack_zone_new: out of memory");
		msgpack_zone_clear(zone);
		if (proto_unpack(rec->payload, rec->len, &lim, zone, &o,
		    err) == -1)
			return -1;
		return jcodec_apply_change(h, &o, err);
	}
	if ((m = proto_decode(rec->payload, rec->len, &lim, err)) == NULL)
		return -1;
	switch (rec->type) {
	case JREC_EXEC_CREATED:
		rc = jcodec_apply_created(h, m, err);
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
