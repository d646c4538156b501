/*
 * The reporter: every change of every result object, from every runner,
 * passes through here to the sinks that record or show it (the history,
 * watchers, the log).  It is the execution's change callback.
 */
#ifndef PL_REPORTER_H
#define PL_REPORTER_H

struct result;
struct reporter;

typedef void (*reporter_sink_cb)(struct result *, void *arg);

struct reporter	*reporter_new(void);
void		 reporter_free(struct reporter *);
void		 reporter_add_sink(struct reporter *, reporter_sink_cb, void *);
void		 reporter_remove_sink(struct reporter *, reporter_sink_cb,
		    void *);
/* The result_change_cb to install on executions (arg: the reporter). */
void		 reporter_change_cb(struct result *, void *arg);
/* Changes reported so far. */
unsigned long long reporter_count(const struct reporter *);

#endif
