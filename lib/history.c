/*
 * The history of executions, in memory, ordered by id.
 */
#include "config.h"

#include <stdlib.h>

#include "history.h"
#include "log.h"
#include "result.h"
#include "xmalloc.h"

struct history {
	struct execution	**v;
	size_t			  n;
	size_t			  cap;
	uint64_t		  next_id;
	unsigned long long	  changes;
};

/* An empty history; ids start at 1. */
struct history *
history_new(void)
{
	struct history	*h;

	h = xcalloc(1, sizeof *h);
	h->next_id = 1;
	return h;
}

/* Free every execution and the history. */
void
history_free(struct history *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		execution_free(h->v[i]);
	free(h->v);
	free(h);
}

/* The next id to give. */
uint64_t
history_next_id(const struct history *h)
{
	return h->next_id;
}

/* Add an execution; ids only grow, so the array stays sorted. */
void
history_add(struct history *h, struct execution *e)
{
	if (e->id < h->next_id)
		fatalx("history_add: id %llu reused",
		    (unsigned long long)e->id);
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 64 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	h->v[h->n++] = e;
	h->next_id = e->id + 1;
}

/* Every change reaches here; in memory the objects are the record. */
void
history_record_cb(struct result *r, void *arg)
{
	struct history	*h = arg;

	h->changes++;
}

/* The execution with this id, or NULL. */
struct execution *
history_get(const struct history *h, uint64_t id)
{
	size_t	lo = 0, hi = h->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->v[mid]->id == id)
			return h->v[mid];
		if (h->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* How many executions there are. */
size_t
history_count(const struct history *h)
{
	return h->n;
}

/* The i-th execution, oldest first. */
struct execution *
history_at(const struct history *h, size_t i)
{
	return i < h->n ? h->v[i] : NULL;
}
