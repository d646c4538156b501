/*
 * Fuzz target: the pipeline loader on the bytes of a pipeline file, YAML
 * or JSON, as "pipectl validate" and "pipectl run" read one (load_buffer:
 * the YAML reader, then every check), and the daemon's second look at
 * what pipectl sends it (load_document on the decoded message); plus the
 * JSON reader behind "pipectl run --input-json" (nodejson).
 *
 * Checked beyond "no crash, leak, hang or huge allocation":
 * - a refused file has at least one error, and every error prints as
 *   FILE:LINE:COL: message that is valid UTF-8 without NUL (the daemon
 *   sends them in its replies, which must stay decodable);
 * - an accepted file has no error, stays within the limits of bounds.h,
 *   and its flat order lists every task exactly once;
 * - what pipectl accepts, the daemon accepts too: the document, in the
 *   form pipectl sends it (canonical, inside a submit request, packed and
 *   framed), decodes under the protocol's limits and loads again into a
 *   pipeline with the same name and tasks;
 * - JSON that reads also writes, and reads back to the same value.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fuzz.h"
#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "proto.h"

/* Nothing to set up but quiet. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* Every error of a refused file is there and is text. */
static void
fz_check_errors(struct diag *d)
{
	size_t	i;
	char	*s;

	FUZZ_CHECK(diag_count(d) > 0, "refused without an error");
	diag_sort(d);
	for (i = 0; i < d->n; i++) {
		s = diag_format(d, i);
		FUZZ_CHECK(s != NULL && strncmp(s, "fuzz.yaml:", 10) == 0,
		    "an error without its file: %s", s);
		FUZZ_CHECK(proto_str_ok(s, strlen(s)), "an error that is not "
		    "UTF-8 text: %s", s);
		free(s);
	}
}

/* An accepted pipeline is within the limits; its flat order is whole. */
static void
fz_check_pipeline(const struct pipeline *p, const struct node *doc)
{
	uint8_t		*seen;
	uint32_t	 i;

	FUZZ_CHECK(p->name != NULL && strlen(p->name) <= PL_MAX_NAME,
	    "a bad name was accepted");
	FUZZ_CHECK(p->ntasks >= 1 && p->ntasks <= PL_MAX_TASKS,
	    "%u tasks accepted", p->ntasks);
	FUZZ_CHECK(node_depth(doc) <= PL_MAX_DEPTH, "nesting of %zu accepted",
	    node_depth(doc));
	FUZZ_CHECK(p->flat != NULL, "no flat order");
	seen = calloc(p->ntasks, 1);
	FUZZ_CHECK(seen != NULL, "out of memory");
	for (i = 0; i < p->ntasks; i++) {
		FUZZ_CHECK(p->flat[i] < p->ntasks && !seen[p->flat[i]],
		    "the flat order repeats or invents a task");
		seen[p->flat[i]] = 1;
	}
	free(seen);
	for (i = 0; i < p->ntasks; i++) {
		FUZZ_CHECK(p->tasks[i].name != NULL &&
		    strlen(p->tasks[i].name) <= PL_MAX_NAME, "a bad task name "
		    "was accepted");
		FUZZ_CHECK((p->tasks[i].run != NULL) !=
		    (p->tasks[i].argv != NULL), "a task without exactly one of "
		    "run and argv");
		FUZZ_CHECK(p->tasks[i].argc <= PL_MAX_ARGV, "%zu argv elements "
		    "accepted", p->tasks[i].argc);
		FUZZ_CHECK(p->tasks[i].nenv <= PL_MAX_ENV, "%zu env entries "
		    "accepted", p->tasks[i].nenv);
		FUZZ_CHECK(p->tasks[i].retries <= PL_MAX_RETRIES, "%u retries "
		    "accepted", p->tasks[i].retries);
	}
}

/*
 * The trip from pipectl to the daemon: canonical form, a submit request
 * as one frame, the daemon's decoder, the daemon's loader.
 */
static void
fz_check_submit(const struct pipeline *p, struct node *doc, unsigned flags)
{
	struct node	*req, *got;
	struct pipeline	*again;
	struct diag	*d;
	struct buf	 b;
	size_t		 body, need;
	char		*err;
	uint32_t	 i;

	load_canonical(doc);
	req = node_new(NODE_MAP);
	node_map_set_str(req, "v", node_new_int(PROTO_VERSION));
	node_map_set_str(req, "id", node_new_int(1));
	node_map_set_str(req, "op", node_new_str("submit", 6));
	node_map_set_str(req, "pipeline", doc);
	node_map_set_str(req, "cwd", node_new_str("/", 1));
	node_map_set_str(req, "source", node_new_str("fuzz.yaml", 9));
	buf_init(&b);
	proto_encode(&b, req);
	node_free(req);
	FUZZ_CHECK(proto_frame((const uint8_t *)b.data, b.len, PROTO_MAX_FRAME,
	    &body, &need) == 1, "the request is not one frame");
	got = proto_decode((const uint8_t *)b.data + PROTO_HEADER, body, NULL,
	    &err);
	FUZZ_CHECK(got != NULL, "the daemon cannot decode a valid "
	    "pipeline: %s", err);
	buf_release(&b);
	d = diag_new("fuzz.yaml");
	again = load_document(proto_get(got, "pipeline"), flags, d);
	if (again == NULL) {
		diag_sort(d);
		err = d->n > 0 ? diag_format(d, 0) : NULL;
		FUZZ_CHECK(again != NULL, "the daemon refuses a valid "
		    "pipeline: %s", err != NULL ? err : "?");
	}
	FUZZ_CHECK(strcmp(again->name, p->name) == 0 &&
	    again->ntasks == p->ntasks, "the daemon reads another pipeline");
	for (i = 0; i < p->ntasks; i++)
		FUZZ_CHECK(strcmp(again->tasks[i].name, p->tasks[i].name) == 0 &&
		    again->flat[i] == p->flat[i], "the daemon reads other "
		    "tasks");
	pipeline_free(again);
	diag_free(d);
	node_free(got);
}

/* Load the bytes as a pipeline file with the given loader flags. */
static void
fz_load(const uint8_t *data, size_t size, unsigned flags)
{
	struct pipeline	*p;
	struct diag	*d = diag_new("fuzz.yaml");
	struct node	*doc = NULL;

	p = load_buffer((const char *)data, size, flags, d, &doc);
	if (p == NULL) {
		FUZZ_CHECK(doc == NULL, "a document for a refused file");
		fz_check_errors(d);
	} else {
		FUZZ_CHECK(diag_count(d) == 0, "accepted with %zu errors",
		    diag_count(d));
		FUZZ_CHECK(doc != NULL, "no document for an accepted file");
		fz_check_pipeline(p, doc);
		fz_check_submit(p, doc, flags);	/* frees doc */
		pipeline_free(p);
	}
	diag_free(d);
}

/* The same bytes as --input-json: decode, encode, decode again. */
static void
fz_json(const uint8_t *data, size_t size)
{
	struct node	*n, *again;
	char		*err, *text;

	if ((n = nodejson_decode((const char *)data, size, &err)) == NULL) {
		FUZZ_CHECK(err != NULL, "refused without a reason");
		free(err);
		return;
	}
	text = nodejson_encode(n);
	again = nodejson_decode(text, strlen(text), &err);
	FUZZ_CHECK(again != NULL, "JSON written from a value does not read "
	    "back: %s", err);
	FUZZ_CHECK(node_equal(n, again), "JSON changes on a round trip: %s",
	    text);
	node_free(again);
	node_free(n);
	free(text);
}

/* One file's bytes, as a pipeline and as --input-json. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_load(data, size, 0);
	/* "user:" only counts in registered pipelines: try that too. */
	if (size >= 4 && memmem(data, size, "user", 4) != NULL)
		fz_load(data, size, LOAD_REGISTERED);
	fz_json(data, size);
	return 0;
}
