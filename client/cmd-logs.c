/*
 * pipectl logs: a task result's captured output (stdout and stderr
 * together), written out as the bytes the task wrote.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "node.h"
#include "proto.h"
#include "pipectl.h"

/*
 * Write the data chunks of the logs stream until its eof.  Chunks go out
 * as they come when following, so that a pipe reader sees lines live.
 */
static int
logs_copy(struct conn *conn, int64_t id, bool follow)
{
	const struct node	*data;
	struct node		*msg;
	int64_t			 rid;
	bool			 eof;
	int			 rc;

	while ((msg = conn_read(conn)) != NULL) {
		if (proto_get_int(msg, "id", &rid) == -1 || rid != id) {
			node_free(msg);
			continue;
		}
		if ((rc = conn_check(msg)) != EXIT_OK) {
			node_free(msg);
			return rc;
		}
		if ((data = proto_get(msg, "data")) != NULL &&
		    (data->type == NODE_BIN || data->type == NODE_STR)) {
			if (fwrite(data->text, 1, data->len, stdout) !=
			    data->len)
				break;
			if (follow)
				fflush(stdout);
		}
		eof = false;
		proto_get_bool(msg, "eof", &eof);
		node_free(msg);
		if (eof)
			break;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "pipectl: writing the output: %s\n",
		    strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* pipectl logs ADDRESS [--follow] */
int
cmd_logs(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("logs");
	struct address		 a;
	struct node		*req;
	struct conn		*conn;
	bool			 follow = false;
	int64_t			 id;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = true;
			break;
		default:
			return pipectl_bad_option(c, ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return pipectl_usage(c, "expected one address");
	if (address_parse(argv[0], &a) == -1)
		return pipectl_usage(c, "'%s' is not an address (such as "
		    "42/0/build/0, or 42/build without a pipeline iterator)",
		    argv[0]);
	req = conn_new_op("logs");
	node_map_set_str(req, "address", node_new_str(argv[0],
	    strlen(argv[0])));
	node_map_set_str(req, "follow", node_new_bool(follow));
	conn = conn_open(ctl);
	id = conn_request(conn, req);
	node_free(req);
	rc = logs_copy(conn, id, follow);
	conn_free(conn);
	return rc;
}
