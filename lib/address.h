/*
 * Addresses of results (docs/protocol.md): 42, 42/1, 42/1/build,
 * 42/1/build/3, and without a pipeline iterator the short forms 42/build
 * and 42/build/3.
 */
#ifndef PL_ADDRESS_H
#define PL_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"

struct execution;
struct result;

struct address {
	uint64_t	 id;
	bool		 has_result;
	uint32_t	 result;
	char		 task[PL_MAX_NAME + 1];	/* "" when none */
	bool		 has_index;
	uint32_t	 index;
};

/* Parse an address; -1 when it is not one. */
int		 address_parse(const char *, struct address *);
/*
 * The object an address names in e, or NULL with *err set (to free).
 * The short forms name pipeline result 0 of a pipeline without iterator.
 */
struct result	*address_resolve(struct execution *, const struct address *,
		    char **err);

#endif
