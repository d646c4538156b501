/*
 * The reporter: every change of every result object, from every runner,
 * passes through here to the sinks that record or show it (the history,
 * watchers, the log).  It is the execution's change callback.
 */
#ifndef PL_REPORTER_H
#define PL_REPORTER_H

struct execution;
struct node;
struct result;
struct reporter;

typedef void (*reporter_sink_cb)(struct result *, void *arg);
typedef void (*reporter_items_fn)(struct result *, const struct node *,
    void *arg);

struct reporter	*reporter_new(void);
void		 reporter_free(struct reporter *);
/* A sink sees every change, and (items_cb, may be NULL) iterator items. */
void		 reporter_add_sink(struct reporter *, reporter_sink_cb,
		    reporter_items_fn, void *);
void		 reporter_remove_sink(struct reporter *, reporter_sink_cb,
		    void *);
/* The callbacks to install on executions (arg: the reporter). */
void		 reporter_change_cb(struct result *, void *arg);
void		 reporter_items_cb(struct result *, const struct node *,
		    void *arg);
/* Install the reporter's callbacks on an execution. */
void		 reporter_attach(struct reporter *, struct execution *);
/* Changes reported so far. */
unsigned long long reporter_count(const struct reporter *);

#endif
