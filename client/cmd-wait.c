/*
 * pipectl wait: block until an execution is final; the exit status says
 * whether it ended DONE, so that scripts can wait on a submission.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "node.h"
#include "proto.h"
#include "pipectl.h"

/*
 * Follow an execution until it is final, then fetch its final state:
 * EXIT_OK with the show reply in *replyp and the execution in *execp, or
 * the exit status of an error (reported).  SIGINT leaves the program.
 */
static int
wait_final(struct conn *conn, int64_t id, struct node **replyp,
    const struct node **execp)
{
	struct watch	 w;
	struct node	*msg;
	int		 rc;

	if ((rc = watch_begin(&w, conn, id)) != EXIT_OK)
		return rc;
	for (;;) {
		switch (watch_next(&w, -1, &msg)) {
		case WATCH_EVENT:
			node_free(msg);
			continue;
		case WATCH_END:
		case WATCH_TIMEOUT:
			break;
		case WATCH_INTERRUPTED:
			conn_interrupt_exit(id);
		case WATCH_ERROR:
			return w.rc;
		}
		break;
	}
	return show_fetch(conn, id, replyp, execp);
}

/* EXIT_OK when an execution ended DONE, EXIT_FAILED otherwise. */
int
wait_exit_status(const struct node *exec)
{
	return node_is_str(proto_get(exec, "status"), "DONE") ? EXIT_OK :
	    EXIT_FAILED;
}

/* pipectl wait ID */
int
cmd_wait(struct pipectl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd	*c = pipectl_find("wait");
	const struct node	*exec;
	struct node		*reply;
	struct conn		*conn;
	int64_t			 id;
	int			 ch, rc;

	if ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return pipectl_bad_option(c, ch, argv);
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return pipectl_usage(c, "expected one execution id");
	if (conn_parse_id(argv[0], &id) == -1)
		return pipectl_usage(c, "'%s' is not an execution id", argv[0]);
	conn = conn_open(ctl);
	conn_catch_interrupt();
	rc = wait_final(conn, id, &reply, &exec);
	conn_free(conn);
	if (rc != EXIT_OK)
		return rc;
	render_summary(stdout, exec, ctl->color);
	rc = wait_exit_status(exec);
	node_free(reply);
	return rc;
}
