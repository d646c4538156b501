/*
 * Who a task runs as: the submitter's (or a registered pipeline's user:)
 * uid, primary gid, supplementary groups, name, home and shell, looked up
 * once (in the parent, since the child may not call NSS).  A failed lookup
 * is an error, never a fallback.
 */
#ifndef PL_RUNAS_H
#define PL_RUNAS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct runas {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;
	size_t	 ngroups;
	char	*name;
	char	*home;
	char	*shell;
	bool	 set_identity;	/* the daemon is root: switch to it */
};

/* Look up uid; NULL with *err set (to free) when there is no such user. */
struct runas	*runas_lookup(uid_t, char **err);
/* The same by name (a registered pipeline's user:). */
struct runas	*runas_lookup_name(const char *, char **err);
void		 runas_free(struct runas *);

#endif
