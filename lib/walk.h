/*
 * The walker: one execution's progress through its graph under the four
 * rules (docs/runners.md, "The rules every runner keeps"), shared by
 * every runner.
 *
 * A runner decides where and when a task result runs; the walker decides
 * which may run and what follows from each outcome:
 *
 *  1. a task becomes ready only when all its parents are DONE (one
 *     TopologicalSorter per pipeline result);
 *  2. parentless tasks are ready at once;
 *  3. pipeline results progress independently (or one after another for
 *     a sequential runner);
 *  4. when an instance of an iterator task fails, its unfinished siblings
 *     are stopped or cancelled, and its children are cancelled.
 *
 * It also checks required inputs, runs iterator commands, applies the
 * failure policy (keep_going), retries with their delay, and user cancels.
 * All status changes go through the result model, so the reporter sees
 * every one; the walker keeps only transient state, freed when the
 * execution is final.  A runner gives the walker a struct walk_ops
 * (<pipelined/runner.h>).
 */
#ifndef PL_WALK_H
#define PL_WALK_H

#include <stdbool.h>
#include <sys/types.h>

#include <pipelined/runner.h>

struct event_base;
struct execution;
struct outcome;
struct result;
struct runas;
struct task_result;

struct walk_host {
	struct event_base	*base;
	const char		*lang;		/* the daemon's LANG, or NULL */
};

/*
 * Start walking an execution whose owner is e->uid.  Returns 0, or -1
 * with *err set (to free) when it could not start at all (no such user,
 * no iterator command); the execution is then final (CONFIG_ERROR) and
 * finished() was called.  finished() may also come before walk_start()
 * returns 0, when nothing could run (every task lacking inputs).
 */
int		 walk_start(struct execution *, const struct walk_host *,
		    const struct walk_ops *, void *arg, char **err);
/*
 * The runner is about to launch tr: it becomes RUNNING (or its next
 * attempt starts).  Returns the attempt number (1-based), or -1 when tr
 * must not run: it was cancelled while it waited, or its pipeline result
 * stopped after a failure (it is cancelled once the failed task is final).
 */
int		 walk_begin(struct task_result *);
/* The attempt's process is running as pid. */
void		 walk_started(struct task_result *, pid_t);
/* The attempt ended. */
void		 walk_exited(struct task_result *, const struct outcome *);
/*
 * Cancel an execution, pipeline result or task execution: what runs is
 * stopped, what waits is cancelled, each with the message why.  Returns
 * the number of task results and task executions affected; 0 when the
 * target was already final.
 */
int		 walk_cancel(struct result *, const char *why);
/* Who tasks of this execution run as. */
const struct runas *walk_runas(const struct execution *);
/* Whether tr has a launched attempt (between walk_begin and walk_exited). */
bool		 walk_launched(const struct task_result *);
/* The attempt being (or last) run. */
unsigned	 walk_attempt(const struct task_result *);

#endif
