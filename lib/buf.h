/*
 * A growable byte buffer: the one place the library appends bytes.
 * The data is always followed by a NUL (not counted in len), so text
 * built here can be used as a C string.
 */
#ifndef PL_BUF_H
#define PL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_release(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_reserve(struct buf *, size_t more);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_consume(struct buf *, size_t);
char	*buf_detach(struct buf *);

#endif
