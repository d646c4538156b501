/*
 * The reporter: fans every result change out to its sinks, in the order
 * they were added.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reporter.h"
#include "result.h"
#include "xmalloc.h"

struct reporter_sink {
	reporter_sink_cb	 cb;
	reporter_items_fn	 items;
	void			*arg;
};

struct reporter {
	struct reporter_sink	*v;
	size_t			 n;
	unsigned long long	 count;
};

/* A reporter without sinks. */
struct reporter *
reporter_new(void)
{
	return xcalloc(1, sizeof(struct reporter));
}

/* Free a reporter. */
void
reporter_free(struct reporter *rp)
{
	if (rp == NULL)
		return;
	free(rp->v);
	free(rp);
}

/* Add a sink; sinks see changes in the order they were added. */
void
reporter_add_sink(struct reporter *rp, reporter_sink_cb cb,
    reporter_items_fn items, void *arg)
{
	rp->v = xreallocarray(rp->v, rp->n + 1, sizeof *rp->v);
	rp->v[rp->n].cb = cb;
	rp->v[rp->n].items = items;
	rp->v[rp->n].arg = arg;
	rp->n++;
}

/* Remove a sink added with the same callback and argument. */
void
reporter_remove_sink(struct reporter *rp, reporter_sink_cb cb, void *arg)
{
	size_t	i;

	for (i = 0; i < rp->n; i++) {
		if (rp->v[i].cb == cb && rp->v[i].arg == arg) {
			memmove(&rp->v[i], &rp->v[i + 1],
			    (rp->n - i - 1) * sizeof *rp->v);
			rp->n--;
			return;
		}
	}
}

/* Pass one change to every sink. */
void
reporter_change_cb(struct result *r, void *arg)
{
	struct reporter	*rp = arg;
	size_t		 i;

	rp->count++;
	for (i = 0; i < rp->n; i++)
		rp->v[i].cb(r, rp->v[i].arg);
}

/* Pass iterator items to every sink that wants them. */
void
reporter_items_cb(struct result *parent, const struct node *items, void *arg)
{
	struct reporter	*rp = arg;
	size_t		 i;

	for (i = 0; i < rp->n; i++)
		if (rp->v[i].items != NULL)
			rp->v[i].items(parent, items, rp->v[i].arg);
}

/* Make an execution report through rp. */
void
reporter_attach(struct reporter *rp, struct execution *e)
{
	e->change_cb = reporter_change_cb;
	e->items_cb = reporter_items_cb;
	e->change_arg = rp;
}

/* How many changes went through. */
unsigned long long
reporter_count(const struct reporter *rp)
{
	return rp->count;
}
