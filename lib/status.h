/*
 * The seven statuses and the one rule about them: a status only advances,
 * PENDING -> RUNNING -> final or PENDING -> final, and nothing leaves a
 * final status.  DONE is the one success; the other four finals are
 * failures.
 */
#ifndef PL_STATUS_H
#define PL_STATUS_H

#include <stdbool.h>

enum status {
	STATUS_PENDING,
	STATUS_RUNNING,
	STATUS_DONE,
	STATUS_CONFIG_ERROR,
	STATUS_VALIDATION_ERROR,
	STATUS_RUNTIME_ERROR,
	STATUS_CANCELLED,
};
#define STATUS_COUNT	7

const char	*status_name(enum status);
int		 status_from_name(const char *, enum status *);
bool		 status_is_final(enum status);
bool		 status_is_failure(enum status);
bool		 status_can_change(enum status from, enum status to);

#endif
