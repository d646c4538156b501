/*
 * Unit tests for lib/graph.c: the seed's ordering examples, the topo
 * sorter's graphlib semantics, the exact cycles reported, and random DAGs
 * of 10,000 nodes checked against references written here from scratch
 * (sorting instead of CSR, levels instead of a queue) so that a bug shared
 * with the library's way of doing things cannot hide.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "log.h"
#include "xmalloc.h"

#define NONE	UINT32_MAX

/*
 * ck_assert_msg() without the write to Check's pipe that every passing
 * ck_assert makes: the loops over 10,000 nodes would spend seconds there.
 */
#define fast_assert(expr) do {						\
	if (!(expr))							\
		ck_abort_msg("Assertion '%s' failed", #expr);		\
} while (0)
#define fast_assert_msg(expr, ...) do {					\
	if (!(expr))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

struct edge {
	uint32_t	p;
	uint32_t	c;
};

/* A graph of n nodes with the given edges, not prepared yet. */
static struct graph *
make_graph(uint32_t n, const struct edge *e, size_t ne)
{
	struct graph	*g;
	size_t		 i;

	g = graph_new(n);
	for (i = 0; i < ne; i++)
		graph_add_edge(g, e[i].p, e[i].c);
	return g;
}

/* Assert that both the flat order and static_order are exactly want. */
static void
assert_orders(const struct graph *g, const uint32_t *want, uint32_t n)
{
	uint32_t	*got;
	uint32_t	 i;

	ck_assert_uint_eq(graph_size(g), n);
	got = xcalloc(n + 1, sizeof *got);
	ck_assert_int_eq(graph_flat_order(g, got), 0);
	for (i = 0; i < n; i++)
		fast_assert_msg(got[i] == want[i], "flat[%u] = %u, want %u",
		    i, got[i], want[i]);
	memset(got, 0xff, (n + 1) * sizeof *got);
	ck_assert_int_eq(graph_static_order(g, got), 0);
	for (i = 0; i < n; i++)
		fast_assert_msg(got[i] == want[i], "static[%u] = %u, want %u",
		    i, got[i], want[i]);
	ck_assert_uint_eq(got[n], NONE);	/* nothing written past n */
	free(got);
}

/* Build, prepare (asserting acyclic) and check both orders. */
static void
check_order(uint32_t n, const struct edge *e, size_t ne, const uint32_t *want)
{
	struct graph	*g;

	g = make_graph(n, e, ne);
	ck_assert_int_eq(graph_prepare(g), 0);
	assert_orders(g, want, n);
	graph_free(g);
}

START_TEST(test_order_no_edges)
{
	const uint32_t	want[] = { 0, 1, 2, 3, 4 };

	check_order(5, NULL, 0, want);
}
END_TEST

START_TEST(test_order_child_first)
{
	const struct edge	e[] = { { 1, 0 } };
	const uint32_t		want[] = { 1, 0 };

	check_order(2, e, 1, want);
}
END_TEST

START_TEST(test_order_seed_example)
{
	/* first(0), second(1) <- first, third(2) <- second, fourth(3). */
	const struct edge	e[] = { { 0, 1 }, { 1, 2 } };
	const uint32_t		want[] = { 0, 3, 1, 2 };

	check_order(4, e, 2, want);
}
END_TEST

START_TEST(test_order_diamond)
{
	const struct edge	e[] = { { 0, 1 }, { 0, 2 }, { 1, 3 },
	    { 2, 3 } };
	const struct edge	rev[] = { { 3, 2 }, { 3, 1 }, { 2, 0 },
	    { 1, 0 } };
	const uint32_t		want[] = { 0, 1, 2, 3 };
	const uint32_t		wantrev[] = { 3, 1, 2, 0 };
	const uint32_t		*v;
	struct graph		*g;
	uint32_t		 k;

	check_order(4, e, 4, want);
	/* Same shape with indexes reversed: children still go by index. */
	check_order(4, rev, 4, wantrev);

	g = make_graph(4, e, 4);
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert_uint_eq(graph_edges(g), 4);
	v = graph_children(g, 0, &k);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 2);
	v = graph_parents(g, 3, &k);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 2);
	graph_children(g, 3, &k);
	ck_assert_uint_eq(k, 0);
	graph_parents(g, 0, &k);
	ck_assert_uint_eq(k, 0);
	graph_free(g);
}
END_TEST

START_TEST(test_order_fan)
{
	/* 0 fans out to 1..5 (added backwards), which fan in to 6; 7 alone. */
	const struct edge	e[] = { { 0, 5 }, { 0, 4 }, { 0, 3 }, { 0, 2 },
	    { 0, 1 }, { 5, 6 }, { 1, 6 }, { 3, 6 }, { 2, 6 }, { 4, 6 } };
	const uint32_t		want[] = { 0, 7, 1, 2, 3, 4, 5, 6 };

	check_order(8, e, sizeof e / sizeof e[0], want);
}
END_TEST

START_TEST(test_order_batches)
{
	/* A batch follows its parents' order, not a global index sort. */
	const struct edge	e1[] = { { 0, 3 }, { 1, 2 } };
	const uint32_t		want1[] = { 0, 1, 3, 2 };
	/* 3 joins when its last parent (1) is done, after 1's child 2. */
	const struct edge	e2[] = { { 0, 3 }, { 1, 3 }, { 1, 2 } };
	const uint32_t		want2[] = { 0, 1, 2, 3 };
	/* 4 is in batch 2 although its first parent is in batch 0. */
	const struct edge	e3[] = { { 0, 4 }, { 1, 2 }, { 2, 4 },
	    { 0, 3 } };
	const uint32_t		want3[] = { 0, 1, 3, 2, 4 };

	check_order(4, e1, 2, want1);
	check_order(4, e2, 3, want2);
	check_order(5, e3, 4, want3);
}
END_TEST

/* get_ready into a buffer and compare with want (n entries). */
static void
assert_ready(struct topo *t, const uint32_t *want, uint32_t n)
{
	uint32_t	buf[16], k, i;

	memset(buf, 0xff, sizeof buf);
	k = topo_get_ready(t, buf, 16);
	ck_assert_uint_eq(k, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(buf[i] == want[i], "ready[%u] = %u, want %u",
		    i, buf[i], want[i]);
	ck_assert_uint_eq(buf[n], NONE);
}

START_TEST(test_topo_sequence)
{
	const struct edge	 e[] = { { 0, 1 }, { 1, 2 } };
	const uint32_t		 r0[] = { 0, 3 }, r1[] = { 1 }, r2[] = { 2 };
	struct graph		*g;
	struct topo		*t;

	g = make_graph(4, e, 2);
	ck_assert_int_eq(graph_prepare(g), 0);
	t = topo_new(g);
	ck_assert(topo_is_active(t));
	assert_ready(t, r0, 2);
	assert_ready(t, NULL, 0);		/* handed out only once */
	ck_assert(topo_is_active(t));
	ck_assert_int_eq(topo_done(t, 1), -1);	/* not handed out */
	ck_assert_int_eq(topo_done(t, 4), -1);	/* no such node */
	ck_assert_int_eq(topo_done(t, NONE), -1);
	ck_assert_uint_eq(topo_ndone(t), 0);
	ck_assert_int_eq(topo_done(t, 0), 0);
	ck_assert_int_eq(topo_done(t, 0), -1);	/* already done */
	ck_assert_uint_eq(topo_ndone(t), 1);
	ck_assert(topo_is_active(t));
	assert_ready(t, r1, 1);
	ck_assert_int_eq(topo_done(t, 3), 0);
	assert_ready(t, NULL, 0);
	ck_assert(topo_is_active(t));		/* 1 is out, not done */
	ck_assert_int_eq(topo_done(t, 1), 0);
	ck_assert(topo_is_active(t));		/* 2 ready, not out */
	assert_ready(t, r2, 1);
	ck_assert(topo_is_active(t));
	ck_assert_int_eq(topo_done(t, 2), 0);
	ck_assert(!topo_is_active(t));
	ck_assert_uint_eq(topo_ndone(t), 4);
	ck_assert_int_eq(topo_done(t, 2), -1);
	assert_ready(t, NULL, 0);
	topo_free(t);
	graph_free(g);
}
END_TEST

START_TEST(test_topo_max)
{
	uint32_t	 buf[4];
	struct graph	*g;
	struct topo	*t;

	g = graph_new(5);
	graph_add_edge(g, 0, 4);
	ck_assert_int_eq(graph_prepare(g), 0);
	t = topo_new(g);
	memset(buf, 0xff, sizeof buf);
	ck_assert_uint_eq(topo_get_ready(t, buf, 0), 0);
	ck_assert_uint_eq(topo_get_ready(t, buf, 2), 2);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(buf[1], 1);
	ck_assert_uint_eq(buf[2], NONE);
	ck_assert_int_eq(topo_done(t, 2), -1);	/* still queued */
	ck_assert_int_eq(topo_done(t, 0), 0);
	/* The older ready nodes come before 4, made ready just now. */
	ck_assert_uint_eq(topo_get_ready(t, buf, 4), 3);
	ck_assert_uint_eq(buf[0], 2);
	ck_assert_uint_eq(buf[1], 3);
	ck_assert_uint_eq(buf[2], 4);
	topo_free(t);
	graph_free(g);
}
END_TEST

START_TEST(test_topo_never_done)
{
	/* 0 -> 1 -> 2, and 3 alone; 0 is handed out but never done. */
	const struct edge	 e[] = { { 0, 1 }, { 1, 2 } };
	const uint32_t		 r0[] = { 0, 3 }, r1[] = { 1 };
	struct graph		*g;
	struct topo		*t;
	int			 i;

	g = make_graph(4, e, 2);
	ck_assert_int_eq(graph_prepare(g), 0);
	t = topo_new(g);
	assert_ready(t, r0, 2);
	ck_assert_int_eq(topo_done(t, 3), 0);
	for (i = 0; i < 3; i++) {
		/* graphlib: a handed-out node not done keeps it active. */
		assert_ready(t, NULL, 0);
		ck_assert(topo_is_active(t));
		ck_assert_int_eq(topo_done(t, 1), -1);
		ck_assert_int_eq(topo_done(t, 2), -1);
	}
	ck_assert_uint_eq(topo_ndone(t), 1);
	ck_assert_int_eq(topo_done(t, 0), 0);
	assert_ready(t, r1, 1);
	topo_free(t);
	graph_free(g);
}
END_TEST

START_TEST(test_topo_done_order)
{
	/* Readiness follows the order of done(), not the order handed out. */
	const struct edge	 e[] = { { 0, 3 }, { 1, 2 }, { 0, 4 },
	    { 1, 4 } };
	const uint32_t		 r0[] = { 0, 1 }, r1[] = { 2, 3, 4 };
	struct graph		*g;
	struct topo		*t, *t2;

	g = make_graph(5, e, 4);
	ck_assert_int_eq(graph_prepare(g), 0);
	t = topo_new(g);
	t2 = topo_new(g);
	assert_ready(t, r0, 2);
	ck_assert_int_eq(topo_done(t, 1), 0);
	ck_assert_int_eq(topo_done(t, 0), 0);
	assert_ready(t, r1, 3);
	/* A second sorter on the same graph keeps its own progress. */
	ck_assert_uint_eq(topo_ndone(t2), 0);
	ck_assert_int_eq(topo_done(t2, 0), -1);
	assert_ready(t2, r0, 2);
	topo_free(t);
	topo_free(t2);
	graph_free(g);
}
END_TEST

/* The cycles reported, concatenated, with their lengths. */
struct cycles {
	uint32_t	*v;
	size_t		 nv;
	uint32_t	 len[16];
	size_t		 n;
};

/* Append one reported cycle. */
static void
collect_cycle(const uint32_t *v, uint32_t len, void *arg)
{
	struct cycles	*cs = arg;

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_lt(cs->n, 16);
	cs->v = xreallocarray(cs->v, cs->nv + len, sizeof *cs->v);
	memcpy(cs->v + cs->nv, v, len * sizeof *v);
	cs->nv += len;
	cs->len[cs->n++] = len;
}

/*
 * Assert that g is rejected as cyclic everywhere and reports exactly the
 * cycles in want (concatenated) with lengths lens, in that order.
 */
static void
assert_cycles(struct graph *g, const uint32_t *want, const uint32_t *lens,
    size_t ncycles)
{
	struct cycles	 cs;
	uint32_t	*out;
	size_t		 i, off;

	ck_assert_int_eq(graph_prepare(g), -1);
	ck_assert(graph_is_prepared(g));
	ck_assert_int_eq(graph_prepare(g), -1);	/* twice is harmless */
	out = xcalloc(graph_size(g) + 1, sizeof *out);
	ck_assert_int_eq(graph_flat_order(g, out), -1);
	ck_assert_int_eq(graph_static_order(g, out), -1);
	free(out);
	memset(&cs, 0, sizeof cs);
	ck_assert_uint_eq(graph_find_cycles(g, collect_cycle, &cs), ncycles);
	ck_assert_uint_eq(graph_find_cycles(g, NULL, NULL), ncycles);
	ck_assert_uint_eq(cs.n, ncycles);
	for (i = off = 0; i < ncycles; off += lens[i], i++) {
		ck_assert_msg(cs.len[i] == lens[i], "cycle %zu has length %u, "
		    "want %u", i, cs.len[i], lens[i]);
		ck_assert_msg(memcmp(cs.v + off, want + off,
		    lens[i] * sizeof *want) == 0, "cycle %zu differs", i);
	}
	free(cs.v);
}

START_TEST(test_cycle_self)
{
	const struct edge	 e[] = { { 0, 2 }, { 1, 1 } };
	const uint32_t		 want[] = { 1 }, lens[] = { 1 };
	struct graph		*g;

	g = make_graph(3, e, 2);
	assert_cycles(g, want, lens, 1);
	graph_free(g);
}
END_TEST

START_TEST(test_cycle_two)
{
	const struct edge	 e[] = { { 1, 0 }, { 0, 1 } };
	const uint32_t		 want[] = { 0, 1 }, lens[] = { 2 };
	struct graph		*g;

	g = make_graph(2, e, 2);
	assert_cycles(g, want, lens, 1);
	graph_free(g);
}
END_TEST

START_TEST(test_cycle_many)
{
	/*
	 * 0->1->2->3->0 and 5->6->5, linked by 3->5 (not a cycle), with 4
	 * and 7 acyclic hangers-on; then 8->10->9->8 where the lowest node's
	 * successor is not the next index, and 11 with a self-edge that is
	 * also the lowest node of 11->12->11.
	 */
	const struct edge	 e[] = { { 2, 3 }, { 0, 1 }, { 1, 2 }, { 3, 0 },
	    { 6, 5 }, { 5, 6 }, { 3, 5 }, { 4, 0 }, { 6, 7 }, { 10, 9 },
	    { 8, 10 }, { 9, 8 }, { 11, 12 }, { 12, 11 }, { 11, 11 } };
	const uint32_t		 want[] = { 0, 1, 2, 3, 5, 6, 8, 10, 9, 11,
	    11, 12 };
	const uint32_t		 lens[] = { 4, 2, 3, 1, 2 };
	struct graph		*g;

	g = make_graph(13, e, sizeof e / sizeof e[0]);
	assert_cycles(g, want, lens, 5);
	graph_free(g);
}
END_TEST

START_TEST(test_cycle_shortest)
{
	/* With the chord 0->2 the cycle from 0 is the shortest, 0->2->3. */
	const struct edge	 e[] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 0 },
	    { 0, 2 } };
	const uint32_t		 want[] = { 0, 2, 3 }, lens[] = { 3 };
	struct graph		*g;

	g = make_graph(4, e, 5);
	assert_cycles(g, want, lens, 1);
	graph_free(g);
}
END_TEST

START_TEST(test_cycle_deep)
{
	/*
	 * A 10,000-node ring, and a 10,000-node chain whose second half is
	 * closed by 9999 -> 5000: recursion this deep would be a risk.
	 */
	const uint32_t	 n = 10000;
	struct cycles	 cs;
	struct graph	*g;
	uint32_t	 i;

	g = graph_new(n);
	for (i = 0; i < n; i++)
		graph_add_edge(g, i, (i + 1) % n);
	ck_assert_int_eq(graph_prepare(g), -1);
	memset(&cs, 0, sizeof cs);
	ck_assert_uint_eq(graph_find_cycles(g, collect_cycle, &cs), 1);
	ck_assert_uint_eq(cs.len[0], n);
	for (i = 0; i < n; i++)
		fast_assert(cs.v[i] == i);
	free(cs.v);
	graph_free(g);

	g = graph_new(n);
	for (i = n - 1; i > 0; i--)
		graph_add_edge(g, i - 1, i);
	graph_add_edge(g, n - 1, n / 2);
	ck_assert_int_eq(graph_prepare(g), -1);
	memset(&cs, 0, sizeof cs);
	ck_assert_uint_eq(graph_find_cycles(g, collect_cycle, &cs), 1);
	ck_assert_uint_eq(cs.len[0], n / 2);
	for (i = 0; i < n / 2; i++)
		fast_assert(cs.v[i] == n / 2 + i);
	free(cs.v);
	graph_free(g);
}
END_TEST

START_TEST(test_chain_deep)
{
	/* A long chain against definition order orders back to front. */
	const uint32_t	 n = 10000;
	struct graph	*g;
	uint32_t	*want, i;

	g = graph_new(n);
	want = xcalloc(n, sizeof *want);
	for (i = 0; i + 1 < n; i++)
		graph_add_edge(g, i + 1, i);
	for (i = 0; i < n; i++)
		want[i] = n - 1 - i;
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert_uint_eq(graph_find_cycles(g, NULL, NULL), 0);
	assert_orders(g, want, n);
	free(want);
	graph_free(g);
}
END_TEST

START_TEST(test_duplicates)
{
	const struct edge	 e[] = { { 0, 1 }, { 1, 2 }, { 0, 1 }, { 1, 2 },
	    { 0, 1 }, { 0, 2 } };
	const uint32_t		 want[] = { 0, 1, 2 };
	const uint32_t		*v;
	struct graph		*g;
	uint32_t		 k;

	g = make_graph(3, e, sizeof e / sizeof e[0]);
	ck_assert(!graph_is_prepared(g));
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert(graph_is_prepared(g));
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert_uint_eq(graph_edges(g), 3);
	v = graph_children(g, 0, &k);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 2);
	v = graph_parents(g, 2, &k);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(v[1], 1);
	v = graph_parents(g, 1, &k);
	ck_assert_uint_eq(k, 1);
	ck_assert_uint_eq(v[0], 0);
	assert_orders(g, want, 3);
	graph_free(g);
}
END_TEST

START_TEST(test_empty)
{
	struct graph	*g;
	struct topo	*t;
	uint32_t	 buf[1];

	g = graph_new(0);
	ck_assert_uint_eq(graph_size(g), 0);
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert_uint_eq(graph_edges(g), 0);
	ck_assert_int_eq(graph_flat_order(g, buf), 0);
	ck_assert_int_eq(graph_flat_order(g, NULL), 0);
	ck_assert_int_eq(graph_static_order(g, NULL), 0);
	ck_assert_uint_eq(graph_find_cycles(g, collect_cycle, NULL), 0);
	t = topo_new(g);
	ck_assert(!topo_is_active(t));
	ck_assert_uint_eq(topo_get_ready(t, buf, 1), 0);
	ck_assert_int_eq(topo_done(t, 0), -1);
	ck_assert_uint_eq(topo_ndone(t), 0);
	topo_free(t);
	graph_free(g);
	graph_free(NULL);
	topo_free(NULL);
}
END_TEST

/* Kept in a global so LeakSanitizer sees it as reachable at fatalx(). */
static struct graph	*fatal_graph;

/* Silence the expected fatalx() line. */
static void
quiet_log(enum log_level level, const char *line, void *arg)
{
}

START_TEST(test_fatal_topo_cyclic)
{
	log_set_hook(quiet_log, NULL);
	fatal_graph = graph_new(1);
	graph_add_edge(fatal_graph, 0, 0);
	graph_prepare(fatal_graph);
	topo_new(fatal_graph);
}
END_TEST

START_TEST(test_fatal_topo_unprepared)
{
	log_set_hook(quiet_log, NULL);
	fatal_graph = graph_new(1);
	topo_new(fatal_graph);
}
END_TEST

START_TEST(test_fatal_edge_range)
{
	log_set_hook(quiet_log, NULL);
	fatal_graph = graph_new(2);
	graph_add_edge(fatal_graph, 0, 2);
}
END_TEST

START_TEST(test_fatal_edge_prepared)
{
	log_set_hook(quiet_log, NULL);
	fatal_graph = graph_new(2);
	graph_prepare(fatal_graph);
	graph_add_edge(fatal_graph, 0, 1);
}
END_TEST

/* splitmix64: small, seedable, and the same everywhere. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number below n (n > 0); the modulo bias does not matter here. */
static uint32_t
rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

/* Order edges by parent, then child. */
static int
cmp_by_parent(const void *a, const void *b)
{
	const struct edge	*x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->c > y->c) - (x->c < y->c);
}

/* Order edges by child, then parent. */
static int
cmp_by_child(const void *a, const void *b)
{
	const struct edge	*x = a, *y = b;

	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	return (x->p > y->p) - (x->p < y->p);
}

/* A sort key for the reference flat order. */
struct key {
	uint32_t	a;
	uint32_t	b;
	uint32_t	node;
};

/* Order keys by a, then b. */
static int
cmp_key(const void *x, const void *y)
{
	const struct key	*k = x, *l = y;

	if (k->a != l->a)
		return k->a < l->a ? -1 : 1;
	return (k->b > l->b) - (k->b < l->b);
}

/* Start of each node's run in an edge array sorted by parent or child. */
static uint32_t *
run_starts(const struct edge *e, size_t ne, uint32_t n, int by_child)
{
	uint32_t	*start;
	size_t		 i;
	uint32_t	 v;

	start = xcalloc((size_t)n + 1, sizeof *start);
	for (v = 0, i = 0; v <= n; v++) {
		while (i < ne && (by_child ? e[i].c : e[i].p) < v)
			i++;
		start[v] = (uint32_t)i;
	}
	return start;
}

/* Assert that order holds every node once, each after all its parents. */
static void
assert_topological(const uint32_t *order, uint32_t n, const struct edge *e,
    size_t ne)
{
	uint32_t	*pos, i;
	size_t		 j;

	pos = xcalloc(n, sizeof *pos);
	memset(pos, 0xff, (size_t)n * sizeof *pos);
	for (i = 0; i < n; i++) {
		fast_assert(order[i] < n);
		fast_assert_msg(pos[order[i]] == NONE, "node %u twice",
		    order[i]);
		pos[order[i]] = i;
	}
	for (j = 0; j < ne; j++)
		fast_assert_msg(pos[e[j].p] < pos[e[j].c],
		    "%u -> %u out of order", e[j].p, e[j].c);
	free(pos);
}

/*
 * The flat order computed without a queue: a node's batch is its level
 * (longest path from a root, found in the generator's topological order
 * topo), batch 0 is by index, and a later batch is sorted by the position
 * of each node's last-placed parent, then by index.
 */
static uint32_t *
reference_flat(uint32_t n, const uint32_t *topo, const struct edge *byc,
    const uint32_t *pstart)
{
	struct key	*keys;
	uint32_t	*level, *pos, *ref, i, j, s, v, end;

	level = xcalloc(n, sizeof *level);
	for (i = 0; i < n; i++) {
		v = topo[i];
		for (j = pstart[v]; j < pstart[v + 1]; j++)
			if (level[byc[j].p] + 1 > level[v])
				level[v] = level[byc[j].p] + 1;
	}
	keys = xcalloc(n, sizeof *keys);
	for (v = 0; v < n; v++) {
		keys[v].a = level[v];
		keys[v].b = keys[v].node = v;
	}
	qsort(keys, n, sizeof *keys, cmp_key);
	pos = xcalloc(n, sizeof *pos);
	ref = xcalloc(n, sizeof *ref);
	for (s = 0; s < n; s = end) {
		for (end = s; end < n && level[keys[end].node] ==
		    level[keys[s].node]; end++) {
			v = keys[end].node;
			keys[end].a = 0;
			for (j = pstart[v]; j < pstart[v + 1]; j++)
				if (pos[byc[j].p] > keys[end].a)
					keys[end].a = pos[byc[j].p];
		}
		qsort(keys + s, end - s, sizeof *keys, cmp_key);
		for (i = s; i < end; i++) {
			pos[keys[i].node] = i;
			ref[i] = keys[i].node;
		}
	}
	free(level);
	free(keys);
	free(pos);
	return ref;
}

/*
 * Drive a topo in a random interleaving of get_ready() (random max) and
 * done() (random handed-out node), checking each batch against a
 * simulation of the readiness rule over the test's own edge lists.
 */
static void
check_topo_random(const struct graph *g, uint64_t *rng, const struct edge *byp,
    const uint32_t *cstart, const struct edge *byc, const uint32_t *pstart)
{
	struct topo	*t;
	uint32_t	 n = graph_size(g), *rem, *expq, *pool, buf[8];
	uint32_t	 nexp = 0, nout = 0, npool = 0, k, want, i, j, v, c;
	uint8_t		*isdone;

	rem = xcalloc(n, sizeof *rem);
	expq = xcalloc(n, sizeof *expq);
	pool = xcalloc(n, sizeof *pool);
	isdone = xcalloc(n, 1);
	for (v = 0; v < n; v++)
		if ((rem[v] = pstart[v + 1] - pstart[v]) == 0)
			expq[nexp++] = v;
	t = topo_new(g);
	while (topo_is_active(t)) {
		fast_assert(nout < nexp || npool > 0);
		if (npool == 0 || rng_below(rng, 3) == 0) {
			want = 1 + rng_below(rng, 8);
			k = topo_get_ready(t, buf, want);
			fast_assert(k == (nexp - nout < want ?
			    nexp - nout : want));
			for (i = 0; i < k; i++) {
				fast_assert(buf[i] == expq[nout]);
				v = expq[nout++];
				for (j = pstart[v]; j < pstart[v + 1]; j++)
					fast_assert(isdone[byc[j].p]);
				pool[npool++] = v;
			}
			continue;
		}
		i = rng_below(rng, npool);
		v = pool[i];
		pool[i] = pool[--npool];
		if (nout < nexp)	/* queued, not handed out: refused */
			fast_assert(topo_done(t, expq[nout]) == -1);
		fast_assert(topo_done(t, v) == 0);
		fast_assert(topo_done(t, v) == -1);
		isdone[v] = 1;
		for (j = cstart[v]; j < cstart[v + 1]; j++) {
			c = byp[j].c;
			if (--rem[c] == 0)
				expq[nexp++] = c;
		}
	}
	ck_assert_uint_eq(nexp, n);
	ck_assert_uint_eq(nout, n);
	ck_assert_uint_eq(topo_ndone(t), n);
	topo_free(t);
	free(rem);
	free(expq);
	free(pool);
	free(isdone);
}

START_TEST(test_random_dag)
{
	const uint32_t	 n = 10000, m = 50000;
	uint64_t	 rng = 0x5eed0000ULL + (uint64_t)_i;
	struct edge	*raw, *byp, *byc;
	struct graph	*g;
	uint32_t	*topo, *cstart, *pstart, *ref, *out, i, j, k, v, tmp;
	const uint32_t	*list;
	size_t		 nraw, ne, x;

	/* topo[i] is the node at position i; edges go forward in it. */
	topo = xcalloc(n, sizeof *topo);
	for (i = 0; i < n; i++)
		topo[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = rng_below(&rng, i + 1);
		tmp = topo[i];
		topo[i] = topo[j];
		topo[j] = tmp;
	}
	raw = xcalloc(m + m / 10, sizeof *raw);
	for (nraw = 0; nraw < m; nraw++) {
		do {
			i = rng_below(&rng, n);
			j = rng_below(&rng, n);
		} while (i == j);
		raw[nraw].p = topo[i < j ? i : j];
		raw[nraw].c = topo[i < j ? j : i];
	}
	for (x = 0; x < m / 10; x++)	/* certain duplicates */
		raw[nraw++] = raw[rng_below(&rng, m)];

	g = make_graph(n, raw, nraw);
	ck_assert_int_eq(graph_prepare(g), 0);
	ck_assert_uint_eq(graph_find_cycles(g, NULL, NULL), 0);

	/* Distinct edges and adjacency, by sorting instead of CSR. */
	byp = xcalloc(nraw, sizeof *byp);
	memcpy(byp, raw, nraw * sizeof *raw);
	qsort(byp, nraw, sizeof *byp, cmp_by_parent);
	for (ne = x = 0; x < nraw; x++)
		if (ne == 0 || cmp_by_parent(&byp[ne - 1], &byp[x]) != 0)
			byp[ne++] = byp[x];
	ck_assert_uint_lt(ne, nraw);
	ck_assert_uint_eq(graph_edges(g), ne);
	byc = xcalloc(ne, sizeof *byc);
	memcpy(byc, byp, ne * sizeof *byp);
	qsort(byc, ne, sizeof *byc, cmp_by_child);
	cstart = run_starts(byp, ne, n, 0);
	pstart = run_starts(byc, ne, n, 1);
	for (v = 0; v < n; v++) {
		list = graph_children(g, v, &k);
		fast_assert(k == cstart[v + 1] - cstart[v]);
		for (i = 0; i < k; i++)
			fast_assert(list[i] == byp[cstart[v] + i].c);
		list = graph_parents(g, v, &k);
		fast_assert(k == pstart[v + 1] - pstart[v]);
		for (i = 0; i < k; i++)
			fast_assert(list[i] == byc[pstart[v] + i].p);
	}

	out = xcalloc(n, sizeof *out);
	ref = reference_flat(n, topo, byc, pstart);
	assert_topological(ref, n, raw, nraw);	/* the reference itself */
	ck_assert_int_eq(graph_flat_order(g, out), 0);
	assert_topological(out, n, raw, nraw);
	for (i = 0; i < n; i++)
		fast_assert_msg(out[i] == ref[i], "flat[%u] = %u, want %u",
		    i, out[i], ref[i]);
	/* static_order is graphlib's loop of whole batches: the same order. */
	memset(out, 0, n * sizeof *out);
	ck_assert_int_eq(graph_static_order(g, out), 0);
	assert_topological(out, n, raw, nraw);
	for (i = 0; i < n; i++)
		fast_assert_msg(out[i] == ref[i], "static[%u] = %u, want %u",
		    i, out[i], ref[i]);

	check_topo_random(g, &rng, byp, cstart, byc, pstart);

	graph_free(g);
	free(topo);
	free(raw);
	free(byp);
	free(byc);
	free(cstart);
	free(pstart);
	free(ref);
	free(out);
}
END_TEST

/* The suite: one test case per area of the contract. */
static Suite *
graph_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("graph");

	tc = tcase_create("order");
	tcase_add_test(tc, test_order_no_edges);
	tcase_add_test(tc, test_order_child_first);
	tcase_add_test(tc, test_order_seed_example);
	tcase_add_test(tc, test_order_diamond);
	tcase_add_test(tc, test_order_fan);
	tcase_add_test(tc, test_order_batches);
	suite_add_tcase(s, tc);

	tc = tcase_create("topo");
	tcase_add_test(tc, test_topo_sequence);
	tcase_add_test(tc, test_topo_max);
	tcase_add_test(tc, test_topo_never_done);
	tcase_add_test(tc, test_topo_done_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("cycles");
	tcase_add_test(tc, test_cycle_self);
	tcase_add_test(tc, test_cycle_two);
	tcase_add_test(tc, test_cycle_many);
	tcase_add_test(tc, test_cycle_shortest);
	tcase_add_test(tc, test_cycle_deep);
	tcase_add_test(tc, test_chain_deep);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_random_dag, 0, 5);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_empty);
	tcase_add_exit_test(tc, test_fatal_topo_cyclic, 1);
	tcase_add_exit_test(tc, test_fatal_topo_unprepared, 1);
	tcase_add_exit_test(tc, test_fatal_edge_range, 1);
	tcase_add_exit_test(tc, test_fatal_edge_prepared, 1);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(graph_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
