/*
 * Runners: the registry of runners by name (the built-in eager and local,
 * and plugins), the host table they are given, and starting, cancelling
 * and stopping executions through them.
 */
#ifndef PL_RUNNER_H
#define PL_RUNNER_H

#include <pipelined/runner.h>

struct cgroup_root;
struct event_base;

/* What the daemon tells the runners about itself. */
struct runner_config {
	struct event_base	*base;
	const char		*state_dir;
	const char		*lang;
	unsigned		 max_parallel;
	unsigned		(*queue_limit)(const char *);
	void			(*when_durable)(void (*)(bool, void *),
				    void *);	/* NULL: at once */
	bool			(*can_start)(void);	/* NULL: always */
	struct cgroup_root	*cgroots;
	/* A runner's setting ([NAME] KEY), or NULL. */
	const char		*(*option)(const char *, const char *);
};

/* A runner in use: its ops and its state. */
struct runner {
	const struct pipelined_runner	*ops;
	void				*state;
	char				*path;	/* a plugin's file; NULL: built in */
};

/* Set up the host table and the built-in runners. */
void		 runner_init(const struct runner_config *);
/* Add a runner (a plugin); -1 with *err set when refused. */
int		 runner_add(const struct pipelined_runner *, char **err);
/* Note where the runner called name was loaded from. */
void		 runner_set_path(const char *name, const char *path);
/* Settings were reloaded: tell every runner. */
void		 runner_reconfigure(unsigned max_parallel);
struct runner	*runner_find(const char *name);
size_t		 runner_count(void);
struct runner	*runner_at(size_t);
/* Stop every runner (the executions are final by then). */
void		 runner_shutdown(void);
/* The host table given to runners. */
const struct pipelined_host *runner_host(void);
/* The walker's view of the daemon, for runners built in. */
const struct runner_config *runner_config(void);

/* The built-in runners. */
const struct pipelined_runner *runner_eager(void);
const struct pipelined_runner *runner_local(void);

#endif
