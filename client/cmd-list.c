/*
 * pipectl list: the executions the daemon remembers, newest first,
 * filtered by pipeline, status and age.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "status.h"
#include "timefmt.h"
#include "units.h"
#include "pipectl.h"

#define LIST_DEFAULT_LIMIT	50

/*
 * pipectl list [--pipeline NAME] [--status S] [--since DUR] [--limit N]
 *     [--json]
 */
int
cmd_list(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pipeline", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("list");
	const struct node	*execs;
	struct node		*req, *reply;
	struct conn		*conn;
	const char		*pipeline = NULL, *st;
	enum status		 status;
	bool			 json = false, has_status = false;
	int64_t			 since = -1, limit = LIST_DEFAULT_LIMIT, ms;
	char			*text;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pipeline = optarg;
			break;
		case 's':
			if (status_from_name(optarg, &status) == -1)
				return pipectl_usage(c, "'%s' is not a status "
				    "(PENDING, RUNNING, DONE, CONFIG_ERROR, "
				    "VALIDATION_ERROR, RUNTIME_ERROR, "
				    "CANCELLED)", optarg);
			has_status = true;
			break;
		case 'S':
			if (units_parse_duration(optarg, &ms) == -1)
				return pipectl_usage(c, "'%s' is not a "
				    "duration (such as 30m, 2h, 7d)", optarg);
			since = timefmt_now_us() - ms * 1000;
			break;
		case 'l':
			/* A count is written as an id is: positive. */
			if (conn_parse_id(optarg, &limit) == -1)
				return pipectl_usage(c, "'%s' is not a "
				    "positive count", optarg);
			break;
		case 'j':
			json = true;
			break;
		default:
			return pipectl_bad_option(c, ch, argv);
		}
	}
	if (optind != argc)
		return pipectl_usage(c, "unexpected argument '%s'",
		    argv[optind]);

	req = conn_new_op("list");
	if (pipeline != NULL)
		node_map_set_str(req, "pipeline",
		    node_new_str(pipeline, strlen(pipeline)));
	if (has_status) {
		st = status_name(status);	/* the canonical spelling */
		node_map_set_str(req, "status", node_new_str(st, strlen(st)));
	}
	if (since != -1)
		node_map_set_str(req, "since", node_new_int(since));
	node_map_set_str(req, "limit", node_new_int(limit));
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
	execs = proto_get(reply, "executions");
	if (execs == NULL || execs->type != NODE_SEQ)
		conn_fail("bad reply from pipelined: list without "
		    "executions");
	if (json) {
		text = nodejson_encode(execs);
		printf("%s\n", text);
		free(text);
	} else
		render_list(stdout, execs, ctl->color,
		    isatty(STDOUT_FILENO) ? render_term_width(STDOUT_FILENO) :
		    0);
	node_free(reply);
	return EXIT_OK;
}
