// SPDX-License-Identifier: MIT
/*
 * tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver through the suite's
 * client code (daemons/common/sbproto.h: connect, HELLO, framing), one
 * connection per libfuse worker thread, made on its first read.
 *
 * libfuse-copy receives a read's bytes into the thread's buffer (one copy, by
 * recv) and replies with fuse_reply_buf().  libfuse-splice splices them from
 * the socket into the thread's pipe (page references, no copy) and gives
 * libfuse the pipe's read end as an fd buffer (FUSE_BUF_IS_FD, no seek):
 * libfuse splices pipe -> its own pipe (behind the header) -> /dev/fuse.  The
 * socket itself cannot be that fd buffer: libfuse makes one non-blocking
 * splice call per buffer, and a socket gives whatever has arrived, so most
 * replies would take libfuse's slowest path (a short splice: read the rest
 * into a fresh allocation and copy).  A pipe holds the whole reply first.
 *
 * When the pipe fills with small socket fragments before the reply is all in
 * (or cannot be made as large as --max-read), the bytes are read back from
 * the pipe and the rest received into the thread's buffer, and the reply
 * goes by copy: our own fallback, counted in fallback_full.
 *
 * Any doubt about the stream (I/O error, timeout, bad header) closes the
 * connection; the next read reconnects (retries with 50, 100, 200 ms ...
 * pauses), and the read that hit it fails with EIO.
 */
#include "ref.h"
#include "sbproto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct {
	char host[256];
	char port[16];
	int timeout_ms;
	int retries;
	struct sbp_hello hello; /* what we expect the server to serve */
} tcp;

static int parse_opts(const char *opts)
{
	while (opts && *opts) {
		const char *amp = strchr(opts, '&');
		size_t n = amp ? (size_t)(amp - opts) : strlen(opts);
		char kv[64], *eq, *end;
		double v;

		if (n >= sizeof(kv))
			return -EINVAL;
		memcpy(kv, opts, n);
		kv[n] = 0;
		eq = strchr(kv, '=');
		if (!eq)
			return -EINVAL;
		*eq++ = 0;
		v = strtod(eq, &end);
		if (*end || end == eq || v < 0)
			return -EINVAL;
		if (!strcmp(kv, "timeout") && v <= 3600)
			tcp.timeout_ms = (int)(v * 1000);
		else if (!strcmp(kv, "retries") && v <= 100)
			tcp.retries = (int)v;
		else
			return -EINVAL;
		opts = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* Connect and HELLO.  The fd, -EPROTO on a HELLO refusal (msg says why) or -errno. */
static int dial(char *msg, size_t msglen, struct sbp_hello *server)
{
	int fd = sbp_connect(tcp.host, tcp.port, tcp.timeout_ms, tcp.timeout_ms), ret;

	if (fd < 0) {
		snprintf(msg, msglen, "connect to %.200s:%s: %s", tcp.host, tcp.port,
		         strerror(-fd));
		return fd;
	}
	ret = sbp_client_hello(fd, &tcp.hello, server, msg, msglen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int tcp_setup(struct ref *r)
{
	struct sbp_hello server;
	const char *opts;
	char msg[256];
	int fd;

	tcp.timeout_ms = 10000;
	tcp.retries = 3;
	if (sbp_parse_addr(r->o.source, tcp.host, sizeof(tcp.host), tcp.port, sizeof(tcp.port),
	                   &opts) ||
	    parse_opts(opts)) {
		fprintf(
		    stderr,
		    "libfuse-ref: --source '%s': expected tcp://HOST:PORT[?timeout=S&retries=N]\n",
		    r->o.source);
		return -EINVAL;
	}
	sbp_hello_init(&tcp.hello, r->o.files, r->o.file_size, r->o.granule, r->o.seed);
	/* One HELLO now, so a wrong address or a mismatched server fails before the mount. */
	fd = dial(msg, sizeof(msg), &server);
	if (fd < 0) {
		fprintf(stderr, "libfuse-ref: tcp source: %s\n", msg);
		return fd == -EPROTO ? -EINVAL : fd;
	}
	close(fd);
	if (server.max_len < r->o.max_read) {
		fprintf(stderr,
		        "libfuse-ref: tcp source: the server serves at most %u bytes per request, "
		        "less than --max-read %u (start sbserver with --max-len %u)\n",
		        server.max_len, r->o.max_read, r->o.max_read);
		return -EINVAL;
	}
	return 0;
}

static void tcp_teardown(struct ref *r)
{
	(void)r;
}

static void drop(struct thr *t)
{
	if (t->sock >= 0)
		close(t->sock);
	t->sock = -1;
}

static int fail(struct thr *t, const char *what, int err)
{
	fprintf(stderr, "libfuse-ref[%d]: tcp source: %s: %s; dropping the connection\n", t->id,
	        what, strerror(-err));
	t->c.errors++;
	drop(t);
	return -EIO;
}

/* (Re)connect with bounded retries.  0 or -errno. */
static int reconnect(struct thr *t)
{
	char msg[256] = "";
	int fd = -ENOTCONN;

	drop(t);
	for (int i = 0; i <= tcp.retries; i++) {
		if (i) {
			struct timespec ts = {0, (50L << (i - 1 < 4 ? i - 1 : 4)) * 1000000L};

			nanosleep(&ts, NULL);
		}
		fd = dial(msg, sizeof(msg), NULL);
		if (fd >= 0 || fd == -EPROTO)
			break; /* a refused HELLO will not get better by retrying */
	}
	if (fd < 0) {
		fprintf(stderr, "libfuse-ref[%d]: tcp source: %s\n", t->id, msg);
		return fd;
	}
	t->sock = fd;
	if (t->connected)
		t->c.reconnects++;
	t->connected = true;
	return 0;
}

static int tcp_thread_init(struct thr *t)
{
	return reconnect(t);
}

static void tcp_thread_fini(struct thr *t)
{
	drop(t);
}

/* Send the request, take the response header: the data is next in the stream. */
static int request(struct thr *t, uint64_t file, uint64_t off, size_t size)
{
	struct sbp_req req = {.magic = SBP_REQ_MAGIC,
	                      .file = (uint32_t)file,
	                      .length = (uint32_t)size,
	                      .offset = off};
	struct sbp_resp resp;
	uint8_t b[SBP_REQ_LEN], h[SBP_RESP_LEN];
	char why[200];
	int ret;

	for (int attempt = 0;; attempt++) {
		bool fresh = t->sock < 0;

		if (t->sock < 0 && reconnect(t)) {
			t->c.errors++;
			return -EIO;
		}
		req.tag = ++t->tag;
		sbp_req_encode(&req, b);
		ret = sbp_write_full(t->sock, b, sizeof(b));
		if (!ret)
			ret = sbp_read_full(t->sock, h, sizeof(h), NULL);
		if (!ret)
			break;
		/* A connection that went away while idle (server restarted): once more. */
		if (!fresh && attempt == 0 && (ret == -ECONNRESET || ret == -EPIPE)) {
			drop(t);
			continue;
		}
		return fail(t, "request", ret);
	}
	sbp_resp_decode(h, &resp);
	if (sbp_resp_check(&resp, req.tag, (uint32_t)size, why, sizeof(why))) {
		fprintf(stderr, "libfuse-ref[%d]: tcp source: file %llu offset %llu: %s\n", t->id,
		        (unsigned long long)file, (unsigned long long)off, why);
		t->c.errors++;
		drop(t);
		return -EIO;
	}
	return 0;
}

static int tcp_to_mem(struct thr *t, uint64_t file, uint64_t off, size_t size, const void **p)
{
	int ret = request(t, file, off, size);

	if (ret)
		return ret;
	ret = sbp_read_full(t->sock, t->buf, size, NULL);
	if (ret)
		return fail(t, "receiving data", ret);
	t->c.source_bytes += size;
	*p = t->buf;
	return 0;
}

static int pipe_make(struct thr *t)
{
	long got;

	if (pipe2(t->pipe, O_CLOEXEC) < 0) {
		t->pipe[0] = t->pipe[1] = -1;
		return -errno;
	}
	got = fcntl(t->pipe[1], F_SETPIPE_SZ, (int)ref.o.max_read);
	if (got < 0)
		got = fcntl(t->pipe[1], F_GETPIPE_SZ); /* too small: replies that do not fit copy */
	t->pipe_size = got > 0 ? (size_t)got : 0;
	return 0;
}

/* Empty the pipe after a failed reply, so the next one starts clean. */
static void pipe_drain(struct thr *t)
{
	int n = 0;

	while (t->pipe[0] >= 0 && ioctl(t->pipe[0], FIONREAD, &n) == 0 && n > 0)
		if (read(t->pipe[0], t->buf,
		         (size_t)n < ref.o.max_read ? (size_t)n : ref.o.max_read) <= 0)
			break;
}

/* The pipe is full before the reply is all in: read it back, receive the rest, copy. */
static int to_buf_by_copy(struct thr *t, size_t in_pipe, size_t size, struct fuse_buf *b)
{
	size_t got = 0;
	int ret;

	while (got < in_pipe) {
		ssize_t r = read(t->pipe[0], t->buf + got, in_pipe - got);

		if (r <= 0) {
			pipe_drain(t);
			return fail(t, "reading back the pipe", r < 0 ? -errno : -EIO);
		}
		got += r;
	}
	ret = sbp_read_full(t->sock, t->buf + in_pipe, size - in_pipe, NULL);
	if (ret)
		return fail(t, "receiving data", ret);
	b->flags = 0;
	b->mem = t->buf;
	b->size = size;
	t->c.source_bytes += size;
	return 0;
}

/*
 * splice(socket -> pipe).  SPLICE_F_NONBLOCK makes only the pipe side
 * non-blocking; the socket side waits up to SO_RCVTIMEO, after which it also
 * says EAGAIN: a pipe with room left tells the two apart.
 */
static int tcp_to_buf(struct thr *t, uint64_t file, uint64_t off, size_t size, struct fuse_buf *b)
{
	size_t done = 0;
	int ret;

	if (t->pipe[0] < 0 && (ret = pipe_make(t))) {
		t->c.errors++;
		return ret;
	}
	ret = request(t, file, off, size);
	if (ret)
		return ret;
	if (t->pipe_size < size)
		return to_buf_by_copy(t, 0, size, b);
	while (done < size) {
		ssize_t r = splice(t->sock, NULL, t->pipe[1], NULL, size - done,
		                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		struct pollfd pfd = {.fd = t->pipe[1], .events = POLLOUT};

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == 0) {
			pipe_drain(t);
			return fail(t, "receiving data", -ECONNRESET);
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && poll(&pfd, 1, 0) == 0)
			return to_buf_by_copy(t, done, size, b);
		ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
		pipe_drain(t);
		return fail(t, "splicing data", ret);
	}
	b->flags = FUSE_BUF_IS_FD;
	b->fd = t->pipe[0];
	b->size = size;
	t->c.source_bytes += size;
	return 0;
}

static void tcp_done(struct thr *t, bool ok)
{
	if (!ok)
		pipe_drain(t); /* libfuse did not take it all */
}

static const struct list_opt tcp_options[] = {
    {"timeout", "SECONDS", "10", "connect timeout and SO_RCVTIMEO/SO_SNDTIMEO of each connection"},
    {"retries", "N", "3", "connection attempts before a read fails (50, 100, 200 ms ... apart)"},
    {NULL, NULL, NULL, NULL},
};

const struct ref_source source_tcp = {
    .name = "tcp",
    .spec = "tcp://HOST:PORT",
    .help = "tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver, one connection per "
            "libfuse thread",
    .options = tcp_options,
    .setup = tcp_setup,
    .teardown = tcp_teardown,
    .thread_init = tcp_thread_init,
    .thread_fini = tcp_thread_fini,
    .to_mem = tcp_to_mem,
    .to_buf = tcp_to_buf,
    .done = tcp_done,
};
