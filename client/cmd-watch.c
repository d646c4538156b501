/*
 * pipectl watch: status changes as they happen, of one execution or of
 * every execution the user may see; and the watch stream reader that run
 * --wait and wait follow an execution with.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "status.h"
#include "pipectl.h"

/* Whether a status name is final (an unknown one is not). */
static bool
watch_is_final(const char *name)
{
	enum status	s;

	return name != NULL && status_from_name(name, &s) == 0 &&
	    status_is_final(s);
}

/*
 * Ask for the stream of an execution's changes (execution 0: of all) and
 * read the first reply: EXIT_OK, or the error's exit status (reported).
 * An execution already final when the stream starts ends it at once.
 */
int
watch_begin(struct watch *w, struct conn *conn, int64_t execution)
{
	struct node	*req, *msg;
	int64_t		 rid;
	int		 rc;

	memset(w, 0, sizeof *w);
	w->conn = conn;
	w->execution = execution;
	req = conn_new_op("watch");
	if (execution > 0)
		node_map_set_str(req, "execution", node_new_int(execution));
	w->req = conn_request(conn, req);
	node_free(req);
	for (;;) {
		if ((msg = conn_read(conn)) == NULL)
			conn_interrupt_exit(execution);
		if (proto_get_int(msg, "id", &rid) == 0 && rid == w->req)
			break;
		node_free(msg);
	}
	if ((rc = conn_check(msg)) == EXIT_OK && execution > 0)
		w->final = watch_is_final(proto_get_str(msg, "status"));
	node_free(msg);
	return rc;
}

/*
 * Take over the watch a submit or retry asked for (watch: true): its
 * stream carries the request's id, starting with the "watching" reply.
 * Nothing is missed between the acknowledgement and the first event.
 */
int
watch_adopt(struct watch *w, struct conn *conn, int64_t req,
    int64_t execution)
{
	struct node	*msg;
	int64_t		 rid;
	int		 rc;

	memset(w, 0, sizeof *w);
	w->conn = conn;
	w->req = req;
	w->execution = execution;
	for (;;) {
		if ((msg = conn_read(conn)) == NULL)
			conn_interrupt_exit(execution);
		if (proto_get_int(msg, "id", &rid) == 0 && rid == w->req &&
		    proto_get(msg, "watching") != NULL)
			break;
		node_free(msg);
	}
	if ((rc = conn_check(msg)) == EXIT_OK)
		w->final = watch_is_final(proto_get_str(msg, "status"));
	node_free(msg);
	return rc;
}

/*
 * The next thing on the stream, waiting up to timeout_ms (-1: for ever).
 * The execution's own final event ends the stream as the end reply does,
 * so that nothing hangs on a daemon that does not send one.
 */
enum watch_next
watch_next(struct watch *w, int timeout_ms, struct node **msgp)
{
	const struct node	*ev;
	struct node		*msg;
	int64_t			 rid, eid;
	bool			 end;

	for (;;) {
		if (w->final)
			return WATCH_END;
		switch (conn_poll(w->conn, timeout_ms, &msg)) {
		case 0:
			return WATCH_TIMEOUT;
		case -1:
			return WATCH_INTERRUPTED;
		}
		if (proto_get_int(msg, "id", &rid) == -1 || rid != w->req) {
			node_free(msg);
			continue;
		}
		if ((w->rc = conn_check(msg)) != EXIT_OK) {
			node_free(msg);
			return WATCH_ERROR;
		}
		if (proto_get_bool(msg, "end", &end) == 0 && end) {
			node_free(msg);
			w->final = true;
			return WATCH_END;
		}
		if ((ev = proto_get(msg, "event")) == NULL ||
		    ev->type != NODE_MAP) {
			node_free(msg);	/* a field of a later protocol */
			continue;
		}
		if (w->execution > 0 &&
		    node_is_str(proto_get(ev, "level"), "execution") &&
		    proto_get_int(ev, "execution", &eid) == 0 &&
		    eid == w->execution &&
		    watch_is_final(proto_get_str(ev, "status")))
			w->final = true;
		*msgp = msg;
		return WATCH_EVENT;
	}
}

/* pipectl watch [ID] [--json] */
int
cmd_watch(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("watch");
	const struct node	*ev;
	struct node		*msg;
	struct conn		*conn;
	struct watch		 w;
	int64_t			 id = 0;
	bool			 json;
	char			*text;
	int			 rc;

	if ((rc = pipectl_json_option(c, argc, argv, &json)) != EXIT_OK)
		return rc;
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return pipectl_usage(c, "expected at most one execution id");
	if (argc == 1 && conn_parse_id(argv[0], &id) == -1)
		return pipectl_usage(c, "'%s' is not an execution id", argv[0]);
	conn = conn_open(ctl);
	/* SIGINT is the ordinary way to stop watching: end cleanly. */
	conn_catch_interrupt();
	if ((rc = watch_begin(&w, conn, id)) != EXIT_OK) {
		conn_free(conn);
		return rc;
	}
	for (;;) {
		switch (watch_next(&w, -1, &msg)) {
		case WATCH_EVENT:
			ev = proto_get(msg, "event");
			if (json) {
				text = nodejson_encode(ev);
				printf("%s\n", text);
				free(text);
			} else
				render_event(stdout, ev, ctl->color, true);
			fflush(stdout);
			node_free(msg);
			continue;
		case WATCH_ERROR:
			rc = w.rc;
			break;
		case WATCH_END:
		case WATCH_INTERRUPTED:
		case WATCH_TIMEOUT:
			rc = EXIT_OK;
			break;
		}
		break;
	}
	conn_free(conn);
	return rc;
}
