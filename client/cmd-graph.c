/*
 * pipectl graph: the task graph in Graphviz DOT, of a pipeline file, of a
 * registered pipeline (its definition asked of the daemon) or of an
 * execution (with the status of each task).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "graph.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "pipectl.h"


/*
 * Print DOT for a pipeline.  Names are [A-Za-z0-9_.-] (the loader checks),
 * so they need no escaping inside quotes.
 */
static void
graph_dot(const struct pipeline *p, FILE *f)
{
	const struct task_def	*t;
	const uint32_t		*kids;
	uint32_t		 i, j, n;

	fprintf(f, "digraph \"%s\" {\n", p->name);
	fprintf(f, "\trankdir=LR;\n");
	fprintf(f, "\tnode [shape=box, style=rounded, fontname=\"sans\"];\n");
	if (p->iterate != NULL)
		fprintf(f, "\tlabel=\"%s (per item: %zu items)\";\n", p->name,
		    p->iterate->nkids);
	else if (p->iterate_command != NULL)
		fprintf(f, "\tlabel=\"%s (per item of iterate_command)\";\n",
		    p->name);
	for (i = 0; i < p->ntasks; i++) {
		t = &p->tasks[i];
		if (t->iterate != NULL)
			fprintf(f, "\t\"%s\" [shape=box3d, style=\"\", "
			    "label=\"%s\\n[%zu items]\"];\n", t->name, t->name,
			    t->iterate->nkids);
		else if (t->iterate_command != NULL)
			fprintf(f, "\t\"%s\" [shape=box3d, style=\"\", "
			    "label=\"%s\\n[iterate_command]\"];\n", t->name,
			    t->name);
		else
			fprintf(f, "\t\"%s\";\n", t->name);
	}
	for (i = 0; i < p->ntasks; i++) {
		kids = graph_children(p->graph, i, &n);
		for (j = 0; j < n; j++)
			fprintf(f, "\t\"%s\" -> \"%s\";\n", p->tasks[i].name,
			    p->tasks[kids[j]].name);
	}
	fprintf(f, "}\n");
}

/* The fill colour of a status, as on a terminal. */
static const char *
graph_colour(const char *status)
{
	if (status == NULL || strcmp(status, "PENDING") == 0)
		return "white";
	if (strcmp(status, "RUNNING") == 0)
		return "lightblue";
	if (strcmp(status, "DONE") == 0)
		return "palegreen";
	if (strcmp(status, "CANCELLED") == 0)
		return "khaki";
	return "salmon";
}

/*
 * Print DOT for an execution: one cluster per pipeline result, each task
 * filled with the colour of its status and labelled with it.
 */
static void
graph_dot_execution(const struct node *exec, FILE *f)
{
	const struct node	*results, *r, *tasks, *t, *parents;
	const char		*name, *st;
	int64_t			 id = 0, ri;
	size_t			 i, j, k;

	proto_get_int(exec, "id", &id);
	fprintf(f, "digraph \"%lld\" {\n", (long long)id);
	fprintf(f, "\trankdir=LR;\n");
	fprintf(f, "\tlabel=\"%lld %s: %s\";\n", (long long)id,
	    proto_get_str(exec, "pipeline"), proto_get_str(exec, "status"));
	fprintf(f, "\tnode [shape=box, style=\"rounded,filled\", "
	    "fontname=\"sans\"];\n");
	if ((results = proto_get(exec, "results")) == NULL ||
	    results->type != NODE_SEQ)
		results = NULL;
	for (i = 0; results != NULL && i < results->nkids; i++) {
		r = node_item(results, i);
		ri = (int64_t)i;
		proto_get_int(r, "index", &ri);
		fprintf(f, "\tsubgraph \"cluster_%lld\" {\n", (long long)ri);
		fprintf(f, "\t\tlabel=\"%lld/%lld: %s\";\n", (long long)id,
		    (long long)ri, proto_get_str(r, "status"));
		if ((tasks = proto_get(r, "tasks")) == NULL ||
		    tasks->type != NODE_SEQ)
			tasks = NULL;
		for (j = 0; tasks != NULL && j < tasks->nkids; j++) {
			t = node_item(tasks, j);
			name = proto_get_str(t, "name");
			st = proto_get_str(t, "status");
			if (name == NULL)
				continue;
			fprintf(f, "\t\t\"%lld/%s\" [label=\"%s\\n%s\", "
			    "fillcolor=%s];\n", (long long)ri, name, name,
			    st != NULL ? st : "?", graph_colour(st));
			parents = proto_get(t, "parents");
			for (k = 0; parents != NULL && parents->type ==
			    NODE_SEQ && k < parents->nkids; k++)
				if (node_item(parents, k)->type == NODE_STR)
					fprintf(f, "\t\t\"%lld/%s\" -> "
					    "\"%lld/%s\";\n", (long long)ri,
					    node_item(parents, k)->text,
					    (long long)ri, name);
		}
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
}

/* Whether s is an execution id rather than a file name. */
static bool
graph_is_id(const char *s)
{
	int64_t	id;

	return access(s, F_OK) == -1 && conn_parse_id(s, &id) == 0;
}

/*
 * Draw the registered pipeline name from the definition the daemon has:
 * exits 2 with its errors when it is invalid, 4 when there is none (or
 * only a refused file).
 */
static int
graph_registered(struct pipectl *ctl, const char *name)
{
	const struct node	*list, *entry, *def = NULL;
	struct pipeline		*p;
	struct node		*reply;
	struct conn		*conn;
	struct diag		*d;
	const char		*st;
	size_t			 i;
	int			 rc;

	conn = conn_open(ctl);
	rc = pipelines_fetch(conn, name, true, &reply, &list);
	conn_free(conn);
	if (rc != EXIT_OK)
		return rc;
	for (i = 0; def == NULL && i < list->nkids; i++)
		def = proto_get(node_item(list, i), "definition");
	if (def == NULL) {
		entry = list->nkids > 0 ? node_item(list, 0) : NULL;
		st = entry != NULL ? proto_get_str(entry, "status") : NULL;
		fprintf(stderr, "pipectl graph: registered pipeline %s is %s\n",
		    name, st != NULL && strcmp(st, "refused") == 0 ?
		    "refused by the daemon" : "not valid");
		for (i = 0; i < list->nkids; i++)
			pipelines_print_errors(stderr, node_item(list, i), "");
		rc = st != NULL && strcmp(st, "refused") == 0 ? EXIT_NOTFOUND :
		    EXIT_USAGE;
		node_free(reply);
		return rc;
	}
	d = diag_new(name);
	if ((p = load_document(def, LOAD_REGISTERED, d)) == NULL) {
		/* The daemon loaded it: only a newer format can fail here. */
		diag_print(d, stderr);
		rc = EXIT_USAGE;
	} else {
		graph_dot(p, stdout);
		pipeline_free(p);
	}
	diag_free(d);
	node_free(reply);
	return rc;
}

int
cmd_graph(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("graph");
	const struct node	*exec;
	struct pipeline		*p;
	struct node		*reply;
	struct conn		*conn;
	int64_t			 id;
	int			 rc;

	if (argc != 2)
		return pipectl_usage(c, "expected a pipeline file, the name of "
		    "a registered pipeline or an execution id");
	if (graph_is_id(argv[1])) {
		conn_parse_id(argv[1], &id);
		conn = conn_open(ctl);
		rc = show_fetch(conn, id, &reply, &exec);
		if (rc == EXIT_OK) {
			graph_dot_execution(exec, stdout);
			node_free(reply);
		}
		conn_free(conn);
		return rc;
	}
	if (!pipectl_is_file_arg(argv[1]))
		return graph_registered(ctl, argv[1]);
	if ((p = pipectl_load(argv[1], LOAD_REGISTERED, NULL)) == NULL)
		return EXIT_USAGE;
	graph_dot(p, stdout);
	pipeline_free(p);
	return EXIT_OK;
}
