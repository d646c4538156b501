/*
 * CRC-32C (Castagnoli), the checksum of every journal record, and the
 * LevelDB-style mask applied before a CRC is stored: a CRC of bytes that
 * contain stored CRCs is then not trivially related to them.
 */
#ifndef PL_CRC32C_H
#define PL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc32c(uint32_t crc, const void *, size_t);
uint32_t	crc32c_mask(uint32_t);
uint32_t	crc32c_unmask(uint32_t);

#endif
