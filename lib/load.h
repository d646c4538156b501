/*
 * The pipeline loader: a pipeline file (YAML or JSON) or an already parsed
 * document to a checked struct pipeline.
 *
 * Every error is collected in the diag, positioned at the offending key or
 * value, so that a file with five mistakes reports five errors.  A pipeline
 * is returned only when there were none.
 */
#ifndef PL_LOAD_H
#define PL_LOAD_H

#include <stdbool.h>
#include <stddef.h>

struct diag;
struct node;
struct pipeline;

/* Registered pipelines (root-owned files) may set "user:". */
#define LOAD_REGISTERED	0x01

/*
 * Read and check a file.  On success returns the pipeline and, when docp
 * is not NULL, the parsed document (to send to the daemon).
 */
struct pipeline	*load_file(const char *path, unsigned flags, struct diag *,
		    struct node **docp);
/* The same for bytes already in memory. */
struct pipeline	*load_buffer(const char *, size_t, unsigned flags,
		    struct diag *, struct node **docp);
/* Whether a string may be an input key ([A-Za-z_][A-Za-z0-9_.-]{0,63}). */
bool		 load_valid_input_key(const char *);
/* Turn env values and argv elements into strings of their source text. */
void		 load_canonical(struct node *);
/* Check a parsed document (the daemon's entry point). */
struct pipeline	*load_document(const struct node *, unsigned flags,
		    struct diag *);

#endif
