/*
 * cgroup v2 subtrees for tasks: finding a root we may write in, one child
 * cgroup per task process tree, signalling, usage figures, removal.
 *
 * A task's cgroup is what lets cancel reach grandchildren that left the
 * process group (setsid, daemonising shells): cgroup.kill (kernel 5.14)
 * kills everything in it atomically, so a root without it is refused.
 * Controllers are enabled where the parent offers them (memory gives
 * memory.peak); cpu.stat exists without any, so CPU figures always work.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cgroup.h"
#include "log.h"
#include "xmalloc.h"

/* How long cgroup_destroy waits for the killed processes to go. */
#define CGROUP_EMPTY_WAIT_MS	1000
#define CGROUP_EMPTY_POLL_MS	10
/* Passes over cgroup.procs, to catch processes forked meanwhile. */
#define CGROUP_SIGNAL_ROUNDS	4
/* Empty task cgroups kept for reuse (two descriptors each). */
#define CGROUP_POOL_MAX		8

/* A task cgroup of the pool (see cgroup_get). */
struct cgroup {
	struct cgroup_root	*root;
	char			 name[32];
	int			 fd;		/* the directory */
	int			 peak_fd;	/* memory.peak, or -1 */
	bool			 peak_ok;	/* peak_fd counts this use only */
	bool			 killed;	/* cgroup.kill was written */
	bool			 single_use;	/* its memory.peak cannot be reset */
	int64_t			 base_user;	/* cpu.stat when taken */
	int64_t			 base_system;
	int64_t			 base_peak;	/* bytes, when taken */
	struct cgroup		*next;		/* in the pool */
};

struct cgroup_root {
	char		*path;
	int		 fd;
	struct cgroup	*pool;
	unsigned	 npool;
	uint64_t	 serial;	/* names new task cgroups */
};

/* Read a small interface file whole into buf (NUL-terminated). */
static ssize_t
cgroup_read(int dirfd, const char *name, char *buf, size_t len)
{
	ssize_t	n;
	size_t	got = 0;
	int	fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1) {
				close(fd);
				return -1;
			}
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

/* Read an interface file of any size (cgroup.procs) into b. */
static int
cgroup_read_buf(int dirfd, const char *name, struct buf *b)
{
	ssize_t	n;
	int	fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		buf_reserve(b, 4096);
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	close(fd);
	return n == -1 ? -1 : 0;
}

/* Write a string to an interface file in one write, as cgroupfs wants. */
static int
cgroup_write(int dirfd, const char *name, const char *s)
{
	ssize_t	n;
	size_t	len = strlen(s);
	int	fd, saved;

	if ((fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = write(fd, s, len);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

/* The value of "key N" in a flat-keyed file such as cpu.stat; -1 if absent. */
static int64_t
cgroup_key(const char *text, const char *key)
{
	size_t		 klen = strlen(key);
	const char	*p = text;
	char		*end;
	long long	 v;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			errno = 0;
			v = strtoll(p + klen + 1, &end, 10);
			if (errno != 0 || end == p + klen + 1 || v < 0)
				return -1;
			return v;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
cgroup_unescape(char *s)
{
	char	*w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* Where the unified hierarchy is mounted, and the cgroup path it shows. */
static int
cgroup_find_mount(char **mnt, char **mroot)
{
	FILE	*f;
	char	*line = NULL, *sep, *field[5], *p;
	size_t	 sz = 0;
	int	 i, found = 0;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (!found && getline(&line, &sz, f) != -1) {
		/* "id parent maj:min root mountpoint opts [tags] - fstype ..." */
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = '\0';
		p = line;
		for (i = 0; i < 5; i++)
			field[i] = strsep(&p, " ");
		if (field[4] == NULL)
			continue;
		cgroup_unescape(field[3]);
		cgroup_unescape(field[4]);
		*mroot = xstrdup(field[3]);
		*mnt = xstrdup(field[4]);
		found = 1;
	}
	free(line);
	(void)fclose(f);		/* read only: nothing to lose */
	return found ? 0 : -1;
}

/* Our own cgroup on the unified hierarchy: the "0::/path" line. */
static char *
cgroup_own_path(void)
{
	FILE	*f;
	char	*line = NULL, *path = NULL;
	size_t	 sz = 0;
	ssize_t	 n;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return NULL;
	while (path == NULL && (n = getline(&line, &sz, f)) != -1) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		path = xstrdup(line + 3);
	}
	free(line);
	(void)fclose(f);		/* read only: nothing to lose */
	return path;
}

/*
 * Offer the children of dirfd the controllers it has that we care about.
 * Best effort: without them tasks still get a cgroup, just fewer figures.
 */
static int
cgroup_enable(int dirfd)
{
	static const char *const want[] = { "cpu", "memory", "pids" };
	char		 have[512], *tok, *p;
	struct buf	 b;
	size_t		 i;
	int		 rc = 0;

	if (cgroup_read(dirfd, "cgroup.controllers", have, sizeof have) == -1)
		return -1;
	buf_init(&b);
	for (p = have; (tok = strsep(&p, " \n")) != NULL;) {
		for (i = 0; i < sizeof want / sizeof want[0]; i++)
			if (strcmp(tok, want[i]) == 0)
				buf_addf(&b, "%s+%s", b.len ? " " : "", tok);
	}
	if (b.len > 0)
		rc = cgroup_write(dirfd, "cgroup.subtree_control", b.data);
	buf_release(&b);
	return rc;
}

/*
 * In our own delegated cgroup, enable controllers for the task subtree.
 * A cgroup with processes may not hand controllers to its children (the
 * "no internal processes" rule), so when that is refused, the daemon moves
 * itself into a leaf "daemon" beside "tasks" and tries again.
 */
static void
cgroup_delegated_setup(int ownfd)
{
	if (cgroup_enable(ownfd) == 0 || errno != EBUSY)
		return;
	if ((mkdirat(ownfd, "daemon", 0755) == -1 && errno != EEXIST)) {
		log_debug("cgroup: mkdir daemon: %s", strerror(errno));
		return;
	}
	if (cgroup_write(ownfd, "daemon/cgroup.procs", "0") == -1) {
		log_debug("cgroup: moving into daemon: %s", strerror(errno));
		return;
	}
	if (cgroup_enable(ownfd) == -1)
		log_debug("cgroup: enabling controllers: %s", strerror(errno));
}

/* Open dir as a root: on cgroup2, with cgroup.kill. */
static struct cgroup_root *
cgroup_root_at(const char *dir)
{
	struct cgroup_root	*r;
	struct statfs		 sfs;
	int			 fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		log_debug("cgroup: mkdir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_debug("cgroup: %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (fstatfs(fd, &sfs) == -1 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		log_debug("cgroup: %s is not on cgroup2", dir);
		close(fd);
		return NULL;
	}
	/* The root cgroup has no cgroup.kill; any other one has on 5.14+. */
	if (faccessat(fd, "cgroup.kill", F_OK, 0) == -1) {
		log_debug("cgroup: %s: no cgroup.kill (kernel < 5.14?)", dir);
		close(fd);
		return NULL;
	}
	if (cgroup_enable(fd) == -1)
		log_debug("cgroup: %s: no controllers for tasks: %s", dir,
		    strerror(errno));
	r = xcalloc(1, sizeof *r);
	r->path = xstrdup(dir);
	r->fd = fd;
	return r;
}

static int	cgroup_remove(struct cgroup_root *, int, const char *);

/*
 * Kill and remove what a crashed earlier daemon of the same instance left:
 * its tasks must not outlive it unsupervised.
 */
static void
cgroup_root_clean(struct cgroup_root *r)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, fd;

	if ((dfd = dup(r->fd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((fd = openat(r->fd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			continue;
		log_warnx("cgroup: %s/%s was left by an earlier run; killing "
		    "what runs in it", r->path, de->d_name);
		(void)cgroup_remove(r, fd, de->d_name);
		close(fd);
	}
	closedir(d);
}

/* Find or make the task root (see cgroup.h for the choice). */
struct cgroup_root *
cgroup_root_open(const char *want_path, const char *instance)
{
	struct cgroup_root	*r = NULL;
	struct stat		 st;
	char			*mnt = NULL, *mroot = NULL, *own = NULL;
	char			*dir = NULL, *rootdir = NULL, *sub;
	size_t			 rlen;
	int			 ownfd;

	if (want_path != NULL)
		return cgroup_root_at(want_path);
	if (cgroup_find_mount(&mnt, &mroot) == -1) {
		log_debug("cgroup: no cgroup2 mount");
		goto out;
	}
	if ((own = cgroup_own_path()) == NULL) {
		log_debug("cgroup: not on the unified hierarchy");
		goto out;
	}
	/* A mount of a subtree (containers) shows paths below its root. */
	rlen = strcmp(mroot, "/") == 0 ? 0 : strlen(mroot);
	if (rlen > 0 && (strncmp(own, mroot, rlen) != 0 ||
	    (own[rlen] != '/' && own[rlen] != '\0'))) {
		log_debug("cgroup: %s is outside the mount of %s", own, mroot);
		goto out;
	}
	sub = own + rlen;
	xasprintf(&dir, "%s%s", mnt, strcmp(sub, "/") == 0 ? "" : sub);
	if (stat(dir, &st) == -1) {
		log_debug("cgroup: %s: %s", dir, strerror(errno));
		goto out;
	}
	if (access(dir, W_OK) == 0 && (getenv("INVOCATION_ID") != NULL ||
	    (st.st_uid == getuid() && getuid() != 0))) {
		/* Delegated: "tasks" beside us, in our own cgroup. */
		if ((ownfd = open(dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) != -1) {
			cgroup_delegated_setup(ownfd);
			close(ownfd);
		}
		xasprintf(&rootdir, "%s/tasks", dir);
	} else if (geteuid() == 0)
		xasprintf(&rootdir, "%s/pipelined", dir);
	else
		log_debug("cgroup: %s is not delegated to us", dir);
	if (rootdir != NULL && instance != NULL) {
		/* One subtree per daemon: daemons must not share (or remove) it. */
		if ((r = cgroup_root_at(rootdir)) != NULL) {
			close(r->fd);
			free(r->path);
			free(r);
			r = NULL;
			sub = rootdir;
			xasprintf(&rootdir, "%s/%s", sub, instance);
			free(sub);
		} else {
			free(rootdir);
			rootdir = NULL;
		}
	}
	if (rootdir != NULL && (r = cgroup_root_at(rootdir)) != NULL)
		cgroup_root_clean(r);
out:
	free(rootdir);
	free(dir);
	free(own);
	free(mroot);
	free(mnt);
	return r;
}

static void	cgroup_free(struct cgroup *);

/* Close the root, removing its directory if nothing is left in it. */
void
cgroup_root_close(struct cgroup_root *r)
{
	struct cgroup	*cg;

	if (r == NULL)
		return;
	while ((cg = r->pool) != NULL) {
		r->pool = cg->next;
		(void)cgroup_remove(r, cg->fd, cg->name);
		cgroup_free(cg);
	}
	close(r->fd);
	if (rmdir(r->path) == -1 && errno != EBUSY && errno != ENOTEMPTY)
		log_debug("cgroup: rmdir %s: %s", r->path, strerror(errno));
	free(r->path);
	free(r);
}

/* The root's directory, for messages. */
const char *
cgroup_root_path(const struct cgroup_root *r)
{
	return r->path;
}

/* Whether name is a plain, safe directory name. */
static bool
cgroup_valid_name(const char *name)
{
	const char	*p;

	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 200)
		return false;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return false;
	}
	return true;
}

/* Sleep a few milliseconds (only short waits, see cgroup_destroy). */
static void
cgroup_sleep_ms(long ms)
{
	struct timespec	ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Wait until the cgroup is empty; false if it is not after ms. */
static bool
cgroup_wait_empty(int dirfd, long ms)
{
	long	waited;

	for (waited = 0; cgroup_populated(dirfd); waited += CGROUP_EMPTY_POLL_MS) {
		if (waited >= ms)
			return false;
		cgroup_sleep_ms(CGROUP_EMPTY_POLL_MS);
	}
	return true;
}

/* Kill whatever is in root/name and remove it. */
static int
cgroup_remove(struct cgroup_root *r, int dirfd, const char *name)
{
	if (cgroup_populated(dirfd)) {
		if (cgroup_signal(dirfd, SIGKILL) == -1)
			log_warn("cgroup: killing %s/%s", r->path, name);
		if (!cgroup_wait_empty(dirfd, CGROUP_EMPTY_WAIT_MS))
			log_warnx("cgroup: %s/%s still populated", r->path,
			    name);
	}
	if (unlinkat(r->fd, name, AT_REMOVEDIR) == -1) {
		log_warn("cgroup: rmdir %s/%s", r->path, name);
		return -1;
	}
	return 0;
}

/* Create root/name, clearing one left by a crashed run. */
int
cgroup_create(struct cgroup_root *r, const char *name)
{
	int	fd, tries;

	if (!cgroup_valid_name(name)) {
		log_warnx("cgroup: bad name \"%s\"", name);
		return -1;
	}
	for (tries = 0; mkdirat(r->fd, name, 0755) == -1; tries++) {
		if (errno != EEXIST || tries > 0) {
			log_warn("cgroup: mkdir %s/%s", r->path, name);
			return -1;
		}
		log_warnx("cgroup: %s/%s left over, clearing it", r->path,
		    name);
		if ((fd = openat(r->fd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			log_warn("cgroup: %s/%s", r->path, name);
			return -1;
		}
		(void)cgroup_remove(r, fd, name);
		close(fd);
	}
	if ((fd = openat(r->fd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		log_warn("cgroup: %s/%s", r->path, name);
		(void)unlinkat(r->fd, name, AT_REMOVEDIR);
		return -1;
	}
	return fd;
}

/* Whether pid is among the n already signalled. */
static bool
cgroup_seen(const pid_t *pids, size_t n, pid_t pid)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/*
 * Signal every process in the cgroup.  SIGKILL goes through cgroup.kill,
 * which the kernel applies atomically, forks included.  Other signals go
 * pid by pid from cgroup.procs, re-read until a pass finds no one new, so
 * a child forked meanwhile is not missed and no one is signalled twice.
 */
int
cgroup_signal(int dirfd, int sig)
{
	struct buf	 b;
	pid_t		*done = NULL, pid;
	size_t		 ndone = 0, cap = 0;
	char		*p, *end;
	long		 v;
	int		 round, fresh, rc = 0;

	if (sig == SIGKILL)
		return cgroup_write(dirfd, "cgroup.kill", "1");
	buf_init(&b);
	for (round = 0; round < CGROUP_SIGNAL_ROUNDS; round++) {
		buf_reset(&b);
		if (cgroup_read_buf(dirfd, "cgroup.procs", &b) == -1) {
			rc = -1;
			break;
		}
		fresh = 0;
		for (p = b.data; p != NULL && *p != '\0'; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			pid = (pid_t)v;
			if (v <= 0 || cgroup_seen(done, ndone, pid))
				continue;
			if (ndone == cap) {
				cap = cap ? cap * 2 : 16;
				done = xreallocarray(done, cap, sizeof *done);
			}
			done[ndone++] = pid;
			fresh = 1;
			if (kill(pid, sig) == -1 && errno != ESRCH)
				rc = -1;
		}
		if (!fresh)
			break;
	}
	free(done);
	buf_release(&b);
	return rc;
}

/* "populated" of cgroup.events: 1, 0, or -1 when it cannot be read. */
static int64_t
cgroup_events_populated(int dirfd)
{
	char	text[256];

	if (cgroup_read(dirfd, "cgroup.events", text, sizeof text) == -1)
		return -1;
	return cgroup_key(text, "populated");
}

/* Whether any process is left in the cgroup (or below it). */
bool
cgroup_populated(int dirfd)
{
	return cgroup_events_populated(dirfd) > 0;
}

/* user_usec and system_usec from cpu.stat. */
static int
cgroup_cpu(int dirfd, int64_t *user_us, int64_t *system_us)
{
	char	text[1024];

	if (cgroup_read(dirfd, "cpu.stat", text, sizeof text) == -1)
		return -1;
	if ((*user_us = cgroup_key(text, "user_usec")) < 0 ||
	    (*system_us = cgroup_key(text, "system_usec")) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A plain number of bytes (memory.peak), or -1. */
static int64_t
cgroup_bytes(const char *text)
{
	long long	v;

	errno = 0;
	v = strtoll(text, NULL, 10);
	return errno == 0 && v >= 0 ? v : -1;
}

/* CPU times from cpu.stat; peak memory from memory.peak, or -1 without. */
int
cgroup_usage(int dirfd, int64_t *user_us, int64_t *system_us,
    int64_t *peak_kib)
{
	char	text[64];
	int64_t	peak;

	*peak_kib = -1;
	if (cgroup_cpu(dirfd, user_us, system_us) == -1)
		return -1;
	/* Only with the memory controller. */
	if (cgroup_read(dirfd, "memory.peak", text, sizeof text) > 0 &&
	    (peak = cgroup_bytes(text)) >= 0)
		*peak_kib = peak / 1024;
	return 0;
}

/* Kill what is left, remove the cgroup, close dirfd. */
void
cgroup_destroy(struct cgroup_root *r, int dirfd, const char *name)
{
	if (dirfd == -1)
		return;
	(void)cgroup_remove(r, dirfd, name);
	close(dirfd);
}

/*
 * The pool.  A task cgroup whose processes are all gone is as good as a
 * new one but for its counters, so it is kept and used again instead of a
 * rmdir and a mkdir per task (the dearest calls of a task's start and end).
 * Usage then counts from the moment it is taken: CPU as a difference of
 * cpu.stat, the memory peak through a descriptor of memory.peak reset at
 * that moment (kernel 6.12: the reset holds for that descriptor only),
 * less what the cgroup held then (the page cache of earlier tasks).  Where
 * memory.peak cannot be reset, cgroups are not reused.
 *
 * A cgroup that cgroup.kill was written to is never used again: on Linux
 * 6.18 every child that CLONE_INTO_CGROUP places in it later is killed at
 * birth.  So a task cgroup is only killed when something is left in it.
 */

/* The number memory.peak shows through fd, or -1. */
static int64_t
cgroup_peak_at(int fd)
{
	char	text[64];
	ssize_t	n;

	do
		n = pread(fd, text, sizeof text - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return cgroup_bytes(text);
}

/* Close a task cgroup's descriptors and free it (not its directory). */
static void
cgroup_free(struct cgroup *cg)
{
	if (cg->peak_fd != -1)
		close(cg->peak_fd);
	close(cg->fd);
	free(cg);
}

/* Take cg from the pool: count from now.  False if it is unusable. */
static bool
cgroup_reuse(struct cgroup *cg)
{
	if (cgroup_cpu(cg->fd, &cg->base_user, &cg->base_system) == -1)
		return false;	/* removed behind our back, or worse */
	cg->peak_ok = cg->peak_fd != -1 && write(cg->peak_fd, "0", 1) == 1 &&
	    (cg->base_peak = cgroup_peak_at(cg->peak_fd)) >= 0;
	return true;
}

/* An empty cgroup for one task, from the pool or new (see cgroup.h). */
struct cgroup *
cgroup_get(struct cgroup_root *r)
{
	struct cgroup	*cg;

	while ((cg = r->pool) != NULL) {
		r->pool = cg->next;
		r->npool--;
		cg->next = NULL;
		if (cgroup_reuse(cg))
			return cg;
		log_warn("cgroup: %s/%s", r->path, cg->name);
		(void)unlinkat(r->fd, cg->name, AT_REMOVEDIR);
		cgroup_free(cg);
	}
	cg = xcalloc(1, sizeof *cg);
	cg->root = r;
	snprintf(cg->name, sizeof cg->name, "task-%" PRIu64, ++r->serial);
	if ((cg->fd = cgroup_create(r, cg->name)) == -1) {
		free(cg);
		return NULL;
	}
	/*
	 * A memory.peak that cannot be reset (before 6.12) would count
	 * earlier tasks in later ones' figures: such a cgroup serves once.
	 */
	if ((cg->peak_fd = openat(cg->fd, "memory.peak", O_RDWR |
	    O_CLOEXEC)) != -1)
		cg->single_use = write(cg->peak_fd, "0", 1) != 1;
	else if ((cg->peak_fd = openat(cg->fd, "memory.peak", O_RDONLY |
	    O_CLOEXEC)) != -1)
		cg->single_use = true;
	/* New: every counter starts at zero. */
	cg->peak_ok = cg->peak_fd != -1;
	return cg;
}

/* The directory, for spawning into. */
int
cgroup_fd(const struct cgroup *cg)
{
	return cg->fd;
}

/* Whether nothing runs in the cgroup: false when that cannot be read. */
static bool
cgroup_empty(int dirfd)
{
	return cgroup_events_populated(dirfd) == 0;
}

/* Signal what runs in a task cgroup (see cgroup.h). */
int
cgroup_task_signal(struct cgroup *cg, int sig)
{
	if (sig == SIGKILL) {
		/* Only we can put anything in it: empty stays empty. */
		if (cgroup_empty(cg->fd))
			return 0;
		cg->killed = true;
	}
	return cgroup_signal(cg->fd, sig);
}

/* Usage since cgroup_get (see cgroup.h). */
int
cgroup_task_usage(const struct cgroup *cg, int64_t *user_us,
    int64_t *system_us, int64_t *peak_kib)
{
	int64_t	u, s, peak;

	*peak_kib = -1;
	if (cgroup_cpu(cg->fd, &u, &s) == -1)
		return -1;
	*user_us = u > cg->base_user ? u - cg->base_user : 0;
	*system_us = s > cg->base_system ? s - cg->base_system : 0;
	if (cg->peak_ok && (peak = cgroup_peak_at(cg->peak_fd)) >= 0)
		*peak_kib = (peak > cg->base_peak ? peak - cg->base_peak : 0) /
		    1024;
	return 0;
}

/* Done with a task's cgroup (see cgroup.h). */
void
cgroup_put(struct cgroup *cg)
{
	struct cgroup_root	*r;

	if (cg == NULL)
		return;
	r = cg->root;
	if (!cg->killed && !cg->single_use && r->npool < CGROUP_POOL_MAX &&
	    cgroup_empty(cg->fd)) {
		cg->next = r->pool;
		r->pool = cg;
		r->npool++;
		return;
	}
	(void)cgroup_remove(r, cg->fd, cg->name);
	cgroup_free(cg);
}
