/*
 * The Celery wire format (docs/runners.md, "The Celery runner"): the full
 * protocol v2 envelope of a pipelined.run_task message, the revoke
 * broadcast, and reading result documents and worker events.  JSON
 * through jansson both ways.
 *
 * A malformed message can take a whole worker fleet down (a missing
 * delivery_tag or delivery_info, a body that is not a 3-element array),
 * so every message is built from the complete template, always.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "celery.h"

#define ENVELOPE_TASK	"pipelined.run_task"

/* A JSON string, or NULL (with *bad set) when s is not valid UTF-8. */
static json_t *
envelope_str(const char *s, bool *bad)
{
	json_t	*j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) == NULL)
		*bad = true;
	return j;
}

/* The spec pipelined_worker.py runs: argv, env, cwd, limits, timeouts. */
static json_t *
envelope_spec(struct celery *c, struct ctask *ct, const struct taskspec *ts,
    bool *bad)
{
	json_t		*spec, *argv, *env, *limits;
	const char	*eq;
	char		*addr, *name;
	size_t		 i;

	argv = json_array();
	for (i = 0; ts->argv[i] != NULL; i++)
		json_array_append_new(argv, envelope_str(ts->argv[i], bad));
	env = json_object();
	for (i = 0; ts->envp[i] != NULL; i++) {
		if ((eq = strchr(ts->envp[i], '=')) == NULL)
			continue;
		name = cx_strndup(ts->envp[i], (size_t)(eq - ts->envp[i]));
		if (json_object_set_new(env, name, envelope_str(eq + 1,
		    bad)) == -1)
			*bad = true;
		free(name);
	}
	limits = json_pack("{sIsIsIsI}", "memory",
	    (json_int_t)ts->limits.memory, "cpu_time_ms",
	    (json_int_t)ts->limits.cpu_time_ms, "open_files",
	    (json_int_t)ts->limits.open_files, "processes",
	    (json_int_t)ts->limits.processes);
	addr = c->host->address(c->host->task_result(ct->tr));
	spec = json_object();
	json_object_set_new(spec, "argv", argv);
	json_object_set_new(spec, "env", env);
	json_object_set_new(spec, "cwd", envelope_str(ts->cwd, bad));
	json_object_set_new(spec, "timeout", ts->timeout_ms > 0 ?
	    json_real((double)ts->timeout_ms / 1000) : json_null());
	json_object_set_new(spec, "kill_grace",
	    json_real((double)ts->kill_grace_ms / 1000));
	json_object_set_new(spec, "output_cap",
	    json_integer((json_int_t)ts->output_cap));
	json_object_set_new(spec, "limits", limits);
	json_object_set_new(spec, "address", json_string(addr));
	json_object_set_new(spec, "attempt", json_integer(ct->attempt));
	free(addr);
	return spec;
}

/* Dump j compactly, base64 it, and free j. */
static char *
envelope_b64(json_t *j)
{
	char	*s, *b;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		abort();
	json_decref(j);
	b = cx_base64_encode(s, strlen(s));
	free(s);
	return b;
}

/* A finished envelope as one line of JSON; frees j. */
static char *
envelope_dump(json_t *j, size_t *len)
{
	char	*s;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		abort();
	json_decref(j);
	*len = strlen(s);
	return s;
}

/*
 * The message of one task (docs/runners.md, Sending): body [args, kwargs,
 * embed] with args [spec], base64; headers and properties complete.  NULL
 * with *err when the command cannot be sent (not valid UTF-8).
 */
char *
envelope_task(struct celery *c, struct ctask *ct, const struct taskspec *ts,
    size_t *len, char **err)
{
	json_t	*body, *headers, *props, *env;
	bool	 bad = false;
	char	*addr, *repr, *b64;

	body = json_pack("[[o]{}{s:n,s:n,s:n,s:n}]", envelope_spec(c, ct, ts,
	    &bad), "callbacks", "errbacks", "chain", "chord");
	if (bad || body == NULL) {
		json_decref(body);
		*err = cx_strdup("cannot send to Celery: the command, its "
		    "environment or its directory is not valid UTF-8");
		return NULL;
	}
	b64 = envelope_b64(body);
	addr = c->host->address(c->host->task_result(ct->tr));
	repr = cx_printf("%s (attempt %u)", addr, ct->attempt);
	headers = json_pack("{s:s,s:s,s:s,s:n,s:n,s:n,s:n,s:n,s:i,s:[nn],"
	    "s:s,s:n,s:s,s:s,s:s,s:b}", "lang", "py", "task", ENVELOPE_TASK,
	    "id", ct->id, "shadow", "eta", "expires", "group", "group_index",
	    "retries", 0, "timelimit", "root_id", ct->id, "parent_id",
	    "argsrepr", repr, "kwargsrepr", "{}", "origin", c->origin,
	    "ignore_result", 0);
	props = json_pack("{s:s,s:s,s:i,s:{s:s,s:s},s:i,s:s,s:s}",
	    "correlation_id", ct->id, "reply_to", "", "delivery_mode", 2,
	    "delivery_info", "exchange", "", "routing_key", ct->queue,
	    "priority", 0, "body_encoding", "base64", "delivery_tag", ct->tag);
	env = json_pack("{s:s,s:s,s:s,s:o,s:o}", "body", b64,
	    "content-encoding", "utf-8", "content-type", "application/json",
	    "headers", headers, "properties", props);
	free(b64);
	free(repr);
	free(addr);
	if (env == NULL) {
		*err = cx_strdup("cannot build the Celery message");
		return NULL;
	}
	return envelope_dump(env, len);
}

/*
 * A revoke with terminate, SIGTERM only (docs/runners.md, Cancel), to every
 * worker or to the one named.
 */
char *
envelope_revoke(struct celery *c, const char *id, const char *worker,
    size_t *len)
{
	json_t	*cmd;
	char	 tag[37], *b64;

	cx_uuid4(tag);
	cmd = json_pack("{s:s,s:{s:s,s:b,s:s},s:o,s:n,s:n}", "method",
	    "revoke", "arguments", "task_id", id, "terminate", 1, "signal",
	    "SIGTERM", "destination", worker != NULL ?
	    json_pack("[s]", worker) : json_null(), "pattern", "matcher");
	b64 = envelope_b64(cmd);
	cmd = json_pack("{s:s,s:s,s:s,s:{s:i,s:i},s:{s:i,s:{s:s,s:s},s:i,"
	    "s:s,s:s}}", "body", b64, "content-encoding", "utf-8",
	    "content-type", "application/json", "headers", "clock", 1,
	    "expires", 0, "properties", "delivery_mode", 2, "delivery_info",
	    "exchange", "celery.pidbox", "routing_key", "", "priority", 0,
	    "body_encoding", "base64", "delivery_tag", tag);
	free(b64);
	return envelope_dump(cmd, len);
}

/* An integer member, or def when absent or null. */
static long long
envelope_int(const json_t *o, const char *key, long long def)
{
	const json_t	*v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return def;
}

/* A time in seconds since the epoch as microseconds, 0 when absent. */
static int64_t
envelope_time(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? (int64_t)(json_number_value(v) * 1e6) : 0;
}

/* What the worker's SUCCESS result says about the command's end. */
static int
envelope_success(struct meta *m, const json_t *r, char **err)
{
	const json_t	*v;
	const char	*out;

	if (!json_is_object(r)) {
		*err = cx_strdup("the result is not an object");
		return -1;
	}
	m->o.exit_code = (int)envelope_int(r, "exit_code", -1);
	m->o.signal = (int)envelope_int(r, "signal", 0);
	m->o.exec_errno = (int)envelope_int(r, "exec_errno", 0);
	if (json_is_string(v = json_object_get(r, "exec_step")))
		m->o.exec_step = m->exec_step = cx_strdup(json_string_value(v));
	m->o.timed_out = json_is_true(json_object_get(r, "timed_out"));
	m->o.pid = (pid_t)envelope_int(r, "pid", 0);
	m->o.started_us = envelope_time(r, "started");
	m->o.ended_us = envelope_time(r, "ended");
	m->o.cpu_user_us = envelope_int(r, "cpu_user_us", 0);
	m->o.cpu_system_us = envelope_int(r, "cpu_system_us", 0);
	m->o.max_rss_kib = envelope_int(r, "max_rss_kib", 0);
	m->dropped = envelope_int(r, "output_dropped", 0);
	if (json_is_string(v = json_object_get(r, "worker")))
		m->worker = cx_strdup(json_string_value(v));
	if (json_is_string(v = json_object_get(r, "output"))) {
		out = json_string_value(v);
		m->output = cx_base64_decode(out, json_string_length(v),
		    &m->outlen);
	}
	if (m->o.exit_code == -1 && m->o.signal == 0 && m->o.exec_errno == 0) {
		*err = cx_strdup("the result has no exit code, signal or "
		    "exec error");
		return -1;
	}
	return 0;
}

/* "TYPE: message" of a FAILURE or REVOKED result. */
static char *
envelope_exception(const json_t *r, char **first)
{
	const json_t	*type, *args, *a;
	char		*msg, *s, *t;
	size_t		 i;

	type = json_object_get(r, "exc_type");
	args = json_object_get(r, "exc_message");
	msg = cx_strdup("");
	json_array_foreach(args, i, a) {
		s = json_is_string(a) ? cx_strdup(json_string_value(a)) :
		    json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s == NULL)
			continue;
		if (i == 0 && first != NULL)
			*first = cx_strdup(s);
		t = cx_printf("%s%s%s", msg, i > 0 ? ", " : "", s);
		free(msg);
		free(s);
		msg = t;
	}
	if (!json_is_array(args) && json_is_string(args)) {
		free(msg);
		msg = cx_strdup(json_string_value(args));
	}
	t = cx_printf("%s%s%s", json_is_string(type) ?
	    json_string_value(type) : "error", *msg != '\0' ? ": " : "", msg);
	free(msg);
	return t;
}

/*
 * Read a result document (docs/runners.md, Results); -1 with *err when
 * unreadable.
 */
int
envelope_meta(struct meta *m, const char *s, size_t len, char **err)
{
	json_t		*doc, *r;
	const char	*st;
	json_error_t	 je;
	char		*exc;
	int		 rc = 0;

	memset(m, 0, sizeof *m);
	m->o.exit_code = -1;
	if ((doc = json_loadb(s, len, 0, &je)) == NULL) {
		*err = cx_printf("a result that is not JSON: %s", je.text);
		return -1;
	}
	st = json_string_value(json_object_get(doc, "status"));
	r = json_object_get(doc, "result");
	if (st == NULL) {
		*err = cx_strdup("a result without a status");
		rc = -1;
	} else if (strcmp(st, "STARTED") == 0) {
		m->status = META_STARTED;
		if (json_is_string(json_object_get(r, "hostname")))
			m->worker = cx_strdup(json_string_value(
			    json_object_get(r, "hostname")));
		m->pool_pid = envelope_int(r, "pid", 0);
	} else if (strcmp(st, "SUCCESS") == 0) {
		m->status = META_SUCCESS;
		rc = envelope_success(m, r, err);
	} else if (strcmp(st, "FAILURE") == 0) {
		m->status = META_FAILURE;
		exc = envelope_exception(r, NULL);
		m->o.error = m->error = cx_printf("the Celery task failed on "
		    "the worker: %s", exc);
		free(exc);
	} else if (strcmp(st, "REVOKED") == 0) {
		m->status = META_REVOKED;
		exc = envelope_exception(r, &m->why);
		free(exc);
	} else
		m->status = META_OTHER;
	json_decref(doc);
	return rc;
}

/* Free what envelope_meta() allocated. */
void
envelope_meta_clear(struct meta *m)
{
	free(m->worker);
	free(m->error);
	free(m->exec_step);
	free(m->output);
	free(m->why);
	memset(m, 0, sizeof *m);
}

/*
 * A worker event (worker.heartbeat/online/offline): the worker's name
 * and its main process id (to tell a restart).  -1 when unreadable.
 */
int
envelope_event(const char *s, size_t len, char **worker, long long *pid)
{
	json_t		*env, *body = NULL;
	const char	*b64, *host;
	char		*raw;
	size_t		 rawlen;

	*worker = NULL;
	*pid = 0;
	if ((env = json_loadb(s, len, 0, NULL)) == NULL)
		return -1;
	host = json_string_value(json_object_get(json_object_get(env,
	    "headers"), "hostname"));
	if ((b64 = json_string_value(json_object_get(env, "body"))) != NULL &&
	    (raw = cx_base64_decode(b64, strlen(b64), &rawlen)) != NULL) {
		body = json_loadb(raw, rawlen, 0, NULL);
		free(raw);
	}
	if (host == NULL)
		host = json_string_value(json_object_get(body, "hostname"));
	if (host != NULL)
		*worker = cx_strdup(host);
	*pid = envelope_int(body, "pid", 0);
	json_decref(body);
	json_decref(env);
	return *worker != NULL ? 0 : -1;
}
