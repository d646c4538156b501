/*
 * The journal's file system calls: every write, truncation, sync, rename
 * and unlink of a journal file goes through these.  In a normal build they
 * are the plain calls.  Built with -DPIPELINED_CRASHSIM (configure
 * --enable-crashsim: daemon/pipelined-crashsim only, never the installed
 * daemon) they go through jcrashsim.c, which remembers what was written
 * since the last sync and can simulate a power loss at a chosen call
 * (docs/reliability.md, "Crash simulation").
 */
#ifndef PL_JIO_H
#define PL_JIO_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "journal.h"

#ifdef PIPELINED_CRASHSIM

/* The exit status of a simulated power loss. */
#define JCRASHSIM_EXIT	86

int	jio_open(const char *, int flags, mode_t);
int	jio_close(int);
ssize_t	jio_write(int, const void *, size_t);
ssize_t	jio_pwrite(int, const void *, size_t, off_t);
int	jio_ftruncate(int, off_t);
int	jio_fdatasync(int);
int	jio_fsync(int);
int	jio_rename(const char *, const char *);
int	jio_unlink(const char *);
/* The size past which a segment is closed (smaller in tests). */
off_t	jio_segment_max(void);

#else

static inline int
jio_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

static inline int
jio_close(int fd)
{
	return close(fd);
}

static inline ssize_t
jio_write(int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

static inline ssize_t
jio_pwrite(int fd, const void *p, size_t n, off_t off)
{
	return pwrite(fd, p, n, off);
}

static inline int
jio_ftruncate(int fd, off_t len)
{
	return ftruncate(fd, len);
}

static inline int
jio_fdatasync(int fd)
{
	return fdatasync(fd);
}

static inline int
jio_fsync(int fd)
{
	return fsync(fd);
}

static inline int
jio_rename(const char *from, const char *to)
{
	return rename(from, to);
}

static inline int
jio_unlink(const char *path)
{
	return unlink(path);
}

static inline off_t
jio_segment_max(void)
{
	return (off_t)JOURNAL_SEGMENT_MAX;
}

#endif

#endif
