/*
 * Unit tests for lib/result.c: the roll-up of statuses through the four
 * result levels, checked for every mix of final statuses among a task's
 * instances and every order in which they finish, against expectations
 * computed here from the rule (DONE if all are DONE, else the first to
 * fail in time); RUNNING propagation; the advance-only rule; direct
 * finalization; empty iterators; several pipeline results; notes;
 * addresses; and the exact sequence of change callbacks.  Everything is
 * freed, so that ASan's leak check covers execution_free().
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "status.h"
#include "xmalloc.h"

/*
 * The enumeration makes millions of checks; a passing ck_assert writes to
 * Check's pipe each time, so these only call into Check on failure.  ctx
 * names the case being run.
 */
static char	ctx[256];

#define expect(expr) do {						\
	if (!(expr))							\
		ck_abort_msg("%s: '%s' failed", ctx, #expr);		\
} while (0)
#define expect_int(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		ck_abort_msg("%s: %s == %lld, want %lld", ctx, #a,	\
		    _a, _b);						\
} while (0)
#define expect_str(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || strcmp(_a, _b) != 0)				\
		ck_abort_msg("%s: %s == \"%s\", want \"%s\"", ctx, #a,	\
		    _a != NULL ? _a : "(null)", _b);			\
} while (0)
#define expect_status(a, b) do {					\
	enum status _a = (a), _b = (b);					\
	if (_a != _b)							\
		ck_abort_msg("%s: %s == %s, want %s", ctx, #a,		\
		    status_name(_a), status_name(_b));			\
} while (0)

#define NFINALS	5
static const enum status finals[NFINALS] = {
	STATUS_DONE, STATUS_CONFIG_ERROR, STATUS_VALIDATION_ERROR,
	STATUS_RUNTIME_ERROR, STATUS_CANCELLED,
};

/* One change callback: the object and what it looked like then. */
struct rec {
	struct result	*r;
	enum status	 status;
	char		*message;
	int64_t		 started_us;
	int64_t		 completed_us;
};

/* Every change callback since the last log_clear(), in order. */
struct cblog {
	struct rec	*v;
	size_t		 n;
	size_t		 cap;
};

/* The change callback: append a copy of the object's state to the log. */
static void
record(struct result *r, void *arg)
{
	struct cblog	*log = arg;
	struct rec	*rec;

	if (log->n == log->cap) {
		log->cap = log->cap == 0 ? 16 : log->cap * 2;
		log->v = xreallocarray(log->v, log->cap, sizeof *log->v);
	}
	rec = &log->v[log->n++];
	rec->r = r;
	rec->status = r->status;
	rec->message = xstrdup(r->message);
	rec->started_us = r->started_us;
	rec->completed_us = r->completed_us;
}

/* Forget the recorded callbacks. */
static void
log_clear(struct cblog *log)
{
	size_t	i;

	for (i = 0; i < log->n; i++)
		free(log->v[i].message);
	log->n = 0;
}

/* Free the log's storage. */
static void
log_free(struct cblog *log)
{
	log_clear(log);
	free(log->v);
	log->v = NULL;
	log->cap = 0;
}

/* An object's address, or a placeholder for NULL, for failure messages. */
static char *
addr(const struct result *r)
{
	return r != NULL ? result_address(r) : xstrdup("(none)");
}

/*
 * Assert that exactly n callbacks were made, for the given objects in that
 * order, and that each saw its object's current state (every object
 * changes at most once per step, so the change had been applied when the
 * callback ran); then clear the log.
 */
static void
expect_log(struct cblog *log, size_t n, ...)
{
	struct result	*want;
	struct rec	*rec;
	va_list		 ap;
	size_t		 i;
	char		*a, *b;

	if (log->n != n) {
		a = log->n > 0 ? addr(log->v[0].r) : xstrdup("-");
		ck_abort_msg("%s: %zu callbacks (first %s), want %zu", ctx,
		    log->n, a, n);
	}
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		want = va_arg(ap, struct result *);
		rec = &log->v[i];
		if (rec->r != want) {
			a = addr(rec->r);
			b = addr(want);
			ck_abort_msg("%s: callback %zu for %s, want %s", ctx,
			    i, a, b);
		}
		expect_status(rec->status, want->status);
		expect_str(rec->message, want->message);
		expect_int(rec->started_us, want->started_us);
		expect_int(rec->completed_us, want->completed_us);
	}
	va_end(ap);
	log_clear(log);
}

/* Assert that the callbacks made were for exactly these addresses. */
static void
expect_log_addresses(struct cblog *log, const char *const *want, size_t n)
{
	size_t	i;
	char	*a;

	expect_int(log->n, n);
	for (i = 0; i < n; i++) {
		a = result_address(log->v[i].r);
		if (strcmp(a, want[i]) != 0)
			ck_abort_msg("%s: callback %zu for %s, want %s", ctx,
			    i, a, want[i]);
		free(a);
	}
	log_clear(log);
}

/* Assert an object's status, message and times all at once. */
static void
expect_state(const struct result *r, enum status st, const char *msg,
    int64_t started_us, int64_t completed_us)
{
	expect_status(r->status, st);
	expect_str(r->message, msg);
	expect_int(r->started_us, started_us);
	expect_int(r->completed_us, completed_us);
	expect(result_is_final(r) == status_is_final(st));
}

/* A pipeline of n tasks with these names, without any iterator. */
static struct pipeline *
make_pipeline(uint32_t n, ...)
{
	struct pipeline	*p;
	va_list		 ap;
	uint32_t	 i;

	p = xcalloc(1, sizeof *p);
	p->name = xstrdup("test");
	p->ntasks = n;
	p->tasks = xcalloc(n, sizeof *p->tasks);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		p->tasks[i].name = xstrdup(va_arg(ap, const char *));
		p->tasks[i].index = i;
	}
	va_end(ap);
	return p;
}

/* A sequence of k string items: "item0", "item1"... */
static struct node *
make_items(size_t k)
{
	struct node	*seq;
	char		 buf[32];
	size_t		 i;

	seq = node_new(NODE_SEQ);
	for (i = 0; i < k; i++) {
		snprintf(buf, sizeof buf, "item%zu", i);
		node_append(seq, node_new_str(buf, strlen(buf)));
	}
	return seq;
}

/*
 * Whether status_can_change(from, to) should hold, spelled out here
 * independently of lib/status.c.
 */
static bool
may_change(enum status from, enum status to)
{
	static const bool	table[STATUS_COUNT][STATUS_COUNT] = {
		/* to:	   P  R  D  CE VE RE CA */
		{	   0, 1, 1, 1, 1, 1, 1 },	/* PENDING */
		{	   0, 0, 1, 1, 1, 1, 1 },	/* RUNNING */
		{	   0, 0, 0, 0, 0, 0, 0 },	/* DONE */
		{	   0, 0, 0, 0, 0, 0, 0 },	/* CONFIG_ERROR */
		{	   0, 0, 0, 0, 0, 0, 0 },	/* VALIDATION_ERROR */
		{	   0, 0, 0, 0, 0, 0, 0 },	/* RUNTIME_ERROR */
		{	   0, 0, 0, 0, 0, 0, 0 },	/* CANCELLED */
	};

	return table[from][to];
}

/*
 * Roll-up for every mix.
 *
 * One task "build" iterating over k static items, one pipeline result, no
 * pipeline iterator.  Each instance gets a final status; they finish in a
 * given order; whether and when they go RUNNING first is the start mode.
 */

enum start_mode {
	START_ALL_FIRST,	/* all RUNNING by index before any ends */
	START_NONE,		/* PENDING -> final directly */
	START_EACH,		/* each RUNNING just before it ends */
	START_ODD,		/* only the 2nd, 4th... to end start */
	START_NMODES,
};

static const char *const mode_names[START_NMODES] = {
	"all-first", "none", "each", "odd",
};

struct mix {
	uint32_t	 k;
	enum status	 st[4];		/* by instance index */
	uint32_t	 order[4];	/* indexes in finishing order */
	enum start_mode	 mode;
};

struct mixrun {
	struct cblog		 log;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	int64_t			 t;		/* the clock */
	int64_t			 started;	/* parents' start */
};

/* Describe a mix in ctx for failure messages. */
static void
mix_describe(const struct mix *m)
{
	size_t		n;
	uint32_t	i;

	n = (size_t)snprintf(ctx, sizeof ctx, "k=%u mode=%s st=", m->k,
	    mode_names[m->mode]);
	for (i = 0; i < m->k && n < sizeof ctx; i++)
		n += (size_t)snprintf(ctx + n, sizeof ctx - n, "%s%s",
		    i > 0 ? "," : "", status_name(m->st[i]));
	for (i = 0; i < m->k && n < sizeof ctx; i++)
		n += (size_t)snprintf(ctx + n, sizeof ctx - n, "%s%u",
		    i > 0 ? "," : " order=", m->order[i]);
}

/* Assert the three parents are unfinished, RUNNING once started. */
static void
mix_expect_unfinished(struct mixrun *run)
{
	enum status	st;
	const char	*msg;

	st = run->started != 0 ? STATUS_RUNNING : STATUS_PENDING;
	msg = run->started != 0 ? "running" : "pending";
	expect_state(&run->te->r, st, msg, run->started, 0);
	expect_state(&run->pr->r, st, msg, run->started, 0);
	expect_state(&run->e->r, st, msg, run->started, 0);
}

/* Make instance i RUNNING and check what that does to its parents. */
static void
mix_start(struct mixrun *run, uint32_t i)
{
	struct task_result	*tr = run->te->inst[i];
	char			 msg[32];
	bool			 first = run->started == 0;

	run->t += 10;
	snprintf(msg, sizeof msg, "started %u", i);
	expect(result_set(&tr->r, STATUS_RUNNING, msg, run->t) == 0);
	expect_state(&tr->r, STATUS_RUNNING, msg, run->t, 0);
	if (first) {
		run->started = run->t;
		expect_log(&run->log, 4, &tr->r, &run->te->r, &run->pr->r,
		    &run->e->r);
	} else
		expect_log(&run->log, 1, &tr->r);
	mix_expect_unfinished(run);
}

/* Run one mix from a fresh execution of p to its end, checking each step. */
static void
run_mix(struct pipeline *p, const struct mix *m)
{
	struct mixrun		 run;
	struct task_result	*tr;
	const struct task_result *ff = NULL;
	int64_t			 tr_started[4] = { 0 };
	enum status		 want;
	char			*msg, *temsg, *prmsg;
	uint32_t		 i, j;

	mix_describe(m);
	memset(&run, 0, sizeof run);
	run.t = 100;
	run.e = execution_new(7, p, record, &run.log);
	run.pr = execution_add_result(run.e, NULL, 1);
	result_seal(&run.e->r, 1);
	expect_log(&run.log, 0);
	run.te = &run.pr->tasks[0];
	expect_int(run.te->ninst, m->k);
	expect(run.te->r.sealed && run.pr->r.sealed && run.e->r.sealed);
	mix_expect_unfinished(&run);

	if (m->mode == START_ALL_FIRST)
		for (i = 0; i < m->k; i++) {
			mix_start(&run, i);
			tr_started[i] = run.t;
		}

	for (j = 0; j < m->k; j++) {
		i = m->order[j];
		tr = run.te->inst[i];
		if (m->mode == START_EACH || (m->mode == START_ODD && j % 2)) {
			mix_start(&run, i);
			tr_started[i] = run.t;
		}
		if (ff == NULL && status_is_failure(m->st[i]))
			ff = tr;
		run.t += 10;
		msg = xprintf("%s %u", status_name(m->st[i]), i);
		expect(result_set(&tr->r, m->st[i], msg, run.t) == 0);
		expect_state(&tr->r, m->st[i], msg, tr_started[i], run.t);
		free(msg);
		if (j + 1 < m->k) {
			expect_log(&run.log, 1, &tr->r);
			mix_expect_unfinished(&run);
			expect(run.te->r.first_failed ==
			    (ff != NULL ? &ff->r : NULL));
			continue;
		}

		/* The last one: everything above it is final now. */
		expect_log(&run.log, 4, &tr->r, &run.te->r, &run.pr->r,
		    &run.e->r);
		want = ff != NULL ? ff->r.status : STATUS_DONE;
		if (ff != NULL) {
			temsg = xprintf("instance %u failed: %s %u", ff->index,
			    status_name(ff->r.status), ff->index);
			prmsg = xprintf("task build: %s", temsg);
		} else {
			temsg = m->k == 1 ? xstrdup("the 1 instance done") :
			    xprintf("all %u instances done", m->k);
			prmsg = xstrdup("the 1 task done");
		}
		expect_state(&run.te->r, want, temsg, run.started, run.t);
		expect_state(&run.pr->r, want, prmsg, run.started, run.t);
		expect_state(&run.e->r, want, prmsg, run.started, run.t);
		expect(run.te->r.first_failed == (ff != NULL ? &ff->r : NULL));
		expect(run.pr->r.first_failed ==
		    (ff != NULL ? &run.te->r : NULL));
		expect(run.e->r.first_failed ==
		    (ff != NULL ? &run.pr->r : NULL));
		free(temsg);
		free(prmsg);
	}

	/* Nothing moves any more. */
	expect(result_set(&run.te->r, STATUS_CANCELLED, "x", 9999) == -1);
	expect(result_set(&run.e->r, STATUS_DONE, "x", 9999) == -1);
	expect_log(&run.log, 0);

	execution_free(run.e);
	log_free(&run.log);
}

/* Advance perm to the next permutation in lexical order; false at the end. */
static bool
next_permutation(uint32_t *perm, uint32_t n)
{
	uint32_t	i, j, tmp;

	if (n < 2)
		return false;
	i = n - 1;
	while (i > 0 && perm[i - 1] >= perm[i])
		i--;
	if (i == 0)
		return false;
	j = n - 1;
	while (perm[j] <= perm[i - 1])
		j--;
	tmp = perm[i - 1];
	perm[i - 1] = perm[j];
	perm[j] = tmp;
	for (j = n - 1; i < j; i++, j--) {
		tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	return true;
}

START_TEST(test_rollup_every_mix)
{
	struct pipeline	*p;
	struct mix	 m;
	uint32_t	 k = (uint32_t)_i, i, code, rest, ncodes, nperm;
	size_t		 ncases = 0;

	p = make_pipeline(1, "build");
	p->tasks[0].iterate = make_items(k);

	ncodes = 1;
	for (i = 0; i < k; i++)
		ncodes *= NFINALS;
	memset(&m, 0, sizeof m);
	m.k = k;
	for (code = 0; code < ncodes; code++) {
		/* code, in base 5, is the assignment: digit i for i. */
		for (i = 0, rest = code; i < k; i++, rest /= NFINALS)
			m.st[i] = finals[rest % NFINALS];
		for (m.mode = 0; m.mode < START_NMODES; m.mode++) {
			for (i = 0; i < k; i++)
				m.order[i] = i;
			nperm = 0;
			do {
				run_mix(p, &m);
				ncases++;
				nperm++;
			} while (next_permutation(m.order, k));
			/* Every order was run: k! of them. */
			ck_assert_uint_eq(nperm, k == 1 ? 1 : k == 2 ? 2 :
			    k == 3 ? 6 : 24);
		}
	}
	ck_assert_uint_eq(ncases, (size_t)ncodes * START_NMODES *
	    (k == 1 ? 1 : k == 2 ? 2 : k == 3 ? 6 : 24));
	pipeline_free(p);
}
END_TEST

START_TEST(test_rollup_no_iterator)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct task_result	*tr;
	struct cblog		 log = { 0 };
	enum status		 st = finals[_i];
	char			*prmsg;

	/* A task without iterator: one instance whose message is the task's. */
	snprintf(ctx, sizeof ctx, "no iterator, %s", status_name(st));
	p = make_pipeline(1, "build");
	e = execution_new(42, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	te = &pr->tasks[0];
	ck_assert_uint_eq(te->ninst, 1);
	ck_assert(te->r.sealed);
	tr = te->inst[0];
	ck_assert_ptr_null(tr->object);
	result_seal(&e->r, 5);

	ck_assert_int_eq(result_set(&tr->r, STATUS_RUNNING, "exec", 10), 0);
	expect_log(&log, 4, &tr->r, &te->r, &pr->r, &e->r);
	ck_assert_int_eq(result_set(&tr->r, st, "exit status 3", 25), 0);
	expect_log(&log, 4, &tr->r, &te->r, &pr->r, &e->r);
	prmsg = st == STATUS_DONE ? xstrdup("the 1 task done") :
	    xstrdup("task build: exit status 3");
	expect_state(&tr->r, st, "exit status 3", 10, 25);
	expect_state(&te->r, st, "exit status 3", 10, 25);
	expect_state(&pr->r, st, prmsg, 10, 25);
	expect_state(&e->r, st, prmsg, 10, 25);
	free(prmsg);

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_rollup_tasks_in_time)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct cblog		 log = { 0 };
	struct result		*a, *b, *c;

	/*
	 * Three tasks; c fails first, then a with another status, b ends
	 * DONE last: the pipeline result is c's, not a's (a comes first by
	 * index, c first in time).
	 */
	snprintf(ctx, sizeof ctx, "tasks in time");
	p = make_pipeline(3, "a", "b", "c");
	e = execution_new(1, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	a = &pr->tasks[0].inst[0]->r;
	b = &pr->tasks[1].inst[0]->r;
	c = &pr->tasks[2].inst[0]->r;

	ck_assert_int_eq(result_set(b, STATUS_RUNNING, "b runs", 10), 0);
	expect_log(&log, 4, b, &pr->tasks[1].r, &pr->r, &e->r);
	ck_assert_int_eq(result_set(c, STATUS_RUNTIME_ERROR, "c died", 20), 0);
	expect_log(&log, 2, c, &pr->tasks[2].r);
	expect_state(&pr->tasks[2].r, STATUS_RUNTIME_ERROR, "c died", 0, 20);
	expect_state(&pr->r, STATUS_RUNNING, "running", 10, 0);
	ck_assert_int_eq(result_set(a, STATUS_CONFIG_ERROR, "a bad", 30), 0);
	expect_log(&log, 2, a, &pr->tasks[0].r);
	expect_state(&pr->r, STATUS_RUNNING, "running", 10, 0);
	ck_assert_ptr_eq(pr->r.first_failed, &pr->tasks[2].r);
	ck_assert_int_eq(result_set(b, STATUS_DONE, "b ok", 40), 0);
	expect_log(&log, 4, b, &pr->tasks[1].r, &pr->r, &e->r);
	expect_state(&pr->r, STATUS_RUNTIME_ERROR, "task c: c died", 10, 40);
	expect_state(&e->r, STATUS_RUNTIME_ERROR, "task c: c died", 10, 40);
	execution_free(e);

	/* All three DONE. */
	e = execution_new(2, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	ck_assert_int_eq(result_set(&pr->tasks[2].inst[0]->r, STATUS_DONE,
	    "ok", 10), 0);
	ck_assert_int_eq(result_set(&pr->tasks[0].inst[0]->r, STATUS_DONE,
	    "ok", 20), 0);
	expect_log(&log, 4, &pr->tasks[2].inst[0]->r, &pr->tasks[2].r,
	    &pr->tasks[0].inst[0]->r, &pr->tasks[0].r);
	ck_assert_int_eq(result_set(&pr->tasks[1].inst[0]->r, STATUS_DONE,
	    "ok", 30), 0);
	expect_log(&log, 4, &pr->tasks[1].inst[0]->r, &pr->tasks[1].r,
	    &pr->r, &e->r);
	expect_state(&pr->r, STATUS_DONE, "all 3 tasks done", 0, 30);
	expect_state(&e->r, STATUS_DONE, "all 3 tasks done", 0, 30);
	ck_assert_ptr_null(pr->r.first_failed);
	execution_free(e);

	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_running_propagation)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct cblog		 log = { 0 };
	struct result		*i0, *i1, *i2;

	snprintf(ctx, sizeof ctx, "running");
	p = make_pipeline(1, "build");
	p->tasks[0].iterate = make_items(3);
	e = execution_new(3, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	te = &pr->tasks[0];
	i0 = &te->inst[0]->r;
	i1 = &te->inst[1]->r;
	i2 = &te->inst[2]->r;

	/* The first instance to start (not the first by index) starts all. */
	ck_assert_int_eq(result_set(i1, STATUS_RUNNING, "attempt 1", 500), 0);
	expect_log(&log, 4, i1, &te->r, &pr->r, &e->r);
	expect_state(i1, STATUS_RUNNING, "attempt 1", 500, 0);
	expect_state(&te->r, STATUS_RUNNING, "running", 500, 0);
	expect_state(&pr->r, STATUS_RUNNING, "running", 500, 0);
	expect_state(&e->r, STATUS_RUNNING, "running", 500, 0);
	expect_state(i0, STATUS_PENDING, "pending", 0, 0);

	/* The second emits only itself; the parents keep their start. */
	ck_assert_int_eq(result_set(i0, STATUS_RUNNING, "attempt 1", 600), 0);
	expect_log(&log, 1, i0);
	expect_state(i0, STATUS_RUNNING, "attempt 1", 600, 0);
	expect_state(&te->r, STATUS_RUNNING, "running", 500, 0);
	expect_state(&e->r, STATUS_RUNNING, "running", 500, 0);

	/* RUNNING again is no change. */
	ck_assert_int_eq(result_set(i1, STATUS_RUNNING, "again", 700), -1);
	expect_log(&log, 0);
	expect_state(i1, STATUS_RUNNING, "attempt 1", 500, 0);

	/* A child ending early does not move the parents. */
	ck_assert_int_eq(result_set(i2, STATUS_CANCELLED, "skipped", 800), 0);
	expect_log(&log, 1, i2);
	expect_state(i2, STATUS_CANCELLED, "skipped", 0, 800);
	expect_state(&te->r, STATUS_RUNNING, "running", 500, 0);

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_running_stops_at_running)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr0, *pr1;
	struct task_execution	*te;
	struct task_result	*tr;
	struct node		*item;
	struct cblog		 log = { 0 };

	snprintf(ctx, sizeof ctx, "running stops");
	p = make_pipeline(2, "build", "fan");
	p->iterate = make_items(2);
	p->tasks[1].iterate_command = xstrdup("ls");
	e = execution_new(4, p, record, &log);
	pr0 = execution_add_result(e, p->iterate->kids[0], 1);
	pr1 = execution_add_result(e, p->iterate->kids[1], 1);
	result_seal(&e->r, 1);
	expect_log(&log, 0);

	/* pr0 starts the execution; pr1 then starts only itself. */
	ck_assert_int_eq(result_set(&pr0->tasks[0].inst[0]->r,
	    STATUS_RUNNING, "go", 10), 0);
	expect_log(&log, 4, &pr0->tasks[0].inst[0]->r, &pr0->tasks[0].r,
	    &pr0->r, &e->r);
	ck_assert_int_eq(result_set(&pr1->tasks[0].inst[0]->r,
	    STATUS_RUNNING, "go", 20), 0);
	expect_log(&log, 3, &pr1->tasks[0].inst[0]->r, &pr1->tasks[0].r,
	    &pr1->r);
	expect_state(&pr1->r, STATUS_RUNNING, "running", 20, 0);
	expect_state(&e->r, STATUS_RUNNING, "running", 10, 0);

	/* A task execution made RUNNING itself (its iterator command runs). */
	te = &pr0->tasks[1];
	ck_assert_uint_eq(te->ninst, 0);
	ck_assert(!te->r.sealed);
	ck_assert_int_eq(result_set(&te->r, STATUS_RUNNING, "listing items",
	    30), 0);
	expect_log(&log, 1, &te->r);
	expect_state(&te->r, STATUS_RUNNING, "listing items", 30, 0);

	/* Its instances arrive later, and emit only themselves. */
	item = node_new_str("x", 1);
	tr = execution_add_instance(te, item);
	node_free(item);
	ck_assert_uint_eq(tr->index, 0);
	ck_assert_ptr_eq(tr->te, te);
	ck_assert_int_eq(tr->exit_code, -1);
	ck_assert(node_is_str(tr->object, "x"));
	expect_state(&tr->r, STATUS_PENDING, "pending", 0, 0);
	expect_log(&log, 0);
	ck_assert_int_eq(result_set(&tr->r, STATUS_RUNNING, "go", 40), 0);
	expect_log(&log, 1, &tr->r);
	expect_state(&te->r, STATUS_RUNNING, "listing items", 30, 0);

	/* The same in pr1, whose fan task is still PENDING. */
	te = &pr1->tasks[1];
	ck_assert_int_eq(result_set(&te->r, STATUS_RUNNING, "listing", 50), 0);
	expect_log(&log, 1, &te->r);

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_running_parent_directly)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct cblog		 log = { 0 };

	/* A PENDING task execution made RUNNING starts its ancestors. */
	snprintf(ctx, sizeof ctx, "running parent");
	p = make_pipeline(1, "fan");
	p->tasks[0].iterate_command = xstrdup("seq 3");
	e = execution_new(5, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	te = &pr->tasks[0];
	ck_assert_int_eq(result_set(&te->r, STATUS_RUNNING, "listing items",
	    30), 0);
	expect_log(&log, 3, &te->r, &pr->r, &e->r);
	expect_state(&pr->r, STATUS_RUNNING, "running", 30, 0);
	expect_state(&e->r, STATUS_RUNNING, "running", 30, 0);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_advance_only)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct result		*r;
	struct cblog		 log = { 0 };
	enum status		 from, to;
	int64_t			 started, completed;
	char			*msg, *temsg;
	bool			 leaf = _i == 0;
	int			 rc;

	/*
	 * Every (from, to) pair on a task result (_i == 0) and on a task
	 * execution without children (_i == 1).
	 */
	p = make_pipeline(1, "t");
	if (!leaf)
		p->tasks[0].iterate_command = xstrdup("ls");
	for (from = 0; from < STATUS_COUNT; from++) {
		for (to = 0; to < STATUS_COUNT; to++) {
			snprintf(ctx, sizeof ctx, "%s %s -> %s",
			    leaf ? "task result" : "task execution",
			    status_name(from), status_name(to));
			e = execution_new(6, p, record, &log);
			pr = execution_add_result(e, NULL, 1);
			te = &pr->tasks[0];
			r = leaf ? &te->inst[0]->r : &te->r;
			if (from != STATUS_PENDING) {
				if (status_is_final(from))
					expect(result_set(r, STATUS_RUNNING,
					    "before", 5) == 0);
				expect(result_set(r, from, "from", 10) == 0);
			}
			expect_status(r->status, from);
			log_clear(&log);
			msg = xstrdup(r->message);
			temsg = xstrdup(te->r.message);
			started = r->started_us;
			completed = r->completed_us;

			rc = result_set(r, to, "to", 20);
			if (!may_change(from, to)) {
				expect_int(rc, -1);
				expect_state(r, from, msg, started, completed);
				expect_str(te->r.message, temsg);
				expect_log(&log, 0);
			} else {
				expect_int(rc, 0);
				expect_state(r, to, "to",
				    to == STATUS_RUNNING ? 20 : started,
				    status_is_final(to) ? 20 : 0);
				expect(log.n >= 1 && log.v[0].r == r);
				if (status_is_final(to))
					expect(r->sealed);
			}
			free(msg);
			free(temsg);
			log_clear(&log);
			execution_free(e);
		}
	}
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_direct_finalize)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*build, *fan;
	struct task_result	*tr;
	struct cblog		 log = { 0 };

	/* A fan task cancelled before its iterator ran. */
	snprintf(ctx, sizeof ctx, "direct cancel");
	p = make_pipeline(2, "build", "fan");
	p->tasks[1].iterate_command = xstrdup("ls");
	e = execution_new(8, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	build = &pr->tasks[0];
	fan = &pr->tasks[1];
	ck_assert(!fan->r.sealed);
	tr = build->inst[0];
	ck_assert_int_eq(result_set(&tr->r, STATUS_RUNNING, "go", 10), 0);
	expect_log(&log, 4, &tr->r, &build->r, &pr->r, &e->r);
	ck_assert_int_eq(result_set(&tr->r, STATUS_DONE, "ok", 20), 0);
	expect_log(&log, 2, &tr->r, &build->r);
	expect_state(&build->r, STATUS_DONE, "ok", 10, 20);
	expect_state(&pr->r, STATUS_RUNNING, "running", 10, 0);

	ck_assert_int_eq(result_set(&fan->r, STATUS_CANCELLED,
	    "cancelled by request", 30), 0);
	expect_log(&log, 3, &fan->r, &pr->r, &e->r);
	expect_state(&fan->r, STATUS_CANCELLED, "cancelled by request", 0, 30);
	ck_assert(fan->r.sealed);
	expect_state(&pr->r, STATUS_CANCELLED,
	    "task fan: cancelled by request", 10, 30);
	expect_state(&e->r, STATUS_CANCELLED,
	    "task fan: cancelled by request", 10, 30);
	ck_assert_ptr_eq(pr->r.first_failed, &fan->r);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_direct_finalize_refused)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*fan;
	struct task_result	*t0, *t1;
	struct cblog		 log = { 0 };
	enum status		 st;

	snprintf(ctx, sizeof ctx, "direct refused");
	p = make_pipeline(1, "fan");
	p->tasks[0].iterate_command = xstrdup("ls");
	e = execution_new(9, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	fan = &pr->tasks[0];
	t0 = execution_add_instance(fan, NULL);
	t1 = execution_add_instance(fan, NULL);
	ck_assert_uint_eq(t1->index, 1);
	ck_assert_uint_eq(fan->r.nchildren, 2);
	ck_assert_int_eq(result_set(&t0->r, STATUS_RUNNING, "go", 10), 0);
	expect_log(&log, 4, &t0->r, &fan->r, &pr->r, &e->r);

	/* A RUNNING child (and a PENDING one): no level may be finalized. */
	for (st = STATUS_DONE; st < STATUS_COUNT; st++) {
		ck_assert_int_eq(result_set(&fan->r, st, "no", 20), -1);
		ck_assert_int_eq(result_set(&pr->r, st, "no", 20), -1);
		ck_assert_int_eq(result_set(&e->r, st, "no", 20), -1);
	}
	expect_log(&log, 0);
	expect_state(&fan->r, STATUS_RUNNING, "running", 10, 0);
	ck_assert(!fan->r.sealed);
	expect_state(&pr->r, STATUS_RUNNING, "running", 10, 0);
	expect_state(&e->r, STATUS_RUNNING, "running", 10, 0);

	/* Only a PENDING child left: still refused. */
	ck_assert_int_eq(result_set(&t0->r, STATUS_DONE, "ok", 30), 0);
	expect_log(&log, 1, &t0->r);
	ck_assert_int_eq(result_set(&fan->r, STATUS_CANCELLED, "no", 35), -1);
	expect_log(&log, 0);

	/*
	 * All children final but the parent unsealed (the iterator command
	 * is still running): it stays RUNNING, and may now be finalized
	 * directly, with the status given, not the children's.
	 */
	ck_assert_int_eq(result_set(&t1->r, STATUS_CANCELLED, "skipped", 40),
	    0);
	expect_log(&log, 1, &t1->r);
	expect_state(&fan->r, STATUS_RUNNING, "running", 10, 0);
	/* A child failed: the parent cannot be called DONE. */
	ck_assert_int_eq(result_set(&fan->r, STATUS_DONE, "no", 45), -1);
	expect_log(&log, 0);
	ck_assert_int_eq(result_set(&fan->r, STATUS_RUNTIME_ERROR,
	    "iterate_command: exit status 2", 50), 0);
	expect_log(&log, 3, &fan->r, &pr->r, &e->r);
	expect_state(&fan->r, STATUS_RUNTIME_ERROR,
	    "iterate_command: exit status 2", 10, 50);
	expect_state(&pr->r, STATUS_RUNTIME_ERROR,
	    "task fan: iterate_command: exit status 2", 10, 50);
	expect_state(&e->r, STATUS_RUNTIME_ERROR,
	    "task fan: iterate_command: exit status 2", 10, 50);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_direct_finalize_execution)
{
	struct pipeline		*p;
	struct execution	*e;
	struct cblog		 log = { 0 };

	/* An execution cancelled while queued, before any result exists. */
	snprintf(ctx, sizeof ctx, "direct execution");
	p = make_pipeline(1, "build");
	p->iterate_command = xstrdup("ls");
	e = execution_new(10, p, record, &log);
	ck_assert_int_eq(result_set(&e->r, STATUS_CANCELLED,
	    "cancelled while queued", 15), 0);
	expect_log(&log, 1, &e->r);
	expect_state(&e->r, STATUS_CANCELLED, "cancelled while queued", 0, 15);
	ck_assert(e->r.sealed);
	ck_assert_int_eq(result_set(&e->r, STATUS_DONE, "x", 16), -1);
	result_seal(&e->r, 17);
	expect_log(&log, 0);
	expect_state(&e->r, STATUS_CANCELLED, "cancelled while queued", 0, 15);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_empty_task_iterator)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct cblog		 log = { 0 };

	/* iterate_command printed nothing: sealing with no instances. */
	snprintf(ctx, sizeof ctx, "empty task iterator");
	p = make_pipeline(1, "fan");
	p->tasks[0].iterate_command = xstrdup("true");
	e = execution_new(11, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	te = &pr->tasks[0];
	expect_log(&log, 0);
	expect_state(&te->r, STATUS_PENDING, "pending", 0, 0);
	expect_state(&pr->r, STATUS_PENDING, "pending", 0, 0);
	result_seal(&te->r, 300);
	expect_log(&log, 3, &te->r, &pr->r, &e->r);
	expect_state(&te->r, STATUS_DONE, "no items: nothing to run", 0, 300);
	expect_state(&pr->r, STATUS_DONE, "the 1 task done", 0, 300);
	expect_state(&e->r, STATUS_DONE, "the 1 task done", 0, 300);
	execution_free(e);

	/* The same after the iterator command ran. */
	e = execution_new(12, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	te = &pr->tasks[0];
	ck_assert_int_eq(result_set(&te->r, STATUS_RUNNING, "listing", 100),
	    0);
	expect_log(&log, 3, &te->r, &pr->r, &e->r);
	result_seal(&te->r, 300);
	expect_log(&log, 3, &te->r, &pr->r, &e->r);
	expect_state(&te->r, STATUS_DONE, "no items: nothing to run", 100,
	    300);
	expect_state(&e->r, STATUS_DONE, "the 1 task done", 100, 300);
	execution_free(e);

	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_empty_pipeline_iterator)
{
	struct pipeline		*p;
	struct execution	*e;
	struct cblog		 log = { 0 };

	/* _i == 0: iterate_command; _i == 1: an empty static list. */
	snprintf(ctx, sizeof ctx, "empty pipeline iterator %d", _i);
	p = make_pipeline(1, "build");
	if (_i == 0)
		p->iterate_command = xstrdup("true");
	else
		p->iterate = make_items(0);
	e = execution_new(13, p, record, &log);
	expect_state(&e->r, STATUS_PENDING, "pending", 0, 0);
	ck_assert(!e->r.sealed);
	result_seal(&e->r, 400);
	expect_log(&log, 1, &e->r);
	expect_state(&e->r, STATUS_DONE, "no items: nothing to run", 0, 400);
	ck_assert_uint_eq(e->nresults, 0);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_empty_static_list)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct cblog		 log = { 0 };

	/*
	 * A task with "iterate: []" (the loader accepts an empty list).
	 * execution_add_result() leaves its task execution open: it ends
	 * when its turn comes (the walker seals it then), so that a parent
	 * failing first still cancels it.  Sealed, with no children, it is
	 * DONE at once.
	 */
	snprintf(ctx, sizeof ctx, "empty static list");
	p = make_pipeline(1, "fan");
	p->tasks[0].iterate = make_items(0);
	e = execution_new(14, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	te = &pr->tasks[0];
	ck_assert_uint_eq(te->ninst, 0);
	ck_assert(!te->r.sealed);
	expect_status(te->r.status, STATUS_PENDING);
	result_seal(&te->r, 1);
	ck_assert(te->r.sealed);
	expect_status(te->r.status, STATUS_DONE);
	expect_str(te->r.message, "no items: nothing to run");
	expect_status(pr->r.status, STATUS_DONE);
	expect_str(pr->r.message, "the 1 task done");
	log_clear(&log);
	result_seal(&e->r, 500);
	expect_status(e->r.status, STATUS_DONE);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_pipeline_results)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr[3];
	struct cblog		 log = { 0 };
	struct result		*tr[3];
	uint32_t		 i;

	snprintf(ctx, sizeof ctx, "pipeline results");
	p = make_pipeline(1, "build");
	p->iterate = make_items(3);
	e = execution_new(15, p, record, &log);
	for (i = 0; i < 3; i++) {
		pr[i] = execution_add_result(e, p->iterate->kids[i], 1);
		ck_assert_uint_eq(pr[i]->index, i);
		ck_assert_ptr_ne(pr[i]->object, p->iterate->kids[i]);
		ck_assert(node_equal(pr[i]->object, p->iterate->kids[i]));
		ck_assert_ptr_eq(pr[i]->tasks[0].pr, pr[i]);
		tr[i] = &pr[i]->tasks[0].inst[0]->r;
	}
	ck_assert_uint_eq(e->nresults, 3);
	ck_assert_uint_eq(e->r.nchildren, 3);
	result_seal(&e->r, 5);
	expect_log(&log, 0);

	ck_assert_int_eq(result_set(tr[0], STATUS_RUNNING, "go", 10), 0);
	expect_log(&log, 4, tr[0], &pr[0]->tasks[0].r, &pr[0]->r, &e->r);
	ck_assert_int_eq(result_set(tr[1], STATUS_RUNNING, "go", 11), 0);
	expect_log(&log, 3, tr[1], &pr[1]->tasks[0].r, &pr[1]->r);
	ck_assert_int_eq(result_set(tr[2], STATUS_RUNNING, "go", 12), 0);
	expect_log(&log, 3, tr[2], &pr[2]->tasks[0].r, &pr[2]->r);

	/* pr 1 fails first: the execution keeps running. */
	ck_assert_int_eq(result_set(tr[1], STATUS_VALIDATION_ERROR,
	    "bad input", 20), 0);
	expect_log(&log, 3, tr[1], &pr[1]->tasks[0].r, &pr[1]->r);
	expect_state(&pr[1]->r, STATUS_VALIDATION_ERROR,
	    "task build: bad input", 11, 20);
	expect_state(&e->r, STATUS_RUNNING, "running", 10, 0);

	/* pr 0 fails second, differently: still running. */
	ck_assert_int_eq(result_set(tr[0], STATUS_RUNTIME_ERROR, "exit 3",
	    30), 0);
	expect_log(&log, 3, tr[0], &pr[0]->tasks[0].r, &pr[0]->r);
	expect_state(&e->r, STATUS_RUNNING, "running", 10, 0);
	ck_assert_ptr_eq(e->r.first_failed, &pr[1]->r);

	/* pr 2 succeeds last: the execution takes pr 1's failure. */
	ck_assert_int_eq(result_set(tr[2], STATUS_DONE, "ok", 40), 0);
	expect_log(&log, 4, tr[2], &pr[2]->tasks[0].r, &pr[2]->r, &e->r);
	expect_state(&pr[2]->r, STATUS_DONE, "the 1 task done", 12, 40);
	expect_state(&e->r, STATUS_VALIDATION_ERROR,
	    "pipeline result 1: task build: bad input", 10, 40);

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_pipeline_results_seal_late)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr0, *pr1;
	struct cblog		 log = { 0 };

	/*
	 * Results finish while the iterator still runs: the execution waits
	 * for its seal.  All DONE, and a single result under an iterator is
	 * still counted, not copied.
	 */
	snprintf(ctx, sizeof ctx, "seal late");
	p = make_pipeline(1, "build");
	p->iterate_command = xstrdup("ls");
	e = execution_new(16, p, record, &log);
	pr0 = execution_add_result(e, NULL, 1);
	ck_assert_ptr_null(pr0->object);
	ck_assert_int_eq(result_set(&pr0->tasks[0].inst[0]->r, STATUS_DONE,
	    "ok", 10), 0);
	expect_log(&log, 3, &pr0->tasks[0].inst[0]->r, &pr0->tasks[0].r,
	    &pr0->r);
	expect_state(&e->r, STATUS_PENDING, "pending", 0, 0);
	result_seal(&e->r, 20);
	expect_log(&log, 1, &e->r);
	expect_state(&e->r, STATUS_DONE, "the 1 pipeline result done", 0,
	    20);
	execution_free(e);

	/* Two results, one CANCELLED, sealed after both ended. */
	e = execution_new(17, p, record, &log);
	pr0 = execution_add_result(e, NULL, 1);
	pr1 = execution_add_result(e, NULL, 1);
	ck_assert_int_eq(result_set(&pr1->tasks[0].inst[0]->r,
	    STATUS_CANCELLED, "stopped", 10), 0);
	ck_assert_int_eq(result_set(&pr0->tasks[0].inst[0]->r, STATUS_DONE,
	    "ok", 20), 0);
	log_clear(&log);
	expect_state(&e->r, STATUS_PENDING, "pending", 0, 0);
	result_seal(&e->r, 30);
	expect_log(&log, 1, &e->r);
	expect_state(&e->r, STATUS_CANCELLED,
	    "pipeline result 1: task build: stopped", 0, 30);
	execution_free(e);

	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_note)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct result		*t0, *t1;
	struct cblog		 log = { 0 };

	snprintf(ctx, sizeof ctx, "note");
	p = make_pipeline(1, "build");
	p->tasks[0].iterate = make_items(2);
	e = execution_new(18, p, record, &log);
	pr = execution_add_result(e, NULL, 1);
	result_seal(&e->r, 1);
	te = &pr->tasks[0];
	t0 = &te->inst[0]->r;
	t1 = &te->inst[1]->r;

	/* On PENDING and RUNNING objects: the object alone, status kept. */
	ck_assert_int_eq(result_note(t0, "waiting for a slot"), 0);
	expect_log(&log, 1, t0);
	expect_state(t0, STATUS_PENDING, "waiting for a slot", 0, 0);
	ck_assert_int_eq(result_set(t0, STATUS_RUNNING, "attempt 1", 10), 0);
	expect_log(&log, 4, t0, &te->r, &pr->r, &e->r);
	ck_assert_int_eq(result_note(t0, "attempt 2 of 3"), 0);
	expect_log(&log, 1, t0);
	expect_state(t0, STATUS_RUNNING, "attempt 2 of 3", 10, 0);
	ck_assert_int_eq(result_note(&te->r, "1 of 2 running"), 0);
	expect_log(&log, 1, &te->r);
	expect_state(&te->r, STATUS_RUNNING, "1 of 2 running", 10, 0);
	ck_assert_int_eq(result_note(&e->r, "busy"), 0);
	expect_log(&log, 1, &e->r);

	/* On final objects: refused, nothing changes. */
	ck_assert_int_eq(result_set(t0, STATUS_DONE, "ok", 20), 0);
	expect_log(&log, 1, t0);
	ck_assert_int_eq(result_note(t0, "late"), -1);
	expect_log(&log, 0);
	expect_state(t0, STATUS_DONE, "ok", 10, 20);
	ck_assert_int_eq(result_set(t1, STATUS_DONE, "ok", 30), 0);
	expect_log(&log, 4, t1, &te->r, &pr->r, &e->r);
	ck_assert_int_eq(result_note(&te->r, "late"), -1);
	ck_assert_int_eq(result_note(&pr->r, "late"), -1);
	ck_assert_int_eq(result_note(&e->r, "late"), -1);
	expect_log(&log, 0);
	expect_state(&te->r, STATUS_DONE, "all 2 instances done", 10, 30);
	expect_state(&e->r, STATUS_DONE, "the 1 task done", 10, 30);

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_address)
{
	static const char *const want_running[] = {
		"42/1/build/3", "42/1/build", "42/1", "42",
	};
	static const char *const want_done[] = {
		"42/1/lint/0", "42/1/lint",
	};
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr0, *pr1;
	struct cblog		 log = { 0 };
	char			*a;

	snprintf(ctx, sizeof ctx, "address");
	p = make_pipeline(2, "lint", "build");
	p->iterate = make_items(2);
	p->tasks[1].iterate = make_items(4);
	e = execution_new(42, p, record, &log);
	pr0 = execution_add_result(e, p->iterate->kids[0], 1);
	pr1 = execution_add_result(e, p->iterate->kids[1], 1);

	a = result_address(&e->r);
	ck_assert_str_eq(a, "42");
	free(a);
	a = result_address(&pr1->r);
	ck_assert_str_eq(a, "42/1");
	free(a);
	a = result_address(&pr0->r);
	ck_assert_str_eq(a, "42/0");
	free(a);
	a = result_address(&pr1->tasks[1].r);
	ck_assert_str_eq(a, "42/1/build");
	free(a);
	a = result_address(&pr1->tasks[0].r);
	ck_assert_str_eq(a, "42/1/lint");
	free(a);
	a = result_address(&pr1->tasks[1].inst[3]->r);
	ck_assert_str_eq(a, "42/1/build/3");
	free(a);
	a = result_address(&pr0->tasks[0].inst[0]->r);
	ck_assert_str_eq(a, "42/0/lint/0");
	free(a);

	/* The callback order, by address: object first, then ancestors. */
	ck_assert_int_eq(result_set(&pr1->tasks[1].inst[3]->r,
	    STATUS_RUNNING, "go", 10), 0);
	expect_log_addresses(&log, want_running, 4);
	ck_assert_int_eq(result_set(&pr1->tasks[0].inst[0]->r, STATUS_DONE,
	    "ok", 20), 0);
	expect_log_addresses(&log, want_done, 2);
	ck_assert_int_eq(result_set(&pr1->tasks[1].inst[0]->r,
	    STATUS_CANCELLED, "x", 30), 0);
	ck_assert_int_eq(result_set(&pr1->tasks[1].inst[1]->r,
	    STATUS_CANCELLED, "x", 31), 0);
	ck_assert_int_eq(result_set(&pr1->tasks[1].inst[2]->r,
	    STATUS_CANCELLED, "x", 32), 0);
	log_clear(&log);
	ck_assert_int_eq(result_set(&pr1->tasks[1].inst[3]->r,
	    STATUS_CANCELLED, "x", 33), 0);
	expect_log_addresses(&log, want_running, 3);
	expect_state(&pr1->r, STATUS_CANCELLED,
	    "task build: instance 0 failed: x", 10, 33);
	execution_free(e);

	/* The extremes of the id. */
	e = execution_new(UINT64_MAX, p, NULL, NULL);
	pr0 = execution_add_result(e, NULL, 1);
	a = result_address(&pr0->tasks[1].inst[2]->r);
	ck_assert_str_eq(a, "18446744073709551615/0/build/2");
	free(a);
	/* No callback set: changes still happen. */
	ck_assert_int_eq(result_set(&pr0->tasks[1].inst[2]->r,
	    STATUS_RUNNING, "go", 10), 0);
	ck_assert_int_eq(e->r.status, STATUS_RUNNING);
	execution_free(e);
	e = execution_new(0, p, NULL, NULL);
	a = result_address(&e->r);
	ck_assert_str_eq(a, "0");
	free(a);
	execution_free(e);

	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_structure)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct task_result	*tr;
	struct cblog		 log = { 0 };
	uint32_t		 i, k;

	/* Levels, links, counts and initial state of a fresh execution. */
	p = make_pipeline(3, "a", "b", "c");
	p->tasks[1].iterate = make_items(3);
	p->tasks[2].iterate_command = xstrdup("ls");
	e = execution_new(77, p, record, &log);
	ck_assert_int_eq(e->r.level, LEVEL_EXECUTION);
	ck_assert_ptr_eq(e->r.exec, e);
	ck_assert_ptr_null(e->r.parent);
	ck_assert_uint_eq(e->id, 77);
	ck_assert_ptr_eq(e->def, p);
	ck_assert_str_eq(e->r.message, "pending");
	pr = execution_add_result(e, NULL, 1);
	ck_assert_ptr_eq(e->results[0], pr);
	ck_assert_int_eq(pr->r.level, LEVEL_PIPELINE_RESULT);
	ck_assert_ptr_eq(pr->r.parent, &e->r);
	ck_assert_uint_eq(pr->r.nchildren, 3);
	ck_assert(pr->r.sealed);
	ck_assert(!e->r.sealed);
	for (i = 0; i < 3; i++) {
		te = &pr->tasks[i];
		ck_assert_int_eq(te->r.level, LEVEL_TASK_EXECUTION);
		ck_assert_ptr_eq(te->r.parent, &pr->r);
		ck_assert_ptr_eq(te->r.exec, e);
		ck_assert_uint_eq(te->task, i);
		ck_assert_int_eq(te->r.status, STATUS_PENDING);
		ck_assert_str_eq(te->r.message, "pending");
		ck_assert_uint_eq(te->r.nchildren, te->ninst);
		ck_assert_uint_eq(te->r.nfinal, 0);
		ck_assert(te->r.sealed == (i != 2));
		for (k = 0; k < te->ninst; k++) {
			tr = te->inst[k];
			ck_assert_int_eq(tr->r.level, LEVEL_TASK_RESULT);
			ck_assert_ptr_eq(tr->r.parent, &te->r);
			ck_assert_ptr_eq(tr->r.exec, e);
			ck_assert_ptr_eq(tr->te, te);
			ck_assert_uint_eq(tr->index, k);
			ck_assert_int_eq(tr->r.status, STATUS_PENDING);
			ck_assert_str_eq(tr->r.message, "pending");
			ck_assert_int_eq(tr->r.started_us, 0);
			ck_assert_int_eq(tr->r.completed_us, 0);
			ck_assert_int_eq(tr->exit_code, -1);
			ck_assert_int_eq(tr->signal, 0);
			ck_assert_int_eq(tr->pid, 0);
			ck_assert_uint_eq(tr->attempts, 0);
			if (i == 1) {
				ck_assert_ptr_ne(tr->object,
				    p->tasks[1].iterate->kids[k]);
				ck_assert(node_equal(tr->object,
				    p->tasks[1].iterate->kids[k]));
			} else
				ck_assert_ptr_null(tr->object);
		}
	}
	ck_assert_uint_eq(pr->tasks[0].ninst, 1);
	ck_assert_uint_eq(pr->tasks[1].ninst, 3);
	ck_assert_uint_eq(pr->tasks[2].ninst, 0);
	ck_assert_uint_eq(log.n, 0);

	ck_assert_str_eq(result_level_name(LEVEL_EXECUTION), "execution");
	ck_assert_str_eq(result_level_name(LEVEL_PIPELINE_RESULT),
	    "pipeline_result");
	ck_assert_str_eq(result_level_name(LEVEL_TASK_EXECUTION),
	    "task_execution");
	ck_assert_str_eq(result_level_name(LEVEL_TASK_RESULT), "task_result");
	ck_assert_str_eq(result_level_name((enum level)4), "unknown");

	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

START_TEST(test_free)
{
	struct pipeline		*p;
	struct execution	*e;
	struct pipeline_result	*pr;
	struct node		*obj;
	struct cblog		 log = { 0 };
	uint32_t		 i, k;

	execution_free(NULL);

	/*
	 * A half-run execution with every kind of object: items copied from
	 * the caller's nodes (freed here first), instances added later,
	 * messages replaced.  ASan reports anything left behind.
	 */
	p = make_pipeline(2, "list", "fan");
	p->iterate = make_items(3);
	p->tasks[0].iterate = make_items(2);
	p->tasks[1].iterate_command = xstrdup("ls");
	e = execution_new(99, p, record, &log);
	for (i = 0; i < 3; i++) {
		obj = node_new(NODE_MAP);
		node_map_set_str(obj, "n", node_new_int(i));
		pr = execution_add_result(e, obj, 1);
		node_free(obj);
		for (k = 0; k < 5; k++) {
			obj = make_items(k);
			execution_add_instance(&pr->tasks[1], obj);
			node_free(obj);
		}
		ck_assert_int_eq(result_set(&pr->tasks[1].inst[i]->r,
		    STATUS_RUNNING, "go", 10), 0);
		ck_assert_int_eq(result_note(&pr->tasks[1].inst[i]->r,
		    "retrying"), 0);
		ck_assert_int_eq(result_set(&pr->tasks[0].inst[0]->r,
		    STATUS_DONE, "ok", 20), 0);
	}
	ck_assert_uint_eq(e->nresults, 3);
	ck_assert_int_eq(node_map_get(e->results[2]->object, "n")->i, 2);
	ck_assert_uint_eq(e->results[1]->tasks[1].inst[4]->object->nkids, 4);
	execution_free(e);
	pipeline_free(p);
	log_free(&log);
}
END_TEST

/* The execution left behind by the fatal test, reachable for LSan. */
static struct execution	*fatal_exec;
static struct pipeline	*fatal_pipeline;

/* Swallow the fatal line, exiting 2 (failing the test) if it is not ours. */
static void
fatal_hook(enum log_level level, const char *line, void *arg)
{
	if (level != LOG_LEVEL_ERR || strcmp(line,
	    "result: child added to a sealed task_execution") != 0)
		_exit(2);
}

START_TEST(test_fatal_add_to_sealed)
{
	struct pipeline_result	*pr;

	/* A finalized (so sealed) task execution takes no more instances. */
	log_set_hook(fatal_hook, NULL);
	fatal_pipeline = make_pipeline(1, "fan");
	fatal_pipeline->tasks[0].iterate_command = xstrdup("ls");
	fatal_exec = execution_new(1, fatal_pipeline, NULL, NULL);
	pr = execution_add_result(fatal_exec, NULL, 1);
	ck_assert_int_eq(result_set(&pr->tasks[0].r, STATUS_CANCELLED, "x",
	    10), 0);
	execution_add_instance(&pr->tasks[0], NULL);
}
END_TEST

/* All the result tests; the exit test only when tests run in a child. */
static Suite *
result_suite(bool forking)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("result");

	tc = tcase_create("rollup");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_rollup_every_mix, 1, 5);
	tcase_add_loop_test(tc, test_rollup_no_iterator, 0, NFINALS);
	tcase_add_test(tc, test_rollup_tasks_in_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("running");
	tcase_add_test(tc, test_running_propagation);
	tcase_add_test(tc, test_running_stops_at_running);
	tcase_add_test(tc, test_running_parent_directly);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_advance_only, 0, 2);
	tcase_add_test(tc, test_direct_finalize);
	tcase_add_test(tc, test_direct_finalize_refused);
	tcase_add_test(tc, test_direct_finalize_execution);
	if (forking)
		tcase_add_exit_test(tc, test_fatal_add_to_sealed, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("empty");
	tcase_add_test(tc, test_empty_task_iterator);
	tcase_add_loop_test(tc, test_empty_pipeline_iterator, 0, 2);
	tcase_add_test(tc, test_empty_static_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("results");
	tcase_add_test(tc, test_pipeline_results);
	tcase_add_test(tc, test_pipeline_results_seal_late);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_note);
	tcase_add_test(tc, test_address);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_free);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(NULL);
	srunner_add_suite(sr, result_suite(srunner_fork_status(sr) !=
	    CK_NOFORK));
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
