/*
 * Result views in the shapes pipectl prints.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "node.h"
#include "pipeline.h"
#include "result.h"
#include "status.h"
#include "timefmt.h"
#include "view.h"
#include "xmalloc.h"

static void
view_put(struct node *m, const char *key, struct node *v)
{
	node_map_set_str(m, key, v);
}

static struct node *
view_str(const char *s)
{
	if (s == NULL)
		return node_new(NODE_NULL);
	return node_new_str(s, strlen(s));
}

/* An RFC 3339 time, or null when unset. */
struct node *
view_time(int64_t us)
{
	char	buf[TIMEFMT_LEN];

	if (us == 0)
		return node_new(NODE_NULL);
	return view_str(timefmt_rfc3339(us, buf, sizeof buf));
}

static struct node *
view_object(const struct node *obj)
{
	return obj != NULL ? node_copy(obj) : node_new(NODE_NULL);
}

/* status, message, started, completed. */
static void
view_state(struct node *m, const struct result *r)
{
	view_put(m, "status", view_str(status_name(r->status)));
	view_put(m, "message", view_str(r->message));
	view_put(m, "started", view_time(r->started_us));
	view_put(m, "completed", view_time(r->completed_us));
}

static struct node *
view_instance(const struct task_result *tr)
{
	struct node	*m = node_new(NODE_MAP);

	/* The order of show --json: times after the process's figures. */
	view_put(m, "index", node_new_int(tr->index));
	view_put(m, "object", view_object(tr->object));
	view_put(m, "status", view_str(status_name(tr->r.status)));
	view_put(m, "message", view_str(tr->r.message));
	view_put(m, "pid", tr->pid != 0 ? node_new_int(tr->pid) :
	    node_new(NODE_NULL));
	view_put(m, "exit_code", tr->exit_code >= 0 ?
	    node_new_int(tr->exit_code) : node_new(NODE_NULL));
	view_put(m, "signal", tr->signal != 0 ? node_new_int(tr->signal) :
	    node_new(NODE_NULL));
	view_put(m, "attempts", node_new_int(tr->attempts));
	view_put(m, "started", view_time(tr->r.started_us));
	view_put(m, "completed", view_time(tr->r.completed_us));
	view_put(m, "cpu_user_us", node_new_int(tr->cpu_user_us));
	view_put(m, "cpu_system_us", node_new_int(tr->cpu_system_us));
	view_put(m, "max_rss_kib", node_new_int(tr->max_rss_kib));
	view_put(m, "isolation", view_str(tr->isolation));
	return m;
}

static struct node *
view_task(const struct task_execution *te)
{
	const struct pipeline	*p = te->r.exec->def;
	struct node		*m = node_new(NODE_MAP), *v;
	const uint32_t		*par;
	uint32_t		 i, n;

	view_put(m, "name", view_str(p->tasks[te->task].name));
	v = node_new(NODE_SEQ);
	par = graph_parents(p->graph, te->task, &n);
	for (i = 0; i < n; i++)
		node_append(v, view_str(p->tasks[par[i]].name));
	view_put(m, "parents", v);
	view_put(m, "iterator", node_new_bool(
	    pipeline_task_has_iterator(&p->tasks[te->task])));
	view_state(m, &te->r);
	v = node_new(NODE_SEQ);
	for (i = 0; i < te->ninst; i++)
		node_append(v, view_instance(te->inst[i]));
	view_put(m, "instances", v);
	return m;
}

static struct node *
view_result(const struct pipeline_result *pr, uint32_t ntasks)
{
	struct node	*m = node_new(NODE_MAP), *v;
	uint32_t	 i;

	view_put(m, "index", node_new_int(pr->index));
	view_put(m, "object", view_object(pr->object));
	view_state(m, &pr->r);
	v = node_new(NODE_SEQ);
	for (i = 0; i < ntasks; i++)
		node_append(v, view_task(&pr->tasks[i]));
	view_put(m, "tasks", v);
	return m;
}

/* An execution, as "show" (with results) or "list" (without) gives it. */
struct node *
view_execution(const struct execution *e, bool results)
{
	struct node	*m = node_new(NODE_MAP), *v;
	uint32_t	 i;

	view_put(m, "id", node_new_int((int64_t)e->id));
	view_put(m, "pipeline", view_str(e->def->name));
	view_put(m, "status", view_str(status_name(e->r.status)));
	view_put(m, "message", view_str(e->r.message));
	view_put(m, "runner", view_str(e->runner));
	view_put(m, "iterator", node_new_bool(e->def->iterate != NULL ||
	    e->def->iterate_command != NULL));
	v = node_new(NODE_MAP);
	view_put(v, "uid", node_new_int(e->uid));
	view_put(v, "user", view_str(e->user));
	view_put(m, "owner", v);
	view_put(m, "submitted", view_time(e->submitted_us));
	view_put(m, "started", view_time(e->r.started_us));
	view_put(m, "completed", view_time(e->r.completed_us));
	view_put(m, "input", e->input != NULL ? node_copy(e->input) :
	    node_new(NODE_MAP));
	view_put(m, "retry_of", e->retry_of != 0 ?
	    node_new_int((int64_t)e->retry_of) : node_new(NODE_NULL));
	view_put(m, "retried_by", e->retried_by != 0 ?
	    node_new_int((int64_t)e->retried_by) : node_new(NODE_NULL));
	/* Only for a registered pipeline's runs (docs/protocol.md, "show"). */
	if (e->registered != NULL)
		view_put(m, "registered", view_str(e->registered));
	if (e->def->user != NULL)
		view_put(m, "run_as", view_str(e->def->user));
	if (!results)
		return m;
	v = node_new(NODE_SEQ);
	for (i = 0; i < e->nresults; i++)
		node_append(v, view_result(e->results[i], e->def->ntasks));
	view_put(m, "results", v);
	return m;
}

/* One change as a watch event. */
struct node *
view_event(const struct result *r, int64_t time_us)
{
	struct node	*m = node_new(NODE_MAP);
	char		*addr = result_address(r);

	view_put(m, "execution", node_new_int((int64_t)r->exec->id));
	view_put(m, "address", view_str(addr));
	view_put(m, "level", view_str(result_level_name(r->level)));
	view_put(m, "status", view_str(status_name(r->status)));
	view_put(m, "message", view_str(r->message));
	view_put(m, "time", view_time(time_us));
	free(addr);
	return m;
}
