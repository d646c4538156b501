/*
 * Unit tests for spawn (parent and child side) and cgroup: each test runs
 * real processes on a libevent loop and checks what they saw from the
 * inside (/proc/self/...), so a missing isolation step shows up as a
 * wrong line, not as a silent pass.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "capture.h"
#include "cgroup.h"
#include "log.h"
#include "spawn.h"

#define RUN_TIMEOUT_S	20

struct run {
	struct event_base	*base;
	struct spawn		*sp;
	struct spawn_exit	 ex;
	int			 nexit;
	struct capture		*cap;
	struct buf		 out;
	int			 neof;
	int			 want_eof;	/* captures to see end */
	int			 timed_out;
};

static char			 basedir[64], tmpdir[96], cgpath[600];
static char			*env_default[] = { "PATH=/usr/bin:/bin", "HOME=/",
				    NULL };
static struct cgroup_root	*cgroot;
static char			 last_log[256];

/* Keep the last log line, for tests that expect a warning. */
static void
log_cb(enum log_level level, const char *line, void *arg)
{
	strlcpy(last_log, line, sizeof last_log);
}

/*
 * One temporary directory and one cgroup root per run, made and removed
 * by the runner process: a failing test exits without its teardown, and
 * must not leave files, cgroups or processes behind.
 */
static void
suite_setup(void)
{
	FILE	*f;
	char	 line[1024], mnt[512] = "";

	log_set_hook(log_cb, NULL);
	strlcpy(basedir, "/tmp/pl-check-spawn-XXXXXX", sizeof basedir);
	ck_assert_ptr_nonnull(mkdtemp(basedir));
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, " - cgroup2 ") != NULL &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1)
			break;
		mnt[0] = '\0';
	}
	fclose(f);
	if (mnt[0] != '\0')
		snprintf(cgpath, sizeof cgpath, "%s/pipelined-test-%ld", mnt,
		    (long)getpid());
}

/* Kill and remove every test cgroup, then the files. */
static void
suite_teardown(void)
{
	struct cgroup_root	*root;
	struct dirent		*de;
	DIR			*d;
	char			 cmd[128];
	int			 fd;

	if (cgpath[0] != '\0' && access(cgpath, F_OK) == 0 &&
	    (root = cgroup_root_open(cgpath, NULL)) != NULL) {
		if ((d = opendir(cgpath)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (de->d_type != DT_DIR || de->d_name[0] == '.')
					continue;
				fd = openat(dirfd(d), de->d_name,
				    O_RDONLY | O_DIRECTORY);
				cgroup_destroy(root, fd, de->d_name);
			}
			closedir(d);
		}
		cgroup_root_close(root);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", basedir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", basedir);
}

/* A directory of the test's own under the run's. */
static void
setup(void)
{
	log_set_hook(log_cb, NULL);
	snprintf(tmpdir, sizeof tmpdir, "%s/XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* The test cgroup root, or NULL where cgroup v2 is not usable. */
static struct cgroup_root *
test_cgroot(void)
{
	if (cgpath[0] == '\0')
		return NULL;
	return cgroup_root_open(cgpath, NULL);
}

/* Keep how the process ended. */
static void
run_exit_cb(struct spawn *sp, const struct spawn_exit *ex, void *arg)
{
	struct run	*r = arg;

	r->ex = *ex;
	r->nexit++;
}

/* Count EOFs of the captures. */
static void
run_eof_cb(struct capture *c, void *arg)
{
	struct run	*r = arg;

	r->neof++;
}

/* The test took too long: stop the loop from waiting. */
static void
run_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;

	r->timed_out = 1;
}

/* A command with nothing set: inherit limits, /dev/null output. */
static void
cmd_init(struct spawn_cmd *c, char *const *argv)
{
	memset(c, 0, sizeof *c);
	c->argv = argv;
	c->envp = env_default;
	c->limits.memory = c->limits.cpu_time_ms = -1;
	c->limits.open_files = c->limits.processes = -1;
	c->out_fd = c->err_fd = c->cgroup_fd = -1;
}

/* Start cmd in cg (a task cgroup, or NULL), output captured into r->out. */
static void
run_start_cg(struct run *r, struct spawn_cmd *c, struct cgroup *cg)
{
	char	*err = NULL;
	int	 p[2];

	memset(r, 0, sizeof *r);
	r->want_eof = 1;
	buf_init(&r->out);
	r->base = event_base_new();
	ck_assert_int_eq(pipe(p), 0);
	c->out_fd = p[1];
	r->sp = spawn_start_cgroup(r->base, c, cg, run_exit_cb, r, &err);
	ck_assert_msg(r->sp != NULL, "spawn_start: %s", err);
	close(p[1]);
	r->cap = capture_start(r->base, p[0], -1, &r->out, 1 << 20,
	    run_eof_cb, r);
	ck_assert_ptr_nonnull(r->cap);
}

/* Start cmd with stdout and stderr captured into r->out. */
static void
run_start(struct run *r, struct spawn_cmd *c)
{
	run_start_cg(r, c, NULL);
}

/*
 * Run the loop until the process ended and every capture saw EOF, or
 * only until a first line was printed; a timeout fails the test.
 */
static void
run_until(struct run *r, int first_line)
{
	struct timeval	 tv = { RUN_TIMEOUT_S, 0 };
	struct event	*t;

	t = evtimer_new(r->base, run_timeout_cb, r);
	evtimer_add(t, &tv);
	while (!r->timed_out) {
		if (first_line ? r->out.data != NULL &&
		    strchr(r->out.data, '\n') != NULL :
		    r->nexit > 0 && r->neof >= r->want_eof)
			break;
		event_base_loop(r->base, EVLOOP_ONCE);
	}
	event_free(t);
	ck_assert_msg(!r->timed_out, "timed out; output so far: %s",
	    r->out.data ? r->out.data : "");
}

/* Free what run_start made. */
static void
run_end(struct run *r)
{
	spawn_free(r->sp);
	capture_free(r->cap);
	buf_release(&r->out);
	event_base_free(r->base);
}

/* Run argv to completion in a fresh loop, in cg (or none). */
static void
run_argv_cg(struct run *r, struct spawn_cmd *c, struct cgroup *cg)
{
	run_start_cg(r, c, cg);
	run_until(r, 0);
	ck_assert_int_eq(r->nexit, 1);
	ck_assert_int_eq(r->neof, 1);
}

static void
run_argv(struct run *r, struct spawn_cmd *c)
{
	run_argv_cg(r, c, NULL);
}

/* Whether pid is gone or a zombie (PID 1 here may not reap orphans). */
static int
pid_dead(pid_t pid)
{
	char	 path[64], text[512], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')');
	return p == NULL || p[2] == 'Z' || p[2] == 'X';
}

/* Wait up to 2 s for pid to die. */
static int
pid_dies(pid_t pid)
{
	int	i;

	for (i = 0; i < 200 && !pid_dead(pid); i++)
		usleep(10000);
	return pid_dead(pid);
}

/* Write a file with mode. */
static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/*
 * Simple cases: a command, what it must end with and print.  Every one
 * runs with extra inheritable descriptors open, our stdin elsewhere,
 * umask 077, SIGTERM blocked and SIGPIPE/SIGHUP ignored, so each also
 * checks that none of it reaches the child.
 */
static char	*env_custom[] = { "A=1", "B=two words", "PATH=/usr/bin:/bin",
		    NULL };
static char	*env_empty[] = { NULL };

static const struct spawn_limits lim = { 1LL << 30, 1500, 64, 1000 };

static const struct simple {
	char		*argv[4];
	char		**envp;
	const char	*cwd;
	const struct spawn_limits *limits;
	int		 exit_code, sig, err;
	const char	*step, *out;
} simple[] = {
	{ { "sh", "-c", "exit 0" }, NULL, NULL, NULL, 0, 0, 0, NULL, "" },
	{ { "sh", "-c", "exit 3" }, NULL, NULL, NULL, 3, 0, 0, NULL, "" },
	/* Exiting 127 on its own is not an exec failure. */
	{ { "sh", "-c", "exit 127" }, NULL, NULL, NULL, 127, 0, 0, NULL, "" },
	{ { "sh", "-c", "kill -9 $$" }, NULL, NULL, NULL, -1, 9, 0, NULL, "" },
	{ { "/nonexistent/prog" }, NULL, NULL, NULL, -1, 0, ENOENT, "exec", "" },
	{ { "pl-no-such-program" }, NULL, NULL, NULL, -1, 0, ENOENT, "exec", "" },
	{ { "pwd" }, NULL, "/nonexistent-dir", NULL, -1, 0, ENOENT, "chdir", "" },
	{ { "pwd" }, NULL, NULL, NULL, 0, 0, 0, NULL, "/\n" },
	{ { "pwd" }, NULL, "/usr", NULL, 0, 0, 0, NULL, "/usr\n" },
	/* No PATH in envp: execvp's default. */
	{ { "sh", "-c", "exit 5" }, env_empty, NULL, NULL, 5, 0, 0, NULL, "" },
	{ { "/usr/bin/env" }, env_custom, NULL, NULL, 0, 0, 0, NULL,
	    "A=1\nB=two words\nPATH=/usr/bin:/bin\n" },
	{ { "sh", "-c", "umask" }, NULL, NULL, NULL, 0, 0, 0, NULL, "0022\n" },
	/* 3 is the directory ls itself opens. */
	{ { "ls", "/proc/self/fd" }, NULL, NULL, NULL, 0, 0, 0, NULL,
	    "0\n1\n2\n3\n" },
	{ { "readlink", "/proc/self/fd/0" }, NULL, NULL, NULL, 0, 0, 0, NULL,
	    "/dev/null\n" },
	{ { "sh", "-c", "echo out; echo err >&2" }, NULL, NULL, NULL, 0, 0, 0, NULL,
	    "out\nerr\n" },
	{ { "grep", "^Sig[BI]", "/proc/self/status" }, NULL, NULL, NULL,
	    0, 0, 0, NULL, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n" },
	/* Its own session and process group. */
	{ { "sh", "-c", "read p c s pp g sid x </proc/self/stat; "
	    "[ $g = $$ ] && [ $sid = $$ ] && echo ok" }, NULL, NULL, NULL,
	    0, 0, 0, NULL, "ok\n" },
	/* cpu time, processes, open files, address space: soft and hard. */
	{ { "awk", "/^Max (cpu|proc|open|addr)/ { print $(NF-2), $(NF-1) }",
	    "/proc/self/limits" }, NULL, NULL, &lim, 0, 0, 0, NULL,
	    "2 3\n1000 1000\n64 64\n1073741824 1073741824\n" },
};

START_TEST(test_simple)
{
	const struct simple	*t = &simple[_i];
	struct spawn_cmd	 c;
	struct run		 r;
	sigset_t		 set;
	int			 fd;

	ck_assert_int_ge(fd = open("/dev/null", O_RDONLY), 0);
	ck_assert_int_eq(dup2(fd, 50), 50);
	ck_assert_int_eq(dup2(fd, 1000), 1000);
	ck_assert_int_eq(dup2(open(tmpdir, O_RDONLY), 0), 0);
	ck_assert_int_eq(setenv("PL_DAEMON_ONLY", "leak", 1), 0);
	umask(077);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	cmd_init(&c, t->argv);
	if (t->envp != NULL)
		c.envp = t->envp;
	c.cwd = t->cwd;
	if (t->limits != NULL)
		c.limits = *t->limits;
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, t->exit_code);
	ck_assert_int_eq(r.ex.signal, t->sig);
	ck_assert_int_eq(r.ex.exec_errno, t->err);
	if (t->step == NULL)
		ck_assert_ptr_null(r.ex.exec_step);
	else
		ck_assert_str_eq(r.ex.exec_step, t->step);
	ck_assert_str_eq(r.out.data != NULL ? r.out.data : "", t->out);
	ck_assert_int_eq(r.ex.pid, spawn_pid(r.sp));
	ck_assert(spawn_exited(r.sp));
	ck_assert(!spawn_in_cgroup(r.sp));
	ck_assert(r.ex.started_us > 1600000000LL * 1000000);
	ck_assert(r.ex.ended_us >= r.ex.started_us);
	run_end(&r);
}
END_TEST

START_TEST(test_signal_name)
{
	char	b[32];

	ck_assert_str_eq(spawn_signal_name(SIGKILL, b, sizeof b), "SIGKILL");
	ck_assert_str_eq(spawn_signal_name(SIGTERM, b, sizeof b), "SIGTERM");
	ck_assert_str_eq(spawn_signal_name(77, b, sizeof b), "signal 77");
}
END_TEST

/* Run argv in a fresh loop with PATH=path (NULL: default env). */
static void
run_with_path(struct run *r, char *const *argv, const char *path)
{
	char		 var[300];
	char		*envp[] = { var, NULL };
	struct spawn_cmd c;

	cmd_init(&c, argv);
	if (path != NULL) {
		snprintf(var, sizeof var, "PATH=%s", path);
		c.envp = envp;
	}
	run_argv(r, &c);
}

START_TEST(test_exec_files)
{
	char		 d1[128], d2[128], f[160], path[300];
	char		*argv[] = { "pl-test-prog", "arg", NULL };
	struct run	 r;

	/* PATH only in envp, never the daemon's own. */
	ck_assert_int_eq(setenv("PATH", "/usr/bin:/bin", 1), 0);
	snprintf(d1, sizeof d1, "%s/d1", tmpdir);
	snprintf(d2, sizeof d2, "%s/d2", tmpdir);
	ck_assert_int_eq(mkdir(d1, 0755), 0);
	ck_assert_int_eq(mkdir(d2, 0755), 0);
	/* Not executable at all: EACCES (even for root), and search on. */
	snprintf(f, sizeof f, "%s/pl-test-prog", d1);
	write_file(f, "#!/bin/sh\necho wrong\n", 0644);
	snprintf(f, sizeof f, "%s/pl-test-prog", d2);
	write_file(f, "#!/bin/sh\necho found \"$1\"\n", 0755);
	snprintf(path, sizeof path, "/nonexistent:%s:%s", d1, d2);
	run_with_path(&r, argv, path);
	ck_assert_int_eq(r.ex.exec_errno, 0);
	ck_assert_str_eq(r.out.data, "found arg\n");
	run_end(&r);
	/* Only the non-executable one: EACCES wins over a later ENOENT. */
	snprintf(path, sizeof path, "%s:/nonexistent", d1);
	run_with_path(&r, argv, path);
	ck_assert_int_eq(r.ex.exec_errno, EACCES);
	ck_assert_str_eq(r.ex.exec_step, "exec");
	run_end(&r);
	snprintf(f, sizeof f, "%s/pl-test-prog", d1);
	argv[0] = f;
	run_with_path(&r, argv, NULL);
	ck_assert_int_eq(r.ex.exec_errno, EACCES);
	run_end(&r);
	/* No interpreter line: ENOEXEC, no retry through sh, search stops. */
	write_file(f, "echo should-not-run\n", 0755);
	run_with_path(&r, argv, NULL);
	ck_assert_int_eq(r.ex.exec_errno, ENOEXEC);
	ck_assert_str_eq(r.out.data != NULL ? r.out.data : "", "");
	run_end(&r);
	argv[0] = "pl-test-prog";
	snprintf(path, sizeof path, "%s:%s", d1, d2);
	run_with_path(&r, argv, path);
	ck_assert_int_eq(r.ex.exec_errno, ENOEXEC);
	run_end(&r);
}
END_TEST

START_TEST(test_separate_stderr)
{
	char		*argv[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	struct spawn_cmd c;
	struct run	 r;
	struct capture	*ec;
	struct buf	 eb;
	int		 p[2];

	cmd_init(&c, argv);
	ck_assert_int_eq(pipe(p), 0);
	c.err_fd = p[1];
	run_start(&r, &c);
	close(p[1]);
	buf_init(&eb);
	ec = capture_start(r.base, p[0], -1, &eb, 1024, run_eof_cb, &r);
	r.want_eof = 2;
	run_until(&r, 0);
	ck_assert_str_eq(r.out.data, "out\n");
	ck_assert_str_eq(eb.data, "err\n");
	capture_free(ec);
	buf_release(&eb);
	run_end(&r);
}
END_TEST

START_TEST(test_identity)
{
	char		*argv[] = { "grep", "-E", "^(Uid|Gid|Groups|CapEff):",
			    "/proc/self/status", NULL };
	char		*pwd[] = { "pwd", NULL };
	gid_t		 groups[] = { 65534 };
	struct spawn_cmd c;
	struct run	 r;
	char		 priv[160];

	if (geteuid() != 0)
		return;		/* needs root: nothing to drop otherwise */
	cmd_init(&c, argv);
	c.set_identity = true;
	c.uid = 65534;
	c.gid = 65534;
	c.groups = groups;
	c.ngroups = 1;
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_str_eq(r.out.data, "Uid:\t65534\t65534\t65534\t65534\n"
	    "Gid:\t65534\t65534\t65534\t65534\nGroups:\t65534 \n"
	    "CapEff:\t0000000000000000\n");
	run_end(&r);
	/* chdir happens after the drop: a root-only directory is refused. */
	snprintf(priv, sizeof priv, "%s/private", tmpdir);
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	c.argv = pwd;
	c.cwd = priv;
	c.ngroups = 0;
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exec_errno, EACCES);
	ck_assert_str_eq(r.ex.exec_step, "chdir");
	run_end(&r);
	/*
	 * Root's own uid, another gid: a child that shares our memory until
	 * exec (which a uid change rules out).  Its setgid marks the shared
	 * mm undumpable; ours must be dumpable again after.
	 */
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), 1);
	c.argv = argv;
	c.cwd = NULL;
	c.uid = 0;
	c.ngroups = 1;
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out.data, "Uid:\t0\t0\t0\t0\n"
	    "Gid:\t65534\t65534\t65534\t65534\nGroups:\t65534 \n"));
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), 1);
	run_end(&r);
}
END_TEST

/*
 * Many supplementary groups, given in no order: the child checks each of
 * them after the drop, in a forked child (another uid) and in one that
 * shares our memory (root's uid), and runs with exactly those.
 */
START_TEST(test_identity_many_groups)
{
	char		*argv[] = { "grep", "^Groups:", "/proc/self/status",
			    NULL };
	gid_t		 groups[150];
	struct spawn_cmd c;
	struct run	 r;
	struct buf	 want;
	size_t		 i, k;
	uid_t		 uids[] = { 65534, 0 };

	if (geteuid() != 0)
		return;
	for (i = 0; i < 150; i++)
		groups[i] = (gid_t)(70149 - i);
	buf_init(&want);
	buf_addf(&want, "Groups:\t");
	for (i = 0; i < 150; i++)
		buf_addf(&want, "%u ", (unsigned)(70000 + i));
	buf_addf(&want, "\n");
	for (k = 0; k < 2; k++) {
		cmd_init(&c, argv);
		c.set_identity = true;
		c.uid = uids[k];
		c.gid = 65534;
		c.groups = groups;
		c.ngroups = 150;
		run_argv(&r, &c);
		ck_assert_int_eq(r.ex.exec_errno, 0);
		ck_assert_int_eq(r.ex.exit_code, 0);
		ck_assert_str_eq(r.out.data, want.data);
		run_end(&r);
	}
	buf_release(&want);
}
END_TEST

/* Start "grandchild & echo $!; wait", read the grandchild's pid. */
static pid_t
start_tree(struct run *r, const char *script, int cgfd)
{
	char		*argv[] = { "sh", "-c", (char *)script, NULL };
	struct spawn_cmd c;
	pid_t		 gc;

	cmd_init(&c, argv);
	c.cgroup_fd = cgfd;
	run_start(r, &c);
	run_until(r, 1);
	gc = (pid_t)atol(r->out.data);
	ck_assert_int_gt(gc, 0);
	ck_assert(!pid_dead(gc));
	return gc;
}

START_TEST(test_tree_pgrp)
{
	struct run	 r;
	pid_t		 gc;

	gc = start_tree(&r, "sleep 100 & echo $!; wait", -1);
	ck_assert_int_eq(spawn_signal_tree(r.sp, SIGTERM), 0);
	run_until(&r, 0);
	ck_assert_int_eq(r.ex.signal, SIGTERM);
	ck_assert(pid_dies(gc));
	/* Harmless once exited. */
	ck_assert_int_eq(spawn_signal_tree(r.sp, SIGTERM), 0);
	run_end(&r);
}
END_TEST

START_TEST(test_tree_cgroup)
{
	struct run	 r;
	pid_t		 gc;
	int		 cg, sig, i;

	if ((cgroot = test_cgroot()) == NULL)
		return;		/* no usable cgroup v2 here */
	/* SIGTERM pid by pid, then SIGKILL through cgroup.kill. */
	for (i = 0; i < 2; i++) {
		sig = i == 0 ? SIGTERM : SIGKILL;
		cg = cgroup_create(cgroot, "tree");
		ck_assert_int_ge(cg, 0);
		gc = start_tree(&r, "setsid sleep 100 & echo $!; wait", cg);
		ck_assert(spawn_in_cgroup(r.sp));
		ck_assert(cgroup_populated(cg));
		ck_assert_int_eq(spawn_signal_tree(r.sp, sig), 0);
		run_until(&r, 0);
		ck_assert_int_eq(r.ex.signal, sig);
		ck_assert(pid_dies(gc));
		run_end(&r);
		cgroup_destroy(cgroot, cg, "tree");
	}
	/* A cgroup left behind by a crash is cleared and made again. */
	cg = cgroup_create(cgroot, "left");
	ck_assert_int_ge(cg, 0);
	close(cg);
	cg = cgroup_create(cgroot, "left");
	ck_assert_int_ge(cg, 0);
	ck_assert_ptr_nonnull(strstr(last_log, "left over"));
	cgroup_destroy(cgroot, cg, "left");
	ck_assert_int_eq(cgroup_create(cgroot, "../x"), -1);
	ck_assert_int_eq(cgroup_create(cgroot, ""), -1);
	cgroup_root_close(cgroot);
}
END_TEST

#define BUSY	"i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"

START_TEST(test_usage)
{
	char		*busy[] = { "sh", "-c", BUSY, NULL };
	/* The work done by an orphan the leader never waits for. */
	char		*orphan[] = { "sh", "-c", "(sh -c '" BUSY "' &); sleep 1",
			    NULL };
	struct spawn_cmd c;
	struct run	 r;
	int		 cg;

	cmd_init(&c, busy);
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_msg(r.ex.cpu_user_us >= 100000, "user %lld µs",
	    (long long)r.ex.cpu_user_us);
	ck_assert(r.ex.cpu_user_us < 60LL * 1000000);
	ck_assert(r.ex.cpu_system_us >= 0);
	ck_assert(r.ex.max_rss_kib > 100 && r.ex.max_rss_kib < 1024 * 1024);
	ck_assert(r.ex.ended_us - r.ex.started_us >= r.ex.cpu_user_us / 2);
	run_end(&r);
	if ((cgroot = test_cgroot()) == NULL)
		return;
	cg = cgroup_create(cgroot, "usage");
	ck_assert_int_ge(cg, 0);
	cmd_init(&c, orphan);
	c.cgroup_fd = cg;
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_msg(r.ex.cpu_user_us >= 100000, "user %lld µs",
	    (long long)r.ex.cpu_user_us);
	ck_assert(r.ex.max_rss_kib > 100);
	run_end(&r);
	cgroup_destroy(cgroot, cg, "usage");
	cgroup_root_close(cgroot);
}
END_TEST

/* Whether two descriptors are of the same directory. */
static bool
same_dir(int a, int b)
{
	struct stat	x, y;

	ck_assert_int_eq(fstat(a, &x), 0);
	ck_assert_int_eq(fstat(b, &y), 0);
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* How many cgroups the test root holds. */
static int
count_cgroups(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(cgpath));
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Task cgroups of the pool: an empty one is used again with its usage
 * counted afresh; one that was killed never is (a child cloned into it
 * would be killed at birth), and the next task runs; the pool keeps
 * CGROUP_POOL_MAX (8) and goes with the root.
 */
START_TEST(test_cgroup_pool)
{
	char		*busy[] = { "sh", "-c", BUSY, NULL };
	char		*quick[] = { "true", NULL };
	char		*tree[] = { "sh", "-c", "sleep 100 & echo $!; wait",
			    NULL };
	struct cgroup	*cg, *many[9];
	struct spawn_cmd c;
	struct run	 r;
	pid_t		 gc;
	int		 first, i;

	if ((cgroot = test_cgroot()) == NULL)
		return;
	ck_assert_ptr_nonnull(cg = cgroup_get(cgroot));
	ck_assert_int_ge(first = dup(cgroup_fd(cg)), 0);
	cmd_init(&c, busy);
	run_argv_cg(&r, &c, cg);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_msg(r.ex.cpu_user_us >= 100000, "user %lld µs",
	    (long long)r.ex.cpu_user_us);
	ck_assert(spawn_in_cgroup(r.sp));
	run_end(&r);
	cgroup_put(cg);

	ck_assert_ptr_nonnull(cg = cgroup_get(cgroot));
	ck_assert(same_dir(cgroup_fd(cg), first));
	cmd_init(&c, quick);
	run_argv_cg(&r, &c, cg);
	ck_assert_int_eq(r.ex.exit_code, 0);
	ck_assert_msg(r.ex.cpu_user_us < 50000, "user %lld µs: the first "
	    "task's counted too", (long long)r.ex.cpu_user_us);
	run_end(&r);

	cmd_init(&c, tree);
	run_start_cg(&r, &c, cg);
	run_until(&r, 1);
	gc = (pid_t)atol(r.out.data);
	ck_assert_int_eq(spawn_signal_tree(r.sp, SIGKILL), 0);
	run_until(&r, 0);
	ck_assert_int_eq(r.ex.signal, SIGKILL);
	ck_assert(pid_dies(gc));
	run_end(&r);
	cgroup_put(cg);
	ck_assert_int_eq(count_cgroups(), 0);

	ck_assert_ptr_nonnull(cg = cgroup_get(cgroot));
	ck_assert(!same_dir(cgroup_fd(cg), first));
	close(first);
	cmd_init(&c, quick);
	run_argv_cg(&r, &c, cg);
	ck_assert_int_eq(r.ex.signal, 0);
	ck_assert_int_eq(r.ex.exit_code, 0);
	run_end(&r);
	cgroup_put(cg);

	many[0] = cgroup_get(cgroot);
	for (i = 1; i < 9; i++) {
		ck_assert_ptr_nonnull(many[i] = cgroup_get(cgroot));
		ck_assert(!same_dir(cgroup_fd(many[i]), cgroup_fd(many[0])));
	}
	for (i = 0; i < 9; i++)
		cgroup_put(many[i]);
	ck_assert_int_eq(count_cgroups(), 8);
	cgroup_root_close(cgroot);
	ck_assert_int_eq(access(cgpath, F_OK), -1);
}
END_TEST

/*
 * In its cgroup before it runs anything: the child shows it; and a cgroup
 * removed meanwhile is refused, by the clone (NULL) or by the child, which
 * then never execs.
 */
static void
check_placement(bool refused_by_clone)
{
	char		*argv[] = { "grep", "^0::", "/proc/self/cgroup", NULL };
	char		 want[128], path[700];
	struct spawn_cmd c;
	struct spawn	*sp;
	struct run	 r;
	char		*err = NULL;
	int		 cg;

	if ((cgroot = test_cgroot()) == NULL)
		return;
	ck_assert_int_ge(cg = cgroup_create(cgroot, "place"), 0);
	cmd_init(&c, argv);
	c.cgroup_fd = cg;
	run_argv(&r, &c);
	snprintf(want, sizeof want, "%s/place\n", strrchr(cgpath, '/'));
	ck_assert_msg(r.out.data != NULL && strlen(r.out.data) >= strlen(want) &&
	    strcmp(r.out.data + strlen(r.out.data) - strlen(want), want) == 0,
	    "in %s", r.out.data ? r.out.data : "nothing");
	ck_assert(spawn_in_cgroup(r.sp));
	run_end(&r);
	cgroup_destroy(cgroot, cg, "place");

	ck_assert_int_ge(cg = cgroup_create(cgroot, "gone"), 0);
	snprintf(path, sizeof path, "%s/gone", cgpath);
	ck_assert_int_eq(rmdir(path), 0);
	c.cgroup_fd = cg;
	if (refused_by_clone) {
		sp = spawn_start(r.base = event_base_new(), &c, run_exit_cb,
		    &r, &err);
		ck_assert_ptr_null(sp);
		free(err);
		event_base_free(r.base);
	} else {
		run_argv(&r, &c);
		ck_assert_str_eq(r.ex.exec_step, "cgroup");
		ck_assert_int_ne(r.ex.exec_errno, 0);
		ck_assert_ptr_null(r.out.data);
		run_end(&r);
	}
	close(cg);
	cgroup_root_close(cgroot);
}

START_TEST(test_cgroup_placement)
{
	check_placement(true);
}
END_TEST

/*
 * Make one syscall fail as containers' seccomp filters do: clone3 with
 * ENOSYS, or clone with CLONE_VFORK (flags, its first argument) with
 * EPERM.  Not all of CLONE_VM: LeakSanitizer clones a thread with it.
 */
static void
filter_syscall(long nr)
{
	struct sock_filter	 f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
		    nr == SYS_clone ? CLONE_VFORK : ~0U, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO |
		    (nr == SYS_clone ? EPERM : ENOSYS)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	 prog = { sizeof f / sizeof f[0], f };

	ck_assert_int_eq(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
	    &prog), 0);
}

START_TEST(test_fallbacks)
{
	char		*argv[] = { "sh", "-c", "exit 7", NULL };
	const char	*fork_mode = getenv("CK_FORK");
	struct spawn_cmd c;
	struct run	 r;

	/* The filters would outlive the test without a process of its own. */
	if (fork_mode != NULL && strcmp(fork_mode, "no") == 0)
		return;
	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	/* No clone3: clone(CLONE_VM) without a cgroup, fork with one. */
	filter_syscall(SYS_clone3);
	cmd_init(&c, argv);
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 7);
	run_end(&r);
	check_placement(false);
	/* Neither: fork. */
	filter_syscall(SYS_clone);
	run_argv(&r, &c);
	ck_assert_int_eq(r.ex.exit_code, 7);
	run_end(&r);
}
END_TEST

/* Descriptors open in this process. */
static int
count_fds(void)
{
	char	path[64];
	int	fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

START_TEST(test_free_running)
{
	char		*sleeper[] = { "sleep", "100", NULL };
	struct spawn_cmd c;
	struct spawn	*sp;
	struct run	 r;
	struct event_base *base;
	pid_t		 gc, pid;
	char		*err;
	int		 before, i;

	before = count_fds();
	gc = start_tree(&r, "sleep 100 & echo $!; sleep 100", -1);
	pid = spawn_pid(r.sp);
	spawn_free(r.sp);
	r.sp = NULL;
	ck_assert(pid_dead(pid));
	ck_assert(pid_dies(gc));
	ck_assert_int_eq(r.nexit, 0);
	run_end(&r);
	ck_assert_int_eq(count_fds(), before);
	/* Freed at once, before the child could even reach setsid. */
	base = event_base_new();
	cmd_init(&c, sleeper);
	for (i = 0; i < 50; i++) {
		sp = spawn_start(base, &c, run_exit_cb, &r, &err);
		ck_assert_ptr_nonnull(sp);
		pid = spawn_pid(sp);
		spawn_free(sp);
		ck_assert(pid_dead(pid));
	}
	event_base_free(base);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_bad_input)
{
	char		*argv[] = { "true", NULL };
	char		*none[] = { NULL };
	struct spawn_cmd c;
	struct event_base *base = event_base_new();
	char		*err = NULL;

	cmd_init(&c, argv);
	c.out_fd = 987;
	ck_assert_ptr_null(spawn_start(base, &c, run_exit_cb, NULL, &err));
	ck_assert_ptr_nonnull(err);
	free(err);
	cmd_init(&c, none);
	err = NULL;
	ck_assert_ptr_null(spawn_start(base, &c, run_exit_cb, NULL, &err));
	ck_assert_ptr_nonnull(err);
	free(err);
	event_base_free(base);
}
END_TEST

/* Everything in one case: the fixtures are per run. */
static Suite *
spawn_suite(void)
{
	Suite	*s = suite_create("spawn");
	TCase	*tc = tcase_create("spawn");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_simple, 0,
	    sizeof simple / sizeof simple[0]);
	tcase_add_test(tc, test_signal_name);
	tcase_add_test(tc, test_exec_files);
	tcase_add_test(tc, test_separate_stderr);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_identity_many_groups);
	tcase_add_test(tc, test_tree_pgrp);
	tcase_add_test(tc, test_tree_cgroup);
	tcase_add_test(tc, test_cgroup_placement);
	tcase_add_test(tc, test_cgroup_pool);
	tcase_add_test(tc, test_fallbacks);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_free_running);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(spawn_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
