/*
 * The control socket: creating it safely, refusing to start beside a live
 * daemon, and accepting clients with their credentials.
 *
 * Credentials come from SO_PEERCRED, once, at accept, into a struct that
 * starts as "nobody" (uid/gid -1): if they cannot be read the client is
 * refused, never taken for root.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "node.h"
#include "proto.h"
#include "xmalloc.h"

#define CONTROL_BACKLOG		128	/* at least; see control_listen */
#define CONTROL_PAUSE_MS	100	/* accept pause when out of fds */
#define CONTROL_GROUP		"pipelined"	/* may connect to root's socket */

/*
 * Descriptors clients may never take: the daemon's own (journal, socket,
 * event loop, runners, the pool of empty task cgroups) and those of each
 * running task (pidfd, output and exec-error pipes, cgroup, log, and more
 * while it starts).
 */
#define CONTROL_FD_OWN		64
#define CONTROL_FD_PER_TASK	8
#define CONTROL_FD_PER_CLIENT	2	/* its socket, a log it follows */
#define CONTROL_MIN_CLIENTS	16	/* whatever the limit says */

/* Fill a sockaddr_un; -1 when the path does not fit. */
static int
control_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof sun->sun_path) >=
	    sizeof sun->sun_path)
		return -1;
	return 0;
}

/*
 * An existing socket file: if a daemon answers there, refuse to start;
 * if nobody does, it is stale and goes.
 */
static int
control_check_stale(const char *path, char **err)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		*err = xprintf("%s exists and is not a socket", path);
		return -1;
	}
	control_addr(path, &sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*err = xprintf("socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	if (rc == 0) {
		*err = xprintf("another pipelined is already listening on %s",
		    path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		*err = xprintf("checking %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removing stale socket %s", path);
	if (unlink(path) == -1) {
		*err = xprintf("removing stale socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The user name of uid, or its number. */
const char *
daemon_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		strlcpy(buf, pw->pw_name, len);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

static void
control_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon	*d = arg;

	if (!d->stopping)
		event_add(d->accept_ev, NULL);
}

/*
 * Whether the peer is in group gid: its groups at connect time
 * (SO_PEERGROUPS).  Anything unreadable answers no.
 */
static bool
control_in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t		 few[64], *groups = few;
	socklen_t	 len = sizeof few;
	size_t		 i;
	bool		 in = false;
	int		 rc;

	if (gid == (gid_t)-1)
		return false;
	if (cred->gid == gid)
		return true;
	rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (rc == -1 && errno == ERANGE) {
		/* len now says how much it takes. */
		groups = xmalloc(len);
		rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	}
	if (rc == -1) {
		log_warn("SO_PEERGROUPS of uid %u: not taken as an "
		    "administrator", (unsigned)cred->uid);
		len = 0;
	}
	for (i = 0; i < len / sizeof groups[0]; i++)
		if (groups[i] == gid)
			in = true;
	if (groups != few)
		free(groups);
	return in;
}

/*
 * How many clients may be connected: max_connections, but no more than
 * RLIMIT_NOFILE has room for once running tasks have what they need, so
 * that clients (idle ones, say) can never make a task fail to start for
 * want of a descriptor.  Read at each accept: the limit may change.
 */
static unsigned
control_max_clients(const struct daemon *d)
{
	struct rlimit	rl;
	rlim_t		keep, room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return d->opts.max_connections;
	keep = CONTROL_FD_OWN +
	    CONTROL_FD_PER_TASK * (rlim_t)d->opts.max_parallel;
	room = rl.rlim_cur > keep ?
	    (rl.rlim_cur - keep) / CONTROL_FD_PER_CLIENT : 0;
	if (room < CONTROL_MIN_CLIENTS)
		room = CONTROL_MIN_CLIENTS;
	return room < d->opts.max_connections ? (unsigned)room :
	    d->opts.max_connections;
}

/* Refuse a client politely: one error frame, then close. */
static void
control_refuse(int fd, const char *code, const char *msg)
{
	struct node	*reply;
	struct buf	 b;

	reply = proto_reply_error(0, code, "%s", msg);
	buf_init(&b);
	proto_encode(&b, reply);
	if (write(fd, b.data, b.len) == -1)
		log_debug("refusing a client: %s", strerror(errno));
	buf_release(&b);
	node_free(reply);
	close(fd);
}

static void
control_accept_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct daemon	*d = arg;
	struct ucred	 cred;
	struct peer	 peer;
	struct timeval	 tv = { 0, CONTROL_PAUSE_MS * 1000 };
	socklen_t	 len = sizeof cred;
	char		 name[64];
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/*
			 * Out of fds: pause instead of spinning on the fd,
			 * and say so once, not at every retry.
			 */
			if (!d->accept_full)
				log_warn("accept: not accepting clients until "
				    "descriptors free up");
			d->accept_full = true;
			event_del(d->accept_ev);
			evtimer_add(d->accept_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (d->accept_full) {
		d->accept_full = false;
		log_info("accepting clients again");
	}
	memset(&peer, 0, sizeof peer);
	peer.uid = (uid_t)-1;
	peer.gid = (gid_t)-1;
	cred.uid = (uid_t)-1;
	cred.gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof cred || cred.uid == (uid_t)-1) {
		log_warn("SO_PEERCRED; refusing the client");
		close(fd);
		return;
	}
	if (d->stopping) {
		control_refuse(fd, "unavailable", "pipelined is stopping");
		return;
	}
	if (d->nconns >= control_max_clients(d)) {
		control_refuse(fd, "limit", "too many connections");
		return;
	}
	peer.uid = cred.uid;
	peer.gid = cred.gid;
	peer.pid = cred.pid;
	peer.user = (char *)daemon_user_name(cred.uid, name, sizeof name);
	/*
	 * Root, the daemon's own user and members of admin_group (as the
	 * client process was when it connected) see and control everything.
	 */
	peer.admin = cred.uid == 0 || cred.uid == geteuid() ||
	    control_in_group(fd, &cred, d->admin_gid);
	conn_new(d, fd, &peer);
}

/* Start accepting on fd, the socket at path. */
static void
control_accept_on(struct daemon *d, int fd, const char *path)
{
	unsigned	max = control_max_clients(d);

	d->listen_fd = fd;
	d->accept_ev = event_new(d->base, fd, EV_READ | EV_PERSIST,
	    control_accept_cb, d);
	d->accept_pause = evtimer_new(d->base, control_resume_cb, d);
	event_add(d->accept_ev, NULL);
	log_info("listening on %s", path);
	if (max < d->opts.max_connections)
		log_info("at most %u client connections (not max_connections "
		    "%u): RLIMIT_NOFILE keeps descriptors for %u running "
		    "tasks", max, d->opts.max_connections,
		    d->opts.max_parallel);
}

/*
 * The socket systemd passed (pipelined.socket): it made the file, with
 * the mode and group the unit says, and it owns it.  Its path replaces
 * --socket, so that status tells where clients really connect.
 */
static void
control_adopt(struct daemon *d, int fd)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof sun;

	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0') {
		sun.sun_path[sizeof sun.sun_path - 1] = '\0';
		free(d->opts.socket);
		d->opts.socket = xstrdup(sun.sun_path);
	}
	log_info("using the socket passed by systemd");
	control_accept_on(d, fd, d->opts.socket);
}

/*
 * Root's socket belongs to group "pipelined" when there is one: its members
 * may connect, as to the socket systemd makes.  Without that group (or if
 * the change fails) it stays root's, and only root can.
 */
static void
control_socket_group(const char *path)
{
	struct group	*gr;

	if (geteuid() != 0 || (gr = getgrnam(CONTROL_GROUP)) == NULL)
		return;
	/* Not following a link: whatever replaced our file keeps its group. */
	if (lchown(path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("giving %s to group %s", path, CONTROL_GROUP);
}

/* Create the socket (and its directory) and start accepting. */
int
control_listen(struct daemon *d, char **err)
{
	struct sockaddr_un	 sun;
	const char		*path = d->opts.socket;
	char			*dir, *tmp;
	mode_t			 old;
	int			 fd, backlog;

	if ((fd = sdnotify_take_listen_fd(d)) != -1) {
		control_adopt(d, fd);
		return 0;
	}
	if (control_addr(path, &sun) == -1) {
		*err = xprintf("socket path %s is too long", path);
		return -1;
	}
	tmp = xstrdup(path);
	dir = dirname(tmp);
	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) == -1 && errno != EEXIST) {
		*err = xprintf("creating %s: %s", dir, strerror(errno));
		free(tmp);
		return -1;
	}
	free(tmp);
	if (control_check_stale(path, err) == -1) {
		if (*err == NULL)
			*err = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*err = xprintf("socket: %s", strerror(errno));
		return -1;
	}
	/* The mode is set at bind: never a moment with wider permissions. */
	old = umask(geteuid() == 0 ? 0117 : 0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		*err = xprintf("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	control_socket_group(path);
	/*
	 * Room in the queue for as many clients as may be connected at once:
	 * a burst of them connecting while the loop is busy must wait there,
	 * not fail (EAGAIN) for non-blocking connects.  The kernel caps it
	 * at net.core.somaxconn.
	 */
	backlog = d->opts.max_connections > CONTROL_BACKLOG ?
	    (int)d->opts.max_connections : CONTROL_BACKLOG;
	if (listen(fd, backlog) == -1) {
		*err = xprintf("listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	control_accept_on(d, fd, path);
	return 0;
}

/*
 * Stop accepting and remove the socket file, unless systemd passed it:
 * its file stays, and clients that connect meanwhile wait in its queue
 * for the next daemon.
 */
void
control_close(struct daemon *d)
{
	if (d->listen_fd == -1)
		return;
	event_free(d->accept_ev);
	event_free(d->accept_pause);
	d->accept_ev = d->accept_pause = NULL;
	close(d->listen_fd);
	d->listen_fd = -1;
	if (sdnotify_activated(d))
		return;
	if (unlink(d->opts.socket) == -1 && errno != ENOENT)
		log_warn("removing %s", d->opts.socket);
}
