/* SPDX-License-Identifier: MIT */
/*
 * vmdq switch: the virtual switch in the foreground (SPEC 2, 3).
 *
 * The config holds device commands and switch lines, applied in order:
 *   uplink NAME KIND ARGS...                 (pcap IN OUT [loop N])
 *   vif NAME KIND ARGS... mac MAC [vlan VID] [queue Q] [queues N]
 *                                            (tap IFNAME [netns NS]; pcap IN OUT)
 *   vif del NAME
 * When every port is a finite source (captures), the switch exits once all
 * of it has been forwarded; otherwise it runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_proto.h"
#include "subcmds.h"
#include "util.h"
#include "vmdq/vmdq.h"
#include "../switch/internal.h" /* until the accessors (switch/query.c) land */

static const char switch_help[] =
	"usage: vmdq switch -c CONFIG [--ctl SOCKET] [-s STATS.json] [--cpu N]\n"
	"\n"
	"Runs the virtual switch in the foreground: an uplink, VMs on vifs, frames\n"
	"sorted by the VMDq device into one queue per vif and handed over in groups,\n"
	"the default queue switched frame by frame through the FDB, VMs' frames to\n"
	"the wire through their own TX queues and the arbiter.  Logs to stderr;\n"
	"SIGTERM or SIGINT stops it, closing every port and removing its TAPs.\n"
	"\n"
	"CONFIG has device commands (see 'man vmdq') and:\n"
	"  uplink NAME afpacket IFNAME\n"
	"  uplink NAME afxdp IFNAME [queue N] [mode auto|native|generic] [copy|zerocopy]\n"
	"      [no-vlan-meta]\n"
	"  uplink NAME pcap IN.pcap OUT.pcap [loop N]\n"
	"  vif NAME tap IFNAME mac MAC [vlan VID] [queue Q] [netns NS]\n"
	"  vif NAME afpacket IFNAME mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME afxdp IFNAME [AF_XDP options] mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME pcap IN.pcap OUT.pcap mac MAC [vlan VID] [queue Q]\n"
	"  vif NAME vhost-user SOCKPATH [targeted on|off] [client] mac MAC [vlan VID]\n"
	"      [queue Q] [queues N]   (a VM's virtio-net; vmdq listens on SOCKPATH,\n"
	"                   or connects to it with 'client'; targeted receive is on\n"
	"                   by default; N virtio queue pairs, 1..4, default 1)\n"
	"  vif del NAME\n"
	"An uplink line may end in 'txrate FPS': the wire takes at most FPS frames\n"
	"per second (a slower wire, to see the arbiter at work); 'uplink txrate FPS'\n"
	"changes it at runtime (0: unlimited).\n"
	"\n"
	"  -c, --config CONFIG    the configuration (required)\n"
	"      --ctl SOCKET       control socket for 'vmdq ctl' (default\n"
	"                         " CTL_DEFAULT_SOCKET ", mode 0600)\n"
	"  -s, --stats FILE       write the switch's counters as JSON on exit\n"
	"      --cpu N            pin the main worker (uplink, sorting, arbiter) to\n"
	"                         CPU N (default: the first CPU it may run on);\n"
	"                         'queue Q cpu N' gives queue Q's vif a worker on N\n"
	"  -h, --help             this text\n"
	"\n"
	"With only capture ports the switch stops when they are exhausted.\n"
	"Exit status: 0 stopped cleanly, 1 a port failed, 2 bad usage or config.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

#define MAX_WORDS 32

struct line {
	unsigned no;
	enum { L_DEV, L_UPLINK, L_UPLINK_RATE, L_VIF, L_VIF_DEL } kind;
	struct vmdq_cmd cmd;
	char *text;               /* owned copy; words point into it */
	char *w[MAX_WORDS];
	int nw;
	/* vif/uplink */
	char *name, *backend;
	char *args[MAX_WORDS];
	int nargs;
	uint8_t mac[6];
	bool has_mac;
	uint16_t vlan;
	int queue;
	unsigned queues;   /* vif: queue pairs (0 = 1) */
	uint64_t txrate;          /* uplink: frames per second, 0 = unlimited */
};

static int split(char *s, char **w, int max)
{
	int n = 0;
	char *hash = strchr(s, '#');
	if (hash)
		*hash = '\0';
	for (char *t = strtok(s, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (n == max)
			return -1;
		w[n++] = t;
	}
	return n;
}

static int num_arg(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || *v < lo || *v > hi ? -1 : 0;
}

/* Parses an uplink/vif line; 0, or -1 with err set. */
static int parse_switch_line(struct line *l, char *err, size_t errlen)
{
	char **w = l->w;
	int n = l->nw;
	if (strcmp(w[0], "uplink") == 0 && n >= 2 && strcmp(w[1], "txrate") == 0) {
		unsigned long v;
		if (n != 3 || num_arg(w[2], 0, 100000000, &v) < 0) {
			snprintf(err, errlen, "uplink txrate: expected frames per second, "
				 "0 (unlimited)..100000000");
			return -1;
		}
		l->kind = L_UPLINK_RATE;
		l->txrate = v;
		return 0;
	}
	if (strcmp(w[0], "uplink") == 0) {
		if (n < 3) {
			snprintf(err, errlen, "uplink: expected 'uplink NAME KIND ARGS...'");
			return -1;
		}
		l->kind = L_UPLINK;
		l->name = w[1];
		l->backend = w[2];
		for (int i = 3; i < n; i++) {
			if (strcmp(w[i], "txrate") == 0) {
				unsigned long v;
				if (num_arg(i + 1 < n ? w[i + 1] : NULL, 1, 100000000, &v) < 0) {
					snprintf(err, errlen, "uplink %s: txrate: expected frames per "
						 "second, 1..100000000", l->name);
					return -1;
				}
				l->txrate = v;
				i++;
				continue;
			}
			l->args[l->nargs++] = w[i];
		}
		return 0;
	}
	if (n >= 2 && strcmp(w[1], "del") == 0) {
		if (n != 3) {
			snprintf(err, errlen, "vif del: expected 'vif del NAME'");
			return -1;
		}
		l->kind = L_VIF_DEL;
		l->name = w[2];
		return 0;
	}
	if (n < 3) {
		snprintf(err, errlen, "vif: expected 'vif NAME KIND ARGS... mac MAC "
			 "[vlan VID] [queue Q] [queues N]'");
		return -1;
	}
	l->kind = L_VIF;
	l->name = w[1];
	l->backend = w[2];
	l->queue = -1;
	for (int i = 3; i < n; i++) {
		unsigned long v;
		if (strcmp(w[i], "mac") == 0 && i + 1 < n) {
			if (vmdq_mac_parse(w[i + 1], l->mac) < 0 || (l->mac[0] & 1) ||
			    !(l->mac[0] | l->mac[1] | l->mac[2] | l->mac[3] | l->mac[4] | l->mac[5])) {
				snprintf(err, errlen, "vif %s: mac: '%s' is not a unicast MAC",
					 l->name, w[i + 1]);
				return -1;
			}
			l->has_mac = true;
			i++;
		} else if (strcmp(w[i], "vlan") == 0 && i + 1 < n) {
			if (num_arg(w[i + 1], 1, 4094, &v) < 0) {
				snprintf(err, errlen, "vif %s: vlan: '%s' is not in 1..4094",
					 l->name, w[i + 1]);
				return -1;
			}
			l->vlan = (uint16_t)v;
			i++;
		} else if (strcmp(w[i], "queue") == 0 && i + 1 < n) {
			if (num_arg(w[i + 1], 0, VMDQ_MAX_QUEUES - 1, &v) < 0) {
				snprintf(err, errlen, "vif %s: queue: '%s' is not a queue number",
					 l->name, w[i + 1]);
				return -1;
			}
			l->queue = (int)v;
			i++;
		} else if (strcmp(w[i], "queues") == 0 && i + 1 < n) {
			if (num_arg(w[i + 1], 1, SW_MAX_QP, &v) < 0) {
				snprintf(err, errlen, "vif %s: queues: '%s' is not in 1..%d",
					 l->name, w[i + 1], SW_MAX_QP);
				return -1;
			}
			l->queues = (unsigned)v;
			i++;
		} else {
			l->args[l->nargs++] = w[i];
		}
	}
	if (!l->has_mac) {
		snprintf(err, errlen, "vif %s: missing 'mac MAC'", l->name);
		return -1;
	}
	return 0;
}

static struct sw_vif_spec vif_spec(struct line *l)
{
	struct sw_vif_spec s = { .name = l->name, .kind = l->backend, .args = l->args,
				 .nargs = l->nargs, .vlan = l->vlan, .queue = l->queue,
				 .queues = l->queues };
	memcpy(s.mac, l->mac, 6);
	return s;
}

static void free_lines(struct line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		vmdq_cmd_clear(&v[i].cmd);
		free(v[i].text);
	}
	free(v);
}

static int load(const char *path, struct line **out, size_t *nout)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmdq: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct line *v = NULL;
	size_t n = 0, cap = 0;
	char *buf = NULL;
	size_t bcap = 0;
	ssize_t got;
	unsigned no = 0;
	char err[VMDQ_ERRMSG_MAX];
	int rc = 0;
	while (rc == 0 && (got = getline(&buf, &bcap, f)) >= 0) {
		no++;
		if (strlen(buf) != (size_t)got) {
			fprintf(stderr, "%s:%u: unexpected NUL character\n", path, no);
			rc = -1;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			struct line *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = -1;
				break;
			}
			v = nv;
		}
		struct line *l = &v[n];
		memset(l, 0, sizeof(*l));
		l->no = no;
		l->text = strdup(buf);
		int nw = l->text ? split(l->text, l->w, MAX_WORDS) : -1;
		if (nw < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, no,
				l->text ? "too many words" : "out of memory");
			free(l->text);
			rc = -1;
			break;
		}
		if (nw == 0) {
			free(l->text);
			continue;
		}
		l->nw = nw;
		if (strcmp(l->w[0], "uplink") == 0 || strcmp(l->w[0], "vif") == 0) {
			if (parse_switch_line(l, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s:%u: %s\n", path, no, err);
				free(l->text);
				rc = -1;
				break;
			}
		} else {
			l->kind = L_DEV;
			if (vmdq_cmd_parse(buf, &l->cmd, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s:%u: %s\n", path, no, err);
				free(l->text);
				rc = -1;
				break;
			}
			if (l->cmd.kind == VMDQ_CMD_AT) {
				fprintf(stderr, "%s:%u: at: only vmdq sort runs a schedule\n", path, no);
				vmdq_cmd_clear(&l->cmd);
				free(l->text);
				rc = -1;
				break;
			}
		}
		n++;
	}
	free(buf);
	fclose(f);
	if (rc < 0) {
		free_lines(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

static json_t *drops_json(const uint64_t *d)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < SWD__COUNT; i++)
		json_object_set_new(o, sw_drop_name((enum sw_drop)i), json_integer((json_int_t)d[i]));
	return o;
}

/* Every port a capture: then the run ends when they are exhausted.  A
 * switch started with no port at all waits for vifs from `vmdq ctl`. */
static bool all_finite(struct vmdq_switch *sw)
{
	bool any = sw->has_uplink;
	any |= sw->nvifs > 0;
	if (!any)
		return false;
	if (sw->has_uplink && !sw->uplink.ops->done)
		return false;
	for (unsigned i = 0; i < sw->nvifs; i++)
		if (!sw->live[i]->port.ops->done)
			return false;
	return true;
}

/* The CPUs the switch may run on (its affinity when it started). */
static cpu_set_t allowed_cpus;

/* `queue Q cpu N` names a CPU a worker can be pinned to: checked before
 * the command changes anything. */
static int check_cpu(const struct vmdq_cmd *c, char *err, size_t errlen)
{
	if (c->kind != VMDQ_CMD_QUEUE_CPU)
		return 0;
	if (c->value < CPU_SETSIZE && CPU_ISSET(c->value, &allowed_cpus))
		return 0;
	snprintf(err, errlen, "queue %u cpu %u: the switch cannot run on CPU %u", c->num,
		 c->value, c->value);
	return -EINVAL;
}

static int apply(struct vmdq_switch *sw, const char *path, struct line *l)
{
	char err[VMDQ_ERRMSG_MAX];
	int rc = 0;
	switch (l->kind) {
	case L_DEV:
		rc = check_cpu(&l->cmd, err, sizeof(err));
		if (rc == 0)
			rc = vmdq_cmd_apply(sw->dev, &l->cmd, NULL, 0, err, sizeof(err));
		break;
	case L_UPLINK:
		rc = vmdq_switch_set_uplink(sw, l->name, l->backend, l->args, l->nargs, err,
					    sizeof(err));
		if (rc == 0)
			sw->tx_rate = l->txrate;
		break;
	case L_UPLINK_RATE:
		sw->tx_rate = l->txrate;
		break;
	case L_VIF: {
		struct sw_vif_spec s = vif_spec(l);
		rc = vmdq_switch_vif_add(sw, &s, err, sizeof(err));
		break;
	}
	case L_VIF_DEL:
		rc = vmdq_switch_vif_del(sw, l->name, err, sizeof(err));
		break;
	}
	if (rc < 0) {
		fprintf(stderr, "%s:%u: %s\n", path, l->no, err);
		return -1;
	}
	return 0;
}

/* ---- the control thread and its requests -------------------------------
 *
 * The control thread owns the socket.  Device commands (device, filter,
 * queue) it applies itself: the device publishes changes without locks on
 * the data path.  Everything that touches switch state (vifs, FDB, switch
 * counters) it hands to the worker as a request, which the worker carries
 * out between two polls; the control thread waits for the answer.
 *
 * The control thread never blocks on a client (SPEC 4): every socket is
 * non-blocking and one poll() serves them all.  A client holds one slot of
 * CTL_MAX_CLIENTS; its request line is read into the slot as it arrives
 * (CTL_MAX_REQUEST bytes at most, complete within CTL_TIMEOUT_MS of the
 * connection), the request runs once the line is complete, and its reply
 * (one command's output, made in full by the worker) waits in the slot
 * until the client has taken it, CTL_TIMEOUT_MS at most; then the slot is
 * freed.  A newcomer finding every slot taken closes the client idle
 * longest, so clients that hold connections cannot lock others out.  The
 * thread wakes for the stop request whatever the clients do.
 */

struct ctl_req {
	struct line l;
	bool json;
	bool show;
	bool remap;        /* a queue's CPU changed: move vifs between workers */
	char what[16];
	char *out;         /* the reply body, malloc'd by the worker */
	int rc;
	char err[VMDQ_ERRMSG_MAX];
	bool done;
};

struct ctl_client {
	int fd;               /* -1: the slot is free */
	bool replying;        /* the request ran; out waits to be sent */
	size_t inlen;
	char in[CTL_MAX_REQUEST + 1];
	char *out;            /* status line and body, malloc'd */
	size_t outlen, outoff;
	uint64_t deadline_ns; /* the line complete, then the reply taken, by then */
	uint64_t active_ns;   /* last byte moved: who goes first when full */
};

struct ctl {
	const char *path;
	const char *cfg_path;
	int lfd;           /* listening socket */
	int stop_fd;       /* eventfd: tells the control thread to finish */
	int wake_fd;       /* eventfd: tells the worker a request waits */
	pthread_t thread;
	bool running;
	struct vmdq_switch *sw;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctl_req *pending;
	_Atomic bool has_pending;
	struct ctl_client cl[CTL_MAX_CLIENTS];
};

static json_t *uplink_json(struct vmdq_switch *sw)
{
	if (!sw->has_uplink)
		return json_null();
	struct port *u = &sw->uplink;
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(u->name));
	json_object_set_new(o, "backend", json_string(u->ops->kind));
	json_object_set_new(o, "rx_frames", json_integer((json_int_t)u->rx_frames));
	json_object_set_new(o, "tx_frames", json_integer((json_int_t)u->tx_frames));
	json_object_set_new(o, "kernel_drops", u->ops->drops
				? json_integer((json_int_t)u->ops->drops(u)) : json_null());
	json_object_set_new(o, "tx_errors", json_integer((json_int_t)u->tx_errors));
	return o;
}

/* Frames the device dropped on a vif's queues for want of a buffer: for a
 * targeted vhost-user vif, the guest had posted none (or it is broken). */
static uint64_t vif_missed(const struct vmdq_switch *sw, const struct sw_vif *v)
{
	uint64_t m = 0;
	for (unsigned i = 0; v->queue >= 0 && i < (v->nq ? v->nq : 1); i++) {
		struct vmdq_queue_stats st;
		if (vmdq_queue_stats(sw->dev, (unsigned)v->queue + i, &st) == 0)
			m += st.missed;
	}
	return m;
}

static json_t *vif_json(const struct vmdq_switch *sw, const struct sw_vif *v)
{
	struct sw_cnt c;
	vmdq_switch_vif_counters(sw, v->idx, &c);
	char mac[18];
	vmdq_mac_format(v->mac, mac);
	json_t *e = json_object();
	json_object_set_new(e, "name", json_string(v->port.name));
	json_object_set_new(e, "backend", json_string(v->port.ops->kind));
	json_object_set_new(e, "mac", json_string(mac));
	json_object_set_new(e, "vlan", v->vlan ? json_integer(v->vlan) : json_null());
	json_object_set_new(e, "queue", json_integer(v->queue));
	json_object_set_new(e, "queues", json_integer(v->nq));
	json_object_set_new(e, "worker", json_integer(v->worker));
	json_object_set_new(e, "to_vm", json_integer((json_int_t)c.to_vm));
	json_object_set_new(e, "from_vm", json_integer((json_int_t)c.from_vm));
	json_object_set_new(e, "to_wire", json_integer((json_int_t)c.to_wire));
	json_object_set_new(e, "drops", drops_json(c.drops));
	json_object_set_new(e, "missed", json_integer((json_int_t)vif_missed(sw, v)));
	/* frames the backend's kernel side dropped before the switch read them */
	struct port *p = (struct port *)&v->port;
	json_object_set_new(e, "kernel_drops",
			    p->ops->drops ? json_integer((json_int_t)p->ops->drops(p)) : json_null());
	json_object_set_new(e, "targeted", json_boolean(v->targeted));
	if (p->ops->state) {
		/* the VM's side of a vhost-user vif: connection and guest errors */
		const char *const *names;
		const uint64_t *vals;
		unsigned n;
		const char *st = p->ops->state(p, &names, &vals, &n);
		json_t *g = json_object();
		json_object_set_new(g, "state", json_string(st));
		const char *ring = p->ops->ring ? p->ops->ring(p) : NULL;
		json_object_set_new(g, "ring", ring ? json_string(ring) : json_null());
		for (unsigned i = 0; i < n; i++)
			json_object_set_new(g, names[i], json_integer((json_int_t)vals[i]));
		json_object_set_new(e, "guest", g);
	}
	return e;
}

/* The switch's counters: the `show stats` JSON and the -s file alike. */
static json_t *stats_json(struct vmdq_switch *sw)
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
	json_object_set_new(o, "workers", json_integer(sw->nworkers));
	for (unsigned i = 0; i < sw->vif_cap; i++)
		if (sw->vif[i])
			json_array_append_new(vifs, vif_json(sw, sw->vif[i]));
	json_object_set_new(o, "vifs", vifs);
	struct vmdq_dev_stats ds;
	vmdq_dev_stats(sw->dev, &ds);
	json_t *dev = json_object(), *dd = json_object();
	json_object_set_new(dev, "frames", json_integer((json_int_t)ds.frames_in));
	for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++)
		json_object_set_new(dd, vmdq_drop_name((enum vmdq_drop)d),
				    json_integer((json_int_t)ds.drops[d]));
	json_object_set_new(dev, "drops", dd);
	json_object_set_new(o, "device", dev);
	json_object_set_new(o, "uplink", uplink_json(sw));
	/* the FDB: entries, and the learning it refused (DESIGN.md, threat model) */
	struct vmdq_fdb_stats fs;
	vmdq_fdb_get_stats(sw->fdb, &fs);
	json_t *fdb = json_object(), *fr = json_object();
	json_object_set_new(fdb, "entries", json_integer((json_int_t)vmdq_fdb_count(sw->fdb)));
	json_object_set_new(fdb, "learned", json_integer((json_int_t)fs.learned));
	json_object_set_new(fdb, "moved", json_integer((json_int_t)fs.moved));
	json_object_set_new(fdb, "aged", json_integer((json_int_t)fs.aged));
	json_object_set_new(fdb, "evicted", json_integer((json_int_t)fs.evicted));
	json_object_set_new(fdb, "max_probe", json_integer((json_int_t)fs.max_probe));
	json_object_set_new(fr, "full", json_integer((json_int_t)fs.refused_full));
	json_object_set_new(fr, "probe", json_integer((json_int_t)fs.refused_probe));
	json_object_set_new(fr, "port_limit", json_integer((json_int_t)fs.refused_port));
	json_object_set_new(fr, "static", json_integer((json_int_t)fs.refused_static));
	json_object_set_new(fdb, "refused", fr);
	json_object_set_new(o, "fdb", fdb);
	return o;
}

static int write_stats(const char *path, struct vmdq_switch *sw)
{
	json_t *o = stats_json(sw);
	int rc = json_dump_file(o, path, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(o);
	return rc;
}

static uint64_t sum(const uint64_t *v, unsigned n)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += v[i];
	return t;
}

/* Runs a show command in the worker: output as a table or JSON. */
static void worker_show(struct vmdq_switch *sw, struct ctl_req *r)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *o = open_memstream(&buf, &blen);
	json_t *js = NULL;
	if (strcmp(r->what, "vifs") == 0) {
		js = json_array();
		if (!r->json)
			fprintf(o, "%-12s %-10s %-17s %5s %5s %10s %10s %10s %8s  %s\n", "NAME",
				"BACKEND", "MAC", "VLAN", "QUEUE", "TO_VM", "FROM_VM", "TO_WIRE",
				"DROPS", "GUEST");
		for (int i = 0; i < (int)sw->vif_cap; i++) {
			const struct sw_vif *v = sw->vif[i];
			if (!v)
				continue;
			json_array_append_new(js, vif_json(sw, v));
			struct sw_cnt c;
			vmdq_switch_vif_counters(sw, i, &c);
			char mac[18], vl[8] = "-";
			vmdq_mac_format(v->mac, mac);
			if (v->vlan)
				snprintf(vl, sizeof(vl), "%u", v->vlan);
			const char *st = "-";
			if (v->port.ops->state) {
				const char *const *nm;
				const uint64_t *vals;
				unsigned nn;
				st = v->port.ops->state((struct port *)&v->port, &nm, &vals, &nn);
			}
			if (!r->json)
				fprintf(o, "%-12s %-10s %-17s %5s %5d %10llu %10llu %10llu %8llu  %s%s\n",
					v->port.name, v->port.ops->kind, mac, vl, v->queue,
					(unsigned long long)c.to_vm, (unsigned long long)c.from_vm,
					(unsigned long long)c.to_wire,
					(unsigned long long)(sum(c.drops, SWD__COUNT) +
							     vif_missed(sw, v)), st,
					v->targeted ? " (targeted)" : "");
		}
	} else if (strcmp(r->what, "fdb") == 0) {
		size_t n = vmdq_fdb_count(sw->fdb);
		struct vmdq_fdb_entry *e = calloc(n ? n : 1, sizeof(*e));
		n = vmdq_fdb_dump(sw->fdb, e, n);
		js = json_array();
		uint64_t now = mono_now_ns();
		if (!r->json)
			fprintf(o, "%-17s %5s %-12s %-7s %6s\n", "MAC", "VLAN", "PORT", "TYPE", "AGE");
		for (size_t i = 0; i < n; i++) {
			char mac[18];
			vmdq_mac_format(e[i].mac, mac);
			const char *port = e[i].port == 0 ? (sw->has_uplink ? sw->uplink.name : "uplink")
					 : sw->vif[e[i].port - 1]->port.name;
			double age = e[i].is_static ? 0 : (double)(now - e[i].last_ns) / 1e9;
			json_t *x = json_object();
			json_object_set_new(x, "mac", json_string(mac));
			json_object_set_new(x, "vlan", json_integer(e[i].vlan));
			json_object_set_new(x, "port", json_string(port));
			json_object_set_new(x, "static", json_boolean(e[i].is_static));
			json_object_set_new(x, "age_s", e[i].is_static ? json_null() : json_real(age));
			json_array_append_new(js, x);
			if (!r->json)
				fprintf(o, "%-17s %5u %-12s %-7s %6.1f\n", mac, e[i].vlan, port,
					e[i].is_static ? "static" : "learned", age);
		}
		free(e);
	} else if (strcmp(r->what, "stats") == 0) {
		js = stats_json(sw);
		struct sw_wire_cnt wc;
		vmdq_switch_wire_counters(sw, &wc);
		struct vmdq_dev_stats ds;
		vmdq_dev_stats(sw->dev, &ds);
		if (!r->json) {
			fprintf(o, "device: %llu frames in", (unsigned long long)ds.frames_in);
			for (unsigned d = VMDQ_DROP_FILTERED; d < VMDQ_DROP__COUNT; d++)
				fprintf(o, ", %s %llu", vmdq_drop_name((enum vmdq_drop)d),
					(unsigned long long)ds.drops[d]);
			fprintf(o, "\nwire -> VMs: %llu polled, %llu delivered (%llu flooded)",
				(unsigned long long)wc.polled,
				(unsigned long long)wc.delivered,
				(unsigned long long)wc.flooded);
			for (unsigned d = 0; d < SWD__COUNT; d++)
				if (wc.drops[d])
					fprintf(o, ", %s %llu", sw_drop_name((enum sw_drop)d),
						(unsigned long long)wc.drops[d]);
			fprintf(o, "\nVMs -> wire: %llu sent\n", (unsigned long long)wc.to_wire);
			if (sw->has_uplink)
				fprintf(o, "uplink %s: %llu frames in, %llu out, %llu dropped by the "
					"kernel before the switch read them, %llu send errors\n",
					sw->uplink.name, (unsigned long long)sw->uplink.rx_frames,
					(unsigned long long)sw->uplink.tx_frames,
					(unsigned long long)(sw->uplink.ops->drops
						? sw->uplink.ops->drops(&sw->uplink) : 0),
					(unsigned long long)sw->uplink.tx_errors);
		}
	} else if (strcmp(r->what, "filters") == 0) {
		size_t cap = vmdq_filter_list(sw->dev, NULL, 0);
		struct vmdq_filter *fl = calloc(cap ? cap : 1, sizeof(*fl));
		size_t n = vmdq_filter_list(sw->dev, fl, cap);
		if (n > cap)
			n = cap; /* added since we counted: shown next time */
		js = json_array();
		if (!r->json)
			fprintf(o, "%6s %-5s %-17s %5s %5s\n", "ID", "KIND", "MAC", "VLAN", "QUEUE");
		for (size_t i = 0; i < n; i++) {
			static const char *const kinds[] = { "mac", "pair", "vlan" };
			char mac[18] = "-";
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
			json_array_append_new(js, x);
			if (!r->json) {
				char vl[8] = "-";
				if (fl[i].kind != VMDQ_FILTER_MAC)
					snprintf(vl, sizeof(vl), "%u", fl[i].vlan);
				fprintf(o, "%6u %-5s %-17s %5s %5u\n", fl[i].id,
					kinds[fl[i].kind], mac, vl, fl[i].queue);
			}
		}
		free(fl);
	} else { /* queues */
		struct vmdq_dev_config c;
		vmdq_dev_get_config(sw->dev, &c);
		js = json_array();
		if (!r->json)
			fprintf(o, "%5s %-12s %10s %12s %8s %8s %10s %6s %6s %4s\n", "QUEUE", "OWNER",
				"FRAMES", "BYTES", "MISSED", "ERRORS", "TX_FRAMES", "WEIGHT", "ITR",
				"CPU");
		for (unsigned q = 0; q < c.queues; q++) {
			struct vmdq_queue_stats st;
			struct vmdq_queue_info qi;
			vmdq_queue_stats(sw->dev, q, &st);
			vmdq_queue_get_info(sw->dev, q, &qi);
			const char *owner = q == c.default_queue ? "(default)"
					  : sw->queue_vif[q] >= 0 ? sw->vif[sw->queue_vif[q]]->port.name
					  : "-";
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
			json_array_append_new(js, x);
			if (!r->json)
				fprintf(o, "%5u %-12s %10llu %12llu %8llu %8llu %10llu %6u %6u %4u\n", q,
					owner, (unsigned long long)st.frames, (unsigned long long)st.bytes,
					(unsigned long long)st.missed, (unsigned long long)st.errors,
					(unsigned long long)st.tx_frames, qi.weight, qi.itr_us, qi.cpu);
		}
	}
	if (r->json) {
		char *t = json_dumps(js, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		fprintf(o, "%s\n", t ? t : "null");
		free(t);
	}
	json_decref(js);
	fclose(o);
	r->out = buf;
	r->rc = 0;
}

/* The worker's side: carry out the waiting request, if any. */
static void worker_serve(struct ctl *c)
{
	if (!atomic_load_explicit(&c->has_pending, memory_order_acquire))
		return;
	uint64_t v;
	if (read(c->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already read */
	}
	pthread_mutex_lock(&c->mu);
	struct ctl_req *r = c->pending;
	c->pending = NULL;
	atomic_store(&c->has_pending, false);
	pthread_mutex_unlock(&c->mu);
	if (!r)
		return;
	/* the other workers stop between two rounds while the request runs */
	vmdq_switch_park(c->sw);
	if (r->show) {
		worker_show(c->sw, r);
	} else if (r->remap) {
		r->rc = vmdq_switch_remap(c->sw, r->err, sizeof(r->err));
	} else {
		struct line *l = &r->l;
		if (l->kind == L_VIF) {
			struct sw_vif_spec sp = vif_spec(l);
			r->rc = vmdq_switch_vif_add(c->sw, &sp, r->err, sizeof(r->err));
			if (r->rc >= 0)
				r->rc = 0;
		} else if (l->kind == L_UPLINK_RATE) {
			c->sw->tx_rate = l->txrate;
			r->rc = 0;
		} else if (l->kind == L_VIF_DEL) {
			r->rc = vmdq_switch_vif_del(c->sw, l->name, r->err, sizeof(r->err));
		} else {
			r->rc = vmdq_switch_set_uplink(c->sw, l->name, l->backend, l->args,
						       l->nargs, r->err, sizeof(r->err));
			if (r->rc == 0)
				c->sw->tx_rate = l->txrate;
		}
	}
	vmdq_switch_unpark(c->sw);
	pthread_mutex_lock(&c->mu);
	r->done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void to_worker(struct ctl *c, struct ctl_req *r)
{
	pthread_mutex_lock(&c->mu);
	while (c->pending) /* one at a time */
		pthread_cond_wait(&c->cv, &c->mu);
	c->pending = r;
	atomic_store_explicit(&c->has_pending, true, memory_order_release);
	uint64_t one = 1;
	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the worker is due to look anyway */
	}
	while (!r->done)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

/* After `queue Q cpu N`: the worker moves the queue's vif to its worker. */
static int remap(struct ctl *c, struct ctl_req *r)
{
	r->remap = true;
	to_worker(c, r);
	return r->rc;
}

/* The reply: kept in the client's slot until the client has taken it. */
static void reply(struct ctl_client *k, const char *status, const char *body)
{
	size_t sl = strlen(status), bl = body ? strlen(body) : 0;
	free(k->out);
	k->out = malloc(sl + 1 + bl);
	if (!k->out) {
		static const char oom[] = "error: out of memory\n";
		k->out = strdup(oom);
		k->outlen = k->out ? strlen(oom) : 0;
	} else {
		memcpy(k->out, status, sl);
		k->out[sl] = '\n';
		if (bl)
			memcpy(k->out + sl + 1, body, bl);
		k->outlen = sl + 1 + bl;
	}
	k->outoff = 0;
	k->replying = true;
	k->deadline_ns = mono_now_ns() + CTL_TIMEOUT_MS * 1000000ull;
}

/* One request line (NUL-terminated in buf, newline gone): run it and put
 * the reply in the client's slot. */
static void serve_one(struct ctl *c, struct ctl_client *k, char *buf, size_t len)
{
	if (strlen(buf) != len) {
		reply(k, "error: unexpected NUL character", NULL);
		return;
	}
	struct ctl_req *r = calloc(1, sizeof(*r));
	if (!r) {
		reply(k, "error: out of memory", NULL);
		return;
	}
	char *cmd = buf;
	if (strncmp(cmd, "-j ", 3) == 0) {
		r->json = true;
		cmd += 3;
	}
	char *w[MAX_WORDS];
	char *copy = strdup(cmd);
	int nw = copy ? split(copy, w, MAX_WORDS) : -1;
	char status[VMDQ_ERRMSG_MAX + 16];
	if (nw < 0) {
		reply(k, "error: too many words", NULL);
	} else if (nw == 0) {
		reply(k, "error: empty command", NULL);
	} else if (strcmp(w[0], "show") == 0) {
		static const char *const whats[] = { "queues", "filters", "vifs", "fdb", "stats" };
		bool known = false;
		for (size_t i = 0; i < 5; i++)
			known |= nw == 2 && strcmp(w[1], whats[i]) == 0;
		if (!known) {
			reply(k, "error: show: expected queues, filters, vifs, fdb or stats", NULL);
		} else {
			r->show = true;
			snprintf(r->what, sizeof(r->what), "%s", w[1]);
			to_worker(c, r);
			reply(k, "ok", r->out);
			free(r->out);
		}
	} else if (strcmp(w[0], "vif") == 0 || strcmp(w[0], "uplink") == 0) {
		r->l.text = strdup(cmd);
		r->l.nw = split(r->l.text, r->l.w, MAX_WORDS);
		if (parse_switch_line(&r->l, r->err, sizeof(r->err)) < 0) {
			snprintf(status, sizeof(status), "error: %s", r->err);
			reply(k, status, NULL);
		} else {
			to_worker(c, r);
			if (r->rc < 0) {
				snprintf(status, sizeof(status), "error: %s", r->err);
				reply(k, status, NULL);
			} else {
				reply(k, "ok", NULL);
			}
		}
		free(r->l.text);
	} else {
		struct vmdq_cmd vc;
		char out[64];
		if (vmdq_cmd_parse(cmd, &vc, r->err, sizeof(r->err)) < 0) {
			snprintf(status, sizeof(status), "error: %s", r->err);
			reply(k, status, NULL);
		} else if (vc.kind == VMDQ_CMD_AT) {
			reply(k, "error: at: only vmdq sort runs a schedule", NULL);
		} else if (check_cpu(&vc, r->err, sizeof(r->err)) < 0 ||
			   vmdq_cmd_apply(c->sw->dev, &vc, out, sizeof(out), r->err,
					  sizeof(r->err)) < 0) {
			snprintf(status, sizeof(status), "error: %s", r->err);
			reply(k, status, NULL);
		} else if (vc.kind == VMDQ_CMD_QUEUE_CPU && remap(c, r) < 0) {
			snprintf(status, sizeof(status), "error: %s", r->err);
			reply(k, status, NULL);
		} else {
			if (out[0])
				strcat(out, "\n");
			reply(k, "ok", out);
		}
		vmdq_cmd_clear(&vc);
	}
	free(copy);
	free(r);
}

static void client_close(struct ctl_client *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->out);
	k->fd = -1;
	k->out = NULL;
	k->outlen = k->outoff = k->inlen = 0;
	k->replying = false;
}

/* Sends as much of the reply as the client's socket takes now; the slot is
 * freed once all of it is sent, or the client has gone. */
static void client_send(struct ctl_client *k, uint64_t now)
{
	while (k->outoff < k->outlen) {
		ssize_t n = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* the rest when poll says there is room */
		if (n <= 0)
			break;  /* the client went away */
		k->outoff += (size_t)n;
		k->active_ns = now;
	}
	client_close(k);
}

/* One read of what the client sent (one per round: clients take turns);
 * the request runs once its line is complete. */
static void client_recv(struct ctl *c, struct ctl_client *k, uint64_t now)
{
	ssize_t n = recv(k->fd, k->in + k->inlen, CTL_MAX_REQUEST - k->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		client_close(k);
		return;
	}
	if (n > 0) {
		char *nl = memchr(k->in + k->inlen, '\n', (size_t)n);
		k->inlen += (size_t)n;
		k->active_ns = now;
		if (nl) {
			*nl = '\0';
			serve_one(c, k, k->in, (size_t)(nl - k->in));
		} else if (k->inlen < CTL_MAX_REQUEST) {
			return; /* more to come */
		} else {
			reply(k, "error: request too long", NULL);
		}
	} else {
		/* garbage, or a client that went away mid-line */
		reply(k, "error: incomplete request", NULL);
	}
	client_send(k, now);
}

/* New connections, CTL_MAX_CLIENTS at most per round.  With every slot
 * taken, the client idle longest makes room. */
static void ctl_accept(struct ctl *c, uint64_t now)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ctl_client *k = NULL, *idle = NULL;
		for (int j = 0; j < CTL_MAX_CLIENTS && !k; j++) {
			struct ctl_client *x = &c->cl[j];
			if (x->fd < 0)
				k = x;
			else if (!idle || x->active_ns < idle->active_ns)
				idle = x;
		}
		if (!k) {
			static const char full[] = "error: too many control connections ("
						   CTL_STR(CTL_MAX_CLIENTS) " at most): the one "
						   "idle longest is closed\n";
			if (!idle->replying &&
			    send(idle->fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				/* it is closed all the same */
			}
			client_close(idle);
			k = idle;
		}
		k->fd = fd;
		k->active_ns = now;
		k->deadline_ns = now + CTL_TIMEOUT_MS * 1000000ull;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    (cred.uid != 0 && cred.uid != getuid())) {
			reply(k, "error: permission denied (the control socket is root's)", NULL);
			client_send(k, now);
		}
	}
}

static void *ctl_main(void *arg)
{
	struct ctl *c = arg;
	struct pollfd p[2 + CTL_MAX_CLIENTS];
	int who[CTL_MAX_CLIENTS];
	for (;;) {
		uint64_t now = mono_now_ns(), next = UINT64_MAX;
		int n = 2;
		p[0] = (struct pollfd){ .fd = c->stop_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			struct ctl_client *k = &c->cl[i];
			if (k->fd >= 0 && now >= k->deadline_ns) {
				if (k->replying) {
					client_close(k); /* it did not take its reply in time */
				} else {
					reply(k, "error: request not finished within "
						 CTL_STR(CTL_TIMEOUT_S) " s", NULL);
					client_send(k, now);
				}
			}
			if (k->fd < 0)
				continue;
			if (k->deadline_ns < next)
				next = k->deadline_ns;
			who[n - 2] = i;
			p[n++] = (struct pollfd){ .fd = k->fd,
						  .events = k->replying ? POLLOUT : POLLIN };
		}
		int timeout = next == UINT64_MAX ? -1
			    : (int)((next - now + 999999) / 1000000);
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		now = mono_now_ns();
		for (int i = 2; i < n; i++) {
			struct ctl_client *k = &c->cl[who[i - 2]];
			if (!p[i].revents || k->fd != p[i].fd)
				continue;
			if (k->replying)
				client_send(k, now);
			else
				client_recv(c, k, now);
		}
		if (p[1].revents)
			ctl_accept(c, now);
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(&c->cl[i]);
	return NULL;
}

/* Binds the socket (refusing to steal one a live switch listens on). */
static int ctl_start(struct ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", c->path);
		return -1;
	}
	strcpy(sa.sun_path, c->path);
	if (strcmp(c->path, CTL_DEFAULT_SOCKET) == 0)
		mkdir("/run/vmdq", 0755);
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "%s: another switch is listening there", c->path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(c->path); /* a stale socket from a switch that died */
	/* non-blocking: the control thread accepts until there is nobody left */
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0177); /* the socket is born 0600 */
	int rc = c->lfd < 0 ? -1 : bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(c->lfd, 16) < 0 || chmod(c->path, 0600) < 0) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (c->stop_fd < 0 || c->wake_fd < 0 ||
	    pthread_create(&c->thread, NULL, ctl_main, c) != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		return -1;
	}
	c->running = true;
	return 0;
}

static void ctl_stop(struct ctl *c)
{
	if (c->running) {
		uint64_t one = 1;
		if (write(c->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot happen on a fresh eventfd */
		}
		/* a request in flight must still get its answer */
		while (pthread_tryjoin_np(c->thread, NULL) != 0) {
			worker_serve(c);
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		c->running = false;
	}
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
}

int cmd_switch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", required_argument, NULL, 's' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "cpu", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpath = NULL, *spath = NULL, *ctl_path = CTL_DEFAULT_SOCKET;
	int o, main_cpu = -1;
	char *end;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cpath = optarg; break;
		case 's': spath = optarg; break;
		case 'C': ctl_path = optarg; break;
		case 'P':
			main_cpu = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || main_cpu < 0 || main_cpu >= CPU_SETSIZE) {
				fprintf(stderr, "vmdq switch: --cpu: '%s' is not a CPU number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(switch_help, stdout); return 0;
		default: fputs(switch_help, stderr); return EXIT_USAGE;
		}
	}
	if (!cpath || optind != argc) {
		fprintf(stderr, "vmdq switch: -c CONFIG is required\n");
		fputs(switch_help, stderr);
		return EXIT_USAGE;
	}
	struct line *lines;
	size_t nlines;
	if (load(cpath, &lines, &nlines) < 0)
		return EXIT_USAGE;

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 0;
	struct ctl ctl = { .lfd = -1, .stop_fd = -1, .wake_fd = -1 };
	vmdq_thread_online();
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = dev ? vmdq_switch_create(dev) : NULL;
	if (!sw) {
		fprintf(stderr, "vmdq: out of memory\n");
		status = 1;
		goto out;
	}
	/* the main worker is pinned: to --cpu, or the first CPU it may use */
	sched_getaffinity(0, sizeof(allowed_cpus), &allowed_cpus);
	if (main_cpu < 0)
		for (int i = 0; i < CPU_SETSIZE && main_cpu < 0; i++)
			if (CPU_ISSET(i, &allowed_cpus))
				main_cpu = i;
	if (!CPU_ISSET(main_cpu, &allowed_cpus) || vmdq_switch_set_main_cpu(sw, main_cpu) < 0) {
		fprintf(stderr, "vmdq switch: --cpu %d: the switch cannot run on that CPU\n",
			main_cpu);
		status = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < nlines; i++) {
		if (apply(sw, cpath, &lines[i]) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}
	char rerr[VMDQ_ERRMSG_MAX];
	if (vmdq_switch_remap(sw, rerr, sizeof(rerr)) < 0) {
		fprintf(stderr, "vmdq: %s\n", rerr);
		status = 1;
		goto out;
	}
	if (!sw->has_uplink)
		fprintf(stderr, "vmdq: warning: no uplink; VMs can reach each other only\n");
	ctl.sw = sw;
	ctl.path = ctl_path;
	char cerr[VMDQ_ERRMSG_MAX];
	if (ctl_start(&ctl, cerr, sizeof(cerr)) < 0) {
		fprintf(stderr, "vmdq: control socket %s\n", cerr);
		status = 1;
		goto out;
	}
	fprintf(stderr, "vmdq: switch running, control socket %s\n", ctl_path);
	bool finite = all_finite(sw);
	if (!finite && vmdq_switch_start(sw, rerr, sizeof(rerr)) < 0) {
		fprintf(stderr, "vmdq: %s\n", rerr);
		status = 1;
		goto out;
	}
	fprintf(stderr, "vmdq: main worker on CPU %d\n", main_cpu);
	while (!stop_flag) {
		worker_serve(&ctl);
		if (finite) {
			/* captures: every worker's share in this thread, to the end */
			unsigned work = vmdq_switch_poll(sw, mono_now_ns());
			if (!work && vmdq_switch_drained(sw))
				break;
			continue;
		}
		uint64_t now = mono_now_ns();
		if (vmdq_switch_idle(sw, 0, now, vmdq_switch_poll_worker(sw, 0, now)))
			vmdq_switch_wait(sw, 0, ctl.wake_fd, 100); /* idle: ~0% CPU */
	}
	fprintf(stderr, "vmdq: switch stopping\n");
	vmdq_switch_park(sw); /* counters stand still while they are written */
	if (spath && write_stats(spath, sw) < 0) {
		fprintf(stderr, "vmdq: %s: cannot write\n", spath);
		status = 1;
	}
out:
	ctl_stop(&ctl);
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_thread_offline();
	free_lines(lines, nlines);
	return status;
}
