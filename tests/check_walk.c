/*
 * Unit tests for the walker (lib/walk.c), with the test as a fake runner
 * (walkfake.c): the four rules of docs/runners.md, the failure policy
 * with and without keep_going, retries, required inputs and empty static
 * lists.
 * Each test plays a scenario step by step and compares what the runner
 * was told (ready/stop/finished, in order) and what every object went
 * through (statuses and messages) with those rules.  Cancels and outcomes
 * are in check_walk_cancel.c, iterator commands and the randomized runs
 * in check_walk_iter.c.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "runas.h"
#include "walkfake.h"

#define expect_state(f, r, want) \
	ck_assert_str_eq(fake_state((f), (r)), (want))
#define expect_ops(f, want) \
	ck_assert_str_eq(fake_ops(f), (want))

/* Rule 2: parentless tasks are ready at once, in definition order. */
START_TEST(test_rule2_parentless)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n"
	    "  c: {run: 'true'}\n"
	    "  d: {run: 'true', parents: [c]}\n"
	    "  e: {run: 'true'}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\nready 1/0/c/0\nready 1/0/e/0\n");
	expect_state(f, &f->e->r, "PENDING pending");
	ck_assert_uint_eq(f->e->nresults, 1);
	ck_assert_ptr_null(f->e->results[0]->object);
	ck_assert_ptr_nonnull(walk_runas(f->e));
	ck_assert_uint_eq(walk_runas(f->e)->uid, geteuid());

	fake_launch(f, fake_tr(f, 0, "a", 0));
	ck_assert_str_eq(fake_changes(f, "1/0/a/0"),
	    "RUNNING starting\nRUNNING running as pid 1000\n");
	ck_assert_str_eq(fake_changes(f, "1"), "RUNNING running\n");
	ck_assert_str_eq(fake_changes(f, "1/0"), "RUNNING running\n");
	ck_assert_str_eq(fake_changes(f, "1/0/a"), "RUNNING running\n");
	fake_exit(f, fake_tr(f, 0, "a", 0), 0);
	expect_ops(f, "ready 1/0/b/0\n");
	expect_state(f, &fake_te(f, 0, "a")->r, "DONE exited with status 0");
	fake_run_queue(f, 0);
	expect_ops(f, "ready 1/0/d/0\nfinished\n");
	expect_state(f, &f->e->results[0]->r, "DONE all 5 tasks done");
	expect_state(f, &f->e->r, "DONE all 5 tasks done");
	ck_assert_int_eq(f->nfinished, 1);
	fake_free(f);
}
END_TEST

/* Rule 1: a child is ready only once every parent is DONE. */
START_TEST(test_rule1_all_parents)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n"
	    "  c: {run: 'true', parents: [a]}\n"
	    "  d: {run: 'true', parents: [c, b]}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\n");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	expect_ops(f, "");
	fake_exit(f, fake_tr(f, 0, "a", 0), 0);
	expect_ops(f, "ready 1/0/b/0\nready 1/0/c/0\n");
	fake_launch(f, fake_tr(f, 0, "b", 0));
	fake_launch(f, fake_tr(f, 0, "c", 0));
	fake_exit(f, fake_tr(f, 0, "c", 0), 0);
	expect_ops(f, "");
	expect_state(f, &fake_te(f, 0, "d")->r, "PENDING pending");
	fake_exit(f, fake_tr(f, 0, "b", 0), 0);
	expect_ops(f, "ready 1/0/d/0\n");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "DONE all 4 tasks done");
	fake_free(f);
}
END_TEST

/* Rule 3: a failing pipeline result leaves the others running. */
START_TEST(test_rule3_independent)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate: [x, y, z]\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\nready 1/1/a/0\nready 1/2/a/0\n");
	ck_assert_uint_eq(f->e->nresults, 3);
	ck_assert_str_eq(f->e->results[1]->object->text, "y");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_launch(f, fake_tr(f, 1, "a", 0));
	fake_launch(f, fake_tr(f, 2, "a", 0));
	fake_exit(f, fake_tr(f, 1, "a", 0), 1);
	expect_ops(f, "");
	expect_state(f, &fake_te(f, 1, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &f->e->results[1]->r,
	    "RUNTIME_ERROR task a: exited with status 1");
	expect_state(f, &f->e->r, "RUNNING running");
	fake_exit(f, fake_tr(f, 2, "a", 0), 0);
	fake_exit(f, fake_tr(f, 0, "a", 0), 0);
	expect_ops(f, "ready 1/2/b/0\nready 1/0/b/0\n");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->results[0]->r, "DONE all 2 tasks done");
	expect_state(f, &f->e->results[2]->r, "DONE all 2 tasks done");
	expect_state(f, &f->e->r,
	    "RUNTIME_ERROR pipeline result 1: task a: exited with status 1");
	fake_free(f);
}
END_TEST

/* Rule 3, sequential: one pipeline result after the other, failed or not. */
START_TEST(test_rule3_sequential)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate: [x, y]\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, true);
	expect_ops(f, "ready 1/0/a/0\n");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_exit(f, fake_tr(f, 0, "a", 0), 2);
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_ops(f, "ready 1/1/a/0\n");
	expect_state(f, &f->e->results[1]->r, "PENDING pending");
	fake_run_queue(f, 0);
	expect_ops(f, "ready 1/1/b/0\nfinished\n");
	expect_state(f, &f->e->r,
	    "RUNTIME_ERROR pipeline result 0: task a: exited with status 2");
	fake_free(f);
}
END_TEST

/*
 * Sequential, where a later pipeline result has a task that is final as
 * soon as it is ready (an empty static list, a missing input): what
 * follows from it must still happen.
 */
START_TEST(test_rule3_sequential_settles)
{
	static const char *const yaml[] = {
		"name: t\niterate: [x, y]\ntasks:\n"
		"  a: {run: 'true', iterate: []}\n"
		"  b: {run: 'true', parents: [a]}\n",
		"name: t\niterate: [x, y]\ntasks:\n"
		"  a: {run: 'true', inputs: [k]}\n"
		"  b: {run: 'true', parents: [a]}\n",
	};
	struct fake	*f;

	f = fake_begin(yaml[_i], NULL, true);
	if (_i == 0) {
		expect_ops(f, "ready 1/0/b/0\n");
		fake_launch(f, fake_tr(f, 0, "b", 0));
		fake_exit(f, fake_tr(f, 0, "b", 0), 0);
		expect_ops(f, "ready 1/1/b/0\n");
		fake_run_queue(f, 0);
		expect_ops(f, "finished\n");
		expect_state(f, &f->e->r, "DONE all 2 pipeline results done");
	} else {
		expect_ops(f, "finished\n");
		expect_state(f, &fake_te(f, 1, "b")->r,
		    "CANCELLED cancelled: parent a failed");
		expect_state(f, &f->e->r, "VALIDATION_ERROR pipeline result "
		    "0: task a: missing input: k");
	}
	fake_free(f);
}
END_TEST

/* Rule 4: every instance is ready, and done, before a child is ready. */
START_TEST(test_rule4_instances_first)
{
	struct fake		*f;
	struct task_result	*tr;

	f = fake_begin("name: t\ntasks:\n"
	    "  it: {run: 'true', iterate: [1, two, {k: v}]}\n"
	    "  child: {run: 'true', parents: [it]}\n", NULL, false);
	expect_ops(f, "ready 1/0/it/0\nready 1/0/it/1\nready 1/0/it/2\n");
	tr = fake_tr(f, 0, "it", 0);
	ck_assert_int_eq(tr->object->type, NODE_INT);
	ck_assert_int_eq(tr->object->i, 1);
	ck_assert_str_eq(fake_tr(f, 0, "it", 1)->object->text, "two");
	ck_assert_int_eq(fake_tr(f, 0, "it", 2)->object->type, NODE_MAP);
	fake_launch(f, fake_tr(f, 0, "it", 0));
	fake_launch(f, fake_tr(f, 0, "it", 1));
	fake_launch(f, fake_tr(f, 0, "it", 2));
	fake_exit(f, fake_tr(f, 0, "it", 2), 0);
	fake_exit(f, fake_tr(f, 0, "it", 0), 0);
	expect_ops(f, "");
	fake_exit(f, fake_tr(f, 0, "it", 1), 0);
	expect_state(f, &fake_te(f, 0, "it")->r, "DONE all 3 instances done");
	expect_ops(f, "ready 1/0/child/0\n");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/*
 * Rule 4: an instance fails.  Launched siblings are stopped and end
 * CANCELLED however they exit, unlaunched ones are cancelled at once, the
 * child is cancelled (never ready), and a running task elsewhere goes on.
 */
START_TEST(test_rule4_instance_fails)
{
	struct fake		*f;
	struct task_result	*i3;
	const char		*why;

	why = "CANCELLED cancelled: instance 1 of it failed";
	f = fake_begin("name: t\ntasks:\n"
	    "  it: {run: 'true', iterate: [a, b, c, d, e]}\n"
	    "  child: {run: 'true', parents: [it]}\n"
	    "  o: {run: 'true'}\n", NULL, false);
	expect_ops(f, "ready 1/0/it/0\nready 1/0/it/1\nready 1/0/it/2\n"
	    "ready 1/0/it/3\nready 1/0/it/4\nready 1/0/o/0\n");
	fake_launch(f, fake_tr(f, 0, "it", 0));
	fake_launch(f, fake_tr(f, 0, "it", 1));
	fake_launch(f, fake_tr(f, 0, "it", 2));
	fake_launch(f, fake_tr(f, 0, "o", 0));
	fake_exit(f, fake_tr(f, 0, "it", 1), 3);
	expect_ops(f, "stop 1/0/it/0\nstop 1/0/it/2\n");
	expect_state(f, &fake_tr(f, 0, "it", 1)->r,
	    "RUNTIME_ERROR exited with status 3");
	i3 = fake_tr(f, 0, "it", 3);
	expect_state(f, &i3->r, why);
	expect_state(f, &fake_tr(f, 0, "it", 4)->r, why);
	ck_assert(fake_take(f, i3));
	ck_assert_int_eq(walk_begin(i3), -1);
	ck_assert_uint_eq(i3->attempts, 0);
	expect_state(f, &fake_te(f, 0, "it")->r, "RUNNING running");

	fake_kill(f, fake_tr(f, 0, "it", 0), SIGTERM);
	expect_state(f, &fake_tr(f, 0, "it", 0)->r, why);
	ck_assert_int_eq(fake_tr(f, 0, "it", 0)->signal, SIGTERM);
	fake_exit(f, fake_tr(f, 0, "it", 2), 1);
	expect_state(f, &fake_tr(f, 0, "it", 2)->r, why);
	expect_state(f, &fake_te(f, 0, "it")->r,
	    "RUNTIME_ERROR instance 1 failed: exited with status 3");
	expect_state(f, &fake_te(f, 0, "child")->r,
	    "CANCELLED cancelled: parent it failed");
	expect_state(f, &fake_tr(f, 0, "o", 0)->r,
	    "RUNNING running as pid 1003");
	expect_ops(f, "");
	fake_exit(f, fake_tr(f, 0, "o", 0), 0);
	expect_state(f, &fake_tr(f, 0, "o", 0)->r, "DONE exited with status 0");
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->results[0]->r, "RUNTIME_ERROR task it: "
	    "instance 1 failed: exited with status 3");
	expect_state(f, &f->e->r, "RUNTIME_ERROR task it: instance 1 failed: "
	    "exited with status 3");
	fake_free(f);
}
END_TEST

/*
 * docs/runners.md: "the first failure stops the pipeline result: nothing
 * new starts".  An instance failing is that failure, even while its
 * launched siblings are still being stopped: a queued task must not start
 * meanwhile.
 */
START_TEST(test_rule4_stops_at_first_failure)
{
	struct fake		*f;
	struct task_result	*o;

	f = fake_begin("name: t\nordering: {}\ntasks:\n"
	    "  it: {run: 'true', iterate: [a, b]}\n"
	    "  o: {run: 'true'}\n", NULL, false);
	fake_launch(f, fake_tr(f, 0, "it", 0));
	fake_launch(f, fake_tr(f, 0, "it", 1));
	fake_ops(f);
	fake_exit(f, fake_tr(f, 0, "it", 0), 1);
	expect_ops(f, "stop 1/0/it/1\n");
	o = fake_tr(f, 0, "o", 0);
	ck_assert(fake_take(f, o));
	ck_assert_int_eq(walk_begin(o), -1);
	/* Cancelled once the failed task is final, so it is not first. */
	ck_assert_int_eq(o->r.status, STATUS_PENDING);
	fake_exit(f, fake_tr(f, 0, "it", 1), 0);
	expect_state(f, &o->r, "CANCELLED cancelled: task it failed");
	expect_state(f, &f->e->r, "RUNTIME_ERROR task it: instance 0 failed: "
	    "exited with status 1");
	fake_free(f);
}
END_TEST

/*
 * Default policy: a failure cancels what waits (descendants as "parent",
 * the rest as "task"), a running task elsewhere is not stopped, finishes
 * and is recorded, and nothing new becomes ready.
 */
START_TEST(test_failure_default)
{
	struct fake		*f;
	struct task_result	*e;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n"
	    "  c: {run: 'true'}\n"
	    "  d: {run: 'true', parents: [c]}\n"
	    "  e: {run: 'true'}\n"
	    "  f: {run: 'true', parents: [b, d]}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\nready 1/0/c/0\nready 1/0/e/0\n");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_launch(f, fake_tr(f, 0, "c", 0));
	fake_exit(f, fake_tr(f, 0, "a", 0), 1);
	expect_ops(f, "");
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &fake_te(f, 0, "f")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &fake_te(f, 0, "d")->r,
	    "CANCELLED cancelled: task a failed");
	e = fake_tr(f, 0, "e", 0);
	expect_state(f, &e->r, "CANCELLED cancelled: task a failed");
	ck_assert(fake_take(f, e));
	ck_assert_int_eq(walk_begin(e), -1);
	expect_state(f, &fake_tr(f, 0, "c", 0)->r,
	    "RUNNING running as pid 1001");
	ck_assert_int_eq(f->nfinished, 0);
	fake_exit(f, fake_tr(f, 0, "c", 0), 0);
	expect_state(f, &fake_tr(f, 0, "c", 0)->r, "DONE exited with status 0");
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "RUNTIME_ERROR task a: exited with status 1");
	fake_free(f);
}
END_TEST

/* keep_going: only descendants are cancelled; other branches go on. */
START_TEST(test_failure_keep_going)
{
	struct fake	*f;

	f = fake_begin("name: t\nkeep_going: true\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n"
	    "  c: {run: 'true', parents: [b]}\n"
	    "  x: {run: 'true'}\n"
	    "  y: {run: 'true', parents: [x]}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\nready 1/0/x/0\n");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_launch(f, fake_tr(f, 0, "x", 0));
	fake_exit(f, fake_tr(f, 0, "a", 0), 1);
	expect_ops(f, "");
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &fake_te(f, 0, "c")->r,
	    "CANCELLED cancelled: parent a failed");
	fake_exit(f, fake_tr(f, 0, "x", 0), 0);
	expect_ops(f, "ready 1/0/y/0\n");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &fake_te(f, 0, "y")->r, "DONE exited with status 0");
	expect_state(f, &f->e->r, "RUNTIME_ERROR task a: exited with status 1");
	fake_free(f);
}
END_TEST

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Retries: RUNNING throughout, a note per attempt, DONE on the second. */
START_TEST(test_retry_succeeds)
{
	struct fake		*f;
	struct task_result	*tr;
	int64_t			 t0;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true', retries: 2, retry_delay: 10ms}\n", NULL, false);
	tr = fake_tr(f, 0, "a", 0);
	expect_ops(f, "ready 1/0/a/0\n");
	ck_assert_int_eq(fake_launch(f, tr), 1);
	fake_exit(f, tr, 1);
	t0 = mono_ms();
	expect_state(f, &tr->r, "RUNNING attempt 1 of 3 exited with status 1; "
	    "retrying in 10ms");
	ck_assert(!walk_launched(tr));
	expect_ops(f, "");
	ck_assert(fake_loop_until(f, fake_has_queue, 5000));
	ck_assert_int_ge(mono_ms() - t0, 9);
	expect_ops(f, "ready 1/0/a/0\n");
	ck_assert_int_eq(fake_launch(f, tr), 2);
	fake_exit(f, tr, 0);
	ck_assert_str_eq(fake_changes(f, "1/0/a/0"),
	    "RUNNING starting\n"
	    "RUNNING running as pid 1000\n"
	    "RUNNING attempt 1 of 3 exited with status 1; retrying in 10ms\n"
	    "RUNNING attempt 2 of 3 starting\n"
	    "RUNNING running as pid 1001\n"
	    "DONE exited with status 0\n");
	ck_assert_uint_eq(tr->attempts, 2);
	ck_assert_uint_eq(walk_attempt(tr), 2);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "DONE the 1 task done");
	fake_free(f);
}
END_TEST

/* Retries exhausted: the last attempt's failure is the result. */
START_TEST(test_retry_exhausted)
{
	struct fake		*f;
	struct task_result	*tr;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true', retries: 1, retry_delay: 10ms}\n", NULL, false);
	tr = fake_tr(f, 0, "a", 0);
	fake_launch(f, tr);
	fake_exit(f, tr, 1);
	ck_assert(fake_loop_until(f, fake_has_queue, 5000));
	ck_assert_int_eq(fake_launch(f, tr), 2);
	fake_kill(f, tr, SIGKILL);
	ck_assert_str_eq(fake_changes(f, "1/0/a/0"),
	    "RUNNING starting\n"
	    "RUNNING running as pid 1000\n"
	    "RUNNING attempt 1 of 2 exited with status 1; retrying in 10ms\n"
	    "RUNNING attempt 2 of 2 starting\n"
	    "RUNNING running as pid 1001\n"
	    "RUNTIME_ERROR killed by signal 9 (SIGKILL)\n");
	ck_assert_uint_eq(tr->attempts, 2);
	ck_assert_int_eq(tr->signal, SIGKILL);
	ck_assert_int_eq(tr->exit_code, -1);
	ck_assert_int_eq(tr->pid, 1001);
	fake_free(f);
}
END_TEST

/*
 * No retry once the pipeline result stopped: a running attempt that fails
 * is final, and a retry waiting for its delay is cancelled.
 */
START_TEST(test_retry_not_after_stop)
{
	struct fake		*f;
	struct task_result	*a, *b;

	f = fake_begin("name: t\nordering: {}\ntasks:\n"
	    "  a: {run: 'true', retries: 2, retry_delay: 10ms}\n"
	    "  b: {run: 'true', retries: 2, retry_delay: 10ms}\n"
	    "  c: {run: 'true'}\n", NULL, false);
	a = fake_tr(f, 0, "a", 0);
	b = fake_tr(f, 0, "b", 0);
	fake_launch(f, a);
	fake_launch(f, b);
	fake_launch(f, fake_tr(f, 0, "c", 0));
	fake_exit(f, b, 1);
	ck_assert_int_eq(b->r.status, STATUS_RUNNING);
	fake_exit(f, fake_tr(f, 0, "c", 0), 1);
	expect_state(f, &b->r, "CANCELLED cancelled: task c failed");
	fake_loop_for(f, 40);
	expect_ops(f, "ready 1/0/a/0\nready 1/0/b/0\nready 1/0/c/0\n");
	ck_assert(!fake_has_queue(f));
	fake_exit(f, a, 1);
	expect_state(f, &a->r, "RUNTIME_ERROR exited with status 1");
	ck_assert_uint_eq(a->attempts, 1);
	fake_loop_for(f, 20);
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/* Required inputs: VALIDATION_ERROR naming what is missing. */
START_TEST(test_inputs)
{
	struct fake	*f;

	f = fake_begin("name: t\nkeep_going: true\ntasks:\n"
	    "  a: {run: 'true', inputs: [date]}\n"
	    "  b: {run: 'true', inputs: [a, b]}\n"
	    "  c: {run: 'true', inputs: [date, here]}\n"
	    "  d: {run: 'true', parents: [a]}\n"
	    "  e: {run: 'true', iterate: [1, 2], inputs: [zz]}\n"
	    "  g: {run: 'true', iterate_command: 'echo x', inputs: [zz]}\n"
	    "  h: {argv: ['echo', '{{input.here}}'], inputs: [here]}\n",
	    "{\"here\": 1, \"extra\": \"x\"}", false);
	expect_ops(f, "ready 1/0/h/0\n");
	expect_state(f, &fake_te(f, 0, "a")->r,
	    "VALIDATION_ERROR missing input: date");
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "VALIDATION_ERROR missing inputs: a, b");
	expect_state(f, &fake_te(f, 0, "c")->r,
	    "VALIDATION_ERROR missing input: date");
	expect_state(f, &fake_te(f, 0, "d")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &fake_tr(f, 0, "e", 1)->r,
	    "VALIDATION_ERROR missing input: zz");
	expect_state(f, &fake_te(f, 0, "e")->r,
	    "VALIDATION_ERROR instance 0 failed: missing input: zz");
	expect_state(f, &fake_te(f, 0, "g")->r,
	    "VALIDATION_ERROR missing input: zz");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r,
	    "VALIDATION_ERROR task a: missing input: date");
	fake_free(f);
}
END_TEST

/* Nothing can run: finished() comes before walk_start() returns. */
START_TEST(test_inputs_nothing_runs)
{
	struct fake	*f;

	f = fake_new("name: t\ntasks:\n  a: {run: 'true', inputs: [x]}\n",
	    NULL, false);
	ck_assert_int_eq(fake_start(f), 0);
	ck_assert_int_eq(f->nfinished, 1);
	ck_assert(f->final_at_finish);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "VALIDATION_ERROR task a: missing input: x");
	ck_assert_ptr_null(walk_runas(f->e));
	fake_free(f);
}
END_TEST

/* An empty static list is DONE at once and its child is ready. */
START_TEST(test_empty_static_list)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true', iterate: []}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, false);
	expect_ops(f, "ready 1/0/b/0\n");
	expect_state(f, &fake_te(f, 0, "a")->r,
	    "DONE no items: nothing to run");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "DONE all 2 tasks done");
	fake_free(f);
}
END_TEST

/*
 * An empty static list whose parent fails: like every child of a failed
 * task it must end CANCELLED (docs/runners.md), not stay DONE from the
 * start.
 */
START_TEST(test_empty_list_parent_fails)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a], iterate: []}\n"
	    "  c: {run: 'true', parents: [b]}\n", NULL, false);
	expect_ops(f, "ready 1/0/a/0\n");
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_exit(f, fake_tr(f, 0, "a", 0), 1);
	expect_ops(f, "finished\n");
	expect_state(f, &fake_te(f, 0, "c")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	fake_free(f);
}
END_TEST

/* The rules, the failure policy, retries and inputs. */
static Suite *
walk_suite(void)
{
	Suite	*s = suite_create("walk");
	TCase	*tc;

	tc = tcase_create("rules");
	tcase_add_test(tc, test_rule2_parentless);
	tcase_add_test(tc, test_rule1_all_parents);
	tcase_add_test(tc, test_rule3_independent);
	tcase_add_test(tc, test_rule3_sequential);
	tcase_add_loop_test(tc, test_rule3_sequential_settles, 0, 2);
	tcase_add_test(tc, test_rule4_instances_first);
	tcase_add_test(tc, test_rule4_instance_fails);
	tcase_add_test(tc, test_rule4_stops_at_first_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, test_failure_default);
	tcase_add_test(tc, test_failure_keep_going);
	tcase_add_test(tc, test_retry_succeeds);
	tcase_add_test(tc, test_retry_exhausted);
	tcase_add_test(tc, test_retry_not_after_stop);
	tcase_add_test(tc, test_inputs);
	tcase_add_test(tc, test_inputs_nothing_runs);
	tcase_add_test(tc, test_empty_static_list);
	tcase_add_test(tc, test_empty_list_parent_fails);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(walk_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
