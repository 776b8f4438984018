/* SPDX-License-Identifier: MIT */
/* A vhost-user front-end's message, for the tests and benchmarks that play
 * QEMU on a port's socket (test_vhost_user.c, bench_vu_log.c).  No cmocka:
 * the caller judges the result. */
#ifndef VMDQ_TEST_VU_FRONT_H
#define VMDQ_TEST_VU_FRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "../../vhost/vu.h"

/* Sends request req with size bytes of payload (and descriptor fd unless
 * it is negative) on socket s: true when the whole message went. */
static inline bool vu_front_send(int s, uint32_t req, const void *payload, uint32_t size, int fd)
{
	uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	uint32_t flags = VU_VERSION;
	if (size > VU_MAX_PAYLOAD)
		return false;
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VU_HDR_SIZE, payload, size);
	struct iovec iov = { buf, VU_HDR_SIZE + size };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(s, &mh, 0) == (ssize_t)(VU_HDR_SIZE + size);
}

#endif
