/*
 * Whether a file may be trusted: its owner and its mode.
 */
#include "config.h"

#include <sys/stat.h>

#include "trust.h"
#include "xmalloc.h"

char *
trust_why_not(const struct stat *sb, uid_t self)
{
	if (sb->st_uid != 0 && sb->st_uid != self)
		return xprintf("owned by uid %u, not by root or the daemon's "
		    "user (uid %u)", (unsigned)sb->st_uid, (unsigned)self);
	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return xprintf("writable by %s (mode %04o)",
		    (sb->st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(sb->st_mode & 07777));
	return NULL;
}
