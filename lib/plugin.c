/*
 * Runner plugins: dlopen, the versioned entry point, registration.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin.h"
#include "trust.h"
#include "runner.h"
#include "xmalloc.h"

/* Load one plugin and hand its runner to the registry. */
int
plugin_load(const char *path, char **err)
{
	const struct pipelined_runner	*ops;
	pipelined_runner_fn		 fn;
	struct stat			 st;
	void				*h;
	char				*why;

	/* Code the daemon runs (as root, maybe): only from trusted files. */
	if (stat(path, &st) == -1) {
		*err = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((why = trust_why_not(&st, geteuid())) != NULL) {
		*err = xprintf("%s: not loaded: %s", path, why);
		free(why);
		return -1;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		*err = xprintf("%s: %s", path, dlerror());
		return -1;
	}
	*(void **)&fn = dlsym(h, PIPELINED_RUNNER_SYMBOL);
	if (fn == NULL) {
		*err = xprintf("%s: no %s(): not a pipelined runner", path,
		    PIPELINED_RUNNER_SYMBOL);
		dlclose(h);
		return -1;
	}
	if ((ops = fn()) == NULL) {
		*err = xprintf("%s: %s() returned nothing", path,
		    PIPELINED_RUNNER_SYMBOL);
		dlclose(h);
		return -1;
	}
	if (runner_add(ops, &why) == -1) {
		*err = xprintf("%s: %s", path, why != NULL ? why :
		    "its init failed");
		free(why);
		dlclose(h);
		return -1;
	}
	/* Stays loaded for the life of the daemon: its code is in use. */
	runner_set_path(ops->name, path);
	log_info("loaded runner %s from %s", ops->name, path);
	return 0;
}

/* Only NAME.so, never a hidden file. */
static int
plugin_wanted(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return len >= 4 && strcmp(de->d_name + len - 3, ".so") == 0 &&
	    de->d_name[0] != '.';
}

/* Load every NAME.so of a directory, in name order. */
int
plugin_load_dir(const char *dir)
{
	struct dirent	**names;
	char		 *path, *err = NULL;
	int		  i, count, n = 0;

	if ((count = scandir(dir, &names, plugin_wanted, alphasort)) == -1) {
		if (errno != ENOENT)
			log_warn("runner directory %s", dir);
		return 0;
	}
	for (i = 0; i < count; i++) {
		path = xprintf("%s/%s", dir, names[i]->d_name);
		if (plugin_load(path, &err) == 0)
			n++;
		else {
			log_warnx("runner plugin refused: %s", err);
			free(err);
			err = NULL;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return n;
}
