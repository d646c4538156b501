/*
 * Output log files: naming, creating and removing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "outlog.h"
#include "pipeline.h"
#include "result.h"
#include "xmalloc.h"

/* STATE_DIR/logs/ID/PR-TASK-INDEX.log */
char *
outlog_path(const char *state_dir, const struct task_result *tr)
{
	const struct execution	*e = tr->r.exec;

	return xprintf("%s/logs/%llu/%u-%s-%u.log", state_dir,
	    (unsigned long long)e->id, tr->te->pr->index,
	    e->def->tasks[tr->te->task].name, tr->index);
}

static int
outlog_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Open (creating) a task result's log for appending. */
int
outlog_open(const char *state_dir, const struct task_result *tr)
{
	char	*dir, *path;
	int	 fd, saved;

	dir = xprintf("%s/logs", state_dir);
	if (outlog_mkdir(dir) == -1) {
		saved = errno;
		free(dir);
		errno = saved;
		return -1;
	}
	free(dir);
	dir = xprintf("%s/logs/%llu", state_dir,
	    (unsigned long long)tr->r.exec->id);
	if (outlog_mkdir(dir) == -1) {
		saved = errno;
		free(dir);
		errno = saved;
		return -1;
	}
	free(dir);
	path = outlog_path(state_dir, tr);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	saved = errno;
	free(path);
	errno = saved;
	return fd;
}

/* Remove the logs of one execution. */
void
outlog_remove(const char *state_dir, unsigned long long id)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *path;

	dir = xprintf("%s/logs/%llu", state_dir, id);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xprintf("%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			log_warn("removing %s", path);
		free(path);
	}
	closedir(d);
	if (rmdir(dir) == -1)
		log_warn("removing %s", dir);
	free(dir);
}
