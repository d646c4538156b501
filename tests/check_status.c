/*
 * Unit tests for lib/status.c: the full 7x7 transition table checked
 * against a table written out here by hand, the names and their
 * case-insensitive parsing, and which statuses are final or failures.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define P	STATUS_PENDING
#define R	STATUS_RUNNING
#define D	STATUS_DONE
#define CE	STATUS_CONFIG_ERROR
#define VE	STATUS_VALIDATION_ERROR
#define RE	STATUS_RUNTIME_ERROR
#define CA	STATUS_CANCELLED

/*
 * allowed[from][to], written out row by row from the rule rather than
 * computed: PENDING goes anywhere but PENDING, RUNNING goes to the five
 * finals, finals go nowhere.
 */
static const bool allowed[STATUS_COUNT][STATUS_COUNT] = {
	/*		   P  R  D  CE VE RE CA */
	[P]  =		{ 0, 1, 1, 1, 1, 1, 1 },
	[R]  =		{ 0, 0, 1, 1, 1, 1, 1 },
	[D]  =		{ 0, 0, 0, 0, 0, 0, 0 },
	[CE] =		{ 0, 0, 0, 0, 0, 0, 0 },
	[VE] =		{ 0, 0, 0, 0, 0, 0, 0 },
	[RE] =		{ 0, 0, 0, 0, 0, 0, 0 },
	[CA] =		{ 0, 0, 0, 0, 0, 0, 0 },
};

static const char *const names[STATUS_COUNT] = {
	[P] = "PENDING",
	[R] = "RUNNING",
	[D] = "DONE",
	[CE] = "CONFIG_ERROR",
	[VE] = "VALIDATION_ERROR",
	[RE] = "RUNTIME_ERROR",
	[CA] = "CANCELLED",
};

static const bool finals[STATUS_COUNT] = {
	[P] = 0, [R] = 0, [D] = 1, [CE] = 1, [VE] = 1, [RE] = 1, [CA] = 1,
};

static const bool failures[STATUS_COUNT] = {
	[P] = 0, [R] = 0, [D] = 0, [CE] = 1, [VE] = 1, [RE] = 1, [CA] = 1,
};

START_TEST(test_count)
{
	/* The enum is dense and the table above covers all of it. */
	ck_assert_int_eq(STATUS_COUNT, 7);
	ck_assert_int_eq(P, 0);
	ck_assert_int_eq(CA, STATUS_COUNT - 1);
}
END_TEST

START_TEST(test_transition_table)
{
	int	from, to;

	for (from = 0; from < STATUS_COUNT; from++)
		for (to = 0; to < STATUS_COUNT; to++)
			ck_assert_msg(status_can_change((enum status)from,
			    (enum status)to) == allowed[from][to],
			    "%s -> %s: got %d, want %d", names[from], names[to],
			    !allowed[from][to], allowed[from][to]);
}
END_TEST

START_TEST(test_transition_counts)
{
	int	from, to, n;

	/* 6 from PENDING, 5 from RUNNING, none from the five finals. */
	n = 0;
	for (from = 0; from < STATUS_COUNT; from++)
		for (to = 0; to < STATUS_COUNT; to++)
			n += status_can_change((enum status)from,
			    (enum status)to);
	ck_assert_int_eq(n, 11);
}
END_TEST

START_TEST(test_transition_self)
{
	int	s;

	/* No status changes to itself: RUNNING -> RUNNING is no change. */
	for (s = 0; s < STATUS_COUNT; s++)
		ck_assert_msg(!status_can_change((enum status)s,
		    (enum status)s), "%s -> itself allowed", names[s]);
}
END_TEST

START_TEST(test_transition_out_of_range)
{
	int	s;

	for (s = 0; s < STATUS_COUNT; s++) {
		ck_assert(!status_can_change((enum status)s,
		    (enum status)STATUS_COUNT));
		ck_assert(!status_can_change((enum status)STATUS_COUNT,
		    (enum status)s));
		ck_assert(!status_can_change((enum status)s, (enum status)-1));
		ck_assert(!status_can_change((enum status)-1, (enum status)s));
	}
}
END_TEST

START_TEST(test_names)
{
	int	s;

	for (s = 0; s < STATUS_COUNT; s++)
		ck_assert_str_eq(status_name((enum status)s), names[s]);
	ck_assert_str_eq(status_name((enum status)STATUS_COUNT), "UNKNOWN");
	ck_assert_str_eq(status_name((enum status)-1), "UNKNOWN");
}
END_TEST

/* Copy name to out, lower-casing each letter whose bit in mask is set. */
static void
mixed_case(char *out, const char *name, unsigned mask)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] >= 'A' && name[i] <= 'Z' && (mask >> (i % 31)) & 1)
			out[i] = (char)(name[i] - 'A' + 'a');
		else
			out[i] = name[i];
	}
	out[i] = '\0';
}

START_TEST(test_from_name)
{
	static const unsigned	 masks[] = {
		0, ~0u, 0x55555555, 0x2aaaaaaa, 0x1, 0x40000000,
	};
	char			 buf[64];
	enum status		 got;
	size_t			 m;
	int			 s;

	for (s = 0; s < STATUS_COUNT; s++) {
		for (m = 0; m < sizeof masks / sizeof masks[0]; m++) {
			mixed_case(buf, names[s], masks[m]);
			got = (enum status)-1;
			ck_assert_msg(status_from_name(buf, &got) == 0,
			    "\"%s\" refused", buf);
			ck_assert_msg((int)got == s, "\"%s\" -> %d, want %d",
			    buf, (int)got, s);
		}
		/* And the round trip through status_name. */
		got = (enum status)-1;
		ck_assert_int_eq(status_from_name(status_name((enum status)s),
		    &got), 0);
		ck_assert_int_eq(got, s);
	}
}
END_TEST

START_TEST(test_from_name_unknown)
{
	static const char *const bad[] = {
		"", " ", "DONE ", " DONE", "DON", "DONEE", "D0NE", "UNKNOWN",
		"CONFIG-ERROR", "CONFIG ERROR", "CONFIGERROR", "CANCELED",
		"FAILED", "ERROR", "RUNNING\n", "PENDING_", "pend", "done\t",
		"VALIDATION", "RUNTIME", "STATUS_DONE",
	};
	enum status	got;
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		got = STATUS_RUNTIME_ERROR;
		ck_assert_msg(status_from_name(bad[i], &got) == -1,
		    "\"%s\" accepted", bad[i]);
		ck_assert_msg(got == STATUS_RUNTIME_ERROR,
		    "\"%s\" refused but wrote %d", bad[i], (int)got);
	}
}
END_TEST

START_TEST(test_final_failure)
{
	int	s;

	for (s = 0; s < STATUS_COUNT; s++) {
		ck_assert_msg(status_is_final((enum status)s) == finals[s],
		    "is_final(%s)", names[s]);
		ck_assert_msg(status_is_failure((enum status)s) ==
		    failures[s], "is_failure(%s)", names[s]);
	}
	ck_assert(!status_is_final((enum status)STATUS_COUNT));
	ck_assert(!status_is_failure((enum status)STATUS_COUNT));
	ck_assert(!status_is_final((enum status)-1));
	ck_assert(!status_is_failure((enum status)-1));
}
END_TEST

START_TEST(test_table_consistency)
{
	int	from, to;

	/* What can change is exactly what can be left, into something later. */
	for (from = 0; from < STATUS_COUNT; from++)
		for (to = 0; to < STATUS_COUNT; to++)
			if (status_can_change((enum status)from,
			    (enum status)to)) {
				ck_assert(!status_is_final((enum status)from));
				ck_assert(to != STATUS_PENDING);
			}
}
END_TEST

/* All the status tests. */
static Suite *
status_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("status");

	tc = tcase_create("transitions");
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_transition_table);
	tcase_add_test(tc, test_transition_counts);
	tcase_add_test(tc, test_transition_self);
	tcase_add_test(tc, test_transition_out_of_range);
	tcase_add_test(tc, test_table_consistency);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_from_name);
	tcase_add_test(tc, test_from_name_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("classes");
	tcase_add_test(tc, test_final_failure);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(status_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
