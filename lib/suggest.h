/*
 * "Did you mean": the known word closest to a misspelt one.
 */
#ifndef PL_SUGGEST_H
#define PL_SUGGEST_H

#include <stddef.h>

/*
 * The word of words[0..n) nearest to s by edit distance (adjacent swaps
 * count as one edit), or NULL when none is close enough to be a likely typo.
 */
const char	*suggest(const char *s, const char *const *words, size_t n);

#endif
