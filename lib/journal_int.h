/*
 * Journal internals shared by journal.c (writing) and jcompact.c
 * (snapshots and retention).
 */
#ifndef PL_JOURNAL_INT_H
#define PL_JOURNAL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "journal.h"

struct event;
struct event_base;
struct jsync;

struct journal_rec {
	uint8_t		 type;
	uint64_t	 exec;		/* the execution it is about, or 0 */
	struct buf	 payload;
};

struct journal_waiter {
	journal_done_cb	 cb;
	void		*arg;
	uint64_t	 gen;		/* the write it waits to be synced */
};

struct journal {
	char			*dir;
	enum journal_sync	 sync;
	size_t			 pad;		/* writes end on multiples of it */
	struct event_base	*base;
	int			 lockfd;
	int			 fd;		/* the segment being written */
	int			 dirfd;
	char			*seg_name;
	uint64_t		 seg_no;
	off_t			 end;		/* of the last good write */
	uint8_t			 id[16];
	uint64_t		 last_seq;
	struct journal_rec	*pending;
	size_t			 npending;
	size_t			 cappending;
	size_t			 pending_bytes;
	struct journal_waiter	*waiters;
	size_t			 nwaiters;
	struct event		*commit_ev;
	struct event		*retry_ev;
	bool			 available;
	bool			 rotating;	/* inside journal_rotate() */
	uint64_t		 gen;		/* writes done so far */
	uint64_t		 synced;	/* writes known durable */
	struct jsync		*syncer;	/* batch mode's sync thread */
	char			*error;
	uint64_t		 records_written;
	uint64_t		 commits;
	uint64_t		 syncs;
	char			**damaged;	/* segments with mid-log damage */
	size_t			 ndamaged;
};

int	journal_new_segment(struct journal *, char **err);
void	journal_rotate(struct journal *);
void	journal_sync_fd(struct journal *, int fd, const char *what);
void	journal_sync_dir(struct journal *);
void	jcompact_remove_tmp(struct journal *);

#endif
