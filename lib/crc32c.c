/*
 * CRC-32C with a byte-wise table (built once) and, on x86-64 CPUs that
 * have it, the SSE4.2 crc32 instruction: the same function either way.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "crc32c.h"

#define CRC32C_POLY	0x82f63b78u	/* reflected Castagnoli */
#define CRC32C_MASK	0xa282ead8u

static uint32_t	crc32c_table[256];
static bool	crc32c_ready;

static void
crc32c_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[i] = c;
	}
	crc32c_ready = true;
}

static uint32_t
crc32c_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	if (!crc32c_ready)
		crc32c_init();
	while (len-- > 0)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2")))
static uint32_t
crc32c_hard(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t	c = crc, w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

static bool
crc32c_have_sse42(void)
{
	static int	have = -1;

	if (have == -1) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	}
	return have == 1;
}
#endif

/* Extend crc (0 to start) over len bytes. */
uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;

	crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
	if (crc32c_have_sse42())
		return ~crc32c_hard(crc, p, len);
#endif
	return ~crc32c_soft(crc, p, len);
}

/* The stored form of a CRC. */
uint32_t
crc32c_mask(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + CRC32C_MASK;
}

/* The CRC from its stored form. */
uint32_t
crc32c_unmask(uint32_t masked)
{
	uint32_t	rot = masked - CRC32C_MASK;

	return (rot >> 17) | (rot << 15);
}
