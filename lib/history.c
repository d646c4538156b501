/*
 * The history of executions, in memory, ordered by id.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "defcache.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "journal.h"
#include "node.h"
#include "timefmt.h"
#include "log.h"
#include "result.h"
#include "xmalloc.h"

struct history {
	struct execution	**v;
	size_t			  n;
	size_t			  cap;
	uint64_t		  next_id;
	unsigned long long	  changes;
	struct journal		 *journal;	/* NULL: memory only */
	struct defcache		 *defs;		/* definitions, shared */
};

static void
history_append(struct history *h, uint8_t type, uint64_t exec,
    struct node *payload)
{
	journal_append(h->journal, type, exec, payload);
	node_free(payload);
}

/* An empty history; ids start at 1. */
struct history *
history_new(void)
{
	struct history	*h;

	h = xcalloc(1, sizeof *h);
	h->next_id = 1;
	h->defs = defcache_new();
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
	defcache_free(h->defs);
	free(h);
}

/* The shared definitions of this history's executions. */
struct defcache *
history_defs(const struct history *h)
{
	return h->defs;
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
	if (h->journal != NULL)
		history_append(h, JREC_EXEC_CREATED, e->id, jcodec_created(e));
}

/* Make the history durable from now on (after it was replayed). */
void
history_set_journal(struct history *h, struct journal *j)
{
	h->journal = j;
}

/* The journal, or NULL. */
struct journal *
history_journal(const struct history *h)
{
	return h->journal;
}

/* Every change reaches here: the objects hold it, the journal keeps it. */
void
history_record_cb(struct result *r, void *arg)
{
	struct history	*h = arg;

	h->changes++;
	if (h->journal != NULL)
		history_append(h, r->noted ? JREC_REPORTER : JREC_STATUS,
		    r->exec->id, jcodec_change(r, timefmt_now_us()));
}

/* Iterator commands' items are kept too: replay cannot run them again. */
void
history_items_cb(struct result *parent, const struct node *items, void *arg)
{
	struct history	*h = arg;

	if (h->journal != NULL)
		history_append(h, JREC_ITEMS, parent->exec->id,
		    jcodec_items(parent, items));
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

/* Take an execution out (freeing it); ids stay used. */
void
history_remove(struct history *h, uint64_t id)
{
	size_t	i;

	for (i = 0; i < h->n; i++) {
		if (h->v[i]->id != id)
			continue;
		execution_free(h->v[i]);
		memmove(&h->v[i], &h->v[i + 1], (h->n - i - 1) * sizeof *h->v);
		h->n--;
		return;
	}
}

/* Never give out ids up to id again (from the journal's records). */
void
history_reserve_ids(struct history *h, uint64_t id)
{
	if (id >= h->next_id)
		h->next_id = id + 1;
}
