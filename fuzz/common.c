/*
 * Helpers shared by the fuzz targets: failing loudly, silencing the log,
 * a scratch directory.
 */
#include "config.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "xmalloc.h"

/* Say which invariant broke, then abort so the input is kept. */
void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * Millions of inputs would each log a line or two: keep only what fatal()
 * says before it exits (which the fuzzer reports as a failure).
 */
void
fuzz_quiet(void)
{
	log_set_level(LOG_LEVEL_ERR);
}

/* A fresh directory under /dev/shm (or $TMPDIR, /tmp); free() the name. */
char *
fuzz_tmpdir(const char *tag)
{
	const char	*base = getenv("TMPDIR");
	char		*dir;

	if (access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || *base != '/')
		base = "/tmp";
	dir = xprintf("%s/pl-fuzz-%s-XXXXXX", base, tag);
	if (mkdtemp(dir) == NULL)
		fuzz_fail(__FILE__, __LINE__, "mkdtemp", "%s", dir);
	return dir;
}

/* nftw callback: remove one entry, children first. */
static int
fuzz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path);
}

/* Remove a directory tree made by fuzz_tmpdir(). */
void
fuzz_rmtree(const char *dir)
{
	nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
