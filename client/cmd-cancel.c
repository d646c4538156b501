/*
 * pipectl cancel: stop an execution, a pipeline result or a task
 * execution - what runs under it is killed, what is pending never starts.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "node.h"
#include "proto.h"
#include "status.h"
#include "pipectl.h"

/* pipectl cancel ADDRESS */
int
cmd_cancel(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("cancel");
	struct address		 a;
	struct node		*req, *reply;
	struct conn		*conn;
	const char		*st;
	enum status		 s;
	int64_t			 n;
	int			 ch, rc;

	if ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return pipectl_bad_option(c, ch, argv);
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return pipectl_usage(c, "expected one address");
	if (address_parse(argv[0], &a) == -1)
		return pipectl_usage(c, "'%s' is not an address (such as 42, "
		    "42/1 or 42/1/build)", argv[0]);
	req = conn_new_op("cancel");
	node_map_set_str(req, "address", node_new_str(argv[0],
	    strlen(argv[0])));
	conn = conn_open(ctl);
	reply = conn_call(conn, req);
	node_free(req);
	conn_free(conn);
	if (reply == NULL)
		return EXIT_FAILED;
	if ((rc = conn_check(reply)) != EXIT_OK) {
		node_free(reply);
		return rc;
	}
	if (proto_get_int(reply, "cancelled", &n) == -1)
		n = 0;
	if ((st = proto_get_str(reply, "status")) == NULL)
		st = "-";
	if (n > 0)
		printf("cancelled %" PRId64 " task result%s under %s\n", n,
		    n == 1 ? "" : "s", argv[0]);
	else if (status_from_name(st, &s) == 0 && status_is_final(s))
		printf("%s is already %s\n", argv[0], st);
	else
		printf("nothing to cancel under %s (%s)\n", argv[0], st);
	node_free(reply);
	return EXIT_OK;
}
