/*
 * Unit tests for the Celery runner's pure parts (runners/celery): the
 * broker URL, durations, base64 and UUIDs; the complete task envelope and
 * the revoke (docs/runners.md, "The Celery runner": a message missing any
 * of it can take a worker fleet down); result documents and worker
 * events; liveness.
 */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../runners/celery/celery.h"

START_TEST(test_url)
{
	struct broker_url	 u;
	char			*err = NULL;

	ck_assert_int_eq(cx_url_parse("redis://10.0.0.5", &u, &err), 0);
	ck_assert_str_eq(u.host, "10.0.0.5");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(u.db, 0);
	ck_assert_ptr_null(u.password);
	ck_assert_str_eq(u.display, "redis://10.0.0.5:6379/0");
	cx_url_clear(&u);

	ck_assert_int_eq(cx_url_parse("redis://:s%40cret@h:6390/3", &u, &err),
	    0);
	ck_assert_ptr_null(u.user);
	ck_assert_str_eq(u.password, "s@cret");
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 6390);
	ck_assert_int_eq(u.db, 3);
	/* Credentials never show in messages. */
	ck_assert_str_eq(u.display, "redis://h:6390/3");
	cx_url_clear(&u);

	ck_assert_int_eq(cx_url_parse("redis://alice:pw@[::1]:7000/", &u,
	    &err), 0);
	ck_assert_str_eq(u.user, "alice");
	ck_assert_str_eq(u.password, "pw");
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.display, "redis://[::1]:7000/0");
	cx_url_clear(&u);

	ck_assert_int_eq(cx_url_parse("redis://", &u, &err), 0);
	ck_assert_str_eq(u.host, "127.0.0.1");
	cx_url_clear(&u);

	ck_assert_int_eq(cx_url_parse("amqp://guest@h//", &u, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "redis://"));
	free(err);
	ck_assert_int_eq(cx_url_parse("redis://h:0/0", &u, &err), -1);
	free(err);
	ck_assert_int_eq(cx_url_parse("redis://h:99999", &u, &err), -1);
	free(err);
	ck_assert_int_eq(cx_url_parse("redis://h/x", &u, &err), -1);
	free(err);
	ck_assert_int_eq(cx_url_parse("redis://:bad%zz@h", &u, &err), -1);
	free(err);
}
END_TEST

START_TEST(test_durations)
{
	int64_t	ms;
	char	buf[32];

	ck_assert_int_eq(cx_duration("30s", &ms), 0);
	ck_assert_int_eq(ms, 30000);
	ck_assert_int_eq(cx_duration("250ms", &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(cx_duration("45", &ms), 0);
	ck_assert_int_eq(ms, 45000);
	ck_assert_int_eq(cx_duration("1h30m", &ms), 0);
	ck_assert_int_eq(ms, 5400000);
	ck_assert_int_eq(cx_duration("1d", &ms), 0);
	ck_assert_int_eq(ms, 86400000);
	ck_assert_int_eq(cx_duration("", &ms), -1);
	ck_assert_int_eq(cx_duration("5x", &ms), -1);
	ck_assert_int_eq(cx_duration("-5s", &ms), -1);
	ck_assert_int_eq(cx_duration("1.5s", &ms), -1);
	ck_assert_int_eq(cx_duration("99999999999999999999s", &ms), -1);
	ck_assert_str_eq(cx_format_ms(30000, buf, sizeof buf), "30s");
	ck_assert_str_eq(cx_format_ms(300, buf, sizeof buf), "300ms");
	ck_assert_str_eq(cx_format_ms(5400000, buf, sizeof buf), "1h30m");
	ck_assert_str_eq(cx_format_ms(0, buf, sizeof buf), "0s");
}
END_TEST

START_TEST(test_base64_uuid)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char	*e, *d, id[37], id2[37];
	size_t	 i, n;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		e = cx_base64_encode(in[i], strlen(in[i]));
		ck_assert_str_eq(e, out[i]);
		d = cx_base64_decode(e, strlen(e), &n);
		ck_assert_uint_eq(n, strlen(in[i]));
		ck_assert_mem_eq(d, in[i], n);
		free(e);
		free(d);
	}
	ck_assert_ptr_null(cx_base64_decode("a*b=", 4, &n));
	cx_uuid4(id);
	cx_uuid4(id2);
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert_int_eq(id[14], '4');
	ck_assert_ptr_nonnull(strchr("89ab", id[19]));
	ck_assert_str_ne(id, id2);
}
END_TEST

/* A host with just what the envelope needs. */
static char *
fake_address(const struct result *r)
{
	return strdup("42/0/render/3");
}

static struct result *
fake_task_result(struct task_result *tr)
{
	return (struct result *)tr;
}

static struct pipelined_host	fake_host;
static struct celery		fake_celery;

static void
fake_setup(void)
{
	fake_host.address = fake_address;
	fake_host.task_result = fake_task_result;
	fake_celery.host = &fake_host;
	strlcpy(fake_celery.origin, "123@daemonhost",
	    sizeof fake_celery.origin);
}

/* The body of an envelope, decoded and parsed. */
static json_t *
body_of(json_t *env)
{
	const char	*b64;
	char		*raw;
	size_t		 n;
	json_t		*body;

	b64 = json_string_value(json_object_get(env, "body"));
	ck_assert_ptr_nonnull(b64);
	raw = cx_base64_decode(b64, strlen(b64), &n);
	ck_assert_ptr_nonnull(raw);
	body = json_loadb(raw, n, 0, NULL);
	free(raw);
	ck_assert_ptr_nonnull(body);
	return body;
}

START_TEST(test_envelope_task)
{
	static char	*argv[] = { "/bin/sh", "-c", "echo é", NULL };
	static char	*envp[] = { "PATH=/usr/bin:/bin", "X=a=b", NULL };
	static char	*bad_argv[] = { "/bin/echo", "\xff\xfe", NULL };
	struct taskspec	 ts;
	struct ctask	 ct;
	json_t		*env, *body, *h, *p, *spec;
	char		*msg, *err = NULL;
	size_t		 len;
	int		 dummy;

	memset(&ts, 0, sizeof ts);
	ts.argv = argv;
	ts.envp = envp;
	ts.cwd = "/srv/report";
	ts.timeout_ms = 1500;
	ts.kill_grace_ms = 10000;
	ts.output_cap = 1024;
	ts.limits.memory = ts.limits.cpu_time_ms = -1;
	ts.limits.open_files = ts.limits.processes = -1;
	memset(&ct, 0, sizeof ct);
	ct.tr = (struct task_result *)&dummy;
	ct.attempt = 2;
	ct.queue = "render";
	strlcpy(ct.id, "9a79e287-e43f-4516-931b-aad92a63d223", sizeof ct.id);
	strlcpy(ct.tag, "9fefa605-d180-4fd2-bdc0-8c1a927ae440", sizeof ct.tag);
	msg = envelope_task(&fake_celery, &ct, &ts, &len, &err);
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_eq(strlen(msg), len);
	env = json_loadb(msg, len, 0, NULL);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(json_string_value(json_object_get(env,
	    "content-type")), "application/json");
	ck_assert_str_eq(json_string_value(json_object_get(env,
	    "content-encoding")), "utf-8");
	h = json_object_get(env, "headers");
	ck_assert_str_eq(json_string_value(json_object_get(h, "lang")), "py");
	ck_assert_str_eq(json_string_value(json_object_get(h, "task")),
	    "pipelined.run_task");
	ck_assert_str_eq(json_string_value(json_object_get(h, "id")), ct.id);
	ck_assert_str_eq(json_string_value(json_object_get(h, "root_id")),
	    ct.id);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "retries")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(h, "timelimit")), 2);
	ck_assert(json_is_null(json_object_get(h, "eta")));
	ck_assert_str_eq(json_string_value(json_object_get(h, "origin")),
	    "123@daemonhost");
	ck_assert(json_is_false(json_object_get(h, "ignore_result")));
	p = json_object_get(env, "properties");
	/* The two whose absence kills a worker. */
	ck_assert_str_eq(json_string_value(json_object_get(p,
	    "delivery_tag")), ct.tag);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "delivery_info"), "exchange")), "");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "delivery_info"), "routing_key")), "render");
	ck_assert_str_eq(json_string_value(json_object_get(p,
	    "body_encoding")), "base64");
	ck_assert_str_eq(json_string_value(json_object_get(p,
	    "correlation_id")), ct.id);
	ck_assert_int_eq(json_integer_value(json_object_get(p,
	    "delivery_mode")), 2);
	/* The body: [args, kwargs, embed], args [spec]. */
	body = body_of(env);
	ck_assert_uint_eq(json_array_size(body), 3);
	ck_assert_uint_eq(json_array_size(json_array_get(body, 0)), 1);
	ck_assert_uint_eq(json_object_size(json_array_get(body, 1)), 0);
	ck_assert(json_is_null(json_object_get(json_array_get(body, 2),
	    "callbacks")));
	ck_assert(json_object_get(json_array_get(body, 2), "chord") != NULL);
	spec = json_array_get(json_array_get(body, 0), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(spec,
	    "argv"), 2)), "echo é");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(spec,
	    "env"), "X")), "a=b");
	ck_assert_str_eq(json_string_value(json_object_get(spec, "cwd")),
	    "/srv/report");
	ck_assert(json_real_value(json_object_get(spec, "timeout")) == 1.5);
	ck_assert(json_real_value(json_object_get(spec, "kill_grace")) == 10);
	ck_assert_int_eq(json_integer_value(json_object_get(spec,
	    "output_cap")), 1024);
	ck_assert_str_eq(json_string_value(json_object_get(spec, "address")),
	    "42/0/render/3");
	ck_assert_int_eq(json_integer_value(json_object_get(spec, "attempt")),
	    2);
	json_decref(body);
	json_decref(env);
	free(msg);

	/* No timeout: null, as Python sends it. */
	ts.timeout_ms = 0;
	msg = envelope_task(&fake_celery, &ct, &ts, &len, &err);
	env = json_loads(msg, 0, NULL);
	body = body_of(env);
	ck_assert(json_is_null(json_object_get(json_array_get(
	    json_array_get(body, 0), 0), "timeout")));
	json_decref(body);
	json_decref(env);
	free(msg);

	/* Not UTF-8: refused here rather than sent. */
	ts.argv = bad_argv;
	ck_assert_ptr_null(envelope_task(&fake_celery, &ct, &ts, &len, &err));
	ck_assert_ptr_nonnull(strstr(err, "UTF-8"));
	free(err);
}
END_TEST

START_TEST(test_envelope_revoke)
{
	json_t	*env, *cmd, *p;
	char	*msg;
	size_t	 len;

	msg = envelope_revoke(&fake_celery, "abc", "w1@host", &len);
	env = json_loadb(msg, len, 0, NULL);
	ck_assert_ptr_nonnull(env);
	p = json_object_get(env, "properties");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "delivery_info"), "exchange")), "celery.pidbox");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(p,
	    "delivery_tag"))), 36);
	cmd = body_of(env);
	ck_assert_str_eq(json_string_value(json_object_get(cmd, "method")),
	    "revoke");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(cmd,
	    "arguments"), "task_id")), "abc");
	ck_assert(json_is_true(json_object_get(json_object_get(cmd,
	    "arguments"), "terminate")));
	/* Never SIGKILL: it would leave the command's group behind. */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(cmd,
	    "arguments"), "signal")), "SIGTERM");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cmd,
	    "destination"), 0)), "w1@host");
	json_decref(cmd);
	json_decref(env);
	free(msg);

	msg = envelope_revoke(&fake_celery, "abc", NULL, &len);
	env = json_loadb(msg, len, 0, NULL);
	cmd = body_of(env);
	ck_assert(json_is_null(json_object_get(cmd, "destination")));
	json_decref(cmd);
	json_decref(env);
	free(msg);
}
END_TEST

START_TEST(test_envelope_meta)
{
	struct meta	 m;
	const char	*s;
	char		*err = NULL;

	s = "{\"status\": \"STARTED\", \"result\": {\"pid\": 25226, "
	    "\"hostname\": \"w1@vm\"}, \"traceback\": null}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.status, META_STARTED);
	ck_assert_str_eq(m.worker, "w1@vm");
	ck_assert_int_eq(m.pool_pid, 25226);
	envelope_meta_clear(&m);

	s = "{\"status\": \"SUCCESS\", \"result\": {\"exit_code\": 3, "
	    "\"signal\": null, \"timed_out\": false, \"exec_errno\": null, "
	    "\"pid\": 77, \"started\": 1.5, \"ended\": 2.25, "
	    "\"cpu_user_us\": 10, \"max_rss_kib\": 900, \"output\": \"aGkK\", "
	    "\"output_dropped\": 5}}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.status, META_SUCCESS);
	ck_assert_int_eq(m.o.exit_code, 3);
	ck_assert_int_eq(m.o.signal, 0);
	ck_assert_int_eq(m.o.pid, 77);
	ck_assert_int_eq(m.o.started_us, 1500000);
	ck_assert_int_eq(m.o.ended_us, 2250000);
	ck_assert_int_eq(m.o.max_rss_kib, 900);
	ck_assert_uint_eq(m.outlen, 3);
	ck_assert_mem_eq(m.output, "hi\n", 3);
	ck_assert_int_eq(m.dropped, 5);
	envelope_meta_clear(&m);

	s = "{\"status\": \"SUCCESS\", \"result\": {\"exit_code\": null, "
	    "\"signal\": 9, \"timed_out\": true}}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.o.exit_code, -1);
	ck_assert_int_eq(m.o.signal, 9);
	ck_assert(m.o.timed_out);
	envelope_meta_clear(&m);

	s = "{\"status\": \"SUCCESS\", \"result\": {\"exec_errno\": 2, "
	    "\"exec_step\": \"chdir\"}}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.o.exec_errno, 2);
	ck_assert_str_eq(m.o.exec_step, "chdir");
	envelope_meta_clear(&m);

	s = "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": "
	    "\"NotRegistered\", \"exc_message\": [\"pipelined.run_task\"], "
	    "\"exc_module\": \"celery.exceptions\"}}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.status, META_FAILURE);
	ck_assert_str_eq(m.o.error, "the Celery task failed on the worker: "
	    "NotRegistered: pipelined.run_task");
	envelope_meta_clear(&m);

	s = "{\"status\": \"REVOKED\", \"result\": {\"exc_type\": "
	    "\"TaskRevokedError\", \"exc_message\": [\"terminated\"]}}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.status, META_REVOKED);
	ck_assert_str_eq(m.why, "terminated");
	envelope_meta_clear(&m);

	s = "{\"status\": \"PENDING\", \"result\": null}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), 0);
	ck_assert_int_eq(m.status, META_OTHER);
	envelope_meta_clear(&m);

	s = "{\"status\": \"SUCCESS\", \"result\": 42}";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), -1);
	free(err);
	envelope_meta_clear(&m);
	s = "not json";
	ck_assert_int_eq(envelope_meta(&m, s, strlen(s), &err), -1);
	free(err);
	envelope_meta_clear(&m);
}
END_TEST

START_TEST(test_event)
{
	const char	*s;
	char		*w;
	long long	 pid;

	/* A worker-heartbeat as Celery 5.2 publishes it (body shortened). */
	s = "{\"body\": \"eyJob3N0bmFtZSI6ICJ3MUB2bSIsICJwaWQiOiA5NjIwfQ==\", "
	    "\"headers\": {\"hostname\": \"w1@vm\"}}";
	ck_assert_int_eq(envelope_event(s, strlen(s), &w, &pid), 0);
	ck_assert_str_eq(w, "w1@vm");
	ck_assert_int_eq(pid, 9620);
	free(w);
	s = "{\"body\": \"\"}";
	ck_assert_int_eq(envelope_event(s, strlen(s), &w, &pid), -1);
	ck_assert_int_eq(envelope_event("[", 1, &w, &pid), -1);
}
END_TEST

START_TEST(test_fleet)
{
	struct fleet	*f = fleet_new();
	char		 buf[128];
	unsigned	 e;

	fleet_event(f, "heartbeat", "w1@h", 100, 1000);
	e = fleet_seen(f, "w1@h", 1500);
	ck_assert_ptr_null(fleet_lost(f, "w1@h", e, 10000, 30000, buf,
	    sizeof buf));
	/* Silent for worker_timeout. */
	ck_assert_str_eq(fleet_lost(f, "w1@h", e, 31500, 30000, buf,
	    sizeof buf), "worker lost: no heartbeat from w1@h for 30s");
	/* We were cut off: silence proves nothing. */
	fleet_forgive(f, 31000);
	ck_assert_ptr_null(fleet_lost(f, "w1@h", e, 32000, 30000, buf,
	    sizeof buf));
	/* Offline: lost after a short grace, not at once. */
	fleet_event(f, "offline", "w1@h", 100, 33000);
	ck_assert_ptr_null(fleet_lost(f, "w1@h", e, 33500, 30000, buf,
	    sizeof buf));
	ck_assert_ptr_nonnull(strstr(fleet_lost(f, "w1@h", e, 40000, 30000,
	    buf, sizeof buf), "went offline"));
	/* Back online as another process: its old tasks died. */
	fleet_event(f, "online", "w1@h", 200, 41000);
	ck_assert_ptr_nonnull(strstr(fleet_lost(f, "w1@h", e, 41000, 30000,
	    buf, sizeof buf), "restarted"));
	ck_assert_ptr_null(fleet_lost(f, "w1@h", fleet_seen(f, "w1@h", 41000),
	    41000, 30000, buf, sizeof buf));
	/* A worker first heard of through a task counts as alive. */
	e = fleet_seen(f, "w2@h", 50000);
	ck_assert_ptr_null(fleet_lost(f, "w2@h", e, 60000, 30000, buf,
	    sizeof buf));
	fleet_free(f);
}
END_TEST

static Suite *
celery_suite(void)
{
	Suite	*s = suite_create("celery");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fake_setup, NULL);
	tcase_add_test(tc, test_url);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_base64_uuid);
	tcase_add_test(tc, test_envelope_task);
	tcase_add_test(tc, test_envelope_revoke);
	tcase_add_test(tc, test_envelope_meta);
	tcase_add_test(tc, test_event);
	tcase_add_test(tc, test_fleet);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(celery_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
