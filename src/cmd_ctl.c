/* SPDX-License-Identifier: MIT */
/* vmdq ctl: one command to a running switch, its reply printed; or, with
 * -f, a file of commands sent as one batch (ctl_proto.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "subcmds.h"

static const char ctl_help[] =
	"usage: vmdq ctl [--ctl SOCKET] [-j] COMMAND...\n"
	"       vmdq ctl [--ctl SOCKET] -f FILE\n"
	"\n"
	"Sends one command to a running 'vmdq switch' and prints its reply.  Any\n"
	"command of the config language works (device, filter, queue, vif ...,\n"
	"vif del NAME), and:\n"
	"  show queues | filters | vifs | fdb | stats    tables; with -j, JSON\n"
	"\n"
	"  --ctl SOCKET   the switch's control socket (default " CTL_DEFAULT_SOCKET ")\n"
	"  -j, --json     JSON instead of tables\n"
	"  -f, --file FILE  the commands of FILE ('-': standard input), one per\n"
	"                 line as in a config (" CTL_STR(CTL_MAX_BATCH_CMDS) " at most, no show), in one\n"
	"                 connection: every line is checked first (a bad one\n"
	"                 refuses them all, FILE:LINE: reason); then they run in\n"
	"                 order up to the first the switch refuses\n"
	"  -h, --help     this text\n"
	"\n"
	"Exit status: 0 the switch accepted the command (every command of FILE);\n"
	"1 it refused it (the reason is on stderr) or could not be reached; 2 bad\n"
	"usage.\n";

/* FILE whole (stdin for "-") after the batch's header line, into *req. */
static int read_batch(const char *path, char **req, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmdq ctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t hdr = sizeof(CTL_BATCH_HDR), cap = CTL_MAX_BATCH + hdr + 2, n = hdr;
	char *b = malloc(cap);
	if (!b) {
		fprintf(stderr, "vmdq ctl: out of memory\n");
		if (f != stdin)
			fclose(f);
		return -1;
	}
	memcpy(b, CTL_BATCH_HDR "\n", hdr);
	size_t got;
	while ((got = fread(b + n, 1, cap - n, f)) > 0 && (n += got) < cap) {
	}
	bool err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (err || n - hdr > CTL_MAX_BATCH) {
		fprintf(stderr, "vmdq ctl: %s: %s\n", path,
			err ? "read error" : "too long (" CTL_STR(CTL_MAX_BATCH) " bytes at most)");
		free(b);
		return -1;
	}
	if (n > hdr && b[n - 1] != '\n')
		b[n++] = '\n';
	*req = b;
	*len = n;
	return 0;
}

static int ctl_send(const char *sock, const char *req, size_t len, const char *file);

int cmd_ctl(int argc, char **argv)
{
	const char *sock = CTL_DEFAULT_SOCKET, *file = NULL;
	bool json = false;
	int i = 1;
	/* options in any order before COMMAND */
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--file") == 0) &&
			   i + 1 < argc) {
			file = argv[++i];
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
	if (file && (i < argc || json)) {
		fprintf(stderr, "vmdq ctl: -f FILE takes no COMMAND and no -j\n");
		fputs(ctl_help, stderr);
		return EXIT_USAGE;
	}
	if (i == argc && !file) {
		fprintf(stderr, "vmdq ctl: missing COMMAND\n");
		fputs(ctl_help, stderr);
		return EXIT_USAGE;
	}
	char line[CTL_MAX_REQUEST], *req = line;
	size_t len = file ? 0 : (size_t)snprintf(line, sizeof(line), "%s", json ? "-j" : "");
	if (file && read_batch(file, &req, &len) < 0)
		return 1;
	for (; !file && i < argc; i++) {
		if (strchr(argv[i], '\n')) {
			fprintf(stderr, "vmdq ctl: a command is one line\n");
			return EXIT_USAGE;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
					len ? " " : "", argv[i]);
		if (len >= sizeof(line) - 2) {
			fprintf(stderr, "vmdq ctl: command too long\n");
			return EXIT_USAGE;
		}
	}
	if (!file)
		line[len++] = '\n';
	int status = ctl_send(sock, req, len, file);
	if (req != line)
		free(req);
	return status;
}

/* The request to the switch, its reply printed: the output on stdout, the
 * reason of a refusal on stderr (FILE:LINE: for a batch's line). */
static int ctl_send(const char *sock, const char *req, size_t len, const char *file)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	signal(SIGPIPE, SIG_IGN); /* a switch that refuses early: EPIPE, not death */
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
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, req + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* the switch refused early: its reply says why */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			fprintf(stderr, "vmdq ctl: %s: %s\n", sock, strerror(errno));
			close(fd);
			return 1;
		}
		off += (size_t)w;
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
		char *end;
		unsigned long bl = file && strncmp(reply, "error: ", 7) == 0
			? strtoul(reply + 7, &end, 10) : 0;
		if (bl && strncmp(end, ": ", 2) == 0)
			fprintf(stderr, "%s:%lu: %s\n", strcmp(file, "-") == 0 ? "<stdin>" : file, bl,
				end + 2); /* a batch's line: as a config's */
		else
			fprintf(stderr, "vmdq ctl: %s\n", got ? reply : "the switch closed the connection");
		if (nl && nl[1])
			fputs(nl + 1, file ? stdout : stderr); /* a batch: what ran before */
		status = 1;
	}
	free(reply);
	return status;
}
