/*
 * What the fuzz targets share.  Each target is one fuzz_*.c defining the
 * libFuzzer entry points; the same file is linked either with libFuzzer
 * (clang, "make fuzz") or with replay.c, a plain main that runs it over
 * the checked-in inputs under the project's normal build ("make check").
 *
 * A target fails by aborting: libFuzzer then keeps the input as a
 * reproducer, and the replay test fails.
 */
#ifndef PL_FUZZ_H
#define PL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop with where and why when an invariant does not hold. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)

void	fuzz_fail(const char *file, int line, const char *cond,
	    const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 4, 5)));
/* Keep the library's log lines out of the fuzzer's output. */
void	fuzz_quiet(void);
/* A fresh private directory for the run (on tmpfs when there is one). */
char	*fuzz_tmpdir(const char *tag);
/* Remove it and what it holds. */
void	fuzz_rmtree(const char *);

#endif
