/*
 * Diagnostics: the errors found in one pipeline file, each with its
 * position, collected so that every error is reported at once and printed
 * as FILE:LINE:COL: message in file order.
 */
#ifndef PL_DIAG_H
#define PL_DIAG_H

#include <stdint.h>
#include <stdio.h>

/* At most this many errors are kept; the rest are only counted. */
#define DIAG_MAX_KEPT	200

struct diag_entry {
	uint32_t	 line;		/* 1-based; 0 when unknown */
	uint32_t	 col;
	uint32_t	 seq;		/* insertion order, for a stable sort */
	char		*msg;
};

struct diag {
	char			*file;
	struct diag_entry	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;
};

struct diag	*diag_new(const char *file);
void		 diag_free(struct diag *);
void		 diag_add(struct diag *, uint32_t line, uint32_t col,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
size_t		 diag_count(const struct diag *);
void		 diag_sort(struct diag *);
char		*diag_format(const struct diag *, size_t i);
void		 diag_print(struct diag *, FILE *);
void		 diag_clear(struct diag *);

#endif
