/*
 * The definition cache: an open-addressing table of documents by hash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "defcache.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "xmalloc.h"

struct defcache {
	struct defref	**slots;	/* NULL: empty; grows at 1/2 full */
	size_t		  cap;
	size_t		  n;
};

/* An empty cache. */
struct defcache *
defcache_new(void)
{
	struct defcache	*c;

	c = xcalloc(1, sizeof *c);
	c->cap = 64;
	c->slots = xcalloc(c->cap, sizeof *c->slots);
	return c;
}

/* Forget the cache; held references live on without it. */
void
defcache_free(struct defcache *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->cap; i++)
		if (c->slots[i] != NULL)
			c->slots[i]->cache = NULL;
	free(c->slots);
	free(c);
}

static void
defcache_grow(struct defcache *c)
{
	struct defref	**old = c->slots;
	size_t		  oldcap = c->cap, i, k;

	c->cap *= 2;
	c->slots = xcalloc(c->cap, sizeof *c->slots);
	for (i = 0; i < oldcap; i++) {
		if (old[i] == NULL)
			continue;
		for (k = old[i]->hash & (c->cap - 1); c->slots[k] != NULL;
		    k = (k + 1) & (c->cap - 1))
			;
		c->slots[k] = old[i];
	}
	free(old);
}

/* The shared definition of doc, loading it the first time. */
struct defref *
defcache_get(struct defcache *c, const struct node *doc, unsigned flags,
    struct diag *d)
{
	struct defref	*r;
	struct pipeline	*p;
	uint64_t	 h = node_hash(doc) ^ flags;
	size_t		 k;

	for (k = h & (c->cap - 1); (r = c->slots[k]) != NULL;
	    k = (k + 1) & (c->cap - 1))
		if (r->hash == h && r->flags == flags && node_equal(r->doc, doc))
			return defref_hold(r);
	if ((p = load_document(doc, flags, d)) == NULL)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->def = p;
	r->doc = node_copy(doc);
	r->hash = h;
	r->flags = flags;
	r->refs = 1;
	r->cache = c;
	c->slots[k] = r;
	if (++c->n * 2 > c->cap)
		defcache_grow(c);
	return r;
}

/* Take one more reference. */
struct defref *
defref_hold(struct defref *r)
{
	r->refs++;
	return r;
}

/* Remove r from its table, moving later entries of its run back. */
static void
defcache_unlink(struct defcache *c, struct defref *r)
{
	size_t	k, j, home;

	for (k = r->hash & (c->cap - 1); c->slots[k] != r;
	    k = (k + 1) & (c->cap - 1))
		;
	c->slots[k] = NULL;
	c->n--;
	for (j = (k + 1) & (c->cap - 1); c->slots[j] != NULL;
	    j = (j + 1) & (c->cap - 1)) {
		home = c->slots[j]->hash & (c->cap - 1);
		/* Move back if its home is not in (k, j]. */
		if ((j > k && (home <= k || home > j)) ||
		    (j < k && home <= k && home > j)) {
			c->slots[k] = c->slots[j];
			c->slots[j] = NULL;
			k = j;
		}
	}
}

/* Drop a reference; the last frees the definition. */
void
defref_release(struct defref *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	if (r->cache != NULL)
		defcache_unlink(r->cache, r);
	pipeline_free(r->def);
	node_free(r->doc);
	free(r);
}

/* How many distinct definitions are loaded. */
size_t
defcache_count(const struct defcache *c)
{
	return c->n;
}
