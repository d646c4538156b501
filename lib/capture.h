/*
 * Output capture: drain a pipe on the event loop into a log file or a
 * memory buffer, keeping at most a cap and marking the cut, so that a task
 * that prints forever costs bounded disk and memory and never blocks.
 */
#ifndef PL_CAPTURE_H
#define PL_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct capture;
struct event_base;

typedef void (*capture_eof_cb)(struct capture *, void *arg);

/*
 * Read fd (made non-blocking; the capture owns and closes it) until EOF.
 * Bytes go to out_fd (a file opened for appending; not owned) or, when
 * out_fd is -1, to mem (or nowhere when mem is NULL too).  After cap bytes
 * one line "[pipelined: output cut at SIZE]" is written and the rest is
 * read and dropped; a negative cap means no cap.  cb runs once, at EOF or
 * on a read error.  Returns NULL (fd closed) when fd cannot be watched.
 */
struct capture	*capture_start(struct event_base *, int fd, int out_fd,
		    struct buf *mem, int64_t cap, capture_eof_cb, void *arg);
/*
 * With out_fd -1, open the file with open_cb(arg) when the first byte
 * arrives (the fd stays the opener's).
 */
void		 capture_set_opener(struct capture *, int (*)(void *), void *);
int64_t		 capture_bytes(const struct capture *);	/* read so far */
int		 capture_cut(const struct capture *);	/* 1 once cut */
void		 capture_free(struct capture *);

#endif
