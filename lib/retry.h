/*
 * Retrying an execution: a new execution of the same definition and input
 * that carries over every task result that ended DONE (marked DONE with a
 * message naming the original) and runs only the rest.  Items an iterator
 * command printed are carried over too, so that task results line up.
 */
#ifndef PL_RETRY_H
#define PL_RETRY_H


struct execution;
struct history;
struct reporter;

/*
 * Create the retry of orig in h (its creation and carried-over states go
 * to the journal through h and rp), asked for by the user named by.  It
 * belongs to orig's owner and runs as them, whoever asked: an
 * administrator's retry never runs a user's commands with the
 * administrator's rights.  NULL with *err set when orig's definition no
 * longer loads.
 */
struct execution *retry_new(struct history *h, struct reporter *rp,
		    struct execution *orig, const char *by, char **err);

#endif
