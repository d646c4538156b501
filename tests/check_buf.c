/*
 * Unit tests for the byte buffer and the diagnostics list.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"

START_TEST(test_buf)
{
	struct buf	b;
	char		*s;
	size_t		 i;

	buf_init(&b);
	buf_adds(&b, "abc");
	buf_addc(&b, '-');
	buf_addf(&b, "%d", 42);
	ck_assert_str_eq(b.data, "abc-42");
	ck_assert_uint_eq(b.len, 6);
	buf_consume(&b, 4);
	ck_assert_str_eq(b.data, "42");
	buf_consume(&b, 10);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	for (i = 0; i < 10000; i++)
		buf_addf(&b, "%zu,", i);
	ck_assert(strncmp(b.data + b.len - 5, "9999,", 5) == 0);
	s = buf_detach(&b);
	ck_assert_ptr_null(b.data);
	free(s);
	s = buf_detach(&b);
	ck_assert_str_eq(s, "");
	free(s);
	buf_add(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(b.data[3], '\0');
	buf_release(&b);
}
END_TEST

START_TEST(test_diag_order)
{
	struct diag	*d = diag_new("f.yaml");
	char		*s;

	diag_add(d, 9, 1, "later");
	diag_add(d, 2, 5, "second");
	diag_add(d, 2, 5, "same place, added after");
	diag_add(d, 0, 0, "no position");
	diag_add(d, 2, 1, "first");
	ck_assert_uint_eq(diag_count(d), 5);
	diag_sort(d);
	s = diag_format(d, 0);
	ck_assert_str_eq(s, "f.yaml: no position");
	free(s);
	s = diag_format(d, 1);
	ck_assert_str_eq(s, "f.yaml:2:1: first");
	free(s);
	ck_assert_str_eq(d->v[2].msg, "second");
	ck_assert_str_eq(d->v[3].msg, "same place, added after");
	ck_assert_str_eq(d->v[4].msg, "later");
	diag_clear(d);
	ck_assert_uint_eq(diag_count(d), 0);
	diag_free(d);
}
END_TEST

START_TEST(test_diag_cap)
{
	struct diag	*d = diag_new("f");
	size_t		 i;

	for (i = 0; i < DIAG_MAX_KEPT + 50; i++)
		diag_add(d, (uint32_t)i + 1, 1, "e%zu", i);
	ck_assert_uint_eq(d->n, DIAG_MAX_KEPT);
	ck_assert_uint_eq(diag_count(d), DIAG_MAX_KEPT + 50);
	diag_free(d);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("buf");

	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_diag_order);
	tcase_add_test(tc, test_diag_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(buf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
