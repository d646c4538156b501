/*
 * pipectl validate: check a pipeline file offline.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "pipectl.h"

/*
 * Load a pipeline file ("-" for standard input), printing every error to
 * stderr.  Returns NULL when the file is not a valid pipeline.  flags are
 * the loader's (LOAD_REGISTERED allows "user:").
 */
struct pipeline *
pipectl_load(const char *path, unsigned flags, struct node **docp)
{
	struct pipeline	*p;
	struct diag	*d;
	int		 is_stdin = strcmp(path, "-") == 0;

	d = diag_new(is_stdin ? "<stdin>" : path);
	p = load_file(is_stdin ? "/dev/stdin" : path, flags, d, docp);
	if (p == NULL)
		diag_print(d, stderr);
	diag_free(d);
	return p;
}

/* Describe an iterator: "3 items" or "iterate_command". */
static void
validate_iterator(const struct node *items, const char *cmd, const char *who,
    int *first)
{
	if (items == NULL && cmd == NULL)
		return;
	printf("%s%s (", *first ? "" : "; ", who);
	if (items != NULL)
		printf("%zu item%s)", items->nkids, items->nkids == 1 ? "" : "s");
	else
		printf("iterate_command)");
	*first = 0;
}

int
cmd_validate(struct pipectl *ctl, int argc, char **argv)
{
	const struct cmd	*c = pipectl_find("validate");
	struct pipeline		*p;
	uint32_t		 i;
	int			 first = 1;

	if (argc != 2)
		return pipectl_usage(c, "expected one pipeline file");
	if ((p = pipectl_load(argv[1], LOAD_REGISTERED, NULL)) == NULL)
		return EXIT_USAGE;
	printf("%s: valid pipeline '%s'\n", argv[1], p->name);
	printf("tasks: %u\n", p->ntasks);
	printf("edges: %zu\n", pipeline_edges(p));
	printf("iterators: ");
	validate_iterator(p->iterate, p->iterate_command, "pipeline", &first);
	for (i = 0; i < p->ntasks; i++)
		validate_iterator(p->tasks[i].iterate,
		    p->tasks[i].iterate_command, p->tasks[i].name, &first);
	printf("%s\n", first ? "none" : "");
	printf("flat order:");
	for (i = 0; i < p->ntasks; i++)
		printf(" %s", p->tasks[p->flat[i]].name);
	printf("\n");
	pipeline_free(p);
	return EXIT_OK;
}
