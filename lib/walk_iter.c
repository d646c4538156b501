/*
 * Iterator commands: a shell line whose non-empty output lines are the
 * items of a pipeline or task iterator, run as the execution's user with
 * the pipeline's env and cwd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "bounds.h"
#include "node.h"
#include "outcome.h"
#include "pipeline.h"
#include "result.h"
#include "runas.h"
#include "taskspec.h"
#include "walk_int.h"
#include "xmalloc.h"

#define WALK_ITER_STDERR	4096	/* stderr kept for the error message */

static void
walk_iter_step(struct walk_iter *it)
{
	if (--it->pending == 0)
		it->done(it);
}

static void
walk_iter_exit_cb(struct spawn *sp, const struct spawn_exit *ex, void *arg)
{
	struct walk_iter	*it = arg;

	it->ex = *ex;
	walk_iter_step(it);
}

static void
walk_iter_eof_cb(struct capture *c, void *arg)
{
	walk_iter_step(arg);
}

/* Start the pipeline's (pr NULL) or task's iterator command. */
struct walk_iter *
walk_iter_start(struct walk *w, const struct pipeline_result *pr,
    uint32_t task, void (*done)(struct walk_iter *), void *target,
    char **err)
{
	struct walk_iter	*it;
	struct taskspec		 ts;
	struct spawn_cmd	 cmd;
	int			 out[2], errp[2];

	if (pipe2(out, O_CLOEXEC) == -1) {
		*err = xprintf("pipe: %s", strerror(errno));
		return NULL;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		*err = xprintf("pipe: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return NULL;
	}
	taskspec_iterator(&ts, w->e, pr, pr != NULL ?
	    &w->e->def->tasks[task] : NULL, w->ra, w->host.lang);
	taskspec_spawn_cmd(&cmd, &ts, w->ra);
	cmd.out_fd = out[1];
	cmd.err_fd = errp[1];
	it = xcalloc(1, sizeof *it);
	it->w = w;
	it->done = done;
	it->target = target;
	buf_init(&it->outb);
	buf_init(&it->errb);
	it->sp = spawn_start(w->host.base, &cmd, walk_iter_exit_cb, it, err);
	close(out[1]);
	close(errp[1]);
	if (it->sp == NULL) {
		close(out[0]);
		close(errp[0]);
		taskspec_clear(&ts);
		free(it);
		return NULL;
	}
	it->pending = 3;
	it->out = capture_start(w->host.base, out[0], -1, &it->outb,
	    PL_MAX_FILE_SIZE, walk_iter_eof_cb, it);
	it->err = capture_start(w->host.base, errp[0], -1, &it->errb,
	    WALK_ITER_STDERR, walk_iter_eof_cb, it);
	taskspec_clear(&ts);
	return it;
}

/* Stop a running iterator command (its whole tree); done() still follows. */
void
walk_iter_stop(struct walk_iter *it, const char *why)
{
	if (it->cancel == NULL)
		it->cancel = xstrdup(why);
	if (!spawn_exited(it->sp))
		spawn_signal_tree(it->sp, SIGKILL);
}

/* The last non-empty line of what the command wrote to stderr. */
static const char *
walk_iter_last_line(struct buf *b)
{
	char	*start;

	while (b->len > 0 && (b->data[b->len - 1] == '\n' ||
	    b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
	if (b->len == 0)
		return NULL;
	start = strrchr(b->data, '\n');
	return start != NULL ? start + 1 : b->data;
}

/*
 * Turn the output into a list of items for parent (the execution or the
 * task execution), or say why the command failed or they cannot be had.
 */
struct node *
walk_iter_items(struct walk_iter *it, const struct result *parent, char **msg)
{
	struct outcome	 o;
	struct node	*items;
	const char	*line, *last;
	char		*nl, *why;
	enum status	 st;
	size_t		 len;

	outcome_init(&o);
	o.exit_code = it->ex.exit_code;
	o.signal = it->ex.signal;
	o.exec_errno = it->ex.exec_errno;
	o.exec_step = it->ex.exec_step;
	o.program = "/bin/sh";
	st = outcome_status(&o, &why);
	if (st != STATUS_DONE) {
		last = walk_iter_last_line(&it->errb);
		*msg = last != NULL ? xprintf("iterate_command %s: %s", why,
		    last) : xprintf("iterate_command %s", why);
		free(why);
		return NULL;
	}
	free(why);
	if (capture_cut(it->out)) {
		*msg = xprintf("iterate_command printed more than %u bytes",
		    PL_MAX_FILE_SIZE);
		return NULL;
	}
	items = node_new(NODE_SEQ);
	for (line = it->outb.data; line != NULL && *line != '\0';) {
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 0) {
			if (items->nkids == PL_MAX_ITEMS) {
				*msg = xprintf("iterate_command printed more "
				    "than %d items", PL_MAX_ITEMS);
				node_free(items);
				return NULL;
			}
			node_append(items, node_new_str(line, len));
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (!execution_has_room(parent, items->nkids)) {
		*msg = xprintf("iterate_command printed %zu items: the execution "
		    "would hold more than %u task executions and task results",
		    items->nkids, PL_MAX_RESULTS);
		node_free(items);
		return NULL;
	}
	*msg = NULL;
	return items;
}

/* Free a finished iterator command. */
void
walk_iter_free(struct walk_iter *it)
{
	if (it == NULL)
		return;
	capture_free(it->out);
	capture_free(it->err);
	spawn_free(it->sp);
	buf_release(&it->outb);
	buf_release(&it->errb);
	free(it->cancel);
	free(it);
}
