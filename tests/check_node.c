/*
 * Unit tests for document values, their JSON form and the YAML reader.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "node.h"
#include "nodejson.h"
#include "yamldoc.h"

/* Parse YAML that must be free of errors. */
static struct node *
parse_ok(const char *text)
{
	struct diag	*d = diag_new("t");
	struct node	*n;

	n = yamldoc_parse(text, strlen(text), d);
	ck_assert_msg(d->n == 0, "unexpected error: %s",
	    d->n ? d->v[0].msg : "");
	ck_assert_ptr_nonnull(n);
	diag_free(d);
	return n;
}

/* The compact JSON of a YAML text's value. */
static void
assert_json(const char *yaml, const char *json)
{
	struct node	*n = parse_ok(yaml);
	char		*s = nodejson_encode(n);

	ck_assert_str_eq(s, json);
	free(s);
	node_free(n);
}

START_TEST(test_core_schema)
{
	assert_json("[~, null, Null, \"\", true, False, TRUE, yes, no]",
	    "[null,null,null,\"\",true,false,true,\"yes\",\"no\"]");
	assert_json("[12, -7, +3, 0x1F, 0o17, 017, 1.5, -2e3, .5, 1e, x1]",
	    "[12,-7,3,31,15,17,1.5,-2000.0,0.5,\"1e\",\"x1\"]");
	assert_json("[\"12\", '0x1F', !!str 5, !!int \"7\"]",
	    "[\"12\",\"0x1F\",\"5\",7]");
	assert_json("[.inf, -.inf, .nan]", "[null,null,null]");
	assert_json("{1: a, true: b, null: c}",
	    "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\"}");
	assert_json("|\n  line 1\n  line 2\n", "\"line 1\\nline 2\\n\"");
	assert_json("[\"tab\\there\", \"é\", \"\\u00e9\"]",
	    "[\"tab\\there\",\"é\",\"é\"]");
}
END_TEST

START_TEST(test_positions_and_text)
{
	struct node	*n = parse_ok("a: 0755\nb:\n  - x\n  - {c: d}\n");
	struct node	*v;

	ck_assert_int_eq(n->type, NODE_MAP);
	ck_assert_uint_eq(n->line, 1);
	v = node_map_get(n, "a");
	ck_assert_int_eq(v->type, NODE_INT);
	ck_assert_int_eq(v->i, 755);
	ck_assert_str_eq(v->text, "0755");	/* the source text stays */
	ck_assert_uint_eq(v->line, 1);
	ck_assert_uint_eq(v->col, 4);
	v = node_map_get(n, "b");
	ck_assert_int_eq(v->type, NODE_SEQ);
	ck_assert_uint_eq(node_count(v), 2);
	ck_assert_uint_eq(node_item(v, 1)->line, 4);
	ck_assert_uint_eq(node_item(v, 1)->col, 5);
	ck_assert(node_is_str(node_map_get(node_item(v, 1), "c"), "d"));
	ck_assert_ptr_null(node_map_get(n, "zz"));
	node_free(n);
}
END_TEST

START_TEST(test_yaml_errors_continue)
{
	struct diag	*d = diag_new("t");
	const char	*t = "a: &x 1\nb: *x\nc: 1\nc: 2\nd: !!foo x\n";
	struct node	*n;

	n = yamldoc_parse(t, strlen(t), d);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(d->n, 4);
	/* The duplicate pair is dropped: keys are unique. */
	ck_assert_uint_eq(node_count(n), 4);
	ck_assert_int_eq(node_map_get(n, "c")->i, 1);
	ck_assert(node_map_get(n, "b")->invalid);
	node_free(n);
	diag_free(d);
}
END_TEST

START_TEST(test_copy_equal_free)
{
	struct node	*a, *b;
	size_t		 i;

	a = parse_ok("{x: [1, 2.5, null, true, s, {y: z}]}");
	b = node_copy(a);
	ck_assert(node_equal(a, b));
	node_item(node_map_get(b, "x"), 0)->i = 2;
	ck_assert(!node_equal(a, b));
	node_free(b);
	node_free(a);
	/* Deep structures free without recursion. */
	a = node_new(NODE_SEQ);
	b = a;
	for (i = 0; i < 200000; i++) {
		struct node *c = node_new(NODE_SEQ);
		node_append(b, c);
		b = c;
	}
	node_free(a);
	a = node_new_float(NAN);
	b = node_new_float(NAN);
	ck_assert(node_equal(a, b));
	ck_assert(!node_equal(a, NULL));
	node_free(a);
	node_free(b);
}
END_TEST

START_TEST(test_item_text)
{
	struct node	*n = parse_ok("[plain, 3, {a: [1, \"q\\\"\"]}]");
	char		*s;

	s = node_item_text(node_item(n, 0));
	ck_assert_str_eq(s, "plain");
	free(s);
	s = node_item_text(node_item(n, 1));
	ck_assert_str_eq(s, "3");
	free(s);
	s = node_item_text(node_item(n, 2));
	ck_assert_str_eq(s, "{\"a\":[1,\"q\\\"\"]}");
	free(s);
	node_free(n);
}
END_TEST

START_TEST(test_json_decode)
{
	struct node	*n;
	char		*err, *s;

	n = nodejson_decode("{\"a\": [1, 2.5, \"x\", null, false]}", 33, &err);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_null(err);
	s = nodejson_encode(n);
	ck_assert_str_eq(s, "{\"a\":[1,2.5,\"x\",null,false]}");
	free(s);
	node_free(n);
	n = nodejson_decode("{\"a\": 1, \"a\": 2}", 16, &err);
	ck_assert_ptr_null(n);
	ck_assert(strstr(err, "duplicate") != NULL);
	free(err);
	n = nodejson_decode("\"a\\u0000b\"", 10, &err);
	ck_assert_ptr_null(n);
	free(err);
	n = nodejson_decode("[1,", 3, &err);
	ck_assert_ptr_null(n);
	ck_assert(strstr(err, "line 1") != NULL);
	free(err);
}
END_TEST

START_TEST(test_json_invalid_utf8)
{
	struct node	*n = node_new_str("a\xff" "b", 3);
	char		*s = nodejson_encode(n);

	ck_assert_str_eq(s, "\"a?b\"");
	free(s);
	node_free(n);
}
END_TEST

static Suite *
node_suite(void)
{
	Suite	*s = suite_create("node");
	TCase	*tc = tcase_create("node");

	tcase_add_test(tc, test_core_schema);
	tcase_add_test(tc, test_positions_and_text);
	tcase_add_test(tc, test_yaml_errors_continue);
	tcase_add_test(tc, test_copy_equal_free);
	tcase_add_test(tc, test_item_text);
	tcase_add_test(tc, test_json_decode);
	tcase_add_test(tc, test_json_invalid_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(node_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
