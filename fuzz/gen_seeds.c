/*
 * Write the generated seeds of the fuzz targets ("make fuzz-seeds"):
 *
 *   corpus/frame/    requests of every op as pipectl frames them, bad
 *                    envelopes, and the msgpack bombs and limit cases of
 *                    docs/reliability.md, each as one frame;
 *   corpus/load/     the example pipelines and test pipelines as they
 *                    are, the same as JSON, and one file per feature of
 *                    the pipeline format;
 *   corpus/journal/  journals written by the library as the daemon writes
 *                    them: one segment; a snapshot and two segments laid
 *                    end to end; a torn tail.
 *
 * Usage: gen_seeds CORPUS_DIR (its frame/, load/ and journal/ must exist;
 * files of the same names are replaced, others left alone).
 */
#include "config.h"

#include <event2/event.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "defcache.h"
#include "diag.h"
#include "history.h"
#include "jformat.h"
#include "journal.h"
#include "journal_int.h"
#include "jscan.h"
#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "xmalloc.h"

#define GEN_T0	1795810500000000LL	/* 2026-11-27T20:15:00Z */

static const char	*gen_out;

/* Say what went wrong and stop. */
static void __attribute__((noreturn, format(printf, 1, 2)))
gen_die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "gen_seeds: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Write CORPUS_DIR/sub/name. */
static void
gen_put(const char *sub, const char *name, const void *p, size_t len)
{
	char	*path = xprintf("%s/%s/%s", gen_out, sub, name);
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, p, len) != (ssize_t)len || close(fd) == -1)
		gen_die("%s: cannot write", path);
	free(path);
}

/* A whole file's bytes. */
static char *
gen_slurp(const char *path, size_t *len)
{
	struct buf	b;
	char		chunk[4096];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		gen_die("%s: cannot open", path);
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	*len = b.len;
	return buf_detach(&b);
}

/* ------------------------------------------------------------ frames */

/* A request as pipectl's conn_request() frames it: v, id, then the rest. */
static struct node *
gen_req(const char *op, int64_t id)
{
	struct node	*req = node_new(NODE_MAP);

	node_map_set_str(req, "v", node_new_int(PROTO_VERSION));
	node_map_set_str(req, "id", node_new_int(id));
	node_map_set_str(req, "op", node_new_str(op, strlen(op)));
	return req;
}

/* Set a string field. */
static void
gen_set_str(struct node *m, const char *k, const char *v)
{
	node_map_set_str(m, k, node_new_str(v, strlen(v)));
}

/* Write one or more requests, framed back to back, and free them. */
static void
gen_frames(const char *name, struct node **reqs, size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		proto_encode(&b, reqs[i]);
		node_free(reqs[i]);
	}
	gen_put("frame", name, b.data, b.len);
	buf_release(&b);
}

/* Write one request, framed. */
static void
gen_frame(const char *name, struct node *req)
{
	gen_frames(name, &req, 1);
}

/* A frame of raw body bytes (with a header announcing len). */
static void
gen_raw(const char *name, const void *body, size_t len, uint32_t announce)
{
	struct buf	b;
	uint8_t		h[4];

	h[0] = (uint8_t)(announce >> 24);
	h[1] = (uint8_t)(announce >> 16);
	h[2] = (uint8_t)(announce >> 8);
	h[3] = (uint8_t)announce;
	buf_init(&b);
	buf_add(&b, h, sizeof h);
	buf_add(&b, body, len);
	gen_put("frame", name, b.data, b.len);
	buf_release(&b);
}

/* A frame whose header announces exactly its body. */
static void
gen_body(const char *name, const void *body, size_t len)
{
	gen_raw(name, body, len, (uint32_t)len);
}

/* A pipeline document as pipectl sends it. */
static struct node *
gen_doc(const char *path)
{
	struct diag	*d = diag_new(path);
	struct node	*doc;

	if (load_file(path, 0, d, &doc) == NULL) {
		diag_print(d, stderr);
		gen_die("%s does not load", path);
	}
	diag_free(d);
	load_canonical(doc);
	return doc;
}

/* A submit as "pipectl run FILE --input date=... --runner R" makes it. */
static struct node *
gen_submit(const char *top, const char *file, const char *runner, bool watch,
    struct node *input)
{
	struct node	*req = gen_req("submit", 1);
	char		*path = xprintf("%s/%s", top, file);

	node_map_set_str(req, "pipeline", gen_doc(path));
	gen_set_str(req, "cwd", "/home/alice/report");
	if (input == NULL) {
		input = node_new(NODE_MAP);
		gen_set_str(input, "date", "2026-11-27");
	}
	node_map_set_str(req, "input", input);
	if (runner != NULL)
		gen_set_str(req, "runner", runner);
	gen_set_str(req, "source", file);
	if (watch)
		node_map_set_str(req, "watch", node_new_bool(true));
	free(path);
	return req;
}

/* A request naming an execution. */
static struct node *
gen_exec_req(const char *op, int64_t id, int64_t exec)
{
	struct node	*req = gen_req(op, id);

	node_map_set_str(req, "execution", node_new_int(exec));
	return req;
}

/* A request naming an address. */
static struct node *
gen_addr_req(const char *op, int64_t id, const char *addr)
{
	struct node	*req = gen_req(op, id);

	gen_set_str(req, "address", addr);
	return req;
}

/* {"a": v} with v nested so that the whole is n deep, around a nil. */
static void
gen_deep(const char *name, size_t n, bool maps)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_add(&b, "\x81\xa1" "a", 3);
	for (i = 1; i < n; i++)
		buf_add(&b, maps ? "\x81\xa0" : "\x91", maps ? 2 : 1);
	buf_addc(&b, (char)0xc0);
	gen_body(name, b.data, b.len);
	buf_release(&b);
}

/* A map of n keys, the last repeating the first when dup. */
static void
gen_wide(const char *name, unsigned n, bool dup)
{
	struct buf	b;
	unsigned	i;
	char		key[16];
	uint8_t		h[3] = { 0xde, (uint8_t)(n >> 8), (uint8_t)n };

	buf_init(&b);
	buf_add(&b, h, sizeof h);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%u", dup && i + 1 == n ? 0 : i);
		buf_addc(&b, (char)(0xa0 | strlen(key)));
		buf_adds(&b, key);
		buf_addc(&b, (char)i);
	}
	gen_body(name, b.data, b.len);
	buf_release(&b);
}

/* The frame target's seeds. */
static void
gen_frame_seeds(const char *top)
{
	struct node	*v[8], *req, *m;
	size_t		 n;

	/* Every op as pipectl sends it. */
	gen_frame("op-hello", gen_req("hello", 1));
	gen_frame("op-submit", gen_submit(top, "examples/hello.yaml", NULL,
	    false, NULL));
	gen_frame("op-submit-regional", gen_submit(top,
	    "examples/regional-report.yaml", "local", true, NULL));
	gen_frame("op-submit-license", gen_submit(top,
	    "examples/license-stats.yaml", "eager", false, NULL));
	req = gen_req("list", 2);
	gen_set_str(req, "pipeline", "nightly");
	gen_set_str(req, "status", "RUNNING");
	node_map_set_str(req, "since", node_new_int(GEN_T0));
	node_map_set_str(req, "limit", node_new_int(50));
	gen_frame("op-list", req);
	gen_frame("op-show", gen_exec_req("show", 3, 1));
	gen_frame("op-cancel", gen_addr_req("cancel", 4, "1/0/render"));
	req = gen_addr_req("logs", 5, "1/0/render/1");
	node_map_set_str(req, "follow", node_new_bool(true));
	gen_frame("op-logs", req);
	req = gen_addr_req("logs", 5, "1/fetch");
	node_map_set_str(req, "follow", node_new_bool(false));
	gen_frame("op-logs-short", req);
	gen_frame("op-watch", gen_req("watch", 6));
	gen_frame("op-watch-one", gen_exec_req("watch", 6, 2));
	gen_frame("op-status", gen_req("status", 7));
	gen_frame("op-stats", gen_req("stats", 7));
	req = gen_exec_req("retry", 8, 3);
	node_map_set_str(req, "watch", node_new_bool(true));
	gen_frame("op-retry", req);
	req = gen_req("gc", 9);
	node_map_set_str(req, "older_than", node_new_int(86400000000LL));
	gen_frame("op-gc", req);
	gen_frame("op-reload", gen_req("reload", 10));
	gen_frame("op-unknown", gen_req("pipelines", 11));

	/* A session: several requests on one connection. */
	n = 0;
	v[n++] = gen_req("hello", 1);
	v[n++] = gen_req("list", 2);
	v[n++] = gen_exec_req("show", 3, 1);
	v[n++] = gen_addr_req("cancel", 4, "1/1/fetch/0");
	v[n++] = gen_addr_req("logs", 5, "1/0/fetch/0");
	v[n++] = gen_exec_req("watch", 6, 1);
	gen_frames("session", v, n);

	/* Envelopes a request must not have. */
	req = node_new(NODE_MAP);
	gen_set_str(req, "op", "hello");
	gen_frame("bad-no-id", req);
	req = node_new(NODE_MAP);
	node_map_set_str(req, "v", node_new_int(2));
	node_map_set_str(req, "id", node_new_int(1));
	gen_set_str(req, "op", "hello");
	gen_frame("bad-version", req);
	req = node_new(NODE_MAP);
	node_map_set_str(req, "v", node_new_int(1));
	node_map_set_str(req, "id", node_new_int(1));
	node_map_set_str(req, "op", node_new_int(1));
	gen_frame("bad-op-type", req);
	gen_frame("bad-address", gen_addr_req("cancel", 4, "1/0/x/y/z"));
	gen_frame("bad-execution", gen_exec_req("show", 3, -1));
	req = gen_req("submit", 1);
	m = node_new(NODE_MAP);
	gen_set_str(m, "name", "x");
	node_map_set_str(req, "pipeline", m);
	gen_set_str(req, "cwd", "relative");
	gen_frame("bad-submit", req);
	m = node_new(NODE_MAP);
	gen_set_str(m, "bad key", "v");
	gen_frame("bad-input-key", gen_submit(top, "examples/hello.yaml", NULL,
	    false, m));

	/* Bombs and limits: each must be refused without a big allocation. */
	gen_body("bomb-array32", "\xdd\xff\xff\xff\xff", 5);
	gen_body("bomb-map32", "\xdf\xff\xff\xff\xff", 5);
	gen_body("bomb-str32", "\xdb\xff\xff\xff\xff", 5);
	gen_body("bomb-bin32", "\xc6\xff\xff\xff\xff", 5);
	gen_body("bomb-ext32", "\xc9\xff\xff\xff\xff\x01", 6);
	gen_body("bomb-map-of-array32", "\x81\xa1" "a\xdd\xff\xff\xff\xff", 8);
	gen_deep("deep-1000", 1000, false);
	gen_deep("deep-map-1000", 1000, true);
	gen_deep("deep-32", 32, false);
	gen_deep("deep-33", 33, false);
	gen_raw("len-max", "", 0, 0xffffffffu);
	gen_raw("len-over-max-frame", "\x80", 1, PROTO_MAX_FRAME + 1);
	gen_raw("len-zero", "", 0, 0);
	gen_raw("len-short", "\x81\xa1", 2, 100);
	gen_body("not-a-map", "\x93\x01\x02\x03", 4);
	gen_body("trailing", "\x80\x80", 2);
	gen_body("reserved-c1", "\x81\xa1" "a\xc1", 4);
	gen_body("key-not-string", "\x81\x01\x02", 3);
	gen_body("key-dup", "\x82\xa1" "a\x01\xa1" "a\x02", 7);
	gen_body("str-not-utf8", "\x81\xa1" "a\xa2\xc3\x28", 6);
	gen_body("str-nul", "\x81\xa1" "a\xa2" "a\x00", 6);
	gen_body("str-surrogate", "\x81\xa1" "a\xa3\xed\xa0\x80", 7);
	gen_body("uint64-max", "\x81\xa1" "a\xcf\xff\xff\xff\xff\xff\xff\xff"
	    "\xff", 12);
	gen_body("int64-min", "\x81\xa1" "a\xd3\x80\x00\x00\x00\x00\x00\x00"
	    "\x00", 12);
	gen_body("floats", "\x82\xa1" "a\xca\x7f\xc0\x00\x00\xa1" "b\xcb\x7f"
	    "\xf0\x00\x00\x00\x00\x00\x00", 19);
	gen_body("fixext", "\x81\xa1" "a\xd4\x01\x00", 6);
	gen_body("bin-empty", "\x81\xa1" "a\xc4\x00", 5);
	/* A key too long to quote whole, a character across the cut. */
	gen_body("key-dup-long", "\x82\xd9\x29" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\xc3\xa9\x01\xd9\x29" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\xc3\xa9\x02", 89);
	gen_wide("wide-30", 30, false);
	gen_wide("wide-30-dup", 30, true);
}

/* -------------------------------------------------------- pipelines */

/* One file per feature of the pipeline format (docs/pipeline-format.md). */
static const struct {
	const char	*name;
	const char	*text;
} gen_pipelines[] = {
	{ "spec-example.yaml",
	  "name: nightly-report\n"
	  "description: Build the nightly report\n"
	  "iterate: [eu, us, apac]\n"
	  "env: {TZ: UTC}\n"
	  "cwd: /srv/report\n"
	  "keep_going: false\n"
	  "max_parallel: 4\n"
	  "runner: local\n"
	  "tasks:\n"
	  "  fetch:\n"
	  "    run: ./fetch.sh \"$PIPELINE_OBJECT\"\n"
	  "  split:\n"
	  "    argv: [./split, --region, \"{{pipeline.object}}\"]\n"
	  "    parents: [fetch]\n"
	  "  render:\n"
	  "    run: ./render.sh \"$TASK_OBJECT\"\n"
	  "    parents: [split]\n"
	  "    iterate_command: cat parts.txt\n"
	  "    timeout: 5m\n"
	  "    retries: 2\n"
	  "    retry_delay: 10s\n"
	  "    inputs: [date]\n"
	  "    queue: render\n"
	  "    limits: {memory: 512M, cpu_time: 10m, open_files: 1024, "
	  "processes: 256, output: 16M}\n"
	  "    env: {MODE: full}\n"
	  "ordering:\n"
	  "  render: [split]\n" },
	{ "chain.yaml",
	  "name: chain\ntasks:\n  first: {run: 'true'}\n  second: {run: 'true'}\n"
	  "  third: {run: 'true'}\n" },
	{ "flat-order.yaml",
	  "name: flat\ntasks:\n  first: {run: a}\n  second: {run: b, parents: "
	  "[first]}\n  third: {run: c, parents: [second]}\n  fourth: {run: d}\n" },
	{ "ordering-empty.yaml",
	  "name: parallel\nordering: {}\ntasks:\n  a: {run: a}\n  b: {run: b}\n" },
	{ "argv-placeholders.yaml",
	  "name: argv\niterate: [{region: eu, n: 1}, us]\ntasks:\n  t:\n"
	  "    argv: [prog, \"{{pipeline.object}}\", \"{{task.object}}\", "
	  "\"{{input.date}}\", \"{{execution.id}}\", \"{{task.index}}\"]\n"
	  "    iterate: [1, 2.5, true, null, 'x']\n" },
	{ "registered-user.yaml",
	  "name: backup\nuser: backup\ntasks:\n  dump:\n    run: pg_dump\n"
	  "    kill_grace: 250ms\n    timeout: 1d\n    options: {celery: "
	  "{queue: slow}, priority: 3}\n" },
	{ "iterate-command.yaml",
	  "name: regions\niterate_command: ls /srv/regions\ntasks:\n  go:\n"
	  "    run: echo \"$PIPELINE_OBJECT\"\n    cwd: sub\n    env: {MODE: "
	  "0755, N: 1e3, E: ~}\n" },
	{ "errors-many.yaml",
	  "name: -bad\nfoo: 1\nmax_parallel: 0\ntasks:\n  a:\n    run: x\n"
	  "    argv: [x]\n  b:\n    parents: [a, b, zz]\n    timeout: 5 weeks\n"
	  "    retries: -1\n    limits: {memory: lots}\n    argv: "
	  "[\"{{nope}}\"]\n" },
	{ "cycle.yaml",
	  "name: loop\ntasks:\n  a: {run: a, parents: [c]}\n  b: {run: b, "
	  "parents: [a]}\n  c: {run: c, parents: [b]}\n" },
	{ "anchors.yaml",
	  "name: &n x\ntasks:\n  a: &t {run: a}\n  b: *t\n" },
	{ "tags.yaml",
	  "name: !!str 12\ntasks: !!map\n  a: {run: !custom a}\n" },
	{ "duplicate-keys.yaml",
	  "name: a\nname: b\ntasks:\n  a: {run: a}\n  a: {run: b}\n" },
	{ "two-documents.yaml", "name: a\ntasks: {a: {run: a}}\n---\nname: b\n" },
	{ "syntax-error.yaml", "name: [unclosed\ntasks:\n  a: {run: a\n" },
	{ "flow.json",
	  "{\"name\": \"json\", \"tasks\": {\"a\": {\"argv\": [\"echo\", "
	  "\"\\u00e9\"]}, \"b\": {\"run\": \"b\", \"parents\": [\"a\"]}}}\n" },
	{ "empty.yaml", "" },
};

/* The example and test pipelines, as they are and as JSON. */
static void
gen_load_seeds(const char *top)
{
	const char	*pats[] = { "examples/*.yaml", "tests/data/*.yaml" };
	struct diag	*d;
	struct node	*doc;
	glob_t		 g;
	const char	*base;
	char		*pat, *text, *json, *name;
	size_t		 i, k, len;

	for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		pat = xprintf("%s/%s", top, pats[i]);
		if (glob(pat, 0, NULL, &g) != 0)
			gen_die("%s: no files", pat);
		for (k = 0; k < g.gl_pathc; k++) {
			base = strrchr(g.gl_pathv[k], '/') + 1;
			text = gen_slurp(g.gl_pathv[k], &len);
			gen_put("load", base, text, len);
			free(text);
			d = diag_new(base);
			if (load_file(g.gl_pathv[k], 0, d, &doc) != NULL) {
				json = nodejson_encode(doc);
				name = xprintf("%.*s.json",
				    (int)(strlen(base) - 5), base);
				gen_put("load", name, json, strlen(json));
				free(name);
				free(json);
				node_free(doc);
			}
			diag_free(d);
		}
		globfree(&g);
		free(pat);
	}
	for (i = 0; i < sizeof gen_pipelines / sizeof gen_pipelines[0]; i++)
		gen_put("load", gen_pipelines[i].name, gen_pipelines[i].text,
		    strlen(gen_pipelines[i].text));
}

/* ---------------------------------------------------------- journals */

static const char	*gen_yaml =
    "name: nightly\n"
    "iterate: [eu, us]\n"
    "tasks:\n"
    "  fetch:\n"
    "    run: ./fetch.sh \"$PIPELINE_OBJECT\"\n"
    "  render:\n"
    "    run: ./render.sh \"$TASK_OBJECT\"\n"
    "    parents: [fetch]\n"
    "    iterate_command: cat parts.txt\n"
    "    retries: 1\n";

/* Submit an execution into h, as submit_op() does. */
static struct execution *
gen_submit_exec(struct history *h, int64_t t)
{
	struct execution	*e;
	struct defref		*dref;
	struct diag		*d = diag_new("gen.yaml");
	struct node		*doc = NULL;
	struct pipeline		*p;

	if ((p = load_buffer(gen_yaml, strlen(gen_yaml), 0, d, &doc)) == NULL)
		gen_die("the journal's pipeline does not load");
	pipeline_free(p);
	load_canonical(doc);
	dref = defcache_get(history_defs(h), doc, 0, d);
	node_free(doc);
	diag_free(d);
	e = execution_new_shared(history_next_id(h), dref);
	e->change_cb = history_record_cb;
	e->items_cb = history_items_cb;
	e->change_arg = h;
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

/* Run an execution: items for render, every task result to an end. */
static void
gen_run(struct execution *e, int64_t t, bool fail, bool finish)
{
	struct task_execution	*te;
	struct task_result	*tr;
	struct node		*items;
	uint32_t		 i, n, k;

	for (i = 0; i < e->nresults; i++) {
		for (n = 0; n < e->def->ntasks; n++) {
			te = &e->results[i]->tasks[n];
			if (e->def->tasks[n].iterate_command != NULL &&
			    !te->r.sealed) {
				items = node_new(NODE_SEQ);
				node_append(items, node_new_str("part-1", 6));
				node_append(items, node_new_int(2));
				execution_add_items(&te->r, items, ++t);
				node_free(items);
			}
			for (k = 0; k < te->ninst; k++) {
				tr = te->inst[k];
				tr->pid = 4000 + (pid_t)k;
				tr->attempts = 1;
				tr->isolation = "process_group";
				result_set(&tr->r, STATUS_RUNNING, "running",
				    ++t);
				if (!finish && i + 1 == e->nresults)
					continue;
				tr->exit_code = fail ? 3 : 0;
				tr->cpu_user_us = 1234;
				tr->cpu_system_us = 321;
				tr->max_rss_kib = 2048;
				result_set(&tr->r, fail ? STATUS_RUNTIME_ERROR :
				    STATUS_DONE, fail ? "exited with status 3" :
				    "exited with status 0", ++t);
			}
		}
	}
}

/* The journal's replay at open: there is nothing to replay. */
static int
gen_accept(const struct jrec *r, void *arg)
{
	return 0;
}

/* Compaction keeps every execution. */
static bool
gen_keep_all(const struct execution *e, void *arg)
{
	return true;
}

/*
 * The same journal every time: the random journal id, the creation times
 * and the records' "time" (the clock when written) made fixed, CRCs
 * computed again.
 */
static void
gen_journal_fix(struct buf *out, const uint8_t *p, size_t len)
{
	static const uint8_t	 id[16] = "pipelined-seeds!";
	struct jseg_header	 h;
	struct jrec		 r;
	struct node		*n, *t;
	struct buf		 pl;
	uint8_t			 hdr[JSEG_HEADER];
	size_t			 off;
	char			*err;

	if (len < JSEG_HEADER || jseg_header_parse(p, &h) == -1)
		gen_die("a journal file without its header");
	memcpy(h.journal_id, id, sizeof id);
	h.created_us = GEN_T0;
	jseg_header_encode(hdr, &h);
	buf_add(out, hdr, sizeof hdr);
	for (off = JSEG_HEADER; off < len; off += r.size) {
		if (jrec_parse(p + off, len - off, &r) != JREC_OK)
			gen_die("a damaged record in a fresh journal");
		if ((n = proto_decode(r.payload, r.len, NULL, &err)) == NULL)
			gen_die("a record that does not decode: %s", err);
		if ((t = node_map_get(n, "time")) != NULL && t->type == NODE_INT)
			t->i = GEN_T0 + (int64_t)r.seq;
		buf_init(&pl);
		proto_pack(&pl, n);
		jrec_encode(out, r.seq, r.type, pl.data, (uint32_t)pl.len);
		buf_release(&pl);
		node_free(n);
	}
}

/* Concatenate the journal's files, snapshot first, into one seed. */
static void
gen_journal_put(const char *jdir, const char *name, size_t cut)
{
	char		**segs, **snaps, *err = NULL, *path, *data;
	size_t		  nseg, nsnap, i, len;
	struct buf	  b;

	if (jscan_list(jdir, &segs, &nseg, &snaps, &nsnap, &err) == -1)
		gen_die("%s", err);
	buf_init(&b);
	for (i = 0; i < nsnap + nseg; i++) {
		path = xprintf("%s/%s", jdir, i < nsnap ? snaps[i] :
		    segs[i - nsnap]);
		data = gen_slurp(path, &len);
		gen_journal_fix(&b, (const uint8_t *)data, len);
		free(data);
		free(path);
	}
	if (cut > 0 && cut < b.len)
		b.len -= cut;
	gen_put("journal", name, b.data, b.len);
	buf_release(&b);
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
}

/*
 * A journal written through the history, as the daemon writes it: one
 * execution run to its end, then (unless small) a compaction when asked,
 * a failed one, a rotation when asked, and one left running.
 */
static void
gen_journal(const char *name, bool small, bool compact, bool rotate,
    size_t cut)
{
	struct event_base	*base = event_base_new();
	struct history		*h = history_new();
	struct execution	*e;
	struct journal		*j;
	struct jscan		 scan;
	char			 dir[] = "/tmp/pl-gen-seeds-XXXXXX";
	char			*err = NULL, *jdir, *cmd;

	if (base == NULL || event_base_priority_init(base, 3) != 0 ||
	    mkdtemp(dir) == NULL)
		gen_die("cannot set up");
	if ((j = journal_open(dir, JOURNAL_SYNC_OFF, base, gen_accept, NULL,
	    &scan, &err)) == NULL)
		gen_die("journal_open: %s", err);
	jscan_clear(&scan);
	history_set_journal(h, j);
	e = gen_submit_exec(h, GEN_T0);
	journal_flush(j);
	gen_run(e, GEN_T0, false, true);
	journal_flush(j);
	if (small)
		goto close;
	if (compact && journal_compact(j, h, gen_keep_all, NULL, &err) == -1)
		gen_die("journal_compact: %s", err);
	e = gen_submit_exec(h, GEN_T0 + 1000000);
	journal_flush(j);
	gen_run(e, GEN_T0 + 1000000, true, true);
	journal_flush(j);
	if (rotate)
		journal_rotate(j);
	e = gen_submit_exec(h, GEN_T0 + 2000000);
	journal_flush(j);
	gen_run(e, GEN_T0 + 2000000, false, false);
	journal_flush(j);
close:
	history_set_journal(h, NULL);
	journal_close(j, cut == 0);
	event_base_free(base);
	history_free(h);
	jdir = xprintf("%s/journal", dir);
	gen_journal_put(jdir, name, cut);
	free(jdir);
	cmd = xprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		gen_die("%s failed", cmd);
	free(cmd);
}

/* Write every generated seed. */
int
main(int argc, char **argv)
{
	char	*top;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	gen_out = argv[1];
	/* CORPUS_DIR is fuzz/corpus of the source tree. */
	top = xprintf("%s/../..", gen_out);
	gen_frame_seeds(top);
	gen_load_seeds(top);
	gen_journal("small.pjl", true, false, false, 0);
	gen_journal("segment.pjl", false, false, false, 0);
	gen_journal("snapshot-segments.pjl", false, true, true, 0);
	gen_journal("torn-tail.pjl", false, false, true, 50);
	free(top);
	return 0;
}
