/*
 * Logging: level-filtered lines to stderr (or a test hook), errno-neutral.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char	*log_progname = "pipelined";
static enum log_level	 log_min = LOG_LEVEL_INFO;
static int		 log_journald;
static log_hook_cb	 log_hook;
static void		*log_hook_arg;

static const char *const log_names[] = { "debug", "info", "warning", "error" };
/* sd-daemon(3) priorities: debug 7, info 6, warning 4, err 3. */
static const int log_prio[] = { 7, 6, 4, 3 };

/* Set the program name, the lowest level shown, and the output style. */
void
log_init(const char *progname, enum log_level min, int journald)
{
	log_progname = progname;
	log_min = min;
	log_journald = journald;
}

/* Change the lowest level shown. */
void
log_set_level(enum log_level min)
{
	log_min = min;
}

/* The lowest level shown. */
enum log_level
log_get_level(void)
{
	return log_min;
}

/* Parse "debug", "info", "warning" (or "warn") and "error". */
int
log_level_from_name(const char *name, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warn") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

/* The name of a level. */
const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

/* Send lines to a callback instead of stderr (NULL restores stderr). */
void
log_set_hook(log_hook_cb cb, void *arg)
{
	log_hook = cb;
	log_hook_arg = arg;
}

/* Format and emit one line; keeps errno as it found it. */
void
log_vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char	line[4096];
	int	saved = errno;
	size_t	len;

	if (level < log_min && log_hook == NULL) {
		errno = saved;
		return;
	}
	vsnprintf(line, sizeof line, fmt, ap);
	if (with_errno) {
		len = strlen(line);
		snprintf(line + len, sizeof line - len, ": %s", strerror(saved));
	}
	if (log_hook != NULL)
		log_hook(level, line, log_hook_arg);
	else if (log_journald)
		fprintf(stderr, "<%d>%s\n", log_prio[level], line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, log_names[level],
		    line);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	log_vlog(level, with_errno, fmt, ap);			\
	va_end(ap);						\
}

/* Debug detail, shown with --log-level debug. */
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
/* Normal operation. */
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
/* Something failed; errno says why. */
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
/* Something failed; the message says why. */
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)

/* A broken invariant with errno set: log and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

/* A broken invariant: log and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
