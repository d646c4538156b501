/*
 * A pipeline definition, as checked by the loader: the pipeline's own
 * settings and its tasks in definition order, with the task graph built
 * and its flat order computed.  Immutable once loaded; every execution of
 * the pipeline shares it.
 */
#ifndef PL_PIPELINE_H
#define PL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;
struct node;

#define PIPELINE_KILL_GRACE_MS	10000		/* default kill_grace */
#define PIPELINE_OUTPUT_LIMIT	(16 * 1024 * 1024)	/* default limits.output */

struct env_var {
	char	*name;
	char	*value;
};

struct task_limits {
	int64_t	 memory;	/* bytes; -1 when unset */
	int64_t	 cpu_time_ms;
	int64_t	 open_files;
	int64_t	 processes;
	int64_t	 output;	/* bytes of output log kept */
};

/* Which placeholders an argv uses, so runners know what to substitute. */
#define ARGV_USES_PIPELINE_OBJECT	0x01
#define ARGV_USES_TASK_OBJECT		0x02
#define ARGV_USES_INPUT			0x04
#define ARGV_USES_EXECUTION_ID		0x08
#define ARGV_USES_TASK_INDEX		0x10

struct task_def {
	char			*name;
	uint32_t		 index;
	uint32_t		 line;		/* of the task's key */
	uint32_t		 col;
	char			*run;		/* a shell line, or NULL */
	char			**argv;		/* NULL-terminated, or NULL */
	size_t			 argc;
	unsigned		 argv_uses;	/* ARGV_USES_* */
	struct node		*iterate;	/* a list of items, or NULL */
	char			*iterate_command;
	struct env_var		*env;
	size_t			 nenv;
	char			*cwd;
	int64_t			 timeout_ms;	/* 0: none */
	int64_t			 kill_grace_ms;
	uint32_t		 retries;
	int64_t			 retry_delay_ms;
	char			**inputs;	/* required keys, argv's included */
	size_t			 ninputs;
	char			*queue;
	struct task_limits	 limits;
	struct node		*options;	/* a mapping, or NULL */
};

struct pipeline {
	char		*name;
	char		*description;
	struct node	*iterate;
	char		*iterate_command;
	struct env_var	*env;
	size_t		 nenv;
	char		*cwd;
	bool		 keep_going;
	uint32_t	 max_parallel;	/* 0: no cap of its own */
	char		*runner;
	char		*user;
	bool		 chained;	/* no ordering or parents: a chain */
	struct task_def	*tasks;
	uint32_t	 ntasks;
	struct graph	*graph;		/* prepared and acyclic */
	uint32_t	*flat;		/* ntasks indexes in flat order */
};

void		 pipeline_free(struct pipeline *);
struct task_def	*pipeline_task(const struct pipeline *, const char *name);
bool		 pipeline_task_has_iterator(const struct task_def *);
size_t		 pipeline_edges(const struct pipeline *);
uint64_t	 pipeline_result_size(const struct pipeline *);
bool		 pipeline_valid_name(const char *);
bool		 pipeline_valid_task_name(const char *);

#endif
