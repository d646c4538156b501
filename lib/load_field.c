/*
 * The loader's typed field readers: each checks one value's type, form and
 * limits, reports what is wrong at the value's position, and returns 0 or
 * -1.  ctx prefixes the message ("task 'render': "), what names the field.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "bounds.h"
#include "load_int.h"
#include "node.h"
#include "suggest.h"
#include "units.h"
#include "xmalloc.h"

/* Report an error at a node's position. */
void
load_err(struct load *l, const struct node *n, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	/* The parser already reported this value; one error is enough. */
	if (n != NULL && n->invalid)
		return;
	if (load_diag_full(l)) {
		diag_add(l->d, 0, 0, "%s", "");	/* counted, not kept */
		return;
	}
	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	diag_add(l->d, n != NULL ? n->line : 0, n != NULL ? n->col : 0, "%s",
	    b.data);
	buf_release(&b);
}

/*
 * Whether the next error would only be counted (DIAG_MAX_KEPT are kept):
 * then nothing is worth computing for its message.
 */
bool
load_diag_full(const struct load *l)
{
	return diag_count(l->d) >= DIAG_MAX_KEPT;
}

/* Report an unknown key, suggesting the known one it was probably meant as. */
void
load_unknown_key(struct load *l, const struct node *key, const char *ctx,
    const char *const *known, size_t nknown)
{
	const char	*near = NULL;

	if (!load_diag_full(l))
		near = suggest(key->text, known, nknown);
	if (near != NULL)
		load_err(l, key, "%sunknown key '%s' (did you mean '%s'?)", ctx,
		    key->text, near);
	else
		load_err(l, key, "%sunknown key '%s'", ctx, key->text);
}

/* Describe a value for "must be X, not Y" messages. */
static void
load_wrong_type(struct load *l, const struct node *n, const char *ctx,
    const char *what, const char *want)
{
	if (n->type == NODE_STR)
		load_err(l, n, "%s%s must be %s, not the string '%.40s'", ctx,
		    what, want, n->text);
	else
		load_err(l, n, "%s%s must be %s, not %s", ctx, what, want,
		    node_type_name(n->type));
}

/* A string of at most max bytes (never empty). */
int
load_str(struct load *l, const struct node *n, const char *ctx,
    const char *what, size_t max, char **out)
{
	if (n->type != NODE_STR) {
		load_wrong_type(l, n, ctx, what, "a string");
		return -1;
	}
	if (n->len == 0) {
		load_err(l, n, "%s%s must not be empty", ctx, what);
		return -1;
	}
	if (n->len > max) {
		load_err(l, n, "%s%s is %zu bytes long, over the limit of %zu",
		    ctx, what, n->len, max);
		return -1;
	}
	free(*out);
	*out = xstrdup(n->text);
	return 0;
}

/* true or false. */
int
load_bool(struct load *l, const struct node *n, const char *ctx,
    const char *what, bool *out)
{
	if (n->type != NODE_BOOL) {
		if (n->type == NODE_STR)
			load_err(l, n, "%s%s must be true or false, not '%.40s'",
			    ctx, what, n->text);
		else
			load_wrong_type(l, n, ctx, what, "true or false");
		return -1;
	}
	*out = n->b;
	return 0;
}

/* An integer in [min, max]. */
int
load_int(struct load *l, const struct node *n, const char *ctx,
    const char *what, int64_t min, int64_t max, int64_t *out)
{
	if (n->type != NODE_INT) {
		load_wrong_type(l, n, ctx, what, "an integer");
		return -1;
	}
	if (n->i < min || n->i > max) {
		load_err(l, n, "%s%s must be between %lld and %lld, not %lld",
		    ctx, what, (long long)min, (long long)max, (long long)n->i);
		return -1;
	}
	*out = n->i;
	return 0;
}

/* A duration (250ms, 30s, 5m, 2h, 1d, or whole seconds) of at least min. */
int
load_duration(struct load *l, const struct node *n, const char *ctx,
    const char *what, int64_t min_ms, int64_t *out)
{
	int64_t	ms;
	char	minbuf[32];

	if (n->type == NODE_INT && n->i >= 0 &&
	    n->i <= PL_MAX_DURATION_MS / 1000)
		ms = n->i * 1000;
	else if (n->type == NODE_STR &&
	    units_parse_duration(n->text, &ms) == 0)
		;
	else {
		load_err(l, n, "%s%s must be a duration such as 250ms, 30s, 5m, "
		    "2h, 1d or a number of seconds, not '%.40s'", ctx, what,
		    n->text != NULL ? n->text : node_type_name(n->type));
		return -1;
	}
	if (ms > PL_MAX_DURATION_MS) {
		load_err(l, n, "%s%s must be at most 366d", ctx, what);
		return -1;
	}
	if (ms < min_ms) {
		load_err(l, n, "%s%s must be at least %s", ctx, what,
		    units_format_duration(min_ms, minbuf, sizeof minbuf));
		return -1;
	}
	*out = ms;
	return 0;
}

/* A size (512K, 16M, 2G, 1T, or bytes). */
int
load_size(struct load *l, const struct node *n, const char *ctx,
    const char *what, int64_t *out)
{
	int64_t	bytes;

	if (n->type == NODE_INT && n->i >= 0)
		bytes = n->i;
	else if (n->type == NODE_STR && units_parse_size(n->text, &bytes) == 0)
		;
	else {
		load_err(l, n, "%s%s must be a size such as 512K, 16M, 2G or a "
		    "number of bytes, not '%.40s'", ctx, what,
		    n->text != NULL ? n->text : node_type_name(n->type));
		return -1;
	}
	*out = bytes;
	return 0;
}

/* A name checked by valid(); rule describes the allowed form. */
int
load_name(struct load *l, const struct node *n, const char *ctx,
    const char *what, bool (*valid)(const char *), const char *rule,
    char **out)
{
	if (n->type != NODE_STR) {
		load_wrong_type(l, n, ctx, what, "a string");
		return -1;
	}
	if (!valid(n->text)) {
		load_err(l, n, "%s%s '%.80s' is not valid: %s", ctx, what,
		    n->text, rule);
		return -1;
	}
	free(*out);
	*out = xstrdup(n->text);
	return 0;
}

static bool
load_valid_env_name(const char *s)
{
	size_t	i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return i <= 255;
}

/* Names every task gets from pipelined; a pipeline cannot set them. */
static bool
load_reserved_env(const char *s)
{
	return strncmp(s, "PIPELINE_", 9) == 0 ||
	    strcmp(s, "TASK_INDEX") == 0 || strcmp(s, "TASK_OBJECT") == 0;
}

/* An env mapping: NAME: scalar, in file order. */
int
load_env(struct load *l, const struct node *n, const char *ctx,
    struct env_var **out, size_t *nout)
{
	const struct node	*k, *v;
	size_t			 i, count;
	int			 bad = 0;
	char			*text;

	if (n->type != NODE_MAP) {
		load_wrong_type(l, n, ctx, "env", "a mapping of NAME: value");
		return -1;
	}
	count = node_count(n);
	if (count > PL_MAX_ENV) {
		load_err(l, n, "%senv has %zu entries, over the limit of %d",
		    ctx, count, PL_MAX_ENV);
		return -1;
	}
	if (count == 0)
		return 0;
	*out = xcalloc(count, sizeof **out);
	*nout = 0;
	for (i = 0; i < count; i++) {
		k = node_map_key(n, i);
		v = node_map_value(n, i);
		if (k->type != NODE_STR)
			continue;	/* reported by the parser */
		if (!load_valid_env_name(k->text)) {
			load_err(l, k, "%senv name '%.80s' is not valid: use "
			    "letters, digits and '_', not starting with a digit",
			    ctx, k->text);
			bad = 1;
			continue;
		}
		if (load_reserved_env(k->text)) {
			load_err(l, k, "%senv name '%s' is reserved: pipelined "
			    "sets it for every task", ctx, k->text);
			bad = 1;
			continue;
		}
		if ((text = load_scalar_text(v)) == NULL) {
			load_err(l, v, "%senv %s must be a string, not %s", ctx,
			    k->text, node_type_name(v->type));
			bad = 1;
			continue;
		}
		if (strlen(text) > PL_MAX_ENV_VALUE) {
			load_err(l, v, "%senv %s is %zu bytes long, over the "
			    "limit of %u", ctx, k->text, strlen(text),
			    PL_MAX_ENV_VALUE);
			free(text);
			bad = 1;
			continue;
		}
		(*out)[*nout].name = xstrdup(k->text);
		(*out)[*nout].value = text;
		(*nout)++;
	}
	return bad ? -1 : 0;
}

/*
 * The text of a scalar used as a string (an env value, an argv element):
 * its source text when it has one ("0755" stays "0755"), else its value
 * written out.  NULL for null, bytes, lists and mappings.
 */
char *
load_scalar_text(const struct node *n)
{
	if (!node_is_scalar(n) || n->type == NODE_NULL || n->type == NODE_BIN)
		return NULL;
	if (n->text != NULL)
		return xstrdup(n->text);
	switch (n->type) {
	case NODE_BOOL:
		return xstrdup(n->b ? "true" : "false");
	case NODE_INT:
		return xprintf("%lld", (long long)n->i);
	case NODE_FLOAT:
		return xprintf("%.17g", n->f);
	default:
		return NULL;
	}
}

/* An iterator: a list of at most PL_MAX_ITEMS items of any shape. */
int
load_iterate(struct load *l, const struct node *n, const char *ctx,
    struct node **out)
{
	if (n->type != NODE_SEQ) {
		load_wrong_type(l, n, ctx, "iterate", "a list of items");
		return -1;
	}
	if (n->nkids > PL_MAX_ITEMS) {
		load_err(l, n, "%siterate has %zu items, over the limit of %d",
		    ctx, n->nkids, PL_MAX_ITEMS);
		return -1;
	}
	node_free(*out);
	*out = node_copy(n);
	return 0;
}

/* A shell command line. */
int
load_command(struct load *l, const struct node *n, const char *ctx,
    const char *what, char **out)
{
	return load_str(l, n, ctx, what, PL_MAX_COMMAND, out);
}

static int
load_name_cmp(const void *a, const void *b, void *arg)
{
	const struct pipeline	*p = arg;

	return strcmp(p->tasks[*(const uint32_t *)a].name,
	    p->tasks[*(const uint32_t *)b].name);
}

/* Find a task by name through the sorted index; -1 when there is none. */
int
load_task_index(struct load *l, const char *name, uint32_t *out)
{
	size_t	lo = 0, hi = l->p->ntasks, mid;
	int	c;

	if (l->by_name == NULL) {
		l->by_name = xreallocarray(NULL, l->p->ntasks + 1,
		    sizeof *l->by_name);
		for (mid = 0; mid < l->p->ntasks; mid++)
			l->by_name[mid] = (uint32_t)mid;
		qsort_r(l->by_name, l->p->ntasks, sizeof *l->by_name,
		    load_name_cmp, l->p);
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, l->p->tasks[l->by_name[mid]].name);
		if (c == 0) {
			*out = l->by_name[mid];
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Record parent -> child, written at where. */
void
load_add_edge(struct load *l, uint32_t parent, uint32_t child,
    const struct node *where)
{
	if (l->nedges == l->capedges) {
		l->capedges = l->capedges == 0 ? 64 : l->capedges * 2;
		l->edges = xreallocarray(l->edges, l->capedges,
		    sizeof *l->edges);
	}
	l->edges[l->nedges].parent = parent;
	l->edges[l->nedges].child = child;
	l->edges[l->nedges].line = where->line;
	l->edges[l->nedges].col = where->col;
	l->nedges++;
}
