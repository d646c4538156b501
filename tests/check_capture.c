/*
 * Unit tests for output capture: the cap and its marker, memory mode,
 * one EOF callback, and a large writer that must not stall the loop.
 * Writers are plain forked processes, so these tests do not depend on
 * spawn.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "capture.h"
#include "log.h"

struct cap_test {
	struct event_base	*base;
	struct capture		*cap;
	struct buf		 mem;
	int			 neof;
	int			 ticks;
	int			 ticks_at_eof;
	pid_t			 writer;
};

static char	basedir[64], tmpdir[96];

/* Silence the expected warnings. */
static void
log_cb(enum log_level level, const char *line, void *arg)
{
}

/* One directory per run, removed by the runner even if a test fails. */
static void
suite_setup(void)
{
	strlcpy(basedir, "/tmp/pl-check-capture-XXXXXX", sizeof basedir);
	ck_assert_ptr_nonnull(mkdtemp(basedir));
}

/* Remove it. */
static void
suite_teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", basedir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", basedir);
}

/* A directory of the test's own; expected warnings kept quiet. */
static void
setup(void)
{
	log_set_hook(log_cb, NULL);
	snprintf(tmpdir, sizeof tmpdir, "%s/XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Write len bytes of a known pattern, optionally pausing midway. */
static void
write_pattern(int fd, size_t len, int pause_ms)
{
	char	chunk[8192];
	size_t	i, off = 0, n;
	ssize_t	w;

	while (off < len) {
		n = len - off < sizeof chunk ? len - off : sizeof chunk;
		for (i = 0; i < n; i++)
			chunk[i] = (char)('a' + (off + i) % 26);
		if ((w = write(fd, chunk, n)) <= 0)
			_exit(1);
		off += (size_t)w;
	}
	if (pause_ms > 0) {
		usleep((useconds_t)pause_ms * 1000);
		if (write(fd, "end", 3) != 3)
			_exit(1);
	}
}

/* A forked writer of len pattern bytes; returns the read end. */
static int
start_writer(struct cap_test *t, size_t len, int pause_ms)
{
	int	p[2];

	ck_assert_int_eq(pipe(p), 0);
	t->writer = fork();
	ck_assert_int_ge(t->writer, 0);
	if (t->writer == 0) {
		close(p[0]);
		write_pattern(p[1], len, pause_ms);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

/* Count EOF callbacks and note how far the timer got by then. */
static void
eof_cb(struct capture *c, void *arg)
{
	struct cap_test	*t = arg;

	t->neof++;
	t->ticks_at_eof = t->ticks;
}

/* The loop's heartbeat while data flows. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cap_test	*t = arg;

	t->ticks++;
}

/* Capture len bytes from a writer into out_fd (or memory) under cap. */
static void
run_capture(struct cap_test *t, size_t len, int out_fd, int64_t cap,
    int pause_ms)
{
	struct timeval	 tv = { 0, 20000 };
	struct event	*tick;
	int		 fd, status;

	memset(t, 0, sizeof *t);
	buf_init(&t->mem);
	t->base = event_base_new();
	fd = start_writer(t, len, pause_ms);
	t->cap = capture_start(t->base, fd, out_fd, &t->mem, cap, eof_cb, t);
	ck_assert_ptr_nonnull(t->cap);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	tick = event_new(t->base, -1, EV_PERSIST, tick_cb, t);
	evtimer_add(tick, &tv);
	while (t->neof == 0)
		event_base_loop(t->base, EVLOOP_ONCE);
	/* The loop goes on; a second EOF callback would show here. */
	tv.tv_usec = 50000;
	event_base_loopexit(t->base, &tv);
	event_base_dispatch(t->base);
	event_free(tick);
	ck_assert_int_eq(t->neof, 1);
	/* The capture closed the pipe at EOF. */
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(waitpid(t->writer, &status, 0), t->writer);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Free what run_capture made. */
static void
end_capture(struct cap_test *t)
{
	capture_free(t->cap);
	buf_release(&t->mem);
	event_base_free(t->base);
}

/* Read a whole file into b. */
static void
slurp(const char *path, struct buf *b)
{
	char	chunk[65536];
	ssize_t	n;
	int	fd;

	buf_init(b);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(b, chunk, (size_t)n);
	close(fd);
}

/* Whether p starts with n pattern bytes. */
static int
is_pattern(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] != (char)('a' + i % 26))
			return 0;
	return 1;
}

/* How often needle occurs in b. */
static int
count(const struct buf *b, const char *needle)
{
	const char	*p = b->data, *end = b->data + b->len;
	int		 n = 0;

	while ((p = memmem(p, (size_t)(end - p), needle,
	    strlen(needle))) != NULL) {
		n++;
		p++;
	}
	return n;
}

START_TEST(test_cap_file)
{
	const char	*marker = "\n[pipelined: output cut at 1M]\n";
	struct cap_test	 t;
	struct buf	 b;
	char		 path[128];
	int		 out;

	snprintf(path, sizeof path, "%s/out.log", tmpdir);
	out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_int_ge(out, 0);
	run_capture(&t, 3 << 20, out, 1 << 20, 0);
	ck_assert_int_eq(capture_bytes(t.cap), 3 << 20);
	ck_assert_int_eq(capture_cut(t.cap), 1);
	ck_assert_uint_eq(t.mem.len, 0);
	end_capture(&t);
	close(out);
	slurp(path, &b);
	ck_assert_uint_eq(b.len, (1 << 20) + strlen(marker));
	ck_assert(is_pattern(b.data, 1 << 20));
	ck_assert_int_eq(count(&b, "[pipelined:"), 1);
	ck_assert(memcmp(b.data + (1 << 20), marker, strlen(marker)) == 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_cap_exact)
{
	struct cap_test	 t;

	/* Exactly the cap: nothing dropped, so no marker. */
	run_capture(&t, 4096, -1, 4096, 0);
	ck_assert_int_eq(capture_cut(t.cap), 0);
	ck_assert_uint_eq(t.mem.len, 4096);
	ck_assert(is_pattern(t.mem.data, 4096));
	end_capture(&t);
	/* One byte more: the marker. */
	run_capture(&t, 4097, -1, 4096, 0);
	ck_assert_int_eq(capture_cut(t.cap), 1);
	ck_assert_str_eq(t.mem.data + 4096,
	    "\n[pipelined: output cut at 4K]\n");
	end_capture(&t);
	/* Cap 0: only the marker. */
	run_capture(&t, 10, -1, 0, 0);
	ck_assert_str_eq(t.mem.data, "\n[pipelined: output cut at 0]\n");
	end_capture(&t);
}
END_TEST

START_TEST(test_memory)
{
	struct cap_test	 t;

	run_capture(&t, 26 * 3, -1, 1 << 20, 0);
	ck_assert_uint_eq(t.mem.len, 78);
	ck_assert(is_pattern(t.mem.data, 78));
	ck_assert_int_eq(capture_bytes(t.cap), 78);
	ck_assert_int_eq(capture_cut(t.cap), 0);
	end_capture(&t);
	/* Small cap in memory: bounded whatever the writer sends. */
	run_capture(&t, 1 << 20, -1, 10, 0);
	ck_assert_str_eq(t.mem.data, "abcdefghij"
	    "\n[pipelined: output cut at 10]\n");
	ck_assert_int_eq(capture_bytes(t.cap), 1 << 20);
	end_capture(&t);
	/* An empty writer: EOF at once, still one callback. */
	run_capture(&t, 0, -1, 100, 0);
	ck_assert_uint_eq(t.mem.len, 0);
	ck_assert_int_eq(capture_bytes(t.cap), 0);
	end_capture(&t);
}
END_TEST

START_TEST(test_big_writer)
{
	struct cap_test	 t;
	struct stat	 st;
	char		 path[128];
	int		 out;

	/*
	 * 10 MiB, then a pause with the pipe still open: a blocking read
	 * would hold the loop there, and the 20 ms timer would stop.
	 */
	snprintf(path, sizeof path, "%s/big.log", tmpdir);
	out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_int_ge(out, 0);
	run_capture(&t, 10 << 20, out, 16 << 20, 300);
	ck_assert_int_eq(capture_bytes(t.cap), (10 << 20) + 3);
	ck_assert_int_eq(capture_cut(t.cap), 0);
	ck_assert_msg(t.ticks_at_eof >= 5, "only %d ticks", t.ticks_at_eof);
	end_capture(&t);
	ck_assert_int_eq(fstat(out, &st), 0);
	ck_assert_int_eq(st.st_size, (10 << 20) + 3);
	close(out);
}
END_TEST

START_TEST(test_free_early)
{
	struct cap_test	 t;
	int		 fd, status;

	/* Freed while the writer still writes: no callback, pipe closed. */
	memset(&t, 0, sizeof t);
	buf_init(&t.mem);
	t.base = event_base_new();
	signal(SIGPIPE, SIG_DFL);
	fd = start_writer(&t, 64 << 20, 0);
	t.cap = capture_start(t.base, fd, -1, &t.mem, 1 << 20, eof_cb, &t);
	event_base_loop(t.base, EVLOOP_ONCE);
	capture_free(t.cap);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(waitpid(t.writer, &status, 0), t.writer);
	ck_assert(WIFSIGNALED(status) || WEXITSTATUS(status) == 1);
	ck_assert_int_eq(t.neof, 0);
	buf_release(&t.mem);
	event_base_free(t.base);
	/* A bad descriptor is refused. */
	t.base = event_base_new();
	ck_assert_ptr_null(capture_start(t.base, 999, -1, &t.mem, 10, eof_cb,
	    &t));
	event_base_free(t.base);
}
END_TEST

/* One case with a directory per run. */
static Suite *
capture_suite(void)
{
	Suite	*s = suite_create("capture");
	TCase	*tc = tcase_create("capture");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_cap_file);
	tcase_add_test(tc, test_cap_exact);
	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_big_writer);
	tcase_add_test(tc, test_free_early);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(capture_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
