/*
 * Result addresses: parsing and resolving.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "pipeline.h"
#include "result.h"
#include "xmalloc.h"

/* A decimal number without sign or leading junk, within max. */
static int
address_number(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Split on '/' and read up to four parts. */
int
address_parse(const char *s, struct address *a)
{
	const char	*part[5];
	size_t		 len[5], n = 0, i;
	const char	*p = s, *slash;
	uint64_t	 v;

	memset(a, 0, sizeof *a);
	for (;;) {
		if (n == 5)
			return -1;
		slash = strchr(p, '/');
		part[n] = p;
		len[n] = slash != NULL ? (size_t)(slash - p) : strlen(p);
		n++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (n > 4 || address_number(part[0], len[0], INT64_MAX, &a->id) == -1 ||
	    a->id == 0)
		return -1;
	i = 1;
	if (i < n && isdigit((unsigned char)part[i][0])) {
		if (address_number(part[i], len[i], UINT32_MAX, &v) == -1)
			return -1;
		a->has_result = true;
		a->result = (uint32_t)v;
		i++;
	}
	if (i < n) {
		if (len[i] == 0 || len[i] > PL_MAX_NAME ||
		    !isalpha((unsigned char)part[i][0]))
			return -1;
		memcpy(a->task, part[i], len[i]);
		a->task[len[i]] = '\0';
		i++;
		if (i < n) {
			if (address_number(part[i], len[i], UINT32_MAX,
			    &v) == -1)
				return -1;
			a->has_index = true;
			a->index = (uint32_t)v;
			i++;
		}
	}
	/* Short forms (a task without a result index) skip only the result. */
	return i == n ? 0 : -1;
}

/* The result an address names in e. */
struct result *
address_resolve(struct execution *e, const struct address *a, char **err)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	const struct task_def	*t;
	uint32_t		 ri = a->result;

	if (!a->has_result && a->task[0] == '\0')
		return &e->r;
	if (!a->has_result) {
		if (e->def->iterate != NULL || e->def->iterate_command != NULL) {
			*err = xprintf("execution %llu has a pipeline iterator: "
			    "give the pipeline result, as in %llu/0/%s",
			    (unsigned long long)e->id,
			    (unsigned long long)e->id, a->task);
			return NULL;
		}
		ri = 0;
	}
	if (ri >= e->nresults) {
		*err = xprintf("execution %llu has no pipeline result %u",
		    (unsigned long long)e->id, ri);
		return NULL;
	}
	pr = e->results[ri];
	if (a->task[0] == '\0')
		return &pr->r;
	if ((t = pipeline_task(e->def, a->task)) == NULL) {
		*err = xprintf("pipeline %s has no task %s", e->def->name,
		    a->task);
		return NULL;
	}
	te = &pr->tasks[t->index];
	if (!a->has_index)
		return &te->r;
	if (a->index >= te->ninst) {
		*err = xprintf("task %s of %llu/%u has no instance %u", a->task,
		    (unsigned long long)e->id, ri, a->index);
		return NULL;
	}
	return &te->inst[a->index]->r;
}
