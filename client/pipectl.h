/*
 * pipectl: the command table and what commands share.
 */
#ifndef PIPECTL_H
#define PIPECTL_H

#include <stdbool.h>

/* Exit statuses (the same for every command). */
#define EXIT_OK		0	/* success */
#define EXIT_FAILED	1	/* the execution ended otherwise than DONE */
#define EXIT_USAGE	2	/* usage or validation error */
#define EXIT_NODAEMON	3	/* cannot reach the daemon */
#define EXIT_NOTFOUND	4	/* not found or not permitted */

struct pipectl {
	const char	*socket;	/* --socket, or NULL */
	bool		 color;		/* colour output allowed */
};

struct cmd {
	const char	*name;
	int		(*fn)(struct pipectl *, int, char **);
	const char	*usage;		/* after "pipectl NAME " */
	const char	*summary;	/* one line for the command list */
	const char	*help;		/* the full text for NAME --help */
};

int	cmd_validate(struct pipectl *, int, char **);
int	cmd_graph(struct pipectl *, int, char **);

struct node;
struct pipeline;
struct pipeline *pipectl_load(const char *, struct node **);

int	pipectl_usage(const struct cmd *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	pipectl_help_requested(const struct cmd *, int, char **);
const struct cmd *pipectl_find(const char *);

#endif
