/*
 * pipelined runner ABI.
 *
 * A runner decides where and when the task results of an execution run:
 * "eager" and "local" are built in, others are shared objects NAME.so in
 * the runner directory.  Both kinds present the same struct
 * pipelined_runner; the daemon hands each a struct pipelined_host with
 * the event loop and the library's helpers: the walker (which task
 * results may run, and what follows from each outcome, under the four
 * rules), resolved task specs, the spawn facility, and the task graph
 * (TopologicalSorter and flat order).
 *
 * A plugin exports one symbol, PIPELINED_RUNNER_SYMBOL, a function that
 * returns its struct pipelined_runner.  A runner whose abi field is not
 * PIPELINED_RUNNER_ABI is refused at load.  Objects behind the struct
 * pointers below (executions, results, task results) are the daemon's:
 * runners pass them back to the host's functions and never free them.
 */
#ifndef PIPELINED_RUNNER_H
#define PIPELINED_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PIPELINED_RUNNER_ABI		1
#define PIPELINED_RUNNER_SYMBOL		"pipelined_runner_v1"

/*
 * Marks the entry point of a plugin built with -fvisibility=hidden, so
 * that it exports that one symbol and nothing else.
 */
#define PIPELINED_EXPORT	__attribute__((visibility("default")))

struct event_base;
struct execution;
struct graph;
struct node;
struct reporter;
struct result;
struct runas;
struct spawn;
struct task_result;
struct topo;

/* Resource limits of one task process; -1 leaves a limit as inherited. */
struct spawn_limits {
	int64_t		 memory;	/* RLIMIT_AS, bytes */
	int64_t		 cpu_time_ms;	/* RLIMIT_CPU, rounded up to seconds */
	int64_t		 open_files;	/* RLIMIT_NOFILE */
	int64_t		 processes;	/* RLIMIT_NPROC */
};

/* A process for the spawn facility (see spawn_start below). */
struct spawn_cmd {
	char *const		*argv;	/* argv[0] without '/' is looked up in envp's PATH */
	char *const		*envp;	/* the complete environment */
	const char		*cwd;	/* must exist; NULL: "/" */
	/* Identity: applied only when set_identity (the daemon is root). */
	bool			 set_identity;
	uid_t			 uid;
	gid_t			 gid;
	const gid_t		*groups;
	size_t			 ngroups;
	struct spawn_limits	 limits;
	int			 out_fd;	/* stdout and stderr; -1: /dev/null */
	int			 err_fd;	/* stderr if not out_fd; -1: as stdout */
	int			 cgroup_fd;	/* a directory fd to spawn into, or -1 */
};

/* How a process ended. */
struct spawn_exit {
	pid_t		 pid;
	int		 exit_code;	/* -1 when killed by a signal or not run */
	int		 signal;	/* 0 unless killed by a signal */
	int		 exec_errno;	/* non-zero: exec (or setup) failed */
	const char	*exec_step;	/* which step failed: "exec", "chdir"... */
	int64_t		 started_us;	/* CLOCK_REALTIME */
	int64_t		 ended_us;
	int64_t		 cpu_user_us;	/* from the cgroup when there is one */
	int64_t		 cpu_system_us;
	int64_t		 max_rss_kib;
};

typedef void (*spawn_exit_cb)(struct spawn *, const struct spawn_exit *,
    void *arg);

/* One attempt of a task result, resolved (docs/runners.md, "task specs"). */
struct taskspec {
	char			**argv;		/* NULL-terminated */
	char			**envp;		/* NULL-terminated, complete */
	char			*cwd;
	struct spawn_limits	 limits;
	int64_t			 timeout_ms;	/* 0: none */
	int64_t			 kill_grace_ms;
	int64_t			 output_cap;	/* bytes of output kept */
	const char		*queue;		/* NULL: none */
	const struct node	*options;	/* the task's options, or NULL */
};

/* How one attempt ended. */
struct outcome {
	pid_t		 pid;		/* 0 when unknown */
	int		 exit_code;	/* -1 when none */
	int		 signal;	/* 0 when none */
	int		 exec_errno;	/* non-zero: could not run */
	const char	*exec_step;	/* "exec", "chdir", ... */
	const char	*program;	/* argv[0], for exec failures */
	const char	*cwd;		/* for chdir failures */
	bool		 timed_out;
	int64_t		 timeout_ms;
	const char	*error;		/* the runner's own failure, or NULL */
	int64_t		 started_us;
	int64_t		 ended_us;
	int64_t		 cpu_user_us;
	int64_t		 cpu_system_us;
	int64_t		 max_rss_kib;
};

/*
 * What a runner gives the walker.  The callbacks must not call back into
 * the walker: a runner queues what ready() gives it and launches from the
 * event loop, and reports a stop's effect through walk_exited() later.
 */
struct walk_ops {
	/*
	 * tr may run now (first attempt or a retry): queue it.  When its
	 * turn comes, walk_begin() may still say no (-1): it was cancelled,
	 * or its pipeline result stopped after a failure meanwhile; drop it.
	 */
	void	(*ready)(struct task_result *, void *arg);
	/* Stop a launched task result; it still ends with walk_exited(). */
	void	(*stop)(struct task_result *, void *arg);
	/* The execution is final; called once, the walker's state is gone. */
	void	(*finished)(struct execution *, void *arg);
	/* Pipeline results one after another (the eager runner). */
	bool	  sequential;
};

struct pipelined_host {
	unsigned		 abi;		/* PIPELINED_RUNNER_ABI */
	struct event_base	*base;
	const char		*state_dir;
	unsigned		 max_parallel;	/* daemon-wide */
	/* Per-queue limits: the limit for a queue name, 0 for none. */
	unsigned		(*queue_limit)(const char *queue);
	/*
	 * Log before effect: a runner calls walk_begin() for what it is
	 * about to launch, then when_durable(), and launches from its
	 * callback, and only if ok: the RUNNING records are durable then, so
	 * a crash never runs a task twice silently.  One call covers a whole
	 * batch of launches.  can_start() is false while the journal cannot
	 * be written; launch nothing then.
	 */
	void			(*when_durable)(void (*cb)(bool ok, void *),
				    void *arg);
	bool			(*can_start)(void);

	/* The walker (lib/walk.h). */
	int	(*walk_start)(struct execution *, const struct walk_ops *,
		    void *arg, char **err);
	int	(*walk_begin)(struct task_result *);
	void	(*walk_started)(struct task_result *, pid_t);
	void	(*walk_exited)(struct task_result *, const struct outcome *);
	int	(*walk_cancel)(struct result *, const char *why);

	/* Task specs (lib/taskspec.h): attempt is 1-based. */
	void	(*taskspec)(struct taskspec *, const struct task_result *,
		    unsigned attempt);
	void	(*taskspec_clear)(struct taskspec *);
	/* "42/0/render/3", to free. */
	char	*(*address)(const struct result *);
	/* The result header of a task result. */
	struct result *(*task_result)(struct task_result *);
	/* Append to a task result's output log. */
	int	(*output)(struct task_result *, const void *, size_t);
	/*
	 * Say what a running task result is doing (its message, shown by
	 * pipectl show and watch), e.g. which worker runs it.
	 */
	void	(*note)(struct task_result *, const char *);
	/* The task's queue (its "queue" key), or NULL. */
	const char *(*task_queue)(const struct task_result *);
	/* The execution's own max_parallel, 0 for none. */
	unsigned (*exec_max_parallel)(const struct execution *);

	/* The task graph (lib/graph.h). */
	struct graph *(*graph_new)(uint32_t);
	void	(*graph_add_edge)(struct graph *, uint32_t, uint32_t);
	int	(*graph_prepare)(struct graph *);
	int	(*graph_flat_order)(const struct graph *, uint32_t *);
	int	(*graph_static_order)(const struct graph *, uint32_t *);
	void	(*graph_free)(struct graph *);
	struct topo *(*topo_new)(const struct graph *);
	uint32_t (*topo_get_ready)(struct topo *, uint32_t *, uint32_t);
	int	(*topo_done)(struct topo *, uint32_t);
	bool	(*topo_is_active)(const struct topo *);
	void	(*topo_free)(struct topo *);

	/*
	 * A setting of this runner: the configuration file's [NAME]
	 * section, or --runner-option NAME.KEY=VALUE; NULL when unset.
	 */
	const char *(*option)(const char *runner, const char *key);

	/*
	 * The spawn facility (lib/spawn.h): an isolated process supervised
	 * by pidfd on the event loop.  spawn_cmd() fills a command from a
	 * task spec and the execution's run-as identity; the caller sets
	 * out_fd/err_fd/cgroup_fd.  spawn_start() returns NULL with *err
	 * (to free) when it could not start at all; cb runs once, after
	 * the process was reaped.
	 */
	void	(*spawn_cmd)(struct spawn_cmd *, const struct task_result *,
		    const struct taskspec *);
	struct spawn *(*spawn_start)(struct event_base *,
		    const struct spawn_cmd *, spawn_exit_cb, void *arg,
		    char **err);
	int	(*spawn_signal_tree)(struct spawn *, int sig);
	void	(*spawn_free)(struct spawn *);

	/* Logging: level 0 debug, 1 info, 2 warning, 3 error. */
	void	(*log)(int level, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
};

struct pipelined_runner {
	unsigned	 abi;		/* PIPELINED_RUNNER_ABI */
	const char	*name;
	/* Set up (once, at load); returns the runner's state. */
	void		*(*init)(const struct pipelined_host *, char **err);
	/*
	 * Take an execution: 0 when it was scheduled, non-zero with *err
	 * set (to free) when not.  reporter records every status change;
	 * the walker reports through it already.
	 */
	int		 (*start_runner)(void *state, struct execution *,
			    struct reporter *, char **err);
	/* Cancel under target (an execution, pipeline or task execution). */
	int		 (*cancel)(void *state, struct result *target,
			    const char *why);
	/* Counts for pipectl status. */
	void		 (*stats)(void *state, unsigned *running,
			    unsigned *queued);
	/* Stop accepting, free everything (executions are final by now). */
	void		 (*shutdown)(void *state);
	/*
	 * Settings were reloaded: host->max_parallel and option() may give
	 * new answers.  May be NULL.
	 */
	void		 (*reconfigure)(void *state);
};

typedef const struct pipelined_runner *(*pipelined_runner_fn)(void);

#endif
