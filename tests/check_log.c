/*
 * Unit tests for logging (levels, errno, the hook) and the x-wrappers.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

static char		last_line[4096];
static enum log_level	last_level;
static int		nlines;

static void
capture_cb(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	last_level = level;
	strlcpy(last_line, line, sizeof last_line);
	nlines++;
}

START_TEST(test_hook_and_errno)
{
	log_set_hook(capture_cb, NULL);
	nlines = 0;
	errno = ENOENT;
	log_warn("opening %s", "x.yaml");
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(last_line, "opening x.yaml: No such file or directory");
	ck_assert_int_eq(last_level, LOG_LEVEL_WARN);
	errno = EPERM;
	log_warnx("plain %d", 7);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_str_eq(last_line, "plain 7");
	log_info("info");
	ck_assert_int_eq(last_level, LOG_LEVEL_INFO);
	log_debug("debug");
	ck_assert_int_eq(last_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(nlines, 4);
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_levels)
{
	enum log_level	l;

	ck_assert_int_eq(log_level_from_name("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_from_name("warn", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_from_name("warning", &l), 0);
	ck_assert_int_eq(log_level_from_name("error", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_ERR);
	ck_assert_int_eq(log_level_from_name("loud", &l), -1);
	ck_assert_str_eq(log_level_name(LOG_LEVEL_INFO), "info");
	log_set_level(LOG_LEVEL_ERR);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_ERR);
	log_set_level(LOG_LEVEL_INFO);
}
END_TEST

START_TEST(test_fatalx_exits)
{
	log_set_hook(capture_cb, NULL);
	fatalx("broken invariant %d", 1);
}
END_TEST

START_TEST(test_xwrappers)
{
	char	*s;
	int	*v;

	s = xstrdup("abc");
	ck_assert_str_eq(s, "abc");
	free(s);
	s = xstrndup("abcdef", 2);
	ck_assert_str_eq(s, "ab");
	free(s);
	ck_assert_int_eq(xasprintf(&s, "%d-%s", 4, "x"), 3);
	ck_assert_str_eq(s, "4-x");
	free(s);
	s = xprintf("%05d", 42);
	ck_assert_str_eq(s, "00042");
	free(s);
	v = xcalloc(4, sizeof *v);
	ck_assert_int_eq(v[3], 0);
	v = xreallocarray(v, 8, sizeof *v);
	v[7] = 1;
	free(v);
}
END_TEST

/* n × size overflowing size_t is caught, never a short allocation. */
START_TEST(test_xreallocarray_overflow)
{
	log_set_hook(capture_cb, NULL);
	(void)xreallocarray(NULL, SIZE_MAX / 2, 4);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, test_hook_and_errno);
	tcase_add_test(tc, test_levels);
	tcase_add_exit_test(tc, test_fatalx_exits, 1);
	tcase_add_test(tc, test_xwrappers);
	tcase_add_exit_test(tc, test_xreallocarray_overflow, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(log_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
