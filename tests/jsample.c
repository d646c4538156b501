/*
 * The sample journal of the journal tests (see jsample.h): executions of
 * a small pipeline written through the history and the journal exactly as
 * the daemon writes them, then read back into memory file by file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "history.h"
#include "journal.h"
#include "journal_int.h"
#include "jscan.h"
#include "jsample.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "status.h"
#include "xmalloc.h"

/*
 * Checks that hold outside a test too (the sample is built before the
 * tests run, where check's asserts cannot report).
 */
#define JS_REQUIRE(c) do {						\
	if (!(c))							\
		js_die("%s:%d: %s failed", __FILE__, __LINE__, #c);	\
} while (0)

/* Stop the test program: the sample cannot be built. */
static void __attribute__((noreturn, format(printf, 1, 2)))
js_die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const char *js_yaml =
    "name: sample\n"
    "description: the journal tests' pipeline\n"
    "iterate: [eu, us]\n"
    "env: {TZ: UTC}\n"
    "tasks:\n"
    "  fetch:\n"
    "    run: ./fetch.sh \"$PIPELINE_OBJECT\"\n"
    "  render:\n"
    "    run: ./render.sh \"$TASK_OBJECT\"\n"
    "    iterate_command: cat parts.txt\n"
    "    retries: 1\n";

/* A fresh temporary directory, on tmpfs when there is one. */
char *
js_tmpdir(const char *tag)
{
	const char	*base = getenv("TMPDIR");
	char		*dir;

	if (access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL)
		base = "/tmp";
	dir = xprintf("%s/pl-check-%s-XXXXXX", base, tag);
	JS_REQUIRE(mkdtemp(dir) != NULL);
	return dir;
}

/* nftw callback: remove one entry, children first. */
static int
js_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path);
}

/* Remove a directory and everything in it. */
void
js_rmtree(const char *dir)
{
	nftw(dir, js_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* An event base with the daemon's three priorities. */
struct event_base *
js_base(void)
{
	struct event_base	*base = event_base_new();

	JS_REQUIRE(base != NULL);
	JS_REQUIRE(event_base_priority_init(base, 3) == 0);
	return base;
}

/* Submit an execution of yaml, journaled through h like a client's. */
struct execution *
js_submit(struct history *h, const char *yaml, int64_t t)
{
	struct diag		*d = diag_new("sample.yaml");
	struct node		*doc = NULL;
	struct pipeline		*p;
	struct execution	*e;

	p = load_buffer(yaml, strlen(yaml), 0, d, &doc);
	JS_REQUIRE(p != NULL);
	diag_free(d);
	e = execution_new(history_next_id(h), p, history_record_cb, h);
	e->items_cb = history_items_cb;
	e->owned_def = p;
	e->doc = doc;
	e->input = node_new(NODE_MAP);
	node_map_set_str(e->input, "date", node_new_str("2026-11-27", 10));
	e->cwd = xstrdup("/srv/report");
	e->uid = 1000;
	e->gid = 1000;
	e->user = xstrdup("alice");
	e->runner = xstrdup("local");
	e->submitted_us = t;
	history_add(h, e);
	execution_add_static(e, t);
	result_note(&e->r, "submitted by alice");
	return e;
}

/* The items the render task's iterator command "printed". */
static struct node *
js_items(void)
{
	struct node	*items = node_new(NODE_SEQ), *m = node_new(NODE_MAP);

	node_append(items, node_new_str("part-1", 6));
	node_map_set_str(m, "part", node_new_int(2));
	node_append(items, m);
	return items;
}

/* One task result on through RUNNING, a note, and its end. */
static void
js_run_one(struct task_result *tr, int64_t *t, bool fail, bool finish)
{
	if (result_is_final(&tr->r))
		return;
	if (tr->r.status == STATUS_PENDING) {
		tr->pid = 4000 + (pid_t)(*t % 1000);
		tr->attempts = 1;
		tr->isolation = "process_group";
		JS_REQUIRE(result_set(&tr->r, STATUS_RUNNING, "running",
		    ++*t) == 0);
		JS_REQUIRE(result_note(&tr->r, "attempt 1 of 2") == 0);
	}
	if (!finish)
		return;
	tr->exit_code = fail ? 3 : 0;
	tr->cpu_user_us = 1234 + *t % 77;
	tr->cpu_system_us = 321;
	tr->max_rss_kib = 2048;
	JS_REQUIRE(result_set(&tr->r, fail ? STATUS_RUNTIME_ERROR :
	    STATUS_DONE, fail ? "exit code 3" : "exit code 0", ++*t) == 0);
}

/* Run an execution's task results; the last one may stay running. */
void
js_run(struct execution *e, int64_t t, bool fail, bool all)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct node		*items;
	uint32_t		 i, k, n;
	bool			 last;

	for (i = 0; i < e->nresults; i++) {
		pr = e->results[i];
		for (n = 0; n < e->def->ntasks; n++) {
			te = &pr->tasks[n];
			if (e->def->tasks[n].iterate_command != NULL &&
			    !te->r.sealed) {
				items = js_items();
				execution_add_items(&te->r, items, ++t);
				node_free(items);
			}
			for (k = 0; k < te->ninst; k++) {
				last = i + 1 == e->nresults && n + 1 ==
				    e->def->ntasks && k + 1 == te->ninst;
				js_run_one(te->inst[k], &t, fail && last,
				    all || !last);
			}
		}
	}
}

/* Submit and run n executions, one commit for each step. */
void
js_work(struct history *h, struct journal *j, int n, int64_t t)
{
	struct execution	*e;
	int			 i;

	for (i = 0; i < n; i++) {
		e = js_submit(h, js_yaml, t + i * 1000000LL);
		JS_REQUIRE(journal_flush(j) == 0);
		js_run(e, t + i * 1000000LL, i % 3 == 2, i + 1 < n || n < 3);
		JS_REQUIRE(journal_flush(j) == 0);
	}
}

/* Replay callback that accepts every record. */
static int
js_accept(const struct jrec *r, void *arg)
{
	return 0;
}

/* Compaction keeps everything. */
static bool
js_keep_all(const struct execution *e, void *arg)
{
	return true;
}

/*
 * The sample: 4 executions compacted into a snapshot (their segment
 * removed), 4 more in a segment ended by a rotation, 4 more in the newest
 * segment, then a clean close: about 64 KiB in three files.
 */
void
js_build(const char *state_dir, struct history **hp)
{
	struct event_base	*base = js_base();
	struct history		*h = history_new();
	struct journal		*j;
	struct jscan		 scan;
	char			*err = NULL;

	j = journal_open(state_dir, JOURNAL_SYNC_BATCH, 0, base, js_accept,
	    NULL, &scan, &err);
	if (j == NULL)
		js_die("journal_open: %s", err);
	jscan_clear(&scan);
	history_set_journal(h, j);
	js_work(h, j, 4, JS_T0);
	if (journal_compact(j, h, js_keep_all, NULL, &err) == -1)
		js_die("journal_compact: %s", err);
	js_work(h, j, 4, JS_T0 + 100000000LL);
	journal_rotate(j);
	js_work(h, j, 4, JS_T0 + 200000000LL);
	history_set_journal(h, NULL);
	journal_close(j, true);
	event_base_free(base);
	if (hp != NULL)
		*hp = h;
	else
		history_free(h);
}

/* Read a whole file into memory. */
static uint8_t *
js_slurp(const char *path, size_t *len)
{
	struct stat	 sb;
	uint8_t		*p;
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	JS_REQUIRE(fd != -1);
	JS_REQUIRE(fstat(fd, &sb) == 0);
	p = xmalloc((size_t)sb.st_size + 1);
	JS_REQUIRE(read(fd, p, (size_t)sb.st_size) == sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return p;
}

/* Add one file and its records (all must be valid) to s. */
static void
js_add_file(struct js_sample *s, const char *dir, const char *name,
    bool snapshot)
{
	struct js_file	*f;
	struct js_rec	*r;
	struct jrec	 jr;
	char		*path;
	size_t		 off;

	JS_REQUIRE(s->nfiles < JS_MAXFILES);
	f = &s->files[s->nfiles];
	JS_REQUIRE(strlen(name) < sizeof f->name);
	strlcpy(f->name, name, sizeof f->name);
	path = xprintf("%s/%s", dir, name);
	f->data = js_slurp(path, &f->len);
	free(path);
	f->snapshot = snapshot;
	f->first = s->nrecs;
	for (off = JSEG_HEADER; off < f->len; off += jr.size) {
		JS_REQUIRE(jrec_parse(f->data + off, f->len - off, &jr) ==
		    JREC_OK);
		s->recs = xreallocarray(s->recs, s->nrecs + 1, sizeof *s->recs);
		r = &s->recs[s->nrecs++];
		r->file = s->nfiles;
		r->off = off;
		r->size = jr.size;
		r->seq = jr.seq;
		r->type = jr.type;
		r->payload = f->data + off + JREC_HEADER;
		r->len = jr.len;
	}
	f->nrec = s->nrecs - f->first;
	s->total += f->len;
	s->nfiles++;
}

/* Load a journal directory: snapshots, then segments. */
void
js_load(struct js_sample *s, const char *dir)
{
	char	**segs, **snaps, *err = NULL;
	size_t	  nseg, nsnap, i;

	memset(s, 0, sizeof *s);
	JS_REQUIRE(jscan_list(dir, &segs, &nseg, &snaps, &nsnap, &err) == 0);
	for (i = 0; i < nsnap; i++)
		js_add_file(s, dir, snaps[i], true);
	for (i = 0; i < nseg; i++)
		js_add_file(s, dir, segs[i], false);
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
}

/* Free what js_load() read. */
void
js_free(struct js_sample *s)
{
	size_t	i;

	for (i = 0; i < s->nfiles; i++)
		free(s->files[i].data);
	free(s->recs);
	memset(s, 0, sizeof *s);
}

/* Replace dir/name with len bytes. */
void
js_put(const char *dir, const char *name, const void *data, size_t len)
{
	char	*path = xprintf("%s/%s", dir, name);
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		js_die("%s: %s", path, strerror(errno));
	JS_REQUIRE(write(fd, data, len) == (ssize_t)len);
	close(fd);
	free(path);
}

/* Write every file of the sample into dir. */
void
js_write(const struct js_sample *s, const char *dir)
{
	size_t	i;

	for (i = 0; i < s->nfiles; i++)
		js_put(dir, s->files[i].name, s->files[i].data,
		    s->files[i].len);
}

/* The index of a file by name. */
int
js_find(const struct js_sample *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The global index of the record of file f holding byte off, or -1. */
long
js_rec_at(const struct js_sample *s, size_t f, size_t off)
{
	const struct js_file	*jf = &s->files[f];
	size_t			 lo = jf->first, hi = jf->first + jf->nrec, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (off < s->recs[mid].off)
			hi = mid;
		else if (off >= s->recs[mid].off + s->recs[mid].size)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Note one failure of a sweep; the first few are kept. */
void
js_failf(struct js_fails *f, const char *fmt, ...)
{
	va_list	ap;
	size_t	len = strlen(f->msg);

	if (f->n++ < 4 && len + 2 < sizeof f->msg) {
		va_start(ap, fmt);
		vsnprintf(f->msg + len, sizeof f->msg - len, fmt, ap);
		va_end(ap);
		strlcat(f->msg, "\n", sizeof f->msg);
	}
}

/* Whether a delivered record is sample record e, byte for byte. */
static bool
js_same(const struct js_rec *e, const struct jrec *r)
{
	return e->seq == r->seq && e->type == r->type && e->len == r->len &&
	    memcmp(e->payload, r->payload, r->len) == 0;
}

/* Scan callback: find the record among the sample's, in order. */
static int
js_got_cb(const struct jrec *r, void *arg)
{
	struct js_got		*g = arg;
	const struct js_sample	*s = g->s;
	size_t			 k;

	for (k = g->cursor; k < s->nrecs && !js_same(&s->recs[k], r); k++)
		;
	if (k == s->nrecs) {
		g->changed++;
		return 0;
	}
	g->seen[k] = 1;
	g->cursor = k + 1;
	g->n++;
	return 0;
}

/* Scan dir into sc, collecting in g; false when jscan_dir() failed. */
bool
js_scan(struct js_got *g, const char *dir, bool repair, struct jscan *sc)
{
	char	*err = NULL;

	memset(g->seen, 0, g->s->nrecs);
	g->cursor = g->n = g->changed = 0;
	if (jscan_dir(dir, repair, js_got_cb, g, sc, &err) == -1) {
		fprintf(stderr, "jscan_dir: %s\n", err);
		free(err);
		return false;
	}
	return true;
}

/* Want every record except those of file f not wholly before off. */
void
js_want_upto(const struct js_sample *s, uint8_t *want, size_t f, size_t off)
{
	const struct js_file	*jf = &s->files[f];
	size_t			 k;

	memset(want, 1, s->nrecs);
	for (k = jf->first; k < jf->first + jf->nrec; k++)
		if (s->recs[k].off + s->recs[k].size > off)
			want[k] = 0;
}

/* The seq of the last wanted record before record g (0: none). */
uint64_t
js_prev_seq(const struct js_sample *s, const uint8_t *want, size_t g)
{
	while (g-- > 0)
		if (want[g])
			return s->recs[g].seq;
	return 0;
}

/* The end of the last record of file f wholly before off, or the header. */
size_t
js_good_end(const struct js_sample *s, size_t f, size_t off)
{
	const struct js_file	*jf = &s->files[f];
	size_t			 k, end = JSEG_HEADER;

	for (k = jf->first; k < jf->first + jf->nrec; k++)
		if (s->recs[k].off + s->recs[k].size <= off)
			end = s->recs[k].off + s->recs[k].size;
	return end;
}

/* Compare what was delivered with want; describe the first difference. */
bool
js_check_seen(const struct js_got *g, const uint8_t *want,
    struct js_fails *fl, const char *ctx)
{
	const struct js_sample	*s = g->s;
	size_t			 k;

	if (g->changed != 0) {
		js_failf(fl, "%s: %zu delivered records are not the sample's",
		    ctx, g->changed);
		return false;
	}
	if (memcmp(g->seen, want, s->nrecs) == 0)
		return true;
	for (k = 0; g->seen[k] == want[k]; k++)
		;
	js_failf(fl, "%s: record %" PRIu64 " (%s, %s+%zu) %s", ctx,
	    s->recs[k].seq, jrec_type_name(s->recs[k].type),
	    s->files[s->recs[k].file].name, s->recs[k].off, want[k] ? "lost" :
	    "delivered");
	return false;
}

/* Compare a scan's damage entries with the expected ones. */
bool
js_check_damage(const struct js_sample *s, const struct jscan *sc,
    const struct js_wd *w, size_t n, struct js_fails *fl, const char *ctx)
{
	const struct jdamage	*d;
	size_t			 i;

	for (i = 0; i < sc->ndamage || i < n; i++) {
		d = i < sc->ndamage ? &sc->damage[i] : NULL;
		if (d != NULL && i < n && strcmp(d->file,
		    s->files[w[i].file].name) == 0 && d->start == w[i].start &&
		    d->end == w[i].end && d->torn == w[i].torn &&
		    d->seq_before == w[i].seq_before && (w[i].what == NULL ||
		    strcmp(d->what, w[i].what) == 0))
			continue;
		if (d == NULL)
			js_failf(fl, "%s: damage %zu missing: %s %" PRIu64 "-%"
			    PRIu64 "%s", ctx, i, s->files[w[i].file].name,
			    w[i].start, w[i].end, w[i].torn ? " torn" : "");
		else if (i < n)
			js_failf(fl, "%s: damage %zu is %s %" PRIu64 "-%" PRIu64
			    "%s after %" PRIu64 " (%s), want %s %" PRIu64 "-%"
			    PRIu64 "%s after %" PRIu64 " (%s)", ctx, i,
			    d->file, d->start, d->end, d->torn ? " torn" : "",
			    d->seq_before, d->what, s->files[w[i].file].name,
			    w[i].start, w[i].end, w[i].torn ? " torn" : "",
			    w[i].seq_before, w[i].what != NULL ? w[i].what :
			    "any");
		else
			js_failf(fl, "%s: damage %zu is %s %" PRIu64 "-%" PRIu64
			    "%s after %" PRIu64 " (%s), want none", ctx, i,
			    d->file, d->start, d->end, d->torn ? " torn" : "",
			    d->seq_before, d->what);
		return false;
	}
	return true;
}

/* Count the .broken-* copies of name in dir, keep the last, remove all. */
int
js_broken_copies(const char *dir, const char *name, struct buf *b)
{
	struct dirent	*de;
	DIR		*d;
	char		 prefix[96], path[512];
	int		 n = 0, fd;
	ssize_t		 r;

	snprintf(prefix, sizeof prefix, "%s.broken-", name);
	JS_REQUIRE((d = opendir(dir)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		buf_reset(b);
		JS_REQUIRE((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1);
		buf_reserve(b, 1 << 17);
		r = read(fd, b->data, b->cap - 1);
		JS_REQUIRE(r >= 0);
		b->len = (size_t)r;
		close(fd);
		unlink(path);
	}
	closedir(d);
	return n;
}

/* The size of dir/name, or -1. */
off_t
js_size(const char *dir, const char *name)
{
	struct stat	 sb;
	char		 path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Seconds since t0, for the timing lines. */
double
js_since(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}
