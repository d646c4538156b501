/*
 * Small helpers of the Celery runner: allocation that never returns NULL,
 * clocks, base64, UUIDs, and parsing the broker URL and durations.  A
 * plugin has its own: it reaches the daemon only through the host table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "celery.h"

static const struct pipelined_host	*cx_host;

/* Log through the daemon from now on. */
void
cx_set_log(const struct pipelined_host *host)
{
	cx_host = host;
}

/* Log a line through the daemon (level 0 debug ... 3 error). */
void
cx_log(int level, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (cx_host != NULL && s != NULL)
		cx_host->log(level, "celery: %s", s);
	free(s);
}

/* Out of memory: nothing sensible is left to do. */
static void __attribute__((noreturn))
cx_oom(void)
{
	if (cx_host != NULL)
		cx_host->log(3, "celery: out of memory");
	abort();
}

/* malloc that never returns NULL. */
void *
cx_malloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		cx_oom();
	return p;
}

/* calloc that never returns NULL. */
void *
cx_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		cx_oom();
	return p;
}

/* reallocarray that never returns NULL. */
void *
cx_reallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n == 0 ? 1 : n, size == 0 ? 1 : size)) ==
	    NULL)
		cx_oom();
	return p;
}

/* strdup that never returns NULL. */
char *
cx_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		cx_oom();
	return p;
}

/* strndup that never returns NULL. */
char *
cx_strndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		cx_oom();
	return p;
}

/* A formatted string, allocated. */
char *
cx_printf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		cx_oom();
	return s;
}

/* A monotonic clock in milliseconds. */
int64_t
cx_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wall clock in microseconds. */
int64_t
cx_wall_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A random (version 4) UUID, as Celery's task ids and delivery tags. */
void
cx_uuid4(char out[37])
{
	uint8_t	 b[16];
	size_t	 got = 0;
	ssize_t	 n;

	while (got < sizeof b) {
		if ((n = getrandom(b + got, sizeof b - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			/* No entropy source at all: ids must still differ. */
			arc4random_buf(b + got, sizeof b - got);
			break;
		}
		got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static const char cx_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding, NUL-terminated. */
char *
cx_base64_encode(const void *src, size_t len)
{
	const uint8_t	*p = src;
	char		*out, *o;
	uint32_t	 v;
	size_t		 i;

	out = o = cx_malloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = cx_b64[v >> 18];
		*o++ = cx_b64[(v >> 12) & 63];
		*o++ = cx_b64[(v >> 6) & 63];
		*o++ = cx_b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = cx_b64[v >> 18];
		*o++ = cx_b64[(v >> 12) & 63];
		if (i + 1 < len)
			*o++ = cx_b64[(v >> 6) & 63];
		else
			*o++ = '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* Decode base64 (padding optional); NULL when it is not base64. */
char *
cx_base64_decode(const char *s, size_t len, size_t *outlen)
{
	char		*out;
	const char	*q;
	uint32_t	 v = 0;
	size_t		 i, n = 0;
	int		 bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	out = cx_malloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (q = strchr(cx_b64, s[i])) == NULL) {
			free(out);
			return NULL;
		}
		v = v << 6 | (uint32_t)(q - cx_b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)((v >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* Duration units, longest first so that "ms" is never read as "m". */
static const struct {
	const char	*unit;
	size_t		 len;
	int64_t		 ms;
} cx_units[] = {
	{ "ms", 2, 1 }, { "d", 1, 86400000 }, { "h", 1, 3600000 },
	{ "m", 1, 60000 }, { "s", 1, 1000 },
};
#define CX_NUNITS	(sizeof cx_units / sizeof cx_units[0])

/*
 * A duration as pipeline files write them - "250ms", "30s", "5m", "2h",
 * "1d", sums like "1h30m", or whole seconds - to milliseconds.
 */
int
cx_duration(const char *s, int64_t *ms)
{
	const char	*p = s;
	int64_t		 v, total = 0;
	size_t		 i;
	bool		 bare;

	if (*p == '\0')
		return -1;
	bare = strspn(s, "0123456789") == strlen(s);
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		for (v = 0; isdigit((unsigned char)*p); p++) {
			if (v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (bare) {
			if (v > INT64_MAX / 1000)
				return -1;
			*ms = v * 1000;
			return 0;
		}
		for (i = 0; i < CX_NUNITS; i++)
			if (strncmp(p, cx_units[i].unit, cx_units[i].len) == 0)
				break;
		if (i == CX_NUNITS || v > (INT64_MAX - total) / cx_units[i].ms)
			return -1;
		total += v * cx_units[i].ms;
		p += cx_units[i].len;
	}
	*ms = total;
	return 0;
}

/* A duration as the daemon writes them: "300ms", "30s", "1h30m"... */
const char *
cx_format_ms(int64_t ms, char *buf, size_t len)
{
	static const int	 order[] = { 1, 2, 3, 4, 0 };	/* d h m s ms */
	size_t			 i, off = 0;
	int64_t			 n;
	int			 w;

	if (len > 0)
		buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		n = ms / cx_units[order[i]].ms;
		ms %= cx_units[order[i]].ms;
		if (n == 0 || off >= len)
			continue;
		w = snprintf(buf + off, len - off, "%lld%s", (long long)n,
		    cx_units[order[i]].unit);
		if (w > 0)
			off += (size_t)w;
	}
	return buf;
}

/* Undo %XX escapes (credentials may hold any byte). */
static char *
cx_unescape(const char *s, size_t n, char **err)
{
	char	*out, hex[3] = { 0 };
	size_t	 i, o = 0;

	out = cx_malloc(n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])) {
			*err = cx_strdup("a bad %-escape in the broker URL");
			free(out);
			return NULL;
		}
		hex[0] = s[i + 1];
		hex[1] = s[i + 2];
		out[o++] = (char)strtol(hex, NULL, 16);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* A whole number in [min, max] from s[0..n). */
static int
cx_number(const char *s, size_t n, long min, long max, long *v)
{
	char	buf[16], *end;

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!isdigit((unsigned char)buf[0]))
		return -1;
	*v = strtol(buf, &end, 10);
	return *end != '\0' || *v < min || *v > max ? -1 : 0;
}

/*
 * Parse redis://[[user]:password@]host[:port][/db]; host may be [v6].
 * Defaults: 127.0.0.1, 6379, database 0.
 */
int
cx_url_parse(const char *url, struct broker_url *u, char **err)
{
	const char	*p, *at, *hend, *slash, *colon;
	long		 v;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (strncmp(url, "redis://", 8) != 0) {
		*err = cx_strdup("the broker URL must be redis://[[user]:"
		    "password@]host[:port][/db] (no other scheme)");
		return -1;
	}
	p = url + 8;
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	if ((at = memchr(p, '@', (size_t)(slash - p))) != NULL) {
		if ((colon = memchr(p, ':', (size_t)(at - p))) != NULL) {
			if (colon > p && (u->user = cx_unescape(p,
			    (size_t)(colon - p), err)) == NULL)
				goto bad;
			if ((u->password = cx_unescape(colon + 1,
			    (size_t)(at - colon - 1), err)) == NULL)
				goto bad;
		} else if ((u->password = cx_unescape(p, (size_t)(at - p),
		    err)) == NULL)
			goto bad;
		p = at + 1;
	}
	if (*p == '[') {
		if ((hend = memchr(p, ']', (size_t)(slash - p))) == NULL)
			goto syntax;
		u->host = cx_strndup(p + 1, (size_t)(hend - p - 1));
		p = hend + 1;
	} else {
		hend = memchr(p, ':', (size_t)(slash - p));
		if (hend == NULL)
			hend = slash;
		u->host = cx_strndup(p, (size_t)(hend - p));
		p = hend;
	}
	if (*u->host == '\0') {
		free(u->host);
		u->host = cx_strdup("127.0.0.1");
	}
	if (*p == ':') {
		if (cx_number(p + 1, (size_t)(slash - p - 1), 1, 65535,
		    &v) == -1)
			goto syntax;
		u->port = (int)v;
	} else if (p != slash)
		goto syntax;
	if (*slash == '/' && slash[1] != '\0') {
		if (cx_number(slash + 1, strlen(slash + 1), 0, INT_MAX,
		    &v) == -1)
			goto syntax;
		u->db = (int)v;
	}
	u->display = cx_printf(strchr(u->host, ':') != NULL ?
	    "redis://[%s]:%d/%d" : "redis://%s:%d/%d", u->host, u->port,
	    u->db);
	return 0;
syntax:
	*err = cx_strdup("the broker URL is not redis://[[user]:password@]"
	    "host[:port][/db]");
bad:
	cx_url_clear(u);
	return -1;
}

/* Free a parsed URL, wiping the password. */
void
cx_url_clear(struct broker_url *u)
{
	free(u->host);
	free(u->user);
	if (u->password != NULL)
		explicit_bzero(u->password, strlen(u->password));
	free(u->password);
	free(u->display);
	memset(u, 0, sizeof *u);
}
