/*
 * pipelined start-up and shutdown: options, the state directory, the
 * runners, the socket, signals, and the orderly stop on SIGTERM/SIGINT
 * (stop accepting, cancel what runs with "daemon stopping", wait for the
 * tasks to go, exit 0).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "daemon.h"
#include "history.h"
#include "log.h"
#include "plugin.h"
#include "reporter.h"
#include "result.h"
#include "runner.h"
#include "timefmt.h"
#include "xmalloc.h"

struct daemon	*daemon_g;

static void
daemon_usage(FILE *f)
{
	fprintf(f,
	    "usage: pipelined [--foreground] [--socket PATH] [--state-dir DIR]\n"
	    "                 [--runner NAME] [--max-parallel N]\n"
	    "                 [--queue NAME=N]... [--max-frame BYTES]\n"
	    "                 [--journal-sync MODE] [--retention-days N]\n"
	    "                 [--max-executions N] [--runner-dir DIR]\n"
	    "                 [--runner-option NAME.KEY=VALUE]...\n"
	    "                 [--log-level LEVEL]\n"
	    "       pipelined --verify [--state-dir DIR]\n"
	    "       pipelined --help | --version\n"
	    "\n"
	    "Run pipelines submitted with pipectl over a Unix socket.\n"
	    "\n"
	    "  -f, --foreground     stay in the foreground, log to stderr\n"
	    "                       (without it: detach once the socket listens)\n"
	    "  -s, --socket PATH    the socket (default: as root\n"
	    "                       /run/pipelined/pipelined.sock, mode 0660;\n"
	    "                       otherwise $XDG_RUNTIME_DIR/pipelined.sock, 0600)\n"
	    "  -d, --state-dir DIR  history and output logs (default: as root\n"
	    "                       /var/lib/pipelined; otherwise\n"
	    "                       $XDG_STATE_HOME/pipelined)\n"
	    "  -r, --runner NAME    the default runner: local (parallel, the\n"
	    "                       default) or eager (one task at a time)\n"
	    "  -j, --max-parallel N task results running at once, daemon-wide\n"
	    "                       (default: the number of CPUs)\n"
	    "  -q, --queue NAME=N   at most N running task results of queue NAME\n"
	    "      --max-frame N    largest request accepted, in bytes (default\n"
	    "                       16M)\n"
	    "      --journal-sync M batch (default: one fdatasync per event loop\n"
	    "                       turn for everything written in it), always\n"
	    "                       (one per record) or off (never)\n"
	    "      --retention-days N  finished executions older than this go\n"
	    "                       (default 30; checked hourly and by pipectl gc)\n"
	    "      --max-executions N  keep at most N executions (default: no\n"
	    "                       limit); the oldest finished ones go first\n"
	    "      --runner-dir DIR runner plugins NAME.so (default\n"
	    "                       " PL_RUNNER_DIR ")\n"
	    "      --runner-option NAME.KEY=VALUE  a setting for runner NAME\n"
	    "                       (e.g. celery.broker=redis://host:6379/0)\n"
	    "      --verify         read the journal of the state directory\n"
	    "                       without changing it, report what it holds\n"
	    "                       and any damage; exit 1 when damaged\n"
	    "  -l, --log-level L    debug, info (default), warning or error\n"
	    "\n"
	    "Signals: SIGTERM and SIGINT stop it (running tasks are cancelled:\n"
	    "SIGTERM, then SIGKILL after their kill_grace); SIGHUP reloads.\n"
	    "\n"
	    "Exit status: 0 stopped in order; 1 failed to start; 2 usage error;\n"
	    "100 another pipelined holds the state directory.\n");
}

/* Default socket and state directory for root and for other users. */
static void
daemon_defaults(struct options *o)
{
	const char	*xdg, *home;

	if (o->socket == NULL) {
		if (geteuid() == 0)
			o->socket = xstrdup("/run/pipelined/pipelined.sock");
		else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg)
			o->socket = xprintf("%s/pipelined.sock", xdg);
		else
			o->socket = xprintf("/tmp/pipelined-%u/pipelined.sock",
			    (unsigned)geteuid());
	}
	if (o->state_dir == NULL) {
		if (geteuid() == 0)
			o->state_dir = xstrdup("/var/lib/pipelined");
		else if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg)
			o->state_dir = xprintf("%s/pipelined", xdg);
		else if ((home = getenv("HOME")) != NULL && *home)
			o->state_dir = xprintf("%s/.local/state/pipelined",
			    home);
		else
			o->state_dir = xprintf("/tmp/pipelined-%u/state",
			    (unsigned)geteuid());
	}
	if (o->runner == NULL)
		o->runner = xstrdup("local");
	if (o->max_parallel == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->max_parallel = n > 0 ? (unsigned)n : 1;
	}
	if (o->max_frame == 0)
		o->max_frame = PROTO_MAX_FRAME;
	if (o->retention_days == 0)
		o->retention_days = 30;
	if (o->runner_dir == NULL)
		o->runner_dir = xstrdup(PL_RUNNER_DIR);
}

static int
daemon_parse_queue(struct options *o, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	char		*end;
	unsigned long	 n;

	if (eq == NULL || eq == arg)
		return -1;
	errno = 0;
	n = strtoul(eq + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 100000)
		return -1;
	o->queues = xreallocarray(o->queues, o->nqueues + 1,
	    sizeof *o->queues);
	o->queues[o->nqueues].name = xstrndup(arg, (size_t)(eq - arg));
	o->queues[o->nqueues].max = (unsigned)n;
	o->nqueues++;
	return 0;
}

static int
daemon_parse(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "runner", required_argument, NULL, 'r' },
		{ "max-parallel", required_argument, NULL, 'j' },
		{ "queue", required_argument, NULL, 'q' },
		{ "max-frame", required_argument, NULL, 'F' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "journal-sync", required_argument, NULL, 'J' },
		{ "retention-days", required_argument, NULL, 'R' },
		{ "max-executions", required_argument, NULL, 'M' },
		{ "verify", no_argument, NULL, 'v' },
		{ "runner-dir", required_argument, NULL, 'D' },
		{ "runner-option", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_level	 lvl;
	unsigned long	 n;
	char		*end;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "fs:d:r:j:q:l:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->foreground = true;
			break;
		case 's':
			free(o->socket);
			o->socket = xstrdup(optarg);
			break;
		case 'd':
			free(o->state_dir);
			o->state_dir = xstrdup(optarg);
			break;
		case 'r':
			free(o->runner);
			o->runner = xstrdup(optarg);
			break;
		case 'j':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n == 0 || n > 100000) {
				fprintf(stderr, "pipelined: --max-parallel must "
				    "be 1 to 100000\n");
				return -1;
			}
			o->max_parallel = (unsigned)n;
			break;
		case 'q':
			if (daemon_parse_queue(o, optarg) == -1) {
				fprintf(stderr, "pipelined: --queue wants "
				    "NAME=N with N from 1 to 100000\n");
				return -1;
			}
			break;
		case 'F':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1024 ||
			    n > 1024UL * 1024 * 1024) {
				fprintf(stderr, "pipelined: --max-frame must be "
				    "1024 to 1073741824\n");
				return -1;
			}
			o->max_frame = n;
			break;
		case 'J':
			if (journal_sync_from_name(optarg, &o->journal_sync) ==
			    -1) {
				fprintf(stderr, "pipelined: --journal-sync is "
				    "batch, always or off\n");
				return -1;
			}
			break;
		case 'R':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n == 0 || n > 36500) {
				fprintf(stderr, "pipelined: --retention-days "
				    "must be 1 to 36500\n");
				return -1;
			}
			o->retention_days = (unsigned)n;
			break;
		case 'M':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0') {
				fprintf(stderr, "pipelined: --max-executions "
				    "must be a number (0: no limit)\n");
				return -1;
			}
			o->max_executions = n;
			break;
		case 'v':
			o->verify = true;
			break;
		case 'D':
			free(o->runner_dir);
			o->runner_dir = xstrdup(optarg);
			break;
		case 'O':
			if (strchr(optarg, '.') == NULL ||
			    strchr(optarg, '=') == NULL ||
			    strchr(optarg, '.') > strchr(optarg, '=')) {
				fprintf(stderr, "pipelined: --runner-option "
				    "wants NAME.KEY=VALUE\n");
				return -1;
			}
			o->runner_options = xreallocarray(o->runner_options,
			    o->nrunner_options + 1, sizeof *o->runner_options);
			o->runner_options[o->nrunner_options++] =
			    xstrdup(optarg);
			break;
		case 'l':
			if (log_level_from_name(optarg, &lvl) == -1) {
				fprintf(stderr, "pipelined: unknown log level "
				    "'%s'\n", optarg);
				return -1;
			}
			free(o->log_level);
			o->log_level = xstrdup(optarg);
			break;
		case 'h':
			daemon_usage(stdout);
			exit(0);
		case 'V':
			printf("pipelined %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			daemon_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pipelined: unexpected argument '%s'\n",
		    argv[optind]);
		daemon_usage(stderr);
		return -1;
	}
	return 0;
}

/* A runner's setting from --runner-option NAME.KEY=VALUE, or NULL. */
static const char *
daemon_runner_option(const char *runner, const char *key)
{
	const char	*o, *eq;
	size_t		 i, rl = strlen(runner), kl = strlen(key);

	/* The last one given wins. */
	for (i = daemon_g->opts.nrunner_options; i-- > 0;) {
		o = daemon_g->opts.runner_options[i];
		eq = strchr(o, '=');
		if (strncmp(o, runner, rl) == 0 && o[rl] == '.' &&
		    (size_t)(eq - (o + rl + 1)) == kl &&
		    strncmp(o + rl + 1, key, kl) == 0)
			return eq + 1;
	}
	return NULL;
}

/* The limit of a queue from --queue, 0 for none. */
static unsigned
daemon_queue_limit(const char *name)
{
	size_t	i;

	for (i = 0; i < daemon_g->opts.nqueues; i++)
		if (strcmp(daemon_g->opts.queues[i].name, name) == 0)
			return daemon_g->opts.queues[i].max;
	return 0;
}

/* Make a directory and its missing parents, the last one with mode. */
static int
daemon_mkdirs(const char *path, mode_t mode)
{
	char	*p, *s = xstrdup(path);

	for (p = s + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(s, 0755) == -1 && errno != EEXIST) {
			free(s);
			return -1;
		}
		*p = '/';
	}
	free(s);
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return -1;
	return chmod(path, mode);
}

/*
 * A name for this daemon's cgroup subtree: a hash of its state directory,
 * the same across restarts (to find leftovers) and different for daemons
 * with different state.
 */
static const char *
daemon_instance(const char *state_dir)
{
	static char	 name[32];
	char		*real;
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const char	*p;

	if ((real = realpath(state_dir, NULL)) == NULL)
		real = xstrdup(state_dir);
	for (p = real; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	free(real);
	snprintf(name, sizeof name, "s%016llx", (unsigned long long)h);
	return name;
}

/*
 * Once the last execution is final during a stop, let every client have
 * what is queued for it (its last events), then leave the loop.
 */
void
daemon_check_stopped(struct daemon *d)
{
	size_t		 i;

	if (!d->stopping)
		return;
	for (i = 0; i < history_count(d->hist); i++)
		if (!result_is_final(&history_at(d->hist, i)->r))
			return;
	if (!d->draining) {
		struct timeval tv = { 5, 0 };

		/* A client that does not read gets 5 seconds, not forever. */
		d->draining = true;
		if (d->stop_timer != NULL)
			evtimer_add(d->stop_timer, &tv);
		conn_drain_all(d);
	}
	if (d->nconns == 0)
		event_base_loopexit(d->base, NULL);
}

static void
daemon_stop_sink_cb(struct result *r, void *arg)
{
	if (r->level == LEVEL_EXECUTION && result_is_final(r))
		daemon_check_stopped(arg);
}

static void
daemon_stop_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon	*d = arg;

	if (d->draining)
		log_warnx("clients not reading what is left for them; exiting");
	else
		log_warnx("tasks still running after the stop timeout; "
		    "exiting");
	event_base_loopexit(d->base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, cancel everything, exit when all went. */
static void
daemon_stop(struct daemon *d, const char *signame)
{
	struct execution	*e;
	struct runner		*run;
	struct timeval		 tv = { 60, 0 };
	size_t			 i;

	if (d->stopping)
		return;
	log_info("%s: stopping", signame);
	d->stopping = true;
	sdnotify_stopping(d);
	control_close(d);
	for (i = 0; i < history_count(d->hist); i++) {
		e = history_at(d->hist, i);
		if (result_is_final(&e->r))
			continue;
		if ((run = runner_find(e->runner)) != NULL)
			run->ops->cancel(run->state, &e->r, "daemon stopping");
	}
	/* kill_grace bounds every task; this bounds a misbehaving stop. */
	d->stop_timer = evtimer_new(d->base, daemon_stop_timeout_cb, d);
	evtimer_add(d->stop_timer, &tv);
	daemon_check_stopped(d);
}

static void
daemon_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct daemon	*d = arg;

	switch (sig) {
	case SIGTERM:
		daemon_stop(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(d, "SIGINT");
		break;
	case SIGHUP:
		sdnotify_reloading(d);
		/* Only command-line settings exist; nothing can change. */
		log_info("SIGHUP: reloaded (settings come from the command "
		    "line and are unchanged)");
		sdnotify_reloaded(d);
		break;
	}
}

/* Detach: the parent exits 0 once the child listens, 1 if it fails. */
static void
daemon_detach(struct daemon *d)
{
	int	fds[2], devnull;
	pid_t	pid;
	char	c;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(1);
		sdnotify_parent_ready(pid);
		_exit(0);
	}
	close(fds[0]);
	d->ready_fd = fds[1];
	if (setsid() == -1)
		fatal("setsid");
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
}

static void
daemon_ready(struct daemon *d)
{
	int	devnull;

	sdnotify_ready(d);
	if (d->ready_fd == -1)
		return;
	if (write(d->ready_fd, "1", 1) == -1)
		log_warn("telling the parent we are ready");
	close(d->ready_fd);
	d->ready_fd = -1;
	/* From now on nobody reads our stderr. */
	if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
}

static void
daemon_free(struct daemon *d)
{
	struct conn	*c;
	size_t		 i;

	while ((c = TAILQ_FIRST(&d->conns)) != NULL)
		conn_free(c);
	control_close(d);
	sdnotify_free(d);
	store_close(d);
	runner_shutdown();
	history_free(d->hist);
	reporter_free(d->rep);
	cgroup_root_close(d->cgroots);
	if (d->stop_timer != NULL)
		event_free(d->stop_timer);
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->sig_hup);
	event_base_free(d->base);
	for (i = 0; i < d->opts.nqueues; i++)
		free(d->opts.queues[i].name);
	free(d->opts.queues);
	free(d->opts.socket);
	free(d->opts.state_dir);
	free(d->opts.runner);
	free(d->opts.runner_dir);
	for (i = 0; i < d->opts.nrunner_options; i++)
		free(d->opts.runner_options[i]);
	free(d->opts.runner_options);
	free(d->opts.log_level);
	free(d->lang);
	free(d);
}

/* The daemon. */
int
daemon_main(int argc, char **argv)
{
	struct runner_config	 rc;
	struct daemon		*d;
	enum log_level		 lvl = LOG_LEVEL_INFO;
	char			*err = NULL;
	const char		*lang;
	int			 rc_open;

	d = xcalloc(1, sizeof *d);
	daemon_g = d;
	d->listen_fd = d->ready_fd = -1;
	TAILQ_INIT(&d->conns);
	log_init("pipelined", LOG_LEVEL_INFO, 0);
	if (daemon_parse(&d->opts, argc, argv) == -1)
		return 2;
	daemon_defaults(&d->opts);
	if (d->opts.verify)
		return store_verify(d->opts.state_dir);
	if (d->opts.log_level != NULL)
		log_level_from_name(d->opts.log_level, &lvl);
	log_init("pipelined", lvl, getenv("JOURNAL_STREAM") != NULL);
	if ((lang = getenv("LANG")) != NULL)
		d->lang = xstrdup(lang);
	signal(SIGPIPE, SIG_IGN);
	if (daemon_mkdirs(d->opts.state_dir, 0700) == -1) {
		log_warn("state directory %s", d->opts.state_dir);
		return 1;
	}
	/* Before detaching: LISTEN_PID names this process. */
	if (sdnotify_new(d, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		return 1;
	}
	if (!d->opts.foreground)
		daemon_detach(d);
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* Three levels: the journal's commit runs after everything else. */
	event_base_priority_init(d->base, 3);
	d->hist = history_new();
	d->rep = reporter_new();
	reporter_add_sink(d->rep, history_record_cb, history_items_cb, d->hist);
	reporter_add_sink(d->rep, stream_change_cb, NULL, d);
	reporter_add_sink(d->rep, daemon_stop_sink_cb, NULL, d);
	/* First, so that a second daemon on this state touches nothing. */
	if ((rc_open = store_open(d, &err)) != 0) {
		log_warnx("%s", err);
		free(err);
		return rc_open;
	}
	d->cgroots = cgroup_root_open(NULL, daemon_instance(d->opts.state_dir));
	if (d->cgroots != NULL)
		log_info("tasks get cgroups under %s",
		    cgroup_root_path(d->cgroots));
	else
		log_info("no writable cgroup v2 tree: tasks are contained by "
		    "process group only");
	memset(&rc, 0, sizeof rc);
	rc.base = d->base;
	rc.state_dir = d->opts.state_dir;
	rc.lang = d->lang;
	rc.max_parallel = d->opts.max_parallel;
	rc.queue_limit = daemon_queue_limit;
	rc.cgroots = d->cgroots;
	store_runner_config(d, &rc);
	rc.option = daemon_runner_option;
	runner_init(&rc);
	plugin_load_dir(d->opts.runner_dir);
	if (runner_find(d->opts.runner) == NULL) {
		log_warnx("unknown runner '%s' (built in: local, eager; plugins "
		    "come from %s)", d->opts.runner, d->opts.runner_dir);
		return 2;
	}
	store_resume(d);
	store_start_gc(d);
	d->sig_term = evsignal_new(d->base, SIGTERM, daemon_signal_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, daemon_signal_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, daemon_signal_cb, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	if (control_listen(d, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		return 1;
	}
	d->started_us = timefmt_now_us();
	log_info("pipelined %s ready: state in %s, runner %s, max_parallel %u",
	    PACKAGE_VERSION, d->opts.state_dir, d->opts.runner,
	    d->opts.max_parallel);
	daemon_ready(d);
	event_base_dispatch(d->base);
	log_info("stopped");
	daemon_free(d);
	daemon_g = NULL;
	return 0;
}
