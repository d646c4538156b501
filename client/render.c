/*
 * What pipectl prints for people: statuses in colour, durations, the show
 * tree, the list table and watch lines (run --wait's progress line is in
 * progress.c).
 *
 * Everything reads the daemon's reply objects (docs/protocol.md) as they
 * came, and treats every field as optional: a newer daemon may add
 * fields, an older one may lack some, and a missing field is printed as
 * "-" rather than refused.  JSON output is not made here: commands print
 * the reply objects as they are with nodejson_encode.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "status.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "pipectl.h"

#define RENDER_OBJECT_MAX	32	/* columns of an iterator item shown */
#define RENDER_ELLIPSIS		"\xe2\x80\xa6"	/* U+2026, one column */

/* One line of the show tree, kept until the columns can be aligned. */
struct render_row {
	int		 indent;
	char		*label;
	const char	*status;
	char		 dur[TIMEFMT_LEN];
	char		*detail;
};

/* The rows of one show tree. */
struct render_rows {
	struct render_row	*v;
	size_t			 n;
	size_t			 cap;
};

/* Columns a UTF-8 string takes, counting each code point as one. */
static size_t
render_cols(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Pad with spaces from cols to width. */
static void
render_pad(FILE *f, size_t cols, size_t width)
{
	for (; cols < width; cols++)
		fputc(' ', f);
}

/* A copy of s cut to at most max columns, an ellipsis marking the cut. */
static char *
render_clip(const char *s, size_t max)
{
	size_t	i, cols = 0;

	if (render_cols(s) <= max)
		return xstrdup(s);
	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++cols == max)
			break;	/* s[i] starts the ellipsis's column */
	}
	return xprintf("%.*s%s", (int)i, s, RENDER_ELLIPSIS);
}

/* The terminal's width, or 80 when it cannot be had. */
int
render_term_width(int fd)
{
	struct winsize	 ws;
	const char	*env;
	long long	 w;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	/* strtonum, not atoi: "COLUMNS=99999999999" is then just ignored. */
	if ((env = getenv("COLUMNS")) != NULL &&
	    (w = strtonum(env, 1, 10000, NULL)) > 0)
		return (int)w;
	return 80;
}

/* The escape sequence that colours a status, or NULL for none. */
static const char *
render_color_of(const char *status)
{
	enum status	s;

	if (status == NULL || status_from_name(status, &s) == -1)
		return NULL;
	if (s == STATUS_DONE)
		return "\033[32m";
	if (s == STATUS_CANCELLED)
		return "\033[33m";
	if (status_is_failure(s))
		return "\033[31m";
	if (s == STATUS_RUNNING)
		return "\033[36m";
	return "\033[2m";
}

/* Print a status, coloured when allowed, padded to width columns. */
void
render_status(FILE *f, bool color, const char *status, int width)
{
	const char	*esc = color ? render_color_of(status) : NULL;

	if (status == NULL)
		status = "-";
	if (esc != NULL)
		fprintf(f, "%s%s\033[0m", esc, status);
	else
		fputs(status, f);
	if (width > 0)
		render_pad(f, strlen(status), (size_t)width);
}

/* A copy of a string field, or of dflt when it is absent or null. */
static char *
render_text(const struct node *o, const char *key, const char *dflt)
{
	const char	*s = proto_get_str(o, key);

	return xstrdup(s != NULL ? s : dflt);
}

/* A time field in µs; -1 when absent, null or unreadable. */
int64_t
render_us(const struct node *o, const char *key)
{
	const char	*s = proto_get_str(o, key);
	int64_t		 us;

	if (s == NULL || timefmt_parse(s, &us) == -1)
		return -1;
	return us;
}

/*
 * How long an object ran: started to completed, or to now while it runs.
 * An execution that never started (refused at once) counts from
 * submission.
 */
char *
render_duration(const struct node *o, int64_t now_us, char *buf, size_t len)
{
	int64_t	start, end;

	if ((start = render_us(o, "started")) == -1)
		start = render_us(o, "submitted");
	end = render_us(o, "completed");
	if (start == -1 || (end == -1 && !node_is_str(proto_get(o, "status"),
	    "RUNNING"))) {
		snprintf(buf, len, "-");
		return buf;
	}
	return timefmt_elapsed((end == -1 ? now_us : end) - start, buf, len);
}

/*
 * A daemon time (UTC) in local time for people: with the date, or only
 * the time of day (watch lines).  "-" when absent.
 */
char *
render_time(const char *rfc3339, bool date, char *buf, size_t len)
{
	struct tm	tm;
	int64_t		us;
	time_t		t;

	if (rfc3339 == NULL || timefmt_parse(rfc3339, &us) == -1) {
		snprintf(buf, len, "%s", rfc3339 != NULL ? rfc3339 : "-");
		return buf;
	}
	t = (time_t)(us / 1000000);
	localtime_r(&t, &tm);
	if (strftime(buf, len, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
	    &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* An iterator item, short enough for a column; NULL when there is none. */
static char *
render_object(const struct node *o)
{
	const struct node	*obj = proto_get(o, "object");
	char			*text, *clipped;

	if (obj == NULL || obj->type == NODE_NULL)
		return NULL;
	text = node_item_text(obj);
	clipped = render_clip(text, RENDER_OBJECT_MAX);
	free(text);
	return clipped;
}

/*
 * The end of a task result's line: how it ended, attempts when retried,
 * and the message unless it only repeats the exit code or signal.
 */
static char *
render_detail(const struct node *inst)
{
	struct buf	 b;
	const char	*msg = proto_get_str(inst, "message"), *name;
	char		*same = NULL;
	int64_t		 v;

	buf_init(&b);
	if (proto_get_int(inst, "exit_code", &v) == 0) {
		buf_addf(&b, "exit %" PRId64, v);
		same = xprintf("exited with status %" PRId64, v);
	} else if (proto_get_int(inst, "signal", &v) == 0) {
		name = v > 0 && v < 65 ? sigabbrev_np((int)v) : NULL;
		if (name != NULL)
			buf_addf(&b, "signal %" PRId64 " (SIG%s)", v, name);
		else
			buf_addf(&b, "signal %" PRId64, v);
		/* The daemon's message adds only the name shown here. */
		same = xprintf("killed by signal %" PRId64 " ", v);
	}
	if (proto_get_int(inst, "attempts", &v) == 0 && v > 1)
		buf_addf(&b, "%s%" PRId64 " attempts", b.len > 0 ? ", " : "",
		    v);
	if (msg != NULL && *msg != '\0' && (same == NULL ||
	    strncmp(msg, same, strlen(same)) != 0))
		buf_addf(&b, "%s%s", b.len > 0 ? "  " : "", msg);
	free(same);
	return buf_detach(&b);
}

/* Queue one row of the show tree; label and detail become the row's. */
static void
render_row_add(struct render_rows *rows, int indent, char *label,
    const struct node *o, int64_t now, char *detail)
{
	struct render_row	*r;

	if (rows->n == rows->cap) {
		rows->cap = rows->cap == 0 ? 16 : rows->cap * 2;
		rows->v = xreallocarray(rows->v, rows->cap, sizeof *rows->v);
	}
	r = &rows->v[rows->n++];
	r->indent = indent;
	r->label = label;
	r->status = proto_get_str(o, "status");
	render_duration(o, now, r->dur, sizeof r->dur);
	r->detail = detail;
}

/* Print the queued rows with their columns aligned, and free them. */
static void
render_rows_flush(FILE *f, struct render_rows *rows, bool color)
{
	struct render_row	*r;
	size_t			 i, lw = 0, sw = 0, dw = 0, w;

	for (i = 0; i < rows->n; i++) {
		r = &rows->v[i];
		if ((w = 2 * r->indent + render_cols(r->label)) > lw)
			lw = w;
		if (r->status != NULL && (w = strlen(r->status)) > sw)
			sw = w;
		if ((w = strlen(r->dur)) > dw)
			dw = w;
	}
	for (i = 0; i < rows->n; i++) {
		r = &rows->v[i];
		render_pad(f, 0, 2 * r->indent);
		fputs(r->label, f);
		render_pad(f, 2 * r->indent + render_cols(r->label), lw + 2);
		render_status(f, color, r->status, (int)sw + 2);
		fputs(r->dur, f);
		if (r->detail != NULL && *r->detail != '\0') {
			render_pad(f, strlen(r->dur), dw + 2);
			fputs(r->detail, f);
		}
		fputc('\n', f);
		free(r->label);
		free(r->detail);
	}
	free(rows->v);
	memset(rows, 0, sizeof *rows);
}

/*
 * True when a task has no iterator (so exactly one instance): it is then
 * shown on the task's own line.
 */
bool
render_task_single(const struct node *task)
{
	const struct node	*insts = proto_get(task, "instances");
	bool			 iter = true;

	if (insts == NULL || insts->type != NODE_SEQ || insts->nkids != 1)
		return false;
	proto_get_bool(task, "iterator", &iter);
	return !iter;
}

/* Queue the rows of one task: one line, or a line per instance. */
static void
render_task_rows(struct render_rows *rows, const struct node *t, int indent,
    int64_t now)
{
	const struct node	*insts = proto_get(t, "instances"), *in;
	const char		*name = proto_get_str(t, "name");
	char			*obj;
	int64_t			 idx;
	size_t			 i, n;

	if (name == NULL)
		name = "?";
	if (render_task_single(t)) {
		in = node_item(insts, 0);
		render_row_add(rows, indent, xstrdup(name), in, now,
		    render_detail(in));
		return;
	}
	n = insts != NULL && insts->type == NODE_SEQ ? insts->nkids : 0;
	render_row_add(rows, indent, n > 0 ? xprintf("%s [%zu]", name, n) :
	    xstrdup(name), t, now, render_text(t, "message", ""));
	for (i = 0; i < n; i++) {
		in = node_item(insts, i);
		if (proto_get_int(in, "index", &idx) == -1)
			idx = (int64_t)i;
		obj = render_object(in);
		render_row_add(rows, indent + 1, obj != NULL ?
		    xprintf("%" PRId64 " %s", idx, obj) :
		    xprintf("%" PRId64, idx), in, now, render_detail(in));
		free(obj);
	}
}

/* "42  nightly-report  RUNTIME_ERROR  4.1s", and the message if any. */
void
render_summary(FILE *f, const struct node *exec, bool color)
{
	const char	*pipeline = proto_get_str(exec, "pipeline");
	const char	*msg = proto_get_str(exec, "message");
	char		 dur[TIMEFMT_LEN];
	int64_t		 id = 0;

	proto_get_int(exec, "id", &id);
	fprintf(f, "%" PRId64 "  %s  ", id, pipeline != NULL ? pipeline : "-");
	render_status(f, color, proto_get_str(exec, "status"), 0);
	render_duration(exec, timefmt_now_us(), dur, sizeof dur);
	if (strcmp(dur, "-") != 0)
		fprintf(f, "  %s", dur);
	if (msg != NULL && *msg != '\0')
		fprintf(f, "  %s", msg);
	fputc('\n', f);
}

/*
 * The show tree: a header, then per pipeline result (a line of its own
 * when the pipeline has an iterator) its tasks, and the instances of tasks
 * with an iterator.
 */
void
render_show(FILE *f, const struct node *exec, bool color)
{
	const struct node	*owner, *input, *results, *r, *tasks;
	struct render_rows	 rows = { 0 };
	const char		*user, *runner;
	char			 when[TIMEFMT_LEN], *obj;
	int64_t			 now = timefmt_now_us(), uid, idx;
	bool			 iter;
	size_t			 i, j;

	render_summary(f, exec, color);
	render_time(proto_get_str(exec, "submitted"), true, when, sizeof when);
	fprintf(f, "submitted %s", when);
	owner = proto_get(exec, "owner");
	user = proto_get_str(owner, "user");
	if (proto_get_int(owner, "uid", &uid) == 0)
		fprintf(f, " by %s%suid %" PRId64 "%s",
		    user != NULL ? user : "", user != NULL ? " (" : "", uid,
		    user != NULL ? ")" : "");
	if ((runner = proto_get_str(exec, "runner")) != NULL)
		fprintf(f, ", runner %s", runner);
	fputc('\n', f);
	input = proto_get(exec, "input");
	if (input != NULL && input->type == NODE_MAP && input->nkids > 0) {
		obj = nodejson_encode(input);
		fprintf(f, "input %s\n", obj);
		free(obj);
	}
	results = proto_get(exec, "results");
	if (results == NULL || results->type != NODE_SEQ)
		return;
	iter = true;
	proto_get_bool(exec, "iterator", &iter);
	for (i = 0; i < results->nkids; i++) {
		r = node_item(results, i);
		if (iter) {
			if (proto_get_int(r, "index", &idx) == -1)
				idx = (int64_t)i;
			obj = render_object(r);
			render_row_add(&rows, 0, obj != NULL ?
			    xprintf("result %" PRId64 ": %s", idx, obj) :
			    xprintf("result %" PRId64, idx), r, now,
			    render_text(r, "message", ""));
			free(obj);
		}
		if ((tasks = proto_get(r, "tasks")) == NULL ||
		    tasks->type != NODE_SEQ)
			continue;
		for (j = 0; j < tasks->nkids; j++)
			render_task_rows(&rows, node_item(tasks, j), 1, now);
	}
	render_rows_flush(f, &rows, color);
}

/*
 * The list table: ID, PIPELINE, STATUS, SUBMITTED, DURATION, MESSAGE.  On
 * a terminal (width > 0) the message is cut to fit the line.
 */
void
render_list(FILE *f, const struct node *execs, bool color, int width)
{
	static const char *const head[] = { "ID", "PIPELINE", "STATUS",
	    "SUBMITTED", "DURATION", "MESSAGE" };
	enum { NCOL = 6 };
	const struct node	*e;
	char			**cell, **row, *clipped;
	char			 when[TIMEFMT_LEN], dur[TIMEFMT_LEN];
	const char		*s;
	size_t			 w[NCOL], n, i, k, used, room;
	int64_t			 id, now = timefmt_now_us();

	n = execs != NULL && execs->type == NODE_SEQ ? execs->nkids : 0;
	cell = xcalloc((n + 1) * NCOL, sizeof *cell);
	for (k = 0; k < NCOL; k++)
		cell[k] = xstrdup(head[k]);
	for (i = 0; i < n; i++) {
		e = node_item(execs, i);
		id = 0;
		proto_get_int(e, "id", &id);
		row = cell + (i + 1) * NCOL;
		row[0] = xprintf("%" PRId64, id);
		row[1] = render_text(e, "pipeline", "-");
		row[2] = render_text(e, "status", "-");
		row[3] = xstrdup(render_time(proto_get_str(e, "submitted"),
		    true, when, sizeof when));
		row[4] = xstrdup(render_duration(e, now, dur, sizeof dur));
		row[5] = render_text(e, "message", "");
	}
	for (k = 0; k < NCOL; k++) {
		w[k] = 0;
		for (i = 0; i <= n; i++)
			if (render_cols(cell[i * NCOL + k]) > w[k])
				w[k] = render_cols(cell[i * NCOL + k]);
	}
	for (used = 0, k = 0; k + 1 < NCOL; k++)
		used += w[k] + 2;
	room = width > 0 && (size_t)width > used + 8 ? (size_t)width - used :
	    SIZE_MAX;
	for (i = 0; i <= n; i++) {
		for (k = 0; k < NCOL; k++) {
			s = cell[i * NCOL + k];
			if (k == NCOL - 1) {
				if (render_cols(s) > room) {
					clipped = render_clip(s, room - 1);
					fputs(clipped, f);
					free(clipped);
				} else
					fputs(s, f);
			} else if (k == 2 && i > 0) {
				render_status(f, color, s, (int)w[k] + 2);
			} else {
				fputs(s, f);
				render_pad(f, render_cols(s), w[k] + 2);
			}
		}
		fputc('\n', f);
	}
	for (i = 0; i < (n + 1) * NCOL; i++)
		free(cell[i]);
	free(cell);
}

/* "20:15:00 42/0/render/0 RUNNING starting": one watch event. */
void
render_event(FILE *f, const struct node *ev, bool color, bool with_time)
{
	const char	*addr = proto_get_str(ev, "address");
	const char	*msg = proto_get_str(ev, "message");
	char		 when[TIMEFMT_LEN];

	if (with_time)
		fprintf(f, "%s ", render_time(proto_get_str(ev, "time"), false,
		    when, sizeof when));
	fprintf(f, "%s ", addr != NULL ? addr : "-");
	render_status(f, color, proto_get_str(ev, "status"), 0);
	if (msg != NULL && *msg != '\0')
		fprintf(f, " %s", msg);
	fputc('\n', f);
}
