// SPDX-License-Identifier: MIT
/*
 * sbslots: how many bytes one pipe slot holds when a TCP socket is spliced into
 * a pipe, on whatever path lies between a sender and this reader.
 *
 *   sbslots send  --listen ADDR:PORT [--bytes N] [--conns N] [--port-file F]
 *   sbslots probe --connect HOST:PORT [--pipe-size S] [--rcvbuf S] [--path NAME]
 *
 * splice(socket -> pipe) fills one pipe slot per socket-buffer fragment (adjacent
 * ranges of one page inside one skb merge), so the bytes a pipe of N slots can take
 * from a socket depend on how the path built its skbs: a loopback or veth sender's
 * page fragments coalesce (13-25 KB per slot), a NIC puts each packet into its own
 * receive buffer (about 1440 B per slot with a 1500-byte MTU).
 *
 * The probe makes the socket's receive queue hold more than the pipe can: a large
 * receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF) set before connect, then
 * it waits while the sender fills it (until the queue stops growing).  Then it
 * splices with SPLICE_F_NONBLOCK until EAGAIN.  The pipe was full only if the
 * socket still holds data (FIONREAD > 0); then bytes per slot = bytes in the pipe /
 * its slots (F_GETPIPE_SZ / page size).  One JSON line on stdout:
 *   {"path":"nic","pipe_size":1048576,"slots":256,"bytes_in_pipe":368640,
 *    "bytes_per_slot":1440.0,"full":true,"queued":..., "left_in_socket":...,"rcvbuf":...}
 * Exit 0: the pipe filled (the figure holds); 1: it did not (the queue held less than
 * the pipe: the line says so, "full":false); 2: bad usage or a failed call.
 *
 * The sender listens, accepts --conns connections one after the other (default 1)
 * and writes --bytes (default 64M) of non-zero data to each with write(2), until the
 * peer closes; then it exits.  It prints "sbslots: listening on ADDR:PORT" once ready.
 */
#include "opttab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *listen, *connect, *port_file, *path;
	uint64_t bytes, conns, pipe_size, rcvbuf, wait_ms;
	bool help;
};

#define O(f) offsetof(struct opts, f)
// clang-format off
static const struct opt_desc opt_table[] = {
	{"listen", 0, OPT_STR, O(listen), NULL, "ADDR:PORT", "send: listen here (port 0: any)"},
	{"bytes", 0, OPT_SIZE, O(bytes), "64M", "N", "send: bytes to write per connection", 1},
	{"conns", 0, OPT_U64, O(conns), "1", "N", "send: connections to serve, then exit", 1, 1000},
	{"port-file", 0, OPT_STR, O(port_file), NULL, "FILE", "send: write the port here once listening"},
	{"connect", 0, OPT_STR, O(connect), NULL, "HOST:PORT", "probe: the sender"},
	{"pipe-size", 0, OPT_SIZE, O(pipe_size), "1M", "SIZE", "probe: pipe size to ask for (F_SETPIPE_SZ)", 4096, 1ULL << 30},
	{"rcvbuf", 0, OPT_SIZE, O(rcvbuf), "32M", "SIZE", "probe: socket receive buffer, set before connect", 65536, 1ULL << 30},
	{"wait-ms", 0, OPT_U64, O(wait_ms), "20000", "MS", "probe: longest wait for the queue to fill", 100, 600000},
	{"path", 0, OPT_STR, O(path), "tcp", "NAME", "probe: the path's name in the JSON line"},
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help"},
};
// clang-format on
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sbslots send --listen ADDR:PORT [options]\n"
	           "       sbslots probe --connect HOST:PORT [options]\n");
	opt_usage(f, opt_table, NOPTS);
}

static int die(const char *what)
{
	fprintf(stderr, "sbslots: %s: %s\n", what, strerror(errno));
	return 2;
}

/* "HOST:PORT" into an IPv4 address; -1 with a message on failure. */
static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int rc;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host)) {
		fprintf(stderr, "sbslots: '%s' is not HOST:PORT\n", s);
		return -1;
	}
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535) {
		fprintf(stderr, "sbslots: bad port in '%s'\n", s);
		return -1;
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		fprintf(stderr, "sbslots: cannot resolve '%s': %s\n", host, gai_strerror(rc));
		return -1;
	}
	*sa = *(struct sockaddr_in *)res->ai_addr;
	sa->sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

static int do_send(const struct opts *o)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	static char buf[1 << 20];
	int ls, one = 1;

	if (parse_addr(o->listen, &sa))
		return 2;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(0x5a ^ (i * 131 + 7));
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 4))
		return die("bind/listen");
	if (getsockname(ls, (struct sockaddr *)&sa, &sl))
		return die("getsockname");
	if (o->port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", o->port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) || rename(tmp, o->port_file))
			return die("cannot write the port file");
	}
	fprintf(stderr, "sbslots: listening on %s:%u\n", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
	for (uint64_t c = 0; c < o->conns; c++) {
		int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		uint64_t left = o->bytes;

		if (s < 0) {
			if (errno == EINTR) {
				c--;
				continue;
			}
			return die("accept");
		}
		while (left) {
			size_t n = left < sizeof(buf) ? left : sizeof(buf);
			ssize_t w = send(s, buf, n, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break; /* the probe closed: done with this one */
			left -= (uint64_t)w;
		}
		/* Wait for the probe to close (it reads nothing more): then the next one. */
		shutdown(s, SHUT_WR);
		while (recv(s, buf, sizeof(buf), 0) > 0)
			;
		close(s);
	}
	close(ls);
	return 0;
}

static int queued(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int do_probe(const struct opts *o)
{
	struct sockaddr_in sa;
	int s, p[2], rb = (int)o->rcvbuf, got_rb = 0, q = 0, last = -1, stable = 0;
	socklen_t l = sizeof(got_rb);
	long waited = 0, psz, page = sysconf(_SC_PAGESIZE);
	long long in_pipe = 0;
	int left, in_pipe_fionread;
	bool full;

	if (parse_addr(o->connect, &sa))
		return 2;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return die("socket");
	/* Before connect, so that the window scale covers it. */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)))
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &got_rb, &l);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect");
	/*
	 * Wait until the queue stops growing (300 ms without change), holds 16 times the
	 * pipe's size (more than its slots can take: a slot holds at most 64 KiB), or the
	 * time is up.
	 */
	while (waited < (long)o->wait_ms) {
		sleep_ms(20);
		waited += 20;
		q = queued(s);
		if (q < 0)
			return die("FIONREAD on the socket");
		if ((uint64_t)q >= 16 * o->pipe_size)
			break;
		if (q == last && q > 0) {
			if (++stable >= 15)
				break;
		} else {
			stable = 0;
		}
		last = q;
	}
	if (pipe2(p, O_CLOEXEC))
		return die("pipe2");
	psz = fcntl(p[1], F_SETPIPE_SZ, (int)o->pipe_size);
	if (psz < 0) {
		fprintf(stderr, "sbslots: F_SETPIPE_SZ %llu: %s (pipe-max-size is %s)\n",
		        (unsigned long long)o->pipe_size, strerror(errno),
		        "/proc/sys/fs/pipe-max-size");
		return 2;
	}
	for (;;) {
		ssize_t n = splice(s, NULL, p[1], NULL, 1 << 30, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

		if (n > 0) {
			in_pipe += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return die("splice");
		break;
	}
	left = queued(s);
	in_pipe_fionread = queued(p[0]);
	full = left > 0;
	printf("{\"path\":\"%s\",\"pipe_size\":%ld,\"slots\":%ld,\"bytes_in_pipe\":%lld,"
	       "\"bytes_per_slot\":%.1f,\"full\":%s,\"queued\":%d,\"left_in_socket\":%d,"
	       "\"rcvbuf\":%d,\"waited_ms\":%ld}\n",
	       o->path, psz, psz / page, in_pipe, (double)in_pipe / (double)(psz / page),
	       full ? "true" : "false", q, left, got_rb, waited);
	fflush(stdout);
	if (in_pipe_fionread >= 0 && in_pipe_fionread != in_pipe)
		fprintf(stderr, "sbslots: the pipe holds %d bytes, splice reported %lld\n", in_pipe_fionread,
		        in_pipe);
	close(p[0]);
	close(p[1]);
	close(s);
	if (!full) {
		fprintf(stderr,
		        "sbslots: the pipe did not fill (%lld bytes; the socket's queue held %d): "
		        "raise --rcvbuf or the sender's --bytes\n",
		        in_pipe, q);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	char err[256];
	const char *cmd = argc > 1 ? argv[1] : "";
	int i;

	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "send") && strcmp(cmd, "probe")) {
		fprintf(stderr, "sbslots: the first argument must be send or probe (see sbslots --help)\n");
		return 2;
	}
	i = opt_parse(opt_table, NOPTS, &o, argc - 1, argv + 1, err, sizeof(err));
	if (i < 0) {
		fprintf(stderr, "sbslots: %s\n", err);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (i != argc - 1) {
		fprintf(stderr, "sbslots: unexpected argument '%s'\n", argv[i + 1]);
		return 2;
	}
	if (!strcmp(cmd, "send")) {
		if (!o.listen) {
			fprintf(stderr, "sbslots: send needs --listen ADDR:PORT\n");
			return 2;
		}
		return do_send(&o);
	}
	if (!o.connect) {
		fprintf(stderr, "sbslots: probe needs --connect HOST:PORT\n");
		return 2;
	}
	return do_probe(&o);
}
