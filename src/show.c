/* SPDX-License-Identifier: MIT */
/*
 * The `show` commands of the control socket: each builds its rows once (a
 * JSON array, or an object for stats) from the switch's queries, and the
 * same rows are printed as JSON or rendered as a table.  The formats are
 * an interface (SPEC 3).
 */
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "util.h"
#include "vmdq/vmdq.h"
#include "../switch/switch.h"

/* ---- reading rows back --------------------------------------------------- */

static unsigned long long u(const json_t *o, const char *key)
{
	return (unsigned long long)json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key, const char *none)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : none;
}

/* ---- shared pieces -------------------------------------------------------- */

static json_t *drops_json(const uint64_t *d)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < SWD__COUNT; i++)
		json_object_set_new(o, sw_drop_name((enum sw_drop)i), json_integer((json_int_t)d[i]));
	return o;
}

static json_t *uplink_json(struct vmdq_switch *sw)
{
	struct sw_port_info u;
	if (!vmdq_switch_uplink_info(sw, &u))
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(u.name));
	json_object_set_new(o, "backend", json_string(u.kind));
	json_object_set_new(o, "rx_frames", json_integer((json_int_t)u.rx_frames));
	json_object_set_new(o, "tx_frames", json_integer((json_int_t)u.tx_frames));
	json_object_set_new(o, "kernel_drops", u.has_kernel_drops
				? json_integer((json_int_t)u.kernel_drops) : json_null());
	json_object_set_new(o, "tx_errors", json_integer((json_int_t)u.tx_errors));
	return o;
}

/* Frames the device dropped on a vif's queues for want of a buffer: for a
 * targeted vhost-user vif, the guest had posted none (or it is broken). */
static uint64_t vif_missed(struct vmdq_switch *sw, const struct sw_vif_info *v)
{
	uint64_t m = 0;
	for (unsigned i = 0; v->queue >= 0 && i < (v->nq ? v->nq : 1); i++) {
		struct vmdq_queue_stats st;
		if (vmdq_queue_stats(vmdq_switch_dev(sw), (unsigned)v->queue + i, &st) == 0)
			m += st.missed;
	}
	return m;
}

static json_t *vif_json(struct vmdq_switch *sw, int vi)
{
	struct sw_vif_info v;
	struct sw_cnt c;
	if (vmdq_switch_vif_info(sw, vi, &v) < 0)
		return json_null();
	vmdq_switch_vif_counters(sw, vi, &c);
	char mac[18];
	vmdq_mac_format(v.mac, mac);
	json_t *e = json_object();
	json_object_set_new(e, "name", json_string(v.port.name));
	json_object_set_new(e, "backend", json_string(v.port.kind));
	json_object_set_new(e, "mac", json_string(mac));
	json_object_set_new(e, "vlan", v.vlan ? json_integer(v.vlan) : json_null());
	json_object_set_new(e, "queue", json_integer(v.queue));
	json_object_set_new(e, "queues", json_integer(v.nq));
	json_object_set_new(e, "worker", json_integer(v.worker));
	json_object_set_new(e, "to_vm", json_integer((json_int_t)c.to_vm));
	json_object_set_new(e, "from_vm", json_integer((json_int_t)c.from_vm));
	json_object_set_new(e, "to_wire", json_integer((json_int_t)c.to_wire));
	json_object_set_new(e, "drops", drops_json(c.drops));
	json_object_set_new(e, "missed", json_integer((json_int_t)vif_missed(sw, &v)));
	/* frames the backend's kernel side dropped before the switch read them */
	json_object_set_new(e, "kernel_drops", v.port.has_kernel_drops
				? json_integer((json_int_t)v.port.kernel_drops) : json_null());
	json_object_set_new(e, "targeted", json_boolean(v.targeted));
	struct port_status st;
	vmdq_switch_vif_status(sw, vi, &st);
	if (st.state) {
		/* the VM's side of a vhost-user vif: connection and guest errors */
		json_t *g = json_object();
		json_object_set_new(g, "state", json_string(st.state));
		json_object_set_new(g, "ring", st.ring ? json_string(st.ring) : json_null());
		for (unsigned i = 0; i < st.n; i++)
			json_object_set_new(g, st.names[i], json_integer((json_int_t)st.vals[i]));
		if (st.migration.shown) {
			/* live migration: the dirty-page log (pages_marked: bits
			 * the switch set that were clear) */
			json_t *mg = json_object();
			json_object_set_new(mg, "logging", json_boolean(st.migration.logging));
			json_object_set_new(mg, "log_size",
					    json_integer((json_int_t)st.migration.log_size));
			json_object_set_new(mg, "pages_marked",
					    json_integer((json_int_t)st.migration.marked));
			json_object_set_new(mg, "pages_beyond_log",
					    json_integer((json_int_t)st.migration.beyond));
			json_object_set_new(g, "migration", mg);
		}
		json_object_set_new(e, "guest", g);
	}
	return e;
}

/* ---- show stats ------------------------------------------------------------ */

json_t *show_stats_json(struct vmdq_switch *sw)
{
	json_t *o = json_object(), *wire = json_object(), *vifs = json_array();
	struct sw_wire_cnt wc;
	vmdq_switch_wire_counters(sw, &wc);
	json_object_set_new(wire, "polled", json_integer((json_int_t)wc.polled));
	json_object_set_new(wire, "delivered", json_integer((json_int_t)wc.delivered));
	json_object_set_new(wire, "flooded", json_integer((json_int_t)wc.flooded));
	json_object_set_new(wire, "drops", drops_json(wc.drops));
	json_object_set_new(o, "wire", wire);
	json_object_set_new(o, "to_wire", json_integer((json_int_t)wc.to_wire));
	/* offloads (SPEC 5): super-frames that entered, segments the switch
	 * made, checksums it completed */
	json_t *off = json_object();
#define OFF_JSON(e, name, what) \
	json_object_set_new(off, name, json_integer((json_int_t)wc.off[SWO_##e]));
	VMDQ_OFF_COUNTER_LIST(OFF_JSON)
#undef OFF_JSON
	json_object_set_new(o, "offload", off);
	json_object_set_new(o, "workers", json_integer(vmdq_switch_nworkers(sw)));
	for (int i = vmdq_switch_vif_next(sw, -1); i >= 0; i = vmdq_switch_vif_next(sw, i))
		json_array_append_new(vifs, vif_json(sw, i));
	json_object_set_new(o, "vifs", vifs);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(vmdq_switch_dev(sw), &ds);
	json_t *dev = json_object(), *dd = json_object();
	json_object_set_new(dev, "frames", json_integer((json_int_t)ds.frames_in));
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++)
		json_object_set_new(dd, vmdq_drop_name((enum vmdq_drop)d),
				    json_integer((json_int_t)ds.drops[d]));
	json_object_set_new(dev, "drops", dd);
	json_object_set_new(o, "device", dev);
	json_object_set_new(o, "uplink", uplink_json(sw));
	/* the FDB: entries, and the learning it refused (DESIGN.md, threat model) */
	struct vmdq_fdb *f = vmdq_switch_fdb(sw);
	struct vmdq_fdb_stats fs;
	vmdq_fdb_get_stats(f, &fs);
	json_t *fdb = json_object(), *fr = json_object();
	json_object_set_new(fdb, "entries", json_integer((json_int_t)vmdq_fdb_count(f)));
	json_object_set_new(fdb, "learned", json_integer((json_int_t)fs.learned));
	json_object_set_new(fdb, "moved", json_integer((json_int_t)fs.moved));
	json_object_set_new(fdb, "aged", json_integer((json_int_t)fs.aged));
	json_object_set_new(fdb, "evicted", json_integer((json_int_t)fs.evicted));
	json_object_set_new(fdb, "max_probe", json_integer((json_int_t)fs.max_probe));
	/* a migrated VM's MAC: left to the wire by its vif, and taken back */
	json_object_set_new(fdb, "yielded", json_integer((json_int_t)fs.yielded));
	json_object_set_new(fdb, "reclaimed", json_integer((json_int_t)fs.reclaimed));
	json_object_set_new(fr, "full", json_integer((json_int_t)fs.refused_full));
	json_object_set_new(fr, "probe", json_integer((json_int_t)fs.refused_probe));
	json_object_set_new(fr, "port_limit", json_integer((json_int_t)fs.refused_port));
	json_object_set_new(fr, "static", json_integer((json_int_t)fs.refused_static));
	json_object_set_new(fdb, "refused", fr);
	json_object_set_new(o, "fdb", fdb);
	return o;
}

static void stats_table(FILE *o, const json_t *s)
{
	const json_t *dev = json_object_get(s, "device"), *dd = json_object_get(dev, "drops");
	const json_t *wire = json_object_get(s, "wire"), *wd = json_object_get(wire, "drops");
	const json_t *up = json_object_get(s, "uplink");
	fprintf(o, "device: %llu frames in", u(dev, "frames"));
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++) {
		const char *name = vmdq_drop_name((enum vmdq_drop)d);
		fprintf(o, ", %s %llu", name, u(dd, name));
	}
	fprintf(o, "\nwire -> VMs: %llu polled, %llu delivered (%llu flooded)",
		u(wire, "polled"), u(wire, "delivered"), u(wire, "flooded"));
	for (unsigned d = 0; d < SWD__COUNT; d++) {
		const char *name = sw_drop_name((enum sw_drop)d);
		if (u(wd, name))
			fprintf(o, ", %s %llu", name, u(wd, name));
	}
	fprintf(o, "\nVMs -> wire: %llu sent\n", u(s, "to_wire"));
	const json_t *off = json_object_get(s, "offload");
	fprintf(o, "offload: %llu super-frames, %llu segments made, %llu checksums completed\n",
		u(off, "gso-super"), u(off, "gso-segments"), u(off, "csum-completed"));
	if (json_is_object(up))
		fprintf(o, "uplink %s: %llu frames in, %llu out, %llu dropped by the "
			"kernel before the switch read them, %llu send errors\n",
			str(up, "name", ""), u(up, "rx_frames"), u(up, "tx_frames"),
			u(up, "kernel_drops"), u(up, "tx_errors"));
}

/* ---- show vifs ------------------------------------------------------------- */

static json_t *vifs_rows(struct vmdq_switch *sw)
{
	json_t *rows = json_array();
	for (int i = vmdq_switch_vif_next(sw, -1); i >= 0; i = vmdq_switch_vif_next(sw, i))
		json_array_append_new(rows, vif_json(sw, i));
	return rows;
}

static void vifs_table(FILE *o, const json_t *rows)
{
	size_t i;
	const json_t *v;
	fprintf(o, "%-12s %-10s %-17s %5s %5s %10s %10s %10s %8s  %s\n", "NAME",
		"BACKEND", "MAC", "VLAN", "QUEUE", "TO_VM", "FROM_VM", "TO_WIRE",
		"DROPS", "GUEST");
	json_array_foreach(rows, i, v) {
		char vl[8] = "-";
		if (json_is_integer(json_object_get(v, "vlan")))
			snprintf(vl, sizeof(vl), "%llu", u(v, "vlan"));
		unsigned long long drops = u(v, "missed");
		const char *key;
		const json_t *n;
		json_object_foreach((json_t *)json_object_get(v, "drops"), key, n)
			drops += (unsigned long long)json_integer_value(n);
		/* while the guest migrates: its log */
		const json_t *mg = json_object_get(json_object_get(v, "guest"), "migration");
		char lg[64] = "";
		if (json_is_true(json_object_get(mg, "logging")))
			snprintf(lg, sizeof(lg), ", logging: %llu pages marked",
				 u(mg, "pages_marked"));
		fprintf(o, "%-12s %-10s %-17s %5s %5d %10llu %10llu %10llu %8llu  %s%s%s\n",
			str(v, "name", ""), str(v, "backend", ""), str(v, "mac", ""), vl,
			(int)json_integer_value(json_object_get(v, "queue")), u(v, "to_vm"),
			u(v, "from_vm"), u(v, "to_wire"), drops,
			str(json_object_get(v, "guest"), "state", "-"),
			json_is_true(json_object_get(v, "targeted")) ? " (targeted)" : "", lg);
	}
}

/* ---- show fdb -------------------------------------------------------------- */

static json_t *fdb_rows(struct vmdq_switch *sw)
{
	struct vmdq_fdb *f = vmdq_switch_fdb(sw);
	size_t n = vmdq_fdb_count(f);
	struct vmdq_fdb_entry *e = calloc(n ? n : 1, sizeof(*e));
	json_t *rows = json_array();
	if (!e)
		return rows;
	n = vmdq_fdb_dump(f, e, n);
	uint64_t now = mono_now_ns();
	for (size_t i = 0; i < n; i++) {
		char mac[18];
		vmdq_mac_format(e[i].mac, mac);
		const char *port = vmdq_switch_port_name(sw, e[i].port);
		if (!port)
			port = e[i].port == 0 ? "uplink" : "-";
		json_t *x = json_object();
		json_object_set_new(x, "mac", json_string(mac));
		json_object_set_new(x, "vlan", json_integer(e[i].vlan));
		json_object_set_new(x, "port", json_string(port));
		json_object_set_new(x, "static", json_boolean(e[i].is_static));
		json_object_set_new(x, "age_s", e[i].is_static ? json_null()
				    : json_real((double)(now - e[i].last_ns) / 1e9));
		json_array_append_new(rows, x);
	}
	free(e);
	return rows;
}

static void fdb_table(FILE *o, const json_t *rows)
{
	size_t i;
	const json_t *x;
	fprintf(o, "%-17s %5s %-12s %-7s %6s\n", "MAC", "VLAN", "PORT", "TYPE", "AGE");
	json_array_foreach(rows, i, x) {
		bool st = json_is_true(json_object_get(x, "static"));
		fprintf(o, "%-17s %5llu %-12s %-7s %6.1f\n", str(x, "mac", ""), u(x, "vlan"),
			str(x, "port", ""), st ? "static" : "learned",
			st ? 0.0 : json_real_value(json_object_get(x, "age_s")));
	}
}

/* ---- show filters ---------------------------------------------------------- */

static json_t *filters_rows(struct vmdq_switch *sw)
{
	static const char *const kinds[] = { "mac", "pair", "vlan" };
	struct vmdq_dev *dev = vmdq_switch_dev(sw);
	size_t cap = vmdq_filter_list(dev, NULL, 0);
	struct vmdq_filter *fl = calloc(cap ? cap : 1, sizeof(*fl));
	json_t *rows = json_array();
	if (!fl)
		return rows;
	size_t n = vmdq_filter_list(dev, fl, cap);
	if (n > cap)
		n = cap; /* added since we counted: shown next time */
	for (size_t i = 0; i < n; i++) {
		char mac[18];
		if (fl[i].kind != VMDQ_FILTER_VLAN)
			vmdq_mac_format(fl[i].mac, mac);
		json_t *x = json_object();
		json_object_set_new(x, "id", json_integer(fl[i].id));
		json_object_set_new(x, "kind", json_string(kinds[fl[i].kind]));
		json_object_set_new(x, "mac", fl[i].kind == VMDQ_FILTER_VLAN
					      ? json_null() : json_string(mac));
		json_object_set_new(x, "vlan", fl[i].kind == VMDQ_FILTER_MAC
					       ? json_null() : json_integer(fl[i].vlan));
		json_object_set_new(x, "queue", json_integer(fl[i].queue));
		json_array_append_new(rows, x);
	}
	free(fl);
	return rows;
}

static void filters_table(FILE *o, const json_t *rows)
{
	size_t i;
	const json_t *x;
	fprintf(o, "%6s %-5s %-17s %5s %5s\n", "ID", "KIND", "MAC", "VLAN", "QUEUE");
	json_array_foreach(rows, i, x) {
		char vl[8] = "-";
		if (json_is_integer(json_object_get(x, "vlan")))
			snprintf(vl, sizeof(vl), "%llu", u(x, "vlan"));
		fprintf(o, "%6llu %-5s %-17s %5s %5llu\n", u(x, "id"), str(x, "kind", ""),
			str(x, "mac", "-"), vl, u(x, "queue"));
	}
}

/* ---- show queues ----------------------------------------------------------- */

static json_t *queues_rows(struct vmdq_switch *sw)
{
	struct vmdq_dev *dev = vmdq_switch_dev(sw);
	struct vmdq_dev_config c;
	vmdq_dev_get_config(dev, &c);
	json_t *rows = json_array();
	for (unsigned q = 0; q < c.queues; q++) {
		struct vmdq_queue_stats st;
		struct vmdq_queue_info qi;
		vmdq_queue_stats(dev, q, &st);
		vmdq_queue_get_info(dev, q, &qi);
		int vi = vmdq_switch_queue_vif(sw, q);
		const char *owner = q == c.default_queue ? "(default)"
				  : vi >= 0 ? vmdq_switch_port_name(sw, (unsigned)vi + 1) : NULL;
		if (!owner)
			owner = "-";
		if (!st.frames && !st.missed && !st.tx_frames && owner[0] == '-')
			continue;
		json_t *x = json_object();
		json_object_set_new(x, "queue", json_integer(q));
		json_object_set_new(x, "owner", owner[0] == '-' ? json_null() : json_string(owner));
		json_object_set_new(x, "frames", json_integer((json_int_t)st.frames));
		json_object_set_new(x, "bytes", json_integer((json_int_t)st.bytes));
		json_object_set_new(x, "missed", json_integer((json_int_t)st.missed));
		json_object_set_new(x, "errors", json_integer((json_int_t)st.errors));
		json_object_set_new(x, "tx_frames", json_integer((json_int_t)st.tx_frames));
		json_object_set_new(x, "weight", json_integer(qi.weight));
		json_object_set_new(x, "itr_us", json_integer(qi.itr_us));
		json_object_set_new(x, "cpu", json_integer(qi.cpu));
		json_object_set_new(x, "rss", json_integer(qi.rss));
		json_array_append_new(rows, x);
	}
	return rows;
}

static void queues_table(FILE *o, const json_t *rows)
{
	size_t i;
	const json_t *x;
	fprintf(o, "%5s %-12s %10s %12s %8s %8s %10s %6s %6s %4s\n", "QUEUE", "OWNER",
		"FRAMES", "BYTES", "MISSED", "ERRORS", "TX_FRAMES", "WEIGHT", "ITR", "CPU");
	json_array_foreach(rows, i, x)
		fprintf(o, "%5llu %-12s %10llu %12llu %8llu %8llu %10llu %6llu %6llu %4llu\n",
			u(x, "queue"), str(x, "owner", "-"), u(x, "frames"), u(x, "bytes"),
			u(x, "missed"), u(x, "errors"), u(x, "tx_frames"), u(x, "weight"),
			u(x, "itr_us"), u(x, "cpu"));
}

/* ---- the table ------------------------------------------------------------- */

static const struct show_cmd show_cmds[] = {
	{ "queues", "", queues_rows, queues_table,
	  "the device's queues in use: owner, counters, weight, ITR, CPU" },
	{ "filters", "", filters_rows, filters_table, "the device's filters" },
	{ "vifs", "", vifs_rows, vifs_table, "the vifs: backend, MAC, VLAN, queue, counters" },
	{ "fdb", "", fdb_rows, fdb_table, "the forwarding database" },
	{ "stats", "", show_stats_json, stats_table, "the switch's counters" },
};
#define NSHOW (sizeof(show_cmds) / sizeof(show_cmds[0]))

const struct show_cmd *show_find(const char *name)
{
	for (size_t i = 0; i < NSHOW; i++)
		if (strcmp(show_cmds[i].name, name) == 0)
			return &show_cmds[i];
	return NULL;
}

const char *show_names(void)
{
	static char names[128];
	if (!names[0]) {
		size_t len = 0;
		for (size_t i = 0; i < NSHOW; i++)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						i == 0 ? "" : i + 1 == NSHOW ? " or " : ", ",
						show_cmds[i].name);
	}
	return names;
}

char *show_run(const struct show_cmd *cmd, struct vmdq_switch *sw, bool json)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *o = open_memstream(&buf, &blen);
	if (!o)
		return NULL;
	json_t *rows = cmd->rows(sw);
	if (json) {
		char *t = json_dumps(rows, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		fprintf(o, "%s\n", t ? t : "null");
		free(t);
	} else {
		cmd->table(o, rows);
	}
	json_decref(rows);
	fclose(o);
	return buf;
}
