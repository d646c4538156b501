/*
 * The history: every execution the daemon knows, by id.  It is where
 * executions are created (with the next id) and where every change the
 * reporter sees is recorded; queries read from it.  Kept in memory, and
 * made durable by the journal behind the same calls once one is set.
 */
#ifndef PL_HISTORY_H
#define PL_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct defcache;
struct execution;
struct history;
struct journal;
struct node;
struct result;

struct history	*history_new(void);
void		 history_free(struct history *);
/* The id the next execution gets (never reused). */
uint64_t	 history_next_id(const struct history *);
struct defcache	*history_defs(const struct history *);
/* Take ownership of a new execution (its id from history_next_id()). */
void		 history_add(struct history *, struct execution *);
/* Record one change, and iterator items (the reporter's sink). */
void		 history_record_cb(struct result *, void *arg);
void		 history_items_cb(struct result *, const struct node *,
		    void *arg);
/* Write every new execution and change to j from now on. */
void		 history_set_journal(struct history *, struct journal *);
struct journal	*history_journal(const struct history *);
struct execution *history_get(const struct history *, uint64_t id);
void		 history_remove(struct history *, uint64_t id);
void		 history_reserve_ids(struct history *, uint64_t id);
size_t		 history_count(const struct history *);
/* The i-th execution, oldest first. */
struct execution *history_at(const struct history *, size_t i);

#endif
