/*
 * The task graph: edges are collected as pairs, then graph_prepare() turns
 * them into CSR adjacency (per node an offset into one flat array of
 * neighbours, once for children and once for parents) that the flat order,
 * the cycle finder and any number of struct topo sorters read without
 * copying.
 *
 * Pipelines of ten thousand tasks and fifty thousand edges are expected, so
 * every pass is iterative and linear: prepare is counting sorts, the orders
 * are Kahn's algorithm, cycles come from an iterative Tarjan.  Offsets are
 * uint32_t because they halve the adjacency; that caps the edges added
 * (duplicates included) at UINT32_MAX.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "log.h"
#include "xmalloc.h"

/* No node: every real index is below n <= UINT32_MAX. */
#define GRAPH_NONE	UINT32_MAX

struct graph_edge {
	uint32_t	 parent;
	uint32_t	 child;
};

struct graph {
	uint32_t		 n;
	bool			 prepared;
	bool			 cyclic;

	/* Until graph_prepare(): the edges as added. */
	struct graph_edge	*raw;
	size_t			 nraw;
	size_t			 rawcap;

	/* After: node i's children are cadj[coff[i] .. coff[i + 1] - 1]. */
	uint32_t		*coff;
	uint32_t		*cadj;
	uint32_t		*poff;
	uint32_t		*padj;
	size_t			 nedges;
};

enum topo_state {
	TOPO_WAITING = 0,	/* some parent is not done */
	TOPO_READY,		/* queued, not handed out yet */
	TOPO_HANDED,
	TOPO_DONE,
};

struct topo {
	const struct graph	*g;
	uint32_t		*remaining;	/* parents not done yet */
	uint8_t			*state;		/* enum topo_state */
	uint32_t		*queue;		/* in order of becoming ready */
	uint32_t		 nready;	/* length of queue */
	uint32_t		 nhanded;	/* queue[0..nhanded) went out */
	uint32_t		 ndone;
};

/* Scratch for the iterative Tarjan; comp is what the caller keeps. */
struct graph_scc {
	uint32_t	*comp;		/* lowest node of the component */
	uint32_t	*index;		/* DFS number + 1, 0 while unvisited */
	uint32_t	*low;
	uint32_t	*stack;		/* Tarjan's stack of open nodes */
	uint32_t	*calls;		/* the DFS path, replacing recursion */
	uint32_t	*cursor;	/* per node, next child edge to try */
};

/* A uint32_t array never of size 0, which xmalloc treats as a bug. */
static uint32_t *
graph_array(size_t n)
{
	return xreallocarray(NULL, n > 0 ? n : 1, sizeof(uint32_t));
}

/* Die unless the graph was prepared: the adjacency does not exist before. */
static void
graph_need_prepared(const struct graph *g, const char *fn)
{
	if (!g->prepared)
		fatalx("%s: graph not prepared", fn);
}

/* A graph of n nodes without edges; n may be 0. */
struct graph *
graph_new(uint32_t n)
{
	struct graph	*g;

	g = xcalloc(1, sizeof *g);
	g->n = n;
	return g;
}

/* Free the graph; every topo made from it must be gone already. */
void
graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	free(g->raw);
	free(g->coff);
	free(g->cadj);
	free(g->poff);
	free(g->padj);
	free(g);
}

/* Record parent -> child; duplicates are kept until prepare drops them. */
void
graph_add_edge(struct graph *g, uint32_t parent, uint32_t child)
{
	if (g->prepared)
		fatalx("graph_add_edge: graph already prepared");
	if (parent >= g->n || child >= g->n)
		fatalx("graph_add_edge: %u -> %u out of range (%u nodes)",
		    parent, child, g->n);
	if (g->nraw >= UINT32_MAX)
		fatalx("graph_add_edge: too many edges");
	if (g->nraw == g->rawcap) {
		g->rawcap = g->rawcap == 0 ? 16 : g->rawcap * 2;
		g->raw = xreallocarray(g->raw, g->rawcap, sizeof *g->raw);
	}
	g->raw[g->nraw].parent = parent;
	g->raw[g->nraw].child = child;
	g->nraw++;
}

/* Turn counts kept in off[i + 1] into start offsets off[i]. */
static void
graph_prefix(uint32_t *off, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		off[i + 1] += off[i];
}

/*
 * Undo the filling pass, which used off[i] as node i's cursor and so left
 * it at node i + 1's start; shifting restores the starts without needing
 * a separate cursor array.
 */
static void
graph_unshift(uint32_t *off, uint32_t n)
{
	uint32_t	i;

	for (i = n; i > 0; i--)
		off[i] = off[i - 1];
	off[0] = 0;
}

/*
 * Kahn's algorithm with a FIFO queue, which is the batch rule: a batch is
 * appended whole while the one before is consumed.  out doubles as the
 * queue; returns how many nodes it ordered, fewer than n on a cycle.
 */
static uint32_t
graph_kahn(const struct graph *g, uint32_t *out)
{
	uint32_t	*indeg, head, tail, v, c, k;

	indeg = graph_array(g->n);
	tail = 0;
	for (v = 0; v < g->n; v++) {
		indeg[v] = g->poff[v + 1] - g->poff[v];
		if (indeg[v] == 0)
			out[tail++] = v;
	}
	for (head = 0; head < tail; head++) {
		v = out[head];
		for (k = g->coff[v]; k < g->coff[v + 1]; k++) {
			c = g->cadj[k];
			if (--indeg[c] == 0)
				out[tail++] = c;
		}
	}
	free(indeg);
	return tail;
}

/*
 * Freeze the graph in O(n + e) with counting sorts.  Grouping the parents
 * by child first and then walking children in index order appends each
 * child to its parents' lists already sorted, and any duplicate of an edge
 * sits in the same child's group, where one stamp per parent spots it.
 */
int
graph_prepare(struct graph *g)
{
	uint32_t	*bychild, *stamp, *order;
	uint32_t	 n = g->n, c, p, k;
	size_t		 e;

	if (g->prepared)
		return g->cyclic ? -1 : 0;

	g->poff = xcalloc((size_t)n + 1, sizeof *g->poff);
	for (e = 0; e < g->nraw; e++)
		g->poff[g->raw[e].child + 1]++;
	graph_prefix(g->poff, n);
	bychild = graph_array(g->nraw);
	for (e = 0; e < g->nraw; e++)
		bychild[g->poff[g->raw[e].child]++] = g->raw[e].parent;
	graph_unshift(g->poff, n);
	free(g->raw);
	g->raw = NULL;
	g->nraw = g->rawcap = 0;

	/* Count distinct children, blanking duplicates for the next pass. */
	g->coff = xcalloc((size_t)n + 1, sizeof *g->coff);
	stamp = graph_array(n);
	memset(stamp, 0xff, (size_t)n * sizeof *stamp);
	for (c = 0; c < n; c++) {
		for (k = g->poff[c]; k < g->poff[c + 1]; k++) {
			p = bychild[k];
			if (stamp[p] == c) {
				bychild[k] = GRAPH_NONE;
			} else {
				stamp[p] = c;
				g->coff[p + 1]++;
			}
		}
	}
	free(stamp);
	graph_prefix(g->coff, n);
	g->nedges = g->coff[n];
	g->cadj = graph_array(g->nedges);
	for (c = 0; c < n; c++) {
		for (k = g->poff[c]; k < g->poff[c + 1]; k++)
			if ((p = bychild[k]) != GRAPH_NONE)
				g->cadj[g->coff[p]++] = c;
	}
	graph_unshift(g->coff, n);

	/* The same walk over distinct children gives sorted parent lists. */
	memset(g->poff, 0, ((size_t)n + 1) * sizeof *g->poff);
	for (e = 0; e < g->nedges; e++)
		g->poff[g->cadj[e] + 1]++;
	graph_prefix(g->poff, n);
	g->padj = bychild;
	for (p = 0; p < n; p++) {
		for (k = g->coff[p]; k < g->coff[p + 1]; k++)
			g->padj[g->poff[g->cadj[k]]++] = p;
	}
	graph_unshift(g->poff, n);
	if (g->nedges > 0)
		g->padj = xreallocarray(g->padj, g->nedges, sizeof *g->padj);

	g->prepared = true;
	order = graph_array(n);
	g->cyclic = graph_kahn(g, order) != n;
	free(order);
	return g->cyclic ? -1 : 0;
}

/* Whether graph_prepare() ran. */
bool
graph_is_prepared(const struct graph *g)
{
	return g->prepared;
}

/* The number of nodes. */
uint32_t
graph_size(const struct graph *g)
{
	return g->n;
}

/* Distinct edges, which are only known once duplicates are merged. */
size_t
graph_edges(const struct graph *g)
{
	graph_need_prepared(g, __func__);
	return g->nedges;
}

/* Node i's run in an offset/adjacency pair; never NULL, even when empty. */
static const uint32_t *
graph_run(const struct graph *g, const uint32_t *off, const uint32_t *adj,
    uint32_t i, uint32_t *n, const char *fn)
{
	graph_need_prepared(g, fn);
	if (i >= g->n)
		fatalx("%s: node %u out of range", fn, i);
	*n = off[i + 1] - off[i];
	return adj + off[i];
}

/* Children of node i, sorted by index. */
const uint32_t *
graph_children(const struct graph *g, uint32_t i, uint32_t *n)
{
	return graph_run(g, g->coff, g->cadj, i, n, __func__);
}

/* Parents of node i, sorted by index. */
const uint32_t *
graph_parents(const struct graph *g, uint32_t i, uint32_t *n)
{
	return graph_run(g, g->poff, g->padj, i, n, __func__);
}

/* Pop the component rooted at the top of the stack down to v. */
static void
graph_scc_pop(struct graph_scc *s, uint32_t *sp, uint32_t v)
{
	uint32_t	j, lowest;

	j = *sp;
	lowest = v;
	do {
		j--;
		if (s->stack[j] < lowest)
			lowest = s->stack[j];
	} while (s->stack[j] != v);
	while (*sp > j)
		s->comp[s->stack[--*sp]] = lowest;
}

/*
 * Tarjan's algorithm with an explicit call stack, since a chain of ten
 * thousand tasks would be ten thousand frames deep.  Fills s->comp; a node
 * is on Tarjan's stack exactly while it is visited but has no component.
 */
static void
graph_scc(const struct graph *g, struct graph_scc *s)
{
	uint32_t	 n = g->n, root, v, w, depth, sp, counter;

	memset(s->index, 0, (size_t)n * sizeof *s->index);
	memset(s->comp, 0xff, (size_t)n * sizeof *s->comp);
	counter = sp = 0;
	for (root = 0; root < n; root++) {
		if (s->index[root] != 0)
			continue;
		depth = 0;
		w = root;
		for (;;) {
			if (w != GRAPH_NONE) {
				/* Entering w, as a recursive call would. */
				s->index[w] = s->low[w] = ++counter;
				s->cursor[w] = g->coff[w];
				s->stack[sp++] = w;
				s->calls[depth++] = w;
			}
			v = s->calls[depth - 1];
			w = GRAPH_NONE;
			if (s->cursor[v] < g->coff[v + 1]) {
				w = g->cadj[s->cursor[v]++];
				if (s->index[w] != 0) {
					if (s->comp[w] == GRAPH_NONE &&
					    s->index[w] < s->low[v])
						s->low[v] = s->index[w];
					w = GRAPH_NONE;
				}
				continue;
			}
			/* Returning from v. */
			if (s->low[v] == s->index[v])
				graph_scc_pop(s, &sp, v);
			if (--depth == 0)
				break;
			if (s->low[v] < s->low[s->calls[depth - 1]])
				s->low[s->calls[depth - 1]] = s->low[v];
		}
	}
}

/*
 * The shortest cycle through v0 within its component, by a BFS that visits
 * children in index order so the answer is deterministic.  Writes it to
 * path and returns its length, or 0 when v0 is alone in its component
 * (its self-edge, if any, is reported on its own).  pred must hold
 * GRAPH_NONE for the component's nodes; components are disjoint, so one
 * initialisation serves every call.
 */
static uint32_t
graph_cycle_at(const struct graph *g, uint32_t v0, const uint32_t *comp,
    uint32_t *pred, uint32_t *queue, uint32_t *path)
{
	uint32_t	head, tail, u, w, k, i, len, x;

	head = tail = 0;
	queue[tail++] = v0;
	pred[v0] = v0;
	while (head < tail) {
		u = queue[head++];
		for (k = g->coff[u]; k < g->coff[u + 1]; k++) {
			w = g->cadj[k];
			if (w == v0 && u != v0) {
				len = 1;
				for (x = u; x != v0; x = pred[x])
					len++;
				x = u;
				for (i = len - 1; i > 0; i--) {
					path[i] = x;
					x = pred[x];
				}
				path[0] = v0;
				return len;
			}
			if (comp[w] != v0 || pred[w] != GRAPH_NONE)
				continue;
			pred[w] = u;
			queue[tail++] = w;
		}
	}
	return 0;
}

/*
 * Report self-edges and one cycle per component of two or more nodes,
 * by lowest node ascending (a self-edge on that node comes first).
 * cb may be NULL to only count.
 */
size_t
graph_find_cycles(const struct graph *g, graph_cycle_cb cb, void *arg)
{
	struct graph_scc	 s;
	uint32_t		 n = g->n, v, k, len;
	size_t			 found = 0;

	graph_need_prepared(g, __func__);
	if (!g->cyclic)
		return 0;

	s.comp = graph_array(n);
	s.index = graph_array(n);
	s.low = graph_array(n);
	s.stack = graph_array(n);
	s.calls = graph_array(n);
	s.cursor = graph_array(n);
	graph_scc(g, &s);

	/* The DFS scratch is free again: index becomes pred, low the queue. */
	memset(s.index, 0xff, (size_t)n * sizeof *s.index);
	for (v = 0; v < n; v++) {
		/* Children are sorted: a self-edge is among those up to v. */
		for (k = g->coff[v]; k < g->coff[v + 1] &&
		    g->cadj[k] <= v; k++) {
			if (g->cadj[k] == v) {
				found++;
				if (cb != NULL)
					cb(&v, 1, arg);
			}
		}
		if (s.comp[v] != v)
			continue;
		len = graph_cycle_at(g, v, s.comp, s.index, s.low, s.stack);
		if (len > 0) {
			found++;
			if (cb != NULL)
				cb(s.stack, len, arg);
		}
	}
	if (found == 0)
		fatalx("%s: cyclic graph without a cycle", __func__);

	free(s.comp);
	free(s.index);
	free(s.low);
	free(s.stack);
	free(s.calls);
	free(s.cursor);
	return found;
}

/* Write the flat order (Kahn in batches) of all n nodes to out. */
int
graph_flat_order(const struct graph *g, uint32_t *out)
{
	graph_need_prepared(g, __func__);
	if (g->cyclic)
		return -1;
	if (graph_kahn(g, out) != g->n)
		fatalx("%s: acyclic graph left nodes unordered", __func__);
	return 0;
}

/* A sorter sharing g, which must outlive it; only its progress is its own. */
struct topo *
topo_new(const struct graph *g)
{
	struct topo	*t;
	uint32_t	 v;

	graph_need_prepared(g, __func__);
	if (g->cyclic)
		fatalx("%s: graph has a cycle", __func__);
	t = xcalloc(1, sizeof *t);
	t->g = g;
	t->remaining = graph_array(g->n);
	t->state = xcalloc(g->n > 0 ? g->n : 1, sizeof *t->state);
	t->queue = graph_array(g->n);
	for (v = 0; v < g->n; v++) {
		t->remaining[v] = g->poff[v + 1] - g->poff[v];
		if (t->remaining[v] == 0) {
			t->state[v] = TOPO_READY;
			t->queue[t->nready++] = v;
		}
	}
	return t;
}

/* Free the sorter, leaving the graph alone. */
void
topo_free(struct topo *t)
{
	if (t == NULL)
		return;
	free(t->remaining);
	free(t->state);
	free(t->queue);
	free(t);
}

/* Hand out up to max nodes that became ready, oldest first. */
uint32_t
topo_get_ready(struct topo *t, uint32_t *out, uint32_t max)
{
	uint32_t	k, i, v;

	k = t->nready - t->nhanded;
	if (k > max)
		k = max;
	for (i = 0; i < k; i++) {
		v = t->queue[t->nhanded + i];
		t->state[v] = TOPO_HANDED;
		out[i] = v;
	}
	t->nhanded += k;
	return k;
}

/* Mark a handed-out node done and queue the children it was the last for. */
int
topo_done(struct topo *t, uint32_t node)
{
	const struct graph	*g = t->g;
	uint32_t		 k, c;

	if (node >= g->n || t->state[node] != TOPO_HANDED)
		return -1;
	t->state[node] = TOPO_DONE;
	t->ndone++;
	for (k = g->coff[node]; k < g->coff[node + 1]; k++) {
		c = g->cadj[k];
		if (--t->remaining[c] == 0) {
			t->state[c] = TOPO_READY;
			t->queue[t->nready++] = c;
		}
	}
	return 0;
}

/* Whether a node waits to be handed out or a handed-out one to be done. */
bool
topo_is_active(const struct topo *t)
{
	return t->nhanded < t->nready || t->ndone < t->nhanded;
}

/* Nodes done so far. */
uint32_t
topo_ndone(const struct topo *t)
{
	return t->ndone;
}

/*
 * graphlib's static_order(), done the way graphlib does it (whole batches
 * of get_ready() then done()), so it also checks the sorter against the
 * flat order, which it must equal.
 */
int
graph_static_order(const struct graph *g, uint32_t *out)
{
	struct topo	*t;
	uint32_t	 pos, k, i;

	graph_need_prepared(g, __func__);
	if (g->cyclic)
		return -1;
	t = topo_new(g);
	/* Testing pos first keeps out + pos defined when out is NULL. */
	pos = 0;
	while (pos < g->n &&
	    (k = topo_get_ready(t, out + pos, g->n - pos)) > 0) {
		for (i = 0; i < k; i++)
			if (topo_done(t, out[pos + i]) == -1)
				fatalx("%s: node %u not done", __func__,
				    out[pos + i]);
		pos += k;
	}
	if (pos != g->n || topo_is_active(t))
		fatalx("%s: acyclic graph left nodes unordered", __func__);
	topo_free(t);
	return 0;
}
