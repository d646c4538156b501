/*
 * The service manager's side of the daemon: a listening socket passed by
 * systemd (socket activation) and the notifications of sd_notify(3):
 * READY=1 once the journal is replayed and the socket listens, STATUS=
 * with the running and queued counts, STOPPING=1, RELOADING=1.
 *
 * Without NOTIFY_SOCKET every notification is a no-op, and without
 * LISTEN_FDS the daemon makes its own socket: nothing changes outside
 * systemd.  STATUS= follows the reporter's changes, at most once a second,
 * so a burst of thousands of task changes costs one datagram.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "reporter.h"
#include "runner.h"
#include "xmalloc.h"

#define SDNOTIFY_STATUS_EVERY_MS	1000	/* STATUS= at most this often */

struct sdnotify {
	struct daemon	*d;
	bool		 notify;	/* NOTIFY_SOCKET is set */
	int		 listen_fd;	/* passed by systemd, until taken */
	bool		 activated;	/* the daemon listens on it */
	bool		 watching;	/* our reporter sink is installed */
	bool		 stopping;
	struct event	*timer;
	int64_t		 last_ms;	/* when STATUS= last went, monotonic */
	char		 last[128];	/* what it said */
	bool		 warned;
};

/* Milliseconds on the monotonic clock. */
static int64_t
sdnotify_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send one notification; a failure is worth one warning, not more. */
static void
sdnotify_send(struct sdnotify *sn, const char *msg)
{
	int	rc;

	if (!sn->notify)
		return;
	if ((rc = sd_notify(0, msg)) < 0 && !sn->warned) {
		sn->warned = true;
		log_warnx("telling systemd \"%.*s\": %s",
		    (int)strcspn(msg, "\n"), msg, strerror(-rc));
	}
}

/* The STATUS= text: what runs and what waits, across every runner. */
static void
sdnotify_status_text(struct sdnotify *sn, char *buf, size_t len)
{
	struct runner	*run;
	unsigned	 running = 0, queued = 0, rn, qn;
	size_t		 i;

	for (i = 0; i < runner_count(); i++) {
		run = runner_at(i);
		rn = qn = 0;
		run->ops->stats(run->state, &rn, &qn);
		running += rn;
		queued += qn;
	}
	snprintf(buf, len, "%s%u running, %u queued",
	    sn->stopping ? "stopping: " : "", running, queued);
}

/* Send STATUS= now if it says something new. */
static void
sdnotify_status_now(struct sdnotify *sn, const char *prefix)
{
	char	text[sizeof sn->last], msg[sizeof sn->last + 64];

	sdnotify_status_text(sn, text, sizeof text);
	sn->last_ms = sdnotify_now_ms();
	if (prefix == NULL && strcmp(text, sn->last) == 0)
		return;
	strlcpy(sn->last, text, sizeof sn->last);
	snprintf(msg, sizeof msg, "%sSTATUS=%s", prefix != NULL ? prefix : "",
	    text);
	sdnotify_send(sn, msg);
}

/* The rate limit's timer: the counts as they are now. */
static void
sdnotify_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	sdnotify_status_now(arg, NULL);
}

/* Any change may move the counts: look again, at most once a second. */
static void
sdnotify_change_cb(struct result *r, void *arg)
{
	struct sdnotify	*sn = arg;
	struct timeval	 tv;
	int64_t		 wait;

	if (sn->timer == NULL || evtimer_pending(sn->timer, NULL))
		return;
	wait = sn->last_ms + SDNOTIFY_STATUS_EVERY_MS - sdnotify_now_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(sn->timer, &tv);
}

/*
 * Take what systemd passed (before any fork: LISTEN_PID names this
 * process).  Exactly one listening Unix stream socket is accepted.
 */
int
sdnotify_new(struct daemon *d, char **err)
{
	struct sdnotify	*sn;
	int		 n, fd, flags;

	sn = xcalloc(1, sizeof *sn);
	sn->d = d;
	sn->listen_fd = -1;
	sn->notify = getenv("NOTIFY_SOCKET") != NULL;
	d->sd = sn;
	/* Unset LISTEN_*: nothing started from here may take them too. */
	if ((n = sd_listen_fds(1)) < 0) {
		*err = xprintf("reading the sockets passed by systemd "
		    "(LISTEN_FDS): %s", strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		*err = xprintf("systemd passed %d file descriptors; pipelined "
		    "takes exactly one, a listening Unix stream socket (one "
		    "ListenStream= in pipelined.socket)", n);
		return -1;
	}
	fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		*err = xprintf("the file descriptor systemd passed (%d) is not "
		    "a listening Unix stream socket; pipelined.socket wants "
		    "ListenStream=/path", fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		*err = xprintf("the socket passed by systemd: %s",
		    strerror(errno));
		return -1;
	}
	sn->listen_fd = fd;
	return 0;
}

/* The socket systemd passed, now the caller's; -1 when there is none. */
int
sdnotify_take_listen_fd(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;
	int		 fd;

	if (sn == NULL || sn->listen_fd == -1)
		return -1;
	fd = sn->listen_fd;
	sn->listen_fd = -1;
	sn->activated = true;
	return fd;
}

/* The daemon listens on a socket systemd owns: it must not unlink it. */
bool
sdnotify_activated(const struct daemon *d)
{
	return d->sd != NULL && d->sd->activated;
}

/*
 * The journal is replayed and the socket listens.  In the foreground this
 * process is the service's main process and says READY=1 itself; a
 * detaching daemon leaves that to its parent (sdnotify_parent_ready),
 * which systemd still knows as the main process until told otherwise.
 */
void
sdnotify_ready(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;
	struct timeval	 tv = { SDNOTIFY_STATUS_EVERY_MS / 1000, 0 };

	if (sn == NULL || !sn->notify)
		return;
	if (sn->timer == NULL)
		sn->timer = evtimer_new(d->base, sdnotify_timer_cb, sn);
	if (!sn->watching) {
		reporter_add_sink(d->rep, sdnotify_change_cb, NULL, sn);
		sn->watching = true;
	}
	if (d->opts.foreground)
		sdnotify_status_now(sn, "READY=1\n");
	else {
		/* Our first STATUS= once the parent has named us MAINPID. */
		sn->last_ms = sdnotify_now_ms();
		evtimer_add(sn->timer, &tv);
	}
}

/*
 * The parent of a detaching daemon, once the child is ready: READY=1 and
 * the child as the new main process, sent by the process systemd started
 * (NotifyAccess=main accepts nothing else), before it exits.
 */
void
sdnotify_parent_ready(pid_t child)
{
	char	msg[64];
	int	rc;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	snprintf(msg, sizeof msg, "READY=1\nMAINPID=%ld", (long)child);
	if ((rc = sd_notify(0, msg)) < 0)
		log_warnx("telling systemd READY=1: %s", strerror(-rc));
}

/* A stop begins (SIGTERM/SIGINT). */
void
sdnotify_stopping(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;

	if (sn == NULL || !sn->notify)
		return;
	sn->stopping = true;
	sdnotify_status_now(sn, "STOPPING=1\n");
}

/* A reload begins (SIGHUP); sdnotify_reloaded says when it is over. */
void
sdnotify_reloading(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;
	struct timespec	 ts;
	char		 msg[96];

	if (sn == NULL || !sn->notify)
		return;
	/* MONOTONIC_USEC lets newer systemd tell this reload from others. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	sdnotify_send(sn, msg);
}

/* The reload is over: ready again. */
void
sdnotify_reloaded(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;

	if (sn == NULL || !sn->notify || sn->stopping)
		return;
	sdnotify_status_now(sn, "READY=1\n");
}

/* Undo sdnotify_new (and what sdnotify_ready added). */
void
sdnotify_free(struct daemon *d)
{
	struct sdnotify	*sn = d->sd;

	if (sn == NULL)
		return;
	if (sn->watching)
		reporter_remove_sink(d->rep, sdnotify_change_cb, sn);
	if (sn->timer != NULL)
		event_free(sn->timer);
	if (sn->listen_fd != -1)
		close(sn->listen_fd);
	free(sn);
	d->sd = NULL;
}
