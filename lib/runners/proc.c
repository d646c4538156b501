/*
 * Task attempts as local processes.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "cgroup.h"
#include "log.h"
#include "outcome.h"
#include "outlog.h"
#include "pipeline.h"
#include "proc.h"
#include "result.h"
#include "runas.h"
#include "spawn.h"
#include "taskspec.h"
#include "timefmt.h"
#include "walk.h"
#include "xmalloc.h"

/* How long to wait for EOF once the leader exited and its tree was killed. */
#define PROC_DRAIN_MS	1000

struct proc {
	const struct proc_host	*host;
	struct task_result	*tr;
	proc_done_cb		 cb;
	void			*arg;
	struct taskspec		 ts;
	struct spawn		*sp;
	struct capture		*cap;
	struct spawn_exit	 ex;
	int			 exited;
	int			 eof;
	int			 logfd;
	int			 out[2];	/* the pipe into the log */
	int64_t			 room;		/* what the log may still take */
	struct cgroup		*cg;
	char			*setup_error;	/* from proc_prepare */
	struct event		*timer;		/* timeout, then kill grace */
	struct event		*drain;
	struct event		*fail;		/* reports a failed start */
	char			*error;
	int			 timed_out;
	int			 stopping;
	int			 attempt;
};

static void
proc_finish(struct proc *p)
{
	struct outcome	o;

	outcome_init(&o);
	o.program = p->ts.argv != NULL ? p->ts.argv[0] : NULL;
	o.cwd = p->ts.cwd;
	if (p->error != NULL)
		o.error = p->error;
	else {
		o.pid = p->ex.pid;
		o.exit_code = p->ex.exit_code;
		o.signal = p->ex.signal;
		o.exec_errno = p->ex.exec_errno;
		o.exec_step = p->ex.exec_step;
		o.started_us = p->ex.started_us;
		o.ended_us = p->ex.ended_us;
		o.cpu_user_us = p->ex.cpu_user_us;
		o.cpu_system_us = p->ex.cpu_system_us;
		o.max_rss_kib = p->ex.max_rss_kib;
		o.timed_out = p->timed_out && !p->stopping;
		o.timeout_ms = p->ts.timeout_ms;
	}
	p->cb(p, p->tr, &o, p->arg);
}

static void
proc_maybe_done(struct proc *p)
{
	if (p->exited && p->eof)
		proc_finish(p);
}

static void
proc_drain_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct proc	*p = arg;

	/* A process that escaped the tree still holds the pipe: stop reading. */
	log_debug("%s: output still open after exit; not waiting longer",
	    p->ts.argv[0]);
	p->eof = 1;
	proc_maybe_done(p);
}

static void
proc_eof_cb(struct capture *c, void *arg)
{
	struct proc	*p = arg;

	p->eof = 1;
	if (p->drain != NULL)
		evtimer_del(p->drain);
	proc_maybe_done(p);
}

static void
proc_exit_cb(struct spawn *sp, const struct spawn_exit *ex, void *arg)
{
	struct proc	*p = arg;
	struct timeval	 tv = { PROC_DRAIN_MS / 1000,
			    (PROC_DRAIN_MS % 1000) * 1000 };

	p->ex = *ex;
	p->exited = 1;
	if (p->timer != NULL)
		evtimer_del(p->timer);
	/* The task is its tree: what outlives the leader goes with it. */
	spawn_signal_tree(sp, SIGKILL);
	if (!p->eof) {
		p->drain = evtimer_new(p->host->base, proc_drain_cb, p);
		evtimer_add(p->drain, &tv);
	}
	proc_maybe_done(p);
}

static void
proc_kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct proc	*p = arg;

	spawn_signal_tree(p->sp, SIGKILL);
}

/* SIGTERM now, SIGKILL after the grace. */
static void
proc_terminate(struct proc *p)
{
	struct timeval	tv;

	if (p->sp == NULL || p->exited)
		return;
	spawn_signal_tree(p->sp, SIGTERM);
	tv.tv_sec = p->ts.kill_grace_ms / 1000;
	tv.tv_usec = (p->ts.kill_grace_ms % 1000) * 1000;
	if (p->timer != NULL)
		event_free(p->timer);
	p->timer = evtimer_new(p->host->base, proc_kill_cb, p);
	evtimer_add(p->timer, &tv);
}

static void
proc_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct proc	*p = arg;

	p->timed_out = 1;
	proc_terminate(p);
}

static void
proc_fail_cb(evutil_socket_t fd, short ev, void *arg)
{
	proc_finish(arg);
}

/* Report a start failure from the event loop, never from the caller. */
void
proc_fail(struct proc *p, char *error)
{
	struct timeval	tv = { 0, 0 };

	p->error = error;
	p->fail = evtimer_new(p->host->base, proc_fail_cb, p);
	evtimer_add(p->fail, &tv);
}

/*
 * Open the output log when the task first prints, and mark a later
 * attempt's output with "[pipelined: attempt N]".
 */
static int
proc_open_log_cb(void *arg)
{
	struct proc	*p = arg;
	char		 line[64];
	int		 n;

	if ((p->logfd = outlog_open(p->host->state_dir, p->tr)) == -1)
		return -1;
	if (p->attempt > 1) {
		n = snprintf(line, sizeof line, "[pipelined: attempt %d]\n",
		    p->attempt);
		if (write(p->logfd, line, (size_t)n) == -1)
			log_warn("writing the output log");
	}
	return p->logfd;
}

/*
 * What the process needs and that may be had while its RUNNING record is
 * being synced: the pipe into the log, what the log may still take (the
 * cap covers every attempt's output), the cgroup.
 */
static void
proc_setup(struct proc *p)
{
	const struct proc_host	*host = p->host;
	struct stat		 st;
	char			*path;

	p->room = p->ts.output_cap;
	if (p->attempt > 1) {
		path = outlog_path(host->state_dir, p->tr);
		if (stat(path, &st) == 0)
			p->room = st.st_size >= p->room ? 0 :
			    p->room - st.st_size;
		free(path);
	}
	if (pipe2(p->out, O_CLOEXEC) == -1) {
		p->out[0] = p->out[1] = -1;
		p->setup_error = xprintf("pipe: %s", strerror(errno));
		return;
	}
	if (host->cgroots != NULL)
		p->cg = cgroup_get(host->cgroots);
}

/*
 * Begin the next attempt of tr: walk_begin() records it RUNNING (or says it
 * may not run: NULL), its spec is resolved and its pipe and cgroup made.
 * Nothing runs until proc_start(), so that the RUNNING records of a batch
 * of launches can be made durable first, with one sync.
 */
struct proc *
proc_prepare(const struct proc_host *host, struct task_result *tr,
    proc_done_cb cb, void *arg)
{
	const struct execution	*e = tr->r.exec;
	struct proc		*p;
	int			 attempt;

	if ((attempt = walk_begin(tr)) == -1)
		return NULL;
	p = xcalloc(1, sizeof *p);
	p->host = host;
	p->tr = tr;
	p->cb = cb;
	p->arg = arg;
	p->logfd = p->out[0] = p->out[1] = -1;
	p->attempt = attempt;
	taskspec_task(&p->ts, tr, walk_runas(e), host->lang,
	    (uint32_t)attempt);
	proc_setup(p);
	return p;
}

static void	proc_spawn(struct proc *);

/* Start a prepared attempt; failures are reported through its callback. */
void
proc_start(struct proc *p)
{
	if (p->stopping) {
		/* Stopped while its start was being recorded: never run it. */
		proc_fail(p, xstrdup("stopped before it started"));
		return;
	}
	if (p->setup_error != NULL) {
		proc_fail(p, p->setup_error);
		p->setup_error = NULL;
		return;
	}
	proc_spawn(p);
}

/* Spawn a prepared attempt. */
static void
proc_spawn(struct proc *p)
{
	const struct proc_host	*host = p->host;
	struct task_result	*tr = p->tr;
	struct spawn_cmd	 cmd;
	struct timeval		 tv;
	char			*err = NULL;
	int			 rfd;

	taskspec_spawn_cmd(&cmd, &p->ts, walk_runas(tr->r.exec));
	cmd.out_fd = p->out[1];
	p->sp = spawn_start_cgroup(host->base, &cmd, p->cg, proc_exit_cb, p,
	    &err);
	close(p->out[1]);
	p->out[1] = -1;
	if (p->sp == NULL) {
		proc_fail(p, xprintf("cannot start: %s", err));
		free(err);
		return;
	}
	tr->isolation = spawn_in_cgroup(p->sp) ? "cgroup" : "process_group";
	rfd = p->out[0];
	p->out[0] = -1;
	p->cap = capture_start(host->base, rfd, -1, NULL, p->room, proc_eof_cb,
	    p);
	if (p->cap == NULL)
		p->eof = 1;	/* nothing to wait for: the fd is closed */
	else if (p->room > 0 || p->attempt == 1)
		/* A log cut by an earlier attempt takes nothing more. */
		capture_set_opener(p->cap, proc_open_log_cb, p);
	walk_started(tr, spawn_pid(p->sp));
	if (p->ts.timeout_ms > 0) {
		tv.tv_sec = p->ts.timeout_ms / 1000;
		tv.tv_usec = (p->ts.timeout_ms % 1000) * 1000;
		p->timer = evtimer_new(host->base, proc_timeout_cb, p);
		evtimer_add(p->timer, &tv);
	}
}

/* Stop the attempt: SIGTERM to its tree, SIGKILL after the grace. */
void
proc_stop(struct proc *p)
{
	p->stopping = 1;
	proc_terminate(p);
}

/* Free an attempt (killing what is left of it). */
void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->drain != NULL)
		event_free(p->drain);
	if (p->fail != NULL)
		event_free(p->fail);
	capture_free(p->cap);
	spawn_free(p->sp);
	cgroup_put(p->cg);
	if (p->out[0] != -1)
		close(p->out[0]);
	if (p->out[1] != -1)
		close(p->out[1]);
	if (p->logfd != -1)
		close(p->logfd);
	free(p->setup_error);
	free(p->error);
	taskspec_clear(&p->ts);
	free(p);
}
