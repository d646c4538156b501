/*
 * Growable byte buffer with a trailing NUL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

/* An empty buffer that owns nothing yet. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Free the storage and leave the buffer empty. */
void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Forget the contents but keep the storage. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for at least more bytes plus the NUL. */
void
buf_reserve(struct buf *b, size_t more)
{
	size_t	need, cap;

	if (more > SIZE_MAX / 2 - b->len)
		fatalx("buf_reserve: %zu bytes is too large", more);
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	cap = b->cap == 0 ? 64 : b->cap;
	while (cap < need)
		cap *= 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

/* Append len bytes. */
void
buf_add(struct buf *b, const void *p, size_t len)
{
	buf_reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Append one character. */
void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Append a C string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	char	probe[1];
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(probe, sizeof probe, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("buf_vaddf: bad format");
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

/* Append formatted text. */
void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* Drop n bytes from the front. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Hand the storage to the caller (never NULL) and leave the buffer empty. */
char *
buf_detach(struct buf *b)
{
	char	*p;

	if (b->data == NULL)
		buf_reserve(b, 0);
	b->data[b->len] = '\0';
	p = b->data;
	buf_init(b);
	return p;
}
