/*
 * Statuses: names and the advance-only transition rule.
 */
#include "config.h"

#include <string.h>

#include "status.h"

static const char *const status_names[STATUS_COUNT] = {
	"PENDING", "RUNNING", "DONE", "CONFIG_ERROR", "VALIDATION_ERROR",
	"RUNTIME_ERROR", "CANCELLED",
};

/* The upper-case name used everywhere outside the daemon. */
const char *
status_name(enum status s)
{
	if ((unsigned)s >= STATUS_COUNT)
		return "UNKNOWN";
	return status_names[s];
}

/* Parse a name (case-insensitive); -1 if it is not a status. */
int
status_from_name(const char *name, enum status *out)
{
	int	i;

	for (i = 0; i < STATUS_COUNT; i++) {
		if (strcasecmp(name, status_names[i]) == 0) {
			*out = (enum status)i;
			return 0;
		}
	}
	return -1;
}

/* DONE or one of the four failures. */
bool
status_is_final(enum status s)
{
	return s >= STATUS_DONE && s < STATUS_COUNT;
}

/* A final status other than DONE. */
bool
status_is_failure(enum status s)
{
	return s > STATUS_DONE && s < STATUS_COUNT;
}

/* PENDING -> RUNNING, PENDING -> final, RUNNING -> final; nothing else. */
bool
status_can_change(enum status from, enum status to)
{
	if ((unsigned)from >= STATUS_COUNT || (unsigned)to >= STATUS_COUNT)
		return false;
	switch (from) {
	case STATUS_PENDING:
		return to != STATUS_PENDING;
	case STATUS_RUNNING:
		return status_is_final(to);
	default:
		return false;
	}
}
