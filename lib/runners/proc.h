/*
 * One attempt of a task result as a local process: the output log, the
 * pipe into it, the cgroup (when there is a task root), the spawn, the
 * timeout (SIGTERM to the tree, SIGKILL after kill_grace) and stops.  It
 * ends once the process exited and its output was drained (STYLE 10);
 * what is left of its tree is killed when the leader exits.  Shared by
 * the eager and local runners.
 */
#ifndef PL_PROC_H
#define PL_PROC_H

struct cgroup_root;
struct event_base;
struct outcome;
struct proc;
struct task_result;

struct proc_host {
	struct event_base	*base;
	const char		*state_dir;
	const char		*lang;
	struct cgroup_root	*cgroots;	/* NULL: process groups only */
};

/* The attempt ended; o is valid during the call.  Then free the proc. */
typedef void (*proc_done_cb)(struct proc *, struct task_result *,
    const struct outcome *o, void *arg);

/*
 * Begin the next attempt of tr (walk_begin() decides whether it may run;
 * NULL when not); then proc_start() runs it, or proc_fail() reports that
 * it could not (error is taken).  Failures are reported through cb, later.
 */
struct proc	*proc_prepare(const struct proc_host *, struct task_result *,
		    proc_done_cb, void *arg);
void		 proc_start(struct proc *);
void		 proc_fail(struct proc *, char *error);
/* SIGTERM to the tree, then SIGKILL after the task's kill_grace. */
void		 proc_stop(struct proc *);
void		 proc_free(struct proc *);

#endif
