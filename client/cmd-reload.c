/*
 * pipectl reload: have the daemon read its configuration and registered
 * pipelines again (administrators only), as SIGHUP does.
 */
#include "config.h"

#include <stdio.h>

#include "node.h"
#include "proto.h"
#include "pipectl.h"

/* pipectl reload */
int
cmd_reload(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("reload");
	struct node		*req, *reply;
	struct conn		*conn;
	const char		*msg;
	int			 rc;

	if (argc > 1)
		return pipectl_usage(c, "unexpected argument '%s'", argv[1]);
	conn = conn_open(ctl);
	req = conn_new_op("reload");
	reply = conn_call(conn, req);
	node_free(req);
	if ((rc = conn_check(reply)) == EXIT_OK &&
	    (msg = proto_get_str(reply, "message")) != NULL)
		printf("%s\n", msg);
	node_free(reply);
	conn_free(conn);
	return rc;
}
