/*
 * Unit tests for the socket protocol's framing and encoding: frames, round
 * trips, and every kind of hostile body the decoder must refuse without
 * crashing or allocating what the bytes merely announce.
 */
#include "config.h"

#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node.h"
#include "proto.h"
#include "xmalloc.h"

/*
 * Under AddressSanitizer, count allocations and note the largest, so that
 * "no allocation" and "no allocation from an announced length" are tested
 * directly rather than inferred from the process size.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ALLOC_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ALLOC_HOOKS 1
#endif
#endif

#ifdef HAVE_ALLOC_HOOKS
int	__sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t),
	    void (*)(const volatile void *));

static volatile int	alloc_tracking;
static volatile size_t	alloc_count, alloc_max;

static void
alloc_hook_cb(const volatile void *p, size_t size)
{
	if (!alloc_tracking)
		return;
	alloc_count++;
	if (size > alloc_max)
		alloc_max = size;
}

static void
free_hook_cb(const volatile void *p)
{
}
#endif

/* Start counting allocations. */
static void
alloc_track(void)
{
#ifdef HAVE_ALLOC_HOOKS
	alloc_count = alloc_max = 0;
	alloc_tracking = 1;
#endif
}

/* Stop counting. */
static void
alloc_untrack(void)
{
#ifdef HAVE_ALLOC_HOOKS
	alloc_tracking = 0;
#endif
}

/* The resident set size in KiB, from /proc/self/status. */
static long
rss_kib(void)
{
	FILE	*f;
	char	 line[256];
	long	 kib = -1;

	f = fopen("/proc/self/status", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	ck_assert_int_gt(kib, 0);
	return kib;
}

/* A string value. */
static struct node *
str(const char *s)
{
	return node_new_str(s, strlen(s));
}

/* A map with one pair: the smallest message that can hold any value. */
static struct node *
wrap(struct node *v)
{
	struct node	*m = node_new(NODE_MAP);

	node_map_set_str(m, "v", v);
	return m;
}

/*
 * Decode from a heap copy of exactly len bytes, so that AddressSanitizer
 * sees any read past the end.
 */
static struct node *
decode(const void *p, size_t len, const struct proto_limits *lim, char **err)
{
	uint8_t		*copy;
	struct node	*n;

	copy = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(copy, p, len);
	n = proto_decode(copy, len, lim, err);
	free(copy);
	return n;
}

/* Bytes that must decode; the value is returned. */
static struct node *
decode_ok(const void *p, size_t len)
{
	struct node	*n;
	char		*err;

	n = decode(p, len, NULL, &err);
	ck_assert_msg(n != NULL, "refused: %s", err);
	ck_assert_ptr_null(err);
	return n;
}

/* Bytes that must be refused with a message containing want. */
static void
refused_lim(const void *p, size_t len, const struct proto_limits *lim,
    const char *want)
{
	struct node	*n;
	char		*err;

	n = decode(p, len, lim, &err);
	ck_assert_msg(n == NULL, "accepted %zu bytes that should fail with %s",
	    len, want);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"",
	    err, want);
	free(err);
}

/* Bytes that must be refused under the default limits. */
static void
refused(const void *p, size_t len, const char *want)
{
	refused_lim(p, len, NULL, want);
}

#define REFUSED(bytes, want)	refused(bytes, sizeof(bytes) - 1, want)
#define DECODE_OK(bytes)	decode_ok(bytes, sizeof(bytes) - 1)
#define ACCEPTED(bytes)		node_free(DECODE_OK(bytes))

/* Encode, check the frame, decode, and compare with the original. */
static void
roundtrip(struct node *msg)
{
	struct buf	 b;
	struct node	*back;
	size_t		 body_len, need;

	buf_init(&b);
	proto_encode(&b, msg);
	ck_assert_uint_ge(b.len, PROTO_HEADER + 1);
	ck_assert_int_eq(proto_frame((uint8_t *)b.data, b.len, PROTO_MAX_FRAME,
	    &body_len, &need), 1);
	ck_assert_uint_eq(body_len, b.len - PROTO_HEADER);
	ck_assert_uint_eq(need, b.len);
	back = decode_ok(b.data + PROTO_HEADER, body_len);
	ck_assert(node_equal(msg, back));
	node_free(back);
	buf_release(&b);
	node_free(msg);
}

/* The body of msg's frame, in b. */
static void
encode_body(struct buf *b, const struct node *msg)
{
	buf_init(b);
	proto_encode(b, msg);
	buf_consume(b, PROTO_HEADER);
}

/* A message using every type and most length formats. */
static struct node *
complex_msg(void)
{
	struct node	*m, *args, *seq, *map;
	char		 big[300];
	int		 i;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	m = node_new(NODE_MAP);
	node_map_set_str(m, "v", node_new_int(1));
	node_map_set_str(m, "id", node_new_int(42));
	node_map_set_str(m, "op", str("submit"));
	args = node_new(NODE_MAP);
	node_map_set_str(args, "name", str("nightly-\xc3\xa9t\xc3\xa9"));
	node_map_set_str(args, "bin", node_new_bin("\0\xff\0x", 4));
	node_map_set_str(args, "f", node_new_float(-1.5));
	node_map_set_str(args, "neg", node_new_int(-100000));
	node_map_set_str(args, "max", node_new_int(INT64_MAX));
	node_map_set_str(args, "min", node_new_int(INT64_MIN));
	node_map_set_str(args, "long", str(big));
	node_map_set_str(args, "mid", node_new_str(big, 100));
	node_map_set_str(args, "null", node_new(NODE_NULL));
	node_map_set_str(args, "t", node_new_bool(true));
	seq = node_new(NODE_SEQ);
	for (i = 0; i < 20; i++)
		node_append(seq, node_new_int(i * 1000));
	node_map_set_str(args, "seq", seq);
	map = node_new(NODE_MAP);
	for (i = 0; i < 17; i++)
		node_map_put(map, node_new_str(big, (size_t)i + 1),
		    node_new_bool(i % 2));
	node_map_set_str(args, "map", map);
	node_map_set_str(args, "empty", node_new(NODE_MAP));
	node_map_set_str(args, "none", node_new(NODE_SEQ));
	node_map_set_str(m, "args", args);
	return m;
}

/* The defaults are the documented ones. */
START_TEST(test_limits_default)
{
	struct proto_limits	lim;

	proto_limits_default(&lim);
	ck_assert_uint_eq(lim.max_frame, 16u * 1024 * 1024);
	ck_assert_uint_eq(lim.max_depth, 32);
	ck_assert_uint_eq(lim.max_objects, 1u << 20);
}
END_TEST

/* Partial headers and bodies ask for the right total. */
START_TEST(test_frame_partial)
{
	const uint8_t	f[] = { 0, 0, 0, 3, 0x80, 0x80, 0x80 };
	size_t		body_len, need, i;

	/* Without the whole header, ask for the header. */
	for (i = 0; i < PROTO_HEADER; i++) {
		ck_assert_int_eq(proto_frame(f, i, 100, &body_len, &need), 0);
		ck_assert_uint_eq(need, PROTO_HEADER);
	}
	/* Then for the whole frame. */
	for (i = PROTO_HEADER; i < sizeof f; i++) {
		ck_assert_int_eq(proto_frame(f, i, 100, &body_len, &need), 0);
		ck_assert_uint_eq(need, sizeof f);
	}
}
END_TEST

/*
 * A whole frame is found, whatever follows it; length 0 frames but does not
 * decode.
 */
START_TEST(test_frame_whole)
{
	const uint8_t	f[] = { 0, 0, 0, 2, 0x81, 0x80, 0, 0, 0, 9 };
	const uint8_t	zero[] = { 0, 0, 0, 0 };
	size_t		body_len, need;
	char		*err;

	ck_assert_int_eq(proto_frame(f, 6, 100, &body_len, &need), 1);
	ck_assert_uint_eq(body_len, 2);
	ck_assert_uint_eq(need, 6);
	/* The start of the next frame does not matter. */
	ck_assert_int_eq(proto_frame(f, sizeof f, 100, &body_len, &need), 1);
	ck_assert_uint_eq(body_len, 2);
	ck_assert_uint_eq(need, 6);
	/* A zero length frames fine, but an empty body is no message. */
	ck_assert_int_eq(proto_frame(zero, 4, 100, &body_len, &need), 1);
	ck_assert_uint_eq(body_len, 0);
	ck_assert_uint_eq(need, 4);
	ck_assert_ptr_null(decode(zero + 4, 0, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	free(err);
}
END_TEST

/* max_frame itself is allowed, one more byte is refused, without allocating. */
START_TEST(test_frame_max)
{
	uint8_t		f[4 + 17] = { 0, 0, 0, 16 };
	const uint8_t	huge[] = { 0xff, 0xff, 0xff, 0xff };
	size_t		body_len, need;
	int		r;

	/* Exactly max_frame is allowed, partial or whole. */
	ck_assert_int_eq(proto_frame(f, 4, 16, &body_len, &need), 0);
	ck_assert_uint_eq(need, 20);
	ck_assert_int_eq(proto_frame(f, 20, 16, &body_len, &need), 1);
	ck_assert_uint_eq(body_len, 16);
	/* One more is refused as soon as the header is in. */
	f[3] = 17;
	ck_assert_int_eq(proto_frame(f, 4, 16, &body_len, &need), -1);
	ck_assert_uint_eq(body_len, 17);
	ck_assert_int_eq(proto_frame(f, sizeof f, 16, &body_len, &need), -1);
	/* The largest length the header can hold. */
	alloc_track();
	r = proto_frame(huge, 4, PROTO_MAX_FRAME, &body_len, &need);
	alloc_untrack();
	ck_assert_int_eq(r, -1);
	ck_assert_uint_eq(body_len, 0xffffffffu);
#ifdef HAVE_ALLOC_HOOKS
	ck_assert_uint_eq(alloc_count, 0);
#endif
	/* Allowed when the cap allows it: then the need is just reported. */
	ck_assert_int_eq(proto_frame(huge, 4, SIZE_MAX, &body_len, &need), 0);
	ck_assert_uint_eq(need, 4 + (size_t)0xffffffffu);
}
END_TEST

/* The exact bytes of small frames, appended one after the other. */
START_TEST(test_encode_bytes)
{
	const uint8_t	 want[] = { 0, 0, 0, 4, 0x81, 0xa1, 'a', 0x01,
	    0, 0, 0, 7, 0x81, 0xa1, 'b', 0xc4, 0x02, 0x00, 0xff };
	struct node	*m;
	struct buf	 b;

	buf_init(&b);
	m = node_new(NODE_MAP);
	node_map_set_str(m, "a", node_new_int(1));
	proto_encode(&b, m);
	node_free(m);
	/* Appends: the second frame follows the first. */
	m = node_new(NODE_MAP);
	node_map_set_str(m, "b", node_new_bin("\0\xff", 2));
	proto_encode(&b, m);
	node_free(m);
	ck_assert_uint_eq(b.len, sizeof want);
	ck_assert_mem_eq(b.data, want, sizeof want);
	buf_release(&b);
}
END_TEST

/* Every scalar type survives encode and decode, at each format boundary. */
START_TEST(test_roundtrip_scalars)
{
	const int64_t	 ints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	    INT32_MAX, UINT32_MAX, (int64_t)UINT32_MAX + 1, INT64_MAX, -1, -32,
	    -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
	    INT64_MIN };
	const double	 floats[] = { 0.0, 1.5, -2.25, 1e300, -1e-300,
	    DBL_MIN, DBL_MAX, INFINITY, -INFINITY, NAN, 0.1 };
	const size_t	 lens[] = { 0, 1, 31, 32, 255, 256, 65535, 65536 };
	struct node	*m, *back;
	struct buf	 b;
	char		*s;
	size_t		 i, j;

	roundtrip(wrap(node_new(NODE_NULL)));
	roundtrip(wrap(node_new_bool(true)));
	roundtrip(wrap(node_new_bool(false)));
	for (i = 0; i < sizeof ints / sizeof ints[0]; i++)
		roundtrip(wrap(node_new_int(ints[i])));
	for (i = 0; i < sizeof floats / sizeof floats[0]; i++)
		roundtrip(wrap(node_new_float(floats[i])));
	/* Lengths either side of each str and bin format boundary. */
	s = xmalloc(65537);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (j = 0; j < lens[i]; j++)
			s[j] = (char)('a' + j % 26);
		roundtrip(wrap(node_new_str(s, lens[i])));
		for (j = 0; j < lens[i]; j++)
			s[j] = (char)(j * 7);	/* NULs and high bytes */
		roundtrip(wrap(node_new_bin(s, lens[i])));
	}
	free(s);
	roundtrip(wrap(str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")));
	/* -0.0 keeps its sign, as the float64 format does. */
	m = wrap(node_new_float(-0.0));
	encode_body(&b, m);
	back = decode_ok(b.data, b.len);
	ck_assert(signbit(node_map_get(back, "v")->f));
	node_free(back);
	node_free(m);
	buf_release(&b);
}
END_TEST

/* Lists and maps of every size class, empty and nested, survive too. */
START_TEST(test_roundtrip_containers)
{
	const size_t	 counts[] = { 0, 1, 15, 16, 65535, 65536 };
	struct node	*seq, *map, *cur, *next;
	char		 key[32];
	size_t		 i, j;

	for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		seq = node_new(NODE_SEQ);
		map = node_new(NODE_MAP);
		for (j = 0; j < counts[i]; j++) {
			node_append(seq, node_new_int((int64_t)j));
			snprintf(key, sizeof key, "k%zu", j);
			node_map_set_str(map, key, node_new_int(-(int64_t)j));
		}
		roundtrip(wrap(seq));
		roundtrip(map);
	}
	/* Nested, alternating lists and maps, with a value at each level. */
	cur = complex_msg();
	for (i = 0; i < 13; i++) {
		if (i % 2) {
			next = node_new(NODE_SEQ);
			node_append(next, node_new_int((int64_t)i));
			node_append(next, cur);
		} else {
			next = node_new(NODE_MAP);
			node_map_set_str(next, "x", node_new_float(0.5));
			node_map_set_str(next, "in", cur);
		}
		cur = next;
	}
	roundtrip(cur);
	roundtrip(complex_msg());
}
END_TEST

/* The 5-byte (and 3-byte) bodies that make msgpack-c allocate gigabytes. */
static const struct {
	const char	*bytes;
	size_t		 len;
	const char	*want;
} bombs[] = {
	{ "\xdd\xff\xff\xff\xff", 5, "array count 4294967295 at offset 0" },
	{ "\xdf\xff\xff\xff\xff", 5, "map count 4294967295 at offset 0" },
	{ "\xdb\xff\xff\xff\xff", 5, "string length 4294967295 at offset 0" },
	{ "\xc6\xff\xff\xff\xff", 5, "binary length 4294967295 at offset 0" },
	{ "\xdc\xff\xff", 3, "array count 65535 at offset 0" },
	{ "\xde\xff\xff", 3, "map count 65535 at offset 0" },
	{ "\xda\xff\xff", 3, "string length 65535 at offset 0" },
	{ "\xc5\xff\xff", 3, "binary length 65535 at offset 0" },
};
#define NBOMBS	(sizeof bombs / sizeof bombs[0])

/*
 * Bomb i in a whole frame (in an exact-size heap copy), bare (nested == 0)
 * or as a map's value.
 */
static uint8_t *
bomb_frame(size_t i, int nested, size_t *len)
{
	struct buf	 b;
	uint8_t		*f;
	size_t		 body_len, need;
	int		 r;

	buf_init(&b);
	buf_add(&b, "\0\0\0", 4);
	if (nested)
		buf_add(&b, "\x81\xa1p", 3);
	buf_add(&b, bombs[i].bytes, bombs[i].len);
	b.data[3] = (char)(b.len - 4);
	f = xmalloc(b.len);
	memcpy(f, b.data, b.len);
	*len = b.len;
	buf_release(&b);
	r = proto_frame(f, *len, PROTO_MAX_FRAME, &body_len, &need);
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(body_len, *len - PROTO_HEADER);
	return f;
}

/*
 * Announced sizes that the body cannot hold are refused, with no allocation
 * from them.
 */
START_TEST(test_bombs)
{
	uint8_t	*frames[2 * NBOMBS];
	size_t	 lens[2 * NBOMBS], i, k;
	long	 before, after;
	char	*err;

	for (i = 0; i < 2 * NBOMBS; i++) {
		frames[i] = bomb_frame(i / 2, (int)(i % 2), &lens[i]);
		ck_assert_ptr_null(proto_decode(frames[i] + PROTO_HEADER,
		    lens[i] - PROTO_HEADER, NULL, &err));
		ck_assert_msg(strstr(err, "runs past the end") != NULL &&
		    (i % 2 || strstr(err, bombs[i / 2].want) != NULL),
		    "bomb %zu: %s", i, err);
		free(err);
	}
	/* Only the error messages are allocated, each a few dozen bytes. */
	before = rss_kib();
	alloc_track();
	for (k = 0; k < 1000; k++) {
		i = k % (2 * NBOMBS);
		if (proto_decode(frames[i] + PROTO_HEADER,
		    lens[i] - PROTO_HEADER, NULL, &err) != NULL)
			break;
		free(err);
	}
	alloc_untrack();
	after = rss_kib();
	ck_assert_uint_eq(k, 1000);
	ck_assert_msg(after - before < 1024, "RSS grew by %ld KiB",
	    after - before);
#ifdef HAVE_ALLOC_HOOKS
	ck_assert_msg(alloc_count == 1000 && alloc_max < 256,
	    "%zu allocations, the largest of %zu bytes", (size_t)alloc_count,
	    (size_t)alloc_max);
#endif
	for (i = 0; i < 2 * NBOMBS; i++)
		free(frames[i]);
}
END_TEST

/* depth containers: one map, then depth - 1 maps or lists in it. */
static void
nest(struct buf *b, size_t depth, int lists, int empty)
{
	size_t	i;

	buf_init(b);
	buf_add(b, "\x81\xa1k", 3);
	for (i = 1; i < depth; i++) {
		if (lists)
			buf_addc(b, (char)(empty && i == depth - 1 ?
			    0x90 : 0x91));
		else if (empty && i == depth - 1)
			buf_addc(b, (char)0x80);
		else
			buf_add(b, "\x81\xa1k", 3);
	}
	if (!empty || depth == 1)
		buf_addc(b, 0x07);
}

/* Nesting of 32 passes and 33 does not, for maps and lists, empty or not. */
START_TEST(test_depth)
{
	struct proto_limits	 lim;
	struct buf		 b;
	struct node		*n;
	char			*err;
	int			 lists, empty;

	for (lists = 0; lists < 2; lists++) {
		for (empty = 0; empty < 2; empty++) {
			nest(&b, 32, lists, empty);
			n = decode_ok(b.data, b.len);
			node_free(n);
			buf_release(&b);
			nest(&b, 33, lists, empty);
			refused(b.data, b.len, "nesting deeper than 32");
			buf_release(&b);
		}
	}
	/* A lower limit is kept; a higher one cannot pass msgpack-c's 32. */
	proto_limits_default(&lim);
	lim.max_depth = 3;
	nest(&b, 3, 1, 0);
	n = decode(b.data, b.len, &lim, &err);
	ck_assert_msg(n != NULL, "%s", err);
	node_free(n);
	buf_release(&b);
	nest(&b, 4, 1, 0);
	refused_lim(b.data, b.len, &lim, "nesting deeper than 3");
	buf_release(&b);
	lim.max_depth = 100;
	nest(&b, 33, 0, 0);
	refused_lim(b.data, b.len, &lim, "nesting deeper than 32");
	buf_release(&b);
}
END_TEST

/* Deep nesting is refused at the limit, long before the end of the bytes. */
START_TEST(test_depth_1000)
{
	struct buf	b;
	size_t		i;

	nest(&b, 1000, 1, 0);
	refused(b.data, b.len, "nesting deeper than 32");
	buf_release(&b);
	nest(&b, 1000, 0, 1);
	refused(b.data, b.len, "nesting deeper than 32");
	buf_release(&b);
	/* Unclosed, and each level announcing 2^32 - 1 items. */
	buf_init(&b);
	for (i = 0; i < 1000; i++)
		buf_addc(&b, (char)0x91);
	refused(b.data, b.len, "nesting deeper than 32");
	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		buf_add(&b, "\xdd\x00\x00\x00\x01", 5);
	refused(b.data, b.len, "nesting deeper than 32");
	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		buf_add(&b, "\xdd\xff\xff\xff\xff", 5);
	refused(b.data, b.len, "runs past the end");
	buf_release(&b);
}
END_TEST

/* The value count is enforced exactly, at a custom and at the default limit. */
START_TEST(test_max_objects)
{
	struct proto_limits	 lim;
	struct buf		 b;
	struct node		*n;
	size_t			 items;
	char			*err;

	/* A map of 4 pairs is 9 values. */
	proto_limits_default(&lim);
	lim.max_objects = 9;
	n = decode("\x84\xa1" "a\x01\xa1" "b\x02\xa1" "c\x03\xa1" "d\x04", 13,
	    &lim, &err);
	ck_assert_msg(n != NULL, "%s", err);
	node_free(n);
	refused_lim("\x85\xa1" "a\x01\xa1" "b\x02\xa1" "c\x03\xa1" "d\x04\xa1"
	    "e\x05", 16, &lim, "more than 9 values");
	/* The default, exactly: map, key, list and its items. */
	for (items = PROTO_MAX_OBJECTS - 3; items <= PROTO_MAX_OBJECTS - 2;
	    items++) {
		buf_init(&b);
		buf_add(&b, "\x81\xa1" "a\xdd", 4);
		buf_addc(&b, (char)(items >> 24));
		buf_addc(&b, (char)(items >> 16));
		buf_addc(&b, (char)(items >> 8));
		buf_addc(&b, (char)items);
		buf_reserve(&b, items);
		memset(b.data + b.len, 0xc0, items);
		b.len += items;
		if (items == PROTO_MAX_OBJECTS - 3) {
			n = decode_ok(b.data, b.len);
			ck_assert_uint_eq(node_count(node_map_get(n, "a")),
			    items);
			node_free(n);
		} else
			refused(b.data, b.len, "more than 1048576 values");
		buf_release(&b);
	}
}
END_TEST

/* Every ext and fixext format, and the reserved byte, are refused. */
START_TEST(test_ext_reserved)
{
	REFUSED("\x81\xa1" "a\xd4\x01\x00", "ext value at offset 3");
	REFUSED("\x81\xa1" "a\xd5\x01\x00\x00", "ext value");
	REFUSED("\x81\xa1" "a\xd6\x01\x00\x00\x00\x00", "ext value");
	REFUSED("\x81\xa1" "a\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00",
	    "ext value");
	REFUSED("\x81\xa1" "a\xd8\x01" "0123456789abcdef", "ext value");
	REFUSED("\x81\xa1" "a\xc7\x01\x01\x00", "ext value");
	REFUSED("\x81\xa1" "a\xc8\x00\x01\x01\x00", "ext value");
	REFUSED("\x81\xa1" "a\xc9\x00\x00\x00\x01\x01\x00", "ext value");
	REFUSED("\xc9\xff\xff\xff\xff\x01", "ext value at offset 0");
	REFUSED("\xd6\xff\x00\x00\x00\x00", "ext value");	/* timestamp */
	REFUSED("\x81\xa1" "a\xc1", "reserved byte 0xc1 at offset 3");
	REFUSED("\xc1", "reserved byte 0xc1");
}
END_TEST

/* A body must end where its value ends. */
START_TEST(test_trailing)
{
	REFUSED("\x80\x00", "1 trailing bytes after the message at offset 1");
	REFUSED("\x80\x80", "trailing bytes");
	REFUSED("\x81\xa1" "a\x01\xc0\xc0\xc0", "3 trailing bytes");
	REFUSED("\x81\xa1" "a\x91\x01\x02", "1 trailing bytes");
	ACCEPTED("\x80");
}
END_TEST

/*
 * Every prefix of a valid frame waits for more, and every prefix of its body
 * is refused.
 */
START_TEST(test_truncated)
{
	struct node	*m;
	struct buf	 f;
	size_t		 i, body_len, need;
	char		*err;

	m = complex_msg();
	buf_init(&f);
	proto_encode(&f, m);
	node_free(m);
	for (i = 0; i < f.len; i++) {
		ck_assert_int_eq(proto_frame((uint8_t *)f.data, i,
		    PROTO_MAX_FRAME, &body_len, &need), 0);
		ck_assert_uint_eq(need,
		    i < PROTO_HEADER ? PROTO_HEADER : f.len);
	}
	for (i = 0; i < f.len - PROTO_HEADER; i++) {
		m = decode(f.data + PROTO_HEADER, i, NULL, &err);
		ck_assert_msg(m == NULL, "prefix of %zu bytes accepted", i);
		ck_assert_ptr_nonnull(err);
		free(err);
	}
	node_free(decode_ok(f.data + PROTO_HEADER, f.len - PROTO_HEADER));
	buf_release(&f);
}
END_TEST

/* Map keys must be text and unique; error messages quote them safely. */
START_TEST(test_keys)
{
	struct buf	b;
	char		key[32];
	size_t		i;

	REFUSED("\x81\x01\x01", "map key is not a string");
	REFUSED("\x81\xc0\x01", "map key is not a string");
	REFUSED("\x81\xc4\x01" "a\x01", "map key is not a string");
	REFUSED("\x81\x91\x01\x01", "map key is not a string");
	REFUSED("\x81\x80\x01", "map key is not a string");
	REFUSED("\x81\xa1" "a\x81\x01\x01", "map key is not a string "
	    "(under 'a')");
	REFUSED("\x82\xa2" "op\x01\xa2" "op\x02", "duplicate key 'op'");
	REFUSED("\x82\xa0\x01\xa0\x02", "duplicate key ''");
	REFUSED("\x81\xa1" "a\x83\xa1" "x\x01\xa1" "y\x02\xa1" "x\x03",
	    "duplicate key 'x'");
	REFUSED("\x82\xa2" "\n\x1b\x01\xa2\n\x1b\x02", "duplicate key '?" "?'");
	ACCEPTED("\x83\xa1" "a\x01\xa2" "ab\x02\xa1" "b\x03");
	/* A long key is shortened; a big map is checked by sorting. */
	buf_init(&b);
	buf_addc(&b, (char)0x82);
	for (i = 0; i < 2; i++) {
		buf_add(&b, "\xd9\x64", 2);
		memset(key, 'k', 25);
		buf_add(&b, key, 25);
		buf_add(&b, key, 25);
		buf_add(&b, key, 25);
		buf_add(&b, key, 25);
		buf_addc(&b, 0x01);
	}
	refused(b.data, b.len, "duplicate key 'kkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkk...'");
	/* ... and never in the middle of a character. */
	buf_reset(&b);
	buf_addc(&b, (char)0x82);
	for (i = 0; i < 2; i++) {
		buf_add(&b, "\xd9\x2b", 2);	/* 39 + 2 + 2 bytes */
		buf_add(&b, key, 25);
		buf_add(&b, key, 14);
		buf_add(&b, "\xc3\xa9zz", 4);
		buf_addc(&b, 0x01);
	}
	refused(b.data, b.len, "duplicate key 'kkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkk...'");
	buf_reset(&b);
	buf_add(&b, "\xde\x03\xe9", 3);		/* 1001 pairs */
	for (i = 0; i <= 1000; i++) {
		snprintf(key, sizeof key, "k%zu", i == 1000 ? (size_t)500 : i);
		buf_addc(&b, (char)(0xa0 | strlen(key)));
		buf_adds(&b, key);
		buf_addc(&b, 0x00);
	}
	refused(b.data, b.len, "duplicate key 'k500'");
	buf_release(&b);
}
END_TEST

/* A message {"s": <string of these bytes>}. */
static struct node *
decode_text(const char *bytes, size_t len, char **err)
{
	struct buf	 b;
	struct node	*n;

	buf_init(&b);
	buf_add(&b, "\x81\xa1s\xd9", 4);
	buf_addc(&b, (char)len);
	buf_add(&b, bytes, len);
	n = decode(b.data, b.len, NULL, err);
	buf_release(&b);
	return n;
}

/* Text must be strict UTF-8 without NUL; bin may hold anything. */
START_TEST(test_utf8)
{
	static const char *const good[] = { "", "plain", "\x7f", "\xc2\x80",
	    "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
	    "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" };
	static const char *const bad[] = { "\xc0\x80", "\xc1\xbf",
	    "\xe0\x80\x80", "\xe0\x9f\xbf", "\xf0\x80\x80\x80",
	    "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
	    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
	    "\xff", "\xfe", "\x80", "\xbf", "a\xc3", "\xc3\x28", "\xe2\x82",
	    "\xe2\x82\x41", "\xf0\x9f\x98", "x\xf0\x9f\x98\x80\x80" };
	struct node	*n;
	char		*err;
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		n = decode_text(good[i], strlen(good[i]), &err);
		ck_assert_msg(n != NULL, "good[%zu] refused: %s", i, err);
		ck_assert(node_is_str(node_map_get(n, "s"), good[i]));
		node_free(n);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = decode_text(bad[i], strlen(bad[i]), &err);
		ck_assert_msg(n == NULL, "bad[%zu] accepted", i);
		ck_assert_str_eq(err, "string is not valid UTF-8 (under 's')");
		free(err);
	}
	n = decode_text("a\0b", 3, &err);
	ck_assert_ptr_null(n);
	ck_assert_str_eq(err, "string contains NUL (under 's')");
	free(err);
	REFUSED("\x81\xa2\xc3\x28\x01", "map key is not valid UTF-8");
	REFUSED("\x81\xa2" "a\x00\x01", "map key contains NUL");
	REFUSED("\x81\xa1" "a\x92\x01\xa1\x00", "string contains NUL "
	    "(under 'a')");
	/* Bytes are not text: anything goes in bin. */
	ACCEPTED("\x81\xa1" "b\xc4\x03\x00\xff\xc0");
}
END_TEST

/* Integers must fit int64, in whatever width they come. */
START_TEST(test_integers)
{
	struct node	*n;

	n = DECODE_OK("\x81\xa1" "a\xcf\x7f\xff\xff\xff\xff\xff\xff\xff");
	ck_assert(node_map_get(n, "a")->i == INT64_MAX);
	node_free(n);
	n = DECODE_OK("\x81\xa1" "a\xd3\x80\x00\x00\x00\x00\x00\x00\x00");
	ck_assert(node_map_get(n, "a")->i == INT64_MIN);
	node_free(n);
	REFUSED("\x81\xa1" "a\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
	    "integer 9223372036854775808 is out of range");
	REFUSED("\x81\xa1" "a\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
	    "integer 18446744073709551615 is out of range");
	/* Wider formats than needed are still the same numbers. */
	n = DECODE_OK("\x86\xa1" "a\xcc\x05\xa1" "b\xcd\x00\x05\xa1" "c\xce"
	    "\x00\x00\x00\x05\xa1" "d\xd0\xfb\xa1" "e\xd3\xff\xff\xff\xff\xff"
	    "\xff\xff\xfb\xa1" "f\xca\x3f\xc0\x00\x00");
	ck_assert_int_eq(node_map_get(n, "a")->i, 5);
	ck_assert_int_eq(node_map_get(n, "b")->i, 5);
	ck_assert_int_eq(node_map_get(n, "c")->i, 5);
	ck_assert_int_eq(node_map_get(n, "d")->i, -5);
	ck_assert_int_eq(node_map_get(n, "e")->i, -5);
	ck_assert_int_eq(node_map_get(n, "f")->type, NODE_FLOAT);
	ck_assert(node_map_get(n, "f")->f == 1.5);
	node_free(n);
}
END_TEST

/* A message is a map, and nothing else. */
START_TEST(test_not_a_map)
{
	REFUSED("\x90", "a message must be a map");
	REFUSED("\x91\x80", "a message must be a map");
	REFUSED("\xa2op", "a message must be a map");
	REFUSED("\x01", "a message must be a map");
	REFUSED("\xc0", "a message must be a map");
	REFUSED("\xc3", "a message must be a map");
	REFUSED("\xc4\x00", "a message must be a map");
	REFUSED("\xcb\x00\x00\x00\x00\x00\x00\x00\x00",
	    "a message must be a map");
	REFUSED("\xcb\x00\x00", "cut off by the end of the frame (3 bytes)");
	REFUSED("\x81", "map count 1 at offset 0 runs past the end (1 bytes)");
	REFUSED("\x82\xa1" "a\x01\xa1" "b", "the frame ends at offset 6 "
	    "where a value should follow");
}
END_TEST

/* The field readers return values only of the asked type. */
START_TEST(test_get)
{
	struct node	*m;
	int64_t		 i = 99;
	bool		 b = false;

	m = DECODE_OK("\x85\xa1s\xa1x\xa1i\x05\xa1" "b\xc3\xa1n\xc0\xa1"
	    "f\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00");
	ck_assert_ptr_nonnull(proto_get(m, "n"));
	ck_assert_int_eq(proto_get(m, "n")->type, NODE_NULL);
	ck_assert_ptr_null(proto_get(m, "zz"));
	ck_assert_ptr_null(proto_get(NULL, "s"));
	ck_assert_str_eq(proto_get_str(m, "s"), "x");
	ck_assert_ptr_null(proto_get_str(m, "i"));
	ck_assert_ptr_null(proto_get_str(m, "zz"));
	ck_assert_int_eq(proto_get_int(m, "i", &i), 0);
	ck_assert_int_eq(i, 5);
	ck_assert_int_eq(proto_get_int(m, "s", &i), -1);
	ck_assert_int_eq(proto_get_int(m, "f", &i), -1); /* no rounding */
	ck_assert_int_eq(proto_get_int(m, "zz", &i), -1);
	ck_assert_int_eq(i, 5);
	ck_assert_int_eq(proto_get_bool(m, "b", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(proto_get_bool(m, "i", &b), -1);
	ck_assert_int_eq(proto_get_bool(m, "n", &b), -1);
	ck_assert_ptr_null(proto_get(proto_get(m, "s"), "x"));
	node_free(m);
}
END_TEST

/* The reply skeletons have the documented shape and bytes. */
START_TEST(test_replies)
{
	const uint8_t	 ok[] = { 0, 0, 0, 9, 0x82, 0xa2, 'i', 'd', 0x07,
	    0xa2, 'o', 'k', 0xc3 };
	struct node	*r, *e;
	struct buf	 b;

	r = proto_reply_ok(7);
	buf_init(&b);
	proto_encode(&b, r);
	ck_assert_uint_eq(b.len, sizeof ok);
	ck_assert_mem_eq(b.data, ok, sizeof ok);
	buf_release(&b);
	roundtrip(r);

	r = proto_reply_error(-3, "unknown_op", "no op '%s' (%d)", "frob", 2);
	ck_assert_uint_eq(node_count(r), 3);
	ck_assert(node_is_str(node_map_key(r, 0), "id"));
	ck_assert(node_is_str(node_map_key(r, 1), "ok"));
	ck_assert(node_is_str(node_map_key(r, 2), "error"));
	ck_assert_int_eq(proto_get(r, "id")->i, -3);
	ck_assert_int_eq(proto_get(r, "ok")->type, NODE_BOOL);
	ck_assert(!proto_get(r, "ok")->b);
	e = node_map_get(r, "error");
	ck_assert_uint_eq(node_count(e), 2);
	ck_assert_str_eq(proto_get_str(e, "code"), "unknown_op");
	ck_assert_str_eq(proto_get_str(e, "message"), "no op 'frob' (2)");
	roundtrip(r);
	r = proto_reply_error(0, "bad_frame", "%s", "");
	ck_assert_str_eq(proto_get_str(proto_get(r, "error"), "message"), "");
	roundtrip(r);
}
END_TEST

/*
 * An error message quoting a client's string cut inside a character (or
 * holding bytes that are not UTF-8) still makes a reply the client can
 * decode: each stray byte becomes '?'.
 */
START_TEST(test_reply_error_text)
{
	struct node	*r;

	r = proto_reply_error(1, "unknown_op", "unknown operation '%.4s'",
	    "ab\xc3\xa9z");
	ck_assert_str_eq(proto_get_str(proto_get(r, "error"), "message"),
	    "unknown operation 'ab\xc3\xa9'");
	roundtrip(r);
	r = proto_reply_error(1, "unknown_op", "unknown operation '%.3s'",
	    "ab\xc3\xa9z");
	ck_assert_str_eq(proto_get_str(proto_get(r, "error"), "message"),
	    "unknown operation 'ab?'");
	roundtrip(r);
	r = proto_reply_error(1, "io", "%s", "\xff\xe2\x82 \xf0\x9f\x98\x80");
	ck_assert_str_eq(proto_get_str(proto_get(r, "error"), "message"),
	    "??? \xf0\x9f\x98\x80");
	roundtrip(r);
}
END_TEST

/* xorshift64*: a small seeded generator, so a failure can be replayed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Randomly damaged frames never crash the decoder, and what it accepts
 * round-trips.
 */
START_TEST(test_mutations)
{
	static const uint8_t	 special[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
	    0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc9, 0xcf, 0xd4, 0xd8,
	    0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff };
	struct node		*seeds[4], *n, *back;
	struct buf		 enc[4], f, re;
	uint64_t		 state = 0x9e3779b97f4a7c15ULL;
	size_t			 iter, k, nmut, pos, body_len, need;
	size_t			 ok = 0;
	char			*err;

	seeds[0] = complex_msg();
	seeds[1] = proto_reply_error(12, "bad_request", "field %s", "op");
	seeds[2] = proto_reply_ok(INT64_MIN);
	nest(&f, 32, 0, 0);
	seeds[3] = decode_ok(f.data, f.len);
	buf_release(&f);
	for (k = 0; k < 4; k++) {
		buf_init(&enc[k]);
		proto_encode(&enc[k], seeds[k]);
	}
	buf_init(&f);
	buf_init(&re);
	for (iter = 0; iter < 60000; iter++) {
		k = rnd(&state) % 4;
		buf_reset(&f);
		buf_add(&f, enc[k].data, enc[k].len);
		nmut = 1 + rnd(&state) % 4;
		while (nmut-- > 0 && f.len > 0) {
			pos = rnd(&state) % f.len;
			switch (rnd(&state) % 6) {
			case 0:
				f.data[pos] ^= (char)(1 << rnd(&state) % 8);
				break;
			case 1:
				f.data[pos] = (char)special[rnd(&state) %
				    sizeof special];
				break;
			case 2:
				buf_addc(&f, 0);
				memmove(f.data + pos + 1, f.data + pos,
				    f.len - pos - 1);
				f.data[pos] = (char)rnd(&state);
				break;
			case 3:
				memmove(f.data + pos, f.data + pos + 1,
				    f.len - pos - 1);
				f.len--;
				break;
			case 4:
				f.len = pos;
				break;
			case 5:
				for (; pos < f.len && pos % 4 != 3; pos++)
					f.data[pos] = (char)0xff;
				break;
			}
		}
		/* The body as framed, and the bytes after the header as is. */
		if (proto_frame((uint8_t *)f.data, f.len, 1 << 20, &body_len,
		    &need) == 1) {
			n = decode(f.data + PROTO_HEADER, body_len, NULL, &err);
			node_free(n);
			free(err);
		}
		if (f.len < PROTO_HEADER)
			continue;
		n = decode(f.data + PROTO_HEADER, f.len - PROTO_HEADER, NULL,
		    &err);
		ck_assert_msg((n == NULL) != (err == NULL),
		    "iteration %zu: value and error", iter);
		free(err);
		if (n == NULL)
			continue;
		/* Whatever is accepted must survive its own round trip. */
		ok++;
		buf_reset(&re);
		proto_encode(&re, n);
		back = decode_ok(re.data + PROTO_HEADER, re.len - PROTO_HEADER);
		ck_assert_msg(node_equal(n, back), "iteration %zu", iter);
		node_free(back);
		node_free(n);
	}
	ck_assert_uint_gt(ok, 0);
	buf_release(&f);
	buf_release(&re);
	for (k = 0; k < 4; k++) {
		buf_release(&enc[k]);
		node_free(seeds[k]);
	}
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc = tcase_create("proto");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_limits_default);
	tcase_add_test(tc, test_frame_partial);
	tcase_add_test(tc, test_frame_whole);
	tcase_add_test(tc, test_frame_max);
	tcase_add_test(tc, test_encode_bytes);
	tcase_add_test(tc, test_roundtrip_scalars);
	tcase_add_test(tc, test_roundtrip_containers);
	tcase_add_test(tc, test_bombs);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_depth_1000);
	tcase_add_test(tc, test_max_objects);
	tcase_add_test(tc, test_ext_reserved);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_not_a_map);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_reply_error_text);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(proto_suite());
	int	 failed;

#ifdef HAVE_ALLOC_HOOKS
	__sanitizer_install_malloc_and_free_hooks(alloc_hook_cb, free_hook_cb);
#endif
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
