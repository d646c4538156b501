/*
 * Run-as identities, resolved through NSS in the daemon.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runas.h"
#include "xmalloc.h"

/* The identity of a passwd entry: its groups looked up too. */
static struct runas *
runas_from(const struct passwd *pw, char **err)
{
	struct runas	*ra;
	int		 n, rc;

	ra = xcalloc(1, sizeof *ra);
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->name = xstrdup(pw->pw_name);
	ra->home = xstrdup(pw->pw_dir != NULL && *pw->pw_dir ? pw->pw_dir :
	    "/");
	ra->shell = xstrdup(pw->pw_shell != NULL && *pw->pw_shell ?
	    pw->pw_shell : "/bin/sh");
	ra->set_identity = geteuid() == 0;
	n = 16;
	for (;;) {
		ra->groups = xreallocarray(ra->groups, (size_t)n,
		    sizeof *ra->groups);
		rc = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, ra->groups, &rc) != -1)
			break;
		if (rc <= n || rc > 65536) {
			*err = xprintf("looking up the groups of %s failed",
			    pw->pw_name);
			runas_free(ra);
			return NULL;
		}
		n = rc;
	}
	ra->ngroups = (size_t)rc;
	*err = NULL;
	return ra;
}

/* A buffer for the reentrant passwd calls. */
static char *
runas_buffer(size_t *size)
{
	long	n = sysconf(_SC_GETPW_R_SIZE_MAX);

	*size = n < 16384 ? 16384 : (size_t)n;
	return xmalloc(*size);
}

/* The passwd entry and group list of uid. */
struct runas *
runas_lookup(uid_t uid, char **err)
{
	struct passwd	 pw, *res = NULL;
	struct runas	*ra;
	char		*buf;
	size_t		 size;
	int		 rc;

	buf = runas_buffer(&size);
	rc = getpwuid_r(uid, &pw, buf, size, &res);
	if (res == NULL) {
		*err = rc != 0 ? xprintf("looking up uid %u: %s",
		    (unsigned)uid, strerror(rc)) :
		    xprintf("uid %u has no user entry", (unsigned)uid);
		free(buf);
		return NULL;
	}
	ra = runas_from(&pw, err);
	free(buf);
	return ra;
}

/* The passwd entry and group list of the user called name. */
struct runas *
runas_lookup_name(const char *name, char **err)
{
	struct passwd	 pw, *res = NULL;
	struct runas	*ra;
	char		*buf;
	size_t		 size;
	int		 rc;

	buf = runas_buffer(&size);
	rc = getpwnam_r(name, &pw, buf, size, &res);
	if (res == NULL) {
		*err = rc != 0 ? xprintf("looking up user %s: %s", name,
		    strerror(rc)) : xprintf("no user named '%s'", name);
		free(buf);
		return NULL;
	}
	ra = runas_from(&pw, err);
	free(buf);
	return ra;
}

/* Free an identity. */
void
runas_free(struct runas *ra)
{
	if (ra == NULL)
		return;
	free(ra->groups);
	free(ra->name);
	free(ra->home);
	free(ra->shell);
	free(ra);
}
