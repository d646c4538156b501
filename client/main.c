/*
 * pipectl: submit, follow and query pipelines run by pipelined; check
 * pipeline files offline.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pipectl.h"

static const struct cmd pipectl_cmds[] = {
	{ "run", cmd_run,
	  "FILE|NAME [--input KEY=VALUE]... [--input-json JSON] [--runner R] "
	  "[--wait] [--json]",
	  "submit a pipeline file, or run a registered pipeline",
	  "Check a pipeline file (YAML or JSON; - for standard input) and\n"
	  "submit it to pipelined, which runs it as a new execution.  Errors\n"
	  "in the file are reported as FILE:LINE:COL: message, all at once,\n"
	  "and nothing is submitted.  Relative paths in the pipeline are\n"
	  "taken from the current directory.\n"
	  "\n"
	  "Or run the daemon's registered pipeline NAME (see pipectl\n"
	  "pipelines): the argument is a NAME unless it is -, names an\n"
	  "existing file, contains a '/' or ends in .yaml, .yml or .json\n"
	  "(write ./NAME for a file called NAME).  A registered pipeline that\n"
	  "is not valid still gives an execution, CONFIG_ERROR with its\n"
	  "errors.  One that runs as another user (user:) is only for\n"
	  "administrators; its tasks run as that user, the execution is\n"
	  "yours.\n"
	  "\n"
	  "Options:\n"
	  "  --input KEY=VALUE  input data for the tasks (a string value);\n"
	  "                     may be repeated\n"
	  "  --input-json JSON  input data as a JSON object, merged first:\n"
	  "                     a --input of the same key wins\n"
	  "  --runner R         run with this runner (eager, local, celery or\n"
	  "                     a plugin) instead of the pipeline's or the\n"
	  "                     daemon's default\n"
	  "  --wait             follow the execution to its end: on a\n"
	  "                     terminal a progress line ([done/total] N\n"
	  "                     running: the longest running task results),\n"
	  "                     otherwise one line per status change; then\n"
	  "                     the final state as pipectl show prints it\n"
	  "  --json             print {\"id\": N}; with --wait only the final\n"
	  "                     execution, as pipectl show --json prints it\n"
	  "\n"
	  "Output: the execution id, on a line of its own.\n"
	  "\n"
	  "Exit status: 0 submitted (with --wait: the execution ended\n"
	  "DONE); 1 the execution ended otherwise; 2 usage error or invalid\n"
	  "pipeline file; 3 cannot reach the daemon; 4 no registered\n"
	  "pipeline NAME, or not permitted.\n" },
	{ "list", cmd_list,
	  "[--pipeline NAME] [--status S] [--since DUR] [--limit N] [--json]",
	  "list executions, newest first",
	  "List the executions the daemon remembers, newest first: your own,\n"
	  "or every user's for root and members of the admin group.\n"
	  "\n"
	  "Options:\n"
	  "  --pipeline NAME  only executions of this pipeline\n"
	  "  --status S       only executions with this status (PENDING,\n"
	  "                   RUNNING, DONE, CONFIG_ERROR, VALIDATION_ERROR,\n"
	  "                   RUNTIME_ERROR, CANCELLED)\n"
	  "  --since DUR      only executions submitted in the last DUR\n"
	  "                   (such as 30m, 2h, 7d)\n"
	  "  --limit N        at most N executions (default 50)\n"
	  "  --json           print a JSON array of execution objects (the\n"
	  "                   shape of pipectl show --json, without results)\n"
	  "\n"
	  "Output: a table of ID, PIPELINE, STATUS, SUBMITTED (local time),\n"
	  "DURATION and MESSAGE.\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the\n"
	  "daemon.\n" },
	{ "show", cmd_show, "ID [--json]",
	  "show an execution and its tasks",
	  "Show one execution: its pipeline, status, owner, runner,\n"
	  "submission time, duration and message, then per pipeline result\n"
	  "(with its item when the pipeline has an iterator) every task with\n"
	  "its status, duration, exit code or signal, attempts and message.\n"
	  "A task with an iterator gets a line per instance, numbered as in\n"
	  "addresses (ID/RESULT/TASK/INDEX, used by pipectl logs and\n"
	  "cancel).\n"
	  "\n"
	  "Options:\n"
	  "  --json  print the execution as one JSON object instead\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the daemon;\n"
	  "4 no such execution, or not yours.\n" },
	{ "logs", cmd_logs, "ADDRESS [--follow]",
	  "print a task result's output",
	  "Print the output (standard output and error together, as the task\n"
	  "wrote them) of a task result, such as 42/0/build/0, or 42/build\n"
	  "for a task without iterator in a pipeline without iterator.  The\n"
	  "bytes are written as they are.\n"
	  "\n"
	  "Options:\n"
	  "  -f, --follow  keep printing while the task runs, until it ends\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the daemon;\n"
	  "4 no such task result, or not yours.\n" },
	{ "cancel", cmd_cancel, "ADDRESS",
	  "cancel an execution or part of one",
	  "Cancel an execution (42), a pipeline result (42/1) or a task\n"
	  "execution (42/1/build, or 42/build without pipeline iterator):\n"
	  "running task results under it are killed, with their whole process\n"
	  "tree, and pending ones never start.  They are recorded CANCELLED\n"
	  "with the message \"cancelled by user NAME\".\n"
	  "\n"
	  "Output: how many task results were cancelled, or the status the\n"
	  "target already had.\n"
	  "\n"
	  "Exit status: 0 success (also when the target was already final);\n"
	  "2 usage error; 3 cannot reach the daemon; 4 no such address, or\n"
	  "not yours.\n" },
	{ "wait", cmd_wait, "ID",
	  "wait until an execution is final",
	  "Wait until an execution is final, then print one line: its id,\n"
	  "pipeline, status, duration and message.\n"
	  "\n"
	  "Exit status: 0 the execution ended DONE; 1 it ended otherwise;\n"
	  "2 usage error; 3 cannot reach the daemon; 4 no such execution, or\n"
	  "not yours.  Interrupted, pipectl stops waiting; the execution goes\n"
	  "on.\n" },
	{ "watch", cmd_watch, "[ID] [--json]",
	  "print status changes as they happen",
	  "Print every status change, as it happens, of one execution or of\n"
	  "all the executions you may see: one line per change, TIME ADDRESS\n"
	  "STATUS message (local time).  Watching one execution ends once it\n"
	  "is final; otherwise stop with Ctrl-C.\n"
	  "\n"
	  "Options:\n"
	  "  --json  one JSON object per line instead: execution, address,\n"
	  "          level (execution, pipeline_result, task_execution or\n"
	  "          task_result), status, message, time (RFC 3339 UTC)\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the daemon;\n"
	  "4 no such execution, or not yours.\n" },
	{ "retry", cmd_retry, "ID [--wait] [--json]",
	  "run an execution again, skipping what succeeded",
	  "Start a new execution of the same definition and input as ID (which\n"
	  "must be final).  Every task result that ended DONE in ID is carried\n"
	  "over as DONE, with a message naming ID, and only the rest runs;\n"
	  "items an iterator command printed are reused, so results line up.\n"
	  "The new execution belongs to you; show of each links the other\n"
	  "(retry_of, retried_by).  Prints the new id.\n"
	  "\n"
	  "Options:\n"
	  "  --wait  follow it to the end, as run --wait does\n"
	  "  --json  {\"id\": N}, or with --wait the final show --json object\n"
	  "\n"
	  "Exit status: 0 submitted (with --wait: ended DONE); 1 ended\n"
	  "otherwise, or ID is not final yet; 3 cannot reach the daemon; 4 no\n"
	  "such execution, or not yours.\n" },
	{ "pipelines", cmd_pipelines, "[--json]",
	  "list the registered pipelines and their runs",
	  "List the daemon's registered pipelines: the *.yaml files of its\n"
	  "pipelines directory, as it read them at start or at the last\n"
	  "reload.  Run one with pipectl run NAME.\n"
	  "\n"
	  "Output: a table of NAME, STATUS (valid; invalid: it does not load,\n"
	  "and running it records a CONFIG_ERROR execution; refused: the\n"
	  "daemon does not trust the file, for its owner or mode), RUNS, LAST\n"
	  "(the status of the latest run and when it was submitted, local\n"
	  "time), SUCCESS (the share of the runs that ended which ended DONE)\n"
	  "and FILE.  An invalid or refused pipeline is followed by its\n"
	  "errors, as FILE:LINE:COL: message.  Runs are those of the name\n"
	  "(not of files submitted with the same name) that you may see:\n"
	  "yours, or every user's for root and members of the admin group.\n"
	  "\n"
	  "Options:\n"
	  "  --json  print a JSON array, one object per pipeline: name, file,\n"
	  "          status, valid, errors, description, user, tasks and\n"
	  "          digest {runs, last_status, last_run, last_execution,\n"
	  "          success_rate (0 to 1)}\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the\n"
	  "daemon.\n" },
	{ "gc", cmd_gc, "[--older-than DUR]",
	  "remove old executions now",
	  "Apply the retention now: remove finished executions that completed\n"
	  "more than the daemon's retention_days ago (or DUR ago), and the\n"
	  "oldest finished ones beyond its max_executions, with their output\n"
	  "logs.  The journal is compacted into a snapshot of what is kept.\n"
	  "Unfinished executions are never removed.  For administrators.\n"
	  "\n"
	  "Options:\n"
	  "  --older-than DUR  remove those completed more than DUR ago\n"
	  "                    (250ms, 30s, 5m, 2h, 7d, 1d12h)\n"
	  "\n"
	  "Exit status: 0 success; 1 the journal could not be compacted; 3\n"
	  "cannot reach the daemon; 4 not permitted.\n" },
	{ "reload", cmd_reload, "",
	  "have the daemon read its configuration again",
	  "Have the daemon read its configuration file and its registered\n"
	  "pipelines again, as SIGHUP does, and print what it did.  Settings\n"
	  "bound at start (socket, state_dir, journal_sync, runner_dir and\n"
	  "runner settings) are reported as waiting for a restart.  For\n"
	  "administrators.\n"
	  "\n"
	  "Exit status: 0 reloaded; 1 the configuration has errors (they are\n"
	  "printed; nothing changed); 3 cannot reach the daemon; 4 not\n"
	  "permitted.\n" },
	{ "status", cmd_status, "[--json]",
	  "show what the daemon is doing",
	  "Show the daemon's version, pid and uptime, where its socket and\n"
	  "state are, its runners and default runner, the daemon-wide\n"
	  "max_parallel, and how many task results run and wait, how many\n"
	  "executions it holds (and how many are unfinished), and how many\n"
	  "clients are connected.\n"
	  "\n"
	  "Options:\n"
	  "  --json  the daemon's reply as one JSON object\n"
	  "\n"
	  "Exit status: 0 success; 2 usage error; 3 cannot reach the daemon.\n" },
	{ "validate", cmd_validate, "FILE",
	  "check a pipeline file and print its flat order",
	  "Check a pipeline file (YAML or JSON) without contacting the daemon.\n"
	  "\n"
	  "On success prints a summary (tasks, edges, iterators) and the flat\n"
	  "order in which the eager runner would run the tasks, and exits 0.\n"
	  "Otherwise prints every error found, one per line, as\n"
	  "FILE:LINE:COL: message, and exits 2.\n" },
	{ "graph", cmd_graph, "FILE|NAME|ID",
	  "print the task graph in Graphviz DOT",
	  "Print the task graph in Graphviz DOT, one node per task and one\n"
	  "edge per parent -> child.\n"
	  "\n"
	  "For a pipeline FILE (checked offline), tasks with an iterator are\n"
	  "drawn as stacks and labelled with their item count or\n"
	  "\"iterate_command\"; exits 2 with every error when the file is not\n"
	  "valid.  For the NAME of a registered pipeline, the same from the\n"
	  "definition the daemon has; exits 2 with its errors when it is not\n"
	  "valid, 4 when there is no such registered pipeline.  For an\n"
	  "execution ID (asked of the daemon), each pipeline result is a\n"
	  "cluster and each task is filled with the colour of its status:\n"
	  "green DONE, blue RUNNING, yellow CANCELLED, red failed, white\n"
	  "PENDING; exits 4 when there is no such execution.\n"
	  "\n"
	  "An argument that is not an existing file is an ID when it is a\n"
	  "number; otherwise a NAME unless it contains a '/' or ends in\n"
	  ".yaml, .yml or .json.\n"
	  "\n"
	  "Render with: pipectl graph FILE | dot -Tsvg > graph.svg\n" },
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
	fprintf(stderr, "\nusage: pipectl %s%s%s\n", c->name,
	    *c->usage ? " " : "", c->usage);
	return EXIT_USAGE;
}

/*
 * Read the options of a command whose only option is --json: EXIT_OK with
 * *json set and optind at the first operand, or the usage error's status.
 */
int
pipectl_json_option(const struct cmd *c, int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j')
			return pipectl_bad_option(c, ch, argv);
		*json = true;
	}
	return EXIT_OK;
}

/*
 * Report an option getopt_long refused (opterr is off, the optstring
 * starts with ':') as a usage error in our own words.
 */
int
pipectl_bad_option(const struct cmd *c, int ch, char **argv)
{
	const char	*arg = argv[optind - 1];

	if (ch == ':')
		return pipectl_usage(c, "option '%s' needs a value", arg);
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL &&
	    optopt != 0)
		return pipectl_usage(c, "option '%.*s' takes no value",
		    (int)(strchr(arg, '=') - arg), arg);
	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		return pipectl_usage(c, "unknown option '-%c'", optopt);
	return pipectl_usage(c, "unknown option '%s'", arg);
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
			printf("usage: pipectl %s%s%s\n\n%s", c->name,
			    *c->usage ? " " : "", c->usage, c->help);
			return 1;
		}
	}
	return 0;
}

/*
 * Whether everything printed reached stdout: errors stick to the stream,
 * so one check here covers every printf before it.  "pipectl graph x >
 * /dev/full" must not succeed in silence.
 */
static int
pipectl_exit(int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "pipectl: writing the output: %s\n",
		    strerror(errno));
		return rc == EXIT_OK ? EXIT_FAILED : rc;
	}
	return rc;
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
			return pipectl_exit(EXIT_OK);
		case 'V':
			printf("pipectl %s\n", PACKAGE_VERSION);
			return pipectl_exit(EXIT_OK);
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
		return pipectl_exit(EXIT_OK);
	/*
	 * 0, not 1: glibc then starts afresh, forgetting the "+" above, so
	 * that a command's options may follow its operands.
	 */
	optind = 0;
	opterr = 0;	/* commands report bad options themselves */
	return pipectl_exit(c->fn(&ctl, argc, argv));
}
