/*
 * Unit tests for lib/address.c and lib/timefmt.c: every address form
 * (docs/protocol.md) and the malformed ones (zero, signs, empty parts,
 * trailing slashes, too many parts, non-digit and overflowing numbers,
 * long task names); resolving against executions with and without a pipeline
 * iterator, with the exact errors for what does not exist; RFC 3339 times
 * both ways (microseconds, times before 1970, parse errors) and the short
 * elapsed times shown to people.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "diag.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "timefmt.h"
#include "xmalloc.h"

/* One well-formed address and what it parses to. */
static const struct {
	const char	*s;
	uint64_t	 id;
	int		 has_result;
	uint32_t	 result;
	const char	*task;
	int		 has_index;
	uint32_t	 index;
} good[] = {
	{ "42", 42, 0, 0, "", 0, 0 },
	{ "1", 1, 0, 0, "", 0, 0 },
	{ "42/1", 42, 1, 1, "", 0, 0 },
	{ "42/0", 42, 1, 0, "", 0, 0 },
	{ "42/1/build", 42, 1, 1, "build", 0, 0 },
	{ "42/1/build/3", 42, 1, 1, "build", 1, 3 },
	{ "42/build", 42, 0, 0, "build", 0, 0 },
	{ "42/build/0", 42, 0, 0, "build", 1, 0 },
	{ "42/b.x-y_z", 42, 0, 0, "b.x-y_z", 0, 0 },
	{ "9223372036854775807", 9223372036854775807ULL, 0, 0, "", 0, 0 },
	{ "7/4294967295/t/4294967295", 7, 1, 4294967295U, "t", 1,
	    4294967295U },
	{ "7/0/T/0", 7, 1, 0, "T", 1, 0 },
};

/* Each well-formed address, field by field. */
START_TEST(test_parse_good)
{
	struct address	a;

	memset(&a, 0x5a, sizeof a);
	ck_assert_int_eq(address_parse(good[_i].s, &a), 0);
	ck_assert_uint_eq(a.id, good[_i].id);
	ck_assert_int_eq(a.has_result, good[_i].has_result);
	ck_assert_uint_eq(a.result, good[_i].result);
	ck_assert_str_eq(a.task, good[_i].task);
	ck_assert_int_eq(a.has_index, good[_i].has_index);
	ck_assert_uint_eq(a.index, good[_i].index);
}
END_TEST

/* Task names of the longest allowed length, and one more. */
START_TEST(test_parse_long_task)
{
	struct address	a;
	char		name[PL_MAX_NAME + 2], *s;

	memset(name, 'x', sizeof name);
	name[PL_MAX_NAME] = '\0';
	s = xprintf("5/%s/1", name);
	ck_assert_int_eq(address_parse(s, &a), 0);
	ck_assert_str_eq(a.task, name);
	free(s);
	name[PL_MAX_NAME] = 'x';
	name[PL_MAX_NAME + 1] = '\0';
	s = xprintf("5/%s/1", name);
	ck_assert_int_eq(address_parse(s, &a), -1);
	free(s);
	s = xprintf("5/0/%s", name);
	ck_assert_int_eq(address_parse(s, &a), -1);
	free(s);
}
END_TEST

/* Strings that are not addresses. */
static const char *const bad[] = {
	"", "0", "00", "0/1", "-1", "+1", " 42", "42 ", "42x", "x42", "4 2",
	"/", "/42", "42/", "42//build", "42/1/", "42/1/build/", "42/build/",
	"42/1/build/3/4", "42/1/build/3/4/5", "1/2/3/4/5/6/7/8",
	"42/1/2", "42/1/2build", "42/1a", "42/-1", "42/+1", "42/1/_x",
	"42/1/-x", "42/1/.x", "42/build/x", "42/build/3/4", "42/build/-3",
	"42/1/build/3a", "42/1/build/ 3", "42/1/build/-1",
	"9223372036854775808", "18446744073709551615",
	"18446744073709551616", "99999999999999999999",
	"000000000000000000042", "42/4294967296", "42/1/build/4294967296",
	"42/99999999999999999999", "42/1/build/99999999999999999999999",
};

/* Malformed addresses are refused. */
START_TEST(test_parse_bad)
{
	struct address	a;

	ck_assert_msg(address_parse(bad[_i], &a) == -1, "'%s' accepted",
	    bad[_i]);
}
END_TEST

/* An execution (id 42) of a pipeline, with its results made. */
static struct execution *
make_execution(const char *yaml)
{
	struct diag		*d = diag_new("t.yaml");
	struct pipeline		*p;
	struct execution	*e;
	size_t			 i;

	p = load_buffer(yaml, strlen(yaml), 0, d, NULL);
	ck_assert_ptr_nonnull(p);
	diag_free(d);
	e = execution_new(42, p, NULL, NULL);
	e->owned_def = p;
	if (p->iterate_command != NULL)
		return e;
	if (p->iterate == NULL)
		execution_add_result(e, NULL, 1);
	else
		for (i = 0; i < p->iterate->nkids; i++)
			execution_add_result(e, p->iterate->kids[i], 1);
	return e;
}

/* Resolve s in e: the object, or NULL with the error in *err. */
static struct result *
resolve(struct execution *e, const char *s, char **err)
{
	struct address	a;

	*err = NULL;
	ck_assert_msg(address_parse(s, &a) == 0, "'%s' does not parse", s);
	return address_resolve(e, &a, err);
}

/* s must resolve to want (and its canonical address be canon). */
static void
expect_resolves(struct execution *e, const char *s, struct result *want,
    const char *canon)
{
	struct result	*r;
	char		*err, *addr;

	r = resolve(e, s, &err);
	ck_assert_msg(r == want, "'%s': %s", s, err != NULL ? err : "wrong");
	addr = result_address(r);
	ck_assert_str_eq(addr, canon);
	free(addr);
}

/* s must not resolve, with exactly the error want. */
static void
expect_error(struct execution *e, const char *s, const char *want)
{
	char	*err;

	ck_assert_msg(resolve(e, s, &err) == NULL, "'%s' resolved", s);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, want);
	free(err);
}

/* With a pipeline iterator: the full forms only. */
START_TEST(test_resolve_iterator)
{
	struct execution	*e;
	struct task_execution	*te;

	e = make_execution("name: t\niterate: [x, y]\ntasks:\n"
	    "  build: {run: 'true', iterate: [a, b, c]}\n"
	    "  test: {run: 'true', parents: [build]}\n");
	te = &e->results[1]->tasks[0];
	expect_resolves(e, "42", &e->r, "42");
	expect_resolves(e, "42/0", &e->results[0]->r, "42/0");
	expect_resolves(e, "42/1", &e->results[1]->r, "42/1");
	expect_resolves(e, "42/1/build", &te->r, "42/1/build");
	expect_resolves(e, "42/1/build/2", &te->inst[2]->r, "42/1/build/2");
	expect_resolves(e, "42/0/test/0", &e->results[0]->tasks[1].inst[0]->r,
	    "42/0/test/0");
	expect_error(e, "42/build", "execution 42 has a pipeline iterator: "
	    "give the pipeline result, as in 42/0/build");
	expect_error(e, "42/test/0", "execution 42 has a pipeline iterator: "
	    "give the pipeline result, as in 42/0/test");
	expect_error(e, "42/2", "execution 42 has no pipeline result 2");
	expect_error(e, "42/4294967295/build",
	    "execution 42 has no pipeline result 4294967295");
	expect_error(e, "42/1/nope", "pipeline t has no task nope");
	expect_error(e, "42/1/Build", "pipeline t has no task Build");
	expect_error(e, "42/1/build/3", "task build of 42/1 has no instance 3");
	expect_error(e, "42/0/test/1", "task test of 42/0 has no instance 1");
	execution_free(e);
}
END_TEST

/* Without a pipeline iterator: the short forms name pipeline result 0. */
START_TEST(test_resolve_plain)
{
	struct execution	*e;
	struct task_execution	*te;

	e = make_execution("name: t\ntasks:\n"
	    "  build: {run: 'true'}\n"
	    "  test: {run: 'true', iterate: [1, 2]}\n");
	te = &e->results[0]->tasks[1];
	expect_resolves(e, "42", &e->r, "42");
	expect_resolves(e, "42/0", &e->results[0]->r, "42/0");
	expect_resolves(e, "42/build", &e->results[0]->tasks[0].r,
	    "42/0/build");
	expect_resolves(e, "42/0/build", &e->results[0]->tasks[0].r,
	    "42/0/build");
	expect_resolves(e, "42/build/0", &e->results[0]->tasks[0].inst[0]->r,
	    "42/0/build/0");
	expect_resolves(e, "42/test/1", &te->inst[1]->r, "42/0/test/1");
	expect_error(e, "42/1", "execution 42 has no pipeline result 1");
	expect_error(e, "42/1/build", "execution 42 has no pipeline result 1");
	expect_error(e, "42/build/1", "task build of 42/0 has no instance 1");
	expect_error(e, "42/nope", "pipeline t has no task nope");
	expect_error(e, "42/nope/0", "pipeline t has no task nope");
	execution_free(e);
}
END_TEST

/* An iterator command that has not run: no results, no short forms. */
START_TEST(test_resolve_no_results)
{
	struct execution	*e;

	e = make_execution("name: t\niterate_command: ls\ntasks:\n"
	    "  build: {run: 'true'}\n");
	expect_resolves(e, "42", &e->r, "42");
	expect_error(e, "42/0", "execution 42 has no pipeline result 0");
	expect_error(e, "42/0/build", "execution 42 has no pipeline result 0");
	expect_error(e, "42/build", "execution 42 has a pipeline iterator: "
	    "give the pipeline result, as in 42/0/build");
	execution_free(e);
}
END_TEST

/* Times and their RFC 3339 text, both ways. */
static const struct {
	int64_t		 us;
	const char	*s;
} times[] = {
	{ 0, "1970-01-01T00:00:00.000000Z" },
	{ 1, "1970-01-01T00:00:00.000001Z" },
	{ 999999, "1970-01-01T00:00:00.999999Z" },
	{ 1795810500123456LL, "2026-11-27T20:15:00.123456Z" },
	{ 1795810500000000LL, "2026-11-27T20:15:00.000000Z" },
	{ 951868799000001LL, "2000-02-29T23:59:59.000001Z" },
	{ -1, "1969-12-31T23:59:59.999999Z" },
	{ -1000000, "1969-12-31T23:59:59.000000Z" },
	{ -1500000, "1969-12-31T23:59:58.500000Z" },
	{ -999999, "1969-12-31T23:59:59.000001Z" },
	{ -2208988800000000LL, "1900-01-01T00:00:00.000000Z" },
	{ 253402300799999999LL, "9999-12-31T23:59:59.999999Z" },
};

/* Format, then parse back to the same microsecond. */
START_TEST(test_time_roundtrip)
{
	char	buf[TIMEFMT_LEN];
	int64_t	us = 12345;

	ck_assert_str_eq(timefmt_rfc3339(times[_i].us, buf, sizeof buf),
	    times[_i].s);
	ck_assert_uint_eq(strlen(buf), 27);
	ck_assert_int_eq(timefmt_parse(times[_i].s, &us), 0);
	ck_assert_int_eq(us, times[_i].us);
}
END_TEST

/* Shorter fractions, and now. */
START_TEST(test_time_parse)
{
	static const struct {
		const char	*s;
		int64_t		 us;
	} cases[] = {
		{ "2026-11-27T20:15:00Z", 1795810500000000LL },
		{ "2026-11-27T20:15:00.5Z", 1795810500500000LL },
		{ "2026-11-27T20:15:00.123Z", 1795810500123000LL },
		{ "2026-11-27T20:15:00.000001Z", 1795810500000001LL },
		{ "1969-12-31T23:59:59.5Z", -500000 },
	};
	char	buf[TIMEFMT_LEN];
	int64_t	us, now;
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(timefmt_parse(cases[i].s, &us), 0);
		ck_assert_int_eq(us, cases[i].us);
	}
	now = timefmt_now_us();
	ck_assert_int_gt(now, 1700000000000000LL);
	ck_assert_int_eq(timefmt_parse(timefmt_rfc3339(now, buf, sizeof buf),
	    &us), 0);
	ck_assert_int_eq(us, now);
	ck_assert_int_le(timefmt_mono_us(), timefmt_mono_us());
}
END_TEST

/* What is not an RFC 3339 UTC time. */
START_TEST(test_time_parse_errors)
{
	static const char *const cases[] = {
		"", "Z", "2026", "2026-11-27", "2026-11-27T20:15Z",
		"2026-11-27T20:15:00", "2026-11-27T20:15:00.123456",
		"2026-11-27T20:15:00+00:00", "2026-11-27T20:15:00.1+01:00",
		"2026-11-27 20:15:00Z", "2026-11-27T20:15:00z",
		"2026-11-27T20:15:00.123456Zjunk", "2026-11-27T20:15:00Z ",
		"2026-13-01T00:00:00Z", "2026-11-32T00:00:00Z",
		"2026-11-27T25:00:00Z", "2026-11-27T20:61:00Z",
		"2026-11-27T20:15:00.12a456Z", "yesterday",
	};
	int64_t	us = 7;
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(timefmt_parse(cases[i], &us) == -1,
		    "'%s' accepted", cases[i]);
		ck_assert_int_eq(us, 7);
	}
}
END_TEST

/* A short buffer is cut, never overrun. */
START_TEST(test_time_short_buffer)
{
	char	buf[11];

	memset(buf, 'x', sizeof buf);
	timefmt_rfc3339(1795810500123456LL, buf, sizeof buf);
	ck_assert_str_eq(buf, "2026-11-27");
	timefmt_elapsed(3720000000LL, buf, 3);
	ck_assert_str_eq(buf, "1h");
}
END_TEST

/* Elapsed times for people: ms, tenths of seconds, then two units. */
START_TEST(test_elapsed)
{
	static const struct {
		int64_t		 us;
		const char	*s;
	} cases[] = {
		{ -5, "0ms" },
		{ 0, "0ms" },
		{ 999, "0ms" },
		{ 850000, "850ms" },
		{ 999999, "999ms" },
		{ 1000000, "1.0s" },
		{ 4100000, "4.1s" },
		{ 4199999, "4.1s" },
		{ 59900000, "59.9s" },
		{ 59999999, "59.9s" },
		{ 60000000, "1m00s" },
		{ 125000000, "2m05s" },
		{ 3599999999LL, "59m59s" },
		{ 3600000000LL, "1h00m" },
		{ 3720000000LL, "1h02m" },
		{ 86399000000LL, "23h59m" },
		{ 86400000000LL, "1d00h" },
		{ (3 * 86400LL + 4 * 3600) * 1000000, "3d04h" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(timefmt_elapsed(cases[i].us, buf, sizeof buf),
		    cases[i].s);
}
END_TEST

/* Addresses, then times. */
static Suite *
address_suite(void)
{
	Suite	*s = suite_create("address");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_good, 0,
	    sizeof good / sizeof good[0]);
	tcase_add_test(tc, test_parse_long_task);
	tcase_add_loop_test(tc, test_parse_bad, 0, sizeof bad / sizeof bad[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_iterator);
	tcase_add_test(tc, test_resolve_plain);
	tcase_add_test(tc, test_resolve_no_results);
	suite_add_tcase(s, tc);

	tc = tcase_create("timefmt");
	tcase_add_loop_test(tc, test_time_roundtrip, 0,
	    sizeof times / sizeof times[0]);
	tcase_add_test(tc, test_time_parse);
	tcase_add_test(tc, test_time_parse_errors);
	tcase_add_test(tc, test_time_short_buffer);
	tcase_add_test(tc, test_elapsed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(address_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
