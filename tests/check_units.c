/*
 * Unit tests for durations, sizes and "did you mean".
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "suggest.h"
#include "units.h"

START_TEST(test_durations)
{
	static const struct {
		const char	*s;
		int64_t		 ms;
	} ok[] = {
		{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
		{ "2h", 7200000 }, { "1d", 86400000 }, { "45", 45000 },
		{ "0", 0 }, { "1h30m", 5400000 }, { "1s500ms", 1500 },
		{ "0ms", 0 },
	};
	static const char *const bad[] = {
		"", "s", "5x", "5 s", "-5s", "1.5s", "5S", "m5",
		"99999999999999999999s", "9223372036854775807d", "5sm",
	};
	int64_t	ms;
	size_t	i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ck_assert_msg(units_parse_duration(ok[i].s, &ms) == 0, "%s",
		    ok[i].s);
		ck_assert_int_eq(ms, ok[i].ms);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(units_parse_duration(bad[i], &ms) == -1,
		    "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_sizes)
{
	int64_t	b;

	ck_assert_int_eq(units_parse_size("512K", &b), 0);
	ck_assert_int_eq(b, 512 * 1024);
	ck_assert_int_eq(units_parse_size("16M", &b), 0);
	ck_assert_int_eq(b, 16 * 1024 * 1024);
	ck_assert_int_eq(units_parse_size("2G", &b), 0);
	ck_assert_int_eq(b, 2LL * 1024 * 1024 * 1024);
	ck_assert_int_eq(units_parse_size("1T", &b), 0);
	ck_assert_int_eq(units_parse_size("100", &b), 0);
	ck_assert_int_eq(b, 100);
	ck_assert_int_eq(units_parse_size("16m", &b), 0);
	ck_assert_int_eq(units_parse_size("16MB", &b), -1);
	ck_assert_int_eq(units_parse_size("M", &b), -1);
	ck_assert_int_eq(units_parse_size("", &b), -1);
	ck_assert_int_eq(units_parse_size("-1", &b), -1);
	ck_assert_int_eq(units_parse_size("9999999999999T", &b), -1);
}
END_TEST

START_TEST(test_format)
{
	char	buf[64];

	ck_assert_str_eq(units_format_duration(30000, buf, sizeof buf), "30s");
	ck_assert_str_eq(units_format_duration(250, buf, sizeof buf), "250ms");
	ck_assert_str_eq(units_format_duration(5400000, buf, sizeof buf),
	    "1h30m");
	ck_assert_str_eq(units_format_duration(90061001, buf, sizeof buf),
	    "1d1h1m1s1ms");
	ck_assert_str_eq(units_format_duration(0, buf, sizeof buf), "0s");
	ck_assert_str_eq(units_format_size(16 * 1024 * 1024, buf, sizeof buf),
	    "16M");
	ck_assert_str_eq(units_format_size(1536 * 1024, buf, sizeof buf),
	    "1536K");
	ck_assert_str_eq(units_format_size(100, buf, sizeof buf), "100");
	ck_assert_str_eq(units_format_size(0, buf, sizeof buf), "0");
}
END_TEST

START_TEST(test_suggest)
{
	static const char *const words[] = { "timeout", "retries",
	    "retry_delay", "cpu_time", "env", "run" };
	const size_t n = sizeof words / sizeof words[0];

	ck_assert_str_eq(suggest("timout", words, n), "timeout");
	ck_assert_str_eq(suggest("retires", words, n), "retries");
	ck_assert_str_eq(suggest("retry-delay", words, n), "retry_delay");
	ck_assert_str_eq(suggest("cpu", words, n), "cpu_time");
	ck_assert_str_eq(suggest("evn", words, n), "env");
	ck_assert_ptr_null(suggest("frobnicate", words, n));
	ck_assert_ptr_null(suggest("xy", words, n));
}
END_TEST

static Suite *
units_suite(void)
{
	Suite	*s = suite_create("units");
	TCase	*tc = tcase_create("units");

	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_suggest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(units_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
