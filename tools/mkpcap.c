/* SPDX-License-Identifier: MIT */
/*
 * vmdq-mkpcap: writes an Ethernet capture from a small text description,
 * for the bundled example and the tests.  One frame per line:
 *
 *   DST SRC [svlan VID] [vlan VID]... [type 0xHHHH] [len N] [caplen N]
 *           [fcs good|bad] [repeat N] [gap NS]
 *
 * svlan adds an 802.1ad tag, vlan an 802.1Q tag, outermost first.  len is
 * the frame's length without FCS (default 64; shorter than 14 makes a runt),
 * caplen cuts the captured bytes short, fcs appends a trailing CRC-32 (good
 * or deliberately wrong), repeat emits N copies, gap is the time to the next
 * frame (default 1000 ns).  `#` starts a comment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vmdq/vmdq.h"

static int die(const char *file, unsigned line, const char *msg, const char *w)
{
	fprintf(stderr, "%s:%u: %s '%s'\n", file, line, msg, w ? w : "");
	return 1;
}

static int num(const char *s, unsigned long *v)
{
	char *end;
	if (!s)
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || *end || end == s ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vmdq-mkpcap FRAMES.txt OUT.pcap\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	char err[512];
	struct vmdq_pcap_writer *w = vmdq_pcap_create(argv[2], err, sizeof(err));
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	char line[1024];
	unsigned lineno = 0;
	uint64_t ts = 1700000000ull * 1000000000ull;
	static uint8_t f[VMDQ_PCAP_SNAPLEN + 4];
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *tok[64];
		int nt = 0;
		for (char *s = strtok(line, " \t\r\n"); s && nt < 64; s = strtok(NULL, " \t\r\n"))
			tok[nt++] = s;
		if (nt == 0)
			continue;
		uint8_t dst[6], src[6];
		if (nt < 2 || vmdq_mac_parse(tok[0], dst) < 0 || vmdq_mac_parse(tok[1], src) < 0)
			return die(argv[1], lineno, "expected DST SRC, got", tok[0]);
		unsigned long len = 64, caplen = ~0ul, repeat = 1, gap = 1000, type = 0x0800;
		int fcs = 0; /* 1 good, 2 bad */
		uint16_t tags[8][2];
		int ntags = 0;
		for (int i = 2; i < nt; i += 2) {
			const char *k = tok[i], *v = i + 1 < nt ? tok[i + 1] : NULL;
			unsigned long x = 0;
			if (strcmp(k, "fcs") == 0) {
				if (!v || (strcmp(v, "good") && strcmp(v, "bad")))
					return die(argv[1], lineno, "fcs wants good or bad, got", v);
				fcs = strcmp(v, "good") == 0 ? 1 : 2;
				continue;
			}
			if (num(v, &x) < 0)
				return die(argv[1], lineno, "bad number for", k);
			if ((strcmp(k, "vlan") == 0 || strcmp(k, "svlan") == 0) && ntags < 8) {
				tags[ntags][0] = strcmp(k, "vlan") == 0 ? 0x8100 : 0x88a8;
				tags[ntags][1] = (uint16_t)x;
				ntags++;
			} else if (strcmp(k, "type") == 0) {
				type = x;
			} else if (strcmp(k, "len") == 0 && x <= VMDQ_PCAP_SNAPLEN) {
				len = x;
			} else if (strcmp(k, "caplen") == 0) {
				caplen = x;
			} else if (strcmp(k, "repeat") == 0) {
				repeat = x;
			} else if (strcmp(k, "gap") == 0) {
				gap = x;
			} else {
				return die(argv[1], lineno, "unknown or out-of-range key", k);
			}
		}
		for (unsigned long r = 0; r < repeat; r++) {
			size_t o = 0;
			memcpy(f, dst, 6);
			memcpy(f + 6, src, 6);
			o = 12;
			for (int t = 0; t < ntags; t++) {
				f[o++] = (uint8_t)(tags[t][0] >> 8);
				f[o++] = (uint8_t)tags[t][0];
				f[o++] = (uint8_t)(tags[t][1] >> 8);
				f[o++] = (uint8_t)tags[t][1];
			}
			f[o++] = (uint8_t)(type >> 8);
			f[o++] = (uint8_t)type;
			for (; o < len; o++)
				f[o] = (uint8_t)(o + r);
			size_t total = len;
			if (fcs) {
				uint32_t c = (uint32_t)crc32(0L, f, (uInt)len);
				if (fcs == 2)
					c ^= 0xdeadbeef;
				f[len] = (uint8_t)c;
				f[len + 1] = (uint8_t)(c >> 8);
				f[len + 2] = (uint8_t)(c >> 16);
				f[len + 3] = (uint8_t)(c >> 24);
				total += 4;
			}
			size_t cl = caplen < total ? caplen : total;
			if (vmdq_pcap_write(w, f, (uint32_t)cl, (uint32_t)total, ts) < 0) {
				perror(argv[2]);
				return 1;
			}
			ts += gap;
		}
	}
	fclose(in);
	if (vmdq_pcap_finish(w) < 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
