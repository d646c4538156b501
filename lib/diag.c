/*
 * Diagnostics collected while reading a pipeline, printed in file order.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "utf8.h"
#include "xmalloc.h"

/* An empty list of errors for the named file. */
struct diag *
diag_new(const char *file)
{
	struct diag	*d;

	d = xcalloc(1, sizeof *d);
	d->file = xstrdup(file);
	return d;
}

/* Forget every error, keeping the file name. */
void
diag_clear(struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].msg);
	d->n = 0;
	d->dropped = 0;
}

/* Free the list. */
void
diag_free(struct diag *d)
{
	if (d == NULL)
		return;
	diag_clear(d);
	free(d->v);
	free(d->file);
	free(d);
}

/* Record one error at line:col (0:0 when the position is unknown). */
void
diag_add(struct diag *d, uint32_t line, uint32_t col, const char *fmt, ...)
{
	struct diag_entry	*e;
	va_list			 ap;
	struct buf		 b;

	if (d->n >= DIAG_MAX_KEPT) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 8 : d->cap * 2;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	/*
	 * Errors quote the file, cut to a length ("%.80s") that may fall
	 * inside a character; they travel in replies, which must be text.
	 */
	utf8_mend(b.data, b.len);
	e = &d->v[d->n];
	e->line = line;
	e->col = col;
	e->seq = (uint32_t)d->n;
	e->msg = buf_detach(&b);
	d->n++;
}

/* The number of errors, those beyond the kept ones included. */
size_t
diag_count(const struct diag *d)
{
	return d->n + d->dropped;
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag_entry	*x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Order errors by position; errors without one keep their order, first. */
void
diag_sort(struct diag *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, diag_cmp);
}

/* Error i as "FILE:LINE:COL: message" (or "FILE: message"). */
char *
diag_format(const struct diag *d, size_t i)
{
	const struct diag_entry	*e = &d->v[i];

	if (e->line == 0)
		return xprintf("%s: %s", d->file, e->msg);
	return xprintf("%s:%u:%u: %s", d->file, e->line, e->col, e->msg);
}

/* Print every error, sorted, one per line. */
void
diag_print(struct diag *d, FILE *f)
{
	char	*s;
	size_t	 i;

	diag_sort(d);
	for (i = 0; i < d->n; i++) {
		s = diag_format(d, i);
		fprintf(f, "%s\n", s);
		free(s);
	}
	if (d->dropped > 0)
		fprintf(f, "%s: %zu more errors not shown\n", d->file,
		    d->dropped);
}
