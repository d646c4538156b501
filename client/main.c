/*
 * pipectl: submit, follow and query pipelines run by pipelined; check
 * pipeline files offline.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pipectl.h"

static const struct cmd pipectl_cmds[] = {
	{ "validate", cmd_validate, "FILE",
	  "check a pipeline file and print its flat order",
	  "Check a pipeline file (YAML or JSON) without contacting the daemon.\n"
	  "\n"
	  "On success prints a summary (tasks, edges, iterators) and the flat\n"
	  "order in which the eager runner would run the tasks, and exits 0.\n"
	  "Otherwise prints every error found, one per line, as\n"
	  "FILE:LINE:COL: message, and exits 2.\n" },
	{ "graph", cmd_graph, "FILE",
	  "print the task graph in Graphviz DOT",
	  "Print the task graph of a pipeline file in Graphviz DOT, one node\n"
	  "per task and one edge per parent -> child.  Tasks with an iterator\n"
	  "are drawn as stacks and labelled with their item count or\n"
	  "\"iterate_command\".  Render with: pipectl graph FILE | dot -Tsvg\n"
	  "Exits 2 with every error when the file is not valid.\n" },
};
#define PIPECTL_NCMDS	(sizeof pipectl_cmds / sizeof pipectl_cmds[0])

static void
pipectl_main_usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: pipectl [--socket PATH] [--no-color] COMMAND [ARGS...]\n"
	    "       pipectl COMMAND --help\n"
	    "       pipectl --help | --version\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < PIPECTL_NCMDS; i++)
		fprintf(f, "  %-10s %s\n", pipectl_cmds[i].name,
		    pipectl_cmds[i].summary);
	fprintf(f,
	    "\n"
	    "Options (before the command):\n"
	    "  --socket PATH  the daemon's socket (default: $PIPELINED_SOCKET,\n"
	    "                 else $XDG_RUNTIME_DIR/pipelined.sock if it exists,\n"
	    "                 else /run/pipelined/pipelined.sock)\n"
	    "  --no-color     never colour the output (also: NO_COLOR set)\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n"
	    "\n"
	    "Exit status: 0 success; 1 the execution ended otherwise than DONE;\n"
	    "2 usage or validation error; 3 cannot reach the daemon; 4 not\n"
	    "found or not permitted.\n");
}

/* The command with this name, or NULL. */
const struct cmd *
pipectl_find(const char *name)
{
	size_t	i;

	for (i = 0; i < PIPECTL_NCMDS; i++)
		if (strcmp(pipectl_cmds[i].name, name) == 0)
			return &pipectl_cmds[i];
	return NULL;
}

/* Print a usage error for a command and return the usage exit status. */
int
pipectl_usage(const struct cmd *c, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "pipectl %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: pipectl %s %s\n", c->name, c->usage);
	return EXIT_USAGE;
}

/* If the arguments ask for help, print the command's and return 1. */
int
pipectl_help_requested(const struct cmd *c, int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: pipectl %s %s\n\n%s", c->name, c->usage,
			    c->help);
			return 1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipectl	 ctl;
	const struct cmd *c;
	int		 ch;

	log_init("pipectl", LOG_LEVEL_WARN, 0);
	memset(&ctl, 0, sizeof ctl);
	ctl.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	/* "+": stop at the command; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'C':
			ctl.color = false;
			break;
		case 'h':
			pipectl_main_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("pipectl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			pipectl_main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		pipectl_main_usage(stderr);
		return EXIT_USAGE;
	}
	if ((c = pipectl_find(argv[0])) == NULL) {
		fprintf(stderr, "pipectl: unknown command '%s' (see pipectl "
		    "--help)\n", argv[0]);
		return EXIT_USAGE;
	}
	if (pipectl_help_requested(c, argc, argv))
		return EXIT_OK;
	optind = 1;
	return c->fn(&ctl, argc, argv);
}
