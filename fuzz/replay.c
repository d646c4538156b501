/*
 * A plain main for a fuzz target, for "make check": run the target once
 * over each input file - the checked-in seeds and the reproducers of bugs
 * found by fuzzing - under the project's normal (sanitizer) build, so that
 * any input that ever failed is a failing test.  Arguments name files or
 * directories to run instead.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "xmalloc.h"

static size_t	replay_count;

static int
replay_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run the target over one file's bytes. */
static void
replay_file(const char *path)
{
	struct buf	b;
	uint8_t		*copy;
	char		chunk[65536];
	size_t		len;
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "replay: %s: %s\n", path,
			    strerror(errno));
			exit(1);
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	/*
	 * A copy of exactly the file's size, as libFuzzer passes it, so that
	 * the sanitizers see a read one byte past the end.
	 */
	len = b.len;
	copy = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(copy, b.data, len);
	buf_release(&b);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	replay_count++;
}

/* A file, or every file of a directory in name order; missing: -1. */
static int
replay_path(const char *path)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		**names = NULL, *p;
	size_t		 n = 0, i;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return 0;
	}
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, replay_name_cmp);
	for (i = 0; i < n; i++) {
		p = xprintf("%s/%s", path, names[i]);
		replay_file(p);
		free(p);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Replay the arguments, or the target's seeds and reproducers. */
int
main(int argc, char **argv)
{
	char	*corpus, *regress;
	int	 i;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_path(argv[i]) == -1) {
				fprintf(stderr, "replay: %s: %s\n", argv[i],
				    strerror(errno));
				return 1;
			}
		}
	} else {
		corpus = xprintf("%s/corpus/%s", FUZZ_SRCDIR, FUZZ_TARGET);
		regress = xprintf("%s/regress/%s", FUZZ_SRCDIR, FUZZ_TARGET);
		/* The seeds must be there; reproducers only once one was found. */
		if (replay_path(corpus) == -1) {
			fprintf(stderr, "replay: %s: %s\n", corpus,
			    strerror(errno));
			return 1;
		}
		if (replay_path(regress) == -1 && errno != ENOENT) {
			fprintf(stderr, "replay: %s: %s\n", regress,
			    strerror(errno));
			return 1;
		}
		free(corpus);
		free(regress);
	}
	printf("%s: %zu inputs replayed, no failure\n", FUZZ_TARGET,
	    replay_count);
	return 0;
}
