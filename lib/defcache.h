/*
 * Shared pipeline definitions.  Most executions run a handful of
 * pipelines over and over; each distinct definition document is loaded
 * (checked) once and shared, reference-counted, by every execution of it,
 * which saves the load and its memory per submission and per replayed
 * record.
 */
#ifndef PL_DEFCACHE_H
#define PL_DEFCACHE_H

#include <stddef.h>
#include <stdint.h>

struct defcache;
struct diag;
struct node;
struct pipeline;

struct defref {
	struct pipeline	*def;
	struct node	*doc;		/* the document it was loaded from */
	uint64_t	 hash;
	unsigned	 flags;		/* the loader's flags */
	unsigned	 refs;
	struct defcache	*cache;
};

struct defcache	*defcache_new(void);
/* Free the cache; references still held stay valid and free themselves. */
void		 defcache_free(struct defcache *);
/*
 * The definition of doc (loaded with flags), shared when an equal document
 * was loaded before; NULL with the errors in d when it does not load.
 */
struct defref	*defcache_get(struct defcache *, const struct node *doc,
		    unsigned flags, struct diag *d);
struct defref	*defref_hold(struct defref *);
void		 defref_release(struct defref *);
size_t		 defcache_count(const struct defcache *);

#endif
