/*
 * pipelined: the daemon's shared state and the interfaces between its
 * parts: daemon.c (start-up, signals, shutdown), control.c (the listening
 * socket), conn.c (one client), dispatch.c (the operations), submit.c
 * (those that create executions), stream.c (watch and logs streams),
 * store.c (the journal, restarts, retention),
 * sdnotify.c (socket activation and notifications under systemd),
 * registry.c (the registered pipelines) and pipelines.c (running them by
 * name, the pipelines operation).
 */
#ifndef PL_DAEMON_H
#define PL_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "buf.h"
#include "journal.h"
#include "jscan.h"
#include "node.h"
#include "proto.h"

struct cgroup_root;
struct conn;
struct defcache;
struct defref;
struct event;
struct event_base;
struct execution;
struct history;
struct node;
struct reporter;
struct result;
struct runner_config;
struct sdnotify;

#define DAEMON_READ_TIMEOUT	10		/* s to finish a started frame */
#define DAEMON_MAX_OUTPUT	(32u * 1024 * 1024) /* queued to one client */

struct queue_limit {
	char		*name;
	unsigned	 max;
};

struct runner_option {
	char		*runner;
	char		*key;
	char		*value;
	char		*where;		/* FILE:LINE or "--runner-option" */
};

#define OPTIONS_MAX_PENDING	1000	/* unfinished executions per user */
#define OPTIONS_MAX_CONNECTIONS	1024	/* open client connections */

/*
 * The settings: the configuration file, then the command line over it,
 * then the defaults for what neither set (options.c, conffile.c).
 */
struct options {
	char		*config;	/* --config, NULL: the default file */
	bool		 foreground;
	bool		 verify;
	char		*socket;
	char		*state_dir;
	char		*runner;
	unsigned	 max_parallel;
	char		*log_level;
	struct queue_limit *queues;
	size_t		 nqueues;
	size_t		 max_frame;
	char		*runner_dir;
	struct runner_option *runner_options;
	size_t		 nrunner_options;
	enum journal_sync journal_sync;
	unsigned	 retention_days;
	size_t		 max_executions;	/* 0: no limit */
	char		*admin_group;		/* NULL: root and our user */
	char		*pipelines_dir;
	unsigned	 max_pending;		/* per user */
	unsigned	 max_connections;
};

/* What a client is: taken from SO_PEERCRED at accept, never from requests. */
struct peer {
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	char		*user;
	bool		 admin;
};

TAILQ_HEAD(conns, conn);

#define REGISTRY_MAX_FILES	1000	/* *.yaml read from pipelines_dir */

enum registry_state {
	REGISTRY_VALID,
	REGISTRY_INVALID,	/* does not load: running it is CONFIG_ERROR */
	REGISTRY_REFUSED,	/* not honoured: untrusted owner or mode */
};

/* One file of the pipelines directory (registry.c). */
struct registry_entry {
	char			*name;	/* its name:, else the file's */
	char			*file;
	enum registry_state	 state;
	char			**errors;	/* FILE[:LINE:COL]: message */
	size_t			 nerrors;
	struct defref		*dref;	/* valid: the shared definition */
	uint32_t		 name_line;	/* where name: is, 0: unknown */
	uint32_t		 name_col;
};

/* The registered pipelines, sorted by name then file. */
struct registry {
	char			*dir;
	struct registry_entry	*v;
	size_t			 n;
	size_t			 nvalid;
	size_t			 ninvalid;
	size_t			 nrefused;
	size_t			 skipped;	/* files over the limit */
	char			*error;		/* the directory's, or NULL */
};

struct daemon {
	struct options		 opts;
	struct event_base	*base;
	struct history		*hist;
	struct reporter		*rep;
	struct cgroup_root	*cgroots;
	int			 listen_fd;
	struct event		*accept_ev;
	struct event		*accept_pause;
	bool			 accept_full;	/* paused: out of fds */
	struct conns		 conns;
	unsigned		 nconns;
	int64_t			 started_us;
	char			**argv;		/* to re-read on reload */
	int			 argc;
	gid_t			 admin_gid;	/* (gid_t)-1: none */
	struct user_count {
		uid_t		 uid;
		unsigned	 unfinished;	/* executions not final */
	}			*users;
	size_t			 nusers;
	bool			 stopping;
	bool			 draining;	/* flushing clients before exit */
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		*stop_timer;
	char			*lang;
	int			 ready_fd;	/* tells the parent we listen */
	struct journal		*journal;
	struct jscan		 scan;		/* what the start-up read found */
	struct event		*gc_timer;
	uint64_t		*gc_gone;	/* sorted ids gc is removing */
	size_t			 gc_ngone;
	struct sdnotify		*sd;		/* systemd: sdnotify.c */
	struct registry		*reg;		/* registered pipelines */
};

extern struct daemon	*daemon_g;

/* daemon.c */
int	 daemon_main(int, char **);
int	 daemon_reload(struct daemon *, char **msg);
void	 daemon_check_stopped(struct daemon *);
const char *daemon_user_name(uid_t, char *, size_t);

/* options.c */
extern const char *const options_keys[];
int	 options_set(struct options *, const char *key, const char *value,
	    char **why);
int	 options_set_queue(struct options *, const char *name,
	    const char *value, char **why);
void	 options_add_runner_option(struct options *, const char *runner,
	    const char *key, const char *value, const char *file,
	    unsigned line);
const char *options_runner_option(const struct options *, const char *,
	    const char *);
unsigned options_queue_limit(const struct options *, const char *);
void	 options_defaults(struct options *);
char	*options_user_config(const char *name);
void	 options_free(struct options *);

/* conffile.c */
int	 conffile_read(const char *path, bool must_exist, struct options *,
	    char **errs);

/* control.c */
int	 control_listen(struct daemon *, char **err);
void	 control_close(struct daemon *);

/* conn.c */
struct conn *conn_new(struct daemon *, int fd, const struct peer *);
void	 conn_free(struct conn *);
void	 conn_send(struct conn *, const struct node *);
void	 conn_send_error(struct conn *, int64_t id, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 conn_close_after_write(struct conn *);
void	 conn_drain_all(struct daemon *);
void	 conn_limits_changed(struct daemon *);
const struct peer *conn_peer(const struct conn *);
uint64_t conn_serial(const struct conn *);
struct conn *conn_find(struct daemon *, uint64_t serial);
size_t	 conn_output_pending(const struct conn *);
struct daemon *conn_daemon(const struct conn *);
void	 conn_set_stream(struct conn *, void *, void (*)(void *));
void	*conn_stream(const struct conn *);

/* store.c: the journal and retention */
int	 store_open(struct daemon *, char **err);
void	 store_resume(struct daemon *);
long	 store_gc(struct daemon *, int64_t before_us, char **err);
void	 store_start_gc(struct daemon *);
void	 store_runner_config(struct daemon *, struct runner_config *);
void	 store_close(struct daemon *);
int	 store_verify(const char *state_dir);

/* sdnotify.c: systemd's socket activation and sd_notify */
int	 sdnotify_new(struct daemon *, char **err);
int	 sdnotify_take_listen_fd(struct daemon *);
bool	 sdnotify_activated(const struct daemon *);
void	 sdnotify_ready(struct daemon *);
void	 sdnotify_parent_ready(pid_t);
void	 sdnotify_stopping(struct daemon *);
void	 sdnotify_reloading(struct daemon *);
void	 sdnotify_reloaded(struct daemon *);
void	 sdnotify_free(struct daemon *);

/* dispatch.c */
void	 dispatch(struct conn *, const struct node *req);
bool	 dispatch_may_see(const struct peer *, const struct execution *);
void	 dispatch_reply(struct conn *, struct node *reply);
struct execution *dispatch_execution(struct conn *, const struct node *req,
	    int64_t id);
int	 dispatch_optional(struct conn *, const struct node *req, int64_t id,
	    const char *key, enum node_type, const char *what);

/* submit.c */
void	 submit_op(struct conn *, const struct node *req, int64_t id);
void	 submit_retry(struct conn *, const struct node *req, int64_t id);
void	 submit_count_unfinished(struct daemon *);
void	 submit_final_cb(struct result *, void *);

/* registry.c: the registered pipelines */
struct registry *registry_load(const char *dir, struct defcache *,
	    uid_t self);
void	 registry_free(struct registry *);
ssize_t	 registry_index(const struct registry *, const char *name);
const struct registry_entry *registry_find(const struct registry *,
	    const char *name);
char	*registry_summary(const struct registry *);
void	 registry_reload(struct daemon *, char **msg);

/* pipelines.c: registered pipelines over the protocol */
void	 pipelines_op(struct conn *, const struct node *req, int64_t id);
const struct registry_entry *pipelines_submit_entry(struct conn *,
	    const struct node *req, int64_t id);
int	 pipelines_check_user(struct conn *, int64_t id, const char *pipeline,
	    const char *user);
char	*pipelines_invalid_message(const struct registry_entry *);

/* stream.c: watch and logs */
void	 stream_watch(struct conn *, int64_t id, struct execution *filter);
void	 stream_logs(struct conn *, int64_t id, struct result *, bool follow);
void	 stream_change_cb(struct result *, void *arg);
void	 stream_forget(struct execution *);

#endif
