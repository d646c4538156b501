/*
 * YAML text to document values, event by event through libyaml.
 *
 * The tree is built with an explicit stack (no recursion), bounded in
 * depth, node count and scalar size, so hostile input costs at most a
 * bounded amount of memory and time.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "bounds.h"
#include "log.h"
#include "node.h"
#include "xmalloc.h"
#include "yamldoc.h"

#define YAML_TAG_PREFIX	"tag:yaml.org,2002:"

struct yamldoc {
	struct diag	 *d;
	struct node	 *root;
	struct node	**stack;
	size_t		  sp;
	size_t		  nodes;
	int		  bad_tag;	/* the last tag checked was refused */
};

static int
yamldoc_match(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* Parse an integer in the core schema (decimal, 0o octal, 0x hex). */
static int
yamldoc_int(const char *s, int64_t *out, int *range)
{
	const char	*p = s;
	char		*end;
	int		 base = 10;
	long long	 v;

	*range = 0;
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		if (p != s)
			return -1;	/* the core schema has no signed hex */
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
	}
	if (*p == '\0')
		return -1;
	for (end = (char *)p; *end != '\0'; end++) {
		if (base == 16 ? !strchr("0123456789abcdefABCDEF", *end) :
		    base == 8 ? (*end < '0' || *end > '7') :
		    (*end < '0' || *end > '9'))
			return -1;
	}
	errno = 0;
	if (base == 10)
		v = strtoll(s, &end, 10);
	else
		v = strtoll(p, &end, base);
	if (errno == ERANGE) {
		*range = 1;
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse a float in the core schema. */
static int
yamldoc_float(const char *s, double *out)
{
	static const char *const inf[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN", NULL };
	const char	*p = s;
	char		*end;
	int		 digits = 0;

	if (*p == '-' || *p == '+')
		p++;
	if (yamldoc_match(p, inf)) {
		*out = *s == '-' ? -HUGE_VAL : HUGE_VAL;
		return 0;
	}
	if (p == s && yamldoc_match(s, nan)) {
		*out = NAN;
		return 0;
	}
	/* [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )? with some digit. */
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits == 0)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return -1;
	*out = strtod(s, &end);
	return 0;
}

/* Type a plain scalar by the core schema; anything else is a string. */
static void
yamldoc_resolve(struct yamldoc *y, struct node *n, const char *tag)
{
	static const char *const nul[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	const char	*s = n->text;
	int		 range;

	if (tag == NULL || strcmp(tag, YAML_TAG_PREFIX "null") == 0) {
		if (yamldoc_match(s, nul)) {
			n->type = NODE_NULL;
			return;
		}
	}
	if (tag == NULL || strcmp(tag, YAML_TAG_PREFIX "bool") == 0) {
		if (yamldoc_match(s, yes) || yamldoc_match(s, no)) {
			n->type = NODE_BOOL;
			n->b = yamldoc_match(s, yes);
			return;
		}
	}
	if (tag == NULL || strcmp(tag, YAML_TAG_PREFIX "int") == 0) {
		if (yamldoc_int(s, &n->i, &range) == 0) {
			n->type = NODE_INT;
			return;
		}
		if (range) {
			diag_add(y->d, n->line, n->col,
			    "integer %s is out of range", s);
			n->invalid = true;
			return;
		}
	}
	if (tag == NULL || strcmp(tag, YAML_TAG_PREFIX "float") == 0) {
		if (yamldoc_float(s, &n->f) == 0) {
			n->type = NODE_FLOAT;
			return;
		}
	}
	if (tag != NULL) {
		diag_add(y->d, n->line, n->col, "'%s' is not a valid %s", s,
		    tag + strlen(YAML_TAG_PREFIX));
		n->invalid = true;
	}
}

/* Check a node's tag: only the core schema's, and only where they fit. */
static const char *
yamldoc_tag(struct yamldoc *y, const yaml_char_t *tag, uint32_t line,
    uint32_t col, const char *const *allowed)
{
	const char	*t = (const char *)tag;

	if (t == NULL || strcmp(t, "!") == 0)
		return NULL;
	if (strncmp(t, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0 &&
	    yamldoc_match(t + strlen(YAML_TAG_PREFIX), allowed))
		return t;
	diag_add(y->d, line, col, "unsupported tag '%s'", t);
	y->bad_tag = 1;
	return NULL;
}

static struct node *
yamldoc_scalar(struct yamldoc *y, yaml_event_t *ev, uint32_t line,
    uint32_t col)
{
	static const char *const tags[] = { "str", "int", "float", "bool",
	    "null", NULL };
	struct node	*n;
	const char	*tag;
	size_t		 len = ev->data.scalar.length;
	const char	*v = (const char *)ev->data.scalar.value;

	if (len > PL_MAX_SCALAR) {
		diag_add(y->d, line, col,
		    "value is %zu bytes long, over the limit of %u", len,
		    PL_MAX_SCALAR);
		n = node_new(NODE_NULL);
		n->invalid = true;
	} else {
		n = node_new_str(v, len);
		if (memchr(v, '\0', len) != NULL) {
			diag_add(y->d, line, col,
			    "strings must not contain NUL characters");
			n->invalid = true;
		}
	}
	n->line = line;
	n->col = col;
	if (n->type != NODE_STR)
		return n;
	y->bad_tag = 0;
	tag = yamldoc_tag(y, ev->data.scalar.tag, line, col, tags);
	if (y->bad_tag)
		n->invalid = true;
	if (tag != NULL && strcmp(tag, YAML_TAG_PREFIX "str") == 0)
		return n;
	if (tag != NULL || ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		yamldoc_resolve(y, n, tag);
	return n;
}

static int
yamldoc_key_cmp(const void *a, const void *b, void *arg)
{
	struct node	 **kids = arg;
	size_t		   i = *(const size_t *)a, j = *(const size_t *)b;
	const struct node *x = kids[2 * i];
	const struct node *y = kids[2 * j];
	size_t		   n = x->len < y->len ? x->len : y->len;
	int		   c;

	if ((c = memcmp(x->text, y->text, n)) != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* Equal keys: file order, so the first one is the original. */
	return i < j ? -1 : i > j;
}

/*
 * Report every key that repeats an earlier one, at the repetition, and drop
 * the repeated pairs: every mapping the loader sees has unique keys.
 */
static void
yamldoc_dup_keys(struct yamldoc *y, struct node *map)
{
	size_t	*idx, npairs = map->nkids / 2, n = 0, i, first = 0, out;
	char	*drop;

	if (npairs < 2)
		return;
	idx = xreallocarray(NULL, npairs, sizeof *idx);
	drop = xcalloc(npairs, 1);
	for (i = 0; i < npairs; i++)
		if (map->kids[2 * i]->type == NODE_STR)
			idx[n++] = i;
	qsort_r(idx, n, sizeof *idx, yamldoc_key_cmp, map->kids);
	for (i = 1; i < n; i++) {
		struct node *k = map->kids[2 * idx[i]];
		struct node *f = map->kids[2 * idx[first]];

		if (k->len == f->len && memcmp(k->text, f->text, k->len) == 0) {
			diag_add(y->d, k->line, k->col,
			    "duplicate key '%s' (first defined at line %u)",
			    k->text, f->line);
			drop[idx[i]] = 1;
		} else
			first = i;
	}
	for (i = out = 0; i < npairs; i++) {
		if (drop[i]) {
			node_free(map->kids[2 * i]);
			node_free(map->kids[2 * i + 1]);
			continue;
		}
		map->kids[2 * out] = map->kids[2 * i];
		map->kids[2 * out + 1] = map->kids[2 * i + 1];
		out++;
	}
	map->nkids = 2 * out;
	free(drop);
	free(idx);
}

/* Hang a finished node under the open container (or make it the root). */
static void
yamldoc_attach(struct yamldoc *y, struct node *n)
{
	struct node	*top;

	if (y->sp == 0) {
		y->root = n;
		return;
	}
	top = y->stack[y->sp - 1];
	if (top->type == NODE_SEQ) {
		node_append(top, n);
		return;
	}
	if (top->nkids % 2 == 0) {
		/* Keys are names: "1:" or "true:" mean the strings "1", "true". */
		if (!node_is_scalar(n))
			diag_add(y->d, n->line, n->col,
			    "mapping keys must be scalars, not %s",
			    node_type_name(n->type));
		else if (n->text != NULL)
			n->type = NODE_STR;
	}
	/* Keys and values alternate; node_map_put pairs them later. */
	if (top->nkids == top->capkids) {
		top->capkids = top->capkids == 0 ? 8 : top->capkids * 2;
		top->kids = xreallocarray(top->kids, top->capkids,
		    sizeof *top->kids);
	}
	top->kids[top->nkids++] = n;
}

static int
yamldoc_push(struct yamldoc *y, struct node *n)
{
	if (y->sp >= PL_MAX_DEPTH) {
		diag_add(y->d, n->line, n->col,
		    "nesting deeper than %d levels", PL_MAX_DEPTH);
		node_free(n);
		return -1;
	}
	yamldoc_attach(y, n);
	if (y->stack == NULL)
		y->stack = xreallocarray(NULL, PL_MAX_DEPTH, sizeof *y->stack);
	y->stack[y->sp++] = n;
	return 0;
}

/* Handle one parser event; returns -1 to stop. */
static int
yamldoc_event(struct yamldoc *y, yaml_event_t *ev, int *docs)
{
	static const char *const seqtags[] = { "seq", NULL };
	static const char *const maptags[] = { "map", NULL };
	uint32_t	 line = (uint32_t)ev->start_mark.line + 1;
	uint32_t	 col = (uint32_t)ev->start_mark.column + 1;
	yaml_char_t	*anchor = NULL;
	struct node	*n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			diag_add(y->d, line, col,
			    "only one document is allowed per file");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		diag_add(y->d, line, col,
		    "aliases are not allowed (alias '*%s')",
		    (const char *)ev->data.alias.anchor);
		n = node_new(NODE_NULL);
		n->invalid = true;
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		n = yamldoc_scalar(y, ev, line, col);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		yamldoc_tag(y, ev->data.sequence_start.tag, line, col, seqtags);
		n = node_new(NODE_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		yamldoc_tag(y, ev->data.mapping_start.tag, line, col, maptags);
		n = node_new(NODE_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = y->stack[--y->sp];
		if (n->type == NODE_MAP)
			yamldoc_dup_keys(y, n);
		return 0;
	default:
		return 0;
	}
	n->line = line;
	n->col = col;
	if (anchor != NULL)
		diag_add(y->d, line, col, "anchors are not allowed (anchor '&%s')",
		    (const char *)anchor);
	if (++y->nodes > PL_MAX_NODES) {
		diag_add(y->d, line, col, "more than %u values in one document",
		    PL_MAX_NODES);
		node_free(n);
		return -1;
	}
	if (n->type == NODE_SEQ || n->type == NODE_MAP)
		return yamldoc_push(y, n);
	yamldoc_attach(y, n);
	return 0;
}

/* Parse one YAML document into a tree of values. */
struct node *
yamldoc_parse(const char *buf, size_t len, struct diag *d)
{
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	struct yamldoc	 y;
	int		 docs = 0, done = 0;

	memset(&y, 0, sizeof y);
	y.d = d;
	if (!yaml_parser_initialize(&parser))
		fatalx("yaml_parser_initialize: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			diag_add(d, (uint32_t)parser.problem_mark.line + 1,
			    (uint32_t)parser.problem_mark.column + 1, "%s%s%s",
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
			node_free(y.root);
			y.root = NULL;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (yamldoc_event(&y, &ev, &docs) == -1) {
			done = 1;
			/* A tree cut off mid-way is not worth checking further. */
			if (y.sp > 0) {
				node_free(y.root);
				y.root = NULL;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	free(y.stack);
	return y.root;
}
