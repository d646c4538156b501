/*
 * The journal's sync thread.  fdatasync takes a few hundred microseconds;
 * done on the event loop it would stall every client and every task for
 * that long, once per turn.  Instead the loop writes a batch and asks this
 * thread to sync it, goes on (gathering the next batch meanwhile), and is
 * told through an eventfd when the sync is done: waiters (acknowledgements,
 * task starts) then proceed.  A failed sync stops the daemon.
 */
#ifndef PL_JSYNC_H
#define PL_JSYNC_H

#include <stdint.h>

struct event_base;
struct jsync;

/* done(gen, arg) runs on the event loop once everything up to gen is synced. */
struct jsync	*jsync_start(struct event_base *,
		    void (*done)(uint64_t gen, void *arg), void *arg);
/* Sync fd so that generation gen is durable (asynchronously). */
void		 jsync_request(struct jsync *, int fd, uint64_t gen);
/* Wait until no sync is in flight (before closing or replacing the fd). */
void		 jsync_wait_idle(struct jsync *);
uint64_t	 jsync_count(struct jsync *);
/* Stop and join the thread (after jsync_wait_idle). */
void		 jsync_stop(struct jsync *);

#endif
