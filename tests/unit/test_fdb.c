/* SPDX-License-Identifier: MIT */
/* The switch's FDB: (MAC, VLAN) keys, learning, static entries, ageing. */
#include <errno.h>
#include "helpers.h"
#include "vmdq/fdb.h"

#define S 1000000000ull

static void key_is_mac_and_vlan(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(16);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 7, 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 100, 8, 1), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 7);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 100), 8);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 200), -1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), -1);
	/* learning moves a station */
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 9, 2), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 9);
	assert_int_equal(vmdq_fdb_count(f), 2);
	vmdq_fdb_destroy(f);
}

static void static_entries_win(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(16);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM1), 0, 1), 0);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM1), 0, 2), -EEXIST);
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM1), 0, 0, 5), -EPERM);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), 1);
	/* a static entry replaces a learned one */
	assert_int_equal(vmdq_fdb_learn(f, MAC(VM2), 0, 0, 5), 0);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(VM2), 0, 3), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), 3);
	assert_int_equal(vmdq_fdb_age(f, 1000 * S, 1), 0); /* static never ages */
	assert_int_equal(vmdq_fdb_count(f), 2);
	vmdq_fdb_destroy(f);
}

static void ageing(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(64);
	vmdq_fdb_learn(f, MAC(VM1), 0, 0, 10 * S);
	vmdq_fdb_learn(f, MAC(VM2), 0, 0, 200 * S);
	vmdq_fdb_learn(f, MAC(VM3), 0, 0, 10 * S);
	vmdq_fdb_learn(f, MAC(VM3), 0, 0, 250 * S); /* refreshed */
	assert_int_equal(vmdq_fdb_age(f, 311 * S, 300 * S), 1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM1), 0), -1);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM2), 0), 0);
	assert_int_equal(vmdq_fdb_lookup(f, MAC(VM3), 0), 0);
	vmdq_fdb_destroy(f);
}

static void full_and_flush(void **s)
{
	(void)s;
	struct vmdq_fdb *f = vmdq_fdb_create(1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000010000ull + i), 0, (int)(i % 4), 1), 0);
	assert_int_equal(vmdq_fdb_learn(f, MAC(0x020000020000ull), 0, 0, 1), -ENOSPC);
	assert_int_equal(vmdq_fdb_add_static(f, MAC(0x020000020000ull), 0, 0), -ENOSPC);
	assert_int_equal(vmdq_fdb_flush_port(f, 2), 250);
	assert_int_equal(vmdq_fdb_count(f), 750);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000010000ull + i), 0),
				 i % 4 == 2 ? -1 : (int)(i % 4));
	struct vmdq_fdb_entry e[800];
	assert_int_equal(vmdq_fdb_dump(f, e, 800), 750);
	for (unsigned i = 0; i < 750; i++)
		assert_int_not_equal(e[i].port, 2);
	/* delete everything one by one: every lookup stays right */
	for (unsigned i = 0; i < 1000; i++) {
		int rc = vmdq_fdb_del(f, MAC(0x020000010000ull + i), 0);
		assert_int_equal(rc, i % 4 == 2 ? -ENOENT : 0);
		if (i + 1 < 1000 && (i + 1) % 4 != 2)
			assert_int_equal(vmdq_fdb_lookup(f, MAC(0x020000010000ull + i + 1), 0),
					 (int)((i + 1) % 4));
	}
	assert_int_equal(vmdq_fdb_count(f), 0);
	vmdq_fdb_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_is_mac_and_vlan),
		cmocka_unit_test(static_entries_win),
		cmocka_unit_test(ageing),
		cmocka_unit_test(full_and_flush),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
