/*
 * Walker internals shared by walk.c (rules and progress), walk_run.c (what
 * runners report, and cancels) and walk_iter.c (iterator commands).
 */
#ifndef PL_WALK_INT_H
#define PL_WALK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "spawn.h"
#include "walk.h"

struct capture;
struct event;
struct pipeline_result;
struct task_execution;
struct topo;
struct walk;

/* A running iterator command and what it printed. */
struct walk_iter {
	struct walk		*w;
	struct spawn		*sp;
	struct capture		*out;
	struct capture		*err;
	struct buf		 outb;
	struct buf		 errb;
	struct spawn_exit	 ex;
	int			 pending;	/* exit and two EOFs to come */
	char			*cancel;	/* why it was stopped */
	void			(*done)(struct walk_iter *);
	void			*target;	/* the execution or task execution */
};

struct walk_tr {
	uint32_t	 attempt;	/* attempts begun */
	bool		 launched;	/* an attempt is running */
	char		*cancel;	/* set: end as CANCELLED with this */
	struct event	*retry;		/* the retry delay */
};

struct walk_te {
	bool			 listed;	/* on the settle list */
	bool			 handled;	/* its final status acted upon */
	struct walk_iter	*iter;
};

struct walk_pr {
	struct topo	*topo;
	bool		 started;
	bool		 stopped;	/* no new task starts (first failure) */
	bool		 handled;	/* its final status acted upon */
};

struct walk {
	struct execution	 *e;
	struct walk_host	  host;
	const struct walk_ops	 *ops;
	void			 *arg;
	struct runas		 *ra;
	struct walk_pr		 *prs;
	uint32_t		  nprs;
	uint32_t		  next_pr;	/* sequential: the next to start */
	struct task_execution	**settle;	/* task executions gone final */
	size_t			  nsettle;
	size_t			  capsettle;
	struct walk_iter	 *iter;		/* the pipeline iterator */
	bool			  finishing;
};

/* walk.c: the walker of an execution, and of a result's parts. */
struct walk	*walk_of(const struct execution *);
struct walk_tr	*walk_tr(const struct task_result *);
const struct task_def *walk_task(const struct task_execution *);
/* Remember that te went final; walk_settle() acts on it. */
void		 walk_te_changed(struct walk *, struct task_execution *);
void		 walk_attach_te(struct task_execution *);
/* End tr (final status st, message msg) or cancel it, or all of te's. */
void		 walk_finish_tr(struct walk *, struct task_result *,
		    enum status st, const char *msg);
int		 walk_cancel_tr(struct walk *, struct task_result *,
		    const char *why, bool stop_running);
int		 walk_cancel_te(struct walk *, struct task_execution *,
		    const char *why, bool stop_running);
/* Act on every task execution gone final, and what follows from it. */
void		 walk_settle(struct walk *);
void		 walk_start_results(struct walk *);

/* Run an iterator command; done() is called once it exited and was read. */
struct walk_iter *walk_iter_start(struct walk *, const struct pipeline_result *,
		    uint32_t task, void (*done)(struct walk_iter *),
		    void *target, char **err);
void		 walk_iter_stop(struct walk_iter *, const char *why);
/*
 * The items it printed (one per non-empty line), or NULL with *msg set
 * (to free) when it failed.
 */
struct node	*walk_iter_items(struct walk_iter *, const struct result *,
		    char **msg);
void		 walk_iter_free(struct walk_iter *);

#endif
