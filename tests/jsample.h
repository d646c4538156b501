/*
 * A sample journal for the journal tests (check_jscan.c, check_journal.c),
 * built the way the daemon builds one: executions of a small pipeline are
 * submitted into a history that journal_open() made durable, run through
 * their status changes, compacted into a snapshot, and written on across a
 * rotation.  The files are then held in memory with every record they
 * contain, in the order a scan delivers them, so that a test can damage a
 * copy and compare what comes back with what went in (the js_check_*()
 * helpers at the end).
 */
#ifndef PL_TESTS_JSAMPLE_H
#define PL_TESTS_JSAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jformat.h"

struct buf;
struct event_base;
struct jscan;
struct timespec;
struct execution;
struct history;
struct journal;

#define JS_T0		1795810500000000LL	/* 2026-11-27T20:15:00Z */
#define JS_MAXFILES	8

/* One record of the sample, where it lies and what it holds. */
struct js_rec {
	size_t		 file;		/* index in files[] */
	size_t		 off;		/* of its header in the file */
	size_t		 size;		/* header and payload */
	uint64_t	 seq;
	uint8_t		 type;
	const uint8_t	*payload;	/* into the file's bytes */
	uint32_t	 len;
};

/* One file of the journal directory. */
struct js_file {
	char		 name[64];
	uint8_t		*data;
	size_t		 len;
	bool		 snapshot;
	size_t		 first;		/* its first record in recs[] */
	size_t		 nrec;
};

struct js_sample {
	struct js_file	 files[JS_MAXFILES];	/* snapshot first, as read */
	size_t		 nfiles;
	struct js_rec	*recs;		/* in delivery order */
	size_t		 nrecs;
	size_t		 total;		/* bytes of all files */
};

/* The test pipeline, as YAML. */
extern const char	*js_yaml;

/* A fresh directory under /dev/shm (or $TMPDIR, /tmp); free() the name. */
char		*js_tmpdir(const char *tag);
/* Remove a directory tree made by a test. */
void		 js_rmtree(const char *);
/* An event base as the daemon's: three priorities. */
struct event_base *js_base(void);

/* Submit an execution of yaml into h, as submit_op() does. */
struct execution *js_submit(struct history *, const char *yaml,
		    int64_t t);
/* Run e's task results to an end (fail: one fails); all: or stop half way. */
void		 js_run(struct execution *, int64_t t, bool fail, bool all);
/* Submit and run n executions, flushing the journal after each. */
void		 js_work(struct history *, struct journal *, int n,
		    int64_t t);

/* Build the sample journal under state_dir (the history stays in *hp). */
void		 js_build(const char *state_dir, struct history **hp);
/* Read a journal directory's files and records into s. */
void		 js_load(struct js_sample *, const char *journal_dir);
void		 js_free(struct js_sample *);
/* Write every file of s into dir (which exists). */
void		 js_write(const struct js_sample *, const char *dir);
/* Write len bytes to dir/name, replacing it. */
void		 js_put(const char *dir, const char *name, const void *,
		    size_t len);
/* The index of the file named name, or -1. */
int		 js_find(const struct js_sample *, const char *name);
/* The record of file f that holds byte off, or -1 (the header). */
long		 js_rec_at(const struct js_sample *, size_t f, size_t off);

/* What a scan delivered, matched against a sample in order. */
struct js_got {
	const struct js_sample	*s;
	uint8_t			*seen;		/* per sample record */
	size_t			 cursor;
	size_t			 n;
	size_t			 changed;	/* not the sample's */
};

/* An expected damage entry. */
struct js_wd {
	size_t		 file;
	uint64_t	 start, end;
	bool		 torn;
	uint64_t	 seq_before;
	const char	*what;		/* its words exactly, or NULL: any */
};

/* Failures of a sweep: counted, the first few kept. */
struct js_fails {
	size_t		 n;
	char		 msg[2048];
};

void		 js_failf(struct js_fails *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Scan dir with repair or not, matching what comes back against g->s. */
bool		 js_scan(struct js_got *, const char *dir, bool repair,
		    struct jscan *);
/* Want all records but those of file f not wholly before off. */
void		 js_want_upto(const struct js_sample *, uint8_t *want,
		    size_t f, size_t off);
/* The seq of the last wanted record before record g, or 0. */
uint64_t	 js_prev_seq(const struct js_sample *, const uint8_t *want,
		    size_t g);
/* The end of file f's last record wholly before off, or the header. */
size_t		 js_good_end(const struct js_sample *, size_t f, size_t off);
/* Whether exactly the wanted records came back, unchanged. */
bool		 js_check_seen(const struct js_got *, const uint8_t *want,
		    struct js_fails *, const char *ctx);
/* Whether the scan's damage entries are exactly w[0..n). */
bool		 js_check_damage(const struct js_sample *,
		    const struct jscan *, const struct js_wd *, size_t n,
		    struct js_fails *, const char *ctx);
/* Count name's .broken-* copies in dir (the last read into b), remove. */
int		 js_broken_copies(const char *dir, const char *name,
		    struct buf *);
off_t		 js_size(const char *dir, const char *name);
double		 js_since(const struct timespec *);

#endif
