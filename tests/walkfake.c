/*
 * The fake runner of the walker tests.  Its callbacks only record and
 * queue, as the runner contract asks (<pipelined/runner.h>); the tests
 * then act from their own bodies.  Every helper fails the current test
 * on anything unexpected, so a test reads as the scenario it plays.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "diag.h"
#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "outcome.h"
#include "walkfake.h"
#include "xmalloc.h"

/* Hand out a string that stays valid until the next one. */
static const char *
fake_keep(struct fake *f, char *s)
{
	free(f->scratch);
	f->scratch = s;
	return s;
}

/* ready(): queue tr, after checking that it may be handed out at all. */
static void
fake_ready_cb(struct task_result *tr, void *arg)
{
	struct fake	*f = arg;
	char		*addr = result_address(&tr->r);

	ck_assert_msg(!result_is_final(&tr->r), "ready(%s) while final", addr);
	ck_assert_msg(!walk_launched(tr), "ready(%s) while launched", addr);
	buf_addf(&f->ops_log, "ready %s\n", addr);
	free(addr);
	if (f->nqueue == f->capqueue) {
		f->capqueue = f->capqueue == 0 ? 16 : f->capqueue * 2;
		f->queue = xreallocarray(f->queue, f->capqueue,
		    sizeof *f->queue);
	}
	f->queue[f->nqueue++] = tr;
	f->seq++;
	if (f->on_ready != NULL)
		f->on_ready(f, tr);
}

/* stop(): only a launched task result may be stopped. */
static void
fake_stop_cb(struct task_result *tr, void *arg)
{
	struct fake	*f = arg;
	char		*addr = result_address(&tr->r);

	ck_assert_msg(walk_launched(tr), "stop(%s) while not launched", addr);
	buf_addf(&f->ops_log, "stop %s\n", addr);
	free(addr);
	f->seq++;
	if (f->on_stop != NULL)
		f->on_stop(f, tr);
}

/* finished(): count it and note what the execution looked like. */
static void
fake_finished_cb(struct execution *e, void *arg)
{
	struct fake	*f = arg;

	ck_assert_ptr_eq(e, f->e);
	buf_adds(&f->ops_log, "finished\n");
	f->nfinished++;
	f->final_at_finish = result_is_final(&e->r);
	f->walk_gone_at_finish = e->walk == NULL;
	f->seq++;
}

/* The change callback: keep every change with its address. */
static void
fake_change_cb(struct result *r, void *arg)
{
	struct fake		*f = arg;
	struct fake_change	*c;

	if (f->nchanges == f->capchanges) {
		f->capchanges = f->capchanges == 0 ? 64 : f->capchanges * 2;
		f->changes = xreallocarray(f->changes, f->capchanges,
		    sizeof *f->changes);
	}
	c = &f->changes[f->nchanges++];
	c->r = r;
	c->addr = result_address(r);
	c->status = r->status;
	c->message = xstrdup(r->message);
	c->seq = f->seq++;
}

/* A timer that only makes EVLOOP_ONCE return now and then. */
static void
fake_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
}

/* Load the pipeline and make the execution, not started yet. */
struct fake *
fake_new(const char *yaml, const char *input_json, bool sequential)
{
	struct fake	*f;
	struct diag	*d = diag_new("t.yaml");
	struct timeval	 tv = { 0, 5000 };
	char		*err = NULL, *msg;

	f = xcalloc(1, sizeof *f);
	f->p = load_buffer(yaml, strlen(yaml), 0, d, NULL);
	if (f->p == NULL) {
		msg = diag_count(d) > 0 ? diag_format(d, 0) : xstrdup("?");
		ck_abort_msg("pipeline does not load: %s", msg);
	}
	diag_free(d);
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->tick = event_new(f->base, -1, EV_PERSIST, fake_tick_cb, NULL);
	event_add(f->tick, &tv);
	f->e = execution_new(1, f->p, fake_change_cb, f);
	f->e->owned_def = f->p;
	f->e->uid = geteuid();
	f->e->gid = getegid();
	f->e->cwd = xstrdup("/");
	if (input_json != NULL) {
		f->e->input = nodejson_decode(input_json, strlen(input_json),
		    &err);
		ck_assert_msg(f->e->input != NULL, "input: %s", err);
	} else
		f->e->input = node_new(NODE_MAP);
	f->host.base = f->base;
	f->host.lang = "C.UTF-8";
	f->ops.ready = fake_ready_cb;
	f->ops.stop = fake_stop_cb;
	f->ops.finished = fake_finished_cb;
	f->ops.sequential = sequential;
	f->next_pid = 1000;
	buf_init(&f->ops_log);
	return f;
}

/* Start the walk. */
int
fake_start(struct fake *f)
{
	f->start_rc = walk_start(f->e, &f->host, &f->ops, f, &f->start_err);
	return f->start_rc;
}

/* A started walk. */
struct fake *
fake_begin(const char *yaml, const char *input_json, bool sequential)
{
	struct fake	*f = fake_new(yaml, input_json, sequential);

	ck_assert_int_eq(fake_start(f), 0);
	return f;
}

/* Whether the execution is finished. */
bool
fake_is_finished(struct fake *f)
{
	return f->nfinished > 0;
}

/* Whether something is queued. */
bool
fake_has_queue(struct fake *f)
{
	return f->nqueue > 0;
}

/*
 * Bring an unfinished walk to its end (cancel, stop, let everything
 * exit), check that finished() came once, and free.
 */
void
fake_free(struct fake *f)
{
	struct execution	*e = f->e;
	struct task_execution	*te;
	uint32_t		 i, t, k;
	int			 rounds;

	for (rounds = 0; e->walk != NULL && rounds < 1000; rounds++) {
		walk_cancel(&e->r, "test over");
		for (i = 0; i < e->nresults; i++) {
			for (t = 0; t < e->def->ntasks; t++) {
				te = &e->results[i]->tasks[t];
				for (k = 0; k < te->ninst &&
				    e->walk != NULL; k++)
					if (walk_launched(te->inst[k]))
						fake_kill(f, te->inst[k],
						    SIGTERM);
			}
		}
		if (e->walk != NULL)
			event_base_loop(f->base, EVLOOP_ONCE);
	}
	ck_assert_msg(e->walk == NULL, "the walk does not end");
	ck_assert_int_eq(f->nfinished, 1);
	ck_assert(f->final_at_finish);
	ck_assert(f->walk_gone_at_finish);
	execution_free(e);
	for (i = 0; i < f->nchanges; i++) {
		free(f->changes[i].addr);
		free(f->changes[i].message);
	}
	free(f->changes);
	free(f->queue);
	buf_release(&f->ops_log);
	event_free(f->tick);
	event_base_free(f->base);
	free(f->start_err);
	free(f->scratch);
	free(f);
}

/* A task execution by pipeline result and task name. */
struct task_execution *
fake_te(struct fake *f, uint32_t pr, const char *task)
{
	const struct task_def	*t = pipeline_task(f->p, task);

	ck_assert_msg(t != NULL, "no task %s", task);
	ck_assert_uint_lt(pr, f->e->nresults);
	return &f->e->results[pr]->tasks[t->index];
}

/* A task result by pipeline result, task name and instance. */
struct task_result *
fake_tr(struct fake *f, uint32_t pr, const char *task, uint32_t i)
{
	struct task_execution	*te = fake_te(f, pr, task);

	ck_assert_msg(i < te->ninst, "%s has %u instances, not %u", task,
	    te->ninst, i + 1);
	return te->inst[i];
}

/* Take tr off the ready queue. */
bool
fake_take(struct fake *f, struct task_result *tr)
{
	size_t	i;

	for (i = 0; i < f->nqueue; i++) {
		if (f->queue[i] == tr) {
			memmove(&f->queue[i], &f->queue[i + 1],
			    (f->nqueue - i - 1) * sizeof *f->queue);
			f->nqueue--;
			return true;
		}
	}
	return false;
}

/* Launch a queued task result as the next fake pid. */
int
fake_launch(struct fake *f, struct task_result *tr)
{
	int	attempt;

	ck_assert_msg(fake_take(f, tr), "launching a task result that is not "
	    "queued");
	attempt = walk_begin(tr);
	ck_assert_int_gt(attempt, 0);
	ck_assert(walk_launched(tr));
	ck_assert_uint_eq(walk_attempt(tr), (unsigned)attempt);
	walk_started(tr, f->next_pid++);
	return attempt;
}

/* The attempt ended as o. */
void
fake_outcome(struct fake *f, struct task_result *tr, const struct outcome *o)
{
	ck_assert(walk_launched(tr));
	walk_exited(tr, o);
}

/* The attempt exited with code. */
void
fake_exit(struct fake *f, struct task_result *tr, int code)
{
	struct outcome	o;

	outcome_init(&o);
	o.pid = tr->pid;
	o.exit_code = code;
	fake_outcome(f, tr, &o);
}

/* The attempt was killed by sig. */
void
fake_kill(struct fake *f, struct task_result *tr, int sig)
{
	struct outcome	o;

	outcome_init(&o);
	o.pid = tr->pid;
	o.signal = sig;
	fake_outcome(f, tr, &o);
}

/* Launch everything queued (as it comes) and let it exit with code. */
void
fake_run_queue(struct fake *f, int code)
{
	struct task_result	*tr;

	while (f->nqueue > 0) {
		tr = f->queue[0];
		fake_launch(f, tr);
		fake_exit(f, tr, code);
	}
}

/* What the runner was told since the last call. */
const char *
fake_ops(struct fake *f)
{
	char	*s = xstrdup(f->ops_log.len > 0 ? f->ops_log.data : "");

	buf_reset(&f->ops_log);
	return fake_keep(f, s);
}

/* Every change of one object, one "STATUS message" line each. */
const char *
fake_changes(struct fake *f, const char *addr)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_adds(&b, "");
	for (i = 0; i < f->nchanges; i++)
		if (strcmp(f->changes[i].addr, addr) == 0)
			buf_addf(&b, "%s %s\n",
			    status_name(f->changes[i].status),
			    f->changes[i].message);
	return fake_keep(f, buf_detach(&b));
}

/* "STATUS message" of a result now. */
const char *
fake_state(struct fake *f, const struct result *r)
{
	return fake_keep(f, xprintf("%s %s", status_name(r->status),
	    r->message));
}

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t
fake_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Loop until cond holds or the time is up. */
bool
fake_loop_until(struct fake *f, bool (*cond)(struct fake *), int timeout_ms)
{
	int64_t	end = fake_now_ms() + timeout_ms;

	while (!cond(f)) {
		if (fake_now_ms() >= end)
			return false;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	return true;
}

/* Loop for a while, whatever happens. */
void
fake_loop_for(struct fake *f, int ms)
{
	int64_t	end = fake_now_ms() + ms;

	while (fake_now_ms() < end)
		event_base_loop(f->base, EVLOOP_ONCE);
}
