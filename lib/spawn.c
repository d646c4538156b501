/*
 * The parent side of spawn: prepare, clone, supervise by pidfd, reap.
 *
 * Everything the child needs is computed here, before the clone, so the
 * child (isolate.c) never allocates.  isolate_vfork makes the child where
 * it can: sharing our memory until it execs spares the daemon a copy of
 * its page tables; clone3 or fork do otherwise.  The child is watched
 * through its pidfd on the event loop and reaped with waitid(P_PIDFD),
 * which also gives its rusage; a stored pid is only ever used for the
 * process group, which cannot be reused while any member is alive.
 *
 * The daemon must leave SIGCHLD at its default (not SIG_IGN) and never
 * call waitpid(-1): either would reap our children behind our back.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/sched.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "cgroup.h"
#include "isolate.h"
#include "log.h"
#include "spawn.h"
#include "xmalloc.h"

/* execvp's default search path, for an environment without PATH. */
#define SPAWN_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
/* P_PIDFD: an idtype_t enum member, so not testable with #ifdef. */
#define SPAWN_P_PIDFD		3

struct spawn {
	struct event		*ev;
	pid_t			 pid;
	int			 pidfd;
	int			 report_fd;	/* read end of the exec-error pipe */
	int			 cgroup_fd;	/* our own copy, cg's, or -1 */
	struct cgroup		*cg;		/* a task cgroup of the pool */
	bool			 placed;	/* the clone put it in the cgroup */
	bool			 exited;	/* reaped */
	struct spawn_exit	 exit;
	spawn_exit_cb		 cb;
	void			*arg;
};

/* Set by the first ENOSYS, so later spawns go straight to fork. */
static bool	spawn_no_clone3;

/* Wall-clock time in µs. */
static int64_t
spawn_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Fill *err (when asked for) and return NULL, for spawn_start's failures. */
__attribute__((format(printf, 2, 3))) static struct spawn *
spawn_error(char **err, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (err != NULL)
		*err = buf_detach(&b);
	else
		buf_release(&b);
	return NULL;
}

/*
 * The paths to try for argv[0]: itself when it has a '/', else each
 * element of the PATH in envp (never the daemon's own), an empty element
 * meaning the task's working directory, as for execvp.
 */
static char **
spawn_paths(const char *file, char *const *envp, size_t *np)
{
	const char	*path = NULL, *p, *colon;
	char		**paths;
	size_t		 i, n;

	*np = 0;
	if (file[0] == '\0')
		return NULL;
	if (strchr(file, '/') != NULL) {
		paths = xcalloc(1, sizeof *paths);
		paths[0] = xstrdup(file);
		*np = 1;
		return paths;
	}
	for (i = 0; envp[i] != NULL; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0) {
			path = envp[i] + 5;
			break;
		}
	}
	if (path == NULL)
		path = SPAWN_DEFAULT_PATH;
	for (n = 1, p = path; (p = strchr(p, ':')) != NULL; p++)
		n++;
	paths = xcalloc(n, sizeof *paths);
	for (i = 0, p = path; i < n; i++, p = colon + 1) {
		if ((colon = strchr(p, ':')) == NULL)
			colon = p + strlen(p);
		if (colon == p)
			paths[i] = xstrdup(file);
		else
			xasprintf(&paths[i], "%.*s/%s", (int)(colon - p), p,
			    file);
	}
	*np = n;
	return paths;
}

/* Free what spawn_paths made. */
static void
spawn_free_paths(char **paths, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/*
 * Add one rlimit for the child (v < 0: leave it).  Without privilege a
 * hard limit cannot be raised, so a larger request is clamped to the
 * current one: the task then gets a stricter limit, never a failure.
 */
static void
spawn_limit(struct isolate *is, int resource, int64_t v, int64_t slack)
{
	struct rlimit	cur, *rl;
	rlim_t		soft = (rlim_t)v, hard = (rlim_t)(v + slack);

	if (v < 0 || is->nlimits == ISOLATE_MAX_RLIMITS)
		return;
	if (geteuid() != 0 && getrlimit(resource, &cur) == 0 &&
	    cur.rlim_max != RLIM_INFINITY && hard > cur.rlim_max) {
		hard = cur.rlim_max;
		if (soft > hard)
			soft = hard;
	}
	rl = &is->limits[is->nlimits].value;
	is->limits[is->nlimits++].resource = resource;
	rl->rlim_cur = soft;
	rl->rlim_max = hard;
}

/* Whether fd is -1 or an open descriptor. */
static bool
spawn_fd_ok(int fd)
{
	return fd == -1 || (fd >= 0 && fcntl(fd, F_GETFD) != -1);
}

/*
 * Start the child: sharing our memory (isolate_vfork) where it can; else
 * clone3 with a pidfd (and straight into the cgroup), or fork and
 * pidfd_open where clone3 is missing or filtered.  Returns the pid with
 * *pidfd set, or -1.
 */
static pid_t
spawn_clone(struct isolate *is, int cgfd, int *pidfd, bool *placed)
{
	struct clone_args	 ca;
	pid_t			 pid;
	int			 saved;

	*placed = cgfd != -1;
	if ((pid = isolate_vfork(is, cgfd, pidfd)) != 0)
		return pid;
	*placed = false;
	if (!spawn_no_clone3) {
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_PIDFD;
		ca.pidfd = (uint64_t)(uintptr_t)pidfd;
		ca.exit_signal = SIGCHLD;
		if (cgfd != -1) {
			ca.flags |= CLONE_INTO_CGROUP;
			ca.cgroup = (uint64_t)cgfd;
		}
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
		if (pid == 0)
			isolate_child(is);
		if (pid > 0) {
			*placed = cgfd != -1;
			return pid;
		}
		if (errno == ENOSYS)
			spawn_no_clone3 = true;
		else if (errno != EINVAL && errno != EPERM)
			return -1;
		log_debug("spawn: clone3: %s; using fork", strerror(errno));
	}
	/* The child joins the cgroup itself, with its signals still blocked. */
	is->join_cgroup_fd = cgfd;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		isolate_child(is);
	if ((*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		saved = errno;
		/* Still our unreaped child, so the pid is safe to use. */
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		errno = saved;
		return -1;
	}
	return pid;
}

/* waitid(P_PIDFD) through the raw syscall: glibc's drops the rusage. */
static int
spawn_waitid(int pidfd, siginfo_t *si, struct rusage *ru, int flags)
{
	long	rc;

	memset(si, 0, sizeof *si);
	memset(ru, 0, sizeof *ru);
	do
		rc = syscall(SYS_waitid, SPAWN_P_PIDFD, pidfd, si,
		    WEXITED | flags, ru);
	while (rc == -1 && errno == EINTR);
	return rc == -1 ? -1 : 0;
}

/* Turn a timeval into µs. */
static int64_t
spawn_tv_us(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Record how the reaped child ended; reaped is false if someone else did. */
static void
spawn_record(struct spawn *sp, const siginfo_t *si, const struct rusage *ru,
    bool reaped)
{
	struct spawn_exit	*ex = &sp->exit;
	struct isolate_report	 rep;
	int64_t			 u, s, peak;
	ssize_t			 n;

	ex->ended_us = spawn_now_us();
	ex->exit_code = -1;
	if (reaped && si->si_code == CLD_EXITED)
		ex->exit_code = si->si_status;
	else if (reaped && (si->si_code == CLD_KILLED ||
	    si->si_code == CLD_DUMPED))
		ex->signal = si->si_status;
	/* The child wrote before _exit, so this never waits. */
	do
		n = read(sp->report_fd, &rep, sizeof rep);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof rep) {
		ex->exec_errno = rep.error != 0 ? rep.error : EIO;
		ex->exec_step = isolate_step_name(rep.step);
		ex->exit_code = -1;
	}
	ex->cpu_user_us = spawn_tv_us(&ru->ru_utime);
	ex->cpu_system_us = spawn_tv_us(&ru->ru_stime);
	ex->max_rss_kib = ru->ru_maxrss;
	/* The cgroup also counts grandchildren nobody waited for. */
	if (sp->cg != NULL ? cgroup_task_usage(sp->cg, &u, &s, &peak) == 0 :
	    sp->cgroup_fd != -1 && cgroup_usage(sp->cgroup_fd, &u, &s,
	    &peak) == 0) {
		ex->cpu_user_us = u;
		ex->cpu_system_us = s;
		if (peak >= 0)
			ex->max_rss_kib = peak;
	}
	sp->exited = true;
	close(sp->pidfd);
	sp->pidfd = -1;
	close(sp->report_fd);
	sp->report_fd = -1;
}

/* The pidfd became readable: the child is a zombie; reap and report. */
static void
spawn_pidfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct spawn	*sp = arg;
	siginfo_t	 si;
	struct rusage	 ru;
	bool		 reaped = true;

	if (spawn_waitid(sp->pidfd, &si, &ru, WNOHANG) == -1) {
		log_warn("spawn: waitid pid %ld", (long)sp->pid);
		reaped = false;
	} else if (si.si_pid == 0) {
		/* Not a zombie yet (spurious wakeup): wait again. */
		if (event_add(sp->ev, NULL) == 0)
			return;
		log_warnx("spawn: cannot watch pid %ld", (long)sp->pid);
		(void)spawn_waitid(sp->pidfd, &si, &ru, 0);
	}
	spawn_record(sp, &si, &ru, reaped);
	/* Last: the callback may free sp. */
	sp->cb(sp, &sp->exit, sp->arg);
}

static int
spawn_gid_cmp(const void *a, const void *b)
{
	gid_t	x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * What the child needs to check its groups after the drop: the groups
 * sorted, then room for what getgroups() gives back; NULL without groups.
 */
static gid_t *
spawn_groups_check(const struct spawn_cmd *cmd)
{
	gid_t	*v;

	if (!cmd->set_identity || cmd->ngroups == 0)
		return NULL;
	v = xreallocarray(NULL, cmd->ngroups, 2 * sizeof *v);
	memcpy(v, cmd->groups, cmd->ngroups * sizeof *v);
	qsort(v, cmd->ngroups, sizeof *v, spawn_gid_cmp);
	return v;
}

/* Prepare, clone and start watching one process (see spawn.h). */
struct spawn *
spawn_start(struct event_base *base, const struct spawn_cmd *cmd,
    spawn_exit_cb cb, void *arg, char **err)
{
	return spawn_start_cgroup(base, cmd, NULL, cb, arg, err);
}

/* As spawn_start, into a task cgroup of the pool (see spawn.h). */
struct spawn *
spawn_start_cgroup(struct event_base *base, const struct spawn_cmd *cmd,
    struct cgroup *cg, spawn_exit_cb cb, void *arg, char **err)
{
	struct isolate	 is;
	struct spawn	*sp;
	sigset_t	 all, old;
	char		**paths;
	size_t		 npaths;
	gid_t		*gcheck;
	long		 maxfd;
	int		 pfd[2], null_fd, pidfd = -1, saved;
	pid_t		 pid;

	if (cmd->argv == NULL || cmd->argv[0] == NULL || cmd->envp == NULL)
		return spawn_error(err, "spawn: empty command");
	if (!spawn_fd_ok(cmd->out_fd) || !spawn_fd_ok(cmd->err_fd) ||
	    !spawn_fd_ok(cmd->cgroup_fd))
		return spawn_error(err, "spawn: bad descriptor");
	if (cmd->set_identity && cmd->ngroups > 0 && cmd->groups == NULL)
		return spawn_error(err, "spawn: groups missing");

	memset(&is, 0, sizeof is);
	is.argv = cmd->argv;
	is.envp = cmd->envp;
	is.cwd = cmd->cwd != NULL ? cmd->cwd : "/";
	is.set_identity = cmd->set_identity;
	is.uid = cmd->uid;
	is.gid = cmd->gid;
	is.groups = cmd->groups;
	is.ngroups = cmd->ngroups;
	spawn_limit(&is, RLIMIT_AS, cmd->limits.memory, 0);
	/* A second of slack: SIGXCPU first, which a task may catch. */
	spawn_limit(&is, RLIMIT_CPU, cmd->limits.cpu_time_ms < 0 ? -1 :
	    (cmd->limits.cpu_time_ms + 999) / 1000, 1);
	spawn_limit(&is, RLIMIT_NOFILE, cmd->limits.open_files, 0);
	spawn_limit(&is, RLIMIT_NPROC, cmd->limits.processes, 0);
	is.out_fd = cmd->out_fd;
	is.err_fd = cmd->err_fd;
	is.join_cgroup_fd = -1;
	maxfd = sysconf(_SC_OPEN_MAX);
	is.max_fd = maxfd > 0 && maxfd <= (long)(~0U >> 1) ? (int)maxfd : 65536;

	if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return spawn_error(err, "spawn: /dev/null: %s",
		    strerror(errno));
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == -1) {
		saved = errno;
		close(null_fd);
		return spawn_error(err, "spawn: pipe: %s", strerror(saved));
	}
	is.null_fd = null_fd;
	is.report_fd = pfd[1];
	paths = spawn_paths(cmd->argv[0], cmd->envp, &npaths);
	is.paths = paths;
	is.npaths = npaths;

	sp = xcalloc(1, sizeof *sp);
	sp->cb = cb;
	sp->arg = arg;
	sp->pidfd = -1;
	sp->report_fd = pfd[0];
	sp->cgroup_fd = -1;
	if ((sp->cg = cg) != NULL)
		sp->cgroup_fd = cgroup_fd(cg);
	else if (cmd->cgroup_fd != -1 &&
	    (sp->cgroup_fd = fcntl(cmd->cgroup_fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		saved = errno;
		goto fail;
	}
	sp->exit.exit_code = -1;
	sp->exit.started_us = spawn_now_us();

	if ((gcheck = spawn_groups_check(cmd)) != NULL) {
		is.groups_sorted = gcheck;
		is.groups_seen = gcheck + cmd->ngroups;
	}

	/*
	 * Block every signal across the clone: until the child has reset the
	 * dispositions, a handler of ours (libevent's, which writes to a
	 * socket shared with us, and to our memory the child may share) must
	 * not run in it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = spawn_clone(&is, sp->cgroup_fd, &pidfd, &sp->placed);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(gcheck);
	close(pfd[1]);
	pfd[1] = -1;
	close(null_fd);
	null_fd = -1;
	spawn_free_paths(paths, npaths);
	paths = NULL;
	npaths = 0;
	if (pid == -1)
		goto fail;

	sp->pid = sp->exit.pid = pid;
	sp->pidfd = pidfd;
	sp->ev = event_new(base, pidfd, EV_READ, spawn_pidfd_cb, sp);
	if (sp->ev == NULL || event_add(sp->ev, NULL) == -1) {
		spawn_free(sp);
		return spawn_error(err, "spawn: cannot watch the process");
	}
	return sp;

fail:
	if (pfd[1] != -1)
		close(pfd[1]);
	if (null_fd != -1)
		close(null_fd);
	spawn_free_paths(paths, npaths);
	if (sp->cgroup_fd != -1 && sp->cg == NULL)
		close(sp->cgroup_fd);
	close(sp->report_fd);
	free(sp);
	return spawn_error(err, "spawn: %s", strerror(saved));
}

/* The child's pid, for display and the journal. */
pid_t
spawn_pid(const struct spawn *sp)
{
	return sp->pid;
}

/*
 * Signal the tree.  In a cgroup: everything in it, plus the leader by
 * pidfd if it still has to join by itself (a signal could then reach it
 * twice).  Without: the process group, which the leader creates with
 * setsid; until it has, the group does not exist and the pidfd reaches
 * the leader (its signals are blocked until then, so nothing is lost).
 */
int
spawn_signal_tree(struct spawn *sp, int sig)
{
	int	rc = 0;

	if (sp->cgroup_fd != -1) {
		if (!sp->placed && !sp->exited &&
		    syscall(SYS_pidfd_send_signal, sp->pidfd, sig, NULL, 0) == -1 &&
		    errno != ESRCH)
			rc = -1;
		if ((sp->cg != NULL ? cgroup_task_signal(sp->cg, sig) :
		    cgroup_signal(sp->cgroup_fd, sig)) == -1)
			rc = -1;
		return rc;
	}
	if (kill(-sp->pid, sig) == 0)
		return 0;
	if (errno != ESRCH)
		return -1;
	if (!sp->exited &&
	    syscall(SYS_pidfd_send_signal, sp->pidfd, sig, NULL, 0) == -1 &&
	    errno != ESRCH)
		return -1;
	return 0;
}

/* Whether the process was reaped. */
bool
spawn_exited(const struct spawn *sp)
{
	return sp->exited;
}

/* Whether the process runs in its own cgroup. */
bool
spawn_in_cgroup(const struct spawn *sp)
{
	return sp->cgroup_fd != -1;
}

/* Free; a running process is killed with its tree and reaped first. */
void
spawn_free(struct spawn *sp)
{
	siginfo_t	si;
	struct rusage	ru;

	if (sp == NULL)
		return;
	if (!sp->exited && sp->pidfd != -1) {
		(void)spawn_signal_tree(sp, SIGKILL);
		/* In case the tree kill failed, the leader at least. */
		(void)syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL,
		    0);
		if (spawn_waitid(sp->pidfd, &si, &ru, 0) == -1)
			log_warn("spawn: waitid pid %ld", (long)sp->pid);
		sp->exited = true;
	}
	if (sp->ev != NULL)
		event_free(sp->ev);
	if (sp->pidfd != -1)
		close(sp->pidfd);
	if (sp->report_fd != -1)
		close(sp->report_fd);
	if (sp->cgroup_fd != -1 && sp->cg == NULL)
		close(sp->cgroup_fd);
	free(sp);
}

/* "SIGKILL" for 9, "signal 77" for a number without a name. */
const char *
spawn_signal_name(int sig, char *buf, size_t len)
{
	const char	*abbrev = NULL;

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	abbrev = sigabbrev_np(sig);
#else
	static const struct {
		int		 sig;
		const char	*name;
	} names[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGILL, "ILL" }, { SIGABRT, "ABRT" }, { SIGBUS, "BUS" },
		{ SIGFPE, "FPE" }, { SIGKILL, "KILL" }, { SIGSEGV, "SEGV" },
		{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
		{ SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGUSR1, "USR1" },
		{ SIGUSR2, "USR2" },
	};
	size_t	i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].sig == sig)
			abbrev = names[i].name;
#endif
	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}
