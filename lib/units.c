/*
 * Durations and sizes: parsing with overflow checks, and exact formatting.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

static const struct {
	const char	*suffix;
	int64_t		 ms;
} units_time[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 24 * 3600 * 1000 },
};
#define UNITS_NTIME	(sizeof units_time / sizeof units_time[0])

/* Read a run of digits; -1 if none or on overflow of limit. */
static int
units_digits(const char **pp, int64_t *out)
{
	const char	*p = *pp;
	int64_t		 v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Parse a duration into milliseconds; -1 when malformed or too large. */
int
units_parse_duration(const char *s, int64_t *ms)
{
	const char	*p = s;
	int64_t		 v, total = 0;
	size_t		 i, best, blen;

	if (units_digits(&p, &v) == 0 && *p == '\0') {
		if (v > INT64_MAX / 1000)
			return -1;
		*ms = v * 1000;
		return 0;
	}
	p = s;
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (units_digits(&p, &v) == -1)
			return -1;
		/* Longest suffix wins, so "ms" is not read as "m" then "s". */
		best = UNITS_NTIME;
		blen = 0;
		for (i = 0; i < UNITS_NTIME; i++) {
			size_t l = strlen(units_time[i].suffix);
			if (strncmp(p, units_time[i].suffix, l) == 0 && l > blen) {
				best = i;
				blen = l;
			}
		}
		if (best == UNITS_NTIME)
			return -1;
		p += blen;
		if (v > (INT64_MAX - total) / units_time[best].ms)
			return -1;
		total += v * units_time[best].ms;
	}
	*ms = total;
	return 0;
}

/* Parse a size into bytes; -1 when malformed or too large. */
int
units_parse_size(const char *s, int64_t *bytes)
{
	const char	*p = s;
	int64_t		 v, mul = 1;

	if (units_digits(&p, &v) == -1)
		return -1;
	switch (*p) {
	case '\0':
		break;
	case 'K': case 'k':
		mul = 1024;
		break;
	case 'M': case 'm':
		mul = 1024 * 1024;
		break;
	case 'G': case 'g':
		mul = 1024LL * 1024 * 1024;
		break;
	case 'T': case 't':
		mul = 1024LL * 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

/* Format milliseconds exactly, largest units first ("1h30m", "2s500ms"). */
char *
units_format_duration(int64_t ms, char *buf, size_t len)
{
	size_t	i, off = 0;
	int64_t	q;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = UNITS_NTIME; i-- > 0 && off < len;) {
		q = ms / units_time[i].ms;
		if (q == 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%lld%s",
		    (long long)q, units_time[i].suffix);
		ms -= q * units_time[i].ms;
	}
	return buf;
}

/* Format bytes in the largest unit that divides them. */
char *
units_format_size(int64_t bytes, char *buf, size_t len)
{
	static const char	 sfx[] = "KMGT";
	int			 i = -1;

	while (i < 3 && bytes != 0 && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%lld", (long long)bytes);
	else
		snprintf(buf, len, "%lld%c", (long long)bytes, sfx[i]);
	return buf;
}
