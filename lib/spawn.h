/*
 * The spawn facility: start one isolated process and supervise it.
 *
 * The parent side (spawn.c) prepares everything that needs memory or NSS
 * before the clone, and waits for the child through its pidfd on the event
 * loop; it never acts on a stored pid alone.  The child is started with
 * clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD, and CLONE_INTO_CGROUP when a
 * cgroup is given) on a stack of its own (isolate.c), or, where that cannot
 * be had or the child takes another uid, with clone3 without CLONE_VM or
 * fork()+pidfd_open().  The child side (isolate.c) runs only
 * async-signal-safe calls: new session, default signal dispositions and an
 * empty mask, umask 022, rlimits, identity drop (verified), cwd, stdio, no
 * other descriptor, exec.  A failed exec is reported through a
 * close-on-exec pipe as the errno, so the parent can tell "could not run"
 * from "ran and exited 127".
 */
#ifndef PL_SPAWN_H
#define PL_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <pipelined/runner.h>	/* struct spawn_limits */

struct event_base;
struct spawn;

struct spawn_cmd {
	char *const		*argv;	/* argv[0] without '/' is looked up in envp's PATH */
	char *const		*envp;	/* the complete environment */
	const char		*cwd;	/* must exist; NULL: "/" */
	/* Identity: applied only when set_identity (the daemon is root). */
	bool			 set_identity;
	uid_t			 uid;
	gid_t			 gid;
	const gid_t		*groups;
	size_t			 ngroups;
	struct spawn_limits	 limits;
	int			 out_fd;	/* stdout and stderr; -1: /dev/null */
	int			 err_fd;	/* stderr if not out_fd; -1: as stdout */
	int			 cgroup_fd;	/* a directory fd to spawn into, or -1 */
};

/* How a process ended. */
struct spawn_exit {
	pid_t		 pid;
	int		 exit_code;	/* -1 when killed by a signal or not run */
	int		 signal;	/* 0 unless killed by a signal */
	int		 exec_errno;	/* non-zero: exec (or setup) failed */
	const char	*exec_step;	/* which step failed: "exec", "chdir"... */
	int64_t		 started_us;	/* CLOCK_REALTIME */
	int64_t		 ended_us;
	int64_t		 cpu_user_us;	/* from the cgroup when there is one */
	int64_t		 cpu_system_us;
	int64_t		 max_rss_kib;
};

typedef void (*spawn_exit_cb)(struct spawn *, const struct spawn_exit *,
    void *arg);

/*
 * Start a process.  Returns NULL with *err set (to free) when it could not
 * be started at all (fork failed, bad descriptor); everything that fails in
 * the child is reported through cb instead.  cb runs once, from the event
 * loop, after the process was reaped; the spawn stays valid until
 * spawn_free().
 */
struct spawn	*spawn_start(struct event_base *, const struct spawn_cmd *,
		    spawn_exit_cb, void *arg, char **err);
pid_t		 spawn_pid(const struct spawn *);
/*
 * Signal the whole tree: every process of the cgroup (SIGKILL through
 * cgroup.kill), or the process group otherwise.  Harmless once exited.
 */
int		 spawn_signal_tree(struct spawn *, int sig);
bool		 spawn_exited(const struct spawn *);
bool		 spawn_in_cgroup(const struct spawn *);
/* Free; if still running, the process is killed (SIGKILL) and reaped. */
void		 spawn_free(struct spawn *);

/* "SIGKILL" for 9; "signal 77" for unknown ones. */
const char	*spawn_signal_name(int sig, char *buf, size_t len);

#endif
