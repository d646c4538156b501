/*
 * cgroup v2 subtrees for tasks.
 *
 * At start the daemon looks for a cgroup v2 directory it may create
 * children in: its own cgroup when systemd delegated it (Delegate=yes),
 * or, as root, a "pipelined" directory it creates under the cgroup it
 * runs in on the unified hierarchy (found from /proc/self/cgroup and
 * /proc/self/mountinfo; a hybrid system mounts it at
 * /sys/fs/cgroup/unified).  Without one, tasks are contained by their
 * process group only, and say so.
 */
#ifndef PL_CGROUP_H
#define PL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

struct cgroup;
struct cgroup_root;

/*
 * Find or make the task root.  Returns NULL (and logs why at debug level)
 * when none is usable.  want_path forces a directory (for tests); else
 * instance names this daemon's own subtree under the shared one, so that
 * daemons on one host never touch each other's tasks, and a restarted
 * daemon finds (and kills) what its crashed predecessor left.
 */
struct cgroup_root	*cgroup_root_open(const char *want_path,
			    const char *instance);
void			 cgroup_root_close(struct cgroup_root *);
const char		*cgroup_root_path(const struct cgroup_root *);

/*
 * Create a child cgroup named name (letters, digits, '-', '_', '.') and
 * return a directory fd for spawn_cmd.cgroup_fd (O_CLOEXEC), or -1.
 */
int	cgroup_create(struct cgroup_root *, const char *name);
/* Signal every process in it; SIGKILL uses cgroup.kill (atomic). */
int	cgroup_signal(int dirfd, int sig);
/* Whether any process is left in it. */
bool	cgroup_populated(int dirfd);
/* CPU times in µs from cpu.stat and peak memory (memory.peak, if any). */
int	cgroup_usage(int dirfd, int64_t *user_us, int64_t *system_us,
	    int64_t *peak_kib);
/* Kill what is left, then remove it; closes dirfd. */
void	cgroup_destroy(struct cgroup_root *, int dirfd, const char *name);

/*
 * Task cgroups, kept for reuse.  cgroup_get() gives an empty cgroup: one
 * left by an earlier task, or a new one (named task-N); NULL (logged) if
 * none can be had.  cgroup_task_usage() counts from cgroup_get(): CPU in
 * µs, and the memory peak in KiB above what the cgroup held when taken
 * (-1 without the memory controller).  cgroup_task_signal() is
 * cgroup_signal() but for SIGKILL to an empty cgroup, which does nothing.
 * cgroup_put() hands it back: into the pool when nothing runs in it any
 * more, it was never killed and its memory.peak can be reset (kernel
 * 6.12), else killed and removed.  The pool goes with cgroup_root_close().
 */
struct cgroup	*cgroup_get(struct cgroup_root *);
int		 cgroup_fd(const struct cgroup *);
int		 cgroup_task_signal(struct cgroup *, int sig);
int		 cgroup_task_usage(const struct cgroup *, int64_t *user_us,
		    int64_t *system_us, int64_t *peak_kib);
void		 cgroup_put(struct cgroup *);

#endif
