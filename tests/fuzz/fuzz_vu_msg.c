/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the vhost-user message handler (vhost/vu.c).  The input is a
 * stream of messages as on the socket (request, flags, size, payload); the
 * flags' bits 8-10 say how many descriptors came with a message: real
 * ones, as the checks want (a memory table gets a 64 KiB memfd for each
 * region, anything else an eventfd; bit 11 makes them pipes instead, which
 * must be refused).  "Mapping" a region gives a zeroed buffer of its size (up to 64 KiB),
 * so ring setup and memory tables are exercised for real; after the stream
 * the rings that came alive are walked once (their buffers' pages marked
 * while logging is on).  Checked on the way: a request vu.c's table does
 * not know never breaks the device, and every answer is an 8-byte reply to
 * the request that asked (or SET_LOG_BASE's empty one: its log taken).
 * SET_LOG_BASE gets the memory table's memfd (as a log, up to 64 KiB).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vhost/vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *fmap(void *arg, int fd, size_t len)
{
	(void)arg;
	(void)fd;
	return len && len <= 65536 ? calloc(1, len) : NULL;
}

static void funmap(void *arg, void *addr, size_t len)
{
	(void)arg;
	(void)len;
	free(addr);
}

/* An fd of the kind a message would carry. */
static int some_fd(uint32_t request, bool pipe_instead)
{
	static int mem = -1;
	if (pipe_instead) {
		int p[2];
		if (pipe(p) < 0)
			abort();
		close(p[0]);
		return p[1];
	}
	if (request == VU_SET_MEM_TABLE || request == VU_SET_LOG_BASE) {
		if (mem < 0 && ((mem = memfd_create("fuzz", MFD_CLOEXEC)) < 0 ||
				ftruncate(mem, 65536) < 0))
			abort();
		return dup(mem);
	}
	return eventfd(0, EFD_CLOEXEC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_host_ops ops = { .map = fmap, .unmap = funmap };
	struct vu_dev d;
	vu_dev_init(&d, &ops);
	d.max_qp = VU_MAX_QP; /* every ring index a guest may name */
	size_t off = 0;
	while (off + VU_HDR_SIZE <= size) {
		struct vu_msg m, r;
		memset(&m, 0, sizeof(m));
		memcpy(&m.request, data + off, 4);
		memcpy(&m.flags, data + off + 4, 4);
		memcpy(&m.size, data + off + 8, 4);
		off += VU_HDR_SIZE;
		size_t take = m.size < VU_MAX_PAYLOAD ? m.size : VU_MAX_PAYLOAD;
		if (take > size - off)
			take = size - off;
		memcpy(&m.u, data + off, take);
		off += take;
		m.nfds = (m.flags >> 8) & 7;
		for (unsigned i = 0; i < m.nfds; i++)
			m.fds[i] = some_fd(m.request, m.flags & 0x800);
		/* the request table's promises: a request it does not know is
		 * refused without breaking the device (unless the header lies),
		 * and every answer is the 8-byte reply to the request asked */
		uint32_t req = m.request;
		bool unknown = strcmp(vu_request_name(req), "UNKNOWN") == 0;
		bool header_ok = (m.flags & VU_FLAG_VERSION_MASK) == VU_VERSION;
		uint64_t bad = d.errors[VU_E_MSG];
		int rc = vu_handle(&d, &m, &r);
		if (rc < 0)
			break;
		if (unknown && header_ok && d.errors[VU_E_MSG] != bad)
			abort();
		bool empty_ok = req == VU_SET_LOG_BASE && d.log.base;
		if (rc == 1 && (r.request != req || r.flags != (VU_VERSION | VU_FLAG_REPLY) ||
				(r.size != 8 && !(r.size == 0 && empty_ok)) || r.nfds))
			abort();
	}
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		struct vu_vring *v = &d.vq[i];
		if (!vu_ring_live(&d, i) || !v->inflight)
			continue;
		unsigned n = vu_avail_count(&d, v);
		for (unsigned k = 0; k < n && !d.broken; k++) {
			struct vu_chain c;
			if (vu_pop(&d, v, i == 0, &c) < 0)
				break;
			for (unsigned s = 0; s < c.nseg; s++) {
				memset(c.seg[s].p, 0, c.seg[s].len);
				if (vu_log_on(&d))
					vu_log_host(&d, c.seg[s].p, c.seg[s].len);
			}
			vu_used_put(v, c.head, 0);
		}
		vu_used_publish(v);
	}
	vu_dev_reset(&d);
	return 0;
}
