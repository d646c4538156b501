/*
 * Unit tests for lib/history.c, lib/reporter.c and lib/view.c: ids that
 * only grow, lookups by id (present, missing, between), positions, and
 * removal; the reporter's fan-out to its sinks in the order they were
 * added, removal, and its count; and the views pipectl prints
 * (docs/protocol.md): the exact keys of each level in their order plus
 * the documented extras (message at every level, "iterator" on executions
 * and tasks, "isolation" on task results, "retry_of" and "retried_by"),
 * their values, and null for times not set.  The history runs in memory here;
 * the journal behind it has its own tests.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "history.h"
#include "load.h"
#include "log.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "reporter.h"
#include "result.h"
#include "status.h"
#include "view.h"
#include "xmalloc.h"

#define T0	1795810500123456LL	/* 2026-11-27T20:15:00.123456Z */

/* A pipeline from inline YAML; the test fails if it does not load. */
static struct pipeline *
make_pipeline(const char *yaml)
{
	struct diag	*d = diag_new("t.yaml");
	struct pipeline	*p;

	p = load_buffer(yaml, strlen(yaml), 0, d, NULL);
	ck_assert_ptr_nonnull(p);
	diag_free(d);
	return p;
}

/* An execution with its pipeline results, owning its definition. */
static struct execution *
make_execution(uint64_t id, const char *yaml, result_change_cb cb, void *arg)
{
	struct pipeline		*p = make_pipeline(yaml);
	struct execution	*e;
	size_t			 i;

	e = execution_new(id, p, cb, arg);
	e->owned_def = p;
	if (p->iterate == NULL)
		execution_add_result(e, NULL, T0);
	else
		for (i = 0; i < p->iterate->nkids; i++)
			execution_add_result(e, p->iterate->kids[i], T0);
	result_seal(&e->r, T0);
	return e;
}

#define SIMPLE	"name: s\ntasks:\n  a: {run: 'true'}\n"

/* Ids start at 1 and only grow; gaps are allowed. */
START_TEST(test_history_ids)
{
	struct history		*h = history_new();
	struct execution	*e;
	uint64_t		 ids[] = { 1, 2, 5, 6, 100 }, i;

	ck_assert_uint_eq(history_next_id(h), 1);
	ck_assert_uint_eq(history_count(h), 0);
	ck_assert_ptr_null(history_at(h, 0));
	ck_assert_ptr_null(history_get(h, 1));
	for (i = 0; i < 5; i++) {
		e = make_execution(ids[i], SIMPLE, history_record_cb, h);
		history_add(h, e);
		ck_assert_uint_eq(history_next_id(h), ids[i] + 1);
		ck_assert_uint_eq(history_count(h), i + 1);
	}
	for (i = 0; i < 5; i++) {
		ck_assert_ptr_nonnull(history_get(h, ids[i]));
		ck_assert_uint_eq(history_get(h, ids[i])->id, ids[i]);
		ck_assert_ptr_eq(history_at(h, i), history_get(h, ids[i]));
	}
	ck_assert_ptr_null(history_at(h, 5));
	ck_assert_ptr_null(history_at(h, (size_t)-1));
	ck_assert_ptr_null(history_get(h, 0));
	ck_assert_ptr_null(history_get(h, 3));
	ck_assert_ptr_null(history_get(h, 4));
	ck_assert_ptr_null(history_get(h, 7));
	ck_assert_ptr_null(history_get(h, 99));
	ck_assert_ptr_null(history_get(h, 101));
	ck_assert_ptr_null(history_get(h, UINT64_MAX));
	history_free(h);
	history_free(NULL);
}
END_TEST

/* Many executions: every id found by the binary search, no other. */
START_TEST(test_history_many)
{
	struct history	*h = history_new();
	uint64_t	 id, n = 0;

	for (id = 3; id < 3000; id += 3) {
		history_add(h, make_execution(id, SIMPLE, NULL, NULL));
		n++;
	}
	ck_assert_uint_eq(history_count(h), n);
	for (id = 0; id < 3005; id++) {
		if (id % 3 == 0 && id >= 3 && id < 3000) {
			ck_assert_ptr_nonnull(history_get(h, id));
			ck_assert_uint_eq(history_get(h, id)->id, id);
			ck_assert_uint_eq(history_at(h, id / 3 - 1)->id, id);
		} else
			ck_assert_ptr_null(history_get(h, id));
	}
	history_free(h);
}
END_TEST

/* Removal keeps the order and the ids used; reserving skips ids. */
START_TEST(test_history_remove)
{
	struct history	*h = history_new();
	uint64_t	 id;

	for (id = 1; id <= 4; id++)
		history_add(h, make_execution(id, SIMPLE, NULL, NULL));
	history_remove(h, 2);
	history_remove(h, 9);
	ck_assert_uint_eq(history_count(h), 3);
	ck_assert_ptr_null(history_get(h, 2));
	ck_assert_uint_eq(history_at(h, 0)->id, 1);
	ck_assert_uint_eq(history_at(h, 1)->id, 3);
	ck_assert_uint_eq(history_at(h, 2)->id, 4);
	history_remove(h, 4);
	ck_assert_uint_eq(history_next_id(h), 5);
	history_reserve_ids(h, 3);
	ck_assert_uint_eq(history_next_id(h), 5);
	history_reserve_ids(h, 10);
	ck_assert_uint_eq(history_next_id(h), 11);
	history_free(h);
}
END_TEST

/* The execution left behind by the fatal test, reachable for LSan. */
static struct history	*fatal_history;

/* Swallow the fatal line, exiting 2 (failing the test) if it is not ours. */
static void
fatal_hook(enum log_level level, const char *line, void *arg)
{
	if (level != LOG_LEVEL_ERR || strcmp(line,
	    "history_add: id 2 reused") != 0)
		_exit(2);
}

/* An id below the next one is a broken invariant. */
START_TEST(test_history_reused_id)
{
	log_set_hook(fatal_hook, NULL);
	fatal_history = history_new();
	history_add(fatal_history, make_execution(2, SIMPLE, NULL, NULL));
	history_add(fatal_history, make_execution(2, SIMPLE, NULL, NULL));
}
END_TEST

/* What the test sinks saw, one "NAME ADDRESS STATUS" line per call. */
static struct buf	sinklog;

/* Sink names, passed as the sinks' arguments. */
static char	sink_A[] = "A", sink_B[] = "B", sink_C[] = "C", sink_D[] = "D";

/* A sink that logs under the name it was given. */
static void
sink_cb(struct result *r, void *arg)
{
	char	*addr = result_address(r);

	buf_addf(&sinklog, "%s %s %s\n", (const char *)arg, addr,
	    status_name(r->status));
	free(addr);
}

/* A second sink function, to tell sinks apart by function too. */
static void
other_cb(struct result *r, void *arg)
{
	buf_addf(&sinklog, "other %s\n", (const char *)arg);
}

/* The sink log so far, then empty. */
static char *
sinklog_take(void)
{
	char	*s = xstrdup(sinklog.len > 0 ? sinklog.data : "");

	buf_reset(&sinklog);
	return s;
}

#define expect_log(want) do {						\
	char *_s = sinklog_take();					\
	ck_assert_str_eq(_s, (want));					\
	free(_s);							\
} while (0)

/* Sinks see each change in the order they were added. */
START_TEST(test_reporter_order)
{
	struct reporter		*rp = reporter_new();
	struct execution	*e;
	struct task_result	*tr;

	buf_init(&sinklog);
	ck_assert_uint_eq(reporter_count(rp), 0);
	reporter_add_sink(rp, sink_cb, NULL, sink_A);
	reporter_add_sink(rp, other_cb, NULL, sink_B);
	reporter_add_sink(rp, sink_cb, NULL, sink_C);
	e = make_execution(7, SIMPLE, reporter_change_cb, rp);
	tr = e->results[0]->tasks[0].inst[0];
	ck_assert_int_eq(result_note(&tr->r, "queued"), 0);
	expect_log("A 7/0/a/0 PENDING\nother B\nC 7/0/a/0 PENDING\n");
	ck_assert_uint_eq(reporter_count(rp), 1);
	ck_assert_int_eq(result_set(&tr->r, STATUS_RUNNING, "starting", T0),
	    0);
	ck_assert_uint_eq(reporter_count(rp), 5);
	expect_log("A 7/0/a/0 RUNNING\nother B\nC 7/0/a/0 RUNNING\n"
	    "A 7/0/a RUNNING\nother B\nC 7/0/a RUNNING\n"
	    "A 7/0 RUNNING\nother B\nC 7/0 RUNNING\n"
	    "A 7 RUNNING\nother B\nC 7 RUNNING\n");
	execution_free(e);
	reporter_free(rp);
	reporter_free(NULL);
	buf_release(&sinklog);
}
END_TEST

/* Removal takes out the sink with that function and argument only. */
START_TEST(test_reporter_remove)
{
	struct reporter		*rp = reporter_new();
	struct execution	*e;
	struct result		*r;

	buf_init(&sinklog);
	reporter_add_sink(rp, sink_cb, NULL, sink_A);
	reporter_add_sink(rp, sink_cb, NULL, sink_B);
	reporter_add_sink(rp, other_cb, NULL, sink_A);
	reporter_add_sink(rp, sink_cb, NULL, sink_C);
	e = make_execution(3, SIMPLE, reporter_change_cb, rp);
	r = &e->results[0]->tasks[0].inst[0]->r;
	reporter_remove_sink(rp, sink_cb, sink_B);
	reporter_remove_sink(rp, other_cb, sink_C);	/* no such sink */
	result_note(r, "one");
	expect_log("A 3/0/a/0 PENDING\nother A\nC 3/0/a/0 PENDING\n");
	reporter_remove_sink(rp, sink_cb, sink_A);
	result_note(r, "two");
	expect_log("other A\nC 3/0/a/0 PENDING\n");
	reporter_remove_sink(rp, other_cb, sink_A);
	reporter_remove_sink(rp, sink_cb, sink_C);
	reporter_remove_sink(rp, sink_cb, sink_C);
	result_note(r, "three");
	expect_log("");
	ck_assert_uint_eq(reporter_count(rp), 3);
	reporter_add_sink(rp, sink_cb, NULL, sink_D);
	result_note(r, "four");
	expect_log("D 3/0/a/0 PENDING\n");
	execution_free(e);
	reporter_free(rp);
	buf_release(&sinklog);
}
END_TEST

/* An items sink: logs the parent and how many items it got. */
static void
items_cb(struct result *parent, const struct node *items, void *arg)
{
	char	*addr = result_address(parent);

	buf_addf(&sinklog, "items %s %s %zu\n", (const char *)arg, addr,
	    node_count(items));
	free(addr);
}

/* Items go to the sinks that take them, in order; attach installs both. */
START_TEST(test_reporter_items)
{
	struct reporter		*rp = reporter_new();
	struct execution	*e;
	struct node		*items;
	char			*err;

	buf_init(&sinklog);
	reporter_add_sink(rp, sink_cb, items_cb, sink_A);
	reporter_add_sink(rp, sink_cb, NULL, sink_B);
	reporter_add_sink(rp, other_cb, items_cb, sink_C);
	e = make_execution(5, SIMPLE, NULL, NULL);
	reporter_attach(rp, e);
	ck_assert_ptr_eq(e->change_cb, reporter_change_cb);
	ck_assert_ptr_eq(e->items_cb, reporter_items_cb);
	ck_assert_ptr_eq(e->change_arg, rp);
	items = nodejson_decode("[\"eu\", \"us\", 3]", 15, &err);
	ck_assert_ptr_nonnull(items);
	reporter_items_cb(&e->results[0]->tasks[0].r, items, rp);
	expect_log("items A 5/0/a 3\nitems C 5/0/a 3\n");
	ck_assert_uint_eq(reporter_count(rp), 0);
	result_note(&e->r, "x");
	expect_log("A 5 PENDING\nB 5 PENDING\nother C\n");
	node_free(items);
	execution_free(e);
	reporter_free(rp);
	buf_release(&sinklog);
}
END_TEST

/* The history as a sink: it sees every change. */
START_TEST(test_reporter_history)
{
	struct reporter		*rp = reporter_new();
	struct history		*h = history_new();
	struct execution	*e;

	reporter_add_sink(rp, history_record_cb, history_items_cb, h);
	e = make_execution(history_next_id(h), SIMPLE, reporter_change_cb, rp);
	history_add(h, e);
	ck_assert_int_eq(result_set(&e->results[0]->tasks[0].inst[0]->r,
	    STATUS_DONE, "exited with status 0", T0), 0);
	ck_assert_int_eq(e->r.status, STATUS_DONE);
	ck_assert_uint_eq(reporter_count(rp), 4);
	ck_assert_ptr_eq(history_get(h, 1), e);
	history_free(h);
	reporter_free(rp);
}
END_TEST

/* The keys of map m, space-separated, in order. */
static char *
keys_of(const struct node *m)
{
	struct buf	b;
	size_t		i;

	ck_assert_int_eq(m->type, NODE_MAP);
	buf_init(&b);
	buf_adds(&b, "");
	for (i = 0; i < node_count(m); i++)
		buf_addf(&b, "%s%s", i > 0 ? " " : "",
		    node_map_key(m, i)->text);
	return buf_detach(&b);
}

/*
 * m must have exactly the base keys (spec) and the extras, and the base
 * keys in their order.
 */
static void
expect_keys(const char *level, const struct node *m, const char *spec,
    const char *extras)
{
	char	*have = keys_of(m), *want, *k, *save, *copy;
	size_t	 n = 0, i, pos = 0;

	want = xprintf("%s%s%s", spec, *extras ? " " : "", extras);
	copy = xstrdup(want);
	for (k = strtok_r(copy, " ", &save); k != NULL;
	    k = strtok_r(NULL, " ", &save)) {
		ck_assert_msg(node_map_get(m, k) != NULL, "%s: no key %s in "
		    "\"%s\"", level, k, have);
		n++;
	}
	free(copy);
	ck_assert_msg(node_count(m) == n, "%s: keys \"%s\", want \"%s\"",
	    level, have, want);
	copy = xstrdup(spec);
	for (k = strtok_r(copy, " ", &save); k != NULL;
	    k = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < node_count(m); i++)
			if (strcmp(node_map_key(m, i)->text, k) == 0)
				break;
		ck_assert_msg(i >= pos, "%s: \"%s\" is not in the order of "
		    "the base keys (\"%s\")", level, have, spec);
		pos = i;
	}
	free(copy);
	free(want);
	free(have);
}

#define VIEW_YAML "name: nightly-report\niterate: [eu]\ntasks:\n" \
	"  split: {run: 'true'}\n" \
	"  render: {run: 'true', parents: [split], iterate: [p1, {n: 2}]}\n"

/* An execution of VIEW_YAML partly run, with every field set somewhere. */
static struct execution *
view_fixture(void)
{
	struct execution	*e;
	struct task_result	*tr;
	char			*err;

	e = make_execution(42, VIEW_YAML, NULL, NULL);
	e->uid = 1000;
	e->user = xstrdup("alice");
	e->runner = xstrdup("local");
	e->submitted_us = T0 - 1000000;
	e->input = nodejson_decode("{\"date\": \"2026-11-27\"}", 22, &err);
	e->retry_of = 41;
	tr = e->results[0]->tasks[0].inst[0];
	result_set(&tr->r, STATUS_RUNNING, "starting", T0);
	tr->pid = 4242;
	tr->exit_code = 0;
	tr->attempts = 1;
	tr->cpu_user_us = 1200;
	tr->cpu_system_us = 800;
	tr->max_rss_kib = 3100;
	tr->isolation = "cgroup";
	result_set(&tr->r, STATUS_DONE, "exited with status 0", T0 + 1);
	return e;
}

/* The keys of every level of "show" and "list". */
START_TEST(test_view_keys)
{
	struct execution	*e = view_fixture();
	struct node		*v, *res, *task, *inst;

	v = view_execution(e, true);
	expect_keys("execution", v, "id pipeline status message runner owner "
	    "submitted started completed input results",
	    "iterator retry_of retried_by");
	expect_keys("owner", node_map_get(v, "owner"), "uid user", "");
	res = node_item(node_map_get(v, "results"), 0);
	expect_keys("pipeline result", res, "index object status started "
	    "completed tasks", "message");
	task = node_item(node_map_get(res, "tasks"), 1);
	expect_keys("task", task, "name parents status started completed "
	    "instances", "iterator message");
	inst = node_item(node_map_get(task, "instances"), 0);
	expect_keys("task result", inst, "index object status message pid "
	    "exit_code signal attempts started completed cpu_user_us "
	    "cpu_system_us max_rss_kib", "isolation");
	node_free(v);
	v = view_execution(e, false);
	expect_keys("list", v, "id pipeline status message runner owner "
	    "submitted started completed input", "iterator retry_of "
	    "retried_by");
	node_free(v);
	execution_free(e);
}
END_TEST

/* The JSON text of a view, to compare whole. */
static char *
json_of(struct node *v)
{
	char	*s = nodejson_encode(v);

	node_free(v);
	return s;
}

/* "list": every value, in JSON; unset times are null. */
START_TEST(test_view_list)
{
	struct execution	*e = view_fixture();
	char			*s;

	s = json_of(view_execution(e, false));
	ck_assert_str_eq(s, "{\"id\":42,\"pipeline\":\"nightly-report\","
	    "\"status\":\"RUNNING\",\"message\":\"running\","
	    "\"runner\":\"local\",\"iterator\":true,"
	    "\"owner\":{\"uid\":1000,\"user\":\"alice\"},"
	    "\"submitted\":\"2026-11-27T20:14:59.123456Z\","
	    "\"started\":\"2026-11-27T20:15:00.123456Z\","
	    "\"completed\":null,\"input\":{\"date\":\"2026-11-27\"},"
	    "\"retry_of\":41,\"retried_by\":null}");
	free(s);
	execution_free(e);

	e = make_execution(9, SIMPLE, NULL, NULL);
	s = json_of(view_execution(e, false));
	ck_assert_str_eq(s, "{\"id\":9,\"pipeline\":\"s\","
	    "\"status\":\"PENDING\",\"message\":\"pending\","
	    "\"runner\":null,\"iterator\":false,"
	    "\"owner\":{\"uid\":0,\"user\":null},\"submitted\":null,"
	    "\"started\":null,\"completed\":null,\"input\":{},"
	    "\"retry_of\":null,\"retried_by\":null}");
	free(s);
	e->retried_by = 10;
	s = json_of(view_execution(e, false));
	ck_assert_ptr_nonnull(strstr(s, "\"retried_by\":10}"));
	free(s);
	execution_free(e);
}
END_TEST

/* "show": the values of results, tasks and task results. */
START_TEST(test_view_show_values)
{
	struct execution	*e = view_fixture();
	struct node		*v, *res, *tasks, *inst;
	char			*s;

	v = view_execution(e, true);
	res = node_item(node_map_get(v, "results"), 0);
	ck_assert_int_eq(node_map_get(res, "index")->i, 0);
	ck_assert(node_is_str(node_map_get(res, "object"), "eu"));
	ck_assert(node_is_str(node_map_get(res, "status"), "RUNNING"));
	ck_assert(node_is_str(node_map_get(res, "started"),
	    "2026-11-27T20:15:00.123456Z"));
	ck_assert_int_eq(node_map_get(res, "completed")->type, NODE_NULL);
	tasks = node_map_get(res, "tasks");
	ck_assert_uint_eq(node_count(tasks), 2);

	s = nodejson_encode(node_item(tasks, 0));
	ck_assert_str_eq(s, "{\"name\":\"split\",\"parents\":[],"
	    "\"iterator\":false,\"status\":\"DONE\","
	    "\"message\":\"exited with status 0\","
	    "\"started\":\"2026-11-27T20:15:00.123456Z\","
	    "\"completed\":\"2026-11-27T20:15:00.123457Z\","
	    "\"instances\":[{\"index\":0,\"object\":null,\"status\":\"DONE\","
	    "\"message\":\"exited with status 0\","
	    "\"pid\":4242,\"exit_code\":0,\"signal\":null,\"attempts\":1,"
	    "\"started\":\"2026-11-27T20:15:00.123456Z\","
	    "\"completed\":\"2026-11-27T20:15:00.123457Z\","
	    "\"cpu_user_us\":1200,\"cpu_system_us\":800,\"max_rss_kib\":3100,"
	    "\"isolation\":\"cgroup\"}]}");
	free(s);

	ck_assert(node_is_str(node_map_get(node_item(tasks, 1), "name"),
	    "render"));
	s = nodejson_encode(node_map_get(node_item(tasks, 1), "parents"));
	ck_assert_str_eq(s, "[\"split\"]");
	free(s);
	ck_assert(node_map_get(node_item(tasks, 1), "iterator")->b);
	inst = node_item(node_map_get(node_item(tasks, 1), "instances"), 1);
	s = nodejson_encode(inst);
	ck_assert_str_eq(s, "{\"index\":1,\"object\":{\"n\":2},"
	    "\"status\":\"PENDING\",\"message\":\"pending\",\"pid\":null,"
	    "\"exit_code\":null,\"signal\":null,\"attempts\":0,"
	    "\"started\":null,\"completed\":null,"
	    "\"cpu_user_us\":0,\"cpu_system_us\":0,\"max_rss_kib\":0,"
	    "\"isolation\":null}");
	free(s);
	node_free(v);
	execution_free(e);
}
END_TEST

/* A killed task result: signal set, exit code null. */
START_TEST(test_view_signal)
{
	struct execution	*e = make_execution(5, SIMPLE, NULL, NULL);
	struct task_result	*tr = e->results[0]->tasks[0].inst[0];
	struct node		*v, *inst;

	tr->signal = 9;
	tr->exit_code = -1;
	tr->isolation = "process_group";
	v = view_execution(e, true);
	inst = node_item(node_map_get(node_item(node_map_get(node_item(
	    node_map_get(v, "results"), 0), "tasks"), 0), "instances"), 0);
	ck_assert_int_eq(node_map_get(inst, "signal")->i, 9);
	ck_assert_int_eq(node_map_get(inst, "exit_code")->type, NODE_NULL);
	ck_assert(node_is_str(node_map_get(inst, "isolation"),
	    "process_group"));
	node_free(v);
	execution_free(e);
}
END_TEST

/* Watch events: exactly docs/protocol.md's keys and values at every level. */
START_TEST(test_view_event)
{
	struct execution	*e = view_fixture();
	struct result		*rs[4];
	static const char *const want[4] = {
		"{\"execution\":42,\"address\":\"42\","
		    "\"level\":\"execution\",\"status\":\"RUNNING\","
		    "\"message\":\"running\","
		    "\"time\":\"2026-11-27T20:15:00.123456Z\"}",
		"{\"execution\":42,\"address\":\"42/0\","
		    "\"level\":\"pipeline_result\",\"status\":\"RUNNING\","
		    "\"message\":\"running\","
		    "\"time\":\"2026-11-27T20:15:00.123456Z\"}",
		"{\"execution\":42,\"address\":\"42/0/render\","
		    "\"level\":\"task_execution\",\"status\":\"PENDING\","
		    "\"message\":\"pending\","
		    "\"time\":\"2026-11-27T20:15:00.123456Z\"}",
		"{\"execution\":42,\"address\":\"42/0/split/0\","
		    "\"level\":\"task_result\",\"status\":\"DONE\","
		    "\"message\":\"exited with status 0\","
		    "\"time\":\"2026-11-27T20:15:00.123456Z\"}",
	};
	struct node		*v;
	char			*s;
	size_t			 i;

	rs[0] = &e->r;
	rs[1] = &e->results[0]->r;
	rs[2] = &e->results[0]->tasks[1].r;
	rs[3] = &e->results[0]->tasks[0].inst[0]->r;
	for (i = 0; i < 4; i++) {
		v = view_event(rs[i], T0);
		expect_keys("event", v, "execution address level status "
		    "message time", "");
		s = json_of(v);
		ck_assert_str_eq(s, want[i]);
		free(s);
	}
	s = json_of(view_event(rs[0], 0));
	ck_assert_ptr_nonnull(strstr(s, "\"time\":null}"));
	free(s);
	execution_free(e);
}
END_TEST

/* view_time: RFC 3339 text, null for 0. */
START_TEST(test_view_time)
{
	struct node	*n;

	n = view_time(0);
	ck_assert_int_eq(n->type, NODE_NULL);
	node_free(n);
	n = view_time(T0);
	ck_assert(node_is_str(n, "2026-11-27T20:15:00.123456Z"));
	node_free(n);
	n = view_time(-1);
	ck_assert(node_is_str(n, "1969-12-31T23:59:59.999999Z"));
	node_free(n);
}
END_TEST

/* The tests; the exit test only when tests run in a child. */
static Suite *
history_suite(bool forking)
{
	Suite	*s = suite_create("history");
	TCase	*tc;

	tc = tcase_create("history");
	tcase_add_test(tc, test_history_ids);
	tcase_add_test(tc, test_history_many);
	tcase_add_test(tc, test_history_remove);
	if (forking)
		tcase_add_exit_test(tc, test_history_reused_id, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("reporter");
	tcase_add_test(tc, test_reporter_order);
	tcase_add_test(tc, test_reporter_remove);
	tcase_add_test(tc, test_reporter_items);
	tcase_add_test(tc, test_reporter_history);
	suite_add_tcase(s, tc);

	tc = tcase_create("view");
	tcase_add_test(tc, test_view_keys);
	tcase_add_test(tc, test_view_list);
	tcase_add_test(tc, test_view_show_values);
	tcase_add_test(tc, test_view_signal);
	tcase_add_test(tc, test_view_event);
	tcase_add_test(tc, test_view_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(NULL);
	srunner_add_suite(sr, history_suite(srunner_fork_status(sr) !=
	    CK_NOFORK));
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
