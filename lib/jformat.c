/*
 * Journal segment headers and records, encoded field by field.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crc32c.h"
#include "jformat.h"
#include "xmalloc.h"

static const uint8_t jseg_magic[8] = {
	0x89, 0x50, 0x4c, 0x4a, 0x0d, 0x0a, 0x1a, 0x0a
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Write a segment (or snapshot) header. */
void
jseg_header_encode(uint8_t out[JSEG_HEADER], const struct jseg_header *h)
{
	memset(out, 0, JSEG_HEADER);
	memcpy(out, jseg_magic, sizeof jseg_magic);
	put32(out + 8, h->version);
	put32(out + 12, JSEG_HEADER);
	put64(out + 16, h->segment_no);
	put64(out + 24, h->first_seq);
	memcpy(out + 32, h->journal_id, 16);
	put64(out + 48, h->created_us);
	put32(out + 56, h->flags);
	put32(out + 60, crc32c_mask(crc32c(0, out, 60)));
}

/* Read a header; -1 when its magic, length or CRC is wrong. */
int
jseg_header_parse(const uint8_t in[JSEG_HEADER], struct jseg_header *h)
{
	if (memcmp(in, jseg_magic, sizeof jseg_magic) != 0 ||
	    get32(in + 12) != JSEG_HEADER ||
	    crc32c_unmask(get32(in + 60)) != crc32c(0, in, 60))
		return -1;
	h->version = get32(in + 8);
	h->segment_no = get64(in + 16);
	h->first_seq = get64(in + 24);
	memcpy(h->journal_id, in + 32, 16);
	h->created_us = get64(in + 48);
	h->flags = get32(in + 56);
	return h->version == JSEG_VERSION ? 0 : -1;
}

/* Append one record to b. */
void
jrec_encode(struct buf *b, uint64_t seq, uint8_t type, const void *payload,
    uint32_t len)
{
	uint8_t	h[JREC_HEADER];

	put32(h, JREC_MAGIC);
	put32(h + 4, len);
	put64(h + 8, seq);
	h[16] = type;
	h[17] = 0;
	h[18] = h[19] = 0;
	put32(h + 20, crc32c_mask(crc32c(0, payload, len)));
	put32(h + 24, crc32c_mask(crc32c(0, h, 24)));
	buf_add(b, h, sizeof h);
	buf_add(b, payload, len);
}

/*
 * Pad b (to be written at offset at) with a PAD record up to the next
 * multiple of align, so that the next write starts on a sector of its
 * own.  A PAD record holds zeros, has sequence number 0, and is skipped
 * by readers.
 */
void
jrec_pad(struct buf *b, uint64_t at, size_t align)
{
	uint8_t	*zeros;
	size_t	 gap;

	gap = align - (size_t)((at + b->len) % align);
	if (gap == align)
		return;
	if (gap < JREC_HEADER + 1)
		gap += align;
	zeros = xcalloc(1, gap - JREC_HEADER);
	jrec_encode(b, 0, JREC_PAD, zeros, (uint32_t)(gap - JREC_HEADER));
	free(zeros);
}

/*
 * Check the record at p (avail bytes from there to the end of the data).
 * The header is verified before its length is used.
 */
enum jrec_check
jrec_parse(const uint8_t *p, size_t avail, struct jrec *r)
{
	uint32_t	len;

	if (avail < JREC_HEADER)
		return avail >= 4 && get32(p) != JREC_MAGIC ? JREC_BAD_MAGIC :
		    JREC_TRUNCATED;
	if (get32(p) != JREC_MAGIC)
		return JREC_BAD_MAGIC;
	if (crc32c_unmask(get32(p + 24)) != crc32c(0, p, 24))
		return JREC_BAD_HEADER;
	len = get32(p + 4);
	if (len == 0 || len > JREC_MAX_PAYLOAD)
		return JREC_BAD_LENGTH;
	if (p[16] == 0 || p[16] > JREC_TYPE_MAX || p[17] != 0 ||
	    p[18] != 0 || p[19] != 0)
		return JREC_BAD_TYPE;
	if (avail - JREC_HEADER < len)
		return JREC_TRUNCATED;
	if (crc32c_unmask(get32(p + 20)) !=
	    crc32c(0, p + JREC_HEADER, len))
		return JREC_BAD_PAYLOAD;
	r->seq = get64(p + 8);
	r->type = p[16];
	r->flags = p[17];
	r->payload = p + JREC_HEADER;
	r->len = len;
	r->size = JREC_HEADER + len;
	return JREC_OK;
}

/* Words for damage reports. */
const char *
jrec_check_name(enum jrec_check c)
{
	switch (c) {
	case JREC_OK:
		return "valid";
	case JREC_TRUNCATED:
		return "truncated record";
	case JREC_BAD_MAGIC:
		return "no record magic";
	case JREC_BAD_HEADER:
		return "record header checksum mismatch";
	case JREC_BAD_LENGTH:
		return "impossible record length";
	case JREC_BAD_PAYLOAD:
		return "record payload checksum mismatch";
	case JREC_BAD_TYPE:
		return "unknown record type";
	}
	return "damaged";
}

/* The name of a record type. */
const char *
jrec_type_name(uint8_t t)
{
	static const char *const names[] = { "?", "EXEC_CREATED", "STATUS",
	    "REPORTER", "SEGMENT_END", "CLEAN_SHUTDOWN", "SNAPSHOT_END",
	    "ITEMS", "PAD" };

	return t <= JREC_TYPE_MAX ? names[t] : "?";
}
