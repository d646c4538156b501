/*
 * Runner plugins: shared objects NAME.so in the runner directory, each
 * exporting PIPELINED_RUNNER_SYMBOL (<pipelined/runner.h>).  A plugin
 * built for another ABI version is refused with a message saying so.
 */
#ifndef PL_PLUGIN_H
#define PL_PLUGIN_H

/* Load one plugin; -1 with *err set (to free) when refused. */
int	plugin_load(const char *path, char **err);
/*
 * Load every *.so of dir (a missing dir is no error); each refusal is
 * logged.  Returns how many were loaded.
 */
int	plugin_load_dir(const char *dir);

#endif
