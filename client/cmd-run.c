/*
 * pipectl run: submit a pipeline file to the daemon, or run one of its
 * registered pipelines by name, and with --wait follow the execution to
 * its end.
 *
 * A file is loaded and checked here first, so that a mistake is reported
 * with FILE:LINE:COL before anything is sent; the daemon checks the
 * parsed document again, as it trusts no client.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "node.h"
#include "nodejson.h"
#include "pipeline.h"
#include "proto.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "pipectl.h"

#define RUN_REFRESH_MS		500	/* progress line redraw period */

/* What the command line asks for. */
struct run_opts {
	const char	*file;		/* or the name of a registered one */
	const char	*runner;
	char		**inputs;	/* KEY=VALUE, in order */
	size_t		 ninputs;
	char		**input_json;	/* JSON objects, in order */
	size_t		 ninput_json;
	bool		 wait;
	bool		 json;
};

/* Set key in the input map, replacing an earlier value: later ones win. */
static void
run_input_set(struct node *input, const char *key, struct node *v)
{
	size_t	i;

	for (i = 0; i < node_count(input); i++) {
		if (node_is_str(node_map_key(input, i), key)) {
			node_free(input->kids[2 * i + 1]);
			input->kids[2 * i + 1] = v;
			return;
		}
	}
	node_map_set_str(input, key, v);
}

/*
 * The input data: the --input-json objects merged in order, then every
 * --input KEY=VALUE (a string) over them.  NULL when none was given; an
 * unusable value is a usage error.
 */
static int
run_input(const struct cmd *c, const struct run_opts *o, struct node **out)
{
	struct node	*input, *obj;
	const char	*eq;
	char		*err, *key;
	size_t		 i, j;

	*out = NULL;
	if (o->ninputs == 0 && o->ninput_json == 0)
		return EXIT_OK;
	input = node_new(NODE_MAP);
	for (i = 0; i < o->ninput_json; i++) {
		obj = nodejson_decode(o->input_json[i],
		    strlen(o->input_json[i]), &err);
		if (obj == NULL || obj->type != NODE_MAP) {
			pipectl_usage(c, "--input-json: %s", obj == NULL ?
			    err : "expected a JSON object");
			free(err);
			node_free(obj);
			node_free(input);
			return EXIT_USAGE;
		}
		for (j = 0; j < node_count(obj); j++) {
			run_input_set(input, node_map_key(obj, j)->text,
			    node_copy(node_map_value(obj, j)));
		}
		node_free(obj);
	}
	for (i = 0; i < o->ninputs; i++) {
		if ((eq = strchr(o->inputs[i], '=')) == NULL ||
		    eq == o->inputs[i]) {
			node_free(input);
			return pipectl_usage(c, "--input wants KEY=VALUE, not "
			    "'%s'", o->inputs[i]);
		}
		key = xstrndup(o->inputs[i], (size_t)(eq - o->inputs[i]));
		run_input_set(input, key, node_new_str(eq + 1, strlen(eq + 1)));
		free(key);
	}
	*out = input;
	return EXIT_OK;
}

/*
 * The submit request for a checked document, or for a registered
 * pipeline's name (doc NULL).
 */
static struct node *
run_request(const struct run_opts *o, struct node *doc, struct node *input,
    const char *cwd)
{
	struct node	*req = conn_new_op("submit");
	const char	*source;

	if (doc != NULL) {
		/* msgpack keeps no source text: "0755" must travel as a string. */
		load_canonical(doc);
		node_map_set_str(req, "pipeline", doc);
		source = strcmp(o->file, "-") == 0 ? "<stdin>" : o->file;
		node_map_set_str(req, "source", node_new_str(source,
		    strlen(source)));
	} else
		node_map_set_str(req, "name", node_new_str(o->file,
		    strlen(o->file)));
	node_map_set_str(req, "cwd", node_new_str(cwd, strlen(cwd)));
	if (input != NULL)
		node_map_set_str(req, "input", input);
	if (o->runner != NULL)
		node_map_set_str(req, "runner", node_new_str(o->runner,
		    strlen(o->runner)));
	return req;
}

/* Fetch a fresh tree and draw the progress line from it. */
static void
run_progress(struct conn *sconn, int64_t id, struct node **snap,
    bool refetch)
{
	const struct node	*exec;
	struct node		*reply;
	char			*line;
	int			 rc;

	if (refetch || *snap == NULL) {
		/* Gone while we watched (collected, say): nothing to show. */
		if ((rc = show_fetch(sconn, id, &reply, &exec)) != EXIT_OK)
			exit(rc);
		node_free(*snap);
		*snap = reply;
	}
	exec = proto_get(*snap, "execution");
	line = progress_line(exec, timefmt_now_us(),
	    render_term_width(STDOUT_FILENO) - 1);
	progress_draw(line);
	free(line);
}

/*
 * Follow the execution until it is final.  On a terminal, one progress
 * line is redrawn at least every RUN_REFRESH_MS, from a tree fetched on a
 * second connection whenever events said something changed; otherwise
 * each event is one plain line (nothing with --json).
 */
static int
run_follow(struct pipectl *ctl, struct conn *conn, int64_t req, int64_t id,
    bool json)
{
	struct conn	*sconn = NULL;
	struct watch	 w;
	struct node	*msg, *snap = NULL;
	bool		 tty = !json && isatty(STDOUT_FILENO), dirty = true;
	int64_t		 next = 0, now;
	int		 rc, timeout = -1;

	conn_catch_interrupt();
	if ((rc = watch_adopt(&w, conn, req, id)) != EXIT_OK)
		return rc;
	if (tty)
		sconn = conn_open(ctl);
	for (;;) {
		if (tty) {
			now = timefmt_mono_us();
			if (now >= next) {
				run_progress(sconn, id, &snap, dirty);
				dirty = false;
				next = now + RUN_REFRESH_MS * 1000;
			}
			timeout = (int)((next - now + 999) / 1000);
		}
		switch (watch_next(&w, timeout, &msg)) {
		case WATCH_EVENT:
			if (!tty && !json) {
				render_event(stdout, proto_get(msg, "event"),
				    ctl->color, false);
				fflush(stdout);
			}
			dirty = true;
			node_free(msg);
			continue;
		case WATCH_TIMEOUT:
			continue;
		case WATCH_INTERRUPTED:
			conn_interrupt_exit(id);
		case WATCH_ERROR:
			rc = w.rc;
			break;
		case WATCH_END:
			rc = EXIT_OK;
			break;
		}
		break;
	}
	progress_clear();
	node_free(snap);
	conn_free(sconn);
	return rc;
}

/* Submit; print the id; with --wait follow and print the final state. */
static int
run_submit(struct pipectl *ctl, const struct run_opts *o, struct node *doc,
    struct node *input)
{
	struct node		*req, *reply;
	struct conn		*conn;
	char			*cwd;
	int64_t			 id, rid = 0;
	int			 rc;

	if ((cwd = getcwd(NULL, 0)) == NULL) {
		fprintf(stderr, "pipectl: cannot tell the working directory: "
		    "%s\n", strerror(errno));
		node_free(doc);
		node_free(input);
		return EXIT_FAILED;
	}
	req = run_request(o, doc, input, cwd);
	free(cwd);
	/* Watch from the start: no event slips past between ack and watch. */
	if (o->wait)
		node_map_set_str(req, "watch", node_new_bool(true));
	conn = conn_open(ctl);
	reply = conn_call(conn, req);
	if (reply != NULL)
		proto_get_int(reply, "id", &rid);
	node_free(req);
	if (reply == NULL)
		rc = EXIT_FAILED;
	if (reply == NULL || (rc = conn_check(reply)) != EXIT_OK)
		goto out;
	if (proto_get_int(reply, "execution", &id) == -1)
		conn_fail("bad reply from pipelined: submit without an "
		    "execution id");
	node_free(reply);
	reply = NULL;
	rc = run_report(ctl, conn, rid, id, o->wait, o->json);
out:
	node_free(reply);
	conn_free(conn);
	return rc;
}

/*
 * A new execution's id is known: print it (or {"id": N}); with wait,
 * follow it to the end and print its final state (exactly show --json's
 * with json): req is the submit or retry that asked to watch it.  Shared
 * by run and retry.
 */
int
run_report(struct pipectl *ctl, struct conn *conn, int64_t req, int64_t id,
    bool wait, bool json)
{
	const struct node	*exec;
	struct node		*reply = NULL;
	int			 rc;

	if (json && !wait)
		printf("{\"id\": %" PRId64 "}\n", id);
	else if (!json)
		printf("%" PRId64 "\n", id);
	fflush(stdout);
	if (!wait)
		return EXIT_OK;
	if ((rc = run_follow(ctl, conn, req, id, json)) != EXIT_OK ||
	    (rc = show_fetch(conn, id, &reply, &exec)) != EXIT_OK)
		return rc;
	if (json)
		show_json(stdout, exec);
	else
		render_show(stdout, exec, ctl->color);
	rc = wait_exit_status(exec);
	node_free(reply);
	return rc;
}

/* Collect one more string into a growing argument list. */
static void
run_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

/*
 * pipectl run FILE|NAME [--input KEY=VALUE]... [--input-json JSON]
 *     [--runner R] [--wait] [--json]
 */
int
cmd_run(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "input-json", required_argument, NULL, 'J' },
		{ "runner", required_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("run");
	struct run_opts		 o;
	struct pipeline		*p;
	struct node		*doc = NULL, *input;
	int			 ch, rc;

	memset(&o, 0, sizeof o);
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			run_push(&o.inputs, &o.ninputs, optarg);
			break;
		case 'J':
			run_push(&o.input_json, &o.ninput_json, optarg);
			break;
		case 'r':
			if (*optarg == '\0') {
				rc = pipectl_usage(c, "--runner wants a name");
				goto out;
			}
			o.runner = optarg;
			break;
		case 'w':
			o.wait = true;
			break;
		case 'j':
			o.json = true;
			break;
		default:
			rc = pipectl_bad_option(c, ch, argv);
			goto out;
		}
	}
	if (argc - optind != 1) {
		rc = pipectl_usage(c, "expected one pipeline file or the name "
		    "of a registered pipeline");
		goto out;
	}
	o.file = argv[optind];
	if ((rc = run_input(c, &o, &input)) != EXIT_OK)
		goto out;
	/* The daemon has the registered one: it checks it, not us. */
	if (!pipectl_is_file_arg(o.file)) {
		rc = run_submit(ctl, &o, NULL, input);
		goto out;
	}
	if ((p = pipectl_load(o.file, 0, &doc)) == NULL) {
		node_free(input);
		rc = EXIT_USAGE;
		goto out;
	}
	pipeline_free(p);
	rc = run_submit(ctl, &o, doc, input);
out:
	free(o.inputs);
	free(o.input_json);
	return rc;
}
