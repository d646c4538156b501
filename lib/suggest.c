/*
 * "Did you mean": optimal string alignment distance against a word list.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "suggest.h"

#define SUGGEST_MAXLEN	64

static size_t
suggest_min3(size_t a, size_t b, size_t c)
{
	size_t	m = a < b ? a : b;

	return m < c ? m : c;
}

/* Edit distance with transpositions; words past SUGGEST_MAXLEN never match. */
static size_t
suggest_distance(const char *a, const char *b)
{
	size_t	d[SUGGEST_MAXLEN + 1][SUGGEST_MAXLEN + 1];
	size_t	la = strlen(a), lb = strlen(b), i, j, cost;

	if (la > SUGGEST_MAXLEN || lb > SUGGEST_MAXLEN)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] != b[j - 1];
			d[i][j] = suggest_min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
			    d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

/*
 * The closest word within a third of its length (at least 1, at most 3);
 * failing that, the first word that s is a prefix of ("cpu": "cpu_time").
 */
const char *
suggest(const char *s, const char *const *words, size_t n)
{
	const char	*best = NULL;
	size_t		 i, dist, bestd = SIZE_MAX, limit, len = strlen(s);

	for (i = 0; i < n; i++) {
		dist = suggest_distance(s, words[i]);
		limit = strlen(words[i]) / 3;
		if (limit < 1)
			limit = 1;
		if (limit > 3)
			limit = 3;
		if (dist <= limit && dist < bestd) {
			bestd = dist;
			best = words[i];
		}
	}
	for (i = 0; best == NULL && len >= 3 && i < n; i++)
		if (strncmp(words[i], s, len) == 0)
			best = words[i];
	return best;
}
