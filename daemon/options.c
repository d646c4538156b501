/*
 * The daemon's settings: one setter per key, shared by the command line
 * (--max-parallel 8) and the configuration file (max_parallel = 8), so
 * that both accept and refuse exactly the same values with the same
 * words.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "units.h"
#include "xmalloc.h"

static int
options_number(const char *v, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	 n;
	char		*end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
options_path(char **slot, const char *v, char **why)
{
	if (v[0] != '/') {
		*why = xprintf("'%s' is not an absolute path", v);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}

static int
options_name(char **slot, const char *v, char **why)
{
	const char	*p;

	for (p = v; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-' &&
		    *p != '.')
			break;
	if (*v == '\0' || *p != '\0' || p - v > 64) {
		*why = xprintf("'%s' is not a name (letters, digits, '_', "
		    "'-', '.'; at most 64)", v);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}

#define OPTIONS_RANGE(field, min, max, what) do {			\
	if (options_number(v, min, max, &n) == -1) {			\
		*why = xprintf("'%s': " what, v);			\
		return -1;						\
	}								\
	o->field = n;							\
	return 0;							\
} while (0)

/* Set the setting named key (as in the configuration file). */
int
options_set(struct options *o, const char *key, const char *v, char **why)
{
	enum log_level	 lvl;
	unsigned long	 n;
	int64_t		 bytes;

	*why = NULL;
	if (strcmp(key, "socket") == 0)
		return options_path(&o->socket, v, why);
	if (strcmp(key, "state_dir") == 0)
		return options_path(&o->state_dir, v, why);
	if (strcmp(key, "runner_dir") == 0)
		return options_path(&o->runner_dir, v, why);
	if (strcmp(key, "pipelines_dir") == 0)
		return options_path(&o->pipelines_dir, v, why);
	if (strcmp(key, "runner") == 0)
		return options_name(&o->runner, v, why);
	if (strcmp(key, "admin_group") == 0) {
		if (getgrnam(v) == NULL) {
			*why = xprintf("no group named '%s'", v);
			return -1;
		}
		return options_name(&o->admin_group, v, why);
	}
	if (strcmp(key, "max_parallel") == 0)
		OPTIONS_RANGE(max_parallel, 1, 100000, "must be 1 to 100000");
	if (strcmp(key, "retention_days") == 0)
		OPTIONS_RANGE(retention_days, 1, 36500, "must be 1 to 36500");
	if (strcmp(key, "max_executions") == 0)
		OPTIONS_RANGE(max_executions, 0, ULONG_MAX,
		    "must be a number (0: no limit)");
	if (strcmp(key, "max_pending_per_user") == 0)
		OPTIONS_RANGE(max_pending, 1, 1000000,
		    "must be 1 to 1000000");
	if (strcmp(key, "max_connections") == 0)
		OPTIONS_RANGE(max_connections, 1, 65536, "must be 1 to 65536");
	if (strcmp(key, "max_frame") == 0) {
		if (units_parse_size(v, &bytes) == -1 || bytes < 1024 ||
		    bytes > 1024LL * 1024 * 1024) {
			*why = xprintf("'%s': must be a size from 1K to 1G", v);
			return -1;
		}
		o->max_frame = (size_t)bytes;
		return 0;
	}
	if (strcmp(key, "journal_sync") == 0) {
		if (journal_sync_from_name(v, &o->journal_sync) == -1) {
			*why = xprintf("'%s': must be batch, always or off", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (log_level_from_name(v, &lvl) == -1) {
			*why = xprintf("'%s': must be debug, info, warning or "
			    "error", v);
			return -1;
		}
		free(o->log_level);
		o->log_level = xstrdup(v);
		return 0;
	}
	*why = xprintf("unknown setting '%s'", key);
	return -1;
}

/* The keys options_set knows, for "did you mean" and documentation. */
const char *const options_keys[] = {
	"socket", "state_dir", "runner", "max_parallel", "journal_sync",
	"retention_days", "max_executions", "admin_group", "pipelines_dir",
	"runner_dir", "log_level", "max_frame", "max_pending_per_user",
	"max_connections", NULL
};

/* A [queue NAME] limit; a later one for the same queue wins. */
int
options_set_queue(struct options *o, const char *name, const char *v,
    char **why)
{
	unsigned long	 n;
	char		*slot = NULL;

	if (options_name(&slot, name, why) == -1)
		return -1;
	if (options_number(v, 1, 100000, &n) == -1) {
		*why = xprintf("'%s': must be 1 to 100000", v);
		free(slot);
		return -1;
	}
	o->queues = xreallocarray(o->queues, o->nqueues + 1,
	    sizeof *o->queues);
	o->queues[o->nqueues].name = slot;
	o->queues[o->nqueues].max = (unsigned)n;
	o->nqueues++;
	return 0;
}

/*
 * A setting of a runner ([NAME] KEY = VALUE, --runner-option); a later
 * one wins.  where is "FILE:LINE", or NULL for the command line.
 */
void
options_add_runner_option(struct options *o, const char *runner,
    const char *key, const char *value, const char *where, unsigned line)
{
	struct runner_option	*ro;

	o->runner_options = xreallocarray(o->runner_options,
	    o->nrunner_options + 1, sizeof *o->runner_options);
	ro = &o->runner_options[o->nrunner_options++];
	ro->runner = xstrdup(runner);
	ro->key = xstrdup(key);
	ro->value = xstrdup(value);
	ro->where = where != NULL ? xprintf("%s:%u", where, line) :
	    xstrdup("--runner-option");
}

/* The last value given for runner.key, or NULL. */
const char *
options_runner_option(const struct options *o, const char *runner,
    const char *key)
{
	const struct runner_option	*ro;
	size_t				 i;

	for (i = o->nrunner_options; i-- > 0;) {
		ro = &o->runner_options[i];
		if (strcmp(ro->runner, runner) == 0 &&
		    strcmp(ro->key, key) == 0)
			return ro->value;
	}
	return NULL;
}

/* The limit of a queue, 0 for none; the last one given wins. */
unsigned
options_queue_limit(const struct options *o, const char *name)
{
	size_t	i;

	for (i = o->nqueues; i-- > 0;)
		if (strcmp(o->queues[i].name, name) == 0)
			return o->queues[i].max;
	return 0;
}

/* Fill in what neither the file nor the command line set. */
void
options_defaults(struct options *o)
{
	const char	*xdg, *home;
	long		 n;

	if (o->socket == NULL) {
		if (geteuid() == 0)
			o->socket = xstrdup("/run/pipelined/pipelined.sock");
		else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg)
			o->socket = xprintf("%s/pipelined.sock", xdg);
		else
			o->socket = xprintf("/tmp/pipelined-%u/pipelined.sock",
			    (unsigned)geteuid());
	}
	if (o->state_dir == NULL) {
		if (geteuid() == 0)
			o->state_dir = xstrdup("/var/lib/pipelined");
		else if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg)
			o->state_dir = xprintf("%s/pipelined", xdg);
		else if ((home = getenv("HOME")) != NULL && *home)
			o->state_dir = xprintf("%s/.local/state/pipelined",
			    home);
		else
			o->state_dir = xprintf("/tmp/pipelined-%u/state",
			    (unsigned)geteuid());
	}
	if (o->runner == NULL)
		o->runner = xstrdup("local");
	if (o->max_parallel == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		o->max_parallel = n > 0 ? (unsigned)n : 1;
	}
	if (o->max_frame == 0)
		o->max_frame = PROTO_MAX_FRAME;
	if (o->retention_days == 0)
		o->retention_days = 30;
	if (o->max_pending == 0)
		o->max_pending = OPTIONS_MAX_PENDING;
	if (o->max_connections == 0)
		o->max_connections = OPTIONS_MAX_CONNECTIONS;
	if (o->runner_dir == NULL)
		o->runner_dir = xstrdup(PL_RUNNER_DIR);
	if (o->pipelines_dir == NULL)
		o->pipelines_dir = geteuid() == 0 ?
		    xstrdup(PL_SYSCONFDIR "/pipelined/pipelines.d") :
		    options_user_config("pipelines.d");
}

/*
 * A file or directory under the user's configuration directory:
 * $XDG_CONFIG_HOME/pipelined/NAME, else ~/.config/pipelined/NAME.
 */
char *
options_user_config(const char *name)
{
	const char	*xdg, *home;

	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && xdg[0] == '/')
		return xprintf("%s/pipelined/%s", xdg, name);
	if ((home = getenv("HOME")) != NULL && home[0] == '/')
		return xprintf("%s/.config/pipelined/%s", home, name);
	return xprintf("/tmp/pipelined-%u/%s", (unsigned)geteuid(), name);
}

void
options_free(struct options *o)
{
	size_t	i;

	for (i = 0; i < o->nqueues; i++)
		free(o->queues[i].name);
	free(o->queues);
	for (i = 0; i < o->nrunner_options; i++) {
		free(o->runner_options[i].runner);
		free(o->runner_options[i].key);
		free(o->runner_options[i].value);
		free(o->runner_options[i].where);
	}
	free(o->runner_options);
	free(o->config);
	free(o->socket);
	free(o->state_dir);
	free(o->runner);
	free(o->runner_dir);
	free(o->pipelines_dir);
	free(o->admin_group);
	free(o->log_level);
	memset(o, 0, sizeof *o);
}
