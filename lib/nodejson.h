/*
 * JSON text to and from document values, through jansson.
 */
#ifndef PL_NODEJSON_H
#define PL_NODEJSON_H

#include <stddef.h>

struct node;

/* Compact JSON of a value (non-finite numbers become null). */
char		*nodejson_encode(const struct node *);
/* Parse JSON text; NULL with a message in *err (to free) on error. */
struct node	*nodejson_decode(const char *, size_t, char **err);

#endif
