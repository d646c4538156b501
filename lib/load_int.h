/*
 * Loader internals shared by load.c, load_task.c and load_field.c.
 */
#ifndef PL_LOAD_INT_H
#define PL_LOAD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

struct diag;
struct node;

/* One parent -> child edge with where it was written, for cycle errors. */
struct load_edge {
	uint32_t	 parent;
	uint32_t	 child;
	uint32_t	 line;
	uint32_t	 col;
};

struct load {
	struct diag		*d;
	unsigned		 flags;
	struct pipeline		*p;
	uint32_t		*by_name;	/* task indexes sorted by name */
	const struct node	**task_nodes;	/* each task's mapping */
	bool			 any_parents;
	struct load_edge	*edges;
	size_t			 nedges;
	size_t			 capedges;
};

void	 load_err(struct load *, const struct node *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
bool	 load_diag_full(const struct load *);
void	 load_unknown_key(struct load *, const struct node *key,
	    const char *ctx, const char *const *known, size_t nknown);
int	 load_str(struct load *, const struct node *, const char *ctx,
	    const char *what, size_t max, char **out);
int	 load_bool(struct load *, const struct node *, const char *ctx,
	    const char *what, bool *out);
int	 load_int(struct load *, const struct node *, const char *ctx,
	    const char *what, int64_t min, int64_t max, int64_t *out);
int	 load_duration(struct load *, const struct node *, const char *ctx,
	    const char *what, int64_t min_ms, int64_t *out);
int	 load_size(struct load *, const struct node *, const char *ctx,
	    const char *what, int64_t *out);
int	 load_name(struct load *, const struct node *, const char *ctx,
	    const char *what, bool (*valid)(const char *), const char *rule,
	    char **out);
int	 load_env(struct load *, const struct node *, const char *ctx,
	    struct env_var **out, size_t *n);
int	 load_iterate(struct load *, const struct node *, const char *ctx,
	    struct node **out);
char	*load_scalar_text(const struct node *);
int	 load_command(struct load *, const struct node *, const char *ctx,
	    const char *what, char **out);
int	 load_task_index(struct load *, const char *name, uint32_t *out);
void	 load_add_edge(struct load *, uint32_t parent, uint32_t child,
	    const struct node *where);

void	 load_parent_ref(struct load *, uint32_t child, const struct node *,
	    const char *ctx);
void	 load_tasks(struct load *, const struct node *tasks);

#endif
