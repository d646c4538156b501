/*
 * Durations and sizes as written in pipeline files and on command lines.
 *
 * Durations: 250ms, 30s, 5m, 2h, 1d, combinations such as 1h30m, or a
 * whole number of seconds.  Sizes: 512K, 16M, 2G, 1T (powers of 1024), or
 * a number of bytes.
 */
#ifndef PL_UNITS_H
#define PL_UNITS_H

#include <stddef.h>
#include <stdint.h>

int	units_parse_duration(const char *, int64_t *ms);
int	units_parse_size(const char *, int64_t *bytes);
/* "1h30m", "250ms", "0s": the shortest exact form. */
char	*units_format_duration(int64_t ms, char *buf, size_t len);
/* "16M", "1536K", "100": the largest exact unit. */
char	*units_format_size(int64_t bytes, char *buf, size_t len);

#endif
