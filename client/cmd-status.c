/*
 * pipectl status: what the daemon is doing, and how it is set up.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "timefmt.h"
#include "pipectl.h"

/* One "name: value" line for a field of the reply, when present. */
static void
status_line(const struct node *r, const char *key, const char *label)
{
	const struct node	*v = proto_get(r, key);
	size_t			 i;

	if (v == NULL)
		return;
	printf("%-12s ", label);
	switch (v->type) {
	case NODE_STR:
		printf("%s\n", v->text);
		break;
	case NODE_INT:
		printf("%lld\n", (long long)v->i);
		break;
	case NODE_SEQ:
		for (i = 0; i < v->nkids; i++)
			printf("%s%s", i ? ", " : "",
			    node_item(v, i)->type == NODE_STR ?
			    node_item(v, i)->text : "?");
		printf("\n");
		break;
	default:
		printf("-\n");
		break;
	}
}

/* Where each plugin runner was loaded from, and where plugins come from. */
static void
status_plugins(const struct node *r)
{
	const struct node	*v = proto_get(r, "plugins");
	const struct node	*one;
	size_t			 i;

	if (v != NULL && v->type == NODE_SEQ)
		for (i = 0; i < v->nkids; i++) {
			one = node_item(v, i);
			printf("%-12s %s: %s\n", "", proto_get_str(one, "name") ?
			    proto_get_str(one, "name") : "?",
			    proto_get_str(one, "path") ? proto_get_str(one,
			    "path") : "?");
		}
	status_line(r, "runner_dir", "runner dir");
}

/* The journal: where, how big, how synced, and damage found at start. */
static void
status_journal(const struct node *j)
{
	const struct node	*dmg, *one;
	int64_t			 bytes = 0, segs = 0, seq = 0, start, end;
	bool			 torn = false;
	size_t			 i;

	if (j == NULL)
		return;
	proto_get_int(j, "bytes", &bytes);
	proto_get_int(j, "segments", &segs);
	proto_get_int(j, "last_seq", &seq);
	printf("%-12s %s, %lld bytes in %lld segment%s, %lld records, "
	    "sync %s\n", "journal", proto_get_str(j, "dir") ?
	    proto_get_str(j, "dir") : "?", (long long)bytes, (long long)segs,
	    segs == 1 ? "" : "s", (long long)seq, proto_get_str(j, "sync") ?
	    proto_get_str(j, "sync") : "?");
	if (proto_get_str(j, "error") != NULL)
		printf("%-12s UNAVAILABLE: %s\n", "", proto_get_str(j,
		    "error"));
	if ((dmg = proto_get(j, "damage_at_start")) == NULL ||
	    dmg->type != NODE_SEQ || dmg->nkids == 0) {
		printf("%-12s no damage found at start\n", "");
		return;
	}
	for (i = 0; i < dmg->nkids; i++) {
		one = node_item(dmg, i);
		start = end = 0;
		proto_get_int(one, "start", &start);
		proto_get_int(one, "end", &end);
		proto_get_bool(one, "torn", &torn);
		printf("%-12s %s at start: %s bytes %lld-%lld: %s\n", "",
		    torn ? "torn tail cut" : "DAMAGE", proto_get_str(one,
		    "file"), (long long)start, (long long)end,
		    proto_get_str(one, "what"));
	}
}

/* pipectl status [--json] */
int
cmd_status(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("status");
	struct node		*req, *reply;
	struct conn		*conn;
	char			 buf[32], *s;
	int64_t			 up;
	int			 rc;
	bool			 json;

	if ((rc = pipectl_json_option(c, argc, argv, &json)) != EXIT_OK)
		return rc;
	if (optind != argc)
		return pipectl_usage(c, "unexpected argument '%s'",
		    argv[optind]);
	conn = conn_open(ctl);
	req = conn_new_op("status");
	reply = conn_call(conn, req);
	node_free(req);
	if ((rc = conn_check(reply)) != EXIT_OK) {
		node_free(reply);
		conn_free(conn);
		return rc;
	}
	if (json) {
		s = nodejson_encode(reply);
		printf("%s\n", s);
		free(s);
	} else {
		printf("pipelined %s, pid %lld\n",
		    proto_get_str(reply, "version") ? proto_get_str(reply,
		    "version") : "?", proto_get_int(reply, "pid", &up) == 0 ?
		    (long long)up : -1LL);
		if (proto_get_int(reply, "uptime_s", &up) == 0)
			printf("%-12s %s\n", "uptime", timefmt_elapsed(up *
			    1000000, buf, sizeof buf));
		status_line(reply, "socket", "socket");
		status_line(reply, "state_dir", "state");
		status_line(reply, "runner", "runner");
		status_line(reply, "runners", "runners");
		status_plugins(reply);
		status_line(reply, "max_parallel", "max parallel");
		status_line(reply, "running", "running");
		status_line(reply, "queued", "queued");
		status_line(reply, "executions", "executions");
		status_line(reply, "unfinished", "unfinished");
		status_line(reply, "connections", "connections");
		status_journal(proto_get(reply, "journal"));
	}
	node_free(reply);
	conn_free(conn);
	return EXIT_OK;
}
