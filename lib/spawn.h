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

#include <pipelined/runner.h>	/* spawn_limits, spawn_cmd, spawn_exit */

struct cgroup;
struct event_base;
struct spawn;

/*
 * Start a process.  Returns NULL with *err set (to free) when it could not
 * be started at all (fork failed, bad descriptor); everything that fails in
 * the child is reported through cb instead.  cb runs once, from the event
 * loop, after the process was reaped; the spawn stays valid until
 * spawn_free().
 */
struct spawn	*spawn_start(struct event_base *, const struct spawn_cmd *,
		    spawn_exit_cb, void *arg, char **err);
/*
 * The same into cg, a task cgroup of the pool (cgroup.h), instead of
 * cmd->cgroup_fd: its usage is counted from cgroup_get().  cg must outlive
 * the spawn; NULL: no cgroup.
 */
struct spawn	*spawn_start_cgroup(struct event_base *,
		    const struct spawn_cmd *, struct cgroup *cg,
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
