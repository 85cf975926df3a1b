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
 * timeout (default 10 s, at least 0.1 s: 0 would turn every timeout off and
 * leave readers in D state for ever when the server goes away):
 * SO_RCVTIMEO/SO_SNDTIMEO of the connection and the connect timeout, so that a
 * silent server fails a read instead of hanging it.  retries (default 3): connection attempts (with
 * 50, 100, 200 ms ... pauses) before a read fails when the connection was lost.
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
#include "opttab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The ?key=value settings of the spec. */
struct tcp_opts {
	double timeout; /* seconds */
	int retries;
};

// clang-format off
static const struct opt_desc tcp_options[] = {
	{"timeout", 0, OPT_DOUBLE, offsetof(struct tcp_opts, timeout), "10", "SECONDS",
	 "?timeout=S: connect, send and receive timeout, 0.1..3600 (0 is refused: a reader "
	 "would hang for ever when the server goes away)"},
	{"retries", 0, OPT_INT, offsetof(struct tcp_opts, retries), "3", "N",
	 "?retries=N: connection attempts before a read fails when the connection was lost",
	 0, 100},
};
// clang-format on
#define NTCP_OPTS (sizeof(tcp_options) / sizeof(tcp_options[0]))

/* Shared by every worker: fs->src. */
struct tcp_src {
	char host[256];
	char port[16];
	int timeout_ms;
	int retries;
	struct sbp_hello hello; /* what we expect the server to serve */
};

struct tcp_worker {
	const struct tcp_src *s;
	int sock; /* the connection, -1 if none */
	uint64_t tag;
	uint32_t left;  /* bytes of the current response not yet taken */
	bool connected; /* has been connected once (later connects are reconnects) */
	bool fresh;     /* the connection has not served a request yet */
};

/* tcp://HOST:PORT[?k=v&k=v]: the settings go through the option table. */
static int tcp_parse(const char *spec, void *opts, char *err, size_t errlen)
{
	struct tcp_opts *o = opts;
	char host[256], port[16], args[512], keys[20][64], *argv[42], e[256];
	const char *q = NULL;
	int argc = 1, n, k = 0;

	argv[0] = "tcp";
	if (sbp_parse_addr(spec, host, sizeof(host), port, sizeof(port), &q)) {
		snprintf(err, errlen,
		         "--source '%s': expected tcp://HOST:PORT[?timeout=S&retries=N]", spec);
		return -1;
	}
	snprintf(args, sizeof(args), "%s", q ? q : "");
	for (char *save, *kv = strtok_r(args, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || k == 20) {
			snprintf(err, errlen, "--source '%s': '%s' is not KEY=VALUE", spec, kv);
			return -1;
		}
		*eq = 0;
		snprintf(keys[k], sizeof(keys[k]), "--%s", kv);
		argv[argc++] = keys[k++];
		argv[argc++] = eq + 1;
	}
	argv[argc] = NULL;
	n = opt_parse(tcp_options, NTCP_OPTS, o, argc, argv, e, sizeof(e));
	if (n < 0 || n != argc) {
		snprintf(err, errlen, "--source '%s': %s", spec,
		         n < 0 ? e : "the settings are ?timeout=S&retries=N");
		return -1;
	}
	if (!(o->timeout >= 0.1 && o->timeout <= 3600)) {
		snprintf(err, errlen,
		         "--source '%s': timeout=%g is out of range: give 0.1 to 3600 seconds "
		         "(0 would let a reader hang for ever when sbserver is gone)",
		         spec, o->timeout);
		return -1;
	}
	return 0;
}

/* Connect and HELLO.  Returns the fd, -EPROTO on a HELLO refusal (msg says why) or -errno. */
static int dial(const struct tcp_src *tcp, char *msg, size_t msglen, struct sbp_hello *server)
{
	int fd = sbp_connect(tcp->host, tcp->port, tcp->timeout_ms, tcp->timeout_ms), ret;

	if (fd < 0) {
		snprintf(msg, msglen, "connect to %.200s:%s: %s", tcp->host, tcp->port,
		         sbp_strerror(-fd));
		return fd;
	}
	ret = sbp_client_hello(fd, &tcp->hello, server, msg, msglen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int tcp_setup(struct sfs *fs)
{
	struct sbp_hello server;
	struct tcp_opts o;
	struct tcp_src *tcp;
	const char *q;
	char msg[256];
	int fd;

	if (tcp_parse(fs->o.source, &o, msg, sizeof(msg))) {
		fprintf(stderr, "splicefs: %s\n", msg);
		return -EINVAL;
	}
	if (fs->o.files < 1 || (uint64_t)fs->o.files > UINT32_MAX)
		return -EINVAL;
	tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	sbp_parse_addr(fs->o.source, tcp->host, sizeof(tcp->host), tcp->port, sizeof(tcp->port),
	               &q);
	tcp->timeout_ms = (int)(o.timeout * 1000);
	tcp->retries = o.retries;
	sbp_hello_init(&tcp->hello, fs->o.files, fs->o.file_size, fs->o.granule, fs->o.seed);
	fs->src = tcp;
	/* One HELLO now, so a wrong address or a mismatched server fails before the mount. */
	fd = dial(tcp, msg, sizeof(msg), &server);
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
	free(fs->src);
	fs->src = NULL;
}

/* For the unit tests: the worker's connection, or -1. */
int tcp_worker_sock(const struct worker *w)
{
	const struct tcp_worker *t = w->src;

	return t ? t->sock : -1;
}

static void drop(struct worker *w)
{
	struct tcp_worker *t = w->src;

	if (t->sock >= 0)
		close(t->sock);
	t->sock = -1;
	t->left = 0;
}

/* (Re)connect with bounded retries.  0 or -errno. */
static int reconnect(struct worker *w)
{
	struct tcp_worker *t = w->src;
	char msg[256] = "";
	int fd = -ENOTCONN;

	drop(w);
	for (int i = 0; i <= t->s->retries && !w->fs->stop; i++) {
		if (i) {
			struct timespec ts = {0, (50L << (i - 1 < 6 ? i - 1 : 6)) * 1000000L};

			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec = ts.tv_nsec / 1000000000L;
				ts.tv_nsec %= 1000000000L;
			}
			nanosleep(&ts, NULL);
		}
		fd = dial(t->s, msg, sizeof(msg), NULL);
		if (fd >= 0 || fd == -EPROTO)
			break; /* a refused HELLO will not get better by retrying */
	}
	if (fd < 0) {
		fprintf(stderr, "splicefs[%d]: tcp source: %s\n", w->id, msg);
		return fd;
	}
	t->sock = fd;
	if (t->connected)
		w->c.reconnects++;
	t->connected = true;
	t->fresh = true;
	return 0;
}

static int tcp_worker_init(struct worker *w)
{
	struct tcp_worker *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->s = w->fs->src;
	t->sock = -1;
	w->src = t;
	ret = reconnect(w);
	return ret == -EPROTO ? -EPROTO : ret;
}

static void tcp_worker_fini(struct worker *w)
{
	struct tcp_worker *t = w->src;

	if (t && t->sock >= 0)
		close(t->sock);
	free(w->src);
	w->src = NULL;
}

/* recv exactly n bytes (or discard them: buf NULL); 0, -ECONNRESET at EOF, or -errno. */
static int recv_full(struct worker *w, void *buf, size_t n)
{
	struct tcp_worker *t = w->src;
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(t->sock, buf ? (char *)buf + done : NULL, n - done,
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

		if (t->sock < 0 && (ret = reconnect(w))) {
			w->c.errors++;
			return -EIO;
		}
		was_fresh = t->fresh;
		t->fresh = false;
		req.tag = ++t->tag;
		sbp_req_encode(&req, b);
		ret = sbp_write_full(t->sock, b, sizeof(b));
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

	if (n > t->left || t->sock < 0)
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
static ssize_t tcp_to_pipe(struct worker *w, int pipe_wr, size_t n, unsigned *slots)
{
	struct tcp_worker *t = w->src;

	(void)slots; /* one per fragment: unknown here, the caller counts them */
	if (t->sock < 0)
		return -EINVAL;
	if (n > t->left)
		n = t->left;
	if (!n)
		return 0;
	for (;;) {
		ssize_t r =
		    splice(t->sock, NULL, pipe_wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
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
	if (!t->left || t->sock < 0)
		return;
	/* The rest of this response is still in the socket: discard it to stay in sync. */
	ret = recv_full(w, NULL, t->left);
	if (ret)
		fail(w, "discarding the rest of a response", ret);
	t->left = 0;
}

const struct data_source source_tcp = {
    .name = "tcp",
    .spec = "tcp://HOST:PORT",
    .help = "tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver, one connection per "
            "worker",
    .options = tcp_options,
    .noptions = NTCP_OPTS,
    .opts_size = sizeof(struct tcp_opts),
    .parse = tcp_parse,
    .setup = tcp_setup,
    .teardown = tcp_teardown,
    .worker_init = tcp_worker_init,
    .worker_fini = tcp_worker_fini,
    .begin = tcp_begin,
    .to_mem = tcp_to_mem,
    .to_pipe = tcp_to_pipe,
    .end = tcp_end,
};
