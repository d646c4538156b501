/*
 * Unit tests for the walker (lib/walk.c) as a fake runner sees it at the
 * edges of a run: user cancels of an execution, a pipeline result, a task
 * execution and a task result (what is stopped, what is cancelled at
 * once, the counts returned, the messages); every kind of outcome through
 * walk_exited() and what the task result keeps of it; what the walker
 * refuses once finished() came; and a submitter without a user entry.
 * The rules themselves are in check_walk.c, iterator commands and the
 * randomized runs in check_walk_iter.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outcome.h"
#include "walkfake.h"

#define expect_state(f, r, want) \
	ck_assert_str_eq(fake_state((f), (r)), (want))
#define expect_ops(f, want) \
	ck_assert_str_eq(fake_ops(f), (want))

#define CANCEL_YAML	"name: t\ntasks:\n" \
	"  a: {run: 'true'}\n" \
	"  b: {run: 'true'}\n" \
	"  c: {run: 'true', parents: [a]}\n" \
	"  d: {run: 'true', parents: [b]}\n"

/* Cancel an execution: stop what runs, cancel what waits, count both. */
START_TEST(test_cancel_execution)
{
	struct fake		*f;
	struct task_result	*a, *b;
	const char		*why = "CANCELLED cancelled by user alice";

	f = fake_begin(CANCEL_YAML, NULL, false);
	a = fake_tr(f, 0, "a", 0);
	b = fake_tr(f, 0, "b", 0);
	fake_launch(f, a);
	fake_ops(f);
	ck_assert_int_eq(walk_cancel(&f->e->r, "cancelled by user alice"), 4);
	expect_ops(f, "stop 1/0/a/0\n");
	expect_state(f, &b->r, why);
	expect_state(f, &fake_te(f, 0, "c")->r, why);
	expect_state(f, &fake_te(f, 0, "d")->r, why);
	ck_assert(fake_take(f, b));
	ck_assert_int_eq(walk_begin(b), -1);
	ck_assert_int_eq(walk_cancel(&f->e->r, "again"), 0);
	expect_ops(f, "");
	fake_kill(f, a, SIGTERM);
	expect_state(f, &a->r, why);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r,
	    "CANCELLED task b: cancelled by user alice");
	ck_assert_int_eq(walk_cancel(&f->e->r, "late"), 0);
	fake_free(f);
}
END_TEST

/* Cancel one pipeline result; the other runs on. */
START_TEST(test_cancel_pipeline_result)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate: [x, y]\ntasks:\n"
	    "  a: {run: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, false);
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_launch(f, fake_tr(f, 1, "a", 0));
	fake_ops(f);
	ck_assert_int_eq(walk_cancel(&f->e->results[1]->r,
	    "cancelled by user bob"), 2);
	expect_ops(f, "stop 1/1/a/0\n");
	fake_exit(f, fake_tr(f, 1, "a", 0), 0);
	expect_state(f, &fake_tr(f, 1, "a", 0)->r,
	    "CANCELLED cancelled by user bob");
	expect_state(f, &f->e->results[1]->r,
	    "CANCELLED task b: cancelled by user bob");
	ck_assert_int_eq(walk_cancel(&f->e->results[1]->r, "again"), 0);
	fake_exit(f, fake_tr(f, 0, "a", 0), 0);
	expect_ops(f, "ready 1/0/b/0\n");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->results[0]->r, "DONE all 2 tasks done");
	expect_state(f, &f->e->r,
	    "CANCELLED pipeline result 1: task b: cancelled by user bob");
	fake_free(f);
}
END_TEST

/*
 * Cancel a task execution: its launched instance is stopped, the others
 * cancelled; its child is cancelled when it is final.  (The cancel is a
 * failure of the pipeline result: by default what else waits is
 * cancelled too.)
 */
START_TEST(test_cancel_task_execution)
{
	struct fake	*f;
	const char	*why = "CANCELLED cancelled by user carol";

	f = fake_begin("name: t\ntasks:\n"
	    "  it: {run: 'true', iterate: [1, 2, 3]}\n"
	    "  k: {run: 'true', parents: [it]}\n"
	    "  o: {run: 'true'}\n"
	    "  p: {run: 'true', parents: [o]}\n", NULL, false);
	fake_launch(f, fake_tr(f, 0, "it", 0));
	fake_launch(f, fake_tr(f, 0, "o", 0));
	fake_ops(f);
	ck_assert_int_eq(walk_cancel(&fake_te(f, 0, "it")->r,
	    "cancelled by user carol"), 3);
	expect_ops(f, "stop 1/0/it/0\n");
	expect_state(f, &fake_tr(f, 0, "it", 1)->r, why);
	expect_state(f, &fake_tr(f, 0, "it", 2)->r, why);
	expect_state(f, &fake_te(f, 0, "k")->r, "PENDING pending");
	fake_kill(f, fake_tr(f, 0, "it", 0), SIGTERM);
	expect_state(f, &fake_tr(f, 0, "it", 0)->r, why);
	expect_state(f, &fake_te(f, 0, "it")->r,
	    "CANCELLED instance 1 failed: cancelled by user carol");
	expect_state(f, &fake_te(f, 0, "k")->r,
	    "CANCELLED cancelled: parent it was cancelled");
	expect_state(f, &fake_te(f, 0, "p")->r,
	    "CANCELLED cancelled: task it was cancelled");
	expect_state(f, &fake_tr(f, 0, "o", 0)->r,
	    "RUNNING running as pid 1001");
	expect_ops(f, "");
	fake_exit(f, fake_tr(f, 0, "o", 0), 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "CANCELLED task it: instance 1 failed: "
	    "cancelled by user carol");
	fake_free(f);
}
END_TEST

/* Cancel a task execution whose parent still runs: cancelled at once. */
START_TEST(test_cancel_waiting_task_execution)
{
	struct fake	*f;

	f = fake_begin(CANCEL_YAML, NULL, false);
	fake_launch(f, fake_tr(f, 0, "a", 0));
	fake_ops(f);
	ck_assert_int_eq(walk_cancel(&fake_te(f, 0, "c")->r, "cancelled by "
	    "user dan"), 1);
	expect_state(f, &fake_te(f, 0, "c")->r, "CANCELLED cancelled by user "
	    "dan");
	expect_state(f, &fake_te(f, 0, "d")->r,
	    "CANCELLED cancelled: task c was cancelled");
	expect_state(f, &fake_tr(f, 0, "b", 0)->r,
	    "CANCELLED cancelled: task c was cancelled");
	fake_exit(f, fake_tr(f, 0, "a", 0), 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "CANCELLED task c: cancelled by user dan");
	fake_free(f);
}
END_TEST

/*
 * Cancel one task result (an address such as 42/0/c/0): launched, it is
 * stopped; waiting, even for a parent, it is cancelled at once.
 */
START_TEST(test_cancel_task_result)
{
	struct fake		*f;
	struct task_result	*a, *c;

	f = fake_begin(CANCEL_YAML, NULL, false);
	a = fake_tr(f, 0, "a", 0);
	fake_launch(f, a);
	fake_ops(f);
	c = fake_tr(f, 0, "c", 0);
	ck_assert_int_eq(walk_cancel(&c->r, "cancelled by user erin"), 1);
	expect_state(f, &c->r, "CANCELLED cancelled by user erin");
	ck_assert_int_eq(walk_cancel(&a->r, "cancelled by user erin"), 1);
	expect_ops(f, "stop 1/0/a/0\n");
	fake_exit(f, a, 0);
	expect_state(f, &a->r, "CANCELLED cancelled by user erin");
	fake_free(f);
}
END_TEST

/* How an outcome becomes a status and a message. */
static const struct {
	int		 exit_code;
	int		 sig;
	int		 err;
	const char	*step;
	const char	*program;
	const char	*cwd;
	int64_t		 timeout_ms;	/* > 0: timed out */
	const char	*error;
	const char	*want;
} outcomes[] = {
	{ 0, 0, 0, NULL, NULL, NULL, 0, NULL, "DONE exited with status 0" },
	{ 3, 0, 0, NULL, NULL, NULL, 0, NULL,
	    "RUNTIME_ERROR exited with status 3" },
	{ -1, 9, 0, NULL, NULL, NULL, 0, NULL,
	    "RUNTIME_ERROR killed by signal 9 (SIGKILL)" },
	{ -1, 0, ENOENT, "exec", "/x", NULL, 0, NULL,
	    "RUNTIME_ERROR cannot run /x: No such file or directory" },
	{ -1, 0, ENOENT, "chdir", "/x", "/nope", 0, NULL,
	    "RUNTIME_ERROR cannot change to directory /nope: No such file or "
	    "directory" },
	{ -1, 15, 0, NULL, NULL, NULL, 300, NULL,
	    "RUNTIME_ERROR timed out after 300ms" },
	{ -1, 0, 0, NULL, NULL, NULL, 0, "worker lost",
	    "RUNTIME_ERROR worker lost" },
};
#define NOUTCOMES	(sizeof outcomes / sizeof outcomes[0])

/* Each outcome through walk_exited(), with what the task result keeps. */
START_TEST(test_outcome_status)
{
	struct fake		*f;
	struct task_result	*tr;
	struct outcome		 o;

	f = fake_begin("name: t\ntasks:\n  a: {run: 'true'}\n", NULL, false);
	tr = fake_tr(f, 0, "a", 0);
	fake_launch(f, tr);
	outcome_init(&o);
	o.pid = 4242;
	o.exit_code = outcomes[_i].exit_code;
	o.signal = outcomes[_i].sig;
	o.exec_errno = outcomes[_i].err;
	o.exec_step = outcomes[_i].step;
	o.program = outcomes[_i].program;
	o.cwd = outcomes[_i].cwd;
	o.timed_out = outcomes[_i].timeout_ms > 0;
	o.timeout_ms = outcomes[_i].timeout_ms;
	o.error = outcomes[_i].error;
	o.cpu_user_us = 1200;
	o.cpu_system_us = 800;
	o.max_rss_kib = 3100;
	fake_outcome(f, tr, &o);
	expect_state(f, &tr->r, outcomes[_i].want);
	ck_assert_int_eq(tr->pid, 4242);
	ck_assert_int_eq(tr->exit_code, outcomes[_i].exit_code);
	ck_assert_int_eq(tr->signal, outcomes[_i].sig);
	ck_assert_int_eq(tr->cpu_user_us, 1200);
	ck_assert_int_eq(tr->cpu_system_us, 800);
	ck_assert_int_eq(tr->max_rss_kib, 3100);
	ck_assert_uint_eq(tr->attempts, 1);
	ck_assert(tr->r.started_us > 0);
	ck_assert(tr->r.completed_us >= tr->r.started_us);
	expect_ops(f, "ready 1/0/a/0\nfinished\n");
	fake_free(f);
}
END_TEST

/* After finished(), the walker holds nothing and refuses everything. */
START_TEST(test_after_finished)
{
	struct fake		*f;
	struct task_result	*tr;

	f = fake_begin("name: t\ntasks:\n  a: {run: 'true'}\n", NULL, false);
	tr = fake_tr(f, 0, "a", 0);
	fake_launch(f, tr);
	ck_assert_int_eq(walk_begin(tr), -1);
	fake_exit(f, tr, 0);
	ck_assert_int_eq(f->nfinished, 1);
	ck_assert_ptr_null(f->e->walk);
	ck_assert_ptr_null(tr->walk);
	ck_assert_ptr_null(walk_runas(f->e));
	ck_assert_int_eq(walk_begin(tr), -1);
	ck_assert(!walk_launched(tr));
	ck_assert_uint_eq(walk_attempt(tr), 1);
	ck_assert_int_eq(walk_cancel(&f->e->r, "late"), 0);
	ck_assert_int_eq(walk_cancel(&tr->r, "late"), 0);
	ck_assert_int_eq(f->nfinished, 1);
	fake_free(f);
}
END_TEST

/* A submitter without a user entry: CONFIG_ERROR, finished, -1. */
START_TEST(test_no_such_user)
{
	struct fake	*f;

	if (geteuid() != 0)
		return;		/* only root runs tasks as the submitter */
	f = fake_new("name: t\ntasks:\n  a: {run: 'true'}\n", NULL, false);
	f->e->uid = 3999999999u;
	ck_assert_int_eq(fake_start(f), -1);
	ck_assert_str_eq(f->start_err, "uid 3999999999 has no user entry");
	expect_state(f, &f->e->r,
	    "CONFIG_ERROR cannot run tasks: uid 3999999999 has no user entry");
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/* Cancels, outcomes and the end of a walk. */
static Suite *
walk_cancel_suite(void)
{
	Suite	*s = suite_create("walk_cancel");
	TCase	*tc;

	tc = tcase_create("cancel");
	tcase_add_test(tc, test_cancel_execution);
	tcase_add_test(tc, test_cancel_pipeline_result);
	tcase_add_test(tc, test_cancel_task_execution);
	tcase_add_test(tc, test_cancel_waiting_task_execution);
	tcase_add_test(tc, test_cancel_task_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("outcome");
	tcase_add_loop_test(tc, test_outcome_status, 0, NOUTCOMES);
	tcase_add_test(tc, test_after_finished);
	tcase_add_test(tc, test_no_such_user);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(walk_cancel_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
