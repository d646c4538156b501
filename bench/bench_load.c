/*
 * Benchmark: load and check a generated pipeline of 10,000 tasks and
 * 50,000 edges (YAML parse, schema, graph, cycle check) and compute its
 * flat order.  Reports the best and median wall time over several runs and
 * the peak memory of a fresh process that loads it once.
 *
 * usage: bench_load [-n TASKS] [-e EDGES] [-r RUNS]
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "load.h"
#include "pipeline.h"

static uint64_t	bench_rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
bench_rand(uint32_t n)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return (uint32_t)(bench_rng % n);
}

/* YAML for n tasks with e edges, each to a random earlier task. */
static char *
bench_generate(uint32_t n, uint32_t e, size_t *len)
{
	struct buf	 b;
	uint32_t	 i, k, want, *par, np, j;
	uint64_t	 left = e;

	buf_init(&b);
	buf_adds(&b, "name: bench\ntasks:\n");
	par = calloc(64, sizeof *par);
	for (i = 0; i < n; i++) {
		buf_addf(&b, "  task%u:\n    run: echo %u\n", i, i);
		/* Spread the edges evenly over the tasks that can have them. */
		want = i == 0 ? 0 : (uint32_t)(left / (n - i));
		if (want > i)
			want = i;
		if (want > 64)
			want = 64;
		for (np = 0; np < want;) {
			k = bench_rand(i);
			for (j = 0; j < np && par[j] != k; j++)
				;
			if (j == np)
				par[np++] = k;
		}
		left -= np;
		if (np == 0)
			continue;
		buf_adds(&b, "    parents: [");
		for (j = 0; j < np; j++)
			buf_addf(&b, "%stask%u", j ? ", " : "", par[j]);
		buf_adds(&b, "]\n");
	}
	free(par);
	*len = b.len;
	return buf_detach(&b);
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmHWM (peak resident set) of this process, in KiB. */
static long
bench_peak_kib(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 kib = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Load once; returns the seconds taken and checks the result. */
static double
bench_once(const char *text, size_t len, uint32_t n, size_t *edges)
{
	struct diag	*d = diag_new("bench.yaml");
	struct pipeline	*p;
	double		 t0, t1;

	t0 = bench_now();
	p = load_buffer(text, len, 0, d, NULL);
	t1 = bench_now();
	if (p == NULL) {
		diag_print(d, stderr);
		errx(1, "the generated pipeline did not load");
	}
	if (p->ntasks != n)
		errx(1, "loaded %u tasks, want %u", p->ntasks, n);
	*edges = pipeline_edges(p);
	pipeline_free(p);
	diag_free(d);
	return t1 - t0;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	uint32_t	 n = 10000, e = 50000, runs = 15, i;
	double		*t;
	char		*text;
	size_t		 len, edges = 0;
	long		 before, after;
	int		 ch, status;
	pid_t		 pid;

	while ((ch = getopt(argc, argv, "n:e:r:")) != -1) {
		switch (ch) {
		case 'n':
			n = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			e = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_load [-n TASKS] [-e EDGES] "
			    "[-r RUNS]\n");
			return 2;
		}
	}
	if (n == 0 || runs == 0)
		errx(2, "tasks and runs must be positive");
	text = bench_generate(n, e, &len);

	/* Peak memory: a fresh child loads once; the text is shared. */
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		before = bench_peak_kib();
		bench_once(text, len, n, &edges);
		after = bench_peak_kib();
		printf("load: peak RSS %.1f MiB (%.1f MiB above the %.1f MiB "
		    "before loading)\n", after / 1024.0, (after - before) / 1024.0,
		    before / 1024.0);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || status != 0)
		errx(1, "the memory run failed");

	t = calloc(runs, sizeof *t);
	for (i = 0; i < runs; i++)
		t[i] = bench_once(text, len, n, &edges);
	qsort(t, runs, sizeof *t, bench_cmp);
	printf("load: %u tasks, %zu edges, %.2f MiB of YAML\n", n, edges,
	    len / 1048576.0);
	printf("load: best %.1f ms, median %.1f ms over %u runs "
	    "(parse, check, graph, flat order)\n", t[0] * 1e3,
	    t[runs / 2] * 1e3, runs);
	free(t);
	free(text);
	return 0;
}
