/*
 * UTF-8 text, as the protocol wants every string: strict UTF-8 (RFC
 * 3629: no overlong forms, no surrogates, nothing above U+10FFFF) without
 * NUL.  Messages built from what users send - quoted and cut to a length,
 * which may fall inside a character - are mended before they travel.
 */
#ifndef PL_UTF8_H
#define PL_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the character s starts with, or 0 if none. */
size_t	utf8_char(const unsigned char *s, size_t len);
/* Replace each byte that is not part of a character, and NUL, by '?'. */
void	utf8_mend(char *s, size_t len);

#endif
