/*
 * pipectl graph: the task graph in Graphviz DOT.
 */
#include "config.h"

#include <stdio.h>

#include "graph.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
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

int
cmd_graph(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("graph");
	struct pipeline		*p;

	if (argc != 2)
		return pipectl_usage(c, "expected one pipeline file");
	if ((p = pipectl_load(argv[1], LOAD_REGISTERED, NULL)) == NULL)
		return EXIT_USAGE;
	graph_dot(p, stdout);
	pipeline_free(p);
	return EXIT_OK;
}
