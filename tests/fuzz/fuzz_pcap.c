/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a capture file, read by the pcap reader and sorted frame by
 * frame the way `vmdq sort` does.  Seeds: the tcpdump captures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmdq/vmdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static uint8_t *buf;
	if (!buf) {
		snprintf(path, sizeof(path), "/tmp/vmdq-fuzz-pcap-%d", (int)getpid());
		buf = malloc(VMDQ_PCAP_SNAPLEN);
		vmdq_thread_online();
	}
	/* a fresh device per input keeps runs independent */
	struct vmdq_dev *dev = vmdq_dev_create();
	vmdq_dev_batch_begin(dev);
	vmdq_dev_set_vmdq(dev, true);
	vmdq_dev_set_promisc(dev, true);
	vmdq_dev_set_store_bad(dev, true);
	vmdq_dev_set_allmulti(dev, true);
	uint8_t m[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };
	vmdq_filter_add(dev, m, 0, 1);
	vmdq_filter_add(dev, NULL, 100, 2);
	vmdq_dev_batch_commit(dev);
	for (unsigned q = 0; q < 16; q++) {
		vmdq_rxq_setup(dev, q, 2);
		struct vmdq_rxd d = { .buf = buf, .buf_size = VMDQ_PCAP_SNAPLEN };
		vmdq_rxq_post(dev, q, &d, 1);
	}
	FILE *f = fopen(path, "wb");
	if (!f) {
		vmdq_dev_destroy(dev);
		return 0;
	}
	fwrite(data, 1, size, f);
	fclose(f);
	char err[512];
	struct vmdq_pcap_reader *r = vmdq_pcap_open(path, err, sizeof(err));
	if (r) {
		struct vmdq_frame fr;
		while (vmdq_pcap_next(r, &fr) == 1) {
			struct vmdq_rx_result res;
			vmdq_rx_burst(dev, &fr, 1, &res);
			if (res.drop == VMDQ_DROP_NONE) {
				struct vmdq_rxd d;
				if (vmdq_rxq_poll(dev, (unsigned)res.queue, &d, 1) != 1 ||
				    d.len > fr.caplen)
					abort();
				vmdq_rxq_post(dev, (unsigned)res.queue, &d, 1);
			}
		}
		vmdq_pcap_close(r);
	}
	unlink(path);
	vmdq_dev_destroy(dev);
	return 0;
}
