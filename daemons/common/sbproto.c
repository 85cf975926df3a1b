// SPDX-License-Identifier: MIT
#include "sbproto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *sbp_status_str(uint32_t status)
{
	switch (status) {
	case SBP_ST_OK:
		return "ok";
	case SBP_ST_PROTO:
		return "protocol error";
	case SBP_ST_RANGE:
		return "file or offset out of range";
	case SBP_ST_TOOBIG:
		return "length too big";
	case SBP_ST_VERSION:
		return "protocol version mismatch";
	case SBP_ST_MISMATCH:
		return "parameter mismatch";
	case SBP_ST_BUSY:
		return "server busy: at its connection cap";
	case SBP_ST_IO:
		return "server I/O error";
	}
	return "unknown status";
}

void sbp_hello_init(struct sbp_hello *h, uint32_t files, uint64_t file_size, uint64_t granule,
                    uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	h->magic = SBP_HELLO_MAGIC;
	h->version = SBP_VERSION;
	h->files = files;
	h->file_size = file_size;
	h->granule = granule;
	h->seed = seed;
}

void sbp_hello_encode(const struct sbp_hello *h, uint8_t out[SBP_HELLO_LEN])
{
	put32(out, h->magic);
	put16(out + 4, h->version);
	put16(out + 6, h->status);
	put32(out + 8, h->files);
	put32(out + 12, h->max_len);
	put64(out + 16, h->file_size);
	put64(out + 24, h->granule);
	put64(out + 32, h->seed);
}

void sbp_hello_decode(const uint8_t in[SBP_HELLO_LEN], struct sbp_hello *h)
{
	h->magic = get32(in);
	h->version = get16(in + 4);
	h->status = get16(in + 6);
	h->files = get32(in + 8);
	h->max_len = get32(in + 12);
	h->file_size = get64(in + 16);
	h->granule = get64(in + 24);
	h->seed = get64(in + 32);
}

void sbp_req_encode(const struct sbp_req *r, uint8_t out[SBP_REQ_LEN])
{
	put32(out, r->magic);
	put32(out + 4, r->file);
	put32(out + 8, r->length);
	put32(out + 12, r->reserved);
	put64(out + 16, r->offset);
	put64(out + 24, r->tag);
}

void sbp_req_decode(const uint8_t in[SBP_REQ_LEN], struct sbp_req *r)
{
	r->magic = get32(in);
	r->file = get32(in + 4);
	r->length = get32(in + 8);
	r->reserved = get32(in + 12);
	r->offset = get64(in + 16);
	r->tag = get64(in + 24);
}

void sbp_resp_encode(const struct sbp_resp *r, uint8_t out[SBP_RESP_LEN])
{
	put32(out, r->magic);
	put32(out + 4, r->status);
	put32(out + 8, r->length);
	put32(out + 12, r->reserved);
	put64(out + 16, r->tag);
}

void sbp_resp_decode(const uint8_t in[SBP_RESP_LEN], struct sbp_resp *r)
{
	r->magic = get32(in);
	r->status = get32(in + 4);
	r->length = get32(in + 8);
	r->reserved = get32(in + 12);
	r->tag = get64(in + 16);
}

int sbp_hello_check(const struct sbp_hello *ours, const struct sbp_hello *peer, char *msg,
                    size_t msglen)
{
	if (peer->magic != SBP_HELLO_MAGIC) {
		snprintf(msg, msglen, "bad HELLO magic 0x%08x (not a splicebench peer?)",
		         peer->magic);
		return SBP_ST_PROTO;
	}
	if (peer->version != ours->version) {
		snprintf(msg, msglen, "protocol version: ours %u, peer's %u", ours->version,
		         peer->version);
		return SBP_ST_VERSION;
	}
#define CMP(f)                                                                                     \
	if (peer->f != ours->f) {                                                                  \
		snprintf(msg, msglen, #f ": ours %llu, peer's %llu", (unsigned long long)ours->f,  \
		         (unsigned long long)peer->f);                                             \
		return SBP_ST_MISMATCH;                                                            \
	}
	CMP(files);
	CMP(file_size);
	CMP(granule);
	CMP(seed);
#undef CMP
	if (msglen)
		msg[0] = 0;
	return SBP_ST_OK;
}

int sbp_req_check(const struct sbp_req *r, const struct sbp_hello *s, uint32_t *len, char *why,
                  size_t whylen)
{
	*len = 0;
	if (r->magic != SBP_REQ_MAGIC) {
		snprintf(why, whylen, "bad request magic 0x%08x", r->magic);
		return SBP_ST_PROTO;
	}
	if (r->reserved) {
		snprintf(why, whylen, "reserved field 0x%08x not zero", r->reserved);
		return SBP_ST_PROTO;
	}
	if (r->file >= s->files) {
		snprintf(why, whylen, "file %u out of range (files %u)", r->file, s->files);
		return SBP_ST_RANGE;
	}
	if (r->offset > s->file_size) {
		snprintf(why, whylen, "offset %llu beyond end of file (%llu)",
		         (unsigned long long)r->offset, (unsigned long long)s->file_size);
		return SBP_ST_RANGE;
	}
	if (r->length > s->max_len) {
		snprintf(why, whylen, "length %u > max_len %u", r->length, s->max_len);
		return SBP_ST_TOOBIG;
	}
	*len = r->length;
	if (r->length > s->file_size - r->offset)
		*len = (uint32_t)(s->file_size - r->offset);
	if (whylen)
		why[0] = 0;
	return SBP_ST_OK;
}

int sbp_resp_check(const struct sbp_resp *r, uint64_t tag, uint32_t want, char *why, size_t whylen)
{
	if (r->magic != SBP_RESP_MAGIC) {
		snprintf(why, whylen, "bad response magic 0x%08x", r->magic);
		return -1;
	}
	if (r->status != SBP_ST_OK) {
		snprintf(why, whylen, "server: %s (status %u)", sbp_status_str(r->status),
		         r->status);
		return -1;
	}
	if (r->tag != tag) {
		snprintf(why, whylen, "response tag %llu, expected %llu",
		         (unsigned long long)r->tag, (unsigned long long)tag);
		return -1;
	}
	if (r->length != want) {
		snprintf(why, whylen, "response length %u, expected %u", r->length, want);
		return -1;
	}
	return 0;
}

int sbp_parse_addr(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
                   const char **opts)
{
	const char *h, *hend, *p, *pend;

	if (opts)
		*opts = NULL;
	if (!strncmp(spec, "tcp://", 6))
		spec += 6;
	if (spec[0] == '[') {
		h = spec + 1;
		hend = strchr(h, ']');
		if (!hend || hend[1] != ':')
			return -EINVAL;
		p = hend + 2;
	} else {
		h = spec;
		hend = strrchr(spec, ':');
		if (!hend || memchr(h, ':', hend - h))
			return -EINVAL; /* no port, or an unbracketed IPv6 address */
		p = hend + 1;
	}
	pend = p + strcspn(p, "?/");
	if (hend == h || pend == p || (size_t)(hend - h) >= hostlen ||
	    (size_t)(pend - p) >= portlen)
		return -EINVAL;
	for (const char *c = p; c < pend; c++)
		if (*c < '0' || *c > '9')
			return -EINVAL;
	if (atol(p) < 1 || atol(p) > 65535 || pend - p > 5)
		return -EINVAL;
	memcpy(host, h, hend - h);
	host[hend - h] = 0;
	memcpy(port, p, pend - p);
	port[pend - p] = 0;
	if (*pend == '/')
		pend++;
	if (*pend && *pend != '?')
		return -EINVAL;
	if (opts && *pend == '?')
		*opts = pend + 1;
	return 0;
}

int sbp_read_full(int fd, void *buf, size_t n, size_t *got)
{
	size_t done = 0;
	int ret = 0;

	while (done < n) {
		ssize_t r = recv(fd, (char *)buf + done, n - done, 0);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == 0) {
			ret = -ECONNRESET;
			break;
		}
		if (errno == EINTR)
			continue;
		ret = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		break;
	}
	if (got)
		*got = done;
	return ret;
}

int sbp_write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);

		if (r >= 0) {
			done += r;
			continue;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
	return 0;
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* This thread's last getaddrinfo failure in sbp_connect (0: none): see sbp_strerror. */
static __thread int gai_err;

int sbp_connect(const char *host, const char *port, int timeout_ms, int io_timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, ret, err = -ECONNREFUSED, one = 1;

	gai_err = 0;
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		if (ret == EAI_SYSTEM)
			return -errno;
		gai_err = ret;
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t len = sizeof(ret);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			err = -errno;
			goto next;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		ret = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
		if (ret == 0) {
			err = -ETIMEDOUT;
			goto next;
		}
		if (ret < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &ret, &len)) {
			err = -errno;
			goto next;
		}
		if (ret) {
			err = -ret;
			goto next;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (io_timeout_ms > 0)
			set_timeouts(fd, io_timeout_ms);
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return err;
}

int sbp_client_hello(int fd, const struct sbp_hello *ours, struct sbp_hello *server, char *msg,
                     size_t msglen)
{
	uint8_t b[SBP_HELLO_LEN];
	struct sbp_hello peer;
	int ret;

	sbp_hello_encode(ours, b);
	ret = sbp_write_full(fd, b, sizeof(b));
	if (ret) {
		snprintf(msg, msglen, "sending HELLO: %s", strerror(-ret));
		return ret;
	}
	ret = sbp_read_full(fd, b, sizeof(b), NULL);
	if (ret) {
		snprintf(msg, msglen, "reading HELLO: %s", strerror(-ret));
		return ret;
	}
	sbp_hello_decode(b, &peer);
	if (server)
		*server = peer;
	if (sbp_hello_check(ours, &peer, msg, msglen) != SBP_ST_OK)
		return -EPROTO;
	if (peer.status != SBP_ST_OK) {
		snprintf(msg, msglen, "server refused HELLO: %s", sbp_status_str(peer.status));
		return -EPROTO;
	}
	return 0;
}

const char *sbp_strerror(int err)
{
	if (err == EHOSTUNREACH && gai_err)
		return gai_strerror(gai_err);
	return strerror(err);
}
