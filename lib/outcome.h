/*
 * How one attempt of a task ended, whichever runner ran it, and the status
 * and message that follow (docs/runners.md): exit 0 is DONE; exit N, a
 * signal, a failed exec, a timeout or a runner's own failure ("worker
 * lost") are RUNTIME_ERROR with the same wording everywhere.  struct
 * outcome is part of the runner ABI (<pipelined/runner.h>).
 */
#ifndef PL_OUTCOME_H
#define PL_OUTCOME_H

#include <pipelined/runner.h>

#include "status.h"

void		 outcome_init(struct outcome *);
/* The status for an outcome and its message (to free). */
enum status	 outcome_status(const struct outcome *, char **msg);

#endif
