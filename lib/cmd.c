/* SPDX-License-Identifier: MIT */
/*
 * The command language: parsing (syntax and ranges) and applying (what
 * depends on the device).  Error texts name the offending word and say what
 * was expected, so `FILE:LINE: reason` is enough for a user to fix a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/cmd.h"
#include "internal.h"

#define MAX_TOK VMDQ_CMD_MAX_WORDS
#define MAX_LINE VMDQ_CMD_MAX_LINE

struct toks {
	char buf[MAX_LINE + 1];
	char *t[MAX_TOK];
	int n;
};

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	if (err && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Control characters are refused; bytes past ASCII are left to the words
 * that may hold them (a path, an interface name). */
static bool is_bad(char c)
{
	return (unsigned char)c < 0x20 || (unsigned char)c == 0x7f;
}

/* The one tokenizer: words separated by blanks, `#` to the end of the line
 * a comment. */
static int split_words(const char *line, char *buf, size_t buflen, char **t, int max,
		       char *err, size_t elen)
{
	size_t len = strlen(line);
	if (len > MAX_LINE)
		return fail(err, elen, "line too long (more than %d characters)", MAX_LINE);
	if (len >= buflen)
		return fail(err, elen, "line too long (more than %zu characters)", buflen - 1);
	memcpy(buf, line, len + 1);
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	int n = 0;
	for (char *p = buf;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		if (n == max)
			return fail(err, elen, "too many words (more than %d)", max);
		t[n++] = p;
		while (*p && !is_space(*p)) {
			if (is_bad(*p))
				return fail(err, elen, "unexpected character 0x%02x",
					    (unsigned char)*p);
			p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int tokenize(const char *line, struct toks *tk, char *err, size_t elen)
{
	int n = split_words(line, tk->buf, sizeof(tk->buf), tk->t, MAX_TOK, err, elen);
	if (n < 0)
		return n;
	tk->n = n;
	return 0;
}

int vmdq_cmd_words(const char *line, char *buf, size_t buflen, char **words, int max,
		   char *err, size_t errlen)
{
	return split_words(line, buf, buflen, words, max, err, errlen);
}

/* Strict unsigned decimal in [lo, hi]. */
static int num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out,
	       const char *what, char *err, size_t elen)
{
	uint64_t v = 0;
	if (!s)
		return fail(err, elen, "%s: missing number", what);
	if (!*s)
		return fail(err, elen, "%s: empty number", what);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(err, elen, "%s: '%s' is not a number", what, s);
		if (v > (UINT64_MAX - 9) / 10)
			return fail(err, elen, "%s: %s is out of range %llu..%llu", what, s,
				    (unsigned long long)lo, (unsigned long long)hi);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < lo || v > hi)
		return fail(err, elen, "%s: %s is out of range %llu..%llu", what, s,
			    (unsigned long long)lo, (unsigned long long)hi);
	*out = v;
	return 0;
}

static int onoff(const char *s, bool *out, const char *what, char *err, size_t elen)
{
	if (s && strcmp(s, "on") == 0)
		*out = true;
	else if (s && strcmp(s, "off") == 0)
		*out = false;
	else
		return fail(err, elen, "%s: expected on or off, got '%s'", what, s ? s : "");
	return 0;
}

static int want_end(const struct toks *tk, int i, const char *what, char *err,
		    size_t elen)
{
	if (i < tk->n)
		return fail(err, elen, "%s: unexpected '%s' at end of line", what, tk->t[i]);
	return 0;
}

static int parse_device(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	static const struct {
		const char *name;
		enum vmdq_cmd_kind kind;
	} onoffs[] = {
		{ "vmdq", VMDQ_CMD_DEV_VMDQ },           { "promisc", VMDQ_CMD_DEV_PROMISC },
		{ "allmulti", VMDQ_CMD_DEV_ALLMULTI },   { "broadcast", VMDQ_CMD_DEV_BROADCAST },
		{ "store-bad", VMDQ_CMD_DEV_STORE_BAD }, { "fcs", VMDQ_CMD_DEV_FCS },
	};
	if (tk->n < 2)
		return fail(err, elen, "device: missing setting (profile, queues, vmdq, "
			    "default-queue, mac, promisc, allmulti, broadcast, store-bad, fcs, "
			    "max-frame, arbiter)");
	const char *k = tk->t[1], *v = tk->n > 2 ? tk->t[2] : NULL;
	char what[64];
	snprintf(what, sizeof(what), "device %s", k);
	uint64_t n;
	int rc;
	for (size_t i = 0; i < sizeof(onoffs) / sizeof(onoffs[0]); i++) {
		if (strcmp(k, onoffs[i].name) == 0) {
			c->kind = onoffs[i].kind;
			if ((rc = onoff(v, &c->on, what, err, elen)) < 0)
				return rc;
			return want_end(tk, 3, what, err, elen);
		}
	}
	if (strcmp(k, "profile") == 0) {
		c->kind = VMDQ_CMD_DEV_PROFILE;
		if (!v || vmdq_profile_from_name(v, &c->profile) < 0)
			return fail(err, elen, "device profile: expected 82575, 82598, 82576, "
				    "82599 or soft, got '%s'", v ? v : "");
	} else if (strcmp(k, "queues") == 0) {
		c->kind = VMDQ_CMD_DEV_QUEUES;
		if ((rc = num(v, 1, VMDQ_MAX_QUEUES, &n, what, err, elen)) < 0)
			return rc;
		c->num = (unsigned)n;
	} else if (strcmp(k, "default-queue") == 0) {
		c->kind = VMDQ_CMD_DEV_DEFAULT_QUEUE;
		if ((rc = num(v, 0, VMDQ_MAX_QUEUES - 1, &n, what, err, elen)) < 0)
			return rc;
		c->num = (unsigned)n;
	} else if (strcmp(k, "mac") == 0) {
		c->kind = VMDQ_CMD_DEV_MAC;
		if (!v || vmdq_mac_parse(v, c->mac) < 0)
			return fail(err, elen, "device mac: expected a MAC like "
				    "02:00:00:00:00:01, got '%s'", v ? v : "");
		uint64_t m = mac_to_u64(c->mac);
		if (m == 0 || mac_is_multicast(m))
			return fail(err, elen, "device mac: %s is not a unicast address", v);
	} else if (strcmp(k, "max-frame") == 0) {
		c->kind = VMDQ_CMD_DEV_MAX_FRAME;
		if ((rc = num(v, VMDQ_MIN_MAX_FRAME, VMDQ_MAX_MAX_FRAME, &n, what, err, elen)) < 0)
			return rc;
		c->num = (unsigned)n;
	} else if (strcmp(k, "arbiter") == 0) {
		c->kind = VMDQ_CMD_DEV_ARBITER;
		if (v && strcmp(v, "rr") == 0)
			c->arbiter = VMDQ_ARB_RR;
		else if (v && strcmp(v, "drr") == 0)
			c->arbiter = VMDQ_ARB_DRR;
		else if (v && strcmp(v, "fifo") == 0)
			c->arbiter = VMDQ_ARB_FIFO;
		else
			return fail(err, elen, "device arbiter: expected rr, drr or fifo, got '%s'",
				    v ? v : "");
	} else {
		return fail(err, elen, "device: unknown setting '%s'", k);
	}
	return want_end(tk, 3, what, err, elen);
}

static int parse_mac_arg(const char *v, uint8_t mac[6], char *err, size_t elen)
{
	if (!v || vmdq_mac_parse(v, mac) < 0)
		return fail(err, elen, "filter add: expected a MAC like 02:00:00:00:00:01, "
			    "got '%s'", v ? v : "");
	uint64_t m = mac_to_u64(mac);
	if (m == 0)
		return fail(err, elen, "filter add: the all-zero MAC cannot be filtered");
	if (m == MAC_BCAST)
		return fail(err, elen, "filter add: broadcast cannot be filtered "
			    "(it always goes to the default queue)");
	return 0;
}

static int parse_filter(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	uint64_t n;
	int rc, i;
	if (tk->n >= 2 && strcmp(tk->t[1], "del") == 0) {
		c->kind = VMDQ_CMD_FILTER_DEL;
		if ((rc = num(tk->n > 2 ? tk->t[2] : NULL, 1, UINT32_MAX, &n, "filter del",
			      err, elen)) < 0)
			return rc;
		c->num = (unsigned)n;
		return want_end(tk, 3, "filter del", err, elen);
	}
	if (tk->n < 2 || strcmp(tk->t[1], "add") != 0)
		return fail(err, elen, "filter: expected 'add' or 'del', got '%s'",
			    tk->n > 1 ? tk->t[1] : "");
	c->kind = VMDQ_CMD_FILTER_ADD;
	i = 2;
	if (i < tk->n && strcmp(tk->t[i], "mac") == 0) {
		if ((rc = parse_mac_arg(i + 1 < tk->n ? tk->t[i + 1] : NULL, c->mac, err, elen)) < 0)
			return rc;
		c->has_mac = true;
		i += 2;
	}
	if (i < tk->n && strcmp(tk->t[i], "vlan") == 0) {
		if ((rc = num(i + 1 < tk->n ? tk->t[i + 1] : NULL, 1, 4094, &n,
			      "filter add: vlan", err, elen)) < 0)
			return rc;
		c->vlan = (uint16_t)n;
		i += 2;
	}
	if (!c->has_mac && !c->vlan)
		return fail(err, elen, "filter add: expected 'mac MAC [vlan VID] queue Q' or "
			    "'vlan VID queue Q'");
	if (i >= tk->n || strcmp(tk->t[i], "queue") != 0)
		return fail(err, elen, "filter add: expected 'queue Q', got '%s'",
			    i < tk->n ? tk->t[i] : "end of line");
	if ((rc = num(i + 1 < tk->n ? tk->t[i + 1] : NULL, 0, VMDQ_MAX_QUEUES - 1, &n,
		      "filter add: queue", err, elen)) < 0)
		return rc;
	c->num = (unsigned)n;
	return want_end(tk, i + 2, "filter add", err, elen);
}

static int parse_queue(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	uint64_t q, v;
	int rc;
	if ((rc = num(tk->n > 1 ? tk->t[1] : NULL, 0, VMDQ_MAX_QUEUES - 1, &q, "queue", err,
		      elen)) < 0)
		return rc;
	const char *k = tk->n > 2 ? tk->t[2] : "";
	const char *v_s = tk->n > 3 ? tk->t[3] : NULL;
	if (strcmp(k, "weight") == 0) {
		c->kind = VMDQ_CMD_QUEUE_WEIGHT;
		rc = num(v_s, 1, 65535, &v, "queue weight", err, elen);
	} else if (strcmp(k, "itr") == 0) {
		c->kind = VMDQ_CMD_QUEUE_ITR;
		rc = num(v_s, 0, 10000000, &v, "queue itr (microseconds)", err, elen);
	} else if (strcmp(k, "cpu") == 0) {
		c->kind = VMDQ_CMD_QUEUE_CPU;
		rc = num(v_s, 0, 1023, &v, "queue cpu", err, elen);
	} else if (strcmp(k, "rss") == 0) {
		c->kind = VMDQ_CMD_QUEUE_RSS;
		rc = num(v_s, 1, VMDQ_MAX_RSS, &v, "queue rss (queues)", err, elen);
	} else {
		return fail(err, elen, "queue %llu: expected weight, itr, cpu or rss, got '%s'",
			    (unsigned long long)q, k);
	}
	if (rc < 0)
		return rc;
	c->num = (unsigned)q;
	c->value = (unsigned)v;
	return want_end(tk, 4, "queue", err, elen);
}

/* ---- the switch's commands ----------------------------------------------
 * The reasons are those vmdq switch has always given (scripts and tests
 * read them). */

/* Strict unsigned decimal in [lo, hi] (no sign, no blanks). */
static bool dec(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int parse_uplink(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	char **w = tk->t;
	int n = tk->n;
	uint64_t v;
	if (n >= 2 && strcmp(w[1], "txrate") == 0) {
		if (n != 3 || !dec(w[2], 0, VMDQ_TXRATE_MAX, &v))
			return fail(err, elen, "uplink txrate: expected frames per second, "
				    "0 (unlimited)..%d", VMDQ_TXRATE_MAX);
		c->kind = VMDQ_CMD_UPLINK_TXRATE;
		c->txrate = v;
		return 0;
	}
	if (n < 3)
		return fail(err, elen, "uplink: expected 'uplink NAME KIND ARGS...'");
	c->kind = VMDQ_CMD_UPLINK;
	c->name = w[1];
	c->backend = w[2];
	for (int i = 3; i < n; i++) {
		if (strcmp(w[i], "txrate") == 0) {
			if (!dec(i + 1 < n ? w[i + 1] : NULL, 1, VMDQ_TXRATE_MAX, &v))
				return fail(err, elen, "uplink %s: txrate: expected frames per "
					    "second, 1..%d", c->name, VMDQ_TXRATE_MAX);
			c->txrate = v;
			i++;
			continue;
		}
		c->args[c->nargs++] = w[i];
	}
	return 0;
}

static int parse_vif(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	char **w = tk->t;
	int n = tk->n;
	if (n >= 2 && strcmp(w[1], "del") == 0) {
		if (n != 3)
			return fail(err, elen, "vif del: expected 'vif del NAME'");
		c->kind = VMDQ_CMD_VIF_DEL;
		c->name = w[2];
		return 0;
	}
	if (n < 3)
		return fail(err, elen, "vif: expected 'vif NAME KIND ARGS... mac MAC "
			    "[vlan VID] [queue Q] [queues N]'");
	c->kind = VMDQ_CMD_VIF_ADD;
	c->name = w[1];
	c->backend = w[2];
	c->queue = -1;
	/* mac, vlan, queue and queues with a value are the switch's; every
	 * other word is the backend's, in order */
	for (int i = 3; i < n; i++) {
		uint64_t v;
		const char *k = w[i], *val = i + 1 < n ? w[i + 1] : NULL;
		if (strcmp(k, "mac") == 0 && val) {
			if (vmdq_mac_parse(val, c->mac) < 0 || mac_to_u64(c->mac) == 0 ||
			    mac_is_multicast(mac_to_u64(c->mac)))
				return fail(err, elen, "vif %s: mac: '%s' is not a unicast MAC",
					    c->name, val);
			c->has_mac = true;
		} else if (strcmp(k, "vlan") == 0 && val) {
			if (!dec(val, 1, 4094, &v))
				return fail(err, elen, "vif %s: vlan: '%s' is not in 1..4094",
					    c->name, val);
			c->vlan = (uint16_t)v;
		} else if (strcmp(k, "queue") == 0 && val) {
			if (!dec(val, 0, VMDQ_MAX_QUEUES - 1, &v))
				return fail(err, elen, "vif %s: queue: '%s' is not a queue number",
					    c->name, val);
			c->queue = (int)v;
		} else if (strcmp(k, "queues") == 0 && val) {
			if (!dec(val, 1, VMDQ_VIF_MAX_QP, &v))
				return fail(err, elen, "vif %s: queues: '%s' is not in 1..%d",
					    c->name, val, VMDQ_VIF_MAX_QP);
			c->queues = (unsigned)v;
		} else {
			c->args[c->nargs++] = w[i];
			continue;
		}
		i++;
	}
	if (!c->has_mac)
		return fail(err, elen, "vif %s: missing 'mac MAC'", c->name);
	return 0;
}

/* A switch command's strings move from the tokenizer's buffer to the
 * command's own. */
static int own_words(const struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen)
{
	const char *end = tk->buf;
	if (c->name && c->name + strlen(c->name) + 1 > end)
		end = c->name + strlen(c->name) + 1;
	if (c->backend && c->backend + strlen(c->backend) + 1 > end)
		end = c->backend + strlen(c->backend) + 1;
	for (int i = 0; i < c->nargs; i++)
		if (c->args[i] + strlen(c->args[i]) + 1 > end)
			end = c->args[i] + strlen(c->args[i]) + 1;
	if (end == tk->buf)
		return 0; /* uplink txrate: no strings */
	size_t len = (size_t)(end - tk->buf);
	c->words = malloc(len);
	if (!c->words)
		return fail(err, elen, "out of memory");
	memcpy(c->words, tk->buf, len);
#define REBASE(p) ((p) ? c->words + ((p) - tk->buf) : NULL)
	c->name = REBASE(c->name);
	c->backend = REBASE(c->backend);
	for (int i = 0; i < c->nargs; i++)
		c->args[i] = REBASE(c->args[i]);
#undef REBASE
	return 0;
}

bool vmdq_cmd_is_switch(const struct vmdq_cmd *c)
{
	switch (c->kind) {
	case VMDQ_CMD_UPLINK:
	case VMDQ_CMD_UPLINK_TXRATE:
	case VMDQ_CMD_VIF_ADD:
	case VMDQ_CMD_VIF_DEL:
		return true;
	default:
		return false;
	}
}

static int parse_toks(struct toks *tk, struct vmdq_cmd *c, char *err, size_t elen,
		      int depth)
{
	memset(c, 0, sizeof(*c));
	if (tk->n == 0) {
		c->kind = VMDQ_CMD_NONE;
		return 0;
	}
	const char *w = tk->t[0];
	if (strcmp(w, "device") == 0)
		return parse_device(tk, c, err, elen);
	if (strcmp(w, "filter") == 0)
		return parse_filter(tk, c, err, elen);
	if (strcmp(w, "queue") == 0)
		return parse_queue(tk, c, err, elen);
	if (strcmp(w, "uplink") == 0 || strcmp(w, "vif") == 0) {
		if (depth > 0)
			return fail(err, elen, "at: only device, filter and queue commands "
				    "can be scheduled");
		int rc = w[0] == 'u' ? parse_uplink(tk, c, err, elen)
				     : parse_vif(tk, c, err, elen);
		if (rc == 0)
			rc = own_words(tk, c, err, elen);
		if (rc < 0)
			memset(c, 0, sizeof(*c));
		return rc;
	}
	if (strcmp(w, "at") == 0) {
		uint64_t k;
		int rc;
		if (depth > 0)
			return fail(err, elen, "at: cannot be nested");
		if ((rc = num(tk->n > 1 ? tk->t[1] : NULL, 0, UINT64_MAX - 1, &k, "at", err,
			      elen)) < 0)
			return rc;
		if (tk->n < 3)
			return fail(err, elen, "at %llu: missing command", (unsigned long long)k);
		struct toks sub = *tk;
		sub.n = tk->n - 2;
		for (int i = 0; i < sub.n; i++)
			sub.t[i] = tk->t[i + 2];
		struct vmdq_cmd *s = malloc(sizeof(*s));
		if (!s)
			return fail(err, elen, "out of memory");
		rc = parse_toks(&sub, s, err, elen, depth + 1);
		if (rc < 0) {
			free(s);
			return rc;
		}
		c->kind = VMDQ_CMD_AT;
		c->at = k;
		c->sub = s;
		return 0;
	}
	return fail(err, elen, "unknown command '%s' (expected device, filter, queue, at, "
		    "uplink or vif)", w);
}

int vmdq_cmd_parse(const char *line, struct vmdq_cmd *cmd, char *err, size_t errlen)
{
	struct toks *tk = malloc(sizeof(*tk));
	if (!tk)
		return fail(err, errlen, "out of memory");
	int rc = tokenize(line, tk, err, errlen);
	if (rc == 0)
		rc = parse_toks(tk, cmd, err, errlen, 0);
	else
		memset(cmd, 0, sizeof(*cmd));
	free(tk);
	return rc;
}

void vmdq_cmd_clear(struct vmdq_cmd *cmd)
{
	if (!cmd)
		return;
	if (cmd->sub) {
		vmdq_cmd_clear(cmd->sub);
		free(cmd->sub);
		cmd->sub = NULL;
	}
	free(cmd->words);
	cmd->words = NULL;
}

/* ---- apply ------------------------------------------------------------- */

static int qerr(struct vmdq_dev *dev, int rc, unsigned q, const char *what,
		char *err, size_t elen)
{
	struct vmdq_dev_config cfg;
	vmdq_dev_get_config(dev, &cfg);
	if (rc == -EINVAL && q >= cfg.queues)
		snprintf(err, elen, "%s: queue %u is out of range (the device has %u queues, "
			 "0..%u)", what, q, cfg.queues, cfg.queues - 1);
	else if (rc == -EBUSY)
		snprintf(err, elen, "%s: queue %u is being freed", what, q);
	else
		snprintf(err, elen, "%s: %s", what, strerror(-rc));
	return rc;
}

int vmdq_cmd_apply(struct vmdq_dev *dev, const struct vmdq_cmd *c, char *out,
		   size_t outlen, char *err, size_t elen)
{
	int rc = 0;
	struct vmdq_dev_config cfg;
	if (out && outlen)
		out[0] = '\0';
	if (err && elen)
		err[0] = '\0';
	switch (c->kind) {
	case VMDQ_CMD_NONE:
		return 0;
	case VMDQ_CMD_AT:
		snprintf(err, elen, "at: only a schedule (vmdq sort) can run 'at'");
		return -EINVAL;
	case VMDQ_CMD_UPLINK:
	case VMDQ_CMD_UPLINK_TXRATE:
	case VMDQ_CMD_VIF_ADD:
	case VMDQ_CMD_VIF_DEL:
		snprintf(err, elen, "%s: only vmdq switch has an uplink and vifs",
			 c->kind == VMDQ_CMD_VIF_ADD || c->kind == VMDQ_CMD_VIF_DEL
			 ? "vif" : "uplink");
		return -EINVAL;
	case VMDQ_CMD_DEV_PROFILE:
		rc = vmdq_dev_set_profile(dev, c->profile);
		if (rc == -ENOSPC)
			snprintf(err, elen, "device profile %s: the filters in place do not fit "
				 "its tables", vmdq_profile_limits(c->profile)->name);
		else if (rc == -EBUSY)
			snprintf(err, elen, "device profile %s: it has %u queues, but a filter, "
				 "the default queue or an allocated queue uses a queue beyond",
				 vmdq_profile_limits(c->profile)->name,
				 vmdq_profile_limits(c->profile)->default_queues);
		break;
	case VMDQ_CMD_DEV_QUEUES:
		rc = vmdq_dev_set_queues(dev, c->num);
		vmdq_dev_get_config(dev, &cfg);
		if (rc == -EINVAL)
			snprintf(err, elen, "device queues: %u is more than profile %s allows "
				 "(%u)", c->num, vmdq_profile_limits(cfg.profile)->name,
				 vmdq_profile_limits(cfg.profile)->max_queues);
		else if (rc == -EBUSY)
			snprintf(err, elen, "device queues: a filter, the default queue or an "
				 "allocated queue uses queue %u or above", c->num);
		break;
	case VMDQ_CMD_DEV_VMDQ:
		rc = vmdq_dev_set_vmdq(dev, c->on);
		break;
	case VMDQ_CMD_DEV_DEFAULT_QUEUE:
		rc = vmdq_dev_set_default_queue(dev, c->num);
		if (rc < 0)
			return qerr(dev, rc, c->num, "device default-queue", err, elen);
		break;
	case VMDQ_CMD_DEV_MAC:
		rc = vmdq_dev_set_mac(dev, c->mac);
		break;
	case VMDQ_CMD_DEV_PROMISC:
		rc = vmdq_dev_set_promisc(dev, c->on);
		break;
	case VMDQ_CMD_DEV_ALLMULTI:
		rc = vmdq_dev_set_allmulti(dev, c->on);
		break;
	case VMDQ_CMD_DEV_BROADCAST:
		rc = vmdq_dev_set_broadcast(dev, c->on);
		break;
	case VMDQ_CMD_DEV_STORE_BAD:
		rc = vmdq_dev_set_store_bad(dev, c->on);
		break;
	case VMDQ_CMD_DEV_FCS:
		rc = vmdq_dev_set_fcs(dev, c->on);
		break;
	case VMDQ_CMD_DEV_MAX_FRAME:
		rc = vmdq_dev_set_max_frame(dev, c->num);
		break;
	case VMDQ_CMD_DEV_ARBITER:
		rc = vmdq_dev_set_arbiter(dev, c->arbiter);
		break;
	case VMDQ_CMD_FILTER_ADD: {
		int64_t id = vmdq_filter_add(dev, c->has_mac ? c->mac : NULL, c->vlan, c->num);
		if (id >= 0) {
			if (out && outlen)
				snprintf(out, outlen, "%lld", (long long)id);
			return 0;
		}
		rc = (int)id;
		vmdq_dev_get_config(dev, &cfg);
		const struct vmdq_profile_limits *l = vmdq_profile_limits(cfg.profile);
		if (rc == -EEXIST)
			snprintf(err, elen, "filter add: a filter for this %s already exists",
				 !c->has_mac ? "VLAN" : c->vlan ? "MAC and VLAN" : "MAC");
		else if (rc == -ENOSPC && l->any_table)
			snprintf(err, elen, "filter add: table full (profile %s holds %u filters)",
				 l->name, l->any_table);
		else if (rc == -ENOSPC)
			snprintf(err, elen, "filter add: table full (profile %s holds %u %s)",
				 l->name, c->has_mac ? l->mac_table : l->vlan_table,
				 c->has_mac ? "MAC and pair filters" : "VLAN filters");
		else
			return qerr(dev, rc, c->num, "filter add", err, elen);
		return rc;
	}
	case VMDQ_CMD_FILTER_DEL:
		rc = vmdq_filter_del(dev, c->num);
		if (rc == -ENOENT) {
			snprintf(err, elen, "filter del: no filter with id %u", c->num);
			return rc;
		}
		break;
	case VMDQ_CMD_QUEUE_WEIGHT:
		rc = vmdq_queue_set_weight(dev, c->num, c->value);
		if (rc < 0)
			return qerr(dev, rc, c->num, "queue weight", err, elen);
		break;
	case VMDQ_CMD_QUEUE_ITR:
		rc = vmdq_queue_set_itr(dev, c->num, c->value);
		if (rc < 0)
			return qerr(dev, rc, c->num, "queue itr", err, elen);
		break;
	case VMDQ_CMD_QUEUE_CPU:
		rc = vmdq_queue_set_cpu(dev, c->num, c->value);
		if (rc < 0)
			return qerr(dev, rc, c->num, "queue cpu", err, elen);
		break;
	case VMDQ_CMD_QUEUE_RSS:
		rc = vmdq_queue_set_rss(dev, c->num, c->value);
		if (rc == -ERANGE) {
			struct vmdq_dev_config dc;
			vmdq_dev_get_config(dev, &dc);
			snprintf(err, elen, "queue rss: queues %u..%u do not all exist (the "
				 "device has %u queues)", c->num, c->num + c->value - 1,
				 dc.queues);
			return rc;
		}
		if (rc < 0)
			return qerr(dev, rc, c->num, "queue rss", err, elen);
		break;
	}
	if (rc < 0 && err && elen && !err[0])
		snprintf(err, elen, "%s", strerror(-rc));
	return rc;
}
