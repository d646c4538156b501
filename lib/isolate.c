/*
 * The child side of spawn: between clone and exec, in the new process.
 *
 * Everything here must be async-signal-safe: the parent may have other
 * threads, and after a clone only the calling thread exists, so any lock
 * (malloc's, stdio's) could be held forever.  Nothing allocates, nothing
 * logs; a failure is written as a struct isolate_report to the
 * close-on-exec pipe and the process ends with _exit(127).  A successful
 * exec closes the pipe, which is how the parent tells "could not run" from
 * "ran and exited 127".
 *
 * The order matters.  The parent blocked every signal around the clone,
 * so the cgroup (when we must join it ourselves) and the session come
 * first: a signal sent to the tree meanwhile stays pending, and kills us
 * once the dispositions are back to default and the mask is cleared.
 * Descriptors next, before a low RLIMIT_NOFILE could stop us from moving
 * them; rlimits before the identity drop, since an unprivileged process
 * may not raise them afterwards; chdir after the drop, so the directory
 * is checked with the task's own permissions.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include "isolate.h"

/*
 * Credential syscalls without glibc's wrappers: in a process that glibc
 * believes multi-threaded, setuid() and friends broadcast the change to
 * every thread and wait for them, and after a raw clone3 those threads do
 * not exist here.  The raw call changes this (only) thread, which is all
 * there is.  32-bit x86 names the 32-bit-id calls differently.
 */
#ifdef SYS_setgroups32
#define ISOLATE_SYS_SETGROUPS	SYS_setgroups32
#define ISOLATE_SYS_SETGID	SYS_setgid32
#define ISOLATE_SYS_SETUID	SYS_setuid32
#else
#define ISOLATE_SYS_SETGROUPS	SYS_setgroups
#define ISOLATE_SYS_SETGID	SYS_setgid
#define ISOLATE_SYS_SETUID	SYS_setuid
#endif

/* Groups compared one by one up to this many; beyond, only the count. */
#define ISOLATE_CHECK_GROUPS	64

static const char *const isolate_step_names[] = {
	[ISOLATE_STEP_SETSID] = "setsid",
	[ISOLATE_STEP_CGROUP] = "cgroup",
	[ISOLATE_STEP_STDIO] = "stdio",
	[ISOLATE_STEP_RLIMIT] = "rlimit",
	[ISOLATE_STEP_IDENTITY] = "identity",
	[ISOLATE_STEP_CHDIR] = "chdir",
	[ISOLATE_STEP_EXEC] = "exec",
};

/* Report a failed step to the parent and end the process. */
__attribute__((noreturn)) static void
isolate_fail(int rfd, int step, int error)
{
	struct isolate_report	 r = { .step = step, .error = error };
	ssize_t			 n;

	/* Eight bytes into an empty pipe: atomic, never short. */
	do
		n = write(rfd, &r, sizeof r);
	while (n == -1 && errno == EINTR);
	_exit(127);
}

/* Give every signal its default action, then unblock them all. */
static void
isolate_signals(void)
{
	/*
	 * The kernel's struct sigaction, all zero: SIG_DFL (0), no flags, no
	 * restorer, an empty mask, whatever the architecture's field order.
	 */
	unsigned long		 kact[8] = { 0 };
	sigset_t		 none;
	int			 sig;

	/*
	 * Everything is still blocked, so none of the parent's handlers can
	 * run here before this loop.  The raw call reaches the signals glibc
	 * keeps for itself (32, 33) too: an ignored signal stays ignored
	 * across exec, so each must be reset here.
	 */
	for (sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		(void)syscall(SYS_rt_sigaction, sig, kact, NULL, _NSIG / 8);
	}
	/* A signal already sent to the tree is delivered, and kills, here. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Join a cgroup by hand, when clone3 could not place us there. */
static int
isolate_join_cgroup(int dirfd)
{
	ssize_t	n;
	int	fd, error;

	if ((fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC)) == -1)
		return errno;
	/* "0" means the writing process. */
	do
		n = write(fd, "0", 1);
	while (n == -1 && errno == EINTR);
	error = n == 1 ? 0 : errno;
	(void)close(fd);
	return error;
}

/* Move a descriptor out of 0..2 so that the dup2()s cannot clobber it. */
static int
isolate_high(int fd)
{
	if (fd > 2)
		return fd;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* Close every descriptor from lo to hi included. */
static void
isolate_close_range(unsigned int lo, unsigned int hi, int max_fd)
{
	unsigned int	fd;

	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	/* Kernels before 5.9: one by one, up to the parent's limit. */
	if (hi > (unsigned int)max_fd)
		hi = (unsigned int)max_fd;
	for (fd = lo; fd <= hi; fd++)
		(void)close((int)fd);
}

/*
 * stdin from /dev/null, stdout and stderr as asked, and no other
 * descriptor except the report pipe, whose number *rfd may change.
 */
static int
isolate_stdio(const struct isolate *is, int *rfd)
{
	int	nfd, ofd, efd;

	if ((*rfd = isolate_high(is->report_fd)) == -1) {
		*rfd = is->report_fd;
		return -1;
	}
	if ((nfd = isolate_high(is->null_fd)) == -1)
		return -1;
	ofd = is->out_fd >= 0 ? isolate_high(is->out_fd) : nfd;
	if (ofd == -1)
		return -1;
	efd = is->err_fd >= 0 ? isolate_high(is->err_fd) : ofd;
	if (efd == -1)
		return -1;
	/* All sources are above 2 now: dup2 makes plain, inheritable copies. */
	if (dup2(nfd, 0) == -1 || dup2(ofd, 1) == -1 || dup2(efd, 2) == -1)
		return -1;
	isolate_close_range(3, (unsigned int)*rfd - 1, is->max_fd);
	isolate_close_range((unsigned int)*rfd + 1, ~0U, is->max_fd);
	return 0;
}

/* Apply the limits the parent computed. */
static int
isolate_rlimits(const struct isolate *is)
{
	size_t	i;

	for (i = 0; i < is->nlimits; i++) {
		if (setrlimit(is->limits[i].resource,
		    &is->limits[i].value) == -1)
			return errno;
	}
	return 0;
}

/* Whether the supplementary groups are exactly the ones asked for. */
static bool
isolate_groups_ok(const struct isolate *is)
{
	gid_t	have[ISOLATE_CHECK_GROUPS];
	size_t	i, j;
	int	n;

	if ((n = getgroups(0, NULL)) < 0 || (size_t)n != is->ngroups)
		return false;
	if (is->ngroups > ISOLATE_CHECK_GROUPS)
		return true;
	if (getgroups(n, have) != n)
		return false;
	/* The kernel sorts the list, so compare as sets. */
	for (i = 0; i < (size_t)n; i++) {
		for (j = 0; j < is->ngroups; j++)
			if (have[i] == is->groups[j])
				break;
		if (j == is->ngroups)
			return false;
	}
	return true;
}

/*
 * Drop to the target identity, groups then gid then uid (CERT POS36-C),
 * and check that it held (POS37-C): all three ids, the groups, and that
 * the way back to root is closed.
 */
static int
isolate_identity(const struct isolate *is)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	if (syscall(ISOLATE_SYS_SETGROUPS, is->ngroups, is->groups) == -1 ||
	    syscall(ISOLATE_SYS_SETGID, is->gid) == -1 ||
	    syscall(ISOLATE_SYS_SETUID, is->uid) == -1)
		return errno;
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return errno;
	if (ruid != is->uid || euid != is->uid || suid != is->uid ||
	    rgid != is->gid || egid != is->gid || sgid != is->gid ||
	    !isolate_groups_ok(is))
		return EPERM;
	if (is->uid != 0 && syscall(ISOLATE_SYS_SETUID, 0) != -1)
		return EPERM;
	return 0;
}

/*
 * Try each candidate like execvp(): a missing entry moves on, EACCES is
 * remembered in case nothing else works, anything else (ENOEXEC included:
 * no retry through /bin/sh) stops the search.
 */
static int
isolate_exec(const struct isolate *is)
{
	size_t	i;
	bool	eacces = false;
	int	error = ENOENT;

	for (i = 0; i < is->npaths; i++) {
		(void)execve(is->paths[i], is->argv, is->envp);
		error = errno;
		switch (error) {
		case EACCES:
			eacces = true;
			break;
		case ENOENT:
		case ENOTDIR:
		case ESTALE:
		case ENODEV:
		case ETIMEDOUT:
			break;
		default:
			return error;
		}
	}
	return eacces ? EACCES : error;
}

/* The child: set everything up, exec, or report which step failed. */
void
isolate_child(const struct isolate *is)
{
	int	rfd = is->report_fd, error;

	/* Signals are still blocked: whatever the tree gets waits for us. */
	if (is->join_cgroup_fd != -1 &&
	    (error = isolate_join_cgroup(is->join_cgroup_fd)) != 0)
		isolate_fail(rfd, ISOLATE_STEP_CGROUP, error);
	if (setsid() == -1)
		isolate_fail(rfd, ISOLATE_STEP_SETSID, errno);
	isolate_signals();
	(void)umask(022);
	if (isolate_stdio(is, &rfd) == -1)
		isolate_fail(rfd, ISOLATE_STEP_STDIO, errno);
	if ((error = isolate_rlimits(is)) != 0)
		isolate_fail(rfd, ISOLATE_STEP_RLIMIT, error);
	if (is->set_identity && (error = isolate_identity(is)) != 0)
		isolate_fail(rfd, ISOLATE_STEP_IDENTITY, error);
	if (chdir(is->cwd) == -1)
		isolate_fail(rfd, ISOLATE_STEP_CHDIR, errno);
	error = isolate_exec(is);
	isolate_fail(rfd, ISOLATE_STEP_EXEC, error);
}

/* The name of a step; "setup" for anything the table does not know. */
const char *
isolate_step_name(int step)
{
	size_t	n = sizeof isolate_step_names / sizeof isolate_step_names[0];

	if (step <= 0 || (size_t)step >= n || isolate_step_names[step] == NULL)
		return "setup";
	return isolate_step_names[step];
}
