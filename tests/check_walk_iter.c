/*
 * Unit tests for the walker's iterator commands (lib/walk_iter.c), which
 * really run /bin/sh on the event loop: task and pipeline iterate_command
 * items, empty output, failures with the last line of stderr, and
 * cancels while the command runs.  Then randomized runs of lib/walk.c:
 * random DAGs with static iterators, retries, keep_going, pipeline
 * iterators, a sequential runner and user cancels, driven to the end by
 * the fake runner in a random order, and checked against the rules
 * (docs/runners.md) as they go and once everything is final.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "buf.h"
#include "graph.h"
#include "node.h"
#include "outcome.h"
#include "walkfake.h"
#include "xmalloc.h"

#define ITER_TIMEOUT_MS	20000

#define expect_state(f, r, want) \
	ck_assert_str_eq(fake_state((f), (r)), (want))
#define expect_ops(f, want) \
	ck_assert_str_eq(fake_ops(f), (want))

/* A task iterator's printed lines become its instances. */
START_TEST(test_task_iterator_items)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate: [eu]\ntasks:\n"
	    "  a:\n"
	    "    run: 'true'\n"
	    "    iterate_command: printf 'x\\n\\n%s-%s\\r\\n%s\\nlast' "
	    "\"$PIPELINE_OBJECT\" \"$PIPELINE_TASK\" \"$(pwd)\"\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, false);
	expect_state(f, &fake_te(f, 0, "a")->r,
	    "RUNNING running iterate_command");
	expect_state(f, &f->e->r, "RUNNING running");
	expect_ops(f, "");
	ck_assert(fake_loop_until(f, fake_has_queue, ITER_TIMEOUT_MS));
	expect_ops(f, "ready 1/0/a/0\nready 1/0/a/1\nready 1/0/a/2\n"
	    "ready 1/0/a/3\n");
	ck_assert_uint_eq(fake_te(f, 0, "a")->ninst, 4);
	ck_assert_str_eq(fake_tr(f, 0, "a", 0)->object->text, "x");
	ck_assert_str_eq(fake_tr(f, 0, "a", 1)->object->text, "eu-a");
	ck_assert_str_eq(fake_tr(f, 0, "a", 2)->object->text, "/");
	ck_assert_str_eq(fake_tr(f, 0, "a", 3)->object->text, "last");
	ck_assert(fake_te(f, 0, "a")->r.sealed);
	fake_run_queue(f, 0);
	expect_ops(f, "ready 1/0/b/0\nfinished\n");
	expect_state(f, &fake_te(f, 0, "a")->r, "DONE all 4 instances done");
	fake_free(f);
}
END_TEST

/* No output: the task execution is DONE and its child ready. */
START_TEST(test_task_iterator_empty)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true', iterate_command: 'true'}\n"
	    "  b: {run: 'true', parents: [a]}\n", NULL, false);
	ck_assert(fake_loop_until(f, fake_has_queue, ITER_TIMEOUT_MS));
	expect_ops(f, "ready 1/0/b/0\n");
	expect_state(f, &fake_te(f, 0, "a")->r,
	    "DONE no items: nothing to run");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/* A failing task iterator: RUNTIME_ERROR with stderr's last line. */
START_TEST(test_task_iterator_fails)
{
	static const char *const cmd[] = {
		"echo first >&2; echo last >&2; echo x; exit 3",
		"kill -9 $$",
	};
	static const char *const want[] = {
		"RUNTIME_ERROR iterate_command exited with status 3: last",
		"RUNTIME_ERROR iterate_command killed by signal 9 (SIGKILL)",
	};
	struct fake	*f;
	char		*yaml;

	yaml = xprintf("name: t\ntasks:\n"
	    "  a: {run: 'true', iterate_command: '%s'}\n"
	    "  b: {run: 'true', parents: [a]}\n", cmd[_i]);
	f = fake_begin(yaml, NULL, false);
	free(yaml);
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	expect_state(f, &fake_te(f, 0, "a")->r, want[_i]);
	ck_assert_uint_eq(fake_te(f, 0, "a")->ninst, 0);
	expect_state(f, &fake_te(f, 0, "b")->r,
	    "CANCELLED cancelled: parent a failed");
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/* A pipeline iterator's lines become pipeline results. */
START_TEST(test_pipeline_iterator_items)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate_command: printf 'eu\\n\\nus\\n'\n"
	    "tasks:\n  a: {run: 'true'}\n", NULL, false);
	ck_assert_uint_eq(f->e->nresults, 0);
	expect_state(f, &f->e->r, "PENDING running iterate_command");
	ck_assert(fake_loop_until(f, fake_has_queue, ITER_TIMEOUT_MS));
	expect_ops(f, "ready 1/0/a/0\nready 1/1/a/0\n");
	ck_assert_uint_eq(f->e->nresults, 2);
	ck_assert_str_eq(f->e->results[0]->object->text, "eu");
	ck_assert_str_eq(f->e->results[1]->object->text, "us");
	fake_run_queue(f, 0);
	expect_ops(f, "finished\n");
	expect_state(f, &f->e->r, "DONE all 2 pipeline results done");
	fake_free(f);
}
END_TEST

/* A failing pipeline iterator: CONFIG_ERROR; an empty one: DONE. */
START_TEST(test_pipeline_iterator_ends)
{
	static const char *const cmd[] = {
		"echo no regions >&2; exit 2",
		"true",
	};
	static const char *const want[] = {
		"CONFIG_ERROR iterate_command exited with status 2: no regions",
		"DONE no items: nothing to run",
	};
	struct fake	*f;
	char		*yaml;

	yaml = xprintf("name: t\niterate_command: '%s'\n"
	    "tasks:\n  a: {run: 'true'}\n", cmd[_i]);
	f = fake_begin(yaml, NULL, false);
	free(yaml);
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	expect_state(f, &f->e->r, want[_i]);
	ck_assert_uint_eq(f->e->nresults, 0);
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/*
 * Items that would take the execution over PL_MAX_RESULTS task executions
 * and task results are refused: all of a pipeline iterator's (40000 items
 * of 6 each), and all of a task iterator's beside a static list of 100000.
 */
START_TEST(test_iterator_results_limit)
{
	struct fake	*f;
	struct buf	 b;
	size_t		 i;

	f = fake_begin("name: t\niterate_command: seq 40000\ntasks:\n"
	    "  a: {run: 'true'}\n  b: {run: 'true'}\n  c: {run: 'true'}\n",
	    NULL, false);
	ck_assert(execution_has_room(&f->e->r, 33333));
	ck_assert(!execution_has_room(&f->e->r, 33334));
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	expect_state(f, &f->e->r, "CONFIG_ERROR iterate_command printed 40000 "
	    "items: the execution would hold more than 200000 task executions "
	    "and task results");
	ck_assert_uint_eq(f->e->nresults, 0);
	ck_assert_uint_eq(f->e->size, 0);
	fake_free(f);

	buf_init(&b);
	buf_adds(&b, "name: t\ntasks:\n"
	    "  a: {run: 'true', iterate_command: seq 99999}\n"
	    "  s: {run: 'true', parents: [a], iterate: [");
	for (i = 0; i < 100000; i++)
		buf_addf(&b, "%s%zu", i ? "," : "", i);
	buf_adds(&b, "]}\n");
	f = fake_begin(b.data, NULL, false);
	buf_release(&b);
	ck_assert_uint_eq(f->e->size, 100002);
	ck_assert(execution_has_room(&fake_te(f, 0, "a")->r, 99998));
	ck_assert(!execution_has_room(&fake_te(f, 0, "a")->r, 99999));
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	expect_state(f, &fake_te(f, 0, "a")->r, "RUNTIME_ERROR iterate_command "
	    "printed 99999 items: the execution would hold more than 200000 "
	    "task executions and task results");
	ck_assert_uint_eq(fake_te(f, 0, "a")->ninst, 0);
	ck_assert_uint_eq(f->e->size, 100002);
	fake_free(f);
}
END_TEST

/* Cancel while the pipeline iterator runs. */
START_TEST(test_cancel_pipeline_iterator)
{
	struct fake	*f;

	f = fake_begin("name: t\niterate_command: 'sleep 30'\n"
	    "tasks:\n  a: {run: 'true'}\n", NULL, false);
	ck_assert_int_eq(walk_cancel(&f->e->r, "cancelled by user alice"), 1);
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	expect_state(f, &f->e->r, "CANCELLED cancelled by user alice");
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/*
 * A task iterator is stopped by a user cancel of its task execution, or
 * by the failure of another task (default policy).
 */
START_TEST(test_cancel_task_iterator)
{
	struct fake	*f;

	f = fake_begin("name: t\ntasks:\n"
	    "  a: {run: 'true', iterate_command: 'sleep 30'}\n"
	    "  b: {run: 'true', parents: [a]}\n"
	    "  x: {run: 'true'}\n", NULL, false);
	expect_ops(f, "ready 1/0/x/0\n");
	if (_i == 0) {
		ck_assert_int_eq(walk_cancel(&fake_te(f, 0, "a")->r,
		    "cancelled by user alice"), 1);
		fake_run_queue(f, 0);
	} else {
		fake_launch(f, fake_tr(f, 0, "x", 0));
		fake_exit(f, fake_tr(f, 0, "x", 0), 1);
	}
	ck_assert(fake_loop_until(f, fake_is_finished, ITER_TIMEOUT_MS));
	if (_i == 0) {
		expect_state(f, &fake_te(f, 0, "a")->r,
		    "CANCELLED cancelled by user alice");
		expect_state(f, &fake_te(f, 0, "b")->r,
		    "CANCELLED cancelled: parent a was cancelled");
	} else {
		expect_state(f, &fake_te(f, 0, "a")->r,
		    "CANCELLED cancelled: task x failed");
		expect_state(f, &fake_te(f, 0, "b")->r,
		    "CANCELLED cancelled: task x failed");
	}
	ck_assert_uint_eq(fake_te(f, 0, "a")->ninst, 0);
	expect_ops(f, "finished\n");
	fake_free(f);
}
END_TEST

/*
 * Randomized runs.  Each task result carries what the fake runner saw
 * (runner_data); the checks use it together with the change log.
 */
struct rtr {
	uint32_t	 nbegins;
	bool		 stopped;
	bool		 launched;
};

struct rstate {
	uint64_t	 rng;
	bool		 keep_going;
	bool		 cancels;
	uint32_t	 fail_pct;	/* of attempts */
	bool		 pr_cancelled[3];	/* by a user cancel */
};

/* xorshift64*: reproducible per seed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A random number in [0, n). */
static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

/* A random pipeline: DAG, static iterators, retries, keep_going. */
static char *
random_yaml(uint64_t *rng, bool *keep_going)
{
	struct buf	b;
	uint32_t	n = 20 + rnd_below(rng, 31), i, j, k, np;

	buf_init(&b);
	*keep_going = rnd_below(rng, 2) == 0;
	buf_addf(&b, "name: r\nkeep_going: %s\nordering: {}\n",
	    *keep_going ? "true" : "false");
	if (rnd_below(rng, 3) == 0)
		buf_adds(&b, "iterate: [p0, p1, p2]\n");
	buf_adds(&b, "tasks:\n");
	for (i = 0; i < n; i++) {
		buf_addf(&b, "  t%u:\n    run: 'true'\n", i);
		for (j = 0, np = 0; j < i; j++) {
			if (rnd_below(rng, i) >= 2 || np == 4)
				continue;
			buf_addf(&b, "%s t%u", np++ == 0 ? "    parents: [" :
			    ",", j);
		}
		if (np > 0)
			buf_adds(&b, "]\n");
		if (rnd_below(rng, 4) == 0) {
			k = rnd_below(rng, 5);
			buf_adds(&b, "    iterate: [");
			for (j = 0; j < k; j++)
				buf_addf(&b, "%s%u", j ? ", " : "", j);
			buf_adds(&b, "]\n");
		}
		if (rnd_below(rng, 6) == 0)
			buf_adds(&b, "    retries: 1\n    retry_delay: 1ms\n");
	}
	return buf_detach(&b);
}

/* Whether every parent of te (in its pipeline result) is DONE. */
static bool
parents_done(const struct task_execution *te)
{
	const struct pipeline	*p = te->r.exec->def;
	const uint32_t		*par;
	uint32_t		 n, i;

	par = graph_parents(p->graph, te->task, &n);
	for (i = 0; i < n; i++)
		if (te->pr->tasks[par[i]].r.status != STATUS_DONE)
			return false;
	return true;
}

/*
 * Whether a task execution of pr failed, or a task result failed for good
 * (not cancelled).
 */
static bool
result_has_failed_task(const struct pipeline_result *pr)
{
	const struct task_execution	*te;
	uint32_t			 t, k;

	for (t = 0; t < pr->r.exec->def->ntasks; t++) {
		te = &pr->tasks[t];
		if (status_is_failure(te->r.status))
			return true;
		for (k = 0; k < te->ninst; k++)
			if (status_is_failure(te->inst[k]->r.status) &&
			    te->inst[k]->r.status != STATUS_CANCELLED)
				return true;
	}
	return false;
}

/* ready(): rule 1, and a sequential runner's order. */
static void
random_ready(struct fake *f, struct task_result *tr)
{
	uint32_t	i;

	ck_assert_msg(parents_done(tr->te), "ready before the parents");
	if (f->ops.sequential)
		for (i = 0; i < tr->te->pr->index; i++)
			ck_assert_msg(result_is_final(&f->e->results[i]->r),
			    "ready in pipeline result %u before %u is final: "
			    "%s",
			    tr->te->pr->index, i,
			    fake_state(f, &f->e->results[i]->r));
}

/* stop(): remember it, to check that it ends CANCELLED. */
static void
random_stop(struct fake *f, struct task_result *tr)
{
	((struct rtr *)tr->runner_data)->stopped = true;
}

/* Give every task result its record (new ones appear with iterators). */
static void
random_attach(struct fake *f)
{
	struct task_execution	*te;
	uint32_t		 i, t, k;

	for (i = 0; i < f->e->nresults; i++)
		for (t = 0; t < f->p->ntasks; t++) {
			te = &f->e->results[i]->tasks[t];
			for (k = 0; k < te->ninst; k++)
				if (te->inst[k]->runner_data == NULL)
					te->inst[k]->runner_data =
					    xcalloc(1, sizeof(struct rtr));
		}
}

/* Begin a queued task result, checking the rules at that moment. */
static void
random_begin(struct fake *f, struct rstate *rs, struct task_result *tr,
    struct task_result ***launched, size_t *nl)
{
	struct rtr	*rt = tr->runner_data;
	uint32_t	 k;
	bool		 stopped_pr = !rs->keep_going &&
			    result_has_failed_task(tr->te->pr);
	bool		 sibling_failed = false;

	for (k = 0; k < tr->te->ninst; k++)
		if (status_is_failure(tr->te->inst[k]->r.status) &&
		    tr->te->inst[k]->r.status != STATUS_CANCELLED)
			sibling_failed = true;
	if (walk_begin(tr) == -1) {
		/* Final, or its pipeline result stopped: cancelled later. */
		ck_assert(result_is_final(&tr->r) || stopped_pr);
		return;
	}
	ck_assert_msg(parents_done(tr->te), "began before the parents");
	ck_assert_msg(!stopped_pr, "began after a failure");
	ck_assert_msg(!sibling_failed, "began after a sibling failed");
	ck_assert_msg(!rs->pr_cancelled[tr->te->pr->index],
	    "began after a cancel");
	rt->nbegins++;
	rt->launched = true;
	walk_started(tr, 100 + (pid_t)rt->nbegins);
	*launched = xreallocarray(*launched, *nl + 1, sizeof **launched);
	(*launched)[(*nl)++] = tr;
}

/* End a launched attempt at random. */
static void
random_end(struct fake *f, struct rstate *rs, struct task_result *tr)
{
	struct outcome	o;
	uint32_t	r = rnd_below(&rs->rng, 100);

	outcome_init(&o);
	if (r >= rs->fail_pct)
		o.exit_code = 0;
	else if (r % 2 == 0)
		o.exit_code = 1;
	else
		o.signal = SIGKILL;
	((struct rtr *)tr->runner_data)->launched = false;
	walk_exited(tr, &o);
}

/* A user cancel of a random execution, pipeline result or task. */
static void
random_cancel(struct fake *f, struct rstate *rs)
{
	struct pipeline_result	*pr;
	uint32_t		 what = rnd_below(&rs->rng, 3);

	if (f->e->nresults == 0)
		return;
	pr = f->e->results[rnd_below(&rs->rng, f->e->nresults)];
	if (what == 0) {
		walk_cancel(&f->e->r, "cancelled by user r");
		memset(rs->pr_cancelled, 1, sizeof rs->pr_cancelled);
	} else if (what == 1) {
		walk_cancel(&pr->r, "cancelled by user r");
		rs->pr_cancelled[pr->index] = true;
	} else
		walk_cancel(&pr->tasks[rnd_below(&rs->rng,
		    f->p->ntasks)].r, "cancelled by user r");
}

/* The seq at which r first became final. */
static uint64_t
final_seq(struct fake *f, const struct result *r)
{
	size_t	i;

	for (i = 0; i < f->nchanges; i++)
		if (f->changes[i].r == r &&
		    status_is_final(f->changes[i].status))
			return f->changes[i].seq;
	ck_abort_msg("never final");
	return 0;
}

/* Check a parent's status against its children's (the roll-up). */
static void
check_rollup(struct fake *f, const struct result *parent,
    const struct result **kids, size_t n)
{
	const struct result	*first = NULL;
	uint64_t		 best = UINT64_MAX, s;
	size_t			 i;

	ck_assert(result_is_final(parent));
	for (i = 0; i < n; i++) {
		ck_assert(result_is_final(kids[i]));
		if (!status_is_failure(kids[i]->status))
			continue;
		if ((s = final_seq(f, kids[i])) < best) {
			best = s;
			first = kids[i];
		}
	}
	if (first == NULL && n == 0 && parent->status == STATUS_CANCELLED)
		return;		/* cancelled before it had children */
	if (first == NULL)
		ck_assert_int_eq(parent->status, STATUS_DONE);
	else
		ck_assert_int_eq(parent->status, first->status);
}

/* Whether a task execution of pr failed on its own (not cancelled). */
static bool
result_has_runtime_error(const struct pipeline_result *pr)
{
	uint32_t	t;

	for (t = 0; t < pr->r.exec->def->ntasks; t++)
		if (pr->tasks[t].r.status == STATUS_RUNTIME_ERROR)
			return true;
	return false;
}

/* Whether some ancestor of te (in its pipeline result) is not DONE. */
static bool
ancestor_failed(const struct task_execution *te)
{
	const struct pipeline	*p = te->r.exec->def;
	const uint32_t		*par;
	uint32_t		*stack, sp = 0, n, i, v;
	char			*seen;
	bool			 failed = false;

	stack = xcalloc(p->ntasks + 1, sizeof *stack);
	seen = xcalloc(p->ntasks, 1);
	stack[sp++] = te->task;
	while (sp > 0 && !failed) {
		v = stack[--sp];
		par = graph_parents(p->graph, v, &n);
		for (i = 0; i < n; i++) {
			if (te->pr->tasks[par[i]].r.status != STATUS_DONE)
				failed = true;
			if (!seen[par[i]]) {
				seen[par[i]] = 1;
				stack[sp++] = par[i];
			}
		}
	}
	free(stack);
	free(seen);
	return failed;
}

/* One task execution at the end: roll-up, ancestors, its task results. */
static void
random_check_te(struct fake *f, struct rstate *rs, struct task_execution *te)
{
	const struct task_def	*t = &f->p->tasks[te->task];
	const struct result	**kids;
	struct rtr		*rt;
	uint32_t		 k;
	bool			 failed = ancestor_failed(te);

	kids = xcalloc(te->ninst + 1, sizeof *kids);
	for (k = 0; k < te->ninst; k++)
		kids[k] = &te->inst[k]->r;
	check_rollup(f, &te->r, kids, te->ninst);
	free(kids);
	if (failed)
		ck_assert_msg(te->r.status == STATUS_CANCELLED, "%s: %s",
		    t->name, fake_state(f, &te->r));
	if (te->r.status == STATUS_CANCELLED && !rs->cancels)
		ck_assert_msg(rs->keep_going ? failed :
		    result_has_runtime_error(te->pr), "%s: %s", t->name,
		    te->r.message);
	for (k = 0; k < te->ninst; k++) {
		rt = te->inst[k]->runner_data;
		ck_assert(!rt->launched);
		ck_assert_uint_eq(rt->nbegins, te->inst[k]->attempts);
		ck_assert_uint_le(rt->nbegins, t->retries + 1);
		if (failed)
			ck_assert_uint_eq(rt->nbegins, 0);
		if (rt->stopped)
			ck_assert_int_eq(te->inst[k]->r.status,
			    STATUS_CANCELLED);
		/* Launched and CANCELLED: stopped, or waiting for a retry. */
		if (rt->nbegins > 0 && !rt->stopped && !rs->cancels &&
		    t->retries == 0)
			ck_assert_int_ne(te->inst[k]->r.status,
			    STATUS_CANCELLED);
	}
}

/* The end state: everything final, rolled up, and cancelled as it must. */
static void
random_check_end(struct fake *f, struct rstate *rs)
{
	const struct result	**kids;
	struct pipeline_result	*pr;
	uint32_t		 i, t;

	ck_assert_int_eq(f->nfinished, 1);
	kids = xcalloc(f->e->nresults + f->p->ntasks + 1, sizeof *kids);
	for (i = 0; i < f->e->nresults; i++)
		kids[i] = &f->e->results[i]->r;
	check_rollup(f, &f->e->r, kids, f->e->nresults);
	for (i = 0; i < f->e->nresults; i++) {
		pr = f->e->results[i];
		for (t = 0; t < f->p->ntasks; t++)
			kids[t] = &pr->tasks[t].r;
		check_rollup(f, &pr->r, kids, f->p->ntasks);
		/* Without a user cancel, a failure decides, not its fallout. */
		if (!rs->cancels)
			ck_assert_msg(pr->r.status != STATUS_CANCELLED,
			    "pipeline result %u: %s", i,
			    fake_state(f, &pr->r));
		for (t = 0; t < f->p->ntasks; t++)
			random_check_te(f, rs, &pr->tasks[t]);
	}
	free(kids);
}

/* Free the fake runner's records. */
static void
random_detach(struct fake *f)
{
	struct task_execution	*te;
	uint32_t		 i, t, k;

	for (i = 0; i < f->e->nresults; i++)
		for (t = 0; t < f->p->ntasks; t++) {
			te = &f->e->results[i]->tasks[t];
			for (k = 0; k < te->ninst; k++) {
				free(te->inst[k]->runner_data);
				te->inst[k]->runner_data = NULL;
			}
		}
}

/* One random run to the end, checked on the way and at the end. */
START_TEST(test_random_runs)
{
	struct rstate		 rs;
	struct fake		*f;
	struct task_result	**launched = NULL, *tr;
	size_t			 nl = 0, i;
	char			*yaml;
	int			 steps;

	memset(&rs, 0, sizeof rs);
	rs.rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(_i + 1);
	yaml = random_yaml(&rs.rng, &rs.keep_going);
	rs.cancels = _i % 4 == 3;
	rs.fail_pct = (uint32_t[]){ 2, 6, 20 }[_i / 3 % 3];
	f = fake_new(yaml, NULL, _i % 3 == 1);
	free(yaml);
	f->on_ready = random_ready;
	f->on_stop = random_stop;
	ck_assert_int_eq(fake_start(f), 0);
	for (steps = 0; !fake_is_finished(f); steps++) {
		ck_assert_int_lt(steps, 200000);
		random_attach(f);
		if (rs.cancels && rnd_below(&rs.rng, 200) == 0)
			random_cancel(f, &rs);
		else if (f->nqueue > 0 && (nl == 0 ||
		    rnd_below(&rs.rng, 2) == 0)) {
			tr = f->queue[rnd_below(&rs.rng, (uint32_t)f->nqueue)];
			fake_take(f, tr);
			random_begin(f, &rs, tr, &launched, &nl);
		} else if (nl > 0) {
			i = rnd_below(&rs.rng, (uint32_t)nl);
			tr = launched[i];
			launched[i] = launched[--nl];
			random_end(f, &rs, tr);
		} else
			ck_assert_msg(fake_loop_until(f, fake_has_queue, 5000),
			    "stuck: nothing queued, nothing runs");
	}
	ck_assert_uint_eq(nl, 0);
	for (i = 0; i < f->nqueue; i++)
		ck_assert_int_eq(walk_begin(f->queue[i]), -1);
	random_attach(f);
	random_check_end(f, &rs);
	random_detach(f);
	free(launched);
	fake_free(f);
}
END_TEST

/* Iterator commands (real processes), then the randomized runs. */
static Suite *
walk_iter_suite(void)
{
	Suite	*s = suite_create("walk_iter");
	TCase	*tc;

	tc = tcase_create("iterate_command");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_task_iterator_items);
	tcase_add_test(tc, test_task_iterator_empty);
	tcase_add_loop_test(tc, test_task_iterator_fails, 0, 2);
	tcase_add_test(tc, test_pipeline_iterator_items);
	tcase_add_loop_test(tc, test_pipeline_iterator_ends, 0, 2);
	tcase_add_test(tc, test_iterator_results_limit);
	tcase_add_test(tc, test_cancel_pipeline_iterator);
	tcase_add_loop_test(tc, test_cancel_task_iterator, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_random_runs, 0, 150);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(walk_iter_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
