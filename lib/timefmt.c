/*
 * Time in microseconds and its RFC 3339 form.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

/* Microseconds since the epoch (CLOCK_REALTIME). */
int64_t
timefmt_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds of CLOCK_MONOTONIC, for measuring intervals. */
int64_t
timefmt_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-27T20:15:00.123456Z". */
char *
timefmt_rfc3339(int64_t us, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;
	int64_t		frac;

	t = (time_t)(us / 1000000);
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long long)frac);
	return buf;
}

/* Parse what timefmt_rfc3339 writes (the fraction may have 0-6 digits). */
int
timefmt_parse(const char *s, int64_t *us)
{
	struct tm	 tm;
	const char	*p;
	int64_t		 frac = 0, scale = 100000;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	return 0;
}

/* A short elapsed time: "850ms", "4.1s", "2m05s", "1h02m", "3d04h". */
char *
timefmt_elapsed(int64_t us, char *buf, size_t len)
{
	int64_t	s = us / 1000000;

	if (us < 0)
		us = s = 0;
	if (us < 1000000)
		snprintf(buf, len, "%lldms", (long long)(us / 1000));
	else if (s < 60)
		snprintf(buf, len, "%lld.%llds", (long long)s,
		    (long long)(us % 1000000 / 100000));
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}
