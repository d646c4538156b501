/*
 * The physical limit for running trivial tasks: posix_spawn of /bin/true
 * with a fixed number in flight, reaped with waitpid.  Prints tasks per
 * second.
 *
 * usage: bench_spawn [-n TASKS] [-j IN_FLIGHT]
 */
#include "config.h"

#include <err.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	char		*args[] = { (char *)"/bin/true", NULL };
	struct timespec	 t0, t1;
	unsigned long	 n = 2000, j = 2, started = 0, done = 0;
	pid_t		 pid;
	double		 s;
	int		 ch, status;

	while ((ch = getopt(argc, argv, "n:j:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'j':
			j = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_spawn [-n TASKS] "
			    "[-j IN_FLIGHT]\n");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < n) {
		while (started < n && started - done < j) {
			if (posix_spawn(&pid, args[0], NULL, NULL, args,
			    environ) != 0)
				err(1, "posix_spawn");
			started++;
		}
		if (wait(&status) == -1)
			err(1, "wait");
		done++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("raw spawn: %lu tasks, %lu in flight: %.3f s, %.0f tasks/s\n",
	    n, j, s, n / s);
	return 0;
}
