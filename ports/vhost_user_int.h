/* SPDX-License-Identifier: MIT */
/*
 * ports/vhost_user_int.h - what the three files of the vhost-user port
 * share (private: nothing outside ports/vhost_user*.c includes it).
 *
 *   vhost_user.c         the socket and its messages, guest memory, quiescing,
 *                        connection, service, status: the port's control
 *   vhost_user_input.c   guest -> switch: the guest's transmit rings (rx)
 *   vhost_user_output.c  switch -> guest: copies into the guest's receive
 *                        buffers (tx, mergeable buffers), and targeted
 *                        receive (its buffers on the device queues, the
 *                        switch's completions)
 *
 * Every function here runs on the vif's worker (port.h); struct vhu is that
 * worker's alone, but mem_fault (the SIGBUS guard, any thread).
 */
#ifndef VMDQ_VHOST_USER_INT_H
#define VMDQ_VHOST_USER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "port.h"
#include "vmdq/offload.h"
#include "../vhost/vu.h"

_Static_assert(PORT_OFF_CSUM == VMDQ_OFF_CAP_CSUM && PORT_OFF_TSO4 == VMDQ_OFF_CAP_TSO4 &&
	       PORT_OFF_TSO6 == VMDQ_OFF_CAP_TSO6 && PORT_OFF_USO == VMDQ_OFF_CAP_USO &&
	       PORT_OFF_ECN == VMDQ_OFF_CAP_ECN, "port offload bits are the library's");

#define VHU_BURST 64
#define VHU_FRAME 9216          /* largest frame from a guest (jumbo) without
				 * TSO/USO negotiated; with it, a super-frame
				 * of up to VMDQ_MAX_SUPER */
/* The port's buffer for frames from the guest (one rx call's): frames one
 * after another, each at a 64-byte boundary; a burst ends when the room
 * left could not take the largest frame the guest may send.  VHU_BURST
 * jumbo frames fit, or eight super-frames: the same memory either way. */
#define VHU_TXBUF ((size_t)VHU_BURST * VHU_FRAME)
/* Whether a vif offers the virtio-net offloads unless its line says
 * `offloads on|off`: on, since the switch segments and completes for the
 * next hops that cannot take what the guest sends. */
#define VHU_OFFLOADS_DEFAULT true
#define VHU_RARP_LEN 60         /* SEND_RARP's announcement: a minimum frame */
#define VHU_HDR 32              /* header replica of a targeted frame: MACs, two tags */
#define VHU_POST_MAX 256        /* shared buffers on the device queue, at most */
#define VHU_REFILL_MIN 16       /* refill once this many buffers fit (large rings) */
/* Messages handled per service round, at most: setting up a queue pair
 * takes about ten and a QEMU boot a few dozen, so an honest guest is up in
 * a few rounds; a flood costs its worker 16 messages' handling per round
 * (the rest waits in the socket: the next round comes back to it).  A
 * memory table costs the whole round's budget: up to eight fstat, mmap and
 * guard entries, and the old table's unmapping. */
#define VHU_MSG_BUDGET 16
/* Chains one tx_pair call takes from the ring, given back unused ones
 * included: 32 frames (the switch's burst) of up to 48 mergeable buffers (a
 * 64 KiB super-frame in Linux's smallest mergeable buffers, 1518 bytes,
 * takes 44). */
#define VHU_TX_POPS 1536
/* Descriptors one tx_pair call reads, at most: a burst of 32 frames in
 * Linux's big-packet chains (MAX_SKB_FRAGS + 2 each) is 608; a guest whose
 * buffers are many tiny pieces gets fewer frames a round, not more work. */
#define VHU_TX_DESCS 2048
/* virtio queue pair i: ring 2i receives (switch -> VM), 2i + 1 transmits;
 * its device queue is p->queue + i */
#define RXQ(i) (2 * (i))
#define TXQ(i) (2 * (i) + 1)

enum { C_CONNECTS, C_DISCONNECTS, C_REFUSED, C_SHORT_BUF, C_MEM_FAULT, C_MSG_DEFER,
       C_CALLS_LOST,
       C_TOO_BIG,       /* frames to the guest its buffers could not hold */
       C_OFF_REFUSED,   /* frames to the guest needing an offload it did not
			 * negotiate (a super-frame in a shared buffer) */
       C__COUNT };

struct vhu {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool client, targeted;
	bool offloads;          /* the virtio-net offloads are offered (`offloads on|off`) */
	int lfd, cfd, epfd;
	uint64_t next_connect_ns;
	uint64_t last_svc_ns;
	bool check_now;         /* look at the socket in the next service */
	bool quiescing;         /* no buffer goes on the device queues */
	bool light;             /* the message being handled leaves the posted
				 * buffers be (vhost_user.c, msg_quiesces) */
	/* Quiescing without calling back into the switch: a message that
	 * changes the rings, or a hang-up, waits (msg_waits, hangup) while
	 * service asks the worker to hand over the completions still in the
	 * queues (PORT_SERVICE_DRAIN), drains times so far. */
	bool msg_waits;         /* a whole message waits in in[] */
	const char *hangup;     /* why, while the hang-up waits */
	unsigned drains;
	bool retracted;         /* every shared buffer was taken back since the last post */
	uint32_t gen;           /* shared buffers' generation (cookies), bumped when
				 * completions are given up on */
	uint64_t base_seen;     /* d.base_mismatch + d.base_refused last looked at */
	bool base_told;         /* logged once this connection (tell_base) */
	bool notify_on;         /* the guest's kicks are enabled */
	int reg[VU_MAX_VRINGS]; /* kick fds in the epoll set */
	struct vu_dev d;
	unsigned nqp;           /* queue pairs offered */
	unsigned spread;        /* pairs the device spreads over (the guest's live ones) */
	/* targeted receive, per queue pair */
	struct vhu_rxr {
		unsigned posted;        /* shared buffers on the device queue */
		uint8_t *hdrbuf;        /* per head: VHU_HDR bytes of replica */
		uint8_t **vhdr;         /* per head: where its virtio-net header goes */
		unsigned ring_num;      /* size hdrbuf/vhdr were made for */
	} r[VU_MAX_QP];
	bool mem_shared;        /* the memory table is registered with the device */
	unsigned lead_len;      /* virtio-net header size the device queues write */
	/* guest -> switch */
	uint8_t *txbuf;         /* VHU_TXBUF bytes: reserved at open, resident
				 * only once a guest sends, given back
				 * (MADV_DONTNEED) when it disconnects */
	uint64_t off_err[VMDQ_OFF_ERR__COUNT]; /* the guest's frames refused for
						* their virtio-net header, by reason */
	/* the message being read: the socket is never waited on, a message
	 * that came in part waits here for the rest */
	/* the announcement SEND_RARP asked for (vhu_rarp_frame), given by rx
	 * before the guest's own frames */
	uint8_t rarp[VHU_RARP_LEN];
	uint8_t in[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	unsigned in_len;
	int in_fds[VU_MAX_FDS];
	unsigned in_nfds;
	/* set by the SIGBUS guard (any thread) when the guest's memory file
	 * shrank under one of our mappings: the vif breaks at the next service */
	atomic_uint mem_fault;
	uint64_t c[C__COUNT];
};

static inline bool rx_live(struct vhu *h, unsigned i)
{
	return vu_ring_live(&h->d, RXQ(i)) && h->d.vq[RXQ(i)].inflight;
}

/* Pair i's receive ring can take a buffer back, running or not: started,
 * mapped, of the size its per-head arrays were made for, the device not
 * broken.  A ring the guest disabled (SET_VRING_ENABLE 0, which does not
 * quiesce) is such a ring: no frame goes into it, but a buffer we hold
 * goes back to it empty rather than staying lost to the guest. */
static inline bool rx_intact(struct vhu *h, unsigned i)
{
	const struct vu_vring *v = &h->d.vq[RXQ(i)];
	return !h->d.broken && v->started && v->desc && v->inflight && v->num &&
	       h->r[i].ring_num == v->num;
}

/* A shared buffer's cookie: the generation it was posted in, its queue
 * pair and its head.  A completion of an older generation is of rings that
 * are gone: it is never written. */
static inline uint64_t cookie(const struct vhu *h, unsigned pair, uint16_t head)
{
	return (uint64_t)h->gen << 32 | (uint64_t)pair << 16 | head;
}

/* Dirty-page logging is on (live migration): a batch's one test. */
static inline bool vhu_logging(struct vhu *h)
{
	return __builtin_expect(vu_log_on(&h->d) != NULL, 0);
}

/* Frames are moving: the guest need not kick us on either ring while the
 * worker polls (vhu_idle enables the kicks again before it sleeps). */
static inline void quiet(struct vhu *h)
{
	if (!h->notify_on)
		return;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (vu_ring_live(&h->d, i))
			vu_notify_enable(&h->d, &h->d.vq[i], false);
	h->notify_on = false;
}

/* How many of a receive ring's buffers go on the device queue at most, and
 * in batches of how many: every refill reads the avail index, a line the
 * guest writes, and pays the device's post once. */
static inline unsigned post_limit(const struct vu_vring *v, unsigned *batch)
{
	unsigned limit = v->num - v->num / 4;
	if (limit > VHU_POST_MAX)
		limit = VHU_POST_MAX;
	*batch = limit / 4 < VHU_REFILL_MIN ? (limit / 4 ? limit / 4 : 1) : VHU_REFILL_MIN;
	return limit;
}

/* The offloads a guest's negotiated features allow (enum port_offload):
 * rx, what it may send us (CSUM, HOST_*); tx, what it takes (GUEST_CSUM,
 * GUEST_*).  Segmentation only with the checksum offload of its direction
 * (the spec's dependencies; a guest that breaks them gets less), ECN only
 * with TCP segmentation, USO to the guest only for both IP versions. */
static inline void vhu_caps_of(uint64_t f, uint32_t *rx, uint32_t *tx)
{
#define F_(b) ((f >> (b)) & 1u)
	*rx = *tx = 0;
	if (F_(VU_NET_F_CSUM)) {
		*rx = PORT_OFF_CSUM | (F_(VU_NET_F_HOST_TSO4) ? PORT_OFF_TSO4 : 0) |
		      (F_(VU_NET_F_HOST_TSO6) ? PORT_OFF_TSO6 : 0) |
		      (F_(VU_NET_F_HOST_USO) ? PORT_OFF_USO : 0);
		if (F_(VU_NET_F_HOST_ECN) && (*rx & (PORT_OFF_TSO4 | PORT_OFF_TSO6)))
			*rx |= PORT_OFF_ECN;
	}
	if (F_(VU_NET_F_GUEST_CSUM)) {
		*tx = PORT_OFF_CSUM | (F_(VU_NET_F_GUEST_TSO4) ? PORT_OFF_TSO4 : 0) |
		      (F_(VU_NET_F_GUEST_TSO6) ? PORT_OFF_TSO6 : 0) |
		      (F_(VU_NET_F_GUEST_USO4) && F_(VU_NET_F_GUEST_USO6) ? PORT_OFF_USO : 0);
		if (F_(VU_NET_F_GUEST_ECN) && (*tx & (PORT_OFF_TSO4 | PORT_OFF_TSO6)))
			*tx |= PORT_OFF_ECN;
	}
#undef F_
}

/* Segmentation the guest may send us: its frames may be super-frames. */
#define VHU_OFF_SUPER (PORT_OFF_TSO4 | PORT_OFF_TSO6 | PORT_OFF_USO)

/* One chain c of the guest's transmit ring as a frame: its hl-byte
 * virtio-net header (the chain's first bytes, in any pieces) parsed and
 * checked against what the guest negotiated (rx_caps, enum port_offload)
 * and against the frame, the frame (the rest) copied to dst (room for
 * VMDQ_MAX_SUPER bytes, or c->total - hl).  The header is never used for a
 * memory access but by vmdq_off_check on the copy.  Returns
 * VMDQ_OFF_ERR_NONE with *f set (data = dst; off checked, zero for an
 * ordinary frame), or why the frame is refused (SUPER_LONG: nothing
 * copied).  The caller checked c->total >= hl. */
enum vmdq_off_err vhu_chain_frame(const struct vu_chain *c, uint32_t hl, uint32_t rx_caps,
				  uint8_t *dst, struct vmdq_frame *f);

/* The announcement of a migrated guest's MAC (SEND_RARP): to everyone,
 * ethertype RARP (0x8035), a request reverse (opcode 3) for Ethernet and
 * IPv4 whose sender and target hardware addresses are mac and protocol
 * addresses 0, zeros to VHU_RARP_LEN bytes: what QEMU's own announcement
 * (and DPDK's) says.  Writes VHU_RARP_LEN bytes to out. */
void vhu_rarp_frame(const uint8_t mac[6], uint8_t *out);
/* vhost_user.c: the device learns the guest's memory (loud: say why not) */
void vhu_share_mem(struct port *p, bool loud);
/* vhost_user_input.c */
unsigned vhu_rx(struct port *p, unsigned pair, struct vmdq_frame *f, unsigned n);
/* vhost_user_output.c */
unsigned vhu_tx(struct port *p, const struct vmdq_frame *f, unsigned n);
unsigned vhu_complete(struct port *p, struct vmdq_rxd *d, unsigned n, const bool *deliver);
void vhu_refill(struct port *p);
void vhu_take_back(struct port *p, bool to_guest);

#endif
