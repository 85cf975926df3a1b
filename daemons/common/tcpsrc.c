// SPDX-License-Identifier: MIT
/*
 * The sbserver client of both daemons (tcpsrc.h).
 *
 * timeout (default 10 s, at least 0.1 s: 0 would turn every timeout off and
 * leave readers in D state for ever when the server goes away):
 * SO_RCVTIMEO/SO_SNDTIMEO of the connection and the connect timeout, so that a
 * silent server fails a read instead of hanging it.  retries (default 3):
 * connection attempts (with 50, 100, 200 ms ... pauses) before a read fails
 * when the connection was lost.
 */
#include "tcpsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// clang-format off
const struct opt_desc tcpsrc_options[TCPSRC_NOPTS] = {
	{"timeout", 0, OPT_DOUBLE, offsetof(struct tcpsrc_opts, timeout), "10", "SECONDS",
	 "?timeout=S: connect, send and receive timeout, 0.1..3600 (0 is refused: a reader "
	 "would hang for ever when the server goes away)"},
	{"retries", 0, OPT_INT, offsetof(struct tcpsrc_opts, retries), "3", "N",
	 "?retries=N: connection attempts before a read fails when the connection was lost",
	 0, 100},
};
// clang-format on

static bool stopping(const struct tcpsrc *s)
{
	return s->stop && *s->stop;
}

/* tcp://HOST:PORT[?k=v&k=v]: the settings go through the option table. */
int tcpsrc_parse(const char *spec, struct tcpsrc_opts *o, char *err, size_t errlen)
{
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
	n = opt_parse(tcpsrc_options, TCPSRC_NOPTS, o, argc, argv, e, sizeof(e));
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
static int dial(const struct tcpsrc *s, char *msg, size_t msglen, struct sbp_hello *server)
{
	int fd = sbp_connect(s->host, s->port, s->timeout_ms, s->timeout_ms), ret;

	if (fd < 0) {
		snprintf(msg, msglen, "connect to %.200s:%s: %s", s->host, s->port,
		         sbp_strerror(-fd));
		return fd;
	}
	ret = sbp_client_hello(fd, &s->hello, server, msg, msglen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int tcpsrc_setup(struct tcpsrc *s, const char *prog, const char *spec, uint32_t files,
                 uint64_t file_size, uint64_t granule, uint64_t seed, uint32_t max_read,
                 const volatile int *stop)
{
	struct sbp_hello server;
	struct tcpsrc_opts o;
	const char *q;
	char msg[256];
	int fd;

	memset(s, 0, sizeof(*s));
	s->prog = prog;
	s->stop = stop;
	if (tcpsrc_parse(spec, &o, msg, sizeof(msg))) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		return -EINVAL;
	}
	sbp_parse_addr(spec, s->host, sizeof(s->host), s->port, sizeof(s->port), &q);
	s->timeout_ms = (int)(o.timeout * 1000);
	s->retries = o.retries;
	sbp_hello_init(&s->hello, files, file_size, granule, seed);
	fd = dial(s, msg, sizeof(msg), &server);
	if (fd < 0) {
		fprintf(stderr, "%s: tcp source: %s\n", prog, msg);
		return fd;
	}
	close(fd);
	if (server.max_len < max_read) {
		fprintf(stderr,
		        "%s: tcp source: the server serves at most %u bytes per request, "
		        "less than --max-read %u (start sbserver with --max-len %u)\n",
		        prog, server.max_len, max_read, max_read);
		return -EINVAL;
	}
	return 0;
}

void tcpsrc_conn_init(struct tcpsrc_conn *c, const struct tcpsrc *s, int id, uint64_t *errors,
                      uint64_t *reconnects, uint64_t *source_bytes)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->id = id;
	c->sock = -1;
	c->errors = errors;
	c->reconnects = reconnects;
	c->source_bytes = source_bytes;
}

void tcpsrc_drop(struct tcpsrc_conn *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	c->left = 0;
}

int tcpsrc_connect(struct tcpsrc_conn *c)
{
	char msg[256] = "";
	int fd = -ENOTCONN;

	tcpsrc_drop(c);
	for (int i = 0; i <= c->s->retries && !stopping(c->s); i++) {
		if (i) {
			struct timespec ts = {0, (50L << (i - 1 < 6 ? i - 1 : 6)) * 1000000L};

			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec = ts.tv_nsec / 1000000000L;
				ts.tv_nsec %= 1000000000L;
			}
			nanosleep(&ts, NULL);
		}
		fd = dial(c->s, msg, sizeof(msg), NULL);
		if (fd >= 0 || fd == -EPROTO)
			break; /* a refused HELLO will not get better by retrying */
	}
	if (fd < 0) {
		fprintf(stderr, "%s[%d]: tcp source: %s\n", c->s->prog, c->id, msg);
		return fd;
	}
	c->sock = fd;
	if (c->connected)
		(*c->reconnects)++;
	c->connected = true;
	c->fresh = true;
	return 0;
}

/* recv exactly n bytes (or discard them: buf NULL); 0, -ECONNRESET at EOF, or -errno. */
static int recv_full(struct tcpsrc_conn *c, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(c->sock, buf ? (char *)buf + done : NULL, n - done,
		                 buf ? MSG_WAITALL : MSG_TRUNC);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR) {
			if (stopping(c->s))
				return -EINTR;
			continue;
		}
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return 0;
}

int tcpsrc_fail(struct tcpsrc_conn *c, const char *what, int err)
{
	if (!stopping(c->s))
		fprintf(stderr, "%s[%d]: tcp source: %s: %s; dropping the connection\n", c->s->prog,
		        c->id, what, strerror(-err));
	(*c->errors)++;
	tcpsrc_drop(c);
	return -EIO;
}

int tcpsrc_begin(struct tcpsrc_conn *c, uint64_t file, uint64_t off, uint32_t size)
{
	struct sbp_req req = {
	    .magic = SBP_REQ_MAGIC, .file = (uint32_t)file, .length = size, .offset = off};
	struct sbp_resp resp;
	uint8_t b[SBP_REQ_LEN], h[SBP_RESP_LEN];
	char why[200];
	int ret;

	c->left = 0;
	if (!size)
		return 0;
	for (int attempt = 0;; attempt++) {
		bool was_fresh;

		if (c->sock < 0 && tcpsrc_connect(c)) {
			(*c->errors)++;
			return -EIO;
		}
		was_fresh = c->fresh;
		c->fresh = false;
		req.tag = ++c->tag;
		sbp_req_encode(&req, b);
		ret = sbp_write_full(c->sock, b, sizeof(b));
		if (!ret)
			ret = recv_full(c, h, sizeof(h));
		if (!ret)
			break;
		/*
		 * A connection that went away while idle (server restarted) fails
		 * before any byte of the answer: try once more on a new one.
		 */
		if (!was_fresh && attempt == 0 && (ret == -ECONNRESET || ret == -EPIPE)) {
			tcpsrc_drop(c);
			continue;
		}
		return tcpsrc_fail(c, "request", ret);
	}
	sbp_resp_decode(h, &resp);
	if (sbp_resp_check(&resp, req.tag, size, why, sizeof(why))) {
		if (!stopping(c->s))
			fprintf(stderr, "%s[%d]: tcp source: file %llu offset %llu: %s\n",
			        c->s->prog, c->id, (unsigned long long)file,
			        (unsigned long long)off, why);
		(*c->errors)++;
		tcpsrc_drop(c);
		return -EIO;
	}
	c->left = size;
	return 0;
}

int tcpsrc_to_mem(struct tcpsrc_conn *c, void *dst, size_t n)
{
	int ret;

	if (n > c->left || c->sock < 0)
		return -EINVAL;
	ret = recv_full(c, dst, n);
	if (ret)
		return tcpsrc_fail(c, "receiving data", ret);
	c->left -= n;
	*c->source_bytes += n;
	return 0;
}

/*
 * SPLICE_F_NONBLOCK makes only the pipe side non-blocking (a full pipe:
 * -EAGAIN at once; a pipe with some room: a partial move), the socket side
 * still waits for data up to SO_RCVTIMEO, after which it also says -EAGAIN: a
 * pipe that still has room tells the two apart.
 */
ssize_t tcpsrc_to_pipe(struct tcpsrc_conn *c, int pipe_wr, size_t n)
{
	if (c->sock < 0)
		return -EINVAL;
	if (n > c->left)
		n = c->left;
	if (!n)
		return 0;
	for (;;) {
		ssize_t r =
		    splice(c->sock, NULL, pipe_wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		struct pollfd pfd = {.fd = pipe_wr, .events = POLLOUT};

		if (r > 0) {
			c->left -= r;
			*c->source_bytes += r;
			return r;
		}
		if (r == 0)
			return tcpsrc_fail(c, "receiving data", -ECONNRESET);
		if (errno == EINTR) {
			if (stopping(c->s))
				return tcpsrc_fail(c, "receiving data", -EINTR);
			continue;
		}
		if (errno != EAGAIN)
			return tcpsrc_fail(c, "splicing data", -errno);
		if (poll(&pfd, 1, 0) == 0)
			return -EAGAIN; /* the pipe is full: the caller takes the rest elsewhere */
		return tcpsrc_fail(c, "receiving data", -ETIMEDOUT);
	}
}

void tcpsrc_end(struct tcpsrc_conn *c)
{
	int ret;

	if (!c->left || c->sock < 0)
		return;
	/* The rest of this response is still in the socket: discard it to stay in sync. */
	ret = recv_full(c, NULL, c->left);
	if (ret)
		tcpsrc_fail(c, "discarding the rest of a response", ret);
	c->left = 0;
}
