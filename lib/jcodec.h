/*
 * What journal records say, and how replay rebuilds the history from them
 * (docs/journal.md).  EXEC_CREATED carries the submission (the definition
 * as submitted, input, cwd, owner, runner, time); STATUS and REPORTER carry
 * one change of one result by its address, with its times and, for task
 * results, pid, exit code or signal, attempts, CPU times, max RSS; ITEMS
 * carries what an iterator command printed.  Static structure (pipeline
 * results of a static iterator, task results of static lists) is derived
 * from the definition, exactly as when the execution was created.
 */
#ifndef PL_JCODEC_H
#define PL_JCODEC_H

#include <stdint.h>

struct execution;
struct history;
struct jrec;
struct node;
struct result;

struct node	*jcodec_created(const struct execution *);
struct node	*jcodec_change(const struct result *, int64_t time_us);
struct node	*jcodec_items(const struct result *parent, const struct node *);

/*
 * Apply one record to the history being rebuilt; -1 with *err set when it
 * cannot be (unknown execution or address, bad fields): the scan reports
 * that record as damaged and goes on.
 */
int		 jcodec_apply(struct history *, const struct jrec *, char **err);

#endif
