/*
 * The journal: every record the daemon must not lose, appended to
 * STATE_DIR/journal/ (docs/journal.md).
 *
 * Records are buffered as they come and written together once per event
 * loop turn (group commit): one write and, with journal_sync=batch, one
 * fdatasync for all of them; "always" syncs after each record, "off" never.
 * Sequence numbers are given at write time, so a batch that could not be
 * written leaves no gap.  A failed fdatasync stops the daemon: after a
 * write-back error the page cache cannot be trusted, and retrying can lie.
 * A failed or short write is cut back, the batch's waiters are told, and
 * the journal is unavailable (new submissions refused, no task starts)
 * until a retry, once a second, succeeds.
 */
#ifndef PL_JOURNAL_H
#define PL_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "jscan.h"

struct event_base;
struct execution;
struct history;
struct journal;
struct node;

enum journal_sync {
	JOURNAL_SYNC_BATCH,
	JOURNAL_SYNC_ALWAYS,
	JOURNAL_SYNC_OFF,
};

#define JOURNAL_SEGMENT_MAX	(64u * 1024 * 1024)	/* rotate past this */
/* The daemon's padding: each write ends on a multiple of this. */
#define JOURNAL_PAD		4096
#define JOURNAL_LOCKED		100	/* exit status: state dir in use */

/* Called once the batch holding a record is durable (ok) or failed. */
typedef void (*journal_done_cb)(bool ok, void *arg);

int		 journal_sync_from_name(const char *, enum journal_sync *);
const char	*journal_sync_name(enum journal_sync);

/*
 * Lock STATE_DIR (errno EWOULDBLOCK and *err when another daemon holds
 * it), remove what a crash left half made (*.tmp), read the journal with
 * repair, handing every record to cb, then start a new segment for
 * writing.  *scan says what was found.  With pad (JOURNAL_PAD; 0: none)
 * every write, a segment's header included, is padded up to a multiple
 * of pad bytes, so that the next one starts on a sector of its own: a
 * write torn by a power loss then cannot damage records already synced,
 * even on a disk without powersafe overwrite.
 */
struct journal	*journal_open(const char *state_dir, enum journal_sync,
		    size_t pad, struct event_base *, jscan_cb cb, void *arg,
		    struct jscan *scan, char **err);
/*
 * Buffer a record (a msgpack map) about execution exec (0: none); it is
 * written at the end of the turn.
 */
void		 journal_append(struct journal *, uint8_t type, uint64_t exec,
		    const struct node *payload);
/* Drop the buffered records of an execution whose creation failed. */
void		 journal_forget(struct journal *, uint64_t exec);
/*
 * Call cb once everything appended so far is durable, or failed.  Runs
 * from the commit (never from inside this call).
 */
void		 journal_when_durable(struct journal *, journal_done_cb,
		    void *arg);
/* Write and sync what is buffered now; -1 when it could not be written. */
int		 journal_flush(struct journal *);
/* Whether writes work (false after a failed write, until a retry works). */
bool		 journal_available(const struct journal *);
/*
 * Compact into a snapshot of the unfinished executions and those keep()
 * accepts (jcompact.c); the caller then removes the rest.
 */
int		 journal_compact(struct journal *, struct history *,
		    bool (*keep)(const struct execution *, void *), void *,
		    char **err);
/* Append CLEAN_SHUTDOWN, flush, close, unlock. */
void		 journal_close(struct journal *, bool clean);

struct journal_stats {
	uint64_t	 last_seq;
	uint64_t	 records_written;
	uint64_t	 pending;	/* records buffered, not written yet */
	uint64_t	 commits;
	uint64_t	 syncs;
	uint64_t	 bytes;		/* of the journal directory's files */
	unsigned	 segments;
	const char	*error;		/* the last write error, or NULL */
};
void		 journal_stats(struct journal *, struct journal_stats *);
const char	*journal_dir(const struct journal *);

#endif
