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
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
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
	    "usage: pipelined [--foreground] [--config FILE] [--socket PATH]\n"
	    "                 [--state-dir DIR] [--runner NAME]\n"
	    "                 [--max-parallel N] [--queue NAME=N]...\n"
	    "                 [--log-level LEVEL] [--SETTING VALUE]...\n"
	    "                 [--runner-option NAME.KEY=VALUE]...\n"
	    "       pipelined --verify [--state-dir DIR]\n"
	    "       pipelined --help | --version\n"
	    "\n"
	    "Run pipelines submitted with pipectl over a Unix socket.\n"
	    "\n"
	    "  -c, --config FILE    the configuration file (default: as root\n"
	    "                       " PL_SYSCONFDIR "/pipelined/pipelined.conf;\n"
	    "                       otherwise $XDG_CONFIG_HOME/pipelined/\n"
	    "                       pipelined.conf); options given here win\n"
	    "  -f, --foreground     stay in the foreground, log to stderr\n"
	    "                       (without it: detach once the socket listens)\n"
	    "  -s, --socket PATH    the socket (default: as root\n"
	    "                       /run/pipelined/pipelined.sock, mode 0660;\n"
	    "                       otherwise $XDG_RUNTIME_DIR/pipelined.sock, 0600)\n"
	    "  -d, --state-dir DIR  history and output logs (default: as root\n"
	    "                       /var/lib/pipelined; otherwise\n"
	    "                       $XDG_STATE_HOME/pipelined)\n"
	    "  -r, --runner NAME    the default runner: local (parallel, the\n"
	    "                       default), eager (one task at a time) or a\n"
	    "                       plugin's\n"
	    "  -j, --max-parallel N task results running at once, daemon-wide\n"
	    "                       (default: the number of CPUs)\n"
	    "  -q, --queue NAME=N   at most N running task results of queue NAME\n"
	    "  -l, --log-level L    debug, info (default), warning or error\n"
	    "      --journal-sync M batch (default: one write per event loop\n"
	    "                       turn; an fdatasync covers all written before\n"
	    "                       it), always (one per record) or off (never)\n"
	    "      --retention-days N  finished executions older than this go\n"
	    "                       (default 30; checked hourly and by pipectl gc)\n"
	    "      --max-executions N  keep at most N executions (default: no\n"
	    "                       limit); the oldest finished ones go first\n"
	    "      --admin-group G  members of group G see and control every\n"
	    "                       execution (as root and the daemon's user do)\n"
	    "      --pipelines-dir DIR  registered pipelines, *.yaml (default: as\n"
	    "                       root " PL_SYSCONFDIR "/pipelined/pipelines.d)\n"
	    "      --runner-dir DIR runner plugins NAME.so (default\n"
	    "                       " PL_RUNNER_DIR ")\n"
	    "      --runner-option NAME.KEY=VALUE  a setting for runner NAME,\n"
	    "                       as KEY in the file's [NAME] section\n"
	    "      --max-frame SIZE largest request accepted (default 16M)\n"
	    "      --max-pending-per-user N  unfinished executions one user may\n"
	    "                       have (default %d)\n"
	    "      --max-connections N  open client connections (default %d)\n"
	    "      --verify         read the journal of the state directory\n"
	    "                       without changing it, report what it holds\n"
	    "                       and any damage; exit 1 when damaged\n"
	    "\n"
	    "Every --SETTING is also a line \"SETTING = VALUE\" of the file, with\n"
	    "'_' for '-'; [queue NAME] sections hold max_parallel; any other\n"
	    "[NAME] section holds the settings of runner NAME.\n"
	    "\n"
	    "Signals: SIGTERM and SIGINT stop it (running tasks are cancelled:\n"
	    "SIGTERM, then SIGKILL after their kill_grace); SIGHUP reloads the\n"
	    "file and the registered pipelines (socket, state_dir, journal_sync,\n"
	    "runner_dir and runner settings need a restart).\n"
	    "\n"
	    "Exit status: 0 stopped in order; 1 failed to start; 2 usage or\n"
	    "configuration error; 100 another pipelined holds the state\n"
	    "directory.\n", OPTIONS_MAX_PENDING, OPTIONS_MAX_CONNECTIONS);
}

/*
 * The command line.  Options that are settings go through options_set,
 * under the name the configuration file uses (--max-parallel is
 * max_parallel), so both take the same values.
 */
static int
daemon_parse(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "runner", required_argument, NULL, 'r' },
		{ "max-parallel", required_argument, NULL, 'j' },
		{ "queue", required_argument, NULL, 'q' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "runner-option", required_argument, NULL, 'O' },
		{ "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* Settings known by their long name only. */
		{ "max-frame", required_argument, NULL, 0 },
		{ "journal-sync", required_argument, NULL, 0 },
		{ "retention-days", required_argument, NULL, 0 },
		{ "max-executions", required_argument, NULL, 0 },
		{ "max-pending-per-user", required_argument, NULL, 0 },
		{ "max-connections", required_argument, NULL, 0 },
		{ "admin-group", required_argument, NULL, 0 },
		{ "pipelines-dir", required_argument, NULL, 0 },
		{ "runner-dir", required_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	const char	*key, *dot, *eq;
	char		*name, *why, *p;
	int		 ch, idx, rc;

	optind = 0;	/* from the start, also when reading it again */
	while ((ch = getopt_long(argc, argv, "c:fs:d:r:j:q:l:hV", longopts,
	    &idx)) != -1) {
		switch (ch) {
		case 'c':
			free(o->config);
			o->config = xstrdup(optarg);
			continue;
		case 'f':
			o->foreground = true;
			continue;
		case 'v':
			o->verify = true;
			continue;
		case 'q':
			if ((eq = strchr(optarg, '=')) == NULL) {
				fprintf(stderr, "pipelined: --queue wants "
				    "NAME=N\n");
				return -1;
			}
			name = xstrndup(optarg, (size_t)(eq - optarg));
			rc = options_set_queue(o, name, eq + 1, &why);
			free(name);
			if (rc == -1) {
				fprintf(stderr, "pipelined: --queue %s\n", why);
				free(why);
				return -1;
			}
			continue;
		case 'O':
			dot = strchr(optarg, '.');
			eq = strchr(optarg, '=');
			if (dot == NULL || eq == NULL || dot > eq ||
			    dot == optarg || eq == dot + 1) {
				fprintf(stderr, "pipelined: --runner-option "
				    "wants NAME.KEY=VALUE\n");
				return -1;
			}
			name = xstrndup(optarg, (size_t)(eq - optarg));
			name[dot - optarg] = '\0';
			options_add_runner_option(o, name,
			    name + (dot - optarg) + 1, eq + 1, NULL, 0);
			free(name);
			continue;
		case 'h':
			daemon_usage(stdout);
			exit(0);
		case 'V':
			printf("pipelined %s\n", PACKAGE_VERSION);
			exit(0);
		case 's':
		case 'd':
		case 'r':
		case 'j':
		case 'l':
			for (idx = 0; longopts[idx].val != ch; idx++)
				;
			/* FALLTHROUGH */
		case 0:
			break;
		default:
			daemon_usage(stderr);
			return -1;
		}
		/* --state-dir is state_dir, as in the configuration file. */
		key = longopts[idx].name;
		name = xstrdup(key);
		for (p = name; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		rc = options_set(o, name, optarg, &why);
		free(name);
		if (rc == -1) {
			fprintf(stderr, "pipelined: --%s %s\n", key, why);
			free(why);
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

/* The configuration file to read: --config, or the default one. */
static char *
daemon_config_path(const struct options *cli, bool *must_exist)
{
	*must_exist = cli->config != NULL;
	if (cli->config != NULL)
		return xstrdup(cli->config);
	if (geteuid() == 0)
		return xstrdup(PL_SYSCONFDIR "/pipelined/pipelined.conf");
	return options_user_config("pipelined.conf");
}

/*
 * All the settings: the file, then the command line over it, then the
 * defaults.  -1 with *errs set (to free) naming every error.
 */
static int
daemon_settings(struct options *o, int argc, char **argv, char **errs)
{
	struct options	 cli;
	char		*path;
	bool		 must;

	*errs = NULL;
	memset(&cli, 0, sizeof cli);
	memset(o, 0, sizeof *o);
	if (daemon_parse(&cli, argc, argv) == -1) {
		options_free(&cli);
		return -1;
	}
	path = daemon_config_path(&cli, &must);
	options_free(&cli);
	if (conffile_read(path, must, o, errs) == -1 ||
	    daemon_parse(o, argc, argv) == -1) {
		free(path);
		options_free(o);
		return -1;
	}
	free(o->config);
	o->config = path;	/* the file read, given or default */
	options_defaults(o);
	return 0;
}

/* A runner's setting: the file's [NAME] section or --runner-option. */
static const char *
daemon_runner_option(const char *runner, const char *key)
{
	return options_runner_option(&daemon_g->opts, runner, key);
}

/* The limit of a queue ([queue NAME] or --queue), 0 for none. */
static unsigned
daemon_queue_limit(const char *name)
{
	return options_queue_limit(&daemon_g->opts, name);
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

/* Every [NAME] section and --runner-option must name a loaded runner. */
static int
daemon_check_runners(const struct options *o, char **err)
{
	const struct runner_option	*ro;
	size_t				 i;

	if (runner_find(o->runner) == NULL) {
		*err = xprintf("unknown runner '%s' (built in: local, eager; "
		    "plugins come from %s)", o->runner, o->runner_dir);
		return -1;
	}
	for (i = 0; i < o->nrunner_options; i++) {
		ro = &o->runner_options[i];
		if (runner_find(ro->runner) == NULL) {
			*err = xprintf("%s: [%s]: no runner named '%s' (none "
			    "built in, none in %s)", ro->where, ro->runner,
			    ro->runner, o->runner_dir);
			return -1;
		}
	}
	return 0;
}

/* Which group's members are administrators, (gid_t)-1 for none. */
static void
daemon_set_admin_group(struct daemon *d)
{
	struct group	*gr;

	d->admin_gid = (gid_t)-1;
	if (d->opts.admin_group == NULL)
		return;
	if ((gr = getgrnam(d->opts.admin_group)) == NULL) {
		/* Checked when read; gone since: nobody gets in by it. */
		log_warnx("admin_group %s: no such group; only root and the "
		    "daemon's user are administrators", d->opts.admin_group);
		return;
	}
	d->admin_gid = gr->gr_gid;
}

static bool
daemon_same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
daemon_same_runner_options(const struct options *a, const struct options *b)
{
	size_t	i;

	if (a->nrunner_options != b->nrunner_options)
		return false;
	for (i = 0; i < a->nrunner_options; i++)
		if (strcmp(a->runner_options[i].runner,
		    b->runner_options[i].runner) != 0 ||
		    strcmp(a->runner_options[i].key,
		    b->runner_options[i].key) != 0 ||
		    strcmp(a->runner_options[i].value,
		    b->runner_options[i].value) != 0)
			return false;
	return true;
}

/*
 * A setting only a restart changes: the fresh settings keep the old
 * string itself (others hold pointers to it) and the new one is freed
 * with the old settings; name it when it differs.
 */
static void
daemon_keep(struct buf *restart, const char *key, char **fresh, char **old)
{
	char	*t;

	if (!daemon_same_str(*fresh, *old))
		buf_addf(restart, "%s%s", restart->len ? ", " : "", key);
	t = *fresh;
	*fresh = *old;
	*old = t;
}

/*
 * SIGHUP and the reload op: read the configuration file and the command
 * line again; apply what can change while running, keep (and name) what
 * needs a restart.  *msg says what happened (to free; also logged); -1
 * when nothing changed because the settings are wrong.
 */
int
daemon_reload(struct daemon *d, char **msg)
{
	struct options		 n;
	struct buf		 restart, out;
	struct runner_option	*ro;
	enum log_level		 lvl;
	size_t			 nro;
	char			*err = NULL, *p;

	if (daemon_settings(&n, d->argc, d->argv, &err) == -1 ||
	    daemon_check_runners(&n, &err) == -1) {
		/* One line: the file's errors, separated by "; ". */
		buf_init(&out);
		buf_adds(&out, "reload failed, nothing changed: ");
		for (p = err; p != NULL && *p != '\0'; p++) {
			if (*p != '\n')
				buf_addc(&out, *p);
			else if (p[1] != '\0')
				buf_adds(&out, "; ");
		}
		if (err == NULL)
			buf_adds(&out, "bad command line");
		*msg = buf_detach(&out);
		log_warnx("%s", *msg);
		free(err);
		options_free(&n);
		return -1;
	}
	buf_init(&restart);
	/* These are bound at start: the socket, the journal, the plugins. */
	daemon_keep(&restart, "socket", &n.socket, &d->opts.socket);
	daemon_keep(&restart, "state_dir", &n.state_dir, &d->opts.state_dir);
	daemon_keep(&restart, "runner_dir", &n.runner_dir,
	    &d->opts.runner_dir);
	if (n.journal_sync != d->opts.journal_sync) {
		buf_addf(&restart, "%sjournal_sync", restart.len ? ", " : "");
		n.journal_sync = d->opts.journal_sync;
	}
	if (!daemon_same_runner_options(&n, &d->opts)) {
		buf_addf(&restart, "%srunner settings", restart.len ? ", " :
		    "");
		ro = n.runner_options;
		nro = n.nrunner_options;
		n.runner_options = d->opts.runner_options;
		n.nrunner_options = d->opts.nrunner_options;
		d->opts.runner_options = ro;
		d->opts.nrunner_options = nro;
	}
	n.foreground = d->opts.foreground;
	options_free(&d->opts);
	d->opts = n;
	if (log_level_from_name(d->opts.log_level != NULL ?
	    d->opts.log_level : "info", &lvl) == 0)
		log_set_level(lvl);
	daemon_set_admin_group(d);
	runner_reconfigure(d->opts.max_parallel);
	conn_limits_changed(d);
	registry_reload(d, &p);
	buf_init(&out);
	buf_addf(&out, "reloaded %s: max_parallel %u, %zu queue limit%s, "
	    "runner %s; %s", d->opts.config, d->opts.max_parallel,
	    d->opts.nqueues, d->opts.nqueues == 1 ? "" : "s", d->opts.runner, p);
	free(p);
	if (restart.len > 0)
		buf_addf(&out, "; changed but kept until a restart: %s",
		    restart.data);
	buf_release(&restart);
	log_info("%s", out.data);
	*msg = buf_detach(&out);
	return 0;
}

static void
daemon_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct daemon	*d = arg;
	char		*msg;

	switch (sig) {
	case SIGTERM:
		daemon_stop(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(d, "SIGINT");
		break;
	case SIGHUP:
		sdnotify_reloading(d);
		daemon_reload(d, &msg);
		free(msg);
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

	while ((c = TAILQ_FIRST(&d->conns)) != NULL)
		conn_free(c);
	control_close(d);
	sdnotify_free(d);
	store_close(d);
	runner_shutdown();
	registry_free(d->reg);
	history_free(d->hist);
	reporter_free(d->rep);
	cgroup_root_close(d->cgroots);
	if (d->stop_timer != NULL)
		event_free(d->stop_timer);
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->sig_hup);
	event_base_free(d->base);
	options_free(&d->opts);
	free(d->users);
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
	d->argc = argc;
	d->argv = argv;
	if (daemon_settings(&d->opts, argc, argv, &err) == -1) {
		if (err != NULL)
			fprintf(stderr, "%s", err);
		free(err);
		return 2;
	}
	if (d->opts.verify)
		return store_verify(d->opts.state_dir);
	if (d->opts.log_level != NULL)
		log_level_from_name(d->opts.log_level, &lvl);
	log_init("pipelined", lvl, getenv("JOURNAL_STREAM") != NULL);
	if ((lang = getenv("LANG")) != NULL)
		d->lang = xstrdup(lang);
	(void)signal(SIGPIPE, SIG_IGN);	/* cannot fail for SIGPIPE */
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
	reporter_add_sink(d->rep, submit_final_cb, NULL, d);
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
	if (daemon_check_runners(&d->opts, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		return 2;
	}
	daemon_set_admin_group(d);
	registry_reload(d, &err);
	log_info("%s", err);
	free(err);
	submit_count_unfinished(d);
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
