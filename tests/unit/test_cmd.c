/* SPDX-License-Identifier: MIT */
/* The command language: every command, and the errors a user sees. */
#include <errno.h>
#include "helpers.h"

static char err[VMDQ_ERRMSG_MAX];

static struct vmdq_cmd ok(const char *line)
{
	struct vmdq_cmd c;
	err[0] = '\0';
	int rc = vmdq_cmd_parse(line, &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("'%s' refused: %s", line, err);
	return c;
}

static void bad(const char *line, const char *reason)
{
	struct vmdq_cmd c;
	err[0] = '\0';
	assert_int_equal(vmdq_cmd_parse(line, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, reason))
		fail_msg("'%s': got '%s', wanted it to mention '%s'", line, err, reason);
}

static void parses_every_command(void **s)
{
	(void)s;
	assert_int_equal(ok("").kind, VMDQ_CMD_NONE);
	assert_int_equal(ok("   # just a comment").kind, VMDQ_CMD_NONE);
	struct vmdq_cmd c = ok("device profile 82599");
	assert_int_equal(c.kind, VMDQ_CMD_DEV_PROFILE);
	assert_int_equal(c.profile, VMDQ_PROFILE_82599);
	c = ok("device queues 32 # trailing comment");
	assert_int_equal(c.kind, VMDQ_CMD_DEV_QUEUES);
	assert_int_equal(c.num, 32);
	assert_true(ok("device vmdq on").on);
	assert_false(ok("device promisc off").on);
	assert_int_equal(ok("device allmulti on").kind, VMDQ_CMD_DEV_ALLMULTI);
	assert_int_equal(ok("device broadcast off").kind, VMDQ_CMD_DEV_BROADCAST);
	assert_int_equal(ok("device store-bad on").kind, VMDQ_CMD_DEV_STORE_BAD);
	assert_int_equal(ok("device fcs on").kind, VMDQ_CMD_DEV_FCS);
	assert_int_equal(ok("device default-queue 3").num, 3);
	assert_int_equal(ok("device max-frame 9000").num, 9000);
	assert_int_equal(ok("device arbiter drr").arbiter, VMDQ_ARB_DRR);
	c = ok("device mac 02:00:00:AA:bb:01");
	assert_int_equal(c.mac[3], 0xaa);
	c = ok("\tfilter add mac 02:00:00:00:00:01 vlan 100 queue 3");
	assert_int_equal(c.kind, VMDQ_CMD_FILTER_ADD);
	assert_true(c.has_mac);
	assert_int_equal(c.vlan, 100);
	assert_int_equal(c.num, 3);
	c = ok("filter add vlan 7 queue 2");
	assert_false(c.has_mac);
	assert_int_equal(c.vlan, 7);
	assert_int_equal(ok("filter del 12").num, 12);
	c = ok("queue 4 weight 3");
	assert_int_equal(c.kind, VMDQ_CMD_QUEUE_WEIGHT);
	assert_int_equal(c.num, 4);
	assert_int_equal(c.value, 3);
	assert_int_equal(ok("queue 4 itr 250").value, 250);
	assert_int_equal(ok("queue 4 cpu 1").kind, VMDQ_CMD_QUEUE_CPU);
	c = ok("at 1000 filter del 1");
	assert_int_equal(c.kind, VMDQ_CMD_AT);
	assert_int_equal(c.at, 1000);
	assert_int_equal(c.sub->kind, VMDQ_CMD_FILTER_DEL);
	vmdq_cmd_clear(&c);
}

static void syntax_errors_say_why(void **s)
{
	(void)s;
	bad("frobnicate", "unknown command 'frobnicate'");
	bad("device", "missing setting");
	bad("device colour blue", "unknown setting 'colour'");
	bad("device profile 82580", "expected 82575, 82598, 82576, 82599 or soft");
	bad("device queues 0", "out of range 1..4096");
	bad("device queues 4097", "out of range");
	bad("device queues -1", "not a number");
	bad("device queues 99999999999999999999999", "out of range");
	bad("device vmdq yes", "expected on or off, got 'yes'");
	bad("device vmdq", "expected on or off");
	bad("device vmdq on now", "unexpected 'now'");
	bad("device mac 02:00:00:00:00", "expected a MAC");
	bad("device mac 02:00:00:00:00:0g", "expected a MAC");
	bad("device mac 01:00:5e:00:00:01", "not a unicast");
	bad("device max-frame 59", "out of range 60..16384");
	bad("device arbiter wfq", "expected rr, drr or fifo");
	bad("filter", "expected 'add' or 'del'");
	bad("filter add queue 1", "expected 'mac MAC");
	bad("filter add mac ff:ff:ff:ff:ff:ff queue 1", "broadcast");
	bad("filter add mac 00:00:00:00:00:00 queue 1", "all-zero");
	bad("filter add mac 02:00:00:00:00:01", "expected 'queue Q'");
	bad("filter add mac 02:00:00:00:00:01 queue", "missing number");
	bad("filter add vlan 0 queue 1", "out of range 1..4094");
	bad("filter add vlan 4095 queue 1", "out of range 1..4094");
	bad("filter add mac 02:00:00:00:00:01 queue 1 extra", "unexpected 'extra'");
	bad("filter del", "missing number");
	bad("filter del 0", "out of range");
	bad("queue x weight 1", "not a number");
	bad("queue 1 weight 0", "out of range 1..65535");
	bad("queue 1 speed 3", "expected weight, itr, cpu or rss");
	bad("at", "missing number");
	bad("at 5", "missing command");
	bad("at 5 at 6 device vmdq on", "cannot be nested");
	bad("at 5 device vmdq maybe", "expected on or off");
	bad("device vmdq \x01on", "unexpected character");
	char longline[2000];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	bad(longline, "line too long");
}

static void apply_errors_change_nothing(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	char out[64];
	struct vmdq_cmd c = ok("device profile 82575");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), 0);
	c = ok("filter add mac 02:00:00:00:00:01 queue 1");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "1");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already exists"));
	c = ok("filter add mac 02:00:00:00:00:02 queue 4");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queue 4 is out of range (the device has 4 queues"));
	c = ok("device queues 8");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than profile 82575 allows (4)"));
	c = ok("filter del 2");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no filter with id 2"));
	c = ok("queue 9 cpu 0");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queue 9 is out of range"));
	for (int i = 2; i <= 16; i++) {
		char line[80];
		snprintf(line, sizeof(line), "filter add mac 02:00:00:00:01:%02x queue 0", i);
		c = ok(line);
		assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), 0);
	}
	c = ok("filter add mac 02:00:00:00:02:00 queue 0");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "table full (profile 82575 holds 16 MAC and pair filters)"));
	struct vmdq_filter fl[32];
	assert_int_equal(vmdq_filter_list(dev, fl, 32), 16);
	c = ok("at 3 device vmdq on");
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	vmdq_cmd_clear(&c);
	vmdq_dev_destroy(dev);
}

static void mac_text(void **s)
{
	(void)s;
	uint8_t m[6];
	char txt[18];
	assert_int_equal(vmdq_mac_parse("0a:1B:2c:3D:4e:5F", m), 0);
	vmdq_mac_format(m, txt);
	assert_string_equal(txt, "0a:1b:2c:3d:4e:5f");
	assert_int_equal(vmdq_mac_parse("0a:1b:2c:3d:4e:5f:", m), -EINVAL);
	assert_int_equal(vmdq_mac_parse("0a-1b-2c-3d-4e-5f", m), -EINVAL);
	assert_int_equal(vmdq_mac_parse("a:1b:2c:3d:4e:5f", m), -EINVAL);
	assert_int_equal(vmdq_mac_parse("", m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_command),
		cmocka_unit_test(syntax_errors_say_why),
		cmocka_unit_test(apply_errors_change_nothing),
		cmocka_unit_test(mac_text),
	};
	vmdq_thread_online();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
