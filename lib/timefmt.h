/*
 * Time: the current wall clock in microseconds, and RFC 3339 UTC text
 * with microseconds ("2026-11-27T20:15:00.123456Z") both ways.
 */
#ifndef PL_TIMEFMT_H
#define PL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN	32

int64_t		 timefmt_now_us(void);
int64_t		 timefmt_mono_us(void);
char		*timefmt_rfc3339(int64_t us, char *buf, size_t len);
int		 timefmt_parse(const char *, int64_t *us);
/* "4.1s", "2m05s", "1h02m": short elapsed times for people. */
char		*timefmt_elapsed(int64_t us, char *buf, size_t len);

#endif
