/*
 * pipectl pipelines: the daemon's registered pipelines, with what became
 * of their runs; and what run and graph share to tell a registered
 * pipeline's name from a file and to fetch its definition.
 */
#include "config.h"

#include <sys/stat.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "nodejson.h"
#include "proto.h"
#include "xmalloc.h"
#include "pipectl.h"

/* The columns of the table. */
enum {
	PL_NAME,
	PL_STATUS,
	PL_RUNS,
	PL_LAST,
	PL_SUCCESS,
	PL_FILE,
	PL_NCOL
};

/*
 * Whether a command-line argument is a pipeline file rather than the name
 * of a registered pipeline: "-" (standard input), an existing file, or
 * anything with a '/' or ending in .yaml, .yml or .json.
 */
bool
pipectl_is_file_arg(const char *s)
{
	static const char *const ext[] = { ".yaml", ".yml", ".json" };
	struct stat	 sb;
	size_t		 i, len = strlen(s), el;

	if (strcmp(s, "-") == 0 || strchr(s, '/') != NULL ||
	    stat(s, &sb) == 0)
		return true;
	for (i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		el = strlen(ext[i]);
		if (len >= el && strcmp(s + len - el, ext[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Ask the daemon for the registered pipelines (those of name only, when
 * not NULL; with their documents when definition).  EXIT_OK with the reply
 * in *replyp (to free) and its list in *listp; otherwise the daemon's
 * error was printed and its exit status is returned.
 */
int
pipelines_fetch(struct conn *conn, const char *name, bool definition,
    struct node **replyp, const struct node **listp)
{
	struct node	*req, *reply;
	int		 rc;

	*replyp = NULL;
	req = conn_new_op("pipelines");
	if (name != NULL)
		node_map_set_str(req, "name", node_new_str(name, strlen(name)));
	if (definition)
		node_map_set_str(req, "definition", node_new_bool(true));
	reply = conn_call(conn, req);
	node_free(req);
	if (reply == NULL)
		return EXIT_FAILED;
	if ((rc = conn_check(reply)) != EXIT_OK) {
		node_free(reply);
		return rc;
	}
	*listp = proto_get(reply, "pipelines");
	if (*listp == NULL || (*listp)->type != NODE_SEQ)
		conn_fail("bad reply from pipelined: pipelines without a list");
	*replyp = reply;
	return EXIT_OK;
}

/* Print every error of an entry, indented (or not), to f. */
void
pipelines_print_errors(FILE *f, const struct node *entry, const char *indent)
{
	const struct node	*errs = proto_get(entry, "errors");
	size_t			 i;

	for (i = 0; errs != NULL && errs->type == NODE_SEQ &&
	    i < errs->nkids; i++)
		if (node_item(errs, i)->type == NODE_STR)
			fprintf(f, "%s%s\n", indent, node_item(errs, i)->text);
}

/* The cells of one entry; the last status apart, to colour it. */
static void
pipelines_row(const struct node *entry, char **row, const char **last)
{
	const struct node	*dg = proto_get(entry, "digest"), *rate;
	const char		*s;
	char			 when[64];
	int64_t			 runs = 0;

	s = proto_get_str(entry, "name");
	row[PL_NAME] = xstrdup(s != NULL ? s : "?");
	s = proto_get_str(entry, "status");
	row[PL_STATUS] = xstrdup(s != NULL ? s : "?");
	proto_get_int(dg, "runs", &runs);
	row[PL_RUNS] = xprintf("%" PRId64, runs);
	*last = proto_get_str(dg, "last_status");
	if (*last != NULL)
		row[PL_LAST] = xprintf("%s %s", *last,
		    render_time(proto_get_str(dg, "last_run"), true, when,
		    sizeof when));
	else
		row[PL_LAST] = xstrdup("-");
	rate = proto_get(dg, "success_rate");
	if (rate != NULL && rate->type == NODE_FLOAT)
		row[PL_SUCCESS] = xprintf("%.0f%%", rate->f * 100.0);
	else if (rate != NULL && rate->type == NODE_INT)
		row[PL_SUCCESS] = xprintf("%" PRId64 "%%", rate->i * 100);
	else
		row[PL_SUCCESS] = xstrdup("-");
	s = proto_get_str(entry, "file");
	row[PL_FILE] = xstrdup(s != NULL ? s : "?");
}

/*
 * The table: NAME STATUS RUNS LAST SUCCESS FILE, each pipeline that is
 * invalid or refused followed by its errors, indented.
 */
static void
pipelines_table(FILE *f, const struct node *list, bool color)
{
	static const char *const head[PL_NCOL] = { "NAME", "STATUS", "RUNS",
	    "LAST", "SUCCESS", "FILE" };
	const char	**last;
	char		**cell;
	size_t		 n = list->nkids, w[PL_NCOL], i, k, len;

	cell = xcalloc((n + 1) * PL_NCOL, sizeof *cell);
	last = xcalloc(n + 1, sizeof *last);
	for (k = 0; k < PL_NCOL; k++)
		cell[k] = xstrdup(head[k]);
	for (i = 0; i < n; i++)
		pipelines_row(node_item(list, i), cell + (i + 1) * PL_NCOL,
		    &last[i + 1]);
	for (k = 0; k < PL_NCOL; k++)
		for (w[k] = 0, i = 0; i <= n; i++)
			if ((len = strlen(cell[i * PL_NCOL + k])) > w[k])
				w[k] = len;
	for (i = 0; i <= n; i++) {
		for (k = 0; k < PL_NCOL; k++) {
			const char *s = cell[i * PL_NCOL + k];

			if (k == PL_FILE)
				fputs(s, f);
			else if (k == PL_LAST && last[i] != NULL) {
				render_status(f, color, last[i], 0);
				fputs(s + strlen(last[i]), f);
				fprintf(f, "%*s", (int)(w[k] + 2 - strlen(s)),
				    "");
			} else
				fprintf(f, "%-*s", (int)(w[k] + 2), s);
		}
		fputc('\n', f);
		if (i > 0)
			pipelines_print_errors(f, node_item(list, i - 1),
			    "    ");
	}
	for (i = 0; i < (n + 1) * PL_NCOL; i++)
		free(cell[i]);
	free(cell);
	free(last);
}

/* pipectl pipelines [--json] */
int
cmd_pipelines(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("pipelines");
	const struct node	*list;
	struct node		*reply;
	struct conn		*conn;
	bool			 json;
	char			*text;
	int			 rc;

	if ((rc = pipectl_json_option(c, argc, argv, &json)) != EXIT_OK)
		return rc;
	if (optind != argc)
		return pipectl_usage(c, "unexpected argument '%s'",
		    argv[optind]);
	conn = conn_open(ctl);
	rc = pipelines_fetch(conn, NULL, false, &reply, &list);
	conn_free(conn);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		text = nodejson_encode(list);
		printf("%s\n", text);
		free(text);
	} else if (list->nkids == 0)
		printf("no registered pipelines (in %s)\n",
		    proto_get_str(reply, "dir") != NULL ?
		    proto_get_str(reply, "dir") : "the pipelines directory");
	else
		pipelines_table(stdout, list, ctl->color);
	node_free(reply);
	return EXIT_OK;
}
