/*
 * pipectl retry: run an execution again, skipping what succeeded.
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "node.h"
#include "proto.h"
#include "pipectl.h"

/* pipectl retry ID [--wait] [--json] */
int
cmd_retry(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("retry");
	struct node		*req, *reply;
	struct conn		*conn;
	bool			 wait = false, json = false;
	int64_t			 id, nid, rid;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'w')
			wait = true;
		else if (ch == 'j')
			json = true;
		else
			return pipectl_bad_option(c, ch, argv);
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return pipectl_usage(c, "expected one execution id");
	if (conn_parse_id(argv[0], &id) == -1)
		return pipectl_usage(c, "'%s' is not an execution id", argv[0]);
	conn = conn_open(ctl);
	req = conn_new_op("retry");
	node_map_set_str(req, "execution", node_new_int(id));
	if (wait)
		node_map_set_str(req, "watch", node_new_bool(true));
	reply = conn_call(conn, req);
	node_free(req);
	if ((rc = conn_check(reply)) == EXIT_OK) {
		if (proto_get_int(reply, "execution", &nid) == -1 ||
		    proto_get_int(reply, "id", &rid) == -1)
			conn_fail("bad reply from pipelined: retry without an "
			    "execution id");
		rc = run_report(ctl, conn, rid, nid, wait, json);
	}
	node_free(reply);
	conn_free(conn);
	return rc;
}
