/* SPDX-License-Identifier: MIT */
/*
 * The control server of vmdq switch: the socket, its clients and their
 * deadlines, and the hand-over of each request to the main worker.
 *
 * The control thread owns the socket.  It parses a request with the one
 * parser (vmdq/cmd.h) and hands it to the main worker, which carries it
 * out between two polls with the other workers parked (a command through
 * the one apply, apply.h; a `show` through its table, show.h); the control
 * thread waits for the answer.
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
 *
 * A batch (ctl_proto.h) is read whole into a buffer of the slot's own
 * (CTL_MAX_BATCH bytes at most, within the same deadline), parsed whole by
 * the control thread, and handed to the main worker as one request, which
 * runs it CTL_BATCH_CHUNK commands per visit (the workers parked once per
 * visit, frames forwarded between visits), so a thousand vifs cost one
 * connection and a few dozen parkings, not a thousand of each.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "ctl_proto.h"
#include "ctl_server.h"
#include "show.h"
#include "util.h"
#include "vmdq/cmd.h"
#include "../switch/switch.h"

struct ctl_req {
	bool json;
	const struct show_cmd *show; /* a show command, or NULL: apply cmd */
	struct vmdq_cmd cmd;
	char *out;         /* show: the reply body, malloc'd by the worker */
	char cmd_out[64];  /* a command's output (filter add: the new id) */
	int rc;
	char err[VMDQ_ERRMSG_MAX];
	bool done;
	/* a batch: ncmds commands, lines[i] the line of cmds[i]; the worker
	 * runs them from next on and appends their output to out (outlen) */
	struct vmdq_cmd *cmds;
	unsigned *lines;
	size_t ncmds, next, outlen;
	unsigned fail_line; /* the line of the command refused */
};

struct ctl_client {
	int fd;               /* -1: the slot is free */
	bool replying;        /* the request ran; out waits to be sent */
	size_t inlen;
	char in[CTL_MAX_REQUEST + 1];
	char *batch;          /* a batch's lines (after the "-f" line), malloc'd */
	size_t blen, bcap;
	char *out;            /* status line and body, malloc'd */
	size_t outlen, outoff;
	uint64_t deadline_ns; /* the line complete, then the reply taken, by then */
	uint64_t active_ns;   /* last byte moved: who goes first when full */
};

struct ctl {
	const char *path;
	int lfd;           /* listening socket */
	int stop_fd;       /* eventfd: tells the control thread to finish */
	int wake_fd;       /* eventfd: tells the worker a request waits */
	pthread_t thread;
	bool running;
	struct apply_env *env;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctl_req *pending;
	_Atomic bool has_pending;
	struct ctl_req *busy; /* the batch the worker is in the middle of (its own) */
	bool closing;         /* the worker's own: ctl_close cancels what is left */
	struct ctl_client cl[CTL_MAX_CLIENTS];
};

/* The next CTL_BATCH_CHUNK commands of a batch (the other workers parked);
 * true once it is over: every command done, one refused, or the switch
 * stopping. */
static bool batch_step(struct ctl *c, struct ctl_req *r)
{
	if (c->closing) {
		r->rc = -ECANCELED;
		r->fail_line = r->lines[r->next];
		snprintf(r->err, sizeof(r->err), "the switch is stopping");
		return true;
	}
	struct vmdq_switch *sw = c->env->sw;
	size_t end = r->ncmds - r->next > CTL_BATCH_CHUNK ? r->next + CTL_BATCH_CHUNK : r->ncmds;
	vmdq_switch_park(sw);
	for (; r->next < end; r->next++) {
		int rc = switch_apply(c->env, &r->cmds[r->next], r->cmd_out, sizeof(r->cmd_out),
				      r->err, sizeof(r->err));
		size_t ol = strlen(r->cmd_out);
		char *o = ol ? realloc(r->out, r->outlen + ol + 1) : r->out;
		if (ol && o) {
			memcpy(o + r->outlen, r->cmd_out, ol + 1);
			r->out = o;
			r->outlen += ol;
		} else if (ol && rc == 0) {
			rc = -ENOMEM;
			snprintf(r->err, sizeof(r->err), "out of memory");
		}
		if (rc < 0) {
			r->rc = rc;
			r->fail_line = r->lines[r->next];
			r->next = r->ncmds;
			break;
		}
	}
	vmdq_switch_unpark(sw);
	return r->next == r->ncmds;
}

/* The worker's side: carry out the waiting request, if any, or the next
 * part of the batch it is in. */
void ctl_serve(struct ctl *c)
{
	if (!c || (!c->busy && !atomic_load_explicit(&c->has_pending, memory_order_acquire)))
		return;
	uint64_t v;
	if (read(c->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already read */
	}
	struct ctl_req *r = c->busy;
	if (!r) {
		pthread_mutex_lock(&c->mu);
		r = c->pending;
		c->pending = NULL;
		atomic_store(&c->has_pending, false);
		pthread_mutex_unlock(&c->mu);
	}
	if (!r)
		return;
	struct vmdq_switch *sw = c->env->sw;
	if (r->cmds) {
		c->busy = r;
		if (!batch_step(c, r)) {
			/* more next time: the worker is not to sleep meanwhile */
			uint64_t one = 1;
			if (write(c->wake_fd, &one, sizeof(one)) < 0) {
				/* saturated: readable all the same */
			}
			return;
		}
		c->busy = NULL;
		goto done;
	}
	/* the other workers stop between two rounds while the request runs */
	vmdq_switch_park(sw);
	if (r->show) {
		r->out = show_run(r->show, sw, r->json);
		r->rc = 0;
	} else {
		r->rc = switch_apply(c->env, &r->cmd, r->cmd_out, sizeof(r->cmd_out), r->err,
				     sizeof(r->err));
	}
	vmdq_switch_unpark(sw);
done:
	pthread_mutex_lock(&c->mu);
	r->done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int ctl_wake_fd(const struct ctl *c)
{
	return c ? c->wake_fd : -1;
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
	/* the one tokenizer: `show` is the socket's own; the rest is the
	 * command language */
	char wbuf[VMDQ_CMD_MAX_LINE + 1], *w[VMDQ_CMD_MAX_WORDS];
	int nw = vmdq_cmd_words(cmd, wbuf, sizeof(wbuf), w, VMDQ_CMD_MAX_WORDS, r->err,
				sizeof(r->err));
	char status[VMDQ_ERRMSG_MAX + 16];
	if (nw < 0) {
		snprintf(status, sizeof(status), "error: %s", r->err);
		reply(k, status, NULL);
	} else if (nw == 0) {
		reply(k, "error: empty command", NULL);
	} else if (strcmp(w[0], "show") == 0) {
		r->show = nw == 2 ? show_find(w[1]) : NULL;
		if (!r->show) {
			snprintf(status, sizeof(status), "error: show: expected %s", show_names());
			reply(k, status, NULL);
		} else {
			to_worker(c, r);
			reply(k, r->out ? "ok" : "error: out of memory", r->out);
			free(r->out);
		}
	} else if (vmdq_cmd_parse(cmd, &r->cmd, r->err, sizeof(r->err)) < 0) {
		snprintf(status, sizeof(status), "error: %s", r->err);
		reply(k, status, NULL);
	} else if (r->cmd.kind == VMDQ_CMD_AT) {
		reply(k, "error: at: only vmdq sort runs a schedule", NULL);
	} else {
		to_worker(c, r);
		if (r->rc < 0) {
			snprintf(status, sizeof(status), "error: %s", r->err);
			reply(k, status, NULL);
		} else {
			reply(k, "ok", r->cmd_out);
		}
	}
	vmdq_cmd_clear(&r->cmd);
	free(r);
}

/* A whole batch (its lines NUL-terminated in k->batch): every line parsed,
 * then the lot to the worker; the reply in the client's slot. */
static void serve_batch(struct ctl *c, struct ctl_client *k)
{
	char status[VMDQ_ERRMSG_MAX + 32];
	struct ctl_req *r = calloc(1, sizeof(*r));
	size_t cap = 0;
	if (!r) {
		reply(k, "error: out of memory", NULL);
		return;
	}
	char *p = k->batch, *end = k->batch + k->blen;
	unsigned line = 0;
	bool bad = false;
	while (p < end && !bad) {
		char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		*e = '\0';
		line++;
		struct vmdq_cmd cmd;
		if (strlen(p) != (size_t)(e - p)) {
			snprintf(status, sizeof(status), "error: %u: unexpected NUL character", line);
			bad = true;
		} else if (vmdq_cmd_parse(p, &cmd, r->err, sizeof(r->err)) < 0) {
			snprintf(status, sizeof(status), "error: %u: %s", line, r->err);
			bad = true;
		} else if (cmd.kind == VMDQ_CMD_AT) {
			vmdq_cmd_clear(&cmd);
			snprintf(status, sizeof(status), "error: %u: at: only vmdq sort runs a schedule",
				 line);
			bad = true;
		} else if (cmd.kind != VMDQ_CMD_NONE) {
			if (r->ncmds == CTL_MAX_BATCH_CMDS) {
				snprintf(status, sizeof(status), "error: %u: more than "
					 CTL_STR(CTL_MAX_BATCH_CMDS) " commands in one batch", line);
				bad = true;
			} else if (r->ncmds == cap) {
				size_t nc = cap ? 2 * cap : 64;
				struct vmdq_cmd *nv = realloc(r->cmds, nc * sizeof(*nv));
				unsigned *nl = nv ? realloc(r->lines, nc * sizeof(*nl)) : NULL;
				if (nv)
					r->cmds = nv;
				if (nl)
					r->lines = nl;
				if (!nv || !nl) {
					snprintf(status, sizeof(status), "error: out of memory");
					bad = true;
				}
				cap = nv && nl ? nc : cap;
			}
			if (bad) {
				vmdq_cmd_clear(&cmd);
			} else {
				r->cmds[r->ncmds] = cmd;
				r->lines[r->ncmds++] = line;
			}
		}
		p = e + 1;
	}
	if (bad) {
		reply(k, status, NULL);
	} else if (r->ncmds == 0) {
		reply(k, "ok", NULL);
	} else {
		to_worker(c, r);
		if (r->rc < 0) {
			snprintf(status, sizeof(status), "error: %u: %s", r->fail_line, r->err);
			reply(k, status, r->out);
		} else {
			reply(k, "ok", r->out);
		}
	}
	for (size_t i = 0; i < r->ncmds; i++)
		vmdq_cmd_clear(&r->cmds[i]);
	free(r->cmds);
	free(r->lines);
	free(r->out);
	free(r);
}

static void client_close(struct ctl_client *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->out);
	free(k->batch);
	k->batch = NULL;
	k->blen = k->bcap = 0;
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

/* Room for more of a batch (doubling up to CTL_MAX_BATCH + 1 bytes: one
 * past the bound tells a batch too long); false: out of memory. */
static bool batch_room(struct ctl_client *k)
{
	if (k->blen < k->bcap)
		return true;
	size_t nc = k->bcap ? 2 * k->bcap : 65536;
	if (nc > CTL_MAX_BATCH + 1)
		nc = CTL_MAX_BATCH + 1;
	char *nb = nc > k->bcap ? realloc(k->batch, nc + 1) : NULL;
	if (!nb)
		return false;
	k->batch = nb;
	k->bcap = nc;
	return true;
}

/* One read of a batch; it runs once the client has sent all of it. */
static void batch_recv(struct ctl *c, struct ctl_client *k, uint64_t now)
{
	if (!batch_room(k)) {
		reply(k, "error: out of memory", NULL);
		client_send(k, now);
		return;
	}
	ssize_t n = recv(k->fd, k->batch + k->blen, k->bcap - k->blen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		client_close(k);
		return;
	}
	k->active_ns = now;
	k->blen += (size_t)n;
	if (k->blen > CTL_MAX_BATCH)
		reply(k, "error: batch too long (" CTL_STR(CTL_MAX_BATCH) " bytes at most)", NULL);
	else if (n > 0)
		return; /* more to come, or the end */
	else
		serve_batch(c, k);
	client_send(k, now);
}

/* One read of what the client sent (one per round: clients take turns);
 * the request runs once its line is complete. */
static void client_recv(struct ctl *c, struct ctl_client *k, uint64_t now)
{
	if (k->batch) {
		batch_recv(c, k, now);
		return;
	}
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
		size_t l1 = nl ? (size_t)(nl - k->in) : 0;
		if (nl && l1 == sizeof(CTL_BATCH_HDR) - 1 && memcmp(k->in, CTL_BATCH_HDR, l1) == 0) {
			/* a batch: what came after the line is its start */
			size_t rest = k->inlen - l1 - 1;
			if (!batch_room(k)) {
				reply(k, "error: out of memory", NULL);
			} else {
				memcpy(k->batch, nl + 1, rest);
				k->blen = rest;
				return;
			}
		} else if (nl) {
			*nl = '\0';
			serve_one(c, k, k->in, l1);
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
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0 || c->wake_fd < 0 ||
	    pthread_create(&c->thread, NULL, ctl_main, c) != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		return -1;
	}
	c->running = true;
	return 0;
}

struct ctl *ctl_open(const char *path, struct apply_env *env, char *err, size_t errlen)
{
	struct ctl *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->path = path;
	c->env = env;
	c->lfd = c->stop_fd = c->wake_fd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (ctl_start(c, err, errlen) < 0) {
		ctl_close(c);
		return NULL;
	}
	return c;
}

void ctl_close(struct ctl *c)
{
	if (!c)
		return;
	if (c->running) {
		uint64_t one = 1;
		c->closing = true; /* a batch in flight: the rest is not run */
		if (write(c->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot happen on a fresh eventfd */
		}
		/* a request in flight must still get its answer */
		while (pthread_tryjoin_np(c->thread, NULL) != 0) {
			ctl_serve(c);
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
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
