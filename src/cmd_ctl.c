/* SPDX-License-Identifier: MIT */
/* vmdq ctl: one command to a running switch, its reply printed. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "subcmds.h"

static const char ctl_help[] =
	"usage: vmdq ctl [--ctl SOCKET] [-j] COMMAND...\n"
	"\n"
	"Sends one command to a running 'vmdq switch' and prints its reply.  Any\n"
	"command of the config language works (device, filter, queue, vif ...,\n"
	"vif del NAME), and:\n"
	"  show queues | filters | vifs | fdb | stats    tables; with -j, JSON\n"
	"\n"
	"  --ctl SOCKET   the switch's control socket (default " CTL_DEFAULT_SOCKET ")\n"
	"  -j, --json     JSON instead of tables\n"
	"  -h, --help     this text\n"
	"\n"
	"Exit status: 0 the switch accepted the command; 1 it refused it (the\n"
	"reason is on stderr) or could not be reached; 2 bad usage.\n";

int cmd_ctl(int argc, char **argv)
{
	const char *sock = CTL_DEFAULT_SOCKET;
	bool json = false;
	int i = 1;
	/* options in any order before COMMAND */
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(ctl_help, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "vmdq ctl: unknown option '%s'\n", argv[i]);
			fputs(ctl_help, stderr);
			return EXIT_USAGE;
		} else {
			break;
		}
	}
	if (i == argc) {
		fprintf(stderr, "vmdq ctl: missing COMMAND\n");
		fputs(ctl_help, stderr);
		return EXIT_USAGE;
	}
	char req[CTL_MAX_REQUEST];
	size_t len = (size_t)snprintf(req, sizeof(req), "%s", json ? "-j" : "");
	for (; i < argc; i++) {
		if (strchr(argv[i], '\n')) {
			fprintf(stderr, "vmdq ctl: a command is one line\n");
			return EXIT_USAGE;
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, "%s%s",
					len ? " " : "", argv[i]);
		if (len >= sizeof(req) - 2) {
			fprintf(stderr, "vmdq ctl: command too long\n");
			return EXIT_USAGE;
		}
	}
	req[len++] = '\n';

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vmdq ctl: %s: path too long\n", sock);
		return EXIT_USAGE;
	}
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vmdq ctl: %s: %s (is 'vmdq switch' running?)\n", sock,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, req, len) != (ssize_t)len) {
		fprintf(stderr, "vmdq ctl: %s: %s\n", sock, strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	size_t cap = 65536, got = 0;
	char *reply = malloc(cap);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, CTL_TIMEOUT_MS * 6) != 1) {
			fprintf(stderr, "vmdq ctl: %s: no reply\n", sock);
			free(reply);
			close(fd);
			return 1;
		}
		if (got + 4096 > cap) {
			cap *= 2;
			char *n = realloc(reply, cap);
			if (!n)
				break;
			reply = n;
		}
		ssize_t r = read(fd, reply + got, cap - got - 1);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	reply[got] = '\0';
	char *nl = strchr(reply, '\n');
	int status;
	if (nl && strncmp(reply, "ok\n", 3) == 0) {
		fputs(nl + 1, stdout);
		status = 0;
	} else {
		if (nl)
			*nl = '\0';
		fprintf(stderr, "vmdq ctl: %s\n", got ? reply : "the switch closed the connection");
		if (nl && nl[1])
			fputs(nl + 1, stderr);
		status = 1;
	}
	free(reply);
	return status;
}
