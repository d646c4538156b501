/*
 * YAML (and JSON) text to document values, with positions.
 *
 * Anchors and aliases, duplicate keys, non-scalar keys, unknown tags and
 * NUL bytes in strings are errors; parsing goes on after each so that all
 * are reported at once.  A syntax error stops the parse.  Plain scalars are
 * typed by the YAML 1.2 core schema (null, true/false, integers, floats);
 * quoted and block scalars are strings.
 */
#ifndef PL_YAMLDOC_H
#define PL_YAMLDOC_H

#include <stddef.h>

struct diag;
struct node;

/*
 * Parse one document.  Returns its root (errors may still have been added
 * to d), or NULL when nothing usable could be read.
 */
struct node	*yamldoc_parse(const char *, size_t, struct diag *d);

#endif
