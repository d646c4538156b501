/*
 * The socket protocol's framing and encoding (docs/protocol.md).
 *
 * A message is a 4-byte big-endian length, then that many bytes of one
 * msgpack map.  The decoder is pure (no I/O): it says whether a buffer
 * holds a whole frame, checks the length against a cap before anything is
 * allocated, walks the msgpack bytes once with its own bounds checks
 * (every count within the bytes left, depth, total objects, one object
 * that consumes the frame exactly) before msgpack-c sees them - msgpack-c
 * has no limits of its own - and converts the result to document values,
 * refusing what no message may hold: ext types, non-string or duplicate
 * map keys, strings that are not UTF-8 or contain NUL, integers outside
 * int64.
 */
#ifndef PL_PROTO_H
#define PL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct node;

#define PROTO_VERSION		1
#define PROTO_HEADER		4
#define PROTO_MAX_FRAME		(16u * 1024 * 1024)	/* default max_frame */
#define PROTO_MAX_DEPTH		32
#define PROTO_MAX_OBJECTS	(1u << 20)

struct proto_limits {
	size_t		max_frame;	/* body bytes */
	unsigned	max_depth;	/* nesting of arrays and maps */
	size_t		max_objects;	/* values in one message */
};

/* The defaults above. */
void	proto_limits_default(struct proto_limits *);

/*
 * Look at the start of buf: 1 when it holds a whole frame (its body is
 * buf + PROTO_HEADER, *body_len bytes), 0 when more bytes are needed
 * (*need: the total the frame will take, once the header is in), -1 when
 * the announced length is over max_frame (*body_len: that length).
 */
int	 proto_frame(const uint8_t *buf, size_t len, size_t max_frame,
	    size_t *body_len, size_t *need);

/*
 * Check and decode one frame body into a value (a map for every message).
 * Returns NULL with *err set (to free) when the bytes are not acceptable.
 */
struct node *proto_decode(const uint8_t *body, size_t len,
	    const struct proto_limits *, char **err);

/*
 * Check bytes as proto_decode() does but keep them a msgpack object in
 * zone, for readers of many small records; strings are the caller's to
 * check with proto_str_ok().  0, or -1 with *err set.
 */
struct msgpack_zone;
struct msgpack_object;
int	 proto_unpack(const uint8_t *, size_t, const struct proto_limits *,
	    struct msgpack_zone *, struct msgpack_object *, char **err);
bool	 proto_str_ok(const char *, size_t);

/* Append msg as one frame (header and msgpack body) to out. */
void	 proto_encode(struct buf *out, const struct node *msg);
/* Append only the msgpack form of a value (journal payloads). */
void	 proto_pack(struct buf *out, const struct node *);

/* Field readers for decoded messages (NULL / -1 when absent or mistyped). */
const struct node *proto_get(const struct node *msg, const char *key);
const char	*proto_get_str(const struct node *msg, const char *key);
int		 proto_get_int(const struct node *msg, const char *key,
		    int64_t *out);
int		 proto_get_bool(const struct node *msg, const char *key,
		    bool *out);

/* Reply skeletons: {id, ok: true} and {id, ok: false, error: {code, message}}. */
struct node	*proto_reply_ok(int64_t id);
struct node	*proto_reply_error(int64_t id, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
