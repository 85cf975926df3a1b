// SPDX-License-Identifier: MIT
/*
 * sbserver: the splicebench data server.  Serves the offset pattern
 * (pattern.h) of `files` files of `file_size` bytes over TCP with the sbproto
 * wire format (sbproto.h), one thread per connection.
 *
 * The data lives in one memfd filled once at start (files x file_size bytes)
 * and is sent with send() from its mapping, sendfile() from the memfd, or
 * send(MSG_ZEROCOPY) from its mapping (--send).  The data never changes, so
 * zero-copy sends need no completion wait before the memory is reused; the
 * completions are only reaped so that the socket's error queue does not fill.
 *
 * Every request is validated; a malformed one gets an error response, one log
 * line, and its connection closed.  SIGINT/SIGTERM: stop accepting, shut every
 * connection down, print the counters and write --stats-file.
 *
 * Running it on a real remote host: build it there (make build/sbserver) and
 * start it with --bind 0.0.0.0 (or the address of the data NIC) and the same
 * --files/--file-size/--granule/--seed as the splicefs that reads from it;
 * splicefs then takes --source tcp://THAT_HOST:PORT.  HELLO refuses a client
 * whose parameters differ.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"
#include "memguard.h"
#include "opttab.h"
#include "sbproto.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

enum send_kind { SEND_SEND, SEND_SENDFILE, SEND_ZEROCOPY };

struct opts {
	const char *bind;
	uint64_t port;
	const char *port_file;
	uint64_t files;
	uint64_t file_size;
	uint64_t granule;
	uint64_t seed;
	const char *send;
	uint64_t max_len;
	uint64_t zc_min;
	uint64_t timeout;
	uint64_t max_conns;
	const char *stats_file;
	bool verbose;
	bool help;
};

static struct opts o;

#define O(f) offsetof(struct opts, f)

/* Every option, once: this table drives parsing, defaults and --help. */
// clang-format off
static const struct opt_desc opt_table[] = {
	{"bind", 0, OPT_STR, O(bind), "127.0.0.1", "ADDR", "address to listen on (0.0.0.0 or :: for all)"},
	{"port", 0, OPT_U64, O(port), "0", "N", "TCP port; 0 picks a free one (printed)", 0, 65535},
	{"port-file", 0, OPT_STR, O(port_file), NULL, "PATH", "write the port number to this file when ready"},
	{"files", 0, OPT_U64, O(files), "1", "N", "number of files served", 1, UINT32_MAX},
	{"file-size", 0, OPT_SIZE, O(file_size), "1G", "SIZE", "bytes per file (k/M/G suffixes)", 1, 1ULL << 46},
	{"granule", 0, OPT_SIZE, O(granule), "8", "SIZE", "pattern granule: multiple of 8 (fio's bs for %o)", 8, 1U << 30},
	{"seed", 0, OPT_U64, O(seed), "0", "N", "pattern seed (0 keeps fio's verify_pattern=%o)"},
	{"send", 0, OPT_STR, O(send), "send", "HOW", "how data is sent: send | sendfile | zerocopy"},
	{"max-len", 0, OPT_SIZE, O(max_len), "16M", "SIZE", "largest length served per request", 1, SBP_MAX_LEN_LIMIT},
	{"zc-min", 0, OPT_SIZE, O(zc_min), "16k", "SIZE", "zerocopy: smaller sends are copied"},
	{"timeout", 0, OPT_U64, O(timeout), "30", "SECONDS", "seconds a send, a HELLO or the rest of a started request may take (0 = none)"},
	{"max-conns", 0, OPT_U64, O(max_conns), "64", "N", "connections served at once; more are refused (HELLO status busy) and counted", 1, 100000},
	{"stats-file", 0, OPT_STR, O(stats_file), NULL, "PATH", "write counters as JSON here at exit"},
	{"verbose", 'v', OPT_BOOL, O(verbose), NULL, NULL, "log every connection"},
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help"},
};
// clang-format on

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sbserver [OPTIONS]\n"
	           "Serve splicebench pattern files over TCP (wire format: "
	           "daemons/common/sbproto.h).\n\n");
	opt_usage(f, opt_table, NOPTS);
}

static void die2(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die2(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sbserver: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

/* Set once by parse_opts; each connection copies it (and may fall back on its own). */
static enum send_kind send_kind;

static void parse_opts(int argc, char **argv)
{
	char err[256];
	int first = opt_parse(opt_table, NOPTS, &o, argc, argv, err, sizeof(err));

	if (first < 0)
		die2("%s", err);
	if (first < argc)
		die2("unexpected argument '%s'", argv[first]);
	if (o.help) {
		usage(stdout);
		exit(0);
	}
	if (o.file_size > (1ULL << 46) / o.files)
		die2("--files x --file-size too large");
	if (o.granule % 8)
		die2("--granule: must be a positive multiple of 8");
	if (!strcmp(o.send, "send"))
		send_kind = SEND_SEND;
	else if (!strcmp(o.send, "sendfile"))
		send_kind = SEND_SENDFILE;
	else if (!strcmp(o.send, "zerocopy"))
		send_kind = SEND_ZEROCOPY;
	else
		die2("--send: '%s' is not send, sendfile or zerocopy", o.send);
}

/* Can a file be created next to path (we write it via a temporary + rename)?  Else exit 2. */
static void check_out_file(const char *opt, const char *path)
{
	char probe[4200], dir[4096], *slash;
	int fd;

	if (!path)
		return;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	snprintf(probe, sizeof(probe), "%s/.sbserver-check.%d", dir, (int)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die2("--%s %s: cannot create files in %s: %s", opt, path, dir, strerror(errno));
	close(fd);
	unlink(probe);
}

/* ---- state ---- */

struct stats {
	uint64_t connections, requests, bytes, errors, hello_failures, zc_sends, zc_copied;
	uint64_t refused_cap, timeouts;
};

struct conn {
	int fd;
	enum send_kind kind; /* this connection's: SEND_SEND when SO_ZEROCOPY was refused */
	char peer[64];
	struct stats s;
	struct conn *next, **pprev;
};

static struct pattern pat;
static struct sbp_hello server_hello;
static int memfd = -1;
static const uint8_t *data;
static size_t data_len;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static struct conn *conns;
static int nconns;
static struct stats total;
static volatile sig_atomic_t stopping;
static int stop_pipe[2] = {-1, -1};
static bool refused_logged; /* accept loop only */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "sbserver: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	fputs(buf, stderr);
}

static int setup_data(void)
{
	uint8_t *p;

	data_len = o.files * o.file_size;
	{
		char why[1024];

		if (memguard_check(data_len, why, sizeof(why))) {
			fprintf(
			    stderr,
			    "sbserver: --files %llu x --file-size %llu does not fit in memory: %s; "
			    "use a smaller --file-size or fewer --files\n",
			    (unsigned long long)o.files, (unsigned long long)o.file_size, why);
			return -2;
		}
	}
	memfd = memfd_create("sbserver-data", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, data_len)) {
		logmsg("memfd of %zu bytes: %s", data_len, strerror(errno));
		return -1;
	}
	p = mmap(NULL, data_len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED) {
		logmsg("mmap of %zu bytes: %s", data_len, strerror(errno));
		return -1;
	}
	for (uint64_t f = 0; f < o.files; f++)
		pattern_fill(&pat, f, 0, p + f * o.file_size, o.file_size);
	mprotect(p, data_len, PROT_READ);
	data = p;
	return 0;
}

/* ---- one connection ---- */

/* Reap zero-copy completions; wait for one when `wait`. */
static void zc_reap(struct conn *c, bool wait)
{
	for (;;) {
		char ctrl[128];
		struct msghdr msg = {.msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
		struct cmsghdr *cm;

		if (recvmsg(c->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			struct pollfd pfd = {.fd = c->fd, .events = 0};

			if (errno != EAGAIN || !wait)
				return;
			if (poll(&pfd, 1, o.timeout ? (int)o.timeout * 1000 : -1) <= 0)
				return;
			wait = false;
			continue;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);

			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				continue;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				c->s.zc_copied += ee->ee_data - ee->ee_info + 1;
		}
	}
}

static int send_data(struct conn *c, const uint8_t *hdr, uint64_t pos, size_t len)
{
	size_t done = 0;
	ssize_t r;

	if (c->kind == SEND_SEND) {
		/* header and data in one sendmsg, then the rest */
		struct iovec iov[2] = {{(void *)hdr, SBP_RESP_LEN}, {(void *)(data + pos), len}};
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
		size_t total_len = SBP_RESP_LEN + len;

		while (done < total_len) {
			r = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += r;
			while (r > 0 && msg.msg_iovlen) {
				size_t k = (size_t)r < msg.msg_iov->iov_len ? (size_t)r
				                                            : msg.msg_iov->iov_len;

				msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + k;
				msg.msg_iov->iov_len -= k;
				r -= k;
				if (!msg.msg_iov->iov_len) {
					msg.msg_iov++;
					msg.msg_iovlen--;
				}
			}
		}
		return 0;
	}
	r = len ? send(c->fd, hdr, SBP_RESP_LEN, MSG_NOSIGNAL | MSG_MORE) : -1;
	if (!len || r != SBP_RESP_LEN) {
		int ret =
		    sbp_write_full(c->fd, hdr + (r > 0 ? r : 0), SBP_RESP_LEN - (r > 0 ? r : 0));

		if (ret)
			return ret;
	}
	while (done < len) {
		if (c->kind == SEND_SENDFILE) {
			off_t off = pos + done;

			r = sendfile(c->fd, memfd, &off, len - done);
		} else {
			int flags = MSG_NOSIGNAL;

			if (len - done >= o.zc_min) {
				flags |= MSG_ZEROCOPY;
				c->s.zc_sends++;
			}
			r = send(c->fd, data + pos + done, len - done, flags);
			if (r < 0 && errno == ENOBUFS && (flags & MSG_ZEROCOPY)) {
				zc_reap(c, true); /* optmem full of pending notifications */
				continue;
			}
			zc_reap(c, false);
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		done += r;
	}
	return 0;
}

static void send_error(struct conn *c, uint32_t status, uint64_t tag)
{
	struct sbp_resp rs = {.magic = SBP_RESP_MAGIC, .status = status, .tag = tag};
	uint8_t b[SBP_RESP_LEN];

	sbp_resp_encode(&rs, b);
	sbp_write_full(c->fd, b, sizeof(b));
}

static void set_rcvtimeo(int fd, int sec)
{
	struct timeval tv = {.tv_sec = sec};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static bool do_hello(struct conn *c)
{
	uint8_t b[SBP_HELLO_LEN];
	struct sbp_hello peer, reply = server_hello;
	char msg[160];
	size_t got;
	int ret, st;

	set_rcvtimeo(c->fd, o.timeout);
	ret = sbp_read_full(c->fd, b, sizeof(b), &got);
	set_rcvtimeo(c->fd, 0);
	if (ret) {
		if (!(ret == -ECONNRESET && got == 0) || o.verbose)
			logmsg("%s: HELLO: %s after %zu of %d bytes", c->peer,
			       ret == -ECONNRESET ? "connection closed" : strerror(-ret), got,
			       SBP_HELLO_LEN);
		c->s.hello_failures++;
		if (ret == -ETIMEDOUT)
			c->s.timeouts++;
		return false;
	}
	sbp_hello_decode(b, &peer);
	st = sbp_hello_check(&server_hello, &peer, msg, sizeof(msg));
	reply.status = st;
	sbp_hello_encode(&reply, b);
	if (st != SBP_ST_OK) {
		logmsg("%s: HELLO refused: %s", c->peer, msg);
		c->s.hello_failures++;
		if (st != SBP_ST_PROTO) /* a splicebench peer: tell it why */
			sbp_write_full(c->fd, b, sizeof(b));
		return false;
	}
	return sbp_write_full(c->fd, b, sizeof(b)) == 0;
}

static void serve(struct conn *c)
{
	uint8_t b[SBP_REQ_LEN], hdr[SBP_RESP_LEN];
	struct sbp_req rq;
	struct sbp_resp rs = {.magic = SBP_RESP_MAGIC};
	char why[160];
	uint32_t len;
	size_t got;
	int ret, st;

	if (!do_hello(c))
		return;
	/*
	 * Between requests a connection may idle as long as it likes (a reader
	 * between two reads), but a request once started must arrive within
	 * --timeout: SO_RCVTIMEO bounds every recv, a timeout with nothing read
	 * is idling, one part-way through a frame closes the connection.
	 */
	set_rcvtimeo(c->fd, o.timeout);
	for (;;) {
		ret = sbp_read_full(c->fd, b, sizeof(b), &got);
		if (ret == -ETIMEDOUT && got == 0 && !stopping)
			continue; /* idle */
		if (ret == -ECONNRESET && got == 0)
			return; /* clean close between requests */
		if (ret) {
			if (!stopping) {
				logmsg("%s: request: %s after %zu of %d bytes; closing", c->peer,
				       ret == -ECONNRESET  ? "truncated frame"
				       : ret == -ETIMEDOUT ? "timed out"
				                           : strerror(-ret),
				       got, SBP_REQ_LEN);
				c->s.errors++;
				if (ret == -ETIMEDOUT)
					c->s.timeouts++;
			}
			return;
		}
		sbp_req_decode(b, &rq);
		st = sbp_req_check(&rq, &server_hello, &len, why, sizeof(why));
		if (st != SBP_ST_OK) {
			logmsg("%s: malformed request: %s; closing", c->peer, why);
			c->s.errors++;
			send_error(c, st, rq.tag);
			return;
		}
		c->s.requests++;
		rs.status = SBP_ST_OK;
		rs.length = len;
		rs.tag = rq.tag;
		sbp_resp_encode(&rs, hdr);
		ret = send_data(c, hdr, (uint64_t)rq.file * o.file_size + rq.offset, len);
		if (ret) {
			if (!stopping) {
				logmsg("%s: send: %s; closing", c->peer, strerror(-ret));
				c->s.errors++;
			}
			return;
		}
		c->s.bytes += len;
	}
}

/*
 * Over --max-conns: answer with our HELLO, status busy, without waiting for
 * the client's (a splicebench client then says "server busy"), and close.
 */
static void refuse_busy(struct conn *c)
{
	struct sbp_hello h = server_hello;
	uint8_t b[SBP_HELLO_LEN];

	h.status = SBP_ST_BUSY;
	sbp_hello_encode(&h, b);
	if (send(c->fd, b, sizeof(b), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the refusal is counted either way */
	}
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	if (o.verbose || !refused_logged) {
		logmsg("%s: refused: %llu connections already (--max-conns)%s", c->peer,
		       (unsigned long long)o.max_conns,
		       o.verbose ? "" : "; further refusals are counted, not logged");
		refused_logged = true;
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	if (o.verbose)
		logmsg("%s: connected", c->peer);
	serve(c);
	if (o.verbose)
		logmsg("%s: closed after %llu requests, %llu bytes", c->peer,
		       (unsigned long long)c->s.requests, (unsigned long long)c->s.bytes);
	pthread_mutex_lock(&lock);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	total.requests += c->s.requests;
	total.bytes += c->s.bytes;
	total.errors += c->s.errors;
	total.hello_failures += c->s.hello_failures;
	total.zc_sends += c->s.zc_sends;
	total.zc_copied += c->s.zc_copied;
	total.timeouts += c->s.timeouts;
	close(c->fd);
	if (--nconns == 0)
		pthread_cond_broadcast(&idle_cond);
	pthread_mutex_unlock(&lock);
	free(c);
	return NULL;
}

/* ---- listening, signals, stats ---- */

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stopping = 1;
	if (write(stop_pipe[1], "x", 1) < 0) {
		/* nothing to do: the flag is set */
	}
	errno = saved;
}

static void fmt_addr(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%d", host, port);
	} else {
		snprintf(out, len, "?");
	}
}

static int listen_on(char *where, size_t wlen, int *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[16];
	int fd, one = 1, ret;

	snprintf(portstr, sizeof(portstr), "%llu", (unsigned long long)o.port);
	ret = getaddrinfo(o.bind, portstr, &hints, &res);
	if (ret) {
		logmsg("--bind %s: %s", o.bind, gai_strerror(ret));
		return -2;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		logmsg("socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
		logmsg("listen on %s port %s: %s", o.bind, portstr, strerror(errno));
		freeaddrinfo(res);
		close(fd);
		return -1;
	}
	freeaddrinfo(res);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	fmt_addr((struct sockaddr *)&ss, where, wlen);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int write_file_atomic(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f)) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void report(double secs)
{
	char js[1024];

	snprintf(
	    js, sizeof(js),
	    "{\"send\":\"%s\",\"seconds\":%.3f,\"connections\":%llu,\"requests\":%llu,"
	    "\"bytes\":%llu,\"errors\":%llu,\"hello_failures\":%llu,\"zerocopy_sends\":%llu,"
	    "\"zerocopy_copied\":%llu,\"refused_cap\":%llu,\"timeouts\":%llu,\"max_conns\":%llu,"
	    "\"files\":%llu,\"file_size\":%llu,\"granule\":%llu,\"seed\":%llu}\n",
	    o.send, secs, (unsigned long long)total.connections, (unsigned long long)total.requests,
	    (unsigned long long)total.bytes, (unsigned long long)total.errors,
	    (unsigned long long)total.hello_failures, (unsigned long long)total.zc_sends,
	    (unsigned long long)total.zc_copied, (unsigned long long)total.refused_cap,
	    (unsigned long long)total.timeouts, (unsigned long long)o.max_conns,
	    (unsigned long long)o.files, (unsigned long long)o.file_size,
	    (unsigned long long)o.granule, (unsigned long long)o.seed);
	fprintf(stderr,
	        "sbserver: exit: %llu connections, %llu requests, %llu bytes, %llu errors, "
	        "%llu HELLO failures, %llu refused (cap %llu), %llu timeouts\n",
	        (unsigned long long)total.connections, (unsigned long long)total.requests,
	        (unsigned long long)total.bytes, (unsigned long long)total.errors,
	        (unsigned long long)total.hello_failures, (unsigned long long)total.refused_cap,
	        (unsigned long long)o.max_conns, (unsigned long long)total.timeouts);
	if (o.stats_file && write_file_atomic(o.stats_file, js))
		logmsg("--stats-file %s: %s", o.stats_file, strerror(errno));
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct timespec t0, t1;
	char where[96];
	int lfd, port, one = 1, ret;
	pthread_attr_t attr;

	parse_opts(argc, argv);
	check_out_file("stats-file", o.stats_file);
	check_out_file("port-file", o.port_file);
	pat.seed = o.seed;
	pat.granule = o.granule;
	sbp_hello_init(&server_hello, o.files, o.file_size, o.granule, o.seed);
	server_hello.max_len = o.max_len;

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK)) {
		logmsg("pipe: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_on(where, sizeof(where), &port);
	if (lfd < 0)
		return lfd == -2 ? 2 : 1;
	if ((ret = setup_data()))
		return ret == -2 ? 2 : 1;
	if (o.port_file) {
		char s[16];

		snprintf(s, sizeof(s), "%d\n", port);
		if (write_file_atomic(o.port_file, s)) {
			logmsg("--port-file %s: %s", o.port_file, strerror(errno));
			return 1;
		}
	}
	printf("sbserver: listening on %s (files %llu x %llu bytes, granule %llu, seed %llu, "
	       "send %s)\n",
	       where, (unsigned long long)o.files, (unsigned long long)o.file_size,
	       (unsigned long long)o.granule, (unsigned long long)o.seed, o.send);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 << 10);
	while (!stopping) {
		struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN},
		                        {.fd = stop_pipe[0], .events = POLLIN}};
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		pthread_t th;
		bool full;
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			logmsg("poll: %s", strerror(errno));
			break;
		}
		if (stopping || !(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				logmsg("accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				usleep(100000);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->kind = send_kind;
		fmt_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
		pthread_mutex_lock(&lock);
		full = (uint64_t)nconns >= o.max_conns;
		if (full)
			total.refused_cap++;
		pthread_mutex_unlock(&lock);
		if (full) {
			refuse_busy(c);
			free(c);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (o.timeout) {
			struct timeval tv = {.tv_sec = o.timeout};

			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		}
		if (c->kind == SEND_ZEROCOPY &&
		    setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
			logmsg("%s: SO_ZEROCOPY: %s; this connection falls back to send", c->peer,
			       strerror(errno));
			c->kind = SEND_SEND;
		}
		pthread_mutex_lock(&lock);
		c->next = conns;
		if (conns)
			conns->pprev = &c->next;
		c->pprev = &conns;
		conns = c;
		nconns++;
		total.connections++;
		if (pthread_create(&th, &attr, conn_thread, c)) {
			logmsg("pthread_create: %s", strerror(errno));
			conns = c->next;
			if (conns)
				conns->pprev = &conns;
			nconns--;
			close(fd);
			free(c);
		}
		pthread_mutex_unlock(&lock);
	}
	close(lfd);

	/* Wake every connection thread and wait (bounded) for them to go. */
	pthread_mutex_lock(&lock);
	for (struct conn *c = conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	for (int i = 0; i < 50 && nconns; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&idle_cond, &lock, &ts);
	}
	if (nconns)
		logmsg("%d connections still busy at exit", nconns);
	pthread_mutex_unlock(&lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
