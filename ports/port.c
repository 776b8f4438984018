/* SPDX-License-Identifier: MIT */
#include <string.h>

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
