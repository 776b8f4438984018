/* The payload checker of tests/system/migrate.sh, built static by the test
 * (gcc -static) and run on both ends of the stream:
 *
 *   migrate_chk send IP PORT COUNT INTERVAL_US   on the external host
 *       (COUNT 0: until SIGINT or SIGTERM; it prints "sent N" at the end)
 *   migrate_chk recv PORT [PERIOD_MS]            in the guest (its console)
 *
 * Datagram k (k = 0, 1, ...) is LEN(k) bytes: k as 4 bytes big-endian, then
 * a pseudo-random stream seeded by k (xorshift32), so that no two datagrams
 * are alike and a stale page left by a missed dirty-page log (an older
 * datagram's bytes, or a zeroed page) never passes for a good one.  The
 * receiver checks every datagram's length and every byte and prints, every
 * PERIOD_MS (default 500) and whenever a count changes after a quiet spell:
 *
 *   chk: rx N bad B dup D max M
 *
 * N datagrams received whole and good, B received wrong (length or a byte),
 * D received twice (a good seq seen before), M the highest good seq (-1: none).
 * The first 8 bad datagrams are described on a line "chk: bad ..." each. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXSEQ (1u << 20) /* duplicate tracking: a bit per seq below this */

static size_t dgram_len(uint32_t k)
{
	return 64 + (size_t)(k * 2654435761u >> 7) % 1337; /* 64..1400 */
}

static void fill(uint32_t k, uint8_t *p, size_t len)
{
	uint32_t x = k * 2654435761u ^ 0x9e3779b9u;
	p[0] = (uint8_t)(k >> 24);
	p[1] = (uint8_t)(k >> 16);
	p[2] = (uint8_t)(k >> 8);
	p[3] = (uint8_t)k;
	for (size_t i = 4; i < len; i++) {
		if ((i & 3) == 0) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
		}
		p[i] = (uint8_t)(x >> (8 * (i & 3)));
	}
}

static volatile sig_atomic_t stop;
static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int do_send(const char *ip, int port, long count, long interval_us)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static uint8_t buf[1500];
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1) {
		perror("migrate_chk send");
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	uint64_t t0 = now_us();
	long sent = 0;
	for (long k = 0; (count == 0 || k < count) && !stop; k++) {
		/* paced on the clock: a late wake-up does not slow the stream */
		uint64_t due = t0 + (uint64_t)k * (uint64_t)interval_us, t = now_us();
		if (due > t)
			usleep((useconds_t)(due - t));
		size_t len = dgram_len((uint32_t)k);
		fill((uint32_t)k, buf, len);
		if (sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			sent++;
	}
	printf("sent %ld\n", sent);
	fflush(stdout);
	return 0;
}

static int do_recv(int port, long period_ms)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	static uint8_t buf[65536], want[1500], seen[MAXSEQ / 8];
	unsigned long rx = 0, bad = 0, dup = 0, shown = ~0ul;
	long max = -1;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int rcvbuf = 1 << 20;
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("migrate_chk recv");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("chk: listening on %d\n", port);
	uint64_t next = now_us();
	for (;;) {
		uint64_t t = now_us();
		if (t >= next) {
			/* quiet console when nothing changes: TCG pays for every byte */
			unsigned long sum = rx + bad + dup;
			if (sum != shown)
				printf("chk: rx %lu bad %lu dup %lu max %ld\n", rx, bad, dup, max);
			shown = sum;
			next = t + (uint64_t)period_ms * 1000u;
			continue;
		}
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, (int)((next - t + 999) / 1000)) <= 0)
			continue;
		ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			continue;
		uint32_t k = n >= 4 ? (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
					      (uint32_t)buf[2] << 8 | buf[3] : 0;
		size_t len = dgram_len(k);
		size_t off = 0;
		int good = n >= 4 && (size_t)n == len;
		if (good) {
			fill(k, want, len);
			while (off < len && buf[off] == want[off])
				off++;
			good = off == len;
		}
		if (!good) {
			if (++bad <= 8)
				printf("chk: bad seq %u len %zd (want %zu) first wrong byte %zu\n",
				       k, n, len, off);
			continue;
		}
		if (k < MAXSEQ && (seen[k / 8] >> (k % 8) & 1)) {
			dup++;
			continue;
		}
		if (k < MAXSEQ)
			seen[k / 8] |= (uint8_t)(1u << (k % 8));
		rx++;
		if ((long)k > max)
			max = (long)k;
	}
}

int main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc >= 3 && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), argc >= 4 ? atol(argv[3]) : 500);
	fprintf(stderr, "usage: migrate_chk send IP PORT COUNT INTERVAL_US | recv PORT [PERIOD_MS]\n");
	return 2;
}
