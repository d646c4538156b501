/*
 * Generic document values.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"
#include "nodejson.h"
#include "xmalloc.h"

/* A new empty value of the given type (a sequence or mapping has no items). */
struct node *
node_new(enum node_type type)
{
	struct node	*n;

	n = xcalloc(1, sizeof *n);
	n->type = type;
	return n;
}

/* A string value; the bytes are copied and NUL-terminated. */
struct node *
node_new_str(const char *s, size_t len)
{
	struct node	*n;

	n = node_new(NODE_STR);
	n->text = xmalloc(len + 1);
	memcpy(n->text, s, len);
	n->text[len] = '\0';
	n->len = len;
	return n;
}

/* A byte string; the bytes are copied (and NUL-terminated for safety). */
struct node *
node_new_bin(const void *p, size_t len)
{
	struct node	*n;

	n = node_new_str(p, len);
	n->type = NODE_BIN;
	return n;
}

/* An integer value. */
struct node *
node_new_int(int64_t i)
{
	struct node	*n;

	n = node_new(NODE_INT);
	n->i = i;
	return n;
}

/* A boolean value. */
struct node *
node_new_bool(bool b)
{
	struct node	*n;

	n = node_new(NODE_BOOL);
	n->b = b;
	return n;
}

/* A floating point value. */
struct node *
node_new_float(double f)
{
	struct node	*n;

	n = node_new(NODE_FLOAT);
	n->f = f;
	return n;
}

/* Free a value and everything below it; iterative so depth cannot hurt. */
void
node_free(struct node *n)
{
	struct node	**stack = NULL, *cur;
	size_t		  sp = 0, cap = 0, i;

	if (n == NULL)
		return;
	cur = n;
	for (;;) {
		for (i = 0; i < cur->nkids; i++) {
			if (cur->kids[i] == NULL)
				continue;
			if (sp == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				stack = xreallocarray(stack, cap, sizeof *stack);
			}
			stack[sp++] = cur->kids[i];
		}
		free(cur->kids);
		free(cur->text);
		free(cur);
		if (sp == 0)
			break;
		cur = stack[--sp];
	}
	free(stack);
}

/* A deep copy, positions included. */
struct node *
node_copy(const struct node *n)
{
	struct node	*c;
	size_t		 i;

	if (n == NULL)
		return NULL;
	c = xmalloc(sizeof *c);
	*c = *n;
	if (n->text != NULL) {
		c->text = xmalloc(n->len + 1);
		memcpy(c->text, n->text, n->len + 1);
	}
	c->kids = NULL;
	c->nkids = c->capkids = 0;
	if (n->nkids > 0) {
		c->kids = xreallocarray(NULL, n->nkids, sizeof *c->kids);
		c->capkids = c->nkids = n->nkids;
		for (i = 0; i < n->nkids; i++)
			c->kids[i] = node_copy(n->kids[i]);
	}
	return c;
}

/* Same type and value, recursively; positions and source text ignored. */
bool
node_equal(const struct node *a, const struct node *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case NODE_NULL:
		return true;
	case NODE_BOOL:
		return a->b == b->b;
	case NODE_INT:
		return a->i == b->i;
	case NODE_FLOAT:
		return a->f == b->f || (isnan(a->f) && isnan(b->f));
	case NODE_STR:
	case NODE_BIN:
		return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
	case NODE_SEQ:
	case NODE_MAP:
		if (a->nkids != b->nkids)
			return false;
		for (i = 0; i < a->nkids; i++)
			if (!node_equal(a->kids[i], b->kids[i]))
				return false;
		return true;
	}
	return false;
}

static void
node_push(struct node *n, struct node *kid)
{
	if (n->nkids == n->capkids) {
		n->capkids = n->capkids == 0 ? 4 : n->capkids * 2;
		n->kids = xreallocarray(n->kids, n->capkids, sizeof *n->kids);
	}
	n->kids[n->nkids++] = kid;
}

/* Append an item to a sequence, which takes ownership of it. */
void
node_append(struct node *seq, struct node *item)
{
	if (seq->type != NODE_SEQ)
		fatalx("node_append: not a sequence");
	node_push(seq, item);
}

/* Append a key/value pair to a mapping (no duplicate check). */
void
node_map_put(struct node *map, struct node *key, struct node *v)
{
	if (map->type != NODE_MAP)
		fatalx("node_map_put: not a mapping");
	node_push(map, key);
	node_push(map, v);
}

/* Append a pair with a string key. */
void
node_map_set_str(struct node *map, const char *key, struct node *v)
{
	node_map_put(map, node_new_str(key, strlen(key)), v);
}

/* Items of a sequence, pairs of a mapping, 0 for scalars. */
size_t
node_count(const struct node *n)
{
	if (n->type == NODE_MAP)
		return n->nkids / 2;
	return n->nkids;
}

/* The value for a string key, or NULL. */
struct node *
node_map_get(const struct node *map, const char *key)
{
	size_t	i, len = strlen(key);

	if (map == NULL || map->type != NODE_MAP)
		return NULL;
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->type == NODE_STR && map->kids[i]->len == len &&
		    memcmp(map->kids[i]->text, key, len) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

/* The key of pair i. */
struct node *
node_map_key(const struct node *map, size_t i)
{
	return map->kids[2 * i];
}

/* The value of pair i. */
struct node *
node_map_value(const struct node *map, size_t i)
{
	return map->kids[2 * i + 1];
}

/* Item i of a sequence. */
struct node *
node_item(const struct node *seq, size_t i)
{
	return seq->kids[i];
}

/* Neither a sequence nor a mapping. */
bool
node_is_scalar(const struct node *n)
{
	return n->type != NODE_SEQ && n->type != NODE_MAP;
}

/* A string equal to s. */
bool
node_is_str(const struct node *n, const char *s)
{
	return n != NULL && n->type == NODE_STR && strlen(s) == n->len &&
	    memcmp(n->text, s, n->len) == 0;
}

/* "a string", "a mapping"...: for error messages. */
const char *
node_type_name(enum node_type t)
{
	switch (t) {
	case NODE_NULL:
		return "null";
	case NODE_BOOL:
		return "a boolean";
	case NODE_INT:
		return "an integer";
	case NODE_FLOAT:
		return "a number";
	case NODE_STR:
		return "a string";
	case NODE_BIN:
		return "binary data";
	case NODE_SEQ:
		return "a list";
	case NODE_MAP:
		return "a mapping";
	}
	return "a value";
}

/*
 * How an iterator item or input value reaches a task: a string as it is,
 * anything else as compact JSON.
 */
char *
node_item_text(const struct node *n)
{
	if (n->type == NODE_STR)
		return xstrdup(n->text);
	return nodejson_encode(n);
}

/* The nesting depth: 0 for a scalar, 1 for a flat list or mapping. */
size_t
node_depth(const struct node *n)
{
	size_t	i, d, max = 0;

	if (node_is_scalar(n))
		return 0;
	for (i = 0; i < n->nkids; i++)
		if ((d = node_depth(n->kids[i])) > max)
			max = d;
	return max + 1;
}

/* The length of the longest string or bytes in n, keys included. */
size_t
node_longest(const struct node *n)
{
	size_t	i, len, max = 0;

	if (node_is_scalar(n))
		return n->type == NODE_STR || n->type == NODE_BIN ? n->len : 0;
	for (i = 0; i < n->nkids; i++)
		if ((len = node_longest(n->kids[i])) > max)
			max = len;
	return max;
}

/* A 64-bit hash of a value (FNV-1a over types, values and keys). */
uint64_t
node_hash(const struct node *n)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	h = (h ^ (uint64_t)n->type) * 0x100000001b3ULL;
	switch (n->type) {
	case NODE_BOOL:
		h = (h ^ (uint64_t)n->b) * 0x100000001b3ULL;
		break;
	case NODE_INT:
		h = (h ^ (uint64_t)n->i) * 0x100000001b3ULL;
		break;
	case NODE_FLOAT: {
		uint64_t bits;

		memcpy(&bits, &n->f, sizeof bits);
		h = (h ^ bits) * 0x100000001b3ULL;
		break;
	}
	case NODE_STR:
	case NODE_BIN:
		for (i = 0; i < n->len; i++)
			h = (h ^ (unsigned char)n->text[i]) * 0x100000001b3ULL;
		break;
	default:
		break;
	}
	for (i = 0; i < n->nkids; i++)
		h = (h ^ node_hash(n->kids[i])) * 0x100000001b3ULL;
	return h;
}
