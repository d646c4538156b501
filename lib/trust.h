/*
 * Files the daemon takes code or settings from (its configuration,
 * registered pipelines, runner plugins) must be owned by root or by the
 * daemon's user and writable by nobody else.
 */
#ifndef PL_TRUST_H
#define PL_TRUST_H

#include <sys/stat.h>
#include <sys/types.h>

/*
 * NULL when the file or directory sb describes may be trusted by a daemon
 * running as self; otherwise why not, to free ("owned by uid 1000, not by
 * root or the daemon's user (uid 0)", "writable by others (mode 0666)").
 */
char	*trust_why_not(const struct stat *sb, uid_t self);

#endif
