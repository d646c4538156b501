/*
 * The socket protocol's framing and encoding (docs/protocol.md): a 4-byte
 * big-endian length, then one msgpack map.
 *
 * msgpack-c believes every length and count it reads: five bytes that
 * announce an array of 2^32 elements make it allocate ~96 GiB before it
 * looks for a single element (msgpack-c issues #985, #1013).  So the
 * decoder first walks the raw bytes itself, once and without recursion,
 * proving that every length and count fits in the bytes that are left,
 * that nesting and the number of values stay within the limits and that
 * the body is exactly one value.  Only then does msgpack-c parse it, and
 * the result becomes document values under the rules msgpack itself has no
 * notion of: string keys, unique keys, UTF-8 text without NUL, int64.
 *
 * msgpack-c 4.0.0 keeps at most MSGPACK_EMBED_STACK_SIZE (32) containers
 * open, so a larger max_depth is lowered to that: the walk must never pass
 * what msgpack-c would then refuse for a reason of its own.
 *
 * Nothing here does I/O; the caller reads, frames and writes.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "node.h"
#include "proto.h"
#include "utf8.h"
#include "xmalloc.h"

#define PROTO_BAD	"frame is not valid msgpack: "
#define PROTO_QUOTE_MAX	40	/* key bytes shown in an error message */
/*
 * The open containers msgpack-c can track: MSGPACK_EMBED_STACK_SIZE as
 * libmsgpackc was built (its internal header is not the library's value).
 */
#define PROTO_MSGPACK_STACK	32

/* What a leading byte announces. */
enum proto_kind {
	PROTO_SCALAR,		/* a fixed number of bytes follows */
	PROTO_STR,
	PROTO_BIN,
	PROTO_ARRAY,
	PROTO_MAP,
	PROTO_EXT,
	PROTO_RESERVED,
};

/* State for turning msgpack-c objects into document values. */
struct proto_conv {
	char		 *err;
	struct node	**keys;		/* scratch: the duplicate-key check */
	size_t		  capkeys;
};

static char	*proto_msg(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static struct node *proto_convert(struct proto_conv *, const msgpack_object *,
		    const struct node *);

/* Fill the limits with the defaults, which suit the daemon's socket. */
void
proto_limits_default(struct proto_limits *lim)
{
	lim->max_frame = PROTO_MAX_FRAME;
	lim->max_depth = PROTO_MAX_DEPTH;
	lim->max_objects = PROTO_MAX_OBJECTS;
}

/*
 * Say whether buf starts with a whole frame; the length is checked against
 * max_frame here, so a reader never sizes a buffer from an unchecked value.
 */
int
proto_frame(const uint8_t *buf, size_t len, size_t max_frame,
    size_t *body_len, size_t *need)
{
	uint32_t	n;

	*body_len = 0;
	if (len < PROTO_HEADER) {
		/* The whole length is unknown yet: ask for the header. */
		*need = PROTO_HEADER;
		return 0;
	}
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	*body_len = n;
	if (n > max_frame || (uint64_t)n + PROTO_HEADER > SIZE_MAX) {
		*need = 0;
		return -1;
	}
	*need = PROTO_HEADER + (size_t)n;
	return len >= *need ? 1 : 0;
}

/* A formatted error message, for the caller's *err. */
static char *
proto_msg(const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

/* What 0xc0-0xdf announce, and the width of the field that follows. */
static const struct {
	uint8_t	kind;
	uint8_t	width;
} proto_formats[32] = {
	{ PROTO_SCALAR, 0 }, { PROTO_RESERVED, 0 },	/* nil, never used */
	{ PROTO_SCALAR, 0 }, { PROTO_SCALAR, 0 },	/* false, true */
	{ PROTO_BIN, 1 }, { PROTO_BIN, 2 }, { PROTO_BIN, 4 },
	{ PROTO_EXT, 1 }, { PROTO_EXT, 2 }, { PROTO_EXT, 4 },
	{ PROTO_SCALAR, 4 }, { PROTO_SCALAR, 8 },	/* float 32, 64 */
	{ PROTO_SCALAR, 1 }, { PROTO_SCALAR, 2 },	/* uint 8-64 */
	{ PROTO_SCALAR, 4 }, { PROTO_SCALAR, 8 },
	{ PROTO_SCALAR, 1 }, { PROTO_SCALAR, 2 },	/* int 8-64 */
	{ PROTO_SCALAR, 4 }, { PROTO_SCALAR, 8 },
	{ PROTO_EXT, 1 }, { PROTO_EXT, 2 }, { PROTO_EXT, 4 },	/* fixext */
	{ PROTO_EXT, 8 }, { PROTO_EXT, 16 },
	{ PROTO_STR, 1 }, { PROTO_STR, 2 }, { PROTO_STR, 4 },
	{ PROTO_ARRAY, 2 }, { PROTO_ARRAY, 4 },
	{ PROTO_MAP, 2 }, { PROTO_MAP, 4 },
};

/* Names of the length and count fields, for error messages. */
static const char *const proto_field_names[] = {
	[PROTO_STR] = "string length",
	[PROTO_BIN] = "binary length",
	[PROTO_ARRAY] = "array count",
	[PROTO_MAP] = "map count",
};

/*
 * Classify a leading byte: *width is the size of the length or count field
 * that follows (for scalars, of the payload), *count the count held in the
 * byte itself by the fix formats.
 */
static enum proto_kind
proto_classify(uint8_t b, size_t *width, uint32_t *count)
{
	*width = 0;
	*count = 0;
	if (b <= 0x7f || b >= 0xe0)	/* positive, negative fixint */
		return PROTO_SCALAR;
	if (b <= 0x9f) {
		*count = b & 0x0f;
		return b <= 0x8f ? PROTO_MAP : PROTO_ARRAY;
	}
	if (b <= 0xbf) {
		*count = b & 0x1f;
		return PROTO_STR;
	}
	*width = proto_formats[b - 0xc0].width;
	return (enum proto_kind)proto_formats[b - 0xc0].kind;
}

/*
 * Walk the body once, before msgpack-c sees it, and refuse anything it
 * could be made to over-allocate or over-recurse on; NULL when all is well,
 * else the reason.  rem[] holds, for each open container, how many values
 * it still expects (2 per map pair).
 */
static char *
proto_walk(const uint8_t *p, size_t len, const struct proto_limits *lim)
{
	uint64_t	 rem[PROTO_MSGPACK_STACK], need;
	unsigned	 depth = 0, maxdepth;
	size_t		 off = 0, start, width, objects = 0, i;
	uint32_t	 count;
	enum proto_kind	 kind;

	maxdepth = lim->max_depth;
	if (maxdepth > PROTO_MSGPACK_STACK)
		maxdepth = PROTO_MSGPACK_STACK;
	if (len == 0)
		return proto_msg("frame is empty: a message must be a map");
	do {
		if ((start = off) >= len)
			return proto_msg(PROTO_BAD "the frame ends at offset "
			    "%zu where a value should follow", off);
		if (++objects > lim->max_objects)
			return proto_msg("more than %zu values in one message",
			    lim->max_objects);
		kind = proto_classify(p[off++], &width, &count);
		if (kind == PROTO_RESERVED)
			return proto_msg(PROTO_BAD "reserved byte 0xc1 at "
			    "offset %zu", start);
		if (kind == PROTO_EXT)
			return proto_msg("frame holds an ext value at offset "
			    "%zu (ext types are not used)", start);
		if (width > len - off)
			return proto_msg(PROTO_BAD "value at offset %zu is cut "
			    "off by the end of the frame (%zu bytes)", start,
			    len);
		if (kind == PROTO_SCALAR) {
			off += width;
			need = 0;
		} else {
			for (i = 0; i < width; i++)
				count = count << 8 | p[off++];
			/*
			 * A string or bin takes count bytes, an array at least
			 * one per element, a map two per pair.
			 */
			need = kind == PROTO_MAP ? 2 * (uint64_t)count : count;
			if (need > len - off)
				return proto_msg(PROTO_BAD "%s %" PRIu32 " at "
				    "offset %zu runs past the end (%zu bytes)",
				    proto_field_names[kind], count, start, len);
			if (kind == PROTO_STR || kind == PROTO_BIN) {
				off += count;
				need = 0;
			} else if (depth >= maxdepth)
				return proto_msg("nesting deeper than %u",
				    maxdepth);
		}
		/* This value is one of its container's; then open its own. */
		if (depth > 0)
			rem[depth - 1]--;
		if (need > 0)
			rem[depth++] = need;
		while (depth > 0 && rem[depth - 1] == 0)
			depth--;
	} while (depth > 0);
	if (off != len)
		return proto_msg(PROTO_BAD "%zu trailing bytes after the "
		    "message at offset %zu", len - off, off);
	return NULL;
}

/*
 * Why bytes are not acceptable text, or NULL: strict UTF-8 without NUL,
 * since strings end up in C strings, argv and the environment.
 */
static const char *
proto_text_problem(const unsigned char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		if (s[i] == 0)
			return "contains NUL";
		if ((n = utf8_char(s + i, len - i)) == 0)
			return "is not valid UTF-8";
		i += n;
	}
	return NULL;
}

/*
 * A key quoted for an error message: shortened, and with control bytes
 * masked, since the message goes to logs and terminals.
 */
static char *
proto_quote(const struct node *key)
{
	struct buf	b;
	size_t		n = key->len, i;
	char		c;

	if (n > PROTO_QUOTE_MAX) {
		n = PROTO_QUOTE_MAX;
		while (n > 0 && ((unsigned char)key->text[n] & 0xc0) == 0x80)
			n--;		/* do not cut a character in two */
	}
	buf_init(&b);
	buf_addc(&b, '\'');
	for (i = 0; i < n; i++) {
		c = key->text[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		buf_addc(&b, c);
	}
	buf_adds(&b, n < key->len ? "...'" : "'");
	return buf_detach(&b);
}

/* Fail a conversion, naming the key the bad value sits under if any. */
static void *
proto_conv_fail(struct proto_conv *c, const struct node *under,
    const char *what, const char *problem)
{
	char	*q;

	if (under == NULL)
		c->err = proto_msg("%s %s", what, problem);
	else {
		q = proto_quote(under);
		c->err = proto_msg("%s %s (under %s)", what, problem, q);
		free(q);
	}
	return NULL;
}

/* A string value or key, once its bytes are known to be acceptable text. */
static struct node *
proto_text(struct proto_conv *c, const msgpack_object_str *s,
    const struct node *under, const char *what)
{
	const char	*problem;

	if (s->size == 0)
		return node_new_str("", 0);
	problem = proto_text_problem((const unsigned char *)s->ptr, s->size);
	if (problem != NULL)
		return proto_conv_fail(c, under, what, problem);
	return node_new_str(s->ptr, s->size);
}

/* Order keys by length, then bytes: enough to put equal keys side by side. */
static int
proto_key_cmp(const void *a, const void *b)
{
	const struct node	*x = *(struct node *const *)a;
	const struct node	*y = *(struct node *const *)b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->text, y->text, x->len);
}

/*
 * Refuse a map holding a key twice, which readers would disagree on (the
 * first or the last?); sorting keeps this O(n log n) for big maps, and
 * small ones (nearly all messages) are compared pairwise, which is faster.
 */
static int
proto_check_dups(struct proto_conv *c, const struct node *map)
{
	size_t	n = map->nkids / 2, i, j;
	char	*q;

	if (n < 2)
		return 0;
	if (n <= 24) {
		for (i = 1; i < n; i++) {
			for (j = 0; j < i; j++) {
				if (proto_key_cmp(&map->kids[2 * i],
				    &map->kids[2 * j]) != 0)
					continue;
				q = proto_quote(map->kids[2 * i]);
				c->err = proto_msg("duplicate key %s", q);
				free(q);
				return -1;
			}
		}
		return 0;
	}
	if (n > c->capkeys) {
		c->keys = xreallocarray(c->keys, n, sizeof *c->keys);
		c->capkeys = n;
	}
	for (i = 0; i < n; i++)
		c->keys[i] = map->kids[2 * i];
	qsort(c->keys, n, sizeof *c->keys, proto_key_cmp);
	for (i = 1; i < n; i++) {
		if (proto_key_cmp(&c->keys[i - 1], &c->keys[i]) == 0) {
			q = proto_quote(c->keys[i]);
			c->err = proto_msg("duplicate key %s", q);
			free(q);
			return -1;
		}
	}
	return 0;
}

/* A map's pairs: string keys only, each once. */
static struct node *
proto_convert_map(struct proto_conv *c, const msgpack_object_map *m,
    const struct node *under)
{
	struct node	*map, *k, *v;
	uint32_t	 i;

	map = node_new(NODE_MAP);
	for (i = 0; i < m->size; i++) {
		if (m->ptr[i].key.type != MSGPACK_OBJECT_STR) {
			proto_conv_fail(c, under, "map key", "is not a string");
			goto fail;
		}
		if ((k = proto_text(c, &m->ptr[i].key.via.str, under,
		    "map key")) == NULL)
			goto fail;
		if ((v = proto_convert(c, &m->ptr[i].val, k)) == NULL) {
			node_free(k);
			goto fail;
		}
		node_map_put(map, k, v);
	}
	if (proto_check_dups(c, map) == 0)
		return map;
fail:
	node_free(map);
	return NULL;
}

/*
 * One msgpack-c object as a document value.  Recursion is safe: the walk
 * has bounded nesting by max_depth (32 at most) before we get here.
 */
static struct node *
proto_convert(struct proto_conv *c, const msgpack_object *o,
    const struct node *under)
{
	struct node	*seq, *kid;
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return node_new(NODE_NULL);
	case MSGPACK_OBJECT_BOOLEAN:
		return node_new_bool(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX) {
			c->err = proto_msg("integer %" PRIu64 " is out of "
			    "range (above %" PRId64 ")", o->via.u64, INT64_MAX);
			return NULL;
		}
		return node_new_int((int64_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return node_new_int(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return node_new_float(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return proto_text(c, &o->via.str, under, "string");
	case MSGPACK_OBJECT_BIN:
		if (o->via.bin.size == 0)
			return node_new_bin("", 0);
		return node_new_bin(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		seq = node_new(NODE_SEQ);
		for (i = 0; i < o->via.array.size; i++) {
			kid = proto_convert(c, &o->via.array.ptr[i], under);
			if (kid == NULL) {
				node_free(seq);
				return NULL;
			}
			node_append(seq, kid);
		}
		return seq;
	case MSGPACK_OBJECT_MAP:
		return proto_convert_map(c, &o->via.map, under);
	case MSGPACK_OBJECT_EXT:
		break;
	}
	/* The walk refuses ext values, so msgpack-c cannot return one. */
	c->err = proto_msg("unexpected msgpack object type %d", (int)o->type);
	return NULL;
}

/*
 * Decode one frame body: our walk first, then msgpack-c on bytes that are
 * known to be bounded, then the conversion with its own refusals.
 */
struct node *
proto_decode(const uint8_t *body, size_t len, const struct proto_limits *lim,
    char **err)
{
	struct proto_limits	 deflim;
	struct proto_conv	 c;
	msgpack_unpacked	 up;
	msgpack_unpack_return	 r;
	struct node		*n = NULL;
	size_t			 off = 0;

	if (lim == NULL) {
		proto_limits_default(&deflim);
		lim = &deflim;
	}
	if ((*err = proto_walk(body, len, lim)) != NULL)
		return NULL;
	msgpack_unpacked_init(&up);
	r = msgpack_unpack_next(&up, (const char *)body, len, &off);
	if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
		/* Out of memory, or the walk and msgpack-c disagree. */
		log_warnx("proto_decode: msgpack-c returned %d at %zu of %zu "
		    "bytes after the walk accepted them", (int)r, off, len);
		*err = proto_msg("frame could not be decoded");
	} else if (up.data.type != MSGPACK_OBJECT_MAP)
		*err = proto_msg("a message must be a map");
	else {
		memset(&c, 0, sizeof c);
		n = proto_convert(&c, &up.data, NULL);
		free(c.keys);
		*err = c.err;
	}
	msgpack_unpacked_destroy(&up);
	return n;
}

/*
 * Check bytes like proto_decode(), but leave them as a msgpack object in
 * zone (valid until the zone is cleared): for readers of many small
 * records that want a few fields, not a tree.  Strings are not checked
 * here; the caller checks those it keeps (proto_str_ok()).
 */
int
proto_unpack(const uint8_t *body, size_t len, const struct proto_limits *lim,
    msgpack_zone *zone, msgpack_object *obj, char **err)
{
	struct proto_limits	 deflim;
	msgpack_unpack_return	 r;
	size_t			 off = 0;

	if (lim == NULL) {
		proto_limits_default(&deflim);
		lim = &deflim;
	}
	if ((*err = proto_walk(body, len, lim)) != NULL)
		return -1;
	r = msgpack_unpack((const char *)body, len, &off, zone, obj);
	if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
		*err = proto_msg("frame could not be decoded");
		return -1;
	}
	if (obj->type != MSGPACK_OBJECT_MAP) {
		*err = proto_msg("a message must be a map");
		return -1;
	}
	return 0;
}

/* Whether a msgpack string may become one of ours (UTF-8, no NUL). */
bool
proto_str_ok(const char *p, size_t len)
{
	return proto_text_problem((const unsigned char *)p, len) == NULL;
}

/* msgpack-c's write callback: append to our buffer, which cannot fail. */
static int
proto_write_cb(void *data, const char *p, size_t len)
{
	buf_add(data, p, len);
	return 0;
}

/*
 * Pack one value; containers only get their header here, their children
 * are packed by the caller's loop.
 */
static void
proto_pack_one(msgpack_packer *pk, const struct node *n)
{
	if (n->len > UINT32_MAX || n->nkids / 2 > UINT32_MAX ||
	    (n->type == NODE_SEQ && n->nkids > UINT32_MAX))
		fatalx("proto_encode: value too large for msgpack");
	switch (n->type) {
	case NODE_NULL:
		msgpack_pack_nil(pk);
		break;
	case NODE_BOOL:
		(n->b ? msgpack_pack_true : msgpack_pack_false)(pk);
		break;
	case NODE_INT:
		msgpack_pack_int64(pk, n->i);
		break;
	case NODE_FLOAT:
		msgpack_pack_double(pk, n->f);
		break;
	case NODE_STR:
		msgpack_pack_str_with_body(pk, n->text, n->len);
		break;
	case NODE_BIN:
		msgpack_pack_bin_with_body(pk, n->text, n->len);
		break;
	case NODE_SEQ:
		msgpack_pack_array(pk, n->nkids);
		break;
	case NODE_MAP:
		if (n->nkids % 2 != 0)
			fatalx("proto_encode: map with a key and no value");
		msgpack_pack_map(pk, n->nkids / 2);
		break;
	}
}

/*
 * Append the msgpack form of a value to out (no frame header).  The tree
 * is walked with an explicit stack, so a deep value cannot exhaust the C
 * stack.
 */
void
proto_pack(struct buf *out, const struct node *msg)
{
	msgpack_packer		  pk;
	const struct node	**stack, *n;
	size_t			  sp = 0, cap = 16, i;

	msgpack_packer_init(&pk, out, proto_write_cb);
	stack = xreallocarray(NULL, cap, sizeof *stack);
	stack[sp++] = msg;
	while (sp > 0) {
		n = stack[--sp];
		proto_pack_one(&pk, n);
		if (n->type != NODE_SEQ && n->type != NODE_MAP)
			continue;
		if (n->nkids > cap - sp) {
			while (n->nkids > cap - sp)
				cap *= 2;
			stack = xreallocarray(stack, cap, sizeof *stack);
		}
		for (i = n->nkids; i > 0; i--)	/* first child on top */
			stack[sp++] = n->kids[i - 1];
	}
	free(stack);
}

/* Append msg as one frame: the 4-byte big-endian length, then msgpack. */
void
proto_encode(struct buf *out, const struct node *msg)
{
	uint8_t	 hdr[PROTO_HEADER] = { 0 };
	uint8_t	*h;
	size_t	 start, body;

	start = out->len;
	buf_add(out, hdr, sizeof hdr);	/* the length comes at the end */
	proto_pack(out, msg);
	body = out->len - start - PROTO_HEADER;
	if (body > UINT32_MAX)
		fatalx("proto_encode: message of %zu bytes", body);
	h = (uint8_t *)out->data + start;
	h[0] = (uint8_t)(body >> 24);
	h[1] = (uint8_t)(body >> 16);
	h[2] = (uint8_t)(body >> 8);
	h[3] = (uint8_t)body;
}

/* The value under key, or NULL when msg is not a map or lacks it. */
const struct node *
proto_get(const struct node *msg, const char *key)
{
	return node_map_get(msg, key);
}

/* A string field's text, or NULL when absent or not a string. */
const char *
proto_get_str(const struct node *msg, const char *key)
{
	const struct node	*v = proto_get(msg, key);

	return v != NULL && v->type == NODE_STR ? v->text : NULL;
}

/* An integer field into *out: 0, or -1 when absent or not an integer. */
int
proto_get_int(const struct node *msg, const char *key, int64_t *out)
{
	const struct node	*v = proto_get(msg, key);

	if (v == NULL || v->type != NODE_INT)
		return -1;
	*out = v->i;
	return 0;
}

/* A boolean field into *out: 0, or -1 when absent or not a boolean. */
int
proto_get_bool(const struct node *msg, const char *key, bool *out)
{
	const struct node	*v = proto_get(msg, key);

	if (v == NULL || v->type != NODE_BOOL)
		return -1;
	*out = v->b;
	return 0;
}

/* {id, ok: true}: the caller adds the op's result fields. */
struct node *
proto_reply_ok(int64_t id)
{
	struct node	*r = node_new(NODE_MAP);

	node_map_set_str(r, "id", node_new_int(id));
	node_map_set_str(r, "ok", node_new_bool(true));
	return r;
}

/* {id, ok: false, error: {code, message}}, code being a documented word. */
struct node *
proto_reply_error(int64_t id, const char *code, const char *fmt, ...)
{
	struct node	*r, *e;
	struct buf	 b;
	va_list		 ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	/*
	 * Messages quote what clients sent, cut to a length ("%.40s") that
	 * may fall inside a character; a reply the client cannot decode
	 * would hide the error it carries.
	 */
	utf8_mend(b.data, b.len);
	e = node_new(NODE_MAP);
	node_map_set_str(e, "code", node_new_str(code, strlen(code)));
	node_map_set_str(e, "message", node_new_str(b.data, b.len));
	buf_release(&b);
	r = node_new(NODE_MAP);
	node_map_set_str(r, "id", node_new_int(id));
	node_map_set_str(r, "ok", node_new_bool(false));
	node_map_set_str(r, "error", e);
	return r;
}
