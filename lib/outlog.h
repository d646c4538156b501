/*
 * Output logs: one file per task result under STATE_DIR/logs, holding
 * what its attempts printed (stdout and stderr together), capped by
 * limits.output with the cut marked.
 *
 *   STATE_DIR/logs/<execution>/<pipeline result>-<task>-<index>.log
 */
#ifndef PL_OUTLOG_H
#define PL_OUTLOG_H

struct task_result;

/* The path of a task result's log (to free). */
char	*outlog_path(const char *state_dir, const struct task_result *);
/*
 * Open it for appending, creating the directories (0700) and the file
 * (0600); never follows a symlink.  Returns the fd or -1 (errno set).
 */
int	 outlog_open(const char *state_dir, const struct task_result *);
/* Remove an execution's logs. */
void	 outlog_remove(const char *state_dir, unsigned long long id);

#endif
