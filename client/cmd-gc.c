/*
 * pipectl gc: apply the retention now (administrators only).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "node.h"
#include "proto.h"
#include "units.h"
#include "pipectl.h"

/* pipectl gc [--older-than DUR] */
int
cmd_gc(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("gc");
	struct node		*req, *reply;
	struct conn		*conn;
	int64_t			 older = 0, n = 0;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'o')
			return pipectl_bad_option(c, ch, argv);
		if (units_parse_duration(optarg, &older) == -1 || older <= 0)
			return pipectl_usage(c, "'%s' is not a duration (250ms, "
			    "30s, 5m, 2h, 7d, 1d12h)", optarg);
	}
	if (optind != argc)
		return pipectl_usage(c, "unexpected argument '%s'",
		    argv[optind]);
	conn = conn_open(ctl);
	req = conn_new_op("gc");
	if (older > 0)
		node_map_set_str(req, "older_than", node_new_int(older * 1000));
	reply = conn_call(conn, req);
	node_free(req);
	if ((rc = conn_check(reply)) == EXIT_OK) {
		proto_get_int(reply, "removed", &n);
		printf("removed %lld execution%s\n", (long long)n,
		    n == 1 ? "" : "s");
	}
	node_free(reply);
	conn_free(conn);
	return rc;
}
