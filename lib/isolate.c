/*
 * The child side of spawn: between clone and exec, in the new process;
 * and the clone that makes it share our memory meanwhile.
 *
 * Everything the child runs must be async-signal-safe: the parent may have
 * other threads, and after a clone only the calling thread exists, so any
 * lock (malloc's, stdio's) could be held forever.  Nothing allocates,
 * nothing logs; a failure is written as a struct isolate_report to the
 * close-on-exec pipe and the process ends with _exit(127).  A successful
 * exec closes the pipe, which is how the parent tells "could not run" from
 * "ran and exited 127".
 *
 * isolate_vfork makes the child with CLONE_VM | CLONE_VFORK on a stack of
 * its own, as posix_spawn does: a fork copies the daemon's page tables and
 * leaves it copy-on-write faults to take, which made spawning the daemon's
 * bottleneck.  The child then runs in the daemon's memory until it execs,
 * so it changes nothing there but its stack, errno (the calling thread's)
 * and, by a gid change, the mm's dumpable flag, both of which
 * isolate_vfork restores; and it is built without ASan, whose bookkeeping
 * would write shadow memory we share.  Our thread waits
 * meanwhile: the child must never block before exec, nor be stoppable by
 * anyone who could not stop us anyway (so not for another uid).  clone3
 * puts it straight into its cgroup; having it join by hand instead would
 * make us wait for the migration too, an RCU grace period (milliseconds)
 * when spawns are sparse.  Where any of this cannot be had, spawn.c forks.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/sched.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "isolate.h"
#include "log.h"

/*
 * For every function the child runs: no ASan instrumentation, which
 * poisons and unpoisons the shadow of each stack frame and keeps
 * per-thread state, all of it memory a CLONE_VM child shares with us.
 */
#define ISOLATE_CHILD		__attribute__((no_sanitize_address))

/* The vfork child's stack (see isolate_stack_take). */
#define ISOLATE_STACK_SIZE	(64 * 1024)

/* A syscall number as text, for the assembly below. */
#define ISOLATE_STR(x)		ISOLATE_STR2(x)
#define ISOLATE_STR2(x)		#x

/*
 * Credential syscalls without glibc's wrappers: in a process that glibc
 * believes multi-threaded, setuid() and friends broadcast the change to
 * every thread and wait for them, and after a clone those threads are not
 * ours (and with CLONE_VM, glibc's bookkeeping is the parent's).  The raw
 * call changes this (only) thread, which is all there is.  32-bit x86
 * names the 32-bit-id calls differently.
 */
#ifdef SYS_setgroups32
#define ISOLATE_SYS_SETGROUPS	SYS_setgroups32
#define ISOLATE_SYS_GETGROUPS	SYS_getgroups32
#define ISOLATE_SYS_SETGID	SYS_setgid32
#define ISOLATE_SYS_SETUID	SYS_setuid32
#else
#define ISOLATE_SYS_SETGROUPS	SYS_setgroups
#define ISOLATE_SYS_GETGROUPS	SYS_getgroups
#define ISOLATE_SYS_SETGID	SYS_setgid
#define ISOLATE_SYS_SETUID	SYS_setuid
#endif

static char	*isolate_stack;		/* lowest usable byte; a guard below */
static bool	 isolate_stack_busy;	/* a clone is using it */
static bool	 isolate_no_clone;	/* clone() refused once: fork */

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
ISOLATE_CHILD __attribute__((noreturn)) static void
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
ISOLATE_CHILD static void
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
ISOLATE_CHILD static int
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
ISOLATE_CHILD static int
isolate_high(int fd)
{
	if (fd > 2)
		return fd;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* Close every descriptor from lo to hi included. */
ISOLATE_CHILD static void
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
ISOLATE_CHILD static int
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
ISOLATE_CHILD static int
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

/* Whether gid is in the sorted list v of n. */
ISOLATE_CHILD static bool
isolate_has_gid(const gid_t *v, size_t n, gid_t gid)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == gid)
			return true;
		if (v[mid] < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Whether the supplementary groups are exactly the ones asked for: as
 * many, each of them asked for.  Every one is checked, however many.
 */
ISOLATE_CHILD static bool
isolate_groups_ok(const struct isolate *is)
{
	size_t	i;
	long	n;

	if ((n = syscall(ISOLATE_SYS_GETGROUPS, 0, NULL)) < 0 ||
	    (size_t)n != is->ngroups)
		return false;
	if (n == 0)
		return true;
	if (is->groups_sorted == NULL || is->groups_seen == NULL ||
	    syscall(ISOLATE_SYS_GETGROUPS, n, is->groups_seen) != n)
		return false;
	for (i = 0; i < (size_t)n; i++)
		if (!isolate_has_gid(is->groups_sorted, is->ngroups,
		    is->groups_seen[i]))
			return false;
	return true;
}

/*
 * Drop to the target identity, groups then gid then uid (CERT POS36-C),
 * and check that it held (POS37-C): all three ids, the groups, and that
 * the way back to root is closed.
 */
ISOLATE_CHILD static int
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
ISOLATE_CHILD static int
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
ISOLATE_CHILD void
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

/* Where a CLONE_VM child starts, on its own stack. */
ISOLATE_CHILD static int
isolate_vfork_child(void *arg)
{
	isolate_child(arg);
}

#if defined(SYS_clone3) && (defined(__x86_64__) || defined(__aarch64__))
#define ISOLATE_HAVE_CLONE3	1

static bool	isolate_no_clone3;	/* ENOSYS once: no more tries */

/*
 * clone3 that runs fn(arg) in the child, on the stack that args give, and
 * exits with what fn returns, as glibc's clone() does for the legacy call;
 * in the parent, the child's pid or -errno.  It has to be assembly: the
 * child starts on its new stack with the parent's registers, and C after
 * a syscall() would return through frames that are not there.  fn and arg
 * travel in registers that the syscall leaves alone, and the child gets a
 * copy of them.  Only for a child with a stack of its own.
 */
long	isolate_clone3(struct clone_args *, size_t, int (*)(void *), void *)
	    __attribute__((visibility("hidden")));

__asm__(
	"	.pushsection .text\n"
	"	.globl	isolate_clone3\n"
	"	.hidden	isolate_clone3\n"
	"	.type	isolate_clone3, %function\n"
	"	.p2align 4\n"
	"isolate_clone3:\n"
	"	.cfi_startproc\n"
#if defined(__x86_64__)
#if defined(__CET__) && (__CET__ & 1)
	"	endbr64\n"
#endif
	/* syscall clobbers rcx and r11 (and rax, the result) only. */
	"	mov	%rdx, %r8\n"
	"	mov	%rcx, %r9\n"
	"	mov	$" ISOLATE_STR(SYS_clone3) ", %eax\n"
	"	syscall\n"
	"	test	%rax, %rax\n"
	"	jz	1f\n"
	"	ret\n"
	/* The child: rsp is the top of its stack, 16-byte aligned. */
	"1:	.cfi_undefined rip\n"
	"	xor	%ebp, %ebp\n"
	"	mov	%r9, %rdi\n"
	"	call	*%r8\n"
	"	mov	%eax, %edi\n"
	"	mov	$" ISOLATE_STR(SYS_exit) ", %eax\n"
	"	syscall\n"
	"	hlt\n"
#else
	/* bti c (a no-op without BTI); svc keeps all but x0. */
	"	hint	34\n"
	"	mov	x8, #" ISOLATE_STR(SYS_clone3) "\n"
	"	svc	#0\n"
	"	cbz	x0, 1f\n"
	"	ret\n"
	/* The child: sp is the top of its stack, 16-byte aligned. */
	"1:	.cfi_undefined x30\n"
	"	mov	x29, xzr\n"
	"	mov	x30, xzr\n"
	"	mov	x0, x3\n"
	"	blr	x2\n"
	"	mov	x8, #" ISOLATE_STR(SYS_exit) "\n"
	"	svc	#0\n"
	"	brk	#0\n"
#endif
	"	.cfi_endproc\n"
	"	.size	isolate_clone3, .-isolate_clone3\n"
	"	.popsection\n");

/* clone3(CLONE_VM | CLONE_VFORK) on the stack below top; -1 with errno. */
static pid_t
isolate_vfork_clone3(const struct isolate *is, char *top, int cgfd,
    int *pidfd)
{
	struct clone_args	ca;
	long			rc;

	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	ca.exit_signal = SIGCHLD;
	ca.stack = (uint64_t)(uintptr_t)(top - ISOLATE_STACK_SIZE);
	ca.stack_size = ISOLATE_STACK_SIZE;
	if (cgfd != -1) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cgfd;
	}
	rc = isolate_clone3(&ca, sizeof ca, isolate_vfork_child, (void *)is);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return (pid_t)rc;
}
#endif

/*
 * Take the vfork child's stack and return its top, or NULL if another
 * thread has it or it cannot be mapped.  One stack serves every spawn:
 * CLONE_VFORK holds the caller until the child has exec'd or exited, and
 * the busy flag holds other threads off.  It is mapped on first use and
 * kept; the page below it is a guard, so an overflow kills the child
 * (SIGSEGV) instead of writing over the daemon's memory.
 */
static char *
isolate_stack_take(void)
{
	long	 page;
	char	*p;

	if (__atomic_test_and_set(&isolate_stack_busy, __ATOMIC_ACQUIRE))
		return NULL;
	if (isolate_stack == NULL) {
		if ((page = sysconf(_SC_PAGESIZE)) <= 0)
			page = 4096;
		p = mmap(NULL, (size_t)page + ISOLATE_STACK_SIZE,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_STACK, -1, 0);
		if (p != MAP_FAILED && mprotect(p, (size_t)page,
		    PROT_NONE) == -1) {
			(void)munmap(p, (size_t)page + ISOLATE_STACK_SIZE);
			p = MAP_FAILED;
		}
		if (p == MAP_FAILED) {
			__atomic_clear(&isolate_stack_busy, __ATOMIC_RELEASE);
			return NULL;
		}
		isolate_stack = p + page;
	}
	return isolate_stack + ISOLATE_STACK_SIZE;
}

/* Give the stack back, once the vfork child is off it. */
static void
isolate_stack_give(void)
{
	__atomic_clear(&isolate_stack_busy, __ATOMIC_RELEASE);
}

/*
 * The clone: clone3 where we have its trampoline, else glibc's clone()
 * (the legacy call writes the pidfd to parent_tid), which cannot place
 * the child in a cgroup.  Returns 0 where neither can be had.
 */
static pid_t
isolate_vfork_clone(const struct isolate *is, char *top, int cgfd,
    int *pidfd)
{
	pid_t	pid;

#ifdef ISOLATE_HAVE_CLONE3
	if (!isolate_no_clone3) {
		if ((pid = isolate_vfork_clone3(is, top, cgfd, pidfd)) != -1)
			return pid;
		/* EINVAL: CLONE_INTO_CGROUP before 5.7; EPERM: a filter. */
		if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
			return -1;
		if (errno == ENOSYS) {
			log_debug("spawn: clone3: %s", strerror(errno));
			isolate_no_clone3 = true;
		}
	}
#endif
	if (cgfd != -1 || isolate_no_clone)
		return 0;
	*pidfd = -1;
	pid = clone(isolate_vfork_child, top, CLONE_VM | CLONE_VFORK |
	    CLONE_PIDFD | SIGCHLD, (void *)is, pidfd, NULL, NULL);
	if (pid > 0 && *pidfd == -1) {
		/* Before 5.2 the flag was ignored: no pidfd, no use. */
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		errno = ENOSYS;
		pid = -1;
	}
	if (pid != -1)
		return pid;
	if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
		return -1;
	log_debug("spawn: clone(CLONE_VM): %s; forking", strerror(errno));
	isolate_no_clone = true;
	return 0;
}

/* Start the child sharing our memory (see isolate.h). */
pid_t
isolate_vfork(const struct isolate *is, int cgfd, int *pidfd)
{
	char	*top;
	pid_t	 pid;
	int	 saved = errno, dumpable;

	/*
	 * Not for a child that takes another uid: between its setuid and its
	 * exec, that user may stop it (SIGSTOP), and with it our thread,
	 * which CLONE_VFORK holds until the exec.  A fork cannot hang us.
	 */
	if (is->set_identity && is->uid != geteuid())
		return 0;
	if ((top = isolate_stack_take()) == NULL)
		return 0;
	/* A gid change marks the mm undumpable: ours, while it is shared. */
	dumpable = is->set_identity ? prctl(PR_GET_DUMPABLE) : -1;
	pid = isolate_vfork_clone(is, top, cgfd, pidfd);
	isolate_stack_give();
	if (pid > 0) {
		/* The child is off our mm now: put our flag back. */
		if (dumpable == 1 && prctl(PR_GET_DUMPABLE) != 1)
			(void)prctl(PR_SET_DUMPABLE, 1);
		/* The child's failed calls set our thread's errno. */
		errno = saved;
	}
	return pid;
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
