/*
 * A runner plugin built for an ABI version that does not exist (999): the
 * daemon must refuse to load it, saying so, and must never call into it.
 */
#include <stdlib.h>

#include <pipelined/runner.h>

PIPELINED_EXPORT const struct pipelined_runner *pipelined_runner_v1(void);

/* Never called: a refused runner is not initialised. */
static void *
badabi_init(const struct pipelined_host *host, char **err)
{
	abort();
}

static const struct pipelined_runner badabi_runner = {
	.abi = 999,
	.name = "badabi",
	.init = badabi_init,
};

/* The entry point, as a plugin from the future would have it. */
const struct pipelined_runner *
pipelined_runner_v1(void)
{
	return &badabi_runner;
}
