/*
 * pipectl: the command table and what commands share.
 */
#ifndef PIPECTL_H
#define PIPECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
int	cmd_run(struct pipectl *, int, char **);
int	cmd_show(struct pipectl *, int, char **);
int	cmd_list(struct pipectl *, int, char **);
int	cmd_logs(struct pipectl *, int, char **);
int	cmd_cancel(struct pipectl *, int, char **);
int	cmd_wait(struct pipectl *, int, char **);
int	cmd_watch(struct pipectl *, int, char **);
int	cmd_status(struct pipectl *, int, char **);
int	cmd_retry(struct pipectl *, int, char **);
int	cmd_gc(struct pipectl *, int, char **);
int	cmd_reload(struct pipectl *, int, char **);
int	cmd_pipelines(struct pipectl *, int, char **);


struct node;
struct pipeline;
struct pipeline *pipectl_load(const char *, unsigned, struct node **);

/* conn.c: one connection to the daemon. */
struct conn;

struct conn	*conn_open(const struct pipectl *);
void		 conn_free(struct conn *);
int64_t		 conn_request(struct conn *, const struct node *req);
struct node	*conn_read(struct conn *);
int		 conn_poll(struct conn *, int timeout_ms, struct node **);
struct node	*conn_call(struct conn *, const struct node *req);
struct node	*conn_new_op(const char *op);
int		 conn_check(const struct node *reply);
int		 conn_parse_id(const char *, int64_t *);
void		 conn_catch_interrupt(void);
__attribute__((noreturn)) void conn_interrupt_exit(int64_t execution);
__attribute__((noreturn)) void conn_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* cmd-pipelines.c: registered pipelines, for run and graph too. */
bool	pipectl_is_file_arg(const char *);
int	pipelines_fetch(struct conn *, const char *name, bool definition,
	    struct node **replyp, const struct node **listp);
void	pipelines_print_errors(FILE *, const struct node *entry,
	    const char *indent);

/* cmd-run.c: print and follow a new execution, for run and retry. */
int	run_report(struct pipectl *, struct conn *, int64_t req, int64_t id,
	    bool wait, bool json);

/* cmd-watch.c: following a watch stream, for run --wait and wait too. */
enum watch_next {
	WATCH_EVENT,		/* *msg holds a reply with an event */
	WATCH_END,		/* the execution is final */
	WATCH_TIMEOUT,
	WATCH_INTERRUPTED,	/* SIGINT */
	WATCH_ERROR,		/* the daemon said no; see rc */
};

struct watch {
	struct conn	*conn;
	int64_t		 req;		/* the watch request's id */
	int64_t		 execution;	/* 0: every execution */
	bool		 final;
	int		 rc;
};

int		 watch_begin(struct watch *, struct conn *, int64_t execution);
int		 watch_adopt(struct watch *, struct conn *, int64_t req,
		    int64_t execution);
enum watch_next	 watch_next(struct watch *, int timeout_ms, struct node **);

/* cmd-wait.c: how an execution's end becomes an exit status. */
int		 wait_exit_status(const struct node *exec);

/* cmd-show.c: the final state, for run --wait and wait too. */
int		 show_fetch(struct conn *, int64_t id, struct node **replyp,
		    const struct node **execp);
void		 show_json(FILE *, const struct node *exec);

/* render.c: what commands print. */
int		 render_term_width(int fd);
void		 render_status(FILE *, bool color, const char *status,
		    int width);
char		*render_duration(const struct node *, int64_t now_us,
		    char *buf, size_t len);
char		*render_time(const char *rfc3339, bool date, char *buf,
		    size_t len);
void		 render_show(FILE *, const struct node *exec, bool color);
void		 render_summary(FILE *, const struct node *exec, bool color);
void		 render_list(FILE *, const struct node *execs, bool color,
		    int width);
void		 render_event(FILE *, const struct node *event, bool color,
		    bool with_time);
int64_t		 render_us(const struct node *, const char *key);
bool		 render_task_single(const struct node *task);

/* progress.c: run --wait's progress line. */
char		*progress_line(const struct node *exec, int64_t now_us,
		    int width);
void		 progress_draw(const char *line);
void		 progress_clear(void);

int	pipectl_usage(const struct cmd *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	pipectl_help_requested(const struct cmd *, int, char **);
int	pipectl_bad_option(const struct cmd *, int, char **);
int	pipectl_json_option(const struct cmd *, int, char **, bool *json);
const struct cmd *pipectl_find(const char *);

#endif
