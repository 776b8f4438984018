/* SPDX-License-Identifier: MIT */
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"

static const struct port_ops *const all[] = {
	&port_pcap_ops,
	&port_tap_ops,
	&port_afpacket_ops,
	&port_afxdp_ops,
	&port_vhost_user_ops,
	&port_dummy_ops,
};

const struct port_ops *port_ops_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->kind, kind) == 0)
			return all[i];
	return NULL;
}

uint32_t port_link_frame_max(const char *ifname)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return 0;
	strcpy(ifr.ifr_name, ifname);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	if (rc < 0 || ifr.ifr_mtu <= 0)
		return 0;
	return (uint32_t)ifr.ifr_mtu + 18; /* Ethernet header and one 802.1Q tag */
}

void port_status_off_refused(struct port_status *st, const uint64_t *refused)
{
	for (unsigned e = VMDQ_OFF_ERR_NONE + 1; e < VMDQ_OFF_ERR__COUNT; e++) {
		st->names[st->n] = vmdq_off_err_name((enum vmdq_off_err)e);
		st->vals[st->n++] = refused[e];
	}
}
