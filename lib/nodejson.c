/*
 * JSON text to and from document values.  jansson does the parsing and
 * the escaping; this file only maps between its values and ours.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"
#include "nodejson.h"
#include "xmalloc.h"

static json_t *
nodejson_string(const char *s, size_t len)
{
	json_t	*j;
	char	*copy;
	size_t	 i;

	if ((j = json_stringn(s, len)) != NULL)
		return j;
	/* Not UTF-8: callers validate input, so this is a lossy last resort. */
	copy = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		copy[i] = s[i];
		if ((unsigned char)s[i] >= 0x80)
			copy[i] = '?';
	}
	j = json_stringn(copy, len);
	free(copy);
	if (j == NULL)
		fatalx("nodejson_string: jansson refused ASCII");
	return j;
}

static json_t *
nodejson_from_node(const struct node *n)
{
	json_t	*j;
	size_t	 i;

	switch (n->type) {
	case NODE_NULL:
		return json_null();
	case NODE_BOOL:
		return json_boolean(n->b);
	case NODE_INT:
		return json_integer(n->i);
	case NODE_FLOAT:
		if (!isfinite(n->f))
			return json_null();
		return json_real(n->f);
	case NODE_STR:
	case NODE_BIN:
		return nodejson_string(n->text, n->len);
	case NODE_SEQ:
		j = json_array();
		for (i = 0; i < n->nkids; i++)
			json_array_append_new(j, nodejson_from_node(n->kids[i]));
		return j;
	case NODE_MAP:
		j = json_object();
		for (i = 0; i + 1 < n->nkids; i += 2) {
			const struct node *k = n->kids[i];
			char *key;

			key = k->type == NODE_STR ? xstrdup(k->text) :
			    nodejson_encode(k);
			json_object_set_new(j, key,
			    nodejson_from_node(n->kids[i + 1]));
			free(key);
		}
		return j;
	}
	fatalx("nodejson_from_node: bad type %d", n->type);
}

/* Compact JSON text of a value. */
char *
nodejson_encode(const struct node *n)
{
	json_t	*j;
	char	*s, *out;

	j = nodejson_from_node(n);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL)
		fatalx("nodejson_encode: out of memory");
	out = xstrdup(s);
	free(s);
	return out;
}

static struct node *
nodejson_to_node(json_t *j)
{
	struct node	*n;
	const char	*key;
	json_t		*v;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_NULL:
		return node_new(NODE_NULL);
	case JSON_TRUE:
		return node_new_bool(true);
	case JSON_FALSE:
		return node_new_bool(false);
	case JSON_INTEGER:
		return node_new_int((int64_t)json_integer_value(j));
	case JSON_REAL:
		return node_new_float(json_real_value(j));
	case JSON_STRING:
		return node_new_str(json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
		n = node_new(NODE_SEQ);
		json_array_foreach(j, i, v)
			node_append(n, nodejson_to_node(v));
		return n;
	case JSON_OBJECT:
		n = node_new(NODE_MAP);
		json_object_foreach(j, key, v)
			node_map_set_str(n, key, nodejson_to_node(v));
		return n;
	}
	fatalx("nodejson_to_node: bad type");
}

/* Parse JSON text (any value at top level; duplicate keys refused). */
struct node *
nodejson_decode(const char *text, size_t len, char **err)
{
	json_error_t	 e;
	json_t		*j;
	struct node	*n;

	/* Without JSON_ALLOW_NUL, "\u0000" is refused: no C string holds it. */
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		*err = xprintf("line %d, column %d: %s", e.line, e.column,
		    e.text);
		return NULL;
	}
	n = nodejson_to_node(j);
	json_decref(j);
	*err = NULL;
	return n;
}
