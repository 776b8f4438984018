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

/* The switch's lines (uplink, vif) go through the same parser as the
 * device's: one tokenizer, one set of reasons. */
static struct vmdq_cmd sw_ok(const char *line, enum vmdq_cmd_kind kind)
{
	struct vmdq_cmd c = ok(line);
	assert_int_equal(c.kind, kind);
	assert_true(vmdq_cmd_is_switch(&c));
	return c;
}

static void args_are(const struct vmdq_cmd *c, int n, const char *const *want)
{
	assert_int_equal(c->nargs, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(c->args[i], want[i]);
}

static void parses_switch_lines(void **s)
{
	(void)s;
	struct vmdq_cmd c = sw_ok("uplink up pcap in.pcap out.pcap loop 3 txrate 1000",
				  VMDQ_CMD_UPLINK);
	assert_string_equal(c.name, "up");
	assert_string_equal(c.backend, "pcap");
	args_are(&c, 4, (const char *const[]){ "in.pcap", "out.pcap", "loop", "3" });
	assert_int_equal(c.txrate, 1000);
	vmdq_cmd_clear(&c);
	c = sw_ok("\tuplink eth afxdp eth0 queue 2 mode native zerocopy no-vlan-meta",
		  VMDQ_CMD_UPLINK);
	args_are(&c, 7, (const char *const[]){ "eth0", "queue", "2", "mode", "native",
					       "zerocopy", "no-vlan-meta" });
	assert_int_equal(c.txrate, 0);
	vmdq_cmd_clear(&c);
	c = sw_ok("uplink txrate 0", VMDQ_CMD_UPLINK_TXRATE);
	assert_int_equal(c.txrate, 0);
	vmdq_cmd_clear(&c);
	c = sw_ok("uplink txrate 100000000", VMDQ_CMD_UPLINK_TXRATE);
	assert_int_equal(c.txrate, 100000000);
	assert_null(c.words); /* nothing to keep */
	vmdq_cmd_clear(&c);

	/* the line is copied: the command outlives the caller's buffer */
	char line[] = "vif vm1 vhost-user /run/vm1.sock targeted off client mac "
		      "02:00:00:00:00:0A vlan 100 queue 7 queues 4   # a comment";
	c = sw_ok(line, VMDQ_CMD_VIF_ADD);
	memset(line, 'x', sizeof(line) - 1);
	assert_string_equal(c.name, "vm1");
	assert_string_equal(c.backend, "vhost-user");
	args_are(&c, 4, (const char *const[]){ "/run/vm1.sock", "targeted", "off", "client" });
	assert_true(c.has_mac);
	assert_memory_equal(c.mac, ((uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }), 6);
	assert_int_equal(c.vlan, 100);
	assert_int_equal(c.queue, 7);
	assert_int_equal(c.queues, 4);
	vmdq_cmd_clear(&c);
	assert_null(c.words);

	c = sw_ok("vif vm2 tap tap0 netns ns1 mac 02:00:00:00:00:02", VMDQ_CMD_VIF_ADD);
	args_are(&c, 3, (const char *const[]){ "tap0", "netns", "ns1" });
	assert_int_equal(c.vlan, 0);
	assert_int_equal(c.queue, -1); /* allocated by the switch */
	assert_int_equal(c.queues, 0);
	vmdq_cmd_clear(&c);
	/* a keyword with no value after it is the backend's word */
	c = sw_ok("vif vm3 pcap a.pcap b.pcap mac 02:00:00:00:00:03 queue", VMDQ_CMD_VIF_ADD);
	args_are(&c, 3, (const char *const[]){ "a.pcap", "b.pcap", "queue" });
	assert_int_equal(c.queue, -1);
	vmdq_cmd_clear(&c);
	/* bytes past ASCII may be in a path */
	c = sw_ok("vif vm4 vhost-user /run/v\xc3\xa9.sock mac 02:00:00:00:00:04",
		  VMDQ_CMD_VIF_ADD);
	args_are(&c, 1, (const char *const[]){ "/run/v\xc3\xa9.sock" });
	vmdq_cmd_clear(&c);

	c = sw_ok("vif del vm1", VMDQ_CMD_VIF_DEL);
	assert_string_equal(c.name, "vm1");
	vmdq_cmd_clear(&c);

	c = ok("device vmdq on");
	assert_false(vmdq_cmd_is_switch(&c));
}

/* The reason, whole: the same text in `FILE:LINE: reason` and on the
 * control socket (tests/cli/switch.sh and ctl.sh check the two). */
static void bad_exact(const char *line, const char *reason)
{
	struct vmdq_cmd c;
	memset(&c, 0xa5, sizeof(c));
	err[0] = '\0';
	assert_int_equal(vmdq_cmd_parse(line, &c, err, sizeof(err)), -EINVAL);
	if (strcmp(err, reason) != 0)
		fail_msg("'%s': got '%s', wanted '%s'", line, err, reason);
	/* nothing kept: a refused line owns no memory */
	assert_null(c.words);
	assert_null(c.sub);
	vmdq_cmd_clear(&c);
}

static void switch_line_errors_say_why(void **s)
{
	(void)s;
	bad_exact("vif a pcap empty.pcap x.pcap", "vif a: missing 'mac MAC'");
	bad_exact("vif a pcap x y mac 01:00:5e:00:00:01",
		  "vif a: mac: '01:00:5e:00:00:01' is not a unicast MAC");
	bad_exact("vif a pcap x y mac 00:00:00:00:00:00",
		  "vif a: mac: '00:00:00:00:00:00' is not a unicast MAC");
	bad_exact("vif a pcap x y mac 02:00:00:00:00", "vif a: mac: '02:00:00:00:00' is not a "
		  "unicast MAC");
	bad_exact("vif a pcap x y mac 02:00:00:00:00:01 vlan 4095",
		  "vif a: vlan: '4095' is not in 1..4094");
	bad_exact("vif a pcap x y mac 02:00:00:00:00:01 vlan 0", "vif a: vlan: '0' is not in 1..4094");
	bad_exact("vif a pcap x y mac 02:00:00:00:00:01 queue 4096",
		  "vif a: queue: '4096' is not a queue number");
	bad_exact("vif a pcap x y mac 02:00:00:00:00:01 queue -1",
		  "vif a: queue: '-1' is not a queue number");
	bad_exact("vif vm9 vhost-user v.sock mac 02:00:00:00:00:09 queues 9",
		  "vif vm9: queues: '9' is not in 1..4");
	bad_exact("vif vm9 vhost-user v.sock mac 02:00:00:00:00:09 queues 0",
		  "vif vm9: queues: '0' is not in 1..4");
	bad_exact("vif a", "vif: expected 'vif NAME KIND ARGS... mac MAC [vlan VID] "
		  "[queue Q] [queues N]'");
	bad_exact("vif", "vif: expected 'vif NAME KIND ARGS... mac MAC [vlan VID] "
		  "[queue Q] [queues N]'");
	bad_exact("vif del", "vif del: expected 'vif del NAME'");
	bad_exact("vif del a b", "vif del: expected 'vif del NAME'");
	bad_exact("uplink u", "uplink: expected 'uplink NAME KIND ARGS...'");
	bad_exact("uplink u pcap up.pcap w.pcap txrate 0",
		  "uplink u: txrate: expected frames per second, 1..100000000");
	bad_exact("uplink u pcap up.pcap w.pcap txrate",
		  "uplink u: txrate: expected frames per second, 1..100000000");
	bad_exact("uplink txrate 100000001",
		  "uplink txrate: expected frames per second, 0 (unlimited)..100000000");
	bad_exact("uplink txrate", "uplink txrate: expected frames per second, "
		  "0 (unlimited)..100000000");
	bad_exact("uplink txrate +5", "uplink txrate: expected frames per second, "
		  "0 (unlimited)..100000000");
	bad_exact("at 5 vif a pcap x y mac 02:00:00:00:00:01",
		  "at: only device, filter and queue commands can be scheduled");
	bad_exact("vif a pcap x\x01y z mac 02:00:00:00:00:01", "unexpected character 0x01");
	bad_exact("vif a pcap x\x7fy z mac 02:00:00:00:00:01", "unexpected character 0x7f");
	char many[200] = "vif a pcap";
	for (int i = 0; i < 30; i++)
		strcat(many, " w");
	bad_exact(many, "too many words (more than 32)");
	bad_exact("vif-add a", "unknown command 'vif-add' (expected device, filter, queue, at, "
		  "uplink or vif)");
}

/* Only a switch applies them: the device refuses them and stays as it was. */
static void switch_lines_need_a_switch(void **s)
{
	(void)s;
	struct vmdq_dev *dev = vmdq_dev_create();
	char out[64];
	struct vmdq_cmd c = sw_ok("vif a pcap x y mac 02:00:00:00:00:01 queue 3",
				  VMDQ_CMD_VIF_ADD);
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "vif: only vmdq switch has an uplink and vifs");
	vmdq_cmd_clear(&c);
	c = sw_ok("uplink txrate 5", VMDQ_CMD_UPLINK_TXRATE);
	assert_int_equal(vmdq_cmd_apply(dev, &c, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "uplink: only vmdq switch has an uplink and vifs");
	assert_int_equal(vmdq_filter_list(dev, NULL, 0), 0);
	vmdq_cmd_clear(&c);
	vmdq_dev_destroy(dev);
}

/* The tokenizer the control socket reads `show` with is the parser's. */
static void words_are_the_parsers(void **s)
{
	(void)s;
	char buf[64], *w[4];
	assert_int_equal(vmdq_cmd_words("  show\tvifs # all of them", buf, sizeof(buf), w, 4,
					err, sizeof(err)), 2);
	assert_string_equal(w[0], "show");
	assert_string_equal(w[1], "vifs");
	assert_int_equal(vmdq_cmd_words("# nothing", buf, sizeof(buf), w, 4, err, sizeof(err)), 0);
	assert_int_equal(vmdq_cmd_words("a b c d e", buf, sizeof(buf), w, 4, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "too many words (more than 4)");
	assert_int_equal(vmdq_cmd_words("show \x02", buf, sizeof(buf), w, 4, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unexpected character 0x02");
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
		cmocka_unit_test(parses_switch_lines),
		cmocka_unit_test(switch_line_errors_say_why),
		cmocka_unit_test(switch_lines_need_a_switch),
		cmocka_unit_test(words_are_the_parsers),
		cmocka_unit_test(mac_text),
	};
	vmdq_thread_online();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	vmdq_thread_offline();
	return rc;
}
