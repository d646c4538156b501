/*
 * pipelined: the process supervisor for pipelines.  Everything is in
 * daemon.c and the library, which the tests link too.
 */
#include "config.h"

#include "daemon.h"

int
main(int argc, char **argv)
{
	return daemon_main(argc, argv);
}
