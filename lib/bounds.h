/*
 * Hard limits on what a pipeline file or a client may ask for.  Going over
 * one is a clear error, never a crash or an unbounded allocation.
 */
#ifndef PL_BOUNDS_H
#define PL_BOUNDS_H

#define PL_MAX_FILE_SIZE	(16u * 1024 * 1024)	/* pipeline file bytes */
/*
 * Nesting of lists and mappings in a document: low enough that a pipeline
 * (at depth 2 in a request) and its items (at most depth 9 in a reply)
 * stay within the protocol's 32.
 */
#define PL_MAX_DEPTH		20
#define PL_MAX_NODES		(4u * 1024 * 1024)	/* values in one document */
#define PL_MAX_SCALAR		(1024u * 1024)	/* bytes in one scalar */
#define PL_MAX_TASKS		100000		/* tasks in one pipeline */
#define PL_MAX_ITEMS		100000		/* items of one iterator */
/*
 * Task executions and task results of one execution, every pipeline result
 * counted: room for the largest pipeline (a task execution and a task
 * result per task) and for the largest iterator, but not for their
 * product, which a request of a few kilobytes could otherwise ask for.
 */
#define PL_MAX_RESULTS		(2u * PL_MAX_TASKS)
#define PL_MAX_NAME		64		/* pipeline, task, queue names */
#define PL_MAX_COMMAND		(64u * 1024)	/* a run line or all of argv */
#define PL_MAX_ARGV		4096		/* argv elements */
#define PL_MAX_ENV		1024		/* env entries per level */
#define PL_MAX_ENV_VALUE	(32u * 1024)	/* bytes of one env value */
#define PL_MAX_PATH		4096		/* cwd */
#define PL_MAX_TEXT		(16u * 1024)	/* description and other text */
#define PL_MAX_INPUTS		256		/* required input keys per task */
#define PL_MAX_RETRIES		100
#define PL_MAX_DURATION_MS	(366LL * 24 * 3600 * 1000)	/* a year */
#define PL_MAX_PARALLEL		100000

#endif
