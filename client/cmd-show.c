/*
 * pipectl show: one execution, as a tree for people or as the daemon's
 * JSON object for programs.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "pipectl.h"

/*
 * Fetch an execution's whole tree: EXIT_OK with the reply in *replyp (the
 * execution object inside it in *execp), or the exit status of the error,
 * already reported.  run --wait and wait use it for the final state.
 */
int
show_fetch(struct conn *conn, int64_t id, struct node **replyp,
    const struct node **execp)
{
	struct node		*req, *reply;
	const struct node	*exec;
	int			 rc;

	req = conn_new_op("show");
	node_map_set_str(req, "execution", node_new_int(id));
	reply = conn_call(conn, req);
	node_free(req);
	if (reply == NULL)
		return EXIT_FAILED;	/* interrupted */
	if ((rc = conn_check(reply)) != EXIT_OK) {
		node_free(reply);
		return rc;
	}
	exec = proto_get(reply, "execution");
	if (exec == NULL || exec->type != NODE_MAP)
		conn_fail("bad reply from pipelined: show without an "
		    "execution");
	*replyp = reply;
	*execp = exec;
	return EXIT_OK;
}

/* Print an execution as show --json does: compact JSON and a newline. */
void
show_json(FILE *f, const struct node *exec)
{
	char	*s = nodejson_encode(exec);

	fprintf(f, "%s\n", s);
	free(s);
}

/* pipectl show ID [--json] */
int
cmd_show(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("show");
	const struct node	*exec;
	struct node		*reply;
	struct conn		*conn;
	int64_t			 id;
	bool			 json;
	int			 rc;

	if ((rc = pipectl_json_option(c, argc, argv, &json)) != EXIT_OK)
		return rc;
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return pipectl_usage(c, "expected one execution id");
	if (conn_parse_id(argv[0], &id) == -1)
		return pipectl_usage(c, "'%s' is not an execution id", argv[0]);
	conn = conn_open(ctl);
	rc = show_fetch(conn, id, &reply, &exec);
	conn_free(conn);
	if (rc != EXIT_OK)
		return rc;
	if (json)
		show_json(stdout, exec);
	else
		render_show(stdout, exec, ctl->color);
	node_free(reply);
	return EXIT_OK;
}
