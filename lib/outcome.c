/*
 * Outcomes of task attempts and their statuses and messages.
 */
#include "config.h"

#include <string.h>

#include "outcome.h"
#include "spawn.h"
#include "units.h"
#include "xmalloc.h"

/* An outcome that says nothing yet. */
void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof *o);
	o->exit_code = -1;
}

/* Map an outcome to a status and the message docs/runners.md gives. */
enum status
outcome_status(const struct outcome *o, char **msg)
{
	char	buf[64];

	if (o->timed_out) {
		*msg = xprintf("timed out after %s",
		    units_format_duration(o->timeout_ms, buf, sizeof buf));
		return STATUS_RUNTIME_ERROR;
	}
	if (o->error != NULL) {
		*msg = xstrdup(o->error);
		return STATUS_RUNTIME_ERROR;
	}
	if (o->exec_errno != 0) {
		if (o->exec_step != NULL && strcmp(o->exec_step, "chdir") == 0)
			*msg = xprintf("cannot change to directory %s: %s",
			    o->cwd != NULL ? o->cwd : "?",
			    strerror(o->exec_errno));
		else if (o->exec_step != NULL &&
		    strcmp(o->exec_step, "exec") != 0)
			*msg = xprintf("cannot start (%s): %s", o->exec_step,
			    strerror(o->exec_errno));
		else
			*msg = xprintf("cannot run %s: %s",
			    o->program != NULL ? o->program : "the command",
			    strerror(o->exec_errno));
		return STATUS_RUNTIME_ERROR;
	}
	if (o->signal != 0) {
		*msg = xprintf("killed by signal %d (%s)", o->signal,
		    spawn_signal_name(o->signal, buf, sizeof buf));
		return STATUS_RUNTIME_ERROR;
	}
	*msg = xprintf("exited with status %d", o->exit_code);
	return o->exit_code == 0 ? STATUS_DONE : STATUS_RUNTIME_ERROR;
}
