/* SPDX-License-Identifier: MIT */
/*
 * vmdq switch: the virtual switch in the foreground (SPEC 2, 3).
 *
 * The config holds device commands and switch lines, applied in order:
 *   uplink NAME KIND ARGS...                 (pcap IN OUT [loop N])
 *   vif NAME KIND ARGS... mac MAC [vlan VID] [queue Q]
 *                                            (tap IFNAME [netns NS]; pcap IN OUT)
 *   vif del NAME
 * When every port is a finite source (captures), the switch exits once all
 * of it has been forwarded; otherwise it runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "subcmds.h"
#include "vmdq/vmdq.h"
#include "../switch/switch.h"

static const char switch_help[] =
	"usage: vmdq switch -c CONFIG [-s STATS.json]\n"
	"\n"
	"Runs the virtual switch in the foreground: an uplink, VMs on vifs, frames\n"
	"sorted by the VMDq device into one queue per vif and handed over in groups,\n"
	"the default queue switched frame by frame through the FDB, VMs' frames to\n"
	"the wire through their own TX queues and the arbiter.  Logs to stderr;\n"
	"SIGTERM or SIGINT stops it, closing every port and removing its TAPs.\n"
	"\n"
	"CONFIG has device commands (see 'man vmdq') and:\n"
	"  uplink NAME pcap IN.pcap OUT.pcap [loop N]\n"
	"  vif NAME tap IFNAME mac MAC [vlan VID] [queue Q] [netns NS]\n"
	"  vif NAME pcap IN.pcap OUT.pcap mac MAC [vlan VID] [queue Q]\n"
	"  vif del NAME\n"
	"\n"
	"  -c, --config CONFIG    the configuration (required)\n"
	"  -s, --stats FILE       write the switch's counters as JSON on exit\n"
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
	enum { L_DEV, L_UPLINK, L_VIF, L_VIF_DEL } kind;
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
	if (strcmp(w[0], "uplink") == 0) {
		if (n < 3) {
			snprintf(err, errlen, "uplink: expected 'uplink NAME KIND ARGS...'");
			return -1;
		}
		l->kind = L_UPLINK;
		l->name = w[1];
		l->backend = w[2];
		for (int i = 3; i < n; i++)
			l->args[l->nargs++] = w[i];
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
			 "[vlan VID] [queue Q]'");
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
		char *scratch = strdup(buf);
		int nw = l->text && scratch ? split(scratch, l->w, MAX_WORDS) : -1;
		free(scratch);
		if (nw < 0) {
			fprintf(stderr, "%s:%u: too many words\n", path, no);
			free(l->text);
			rc = -1;
			break;
		}
		if (nw == 0) {
			free(l->text);
			continue;
		}
		nw = split(l->text, l->w, MAX_WORDS);
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

static int write_stats(const char *path, struct vmdq_switch *sw)
{
	json_t *o = json_object(), *wire = json_object(), *vifs = json_array();
	json_object_set_new(wire, "polled", json_integer((json_int_t)sw->wire_polled));
	json_object_set_new(wire, "delivered", json_integer((json_int_t)sw->wire_delivered));
	json_object_set_new(wire, "flooded", json_integer((json_int_t)sw->wire_flooded));
	json_object_set_new(wire, "drops", drops_json(sw->wire_drops));
	json_object_set_new(o, "wire", wire);
	json_object_set_new(o, "to_wire", json_integer((json_int_t)sw->to_wire));
	for (int i = 0; i < SW_MAX_VIFS; i++) {
		struct sw_vif *v = &sw->vif[i];
		if (!v->used)
			continue;
		json_t *e = json_object();
		json_object_set_new(e, "name", json_string(v->port.name));
		json_object_set_new(e, "queue", json_integer(v->queue));
		json_object_set_new(e, "to_vm", json_integer((json_int_t)v->to_vm));
		json_object_set_new(e, "from_vm", json_integer((json_int_t)v->from_vm));
		json_object_set_new(e, "to_wire", json_integer((json_int_t)v->to_wire));
		json_object_set_new(e, "drops", drops_json(v->drops));
		json_array_append_new(vifs, e);
	}
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
	int rc = json_dump_file(o, path, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(o);
	return rc;
}

/* Every port a capture: then the run ends when they are exhausted. */
static bool all_finite(struct vmdq_switch *sw)
{
	if (sw->has_uplink && !sw->uplink.ops->done)
		return false;
	for (int i = 0; i < SW_MAX_VIFS; i++)
		if (sw->vif[i].used && !sw->vif[i].port.ops->done)
			return false;
	return true;
}

static int apply(struct vmdq_switch *sw, const char *path, struct line *l)
{
	char err[VMDQ_ERRMSG_MAX];
	int rc = 0;
	switch (l->kind) {
	case L_DEV:
		rc = vmdq_cmd_apply(sw->dev, &l->cmd, NULL, 0, err, sizeof(err));
		break;
	case L_UPLINK:
		rc = vmdq_switch_set_uplink(sw, l->name, l->backend, l->args, l->nargs, err,
					    sizeof(err));
		break;
	case L_VIF: {
		struct sw_vif_spec s = { .name = l->name, .kind = l->backend, .args = l->args,
					 .nargs = l->nargs, .vlan = l->vlan, .queue = l->queue };
		memcpy(s.mac, l->mac, 6);
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

int cmd_switch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpath = NULL, *spath = NULL;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cpath = optarg; break;
		case 's': spath = optarg; break;
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
	vmdq_thread_online();
	struct vmdq_dev *dev = vmdq_dev_create();
	struct vmdq_switch *sw = dev ? vmdq_switch_create(dev) : NULL;
	if (!sw) {
		fprintf(stderr, "vmdq: out of memory\n");
		status = 1;
		goto out;
	}
	for (size_t i = 0; i < nlines; i++) {
		if (apply(sw, cpath, &lines[i]) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (!sw->has_uplink)
		fprintf(stderr, "vmdq: warning: no uplink; VMs can reach each other only\n");
	fprintf(stderr, "vmdq: switch running\n");
	bool finite = all_finite(sw);
	while (!stop_flag) {
		unsigned work = vmdq_switch_poll(sw, mono_now_ns());
		if (finite) {
			if (!work && vmdq_switch_drained(sw))
				break;
			continue;
		}
		if (work)
			continue;
		/* idle: sleep on every port's descriptor (~0% CPU) */
		struct pollfd pfd[SW_MAX_VIFS + 1];
		nfds_t npfd = 0;
		if (sw->has_uplink && sw->uplink.ops->fd(&sw->uplink) >= 0)
			pfd[npfd++] = (struct pollfd){ .fd = sw->uplink.ops->fd(&sw->uplink),
						       .events = POLLIN };
		for (int i = 0; i < SW_MAX_VIFS; i++)
			if (sw->vif[i].used && sw->vif[i].port.ops->fd(&sw->vif[i].port) >= 0)
				pfd[npfd++] = (struct pollfd){
					.fd = sw->vif[i].port.ops->fd(&sw->vif[i].port),
					.events = POLLIN };
		poll(pfd, npfd, 100);
	}
	fprintf(stderr, "vmdq: switch stopping\n");
	if (spath && write_stats(spath, sw) < 0) {
		fprintf(stderr, "vmdq: %s: cannot write\n", spath);
		status = 1;
	}
out:
	vmdq_switch_destroy(sw);
	vmdq_dev_destroy(dev);
	vmdq_thread_offline();
	free_lines(lines, nlines);
	return status;
}
