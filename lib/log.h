/*
 * Logging for the daemon, the client and the library.
 *
 * OpenBSD idiom: log_warn() appends strerror(errno), log_warnx() does not;
 * fatal()/fatalx() log and exit.  Every function saves and restores errno so
 * logging never disturbs the caller's error handling.  Lines go to stderr
 * with a level prefix; under systemd that prefix is the sd-daemon "<N>"
 * priority so journald files each line at the right level.  Tests install a
 * hook to capture lines instead.
 */
#ifndef PL_LOG_H
#define PL_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
};

typedef void (*log_hook_cb)(enum log_level, const char *line, void *arg);

void	log_init(const char *progname, enum log_level min, int journald);
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
int	log_level_from_name(const char *, enum log_level *);
const char *log_level_name(enum log_level);
void	log_set_hook(log_hook_cb, void *arg);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_vlog(enum log_level, int with_errno, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
