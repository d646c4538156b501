/*
 * The runner registry and the host table: the library's helpers as the
 * runner ABI (<pipelined/runner.h>) presents them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "log.h"
#include "outlog.h"
#include "pipeline.h"
#include "result.h"
#include "spawn.h"
#include "runner.h"
#include "taskspec.h"
#include "walk.h"
#include "xmalloc.h"

static struct runner_config	 runner_cfg;
static struct pipelined_host	 runner_hosttab;
static struct runner		*runner_v;
static size_t			 runner_n;

static int
runner_walk_start(struct execution *e, const struct walk_ops *ops, void *arg,
    char **err)
{
	struct walk_host	wh;

	wh.base = runner_cfg.base;
	wh.lang = runner_cfg.lang;
	return walk_start(e, &wh, ops, arg, err);
}

static void
runner_taskspec(struct taskspec *ts, const struct task_result *tr,
    unsigned attempt)
{
	taskspec_task(ts, tr, walk_runas(tr->r.exec), runner_cfg.lang,
	    attempt);
}

static char *
runner_address(const struct result *r)
{
	return result_address(r);
}

static struct result *
runner_task_result(struct task_result *tr)
{
	return &tr->r;
}

/* Append bytes to a task result's output log (remote runners' output). */
static int
runner_output(struct task_result *tr, const void *p, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = outlog_open(runner_cfg.state_dir, tr)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			close(fd);
			return -1;
		}
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

/* A progress note on a running task result. */
static void
runner_note(struct task_result *tr, const char *msg)
{
	result_note(&tr->r, msg);
}

static const char *
runner_task_queue(const struct task_result *tr)
{
	return tr->r.exec->def->tasks[tr->te->task].queue;
}

static unsigned
runner_exec_max_parallel(const struct execution *e)
{
	return e->def->max_parallel;
}

static void
runner_spawn_cmd(struct spawn_cmd *cmd, const struct task_result *tr,
    const struct taskspec *ts)
{
	taskspec_spawn_cmd(cmd, ts, walk_runas(tr->r.exec));
}

static const char *
runner_option(const char *runner, const char *key)
{
	return runner_cfg.option != NULL ? runner_cfg.option(runner, key) :
	    NULL;
}

static void	runner_log(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
runner_log(int level, const char *fmt, ...)
{
	va_list		ap;
	enum log_level	l;

	l = level <= 0 ? LOG_LEVEL_DEBUG : level == 1 ? LOG_LEVEL_INFO :
	    level == 2 ? LOG_LEVEL_WARN : LOG_LEVEL_ERR;
	va_start(ap, fmt);
	log_vlog(l, 0, fmt, ap);
	va_end(ap);
}

static unsigned
runner_no_queue_limit(const char *queue)
{
	return 0;
}

/* Without a journal everything is as durable as it gets: go on. */
static void
runner_no_journal(void (*cb)(bool, void *), void *arg)
{
	cb(true, arg);
}

static bool
runner_always(void)
{
	return true;
}

/* Fill the host table and start the built-in runners. */
void
runner_init(const struct runner_config *cfg)
{
	struct pipelined_host	*h = &runner_hosttab;
	char			*err = NULL;

	runner_cfg = *cfg;
	if (runner_cfg.queue_limit == NULL)
		runner_cfg.queue_limit = runner_no_queue_limit;
	if (runner_cfg.when_durable == NULL)
		runner_cfg.when_durable = runner_no_journal;
	if (runner_cfg.can_start == NULL)
		runner_cfg.can_start = runner_always;
	memset(h, 0, sizeof *h);
	h->abi = PIPELINED_RUNNER_ABI;
	h->base = cfg->base;
	h->state_dir = cfg->state_dir;
	h->max_parallel = cfg->max_parallel;
	h->queue_limit = runner_cfg.queue_limit;
	h->when_durable = runner_cfg.when_durable;
	h->can_start = runner_cfg.can_start;
	h->walk_start = runner_walk_start;
	h->walk_begin = walk_begin;
	h->walk_started = walk_started;
	h->walk_exited = walk_exited;
	h->walk_cancel = walk_cancel;
	h->taskspec = runner_taskspec;
	h->taskspec_clear = taskspec_clear;
	h->address = runner_address;
	h->task_result = runner_task_result;
	h->output = runner_output;
	h->note = runner_note;
	h->task_queue = runner_task_queue;
	h->exec_max_parallel = runner_exec_max_parallel;
	h->graph_new = graph_new;
	h->graph_add_edge = graph_add_edge;
	h->graph_prepare = graph_prepare;
	h->graph_flat_order = graph_flat_order;
	h->graph_static_order = graph_static_order;
	h->graph_free = graph_free;
	h->topo_new = topo_new;
	h->topo_get_ready = topo_get_ready;
	h->topo_done = topo_done;
	h->topo_is_active = topo_is_active;
	h->topo_free = topo_free;
	h->option = runner_option;
	h->spawn_cmd = runner_spawn_cmd;
	h->spawn_start = spawn_start;
	h->spawn_signal_tree = spawn_signal_tree;
	h->spawn_free = spawn_free;
	h->log = runner_log;
	if (runner_add(runner_local(), &err) == -1 ||
	    runner_add(runner_eager(), &err) == -1)
		fatalx("built-in runner: %s", err);
}

/* Register a runner after checking its ABI version, and initialise it. */
int
runner_add(const struct pipelined_runner *ops, char **err)
{
	void	*state;

	if (ops->abi != PIPELINED_RUNNER_ABI) {
		*err = xprintf("runner %s was built for ABI version %u; this "
		    "pipelined has version %u", ops->name != NULL ? ops->name :
		    "(unnamed)", ops->abi, PIPELINED_RUNNER_ABI);
		return -1;
	}
	if (ops->name == NULL || runner_find(ops->name) != NULL) {
		*err = xprintf("runner %s is already loaded",
		    ops->name != NULL ? ops->name : "(unnamed)");
		return -1;
	}
	*err = NULL;
	if ((state = ops->init(&runner_hosttab, err)) == NULL)
		return -1;
	runner_v = xreallocarray(runner_v, runner_n + 1, sizeof *runner_v);
	runner_v[runner_n].ops = ops;
	runner_v[runner_n].state = state;
	runner_v[runner_n].path = NULL;
	runner_n++;
	return 0;
}

/* Remember the file a plugin runner came from (for pipectl status). */
void
runner_set_path(const char *name, const char *path)
{
	struct runner	*run;

	if ((run = runner_find(name)) != NULL) {
		free(run->path);
		run->path = xstrdup(path);
	}
}

/* Settings were reloaded: a new daemon-wide max_parallel. */
void
runner_reconfigure(unsigned max_parallel)
{
	size_t	i;

	runner_hosttab.max_parallel = max_parallel;
	for (i = 0; i < runner_n; i++)
		if (runner_v[i].ops->reconfigure != NULL)
			runner_v[i].ops->reconfigure(runner_v[i].state);
}

/* The runner with this name, or NULL. */
struct runner *
runner_find(const char *name)
{
	size_t	i;

	for (i = 0; i < runner_n; i++)
		if (strcmp(runner_v[i].ops->name, name) == 0)
			return &runner_v[i];
	return NULL;
}

/* How many runners are loaded. */
size_t
runner_count(void)
{
	return runner_n;
}

/* The i-th runner. */
struct runner *
runner_at(size_t i)
{
	return i < runner_n ? &runner_v[i] : NULL;
}

/* Shut every runner down and forget them. */
void
runner_shutdown(void)
{
	size_t	i;

	for (i = 0; i < runner_n; i++) {
		runner_v[i].ops->shutdown(runner_v[i].state);
		free(runner_v[i].path);
	}
	free(runner_v);
	runner_v = NULL;
	runner_n = 0;
}

/* The host table. */
const struct pipelined_host *
runner_host(void)
{
	return &runner_hosttab;
}

/* The configuration the runners were set up with. */
const struct runner_config *
runner_config(void)
{
	return &runner_cfg;
}
