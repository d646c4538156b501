/*
 * UTF-8 checking and mending (see utf8.h).
 */
#include "config.h"

#include "utf8.h"

/* The length of the character at s, or 0 when s does not start one. */
size_t
utf8_char(const unsigned char *s, size_t len)
{
	size_t		n, k;
	unsigned char	c, lo = 0x80, hi = 0xbf;

	if (len == 0)
		return 0;
	if ((c = s[0]) < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates U+D800-DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n >= len)
		return 0;
	for (k = 1; k <= n; k++, lo = 0x80, hi = 0xbf) {
		if (s[k] < lo || s[k] > hi)
			return 0;
	}
	return n + 1;
}

/*
 * Make s valid text in place: a byte that is not part of a character, or
 * is NUL, becomes '?'.
 */
void
utf8_mend(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i = 0, n;

	while (i < len) {
		if (p[i] != 0 && (n = utf8_char(p + i, len - i)) > 0)
			i += n;
		else
			p[i++] = '?';
	}
}
