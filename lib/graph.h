/*
 * The task graph and its readiness tracking.
 *
 * A graph has nodes 0..n-1 (task indexes, in definition order) and
 * parent -> child edges.  graph_prepare() freezes it into compact
 * adjacency arrays (children of each node sorted by index, duplicates
 * removed), rejects cycles, and from then on the graph is immutable and
 * can be shared: each run keeps its own progress in a struct topo.
 *
 * struct topo is the seed's TopologicalSorter (Python's graphlib) in C:
 * topo_get_ready() hands out every node whose parents are all done and
 * that was not handed out before; topo_done() marks a handed-out node done
 * and makes ready, in O(children), each child whose last parent it was;
 * topo_is_active() tells whether progress is still possible.  A topo must
 * not outlive its graph.  Nodes become
 * ready in a deterministic order: parentless nodes by index, then children
 * in the order their last parent was marked done, each parent's children by
 * index.
 *
 * The flat order (the seed's get_flat_task_list) is Kahn's algorithm in
 * batches: the first batch is the parentless nodes by index; then for each
 * node of the current batch, in order, its children by index join the next
 * batch when their last parent is done.
 */
#ifndef PL_GRAPH_H
#define PL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;
struct topo;

/* A graph of n nodes without edges; n may be 0. */
struct graph	*graph_new(uint32_t n);
void		 graph_free(struct graph *);
/* Add parent -> child; both < n; only before graph_prepare(). */
void		 graph_add_edge(struct graph *, uint32_t parent, uint32_t child);
/*
 * Freeze the graph.  Returns 0, or -1 when it has a cycle (self-edges
 * included); the graph is then still frozen and graph_find_cycles() tells
 * which.  Calling it twice is harmless.
 */
int		 graph_prepare(struct graph *);
bool		 graph_is_prepared(const struct graph *);

uint32_t	 graph_size(const struct graph *);
size_t		 graph_edges(const struct graph *);	/* distinct edges */
/* Children / parents of node i, sorted by index (valid after prepare). */
const uint32_t	*graph_children(const struct graph *, uint32_t i, uint32_t *n);
const uint32_t	*graph_parents(const struct graph *, uint32_t i, uint32_t *n);

/*
 * Call cb once per cycle: one cycle for each self-edge and one for each
 * strongly connected component of two or more nodes.  The cycle is given as
 * nodes v[0] -> v[1] -> ... -> v[len-1] -> v[0] where each is a parent of
 * the next; v[0] is the lowest index in the component.  Returns the number
 * of cycles.  Where several cycles run through v[0], the shortest is
 * given.  cb may be NULL to only count.  Needs a prepared graph.
 */
typedef void (*graph_cycle_cb)(const uint32_t *v, uint32_t len, void *arg);
size_t		 graph_find_cycles(const struct graph *, graph_cycle_cb, void *arg);

/*
 * Write all n nodes in flat order to out (n entries).  Returns 0, or -1
 * when the graph has a cycle (out then holds an unspecified prefix).
 */
int		 graph_flat_order(const struct graph *, uint32_t *out);

/* A sorter over a prepared, acyclic graph. */
struct topo	*topo_new(const struct graph *);
void		 topo_free(struct topo *);
/*
 * Copy the nodes that became ready since the last call into out (at most
 * max) and return how many; 0 when none is ready now.
 */
uint32_t	 topo_get_ready(struct topo *, uint32_t *out, uint32_t max);
/*
 * Mark a node handed out by topo_get_ready() done.  Returns 0, or -1 if
 * the node was never handed out or is already done (nothing changes).
 */
int		 topo_done(struct topo *, uint32_t node);
/*
 * graphlib's is_active(): true while some ready node was not handed out
 * yet, or some handed-out node is not done yet.
 */
bool		 topo_is_active(const struct topo *);
/* Nodes done so far. */
uint32_t	 topo_ndone(const struct topo *);
/*
 * graphlib's static_order(): every node, each after all its parents; with
 * the readiness order above it equals the flat order, computed through a
 * topo.  Returns -1 on a cycle.
 */
int		 graph_static_order(const struct graph *, uint32_t *out);

#endif
