/* SPDX-License-Identifier: MIT */
/* The dirty-page log's bitmap (issue 15, vhost/vu_log.h): page arithmetic,
 * ranges across pages and bytes, its last page and past it, logging off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "../../vhost/vu_log.h"

#define SIZE 16 /* bytes: pages 0 .. 127 */

static uint8_t bits[SIZE + 8]; /* 8 bytes past the log: never written */
static struct vu_log L;

static void reset(void)
{
	memset(bits, 0, sizeof(bits));
	memset(bits + SIZE, 0x5a, 8);
	L = (struct vu_log){ .base = bits, .size = SIZE };
}

static unsigned nbits(void)
{
	unsigned k = 0;
	for (unsigned i = 0; i < SIZE; i++)
		k += (unsigned)__builtin_popcount(bits[i]);
	for (unsigned i = SIZE; i < SIZE + 8; i++)
		assert_int_equal(bits[i], 0x5a);
	return k;
}

static void sizes(void **s)
{
	(void)s;
	assert_int_equal(vu_log_bytes_for(0), 0);
	assert_int_equal(vu_log_bytes_for(1), 1);           /* page 0 */
	assert_int_equal(vu_log_bytes_for(4096), 1);
	assert_int_equal(vu_log_bytes_for(8 * 4096), 1);    /* pages 0..7 */
	assert_int_equal(vu_log_bytes_for(8 * 4096 + 1), 2);
	assert_int_equal(vu_log_bytes_for(1ull << 30), 32768); /* 1 GiB */
	assert_int_equal(vu_log_bytes_for(UINT64_MAX), 1ull << 49);
}

static void one_page(void **s)
{
	(void)s;
	reset();
	vu_log_mark(&L, 0x5000, 1); /* page 5 */
	assert_int_equal(bits[0], 0x20);
	assert_int_equal(nbits(), 1);
	assert_int_equal(L.marked, 1);
	/* the same page again: set already, not counted */
	vu_log_mark(&L, 0x5fff, 1);
	assert_int_equal(nbits(), 1);
	assert_int_equal(L.marked, 1);
	/* the page's first and last byte, a whole page */
	vu_log_mark(&L, 0x9000, 4096); /* page 9 exactly */
	assert_int_equal(bits[1], 0x02);
	assert_int_equal(nbits(), 2);
	/* length 0: nothing */
	vu_log_mark(&L, 0x20000, 0);
	assert_int_equal(nbits(), 2);
	assert_int_equal(L.marked, 2);
}

static void spans(void **s)
{
	(void)s;
	reset();
	/* a write across a page boundary: both pages */
	vu_log_mark(&L, 0x7ffa, 12); /* pages 7 and 8: two bytes */
	assert_int_equal(bits[0], 0x80);
	assert_int_equal(bits[1], 0x01);
	assert_int_equal(nbits(), 2);
	/* a range of many pages: whole bytes and the ends */
	reset();
	vu_log_mark(&L, 0x3000, 20 * 4096); /* pages 3 .. 22 */
	assert_int_equal(bits[0], 0xf8);
	assert_int_equal(bits[1], 0xff);
	assert_int_equal(bits[2], 0x7f);
	assert_int_equal(bits[3], 0);
	assert_int_equal(nbits(), 20);
	assert_int_equal(L.marked, 20);
	/* the guest's other bits stay (an OR) */
	reset();
	bits[4] = 0x81;
	vu_log_mark(&L, 33 * 4096, 4096); /* page 33: byte 4 bit 1 */
	assert_int_equal(bits[4], 0x83);
	assert_int_equal(L.marked, 1);
}

static void last_page(void **s)
{
	(void)s;
	reset();
	vu_log_mark(&L, 127 * 4096 + 100, 8); /* the log's last page */
	assert_int_equal(bits[SIZE - 1], 0x80);
	assert_int_equal(nbits(), 1);
	assert_int_equal(L.beyond, 0);
	/* across the end: the last page marked, the one past it counted */
	reset();
	vu_log_mark(&L, 128 * 4096 - 4, 8);
	assert_int_equal(bits[SIZE - 1], 0x80);
	assert_int_equal(nbits(), 1);
	assert_int_equal(L.beyond, 1);
	/* wholly past it: counted, nothing written */
	reset();
	vu_log_mark(&L, 128 * 4096, 3 * 4096);
	assert_int_equal(nbits(), 0);
	assert_int_equal(L.beyond, 3);
	/* a range that wraps the address space ends at its top */
	reset();
	vu_log_mark(&L, UINT64_MAX - 4095, 8192);
	assert_int_equal(nbits(), 0);
	assert_int_equal(L.beyond, 1);
	reset();
	vu_log_mark(&L, 126 * 4096, UINT64_MAX);
	assert_int_equal(bits[SIZE - 1], 0xc0);
	assert_int_equal(nbits(), 2);
	assert_int_equal(L.beyond, (UINT64_MAX >> 12) - 127);
}

static void logging_off(void **s)
{
	(void)s;
	reset();
	L.base = NULL; /* no log */
	vu_log_mark(&L, 0x1000, 4096);
	L.base = bits;
	assert_int_equal(nbits(), 0);
	assert_int_equal(L.marked, 0);
	assert_false(vu_log_test(&L, 1));
	L.size = 0; /* an empty one */
	vu_log_mark(&L, 0x1000, 4096);
	assert_int_equal(nbits(), 0);
	L.size = SIZE;
	vu_log_mark(&L, 0x1000, 4096);
	assert_true(vu_log_test(&L, 1));
	assert_false(vu_log_test(&L, 2));
	assert_false(vu_log_test(&L, 128)); /* past the log: never read */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(one_page),
		cmocka_unit_test(spans),
		cmocka_unit_test(last_page),
		cmocka_unit_test(logging_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
