/*
 * Pipeline definitions: freeing, lookups and the naming rules.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "bounds.h"
#include "node.h"
#include "pipeline.h"

static void
pipeline_free_env(struct env_var *env, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(env[i].name);
		free(env[i].value);
	}
	free(env);
}

static void
pipeline_free_strv(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
pipeline_free_task(struct task_def *t)
{
	free(t->name);
	free(t->run);
	pipeline_free_strv(t->argv, t->argc);
	node_free(t->iterate);
	free(t->iterate_command);
	pipeline_free_env(t->env, t->nenv);
	free(t->cwd);
	pipeline_free_strv(t->inputs, t->ninputs);
	free(t->queue);
	node_free(t->options);
}

/* Free a pipeline and everything it owns. */
void
pipeline_free(struct pipeline *p)
{
	uint32_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ntasks; i++)
		pipeline_free_task(&p->tasks[i]);
	free(p->tasks);
	graph_free(p->graph);
	free(p->flat);
	free(p->name);
	free(p->description);
	node_free(p->iterate);
	free(p->iterate_command);
	pipeline_free_env(p->env, p->nenv);
	free(p->cwd);
	free(p->runner);
	free(p->user);
	free(p);
}

/* The task with this name, or NULL (linear: for tools, not hot paths). */
struct task_def *
pipeline_task(const struct pipeline *p, const char *name)
{
	uint32_t	i;

	for (i = 0; i < p->ntasks; i++)
		if (strcmp(p->tasks[i].name, name) == 0)
			return &p->tasks[i];
	return NULL;
}

/* Whether a task runs once per item. */
bool
pipeline_task_has_iterator(const struct task_def *t)
{
	return t->iterate != NULL || t->iterate_command != NULL;
}

/* Distinct parent -> child edges. */
size_t
pipeline_edges(const struct pipeline *p)
{
	return p->graph != NULL ? graph_edges(p->graph) : 0;
}

/*
 * The task executions and task results one pipeline result holds once
 * made: a task execution per task, and its static items (one task result
 * without iterator; those of an iterator command come later).
 */
uint64_t
pipeline_result_size(const struct pipeline *p)
{
	const struct task_def	*t;
	uint64_t		 n = 0;
	uint32_t		 i;

	for (i = 0; i < p->ntasks; i++) {
		t = &p->tasks[i];
		n++;
		if (t->iterate != NULL)
			n += t->iterate->nkids;
		else if (t->iterate_command == NULL)
			n++;
	}
	return n;
}

/* Pipeline and queue names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
bool
pipeline_valid_name(const char *s)
{
	size_t	i;

	if (!isalnum((unsigned char)s[0]) || !isascii((unsigned char)s[0]))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!isascii((unsigned char)s[i]) ||
		    (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])))
			return false;
	return i <= PL_MAX_NAME;
}

/* Task names: [A-Za-z][A-Za-z0-9_.-]{0,63} (addresses rely on the letter). */
bool
pipeline_valid_task_name(const char *s)
{
	return isascii((unsigned char)s[0]) && isalpha((unsigned char)s[0]) &&
	    pipeline_valid_name(s);
}
