/* SPDX-License-Identifier: MIT */
/* Frame checks (SPEC 1.1): the CRC; frame_parse() is inline in internal.h. */
#include <zlib.h>

#include "internal.h"

uint32_t frame_crc32(const uint8_t *data, uint32_t len)
{
	/* zlib's CRC-32 is the IEEE 802.3 polynomial, reflected, with the
	 * same initial value and final inversion as the Ethernet FCS. */
	return (uint32_t)crc32(0L, data, len);
}

