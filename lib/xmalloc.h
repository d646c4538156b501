/*
 * Allocation wrappers that never return NULL: out of memory is fatal.
 * Every count × size goes through reallocarray so it cannot overflow.
 */
#ifndef PL_XMALLOC_H
#define PL_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*xprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
