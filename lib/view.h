/*
 * Views of results as document values: what "show", "list" and "watch"
 * send (docs/protocol.md), and what pipectl prints with --json.
 */
#ifndef PL_VIEW_H
#define PL_VIEW_H

#include <stdbool.h>
#include <stdint.h>

struct execution;
struct node;
struct result;

/* An execution; with results, the whole tree down to task results. */
struct node	*view_execution(const struct execution *, bool results);
/* One change: {execution, address, level, status, message, time}. */
struct node	*view_event(const struct result *, int64_t time_us);
/* An RFC 3339 time, or null for 0. */
struct node	*view_time(int64_t us);

#endif
