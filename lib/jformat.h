/*
 * The journal's on-disk format (docs/journal.md): segment headers and
 * self-verifying records.  Pure functions, no I/O.
 *
 * Segment header, 64 bytes, little-endian:
 *   0  magic 89 50 4C 4A 0D 0A 1A 0A      8  u32 version (1)
 *   12 u32 header_len (64)                16 u64 segment_no
 *   24 u64 first_seq                      32 16 bytes journal_id
 *   48 u64 created_us                     56 u32 flags (1: snapshot)
 *   60 u32 masked CRC-32C of bytes 0-59
 *
 * Record, 28 bytes then the payload (one msgpack map):
 *   0  u32 magic 0x4C504A52               4  u32 payload_len
 *   8  u64 seq                            16 u8 type, u8 flags, u16 0
 *   20 u32 masked CRC-32C of the payload  24 u32 masked CRC-32C of 0-23
 * The header CRC is checked before the length is trusted, so a flipped
 * length never makes a huge allocation; any single flipped bit anywhere is
 * caught by one of the two CRCs.
 */
#ifndef PL_JFORMAT_H
#define PL_JFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define JSEG_HEADER		64
#define JSEG_VERSION		1
#define JSEG_FLAG_SNAPSHOT	0x1
#define JREC_HEADER		28
#define JREC_MAGIC		0x4C504A52u
#define JREC_MAX_PAYLOAD	(16u * 1024 * 1024 + 4096)

enum jrec_type {
	JREC_EXEC_CREATED = 1,	/* a submission: definition, input, owner */
	JREC_STATUS = 2,	/* a status change of any result */
	JREC_REPORTER = 3,	/* a message without a status change */
	JREC_SEGMENT_END = 4,	/* the segment is complete; the next follows */
	JREC_CLEAN_SHUTDOWN = 5,	/* the daemon stopped in order */
	JREC_SNAPSHOT_END = 6,	/* a snapshot is complete */
	JREC_ITEMS = 7,		/* items an iterator command produced */
	JREC_PAD = 8,		/* filler up to a sector boundary; seq 0 */
};
#define JREC_TYPE_MAX	8

struct jseg_header {
	uint32_t	 version;
	uint64_t	 segment_no;
	uint64_t	 first_seq;
	uint8_t		 journal_id[16];
	uint64_t	 created_us;
	uint32_t	 flags;
};

/* What jrec_parse() found at an offset. */
enum jrec_check {
	JREC_OK,
	JREC_TRUNCATED,		/* the bytes end inside the record */
	JREC_BAD_MAGIC,
	JREC_BAD_HEADER,	/* header CRC mismatch */
	JREC_BAD_LENGTH,	/* length 0 or over the maximum */
	JREC_BAD_PAYLOAD,	/* payload CRC mismatch */
	JREC_BAD_TYPE,
};

struct jrec {
	uint64_t	 seq;
	uint8_t		 type;
	uint8_t		 flags;
	const uint8_t	*payload;
	uint32_t	 len;
	size_t		 size;		/* header and payload */
};

void		 jseg_header_encode(uint8_t out[JSEG_HEADER],
		    const struct jseg_header *);
int		 jseg_header_parse(const uint8_t in[JSEG_HEADER],
		    struct jseg_header *);
void		 jrec_encode(struct buf *, uint64_t seq, uint8_t type,
		    const void *payload, uint32_t len);
/* Append a PAD record so that b, written at offset at, ends on align. */
void		 jrec_pad(struct buf *, uint64_t at, size_t align);
enum jrec_check	 jrec_parse(const uint8_t *, size_t avail, struct jrec *);
const char	*jrec_check_name(enum jrec_check);
const char	*jrec_type_name(uint8_t);

#endif
