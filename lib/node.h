/*
 * Generic document values: null, bool, integer, float, string, sequence and
 * mapping, each remembering where it came from in its file (line:col, 0
 * when it did not come from a file).
 *
 * Pipeline definitions are read into this form from YAML (or JSON) by the
 * client, and travel to the daemon as msgpack of the same shape, where the
 * loader checks them again; iterator items, inputs and runner options stay
 * in this form.  Scalars keep their source text as well as their typed
 * value, so that an environment value "0755" stays "0755".
 */
#ifndef PL_NODE_H
#define PL_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum node_type {
	NODE_NULL,
	NODE_BOOL,
	NODE_INT,
	NODE_FLOAT,
	NODE_STR,
	NODE_BIN,	/* bytes that need not be text (task output) */
	NODE_SEQ,
	NODE_MAP,
};

struct node {
	enum node_type	 type;
	bool		 invalid;	/* already reported; report nothing more */
	uint32_t	 line;
	uint32_t	 col;
	/* Scalars: the string value (NODE_STR), the bytes (NODE_BIN) or the
	 * source text (NULL for values not read from a file). */
	char		*text;
	size_t		 len;
	union {
		bool	 b;
		int64_t	 i;
		double	 f;
	};
	/* Sequences: items; mappings: key, value, key, value... */
	struct node	**kids;
	size_t		 nkids;
	size_t		 capkids;
};

struct node	*node_new(enum node_type);
struct node	*node_new_str(const char *, size_t);
struct node	*node_new_bin(const void *, size_t);
struct node	*node_new_int(int64_t);
struct node	*node_new_bool(bool);
struct node	*node_new_float(double);
void		 node_free(struct node *);
struct node	*node_copy(const struct node *);
bool		 node_equal(const struct node *, const struct node *);
uint64_t	 node_hash(const struct node *);

void		 node_append(struct node *seq, struct node *item);
void		 node_map_put(struct node *map, struct node *key, struct node *v);
void		 node_map_set_str(struct node *map, const char *key, struct node *);
size_t		 node_count(const struct node *);
size_t		 node_depth(const struct node *);
size_t		 node_longest(const struct node *);
struct node	*node_map_get(const struct node *map, const char *key);
struct node	*node_map_key(const struct node *map, size_t i);
struct node	*node_map_value(const struct node *map, size_t i);
struct node	*node_item(const struct node *seq, size_t i);

bool		 node_is_scalar(const struct node *);
bool		 node_is_str(const struct node *, const char *);
const char	*node_type_name(enum node_type);
char		*node_item_text(const struct node *);

#endif
