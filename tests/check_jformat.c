/*
 * Unit tests for lib/crc32c.c and lib/jformat.c, the journal's on-disk
 * format: CRC-32C against its published check values and the LevelDB
 * mask; segment headers encoded, parsed back field for field, and refused
 * for every kind of corruption (magic, length, CRC, version, any single
 * flipped bit); records of every type encoded and parsed back; and each
 * outcome of jrec_parse() produced on purpose, including the ones behind
 * a header CRC that is valid (the length and type checks), which only a
 * crafted header reaches; PAD records filling up to any boundary.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crc32c.h"
#include "jformat.h"

/* A little-endian u32 at p. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Make a record header's CRC right again after a test changed it. */
static void
reseal(uint8_t *rec)
{
	put32(rec + 24, crc32c_mask(crc32c(0, rec, 24)));
}

/* A segment header with every field set to something recognisable. */
static void
sample_header(struct jseg_header *h)
{
	size_t	i;

	memset(h, 0, sizeof *h);
	h->version = JSEG_VERSION;
	h->segment_no = 0x0102030405060708ULL;
	h->first_seq = 0x1112131415161718ULL;
	for (i = 0; i < sizeof h->journal_id; i++)
		h->journal_id[i] = (uint8_t)(0xa0 + i);
	h->created_us = 1795810500123456ULL;
	h->flags = JSEG_FLAG_SNAPSHOT;
}

/* Published CRC-32C check values, chaining, and the mask. */
START_TEST(test_crc32c)
{
	static const uint8_t	zeros[32];
	uint8_t			ones[32];
	uint32_t		v[] = { 0, 1, 0xe3069283u, 0xffffffffu,
				    0x8a9136aau, 0xa282ead8u };
	size_t			i;

	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc32c(0, zeros, 32), 0x8a9136aau);
	memset(ones, 0xff, sizeof ones);
	ck_assert_uint_eq(crc32c(0, ones, 32), 0x62a8ab43u);	/* RFC 3720 */
	ck_assert_uint_eq(crc32c(0, "", 0), 0);
	/* Chaining over pieces, odd lengths included, gives the same. */
	ck_assert_uint_eq(crc32c(crc32c(0, "1234", 4), "56789", 5),
	    0xe3069283u);
	ck_assert_uint_eq(crc32c(crc32c(crc32c(0, "1", 1), "2345678", 7),
	    "9", 1), 0xe3069283u);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		ck_assert_uint_eq(crc32c_unmask(crc32c_mask(v[i])), v[i]);
		ck_assert_uint_eq(crc32c_mask(crc32c_unmask(v[i])), v[i]);
	}
	/* The mask changes the value (LevelDB: rotate 15, add a constant). */
	ck_assert_uint_eq(crc32c_mask(0), 0xa282ead8u);
	ck_assert_uint_ne(crc32c_mask(0xe3069283u), 0xe3069283u);
}
END_TEST

/* A header is written at the documented offsets and read back whole. */
START_TEST(test_header_round_trip)
{
	struct jseg_header	h, back;
	uint8_t			b[JSEG_HEADER];
	static const uint8_t	magic[8] = { 0x89, 0x50, 0x4c, 0x4a, 0x0d,
				    0x0a, 0x1a, 0x0a };

	sample_header(&h);
	jseg_header_encode(b, &h);
	ck_assert_mem_eq(b, magic, 8);
	ck_assert_uint_eq(b[8], JSEG_VERSION);
	ck_assert_uint_eq(b[12], JSEG_HEADER);
	ck_assert_uint_eq(b[16], 0x08);			/* segment_no, LE */
	ck_assert_uint_eq(b[23], 0x01);
	ck_assert_uint_eq(b[24], 0x18);			/* first_seq */
	ck_assert_uint_eq(b[32], 0xa0);			/* journal_id */
	ck_assert_uint_eq(b[56], JSEG_FLAG_SNAPSHOT);
	memset(&back, 0x55, sizeof back);
	ck_assert_int_eq(jseg_header_parse(b, &back), 0);
	ck_assert_uint_eq(back.version, h.version);
	ck_assert_uint_eq(back.segment_no, h.segment_no);
	ck_assert_uint_eq(back.first_seq, h.first_seq);
	ck_assert_mem_eq(back.journal_id, h.journal_id, 16);
	ck_assert_uint_eq(back.created_us, h.created_us);
	ck_assert_uint_eq(back.flags, h.flags);
	h.flags = 0;
	jseg_header_encode(b, &h);
	ck_assert_int_eq(jseg_header_parse(b, &back), 0);
	ck_assert_uint_eq(back.flags, 0);
}
END_TEST

/* Wrong magic, length or version is refused even with a valid CRC. */
START_TEST(test_header_refused)
{
	struct jseg_header	h, back;
	uint8_t			b[JSEG_HEADER], c[JSEG_HEADER];

	sample_header(&h);
	jseg_header_encode(b, &h);

	memcpy(c, b, sizeof c);
	c[3] = 'X';				/* magic */
	put32(c + 60, crc32c_mask(crc32c(0, c, 60)));
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);

	memcpy(c, b, sizeof c);
	put32(c + 12, 128);			/* header_len */
	put32(c + 60, crc32c_mask(crc32c(0, c, 60)));
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);

	memcpy(c, b, sizeof c);
	c[60] ^= 1;				/* the CRC itself */
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);

	memcpy(c, b, sizeof c);
	put32(c + 60, crc32c(0, c, 60));	/* stored unmasked */
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);

	h.version = JSEG_VERSION + 1;		/* a future version */
	jseg_header_encode(c, &h);
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);
	h.version = 0;
	jseg_header_encode(c, &h);
	ck_assert_int_eq(jseg_header_parse(c, &back), -1);
}
END_TEST

/* Every single flipped bit of a header is caught. */
START_TEST(test_header_every_bit)
{
	struct jseg_header	h, back;
	uint8_t			b[JSEG_HEADER];
	int			i;

	sample_header(&h);
	jseg_header_encode(b, &h);
	for (i = 0; i < JSEG_HEADER * 8; i++) {
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(jseg_header_parse(b, &back) == -1,
		    "bit %d of the header flipped unnoticed", i);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ck_assert_int_eq(jseg_header_parse(b, &back), 0);
}
END_TEST

/* Records of every type are encoded at the offsets and read back. */
START_TEST(test_record_round_trip)
{
	struct buf	b;
	struct jrec	r;
	uint8_t		payload[300];
	uint32_t	len;
	uint8_t		t;
	size_t		i;

	for (i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	for (t = 1; t <= JREC_TYPE_MAX; t++) {
		len = t == 1 ? 1 : (uint32_t)(t * 37);
		buf_init(&b);
		jrec_encode(&b, 1000 + t, t, payload, len);
		ck_assert_uint_eq(b.len, JREC_HEADER + len);
		ck_assert_uint_eq((uint8_t)b.data[0], 0x52);	/* "RJPL" */
		ck_assert_uint_eq((uint8_t)b.data[3], 0x4c);
		ck_assert_uint_eq((uint8_t)b.data[4], len & 0xff);
		ck_assert_uint_eq((uint8_t)b.data[16], t);
		memset(&r, 0, sizeof r);
		ck_assert_int_eq(jrec_parse((uint8_t *)b.data, b.len, &r),
		    JREC_OK);
		ck_assert_uint_eq(r.seq, 1000 + t);
		ck_assert_uint_eq(r.type, t);
		ck_assert_uint_eq(r.flags, 0);
		ck_assert_uint_eq(r.len, len);
		ck_assert_uint_eq(r.size, JREC_HEADER + len);
		ck_assert_ptr_eq(r.payload, (uint8_t *)b.data + JREC_HEADER);
		ck_assert_mem_eq(r.payload, payload, len);
		/* Bytes after the record are not its business. */
		buf_add(&b, "RJPL-trailing", 13);
		ck_assert_int_eq(jrec_parse((uint8_t *)b.data, b.len, &r),
		    JREC_OK);
		ck_assert_uint_eq(r.size, JREC_HEADER + len);
		ck_assert_str_ne(jrec_type_name(t), "?");
		buf_release(&b);
	}
	ck_assert_str_eq(jrec_type_name(0), "?");
	ck_assert_str_eq(jrec_type_name(JREC_TYPE_MAX + 1), "?");
	ck_assert_str_eq(jrec_type_name(JREC_ITEMS), "ITEMS");
}
END_TEST

/* One record to damage, in a buffer of its own. */
static uint8_t *
good_record(size_t *size)
{
	struct buf	 b;
	uint8_t		*p;

	buf_init(&b);
	jrec_encode(&b, 42, JREC_STATUS, "\x81\xa1k\xa1v", 5);
	*size = b.len;
	p = malloc(b.len);
	memcpy(p, b.data, b.len);
	buf_release(&b);
	return p;
}

/* Each jrec_check outcome, produced deliberately. */
START_TEST(test_record_checks)
{
	struct jrec	 r;
	uint8_t		*p, *big;
	size_t		 n, i;

	p = good_record(&n);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_OK);

	/* Truncated: in the header (any length short of it), then payload. */
	for (i = 0; i < JREC_HEADER; i++)
		ck_assert_int_eq(jrec_parse(p, i, &r), JREC_TRUNCATED);
	for (i = JREC_HEADER; i < n; i++)
		ck_assert_int_eq(jrec_parse(p, i, &r), JREC_TRUNCATED);

	/* Bad magic, whole or in a short tail. */
	p[2] ^= 0x10;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_MAGIC);
	ck_assert_int_eq(jrec_parse(p, 10, &r), JREC_BAD_MAGIC);
	p[2] ^= 0x10;

	/* Bad header CRC: a changed seq, or the stored CRC itself. */
	p[9] ^= 0x01;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_HEADER);
	p[9] ^= 0x01;
	p[27] ^= 0x80;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_HEADER);
	p[27] ^= 0x80;
	/* A changed payload CRC is caught by the header CRC that covers it. */
	p[20] ^= 0x01;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_HEADER);
	p[20] ^= 0x01;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_OK);

	/* Lengths 0 and over the maximum, with a valid header CRC. */
	put32(p + 4, 0);
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_LENGTH);
	put32(p + 4, JREC_MAX_PAYLOAD + 1);
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_LENGTH);
	put32(p + 4, 0xffffffffu);
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_LENGTH);
	/* The maximum itself is a length; the bytes are just not there. */
	put32(p + 4, JREC_MAX_PAYLOAD);
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_TRUNCATED);
	put32(p + 4, 5);
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_OK);

	/* Bad payload CRC: a changed payload byte. */
	p[JREC_HEADER + 2] ^= 0x04;
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_PAYLOAD);
	p[JREC_HEADER + 2] ^= 0x04;

	/* Bad type and flags, with a valid header CRC. */
	p[16] = 0;
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_TYPE);
	p[16] = JREC_TYPE_MAX + 1;
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_TYPE);
	p[16] = 0xff;
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_TYPE);
	p[16] = JREC_STATUS;
	p[17] = 1;				/* flags: 0 in v1 */
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_TYPE);
	p[17] = 0;
	p[19] = 0x80;				/* reserved */
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_BAD_TYPE);
	p[19] = 0;
	reseal(p);
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_OK);

	/* A maximal record is accepted. */
	big = calloc(1, JREC_MAX_PAYLOAD);
	ck_assert_ptr_nonnull(big);
	{
		struct buf	b;

		buf_init(&b);
		jrec_encode(&b, 7, JREC_ITEMS, big, JREC_MAX_PAYLOAD);
		ck_assert_int_eq(jrec_parse((uint8_t *)b.data, b.len, &r),
		    JREC_OK);
		ck_assert_uint_eq(r.len, JREC_MAX_PAYLOAD);
		buf_release(&b);
	}
	free(big);
	for (i = JREC_OK; i <= JREC_BAD_TYPE; i++)
		ck_assert_ptr_nonnull(jrec_check_name((enum jrec_check)i));
	ck_assert_str_eq(jrec_check_name(JREC_OK), "valid");
	free(p);
}
END_TEST

/* Every single flipped bit of a record is caught, never JREC_OK. */
START_TEST(test_record_every_bit)
{
	struct jrec	 r;
	uint8_t		*p;
	size_t		 n, i;

	p = good_record(&n);
	for (i = 0; i < n * 8; i++) {
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(jrec_parse(p, n, &r) != JREC_OK,
		    "bit %zu of the record flipped unnoticed", i);
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ck_assert_int_eq(jrec_parse(p, n, &r), JREC_OK);
	free(p);
}
END_TEST

/*
 * Padding from any offset ends on the boundary with one valid PAD record
 * (sequence 0, zeros), at least a header and a byte long; none when the
 * offset is on it already.
 */
START_TEST(test_pad)
{
	struct buf	b;
	struct jrec	r;
	uint64_t	at;
	size_t		k;

	for (at = 0; at <= 3 * 4096; at++) {
		buf_init(&b);
		jrec_pad(&b, at, 4096);
		if (at % 4096 == 0) {
			ck_assert_uint_eq(b.len, 0);
			buf_release(&b);
			continue;
		}
		ck_assert_uint_eq((at + b.len) % 4096, 0);
		ck_assert_uint_ge(b.len, JREC_HEADER + 1);
		ck_assert_uint_lt(b.len, 4096 + JREC_HEADER + 1);
		ck_assert_int_eq(jrec_parse((uint8_t *)b.data, b.len, &r),
		    JREC_OK);
		ck_assert_uint_eq(r.size, b.len);
		ck_assert_uint_eq(r.type, JREC_PAD);
		ck_assert_uint_eq(r.seq, 0);
		for (k = 0; k < r.len; k++)
			ck_assert_uint_eq(r.payload[k], 0);
		buf_release(&b);
	}
	ck_assert_str_eq(jrec_type_name(JREC_PAD), "PAD");
}
END_TEST

static Suite *
jformat_suite(void)
{
	Suite	*s = suite_create("jformat");
	TCase	*tc;

	tc = tcase_create("crc32c");
	tcase_add_test(tc, test_crc32c);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, test_header_round_trip);
	tcase_add_test(tc, test_header_refused);
	tcase_add_test(tc, test_header_every_bit);
	suite_add_tcase(s, tc);

	tc = tcase_create("record");
	tcase_add_test(tc, test_record_round_trip);
	tcase_add_test(tc, test_record_checks);
	tcase_add_test(tc, test_record_every_bit);
	tcase_add_test(tc, test_pad);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(jformat_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
