/*
 * Everything needed to run one attempt of a task result, resolved: argv
 * with its placeholders filled, the complete environment
 * (docs/pipeline-format.md), the working directory and the limits.  The
 * local runners hand it to the spawn facility; remote runners send it to
 * workers.  struct taskspec is part of the runner ABI
 * (<pipelined/runner.h>).
 */
#ifndef PL_TASKSPEC_H
#define PL_TASKSPEC_H

#include <stdint.h>

#include <pipelined/runner.h>

struct execution;
struct node;
struct pipeline_result;
struct runas;
struct task_def;
struct task_result;


/* The spec of attempt (1-based) of a task result, run as ra. */
void	taskspec_task(struct taskspec *, const struct task_result *,
	    const struct runas *ra, const char *lang, uint32_t attempt);
/*
 * The spec of an iterator command: the pipeline's (pr NULL) or a task's.
 * It runs with /bin/sh -c, the pipeline's env and cwd.
 */
void	taskspec_iterator(struct taskspec *, const struct execution *,
	    const struct pipeline_result *pr, const struct task_def *t,
	    const struct runas *ra, const char *lang);
void	taskspec_clear(struct taskspec *);
/* The spawn command for a spec run as ra (descriptors: -1). */
void	taskspec_spawn_cmd(struct spawn_cmd *, const struct taskspec *,
	    const struct runas *);
/* The text an item or input value is passed as: strings as is, else JSON. */
char	*taskspec_value_text(const struct node *);
/* PIPELINE_INPUT_<KEY> for an input key. */
char	*taskspec_input_env_name(const char *key);

#endif
