/* guest_udp: UDP datagrams for the QEMU guests of vhost_qemu.sh (their
 * busybox nc has no UDP).  Built static by the test and put into the
 * guest's initramfs.  The datagrams are lib.sh udp_count's: 1400 bytes, a
 * 4-byte big-endian sequence number, then 1396 bytes of its low byte.
 *
 *   guest_udp send IP PORT COUNT   COUNT datagrams, 2 ms apart
 *   guest_udp recv PORT COUNT      prints how many arrived with the right
 *                                  contents, once COUNT have or 5 s after
 *                                  the last one (it waits for the first)
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DGRAM 1400

static void fill(unsigned char *b, uint32_t k)
{
	uint32_t be = htonl(k);
	memcpy(b, &be, 4);
	memset(b + 4, (int)(k & 0xff), DGRAM - 4);
}

int main(int argc, char **argv)
{
	unsigned char b[2048], want[DGRAM];
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("socket");
		return 1;
	}
	if (argc == 5 && !strcmp(argv[1], "send")) {
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
			return 2;
		a.sin_port = htons((uint16_t)atoi(argv[3]));
		long n = atol(argv[4]);
		for (long k = 0; k < n; k++) {
			fill(b, (uint32_t)k);
			if (sendto(s, b, DGRAM, 0, (struct sockaddr *)&a, sizeof(a)) != DGRAM) {
				perror("sendto");
				return 1;
			}
			usleep(2000);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "recv")) {
		a.sin_port = htons((uint16_t)atoi(argv[2]));
		int sz = 1 << 20;
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("bind");
			return 1;
		}
		long n = atol(argv[3]), good = 0;
		for (;;) {
			ssize_t r = recv(s, b, sizeof(b), 0);
			if (r < 0)
				break; /* the idle timeout, set after the first */
			uint32_t be;
			memcpy(&be, b, 4);
			fill(want, ntohl(be));
			if (r == DGRAM && !memcmp(b, want, DGRAM))
				good++;
			if (good == n)
				break;
			struct timeval tv = { .tv_sec = 5 };
			setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		printf("%ld\n", good);
		return 0;
	}
	fprintf(stderr, "usage: guest_udp send IP PORT COUNT | recv PORT COUNT\n");
	return 2;
}
