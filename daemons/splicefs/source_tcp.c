// SPDX-License-Identifier: MIT
/*
 * The TCP source: every worker holds one connection to sbserver (wire format:
 * sbproto.h) and asks it for each read's bytes.  to_mem() receives them into
 * the worker's staging buffer (one copy, by recv); to_pipe() splices them
 * straight from the socket into the reply pipe (no copy: the pipe takes
 * references to the socket buffer's pages).
 *
 *   --source tcp://HOST:PORT[?timeout=SECONDS&retries=N]
 *
 * timeout (default 10 s): SO_RCVTIMEO/SO_SNDTIMEO of the connection and the
 * connect timeout, so that a silent server fails a read instead of hanging
 * it.  retries (default 3): connection attempts (with 50, 100, 200 ms ...
 * pauses) before a read fails when the connection was lost.
 *
 * The stream must stay in sync: a response's data is always consumed whole,
 * by the mode or by end() (which discards what is left with MSG_TRUNC); any
 * doubt (I/O error, timeout, bad header) closes the connection, and the next
 * read reconnects.  The read that hit the failure returns -EIO.
 *
 * Per request: no allocation, no lock; the header and request frames are
 * encoded on the stack.
 */
#include "splicefs.h"
#include "sbproto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct tcp_src {
	char host[256];
	char port[16];
	int timeout_ms;
	int retries;
	struct sbp_hello hello; /* what we expect the server to serve */
};

struct tcp_worker {
	uint64_t tag;
	uint32_t left;  /* bytes of the current response not yet taken */
	bool connected; /* has been connected once (later connects are reconnects) */
	bool fresh;     /* the connection has not served a request yet */
};

static struct tcp_src tcp;

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

/* Connect and HELLO.  Returns the fd, -EPROTO on a HELLO refusal (msg says why) or -errno. */
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

static int tcp_setup(struct sfs *fs)
{
	struct sbp_hello server;
	const char *opts;
	char msg[256];
	int fd;

	memset(&tcp, 0, sizeof(tcp));
	tcp.timeout_ms = 10000;
	tcp.retries = 3;
	if (sbp_parse_addr(fs->o.source, tcp.host, sizeof(tcp.host), tcp.port, sizeof(tcp.port),
	                   &opts) ||
	    parse_opts(opts)) {
		fprintf(stderr,
		        "splicefs: --source '%s': expected tcp://HOST:PORT[?timeout=S&retries=N]\n",
		        fs->o.source);
		return -EINVAL;
	}
	if (fs->o.files < 1 || (uint64_t)fs->o.files > UINT32_MAX)
		return -EINVAL;
	sbp_hello_init(&tcp.hello, fs->o.files, fs->o.file_size, fs->o.granule, fs->o.seed);
	fs->src = &tcp;
	/* One HELLO now, so a wrong address or a mismatched server fails before the mount. */
	fd = dial(msg, sizeof(msg), &server);
	if (fd < 0) {
		fprintf(stderr, "splicefs: tcp source: %s\n", msg);
		return fd == -EPROTO ? -EPROTO : fd;
	}
	close(fd);
	if (server.max_len < fs->o.max_read) {
		fprintf(stderr,
		        "splicefs: tcp source: the server serves at most %u bytes per request, "
		        "less than --max-read %u (start sbserver with --max-len %u)\n",
		        server.max_len, fs->o.max_read, fs->o.max_read);
		return -EINVAL;
	}
	return 0;
}

static void tcp_teardown(struct sfs *fs)
{
	fs->src = NULL;
}

static void drop(struct worker *w)
{
	struct tcp_worker *t = w->src;

	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	t->left = 0;
}

/* (Re)connect with bounded retries.  0 or -errno. */
static int reconnect(struct worker *w)
{
	struct tcp_worker *t = w->src;
	char msg[256] = "";
	int fd = -ENOTCONN;

	drop(w);
	for (int i = 0; i <= tcp.retries && !w->fs->stop; i++) {
		if (i) {
			struct timespec ts = {0, (50L << (i - 1 < 6 ? i - 1 : 6)) * 1000000L};

			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec = ts.tv_nsec / 1000000000L;
				ts.tv_nsec %= 1000000000L;
			}
			nanosleep(&ts, NULL);
		}
		fd = dial(msg, sizeof(msg), NULL);
		if (fd >= 0 || fd == -EPROTO)
			break; /* a refused HELLO will not get better by retrying */
	}
	if (fd < 0) {
		fprintf(stderr, "splicefs[%d]: tcp source: %s\n", w->id, msg);
		return fd;
	}
	w->sock = fd;
	if (t->connected)
		w->c.reconnects++;
	t->connected = true;
	t->fresh = true;
	return 0;
}

static int tcp_worker_init(struct worker *w)
{
	int ret;

	w->src = calloc(1, sizeof(struct tcp_worker));
	if (!w->src)
		return -ENOMEM;
	w->sock = -1;
	ret = reconnect(w);
	return ret == -EPROTO ? -EPROTO : ret;
}

static void tcp_worker_fini(struct worker *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	free(w->src);
	w->src = NULL;
}

/* recv exactly n bytes (or discard them: buf NULL); 0, -ECONNRESET at EOF, or -errno. */
static int recv_full(struct worker *w, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(w->sock, buf ? (char *)buf + done : NULL, n - done,
		                 buf ? MSG_WAITALL : MSG_TRUNC);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR) {
			if (w->fs->stop)
				return -EINTR;
			continue;
		}
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return 0;
}

static int fail(struct worker *w, const char *what, int err)
{
	if (!w->fs->stop)
		fprintf(stderr, "splicefs[%d]: tcp source: %s: %s; dropping the connection\n",
		        w->id, what, strerror(-err));
	w->c.errors++;
	drop(w);
	return -EIO;
}

static int tcp_begin(struct worker *w, const struct read_req *rq)
{
	struct tcp_worker *t = w->src;
	struct sbp_req req = {.magic = SBP_REQ_MAGIC,
	                      .file = (uint32_t)rq->file,
	                      .length = rq->size,
	                      .offset = rq->off};
	struct sbp_resp resp;
	uint8_t b[SBP_REQ_LEN], h[SBP_RESP_LEN];
	char why[200];
	int ret;

	t->left = 0;
	if (!rq->size)
		return 0;
	for (int attempt = 0;; attempt++) {
		bool was_fresh;

		if (w->sock < 0 && (ret = reconnect(w))) {
			w->c.errors++;
			return -EIO;
		}
		was_fresh = t->fresh;
		t->fresh = false;
		req.tag = ++t->tag;
		sbp_req_encode(&req, b);
		ret = sbp_write_full(w->sock, b, sizeof(b));
		if (!ret)
			ret = recv_full(w, h, sizeof(h));
		if (!ret)
			break;
		/*
		 * A connection that went away while idle (server restarted) fails
		 * before any byte of the answer: try once more on a new one.
		 */
		if (!was_fresh && attempt == 0 && (ret == -ECONNRESET || ret == -EPIPE)) {
			drop(w);
			continue;
		}
		return fail(w, "request", ret);
	}
	sbp_resp_decode(h, &resp);
	if (sbp_resp_check(&resp, req.tag, rq->size, why, sizeof(why))) {
		if (!w->fs->stop)
			fprintf(stderr, "splicefs[%d]: tcp source: file %llu offset %llu: %s\n",
			        w->id, (unsigned long long)rq->file, (unsigned long long)rq->off,
			        why);
		w->c.errors++;
		drop(w);
		return -EIO;
	}
	t->left = rq->size;
	return 0;
}

static int tcp_to_mem(struct worker *w, void *dst, size_t n, const void **p)
{
	struct tcp_worker *t = w->src;
	int ret;

	if (n > t->left || w->sock < 0)
		return -EINVAL;
	ret = recv_full(w, dst, n);
	if (ret)
		return fail(w, "receiving data", ret);
	t->left -= n;
	w->c.source_bytes += n;
	*p = dst;
	return 0;
}

/*
 * splice(socket -> pipe).  SPLICE_F_NONBLOCK makes only the pipe side
 * non-blocking (a full pipe: -EAGAIN at once; a pipe with some room: a partial
 * move), the socket side still waits for data up to SO_RCVTIMEO, after which
 * it also says -EAGAIN: a pipe that still has room tells the two apart.
 */
static ssize_t tcp_to_pipe(struct worker *w, int pipe_wr, size_t n)
{
	struct tcp_worker *t = w->src;

	if (w->sock < 0)
		return -EINVAL;
	if (n > t->left)
		n = t->left;
	if (!n)
		return 0;
	for (;;) {
		ssize_t r =
		    splice(w->sock, NULL, pipe_wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		struct pollfd pfd = {.fd = pipe_wr, .events = POLLOUT};

		if (r > 0) {
			t->left -= r;
			w->c.source_bytes += r;
			return r;
		}
		if (r == 0)
			return fail(w, "receiving data", -ECONNRESET);
		if (errno == EINTR) {
			if (w->fs->stop)
				return fail(w, "receiving data", -EINTR);
			continue;
		}
		if (errno != EAGAIN)
			return fail(w, "splicing data", -errno);
		if (poll(&pfd, 1, 0) == 0)
			return -EAGAIN; /* the pipe is full: the caller takes the rest elsewhere */
		return fail(w, "receiving data", -ETIMEDOUT);
	}
}

static void tcp_end(struct worker *w, bool ok)
{
	struct tcp_worker *t = w->src;
	int ret;

	(void)ok;
	if (!t->left || w->sock < 0)
		return;
	/* The rest of this response is still in the socket: discard it to stay in sync. */
	ret = recv_full(w, NULL, t->left);
	if (ret)
		fail(w, "discarding the rest of a response", ret);
	t->left = 0;
}

const struct data_source source_tcp = {
    .name = "tcp",
    .help = "tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver, one connection per "
            "worker",
    .setup = tcp_setup,
    .teardown = tcp_teardown,
    .worker_init = tcp_worker_init,
    .worker_fini = tcp_worker_fini,
    .begin = tcp_begin,
    .to_mem = tcp_to_mem,
    .to_pipe = tcp_to_pipe,
    .end = tcp_end,
};
