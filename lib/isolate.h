/*
 * The child side of spawn: what runs between clone and exec, and the
 * clone that shares our memory with it.
 *
 * Internal to spawn.c.  The parent fills a struct isolate with everything
 * already computed (argv, envp, PATH candidates, rlimit values, descriptor
 * numbers), so that the child needs no memory allocation and no lock that
 * another thread of the parent could have held at the moment of the clone,
 * and, since it may share the parent's memory (CLONE_VM), writes nothing
 * there that the parent relies on.
 */
#ifndef PL_ISOLATE_H
#define PL_ISOLATE_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stdbool.h>
#include <stddef.h>

/* Setup steps, as reported through the exec-error pipe. */
enum isolate_step {
	ISOLATE_STEP_SETSID = 1,
	ISOLATE_STEP_CGROUP,
	ISOLATE_STEP_STDIO,
	ISOLATE_STEP_RLIMIT,
	ISOLATE_STEP_IDENTITY,
	ISOLATE_STEP_CHDIR,
	ISOLATE_STEP_EXEC,
};

/* What a failing child writes to the pipe before _exit(127). */
struct isolate_report {
	int	step;
	int	error;
};

#define ISOLATE_MAX_RLIMITS	4

struct isolate_rlimit {
	int		resource;
	struct rlimit	value;
};

struct isolate {
	char *const		*argv;
	char *const		*envp;
	/* argv[0] itself when it has a '/', else the PATH candidates. */
	char *const		*paths;
	size_t			 npaths;
	const char		*cwd;

	bool			 set_identity;
	uid_t			 uid;
	gid_t			 gid;
	const gid_t		*groups;
	size_t			 ngroups;
	/*
	 * For the check after the drop: groups sorted, and room for what
	 * getgroups() says, ngroups each (the only memory the child writes).
	 */
	const gid_t		*groups_sorted;
	gid_t			*groups_seen;

	struct isolate_rlimit	 limits[ISOLATE_MAX_RLIMITS];
	size_t			 nlimits;

	int			 null_fd;	/* /dev/null, read-write */
	int			 out_fd;	/* stdout; -1: /dev/null */
	int			 err_fd;	/* stderr; -1: as stdout */
	int			 report_fd;	/* the pipe, O_CLOEXEC */
	int			 join_cgroup_fd; /* join it ourselves, or -1 */
	int			 max_fd;	/* for the close() fallback */
};

/*
 * Start the child with CLONE_VM | CLONE_VFORK, straight into the cgroup
 * cgfd (or -1), with all signals blocked.  Returns its pid, with *pidfd
 * set, once it has exec'd or exited; -1 with errno on a failure that a
 * fork would share; 0 where this clone cannot be had (kernel, filter,
 * architecture, or a child that takes another uid): fork then.
 */
pid_t				 isolate_vfork(const struct isolate *,
				    int cgfd, int *pidfd);
/* Set the process up and exec; never returns.  For a forked child. */
__attribute__((noreturn)) void	 isolate_child(const struct isolate *);
/* The name of a step for struct spawn_exit ("exec", "chdir", ...). */
const char			*isolate_step_name(int);

#endif
