/*
 * The Celery runner (celery.so): each task result that may run is sent as
 * one Celery task (pipelined.run_task, message protocol v2, JSON) through
 * a Redis broker to stock Celery workers running contrib/celery's module;
 * the daemon keeps the graph, so the four rules hold across hosts.
 *
 * The plugin is split by role:
 *   celery.c    the runner: configuration, executions, the launch pump
 *   ctask.c     one Celery task's life: send, results, failures, liveness
 *   ctask_stop.c  stopping one: LREM while queued, else revoke
 *   broker.c    the two Redis connections: commands, and the one pattern
 *               subscription for results and worker events; reconnects
 *   envelope.c  the wire format: messages, revokes, result documents
 *   fleet.c     worker liveness from heartbeats
 *   cutil.c     allocation, time, base64, UUIDs, URL and duration parsing
 *
 * Like every plugin it uses the daemon only through the host table of
 * <pipelined/runner.h>, plus its own libraries (hiredis, libevent,
 * jansson).
 */
#ifndef CELERY_H
#define CELERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <event2/util.h>

#include <pipelined/runner.h>

struct broker;
struct fleet;

/* Where the broker is (redis://[[user]:password@]host[:port][/db]). */
struct broker_url {
	char		*host;
	int		 port;
	int		 db;
	char		*user;		/* NULL: none */
	char		*password;	/* NULL: none */
	char		*display;	/* the URL without credentials */
};

struct celery_config {
	struct broker_url	 url;
	char			*default_queue;
	int64_t			 worker_timeout_ms;
	int64_t			 broker_timeout_ms;
	int64_t			 result_batch_ms;
};

/* Where one Celery task is. */
enum ctask_state {
	CT_RECORDING,	/* its RUNNING record is being made durable */
	CT_UNSENT,	/* waiting for the broker */
	CT_SENT,	/* pushed to its queue; no worker said it started */
	CT_STARTED,	/* a worker runs it */
	CT_DONE,	/* reported; waiting to be freed */
};

/* One attempt of a task result, as a Celery task. */
struct ctask {
	struct celery		*c;
	struct cexec		*ce;
	struct task_result	*tr;
	char			 id[37];	/* the Celery task id, a UUID */
	char			 tag[37];	/* the message's delivery tag */
	char			*queue;
	char			*msg;		/* the exact bytes pushed */
	size_t			 msglen;
	char			*error;		/* could not even be sent */
	char			*program;	/* argv[0], for exec failures */
	char			*cwd;
	unsigned		 attempt;
	int64_t			 timeout_ms;
	int64_t			 kill_grace_ms;
	enum ctask_state	 state;
	bool			 stopping;	/* asked to stop: CANCELLED */
	bool			 revoked;	/* a revoke went out */
	bool			 checking;	/* a lost-or-not check is out */
	int			 suspect;	/* checks that found no trace */
	char			*worker;	/* from STARTED */
	long long		 pool_pid;	/* its pool process there */
	unsigned		 worker_epoch;
	bool			 noted;		/* its worker was said */
	int64_t			 since_ms;	/* entered its state */
	struct event		*timer;		/* stop grace, deferred end */
	RB_ENTRY(ctask)		 by_id;
	RB_ENTRY(ctask)		 by_tr;
	TAILQ_ENTRY(ctask)	 entry;
};
RB_HEAD(ctask_ids, ctask);
RB_HEAD(ctask_trs, ctask);
TAILQ_HEAD(ctasks, ctask);

/* A task result waiting to be sent. */
struct citem {
	struct task_result	*tr;
	int64_t			 since_ms;
	TAILQ_ENTRY(citem)	 entry;
};
TAILQ_HEAD(citems, citem);

/* An execution this runner walks. */
struct cexec {
	struct celery		*c;
	struct execution	*e;
	struct citems		 queue;
	unsigned		 queued;
	unsigned		 running;
	unsigned		 limit;		/* its max_parallel; 0: none */
	TAILQ_ENTRY(cexec)	 entry;
};
TAILQ_HEAD(cexecs, cexec);

/* Per-queue counts, for the configured queue limits. */
struct cqueue {
	char			*name;
	unsigned		 running;
	TAILQ_ENTRY(cqueue)	 entry;
};
TAILQ_HEAD(cqueues, cqueue);

/* A result document waiting for the next batch (celery.c). */
struct cresult {
	char			 id[37];
	char			*doc;
	size_t			 len;
	TAILQ_ENTRY(cresult)	 entry;
};
TAILQ_HEAD(cresults, cresult);

/* A task given up on while the broker was away: revoke it once back. */
struct corphan {
	char			 id[37];
	char			*queue;
	char			*msg;
	size_t			 msglen;
	TAILQ_ENTRY(corphan)	 entry;
};
TAILQ_HEAD(corphans, corphan);

struct celery {
	const struct pipelined_host	*host;
	struct celery_config		 cfg;
	struct broker			*br;
	struct fleet			*fleet;
	struct walk_ops			 ops;
	struct cexecs			 execs;
	struct cqueues			 queues;
	struct ctask_ids		 ids;
	struct ctask_trs		 trs;
	struct ctasks			 tasks;		/* attempts in flight */
	struct corphans			 orphans;
	struct cresults			 results;	/* for the next batch */
	struct event			*batch;
	int64_t				 batch_ms;	/* the last one */
	unsigned			 running;
	unsigned			 queued;
	char				 origin[128];	/* pid@host */
	struct event			*pump;
	struct event			*retry;
	struct event			*tick;
	bool				 closing;
};

/* Result documents (envelope.c). */
enum meta_status {
	META_OTHER,		/* PENDING, RECEIVED, RETRY...: nothing to do */
	META_STARTED,
	META_SUCCESS,
	META_FAILURE,
	META_REVOKED,
};

struct meta {
	enum meta_status	 status;
	char			*worker;	/* STARTED: the worker's name */
	long long		 pool_pid;	/* STARTED: its pool process */
	struct outcome		 o;		/* SUCCESS, FAILURE */
	char			*error;		/* o.error's storage */
	char			*exec_step;	/* o.exec_step's storage */
	char			*output;	/* SUCCESS: the output tail */
	size_t			 outlen;
	long long		 dropped;	/* bytes of output not kept */
	char			*why;		/* REVOKED: "terminated", ... */
};

/* celery.c */
void		 celery_broker_up(struct celery *);
void		 celery_result(struct celery *, const char *id, const char *,
		    size_t);
void		 celery_event(struct celery *, const char *chan, const char *,
		    size_t);
void		 celery_kick(struct celery *);
void		 celery_arm_tick(struct celery *);
void		 celery_task_ended(struct celery *, struct ctask *);
struct cqueue	*celery_queue(struct celery *, const char *);

/* ctask.c, ctask_stop.c */
RB_PROTOTYPE(ctask_ids, ctask, by_id, ctask_id_cmp)
RB_PROTOTYPE(ctask_trs, ctask, by_tr, ctask_tr_cmp)
struct ctask	*ctask_new(struct celery *, struct cexec *,
		    struct task_result *, unsigned attempt);
void		 ctask_free(struct ctask *);
struct ctask	*ctask_find(struct celery *, const char *id);
struct ctask	*ctask_of(struct celery *, struct task_result *);
void		 ctask_recorded(struct ctask *, bool ok);
void		 ctask_send(struct ctask *);
void		 ctask_stop(struct ctask *);
void		 ctask_unqueue(struct ctask *);
void		 ctask_end_stopped(struct ctask *, const char *how);
void		 ctask_orphan(struct ctask *);
int		 ctask_publish_revoke(struct celery *, const char *id,
		    const char *worker);
void		 ctask_timer_cb(evutil_socket_t, short, void *);
void		 ctask_meta(struct ctask *, const char *, size_t);
void		 ctask_fail(struct ctask *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 ctask_resync(struct ctask *);
void		 ctask_tick(struct ctask *, int64_t now_ms);
void		 ctask_orphans_flush(struct celery *);

/* broker.c */
typedef void (*broker_cb)(struct celery *, const char *arg,
		    long long integer, const char *str, size_t len, bool err);
struct broker	*broker_new(struct celery *);
void		 broker_free(struct broker *);
bool		 broker_ready(const struct broker *);
void		 broker_poke(struct broker *);
int64_t		 broker_down_since(const struct broker *);
const char	*broker_error(const struct broker *);
int		 broker_command(struct broker *, broker_cb,
		    const char *arg, int argc, const char **argv,
		    const size_t *argvlen);

/* envelope.c */
char		*envelope_task(struct celery *, struct ctask *,
		    const struct taskspec *, size_t *len, char **err);
char		*envelope_revoke(struct celery *, const char *id,
		    const char *worker, size_t *len);
int		 envelope_meta(struct meta *, const char *, size_t, char **err);
void		 envelope_meta_clear(struct meta *);
int		 envelope_event(const char *, size_t, char **worker,
		    long long *pid);

/* fleet.c */
struct fleet	*fleet_new(void);
void		 fleet_free(struct fleet *);
void		 fleet_event(struct fleet *, const char *type,
		    const char *worker, long long pid, int64_t now_ms);
unsigned	 fleet_seen(struct fleet *, const char *worker, int64_t now_ms);
const char	*fleet_lost(struct fleet *, const char *worker, unsigned epoch,
		    int64_t now_ms, int64_t timeout_ms, char *buf, size_t len);
void		 fleet_forgive(struct fleet *, int64_t now_ms);

/* cutil.c */
void		*cx_malloc(size_t);
void		*cx_calloc(size_t, size_t);
void		*cx_reallocarray(void *, size_t, size_t);
char		*cx_strdup(const char *);
char		*cx_strndup(const char *, size_t);
char		*cx_printf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
int64_t		 cx_now_ms(void);
int64_t		 cx_wall_us(void);
void		 cx_uuid4(char out[37]);
char		*cx_base64_encode(const void *, size_t);
char		*cx_base64_decode(const char *, size_t, size_t *outlen);
int		 cx_duration(const char *, int64_t *ms);
const char	*cx_format_ms(int64_t ms, char *buf, size_t len);
int		 cx_url_parse(const char *, struct broker_url *, char **err);
void		 cx_url_clear(struct broker_url *);
void		 cx_set_log(const struct pipelined_host *);
void		 cx_log(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
