/*
 * A fake runner for the walker tests (check_walk*.c): it loads a pipeline
 * from inline YAML, starts walking it, and records everything the walker
 * tells it, so that a test can act as the runner from its own body -
 * launch, report exits, fire retry timers - and compare what happened,
 * in order, with what the rules say.
 */
#ifndef PL_TESTS_WALKFAKE_H
#define PL_TESTS_WALKFAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "pipeline.h"
#include "result.h"
#include "status.h"
#include "walk.h"

struct event;
struct event_base;

/* One change the execution's change callback saw. */
struct fake_change {
	struct result	*r;
	char		*addr;
	enum status	 status;
	char		*message;
	uint64_t	 seq;
};

struct fake {
	struct event_base	 *base;
	struct event		 *tick;		/* wakes EVLOOP_ONCE up */
	struct pipeline		 *p;
	struct execution	 *e;
	struct walk_host	  host;
	struct walk_ops		  ops;
	int			  start_rc;
	char			 *start_err;
	/* ready() task results not taken yet, oldest first. */
	struct task_result	**queue;
	size_t			  nqueue;
	size_t			  capqueue;
	/* ready/stop/finished, one line each, since the last fake_ops(). */
	struct buf		  ops_log;
	struct fake_change	 *changes;
	size_t			  nchanges;
	size_t			  capchanges;
	uint64_t		  seq;		/* callbacks so far */
	int			  nfinished;
	bool			  final_at_finish;
	bool			  walk_gone_at_finish;
	pid_t			  next_pid;
	char			 *scratch;	/* the last string handed out */
	/* Optional checks, run by the callbacks (never calling the walker). */
	void	(*on_ready)(struct fake *, struct task_result *);
	void	(*on_stop)(struct fake *, struct task_result *);
};

/* Load yaml (failing the test on errors) with optional input JSON. */
struct fake	*fake_new(const char *yaml, const char *input_json,
		    bool sequential);
/* Start walking; returns walk_start()'s result. */
int		 fake_start(struct fake *);
/* Both steps at once, asserting that the walk started. */
struct fake	*fake_begin(const char *yaml, const char *input_json,
		    bool sequential);
/* Cancel what is left, stop what runs, and free everything. */
void		 fake_free(struct fake *);

/* The task result of pipeline result pr, task name, instance i. */
struct task_result *fake_tr(struct fake *, uint32_t pr, const char *task,
		    uint32_t i);
struct task_execution *fake_te(struct fake *, uint32_t pr, const char *task);
/* Remove tr from the ready queue; whether it was there. */
bool		 fake_take(struct fake *, struct task_result *);
/* Take tr from the queue and launch it: the attempt number. */
int		 fake_launch(struct fake *, struct task_result *);
/* Report an exit code, a signal, or any outcome for a launched tr. */
void		 fake_exit(struct fake *, struct task_result *, int code);
void		 fake_kill(struct fake *, struct task_result *, int sig);
void		 fake_outcome(struct fake *, struct task_result *,
		    const struct outcome *);
/* Launch every queued task result and let each exit with code. */
void		 fake_run_queue(struct fake *, int code);

/* The ready/stop/finished lines since the last call. */
const char	*fake_ops(struct fake *);
/* "STATUS message" lines of every change of the object at addr. */
const char	*fake_changes(struct fake *, const char *addr);
/* The status and message of a result, as "STATUS message". */
const char	*fake_state(struct fake *, const struct result *);

/* Run the event loop until cond(f) or timeout_ms; whether cond held. */
bool		 fake_loop_until(struct fake *, bool (*cond)(struct fake *),
		    int timeout_ms);
/* Run the event loop for ms milliseconds. */
void		 fake_loop_for(struct fake *, int ms);
bool		 fake_has_queue(struct fake *);
bool		 fake_is_finished(struct fake *);

#endif
