/*
 * The four result levels of one execution and how statuses roll up.
 *
 *   execution          one per submission                  42
 *   pipeline result    one per pipeline iterator item      42/1
 *   task execution     one per task and pipeline result    42/1/build
 *   task result        one per task iterator item          42/1/build/3
 *
 * Every object starts PENDING.  Statuses only advance (status.h).  A task
 * result going RUNNING makes each ancestor RUNNING.  A parent becomes final
 * only when it is sealed (all its children exist) and all its children are
 * final: DONE if every child is DONE, otherwise the status of its first
 * child, in time, to fail.  A sealed parent without children is DONE at
 * once (an empty iterator).  A parent may also be made final directly (a
 * task cancelled before its iterator ran), but only when none of its
 * children is still unfinished, and never DONE when one of them failed.
 * An execution is sealed by its runner once all its pipeline results exist.
 *
 * Every change - status or message - is passed to the execution's change
 * callback, ancestors after the object that caused them: that is how the
 * reporter sees, and records, everything.
 */
#ifndef PL_RESULT_H
#define PL_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "status.h"

struct defref;
struct node;
struct pipeline;

enum level {
	LEVEL_EXECUTION,
	LEVEL_PIPELINE_RESULT,
	LEVEL_TASK_EXECUTION,
	LEVEL_TASK_RESULT,
};

struct execution;

/* What every level has: status, message, times and roll-up bookkeeping. */
struct result {
	enum level		 level;
	enum status		 status;
	char			*message;
	int64_t			 started_us;	/* 0: not started */
	int64_t			 completed_us;	/* 0: not final */
	struct result		*parent;
	struct execution	*exec;
	uint32_t		 nchildren;
	uint32_t		 nfinal;
	bool			 sealed;
	bool			 noted;		/* this change is a message only */
	struct result		*first_failed;	/* first child to fail */
};

struct task_result {
	struct result		 r;
	struct task_execution	*te;
	uint32_t		 index;
	struct node		*object;	/* the item, or NULL */
	pid_t			 pid;
	int			 exit_code;	/* -1 when none */
	int			 signal;	/* 0 when none */
	uint32_t		 attempts;
	int64_t			 cpu_user_us;
	int64_t			 cpu_system_us;
	int64_t			 max_rss_kib;
	const char		*isolation;	/* "cgroup", "process_group" */
	void			*walk;		/* the walker's state */
	void			*runner_data;	/* the runner's state */
};

struct task_execution {
	struct result		 r;
	struct pipeline_result	*pr;
	uint32_t		 task;		/* index in the definition */
	struct task_result	**inst;
	uint32_t		 ninst;
	void			*walk;
};

struct pipeline_result {
	struct result		 r;
	uint32_t		 index;
	struct node		*object;	/* the item, or NULL */
	struct task_execution	*tasks;		/* one per task, by index */
	void			*walk;
};

typedef void (*result_change_cb)(struct result *, void *arg);
typedef void (*result_items_cb)(struct result *parent, const struct node *,
    void *arg);

struct execution {
	struct result		 r;
	uint64_t		 id;
	struct pipeline		*def;
	struct pipeline_result	**results;
	uint32_t		 nresults;
	size_t			 size;		/* task executions and results */
	result_change_cb	 change_cb;
	result_items_cb		 items_cb;	/* iterator command items */
	void			*change_arg;	/* of both callbacks */
	/*
	 * What the submission said.  The definition is shared through dref
	 * (doc and def then point into it), or owned (owned_def, doc).
	 */
	struct defref		*dref;
	struct pipeline		*owned_def;	/* def, when the execution owns it */
	struct node		*doc;		/* the definition as submitted */
	struct node		*input;		/* a mapping */
	char			*cwd;		/* resolved working directory */
	uid_t			 uid;		/* owner */
	gid_t			 gid;
	char			*user;
	char			*runner;
	int64_t			 submitted_us;
	uint64_t		 retry_of;	/* 0: not a retry */
	uint64_t		 retried_by;
	/*
	 * A run of a registered pipeline: its name, so that the pipeline's
	 * digest counts it and a file of the same name does not.  When that
	 * pipeline did not load, the execution is born CONFIG_ERROR and def
	 * is a placeholder with the name alone and no task (invalid).
	 */
	char			*registered;	/* NULL: submitted as a document */
	bool			 invalid;
	void			*walk;
	void			*runner_data;
};

struct execution	*execution_new(uint64_t id, struct pipeline *,
			    result_change_cb, void *arg);
struct execution	*execution_new_shared(uint64_t id, struct defref *);
struct execution	*execution_new_invalid(uint64_t id, const char *name);
void			 execution_free(struct execution *);
struct pipeline_result	*execution_add_result(struct execution *,
			    const struct node *object, int64_t now_us);
struct task_result	*execution_add_instance(struct task_execution *,
			    const struct node *object);
void			 execution_add_static(struct execution *,
			    int64_t now_us);
void			 execution_add_items(struct result *parent,
			    const struct node *items, int64_t now_us);
bool			 execution_has_room(const struct result *parent,
			    size_t nitems);
void			 execution_recount(struct execution *);

int	 result_set(struct result *, enum status, const char *msg,
	    int64_t now_us);
int	 result_note(struct result *, const char *msg);
void	 result_seal(struct result *, int64_t now_us);
bool	 result_is_final(const struct result *);
char	*result_address(const struct result *);
const char *result_level_name(enum level);

#endif
