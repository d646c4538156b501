/*
 * run --wait's live progress line on a terminal:
 *
 *	[12/40] 3 running: render/2 4.1s, fetch 1.0s …
 *
 * drawn from a show tree and redrawn in place (carriage return, erase to
 * the end of the line), so it must never wrap: it is cut to the width of
 * the terminal, the longest running task results kept first since they
 * are the ones worth a look.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node.h"
#include "proto.h"
#include "status.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "pipectl.h"

#define PROGRESS_ELLIPSIS	"\xe2\x80\xa6"	/* U+2026, one column */

/* One running task result. */
struct progress_running {
	char	*label;
	int64_t	 started;
};

/* What the line counts. */
struct progress_tally {
	size_t			 done;
	size_t			 total;
	struct progress_running	*run;
	size_t			 nrun;
	size_t			 caprun;
};

static bool	progress_shown;

/* A string field, "" when absent (no status name is empty). */
static const char *
progress_str(const struct node *o, const char *key)
{
	const char	*s = proto_get_str(o, key);

	return s != NULL ? s : "";
}

/* Longest running first, so that what is stuck shows. */
static int
progress_cmp(const void *a, const void *b)
{
	const struct progress_running	*x = a, *y = b;

	return x->started < y->started ? -1 : x->started > y->started;
}

/* "render/2", "build", or "1/render/2" when there are several results. */
static char *
progress_label(int64_t result, const char *task, int64_t index)
{
	struct buf	b;

	buf_init(&b);
	if (result >= 0)
		buf_addf(&b, "%" PRId64 "/", result);
	buf_adds(&b, task != NULL ? task : "?");
	if (index >= 0)
		buf_addf(&b, "/%" PRId64, index);
	return buf_detach(&b);
}

/*
 * Count one task's results into the tally.  A task whose instances are
 * not known yet (its iterator has not run) counts as one to do.
 */
static void
progress_task(struct progress_tally *y, const struct node *t,
    int64_t result, int64_t now_us)
{
	const struct node	*insts = proto_get(t, "instances"), *in;
	struct progress_running	*r;
	enum status		 s;
	int64_t			 idx;
	bool			 single;
	size_t			 k;

	if (insts == NULL || node_count(insts) == 0) {
		if (status_from_name(progress_str(t, "status"), &s) == -1 ||
		    !status_is_final(s))
			y->total++;
		return;
	}
	single = render_task_single(t);
	for (k = 0; k < insts->nkids; k++) {
		in = node_item(insts, k);
		y->total++;
		if (status_from_name(progress_str(in, "status"), &s) == -1)
			continue;
		if (status_is_final(s))
			y->done++;
		if (s != STATUS_RUNNING)
			continue;
		if (proto_get_int(in, "index", &idx) == -1)
			idx = (int64_t)k;
		if (y->nrun == y->caprun) {
			y->caprun = y->caprun == 0 ? 8 : y->caprun * 2;
			y->run = xreallocarray(y->run, y->caprun,
			    sizeof *y->run);
		}
		r = &y->run[y->nrun++];
		if ((r->started = render_us(in, "started")) == -1)
			r->started = now_us;
		r->label = progress_label(result,
		    proto_get_str(t, "name"), single ? -1 : idx);
	}
}

/*
 * The progress line: "[12/40] 3 running: render/2 4.1s, fetch 1.0s …",
 * at most width columns; done/total count task results.
 */
char *
progress_line(const struct node *exec, int64_t now_us, int width)
{
	const struct node	*results, *r, *tasks;
	struct progress_tally	 y = { 0 };
	struct buf		 b;
	char			 el[TIMEFMT_LEN], *item;
	int64_t			 ri;
	size_t			 i, j, cols;

	results = proto_get(exec, "results");
	for (i = 0; results != NULL && i < node_count(results); i++) {
		r = node_item(results, i);
		if (proto_get_int(r, "index", &ri) == -1)
			ri = (int64_t)i;
		if (node_count(results) == 1)
			ri = -1;	/* no need to say which result */
		tasks = proto_get(r, "tasks");
		for (j = 0; tasks != NULL && j < node_count(tasks); j++)
			progress_task(&y, node_item(tasks, j), ri,
			    now_us);
	}
	if (y.nrun > 0)	/* qsort wants a real array, even an empty one */
		qsort(y.run, y.nrun, sizeof *y.run, progress_cmp);
	buf_init(&b);
	buf_addf(&b, "[%zu/%zu] %zu running", y.done, y.total, y.nrun);
	cols = b.len;
	for (i = 0; i < y.nrun; i++) {
		timefmt_elapsed(now_us - y.run[i].started, el, sizeof el);
		item = xprintf("%s%s %s", i == 0 ? ": " : ", ", y.run[i].label,
		    el);
		/* Keep two columns for " …" should a later one not fit. */
		if (width > 0 && cols + strlen(item) +
		    (i + 1 < y.nrun ? 2 : 0) >= (size_t)width) {
			buf_adds(&b, " " PROGRESS_ELLIPSIS);
			free(item);
			break;
		}
		buf_adds(&b, item);
		cols += strlen(item);
		free(item);
	}
	for (i = 0; i < y.nrun; i++)
		free(y.run[i].label);
	free(y.run);
	return buf_detach(&b);
}

/* Draw the progress line over the previous one. */
void
progress_draw(const char *line)
{
	printf("\r%s\033[K", line);
	fflush(stdout);
	progress_shown = true;
}

/* Erase the progress line, if one is shown, so that others may print. */
void
progress_clear(void)
{
	if (!progress_shown)
		return;
	printf("\r\033[K");
	fflush(stdout);
	progress_shown = false;
}
