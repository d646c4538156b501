/*
 * Reading a journal directory: the newest snapshot (read past any damage
 * in it; older snapshots are never read), then every segment record it
 * does not cover, record by record, each checked (magic, header CRC,
 * length, payload CRC, type, sequence).  Damage never stops the reading:
 * a damaged stretch is reported (file, byte range, sequence gap) and the
 * scan resumes at the next valid record.  Damage at the end of the newest
 * segment, with no valid record after it, is a torn tail (a write cut by
 * a crash): with repair, the bytes are copied aside to FILE.broken-<µs>
 * and cut off.
 */
#ifndef PL_JSCAN_H
#define PL_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jformat.h"

struct jdamage {
	char		*file;		/* base name */
	uint64_t	 start;		/* byte range [start, end) */
	uint64_t	 end;
	uint64_t	 seq_before;	/* last valid seq before it, or 0 */
	char		*what;
	bool		 torn;		/* a torn tail (cut when repairing) */
};

struct jscan {
	uint64_t	 records;	/* records delivered */
	uint64_t	 first_seq;	/* of the first segment record read */
	uint64_t	 last_seq;
	uint64_t	 max_segment_no;
	uint8_t		 journal_id[16];
	bool		 have_id;
	bool		 clean_shutdown;	/* the last record said so */
	size_t		 segments;
	char		*snapshot;	/* base name of the snapshot used */
	uint64_t	 snapshot_seq;
	uint64_t	 bytes;		/* of every file read */
	struct jdamage	*damage;
	size_t		 ndamage;
};

/*
 * Called for each valid record in order; returning -1 says the payload,
 * though intact, made no sense (reported as damage of that record).
 */
typedef int (*jscan_cb)(const struct jrec *, void *arg);

/* Read dir (which may not exist yet: then nothing is found). */
int	 jscan_dir(const char *dir, bool repair, jscan_cb, void *arg,
	    struct jscan *, char **err);
void	 jscan_clear(struct jscan *);
/* Whether any damage other than a torn tail was found. */
bool	 jscan_damaged(const struct jscan *);
/* The segment and snapshot files of dir, sorted by sequence. */
int	 jscan_list(const char *dir, char ***segments, size_t *nseg,
	    char ***snapshots, size_t *nsnap, char **err);
void	 jscan_free_list(char **, size_t);

#endif
