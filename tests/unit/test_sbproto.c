// SPDX-License-Identifier: MIT
/*
 * Unit tests of the sbproto wire format (encode/decode/validation, address and
 * size parsing) and of splicefs's TCP source against a small in-process
 * server thread: data to memory and to a pipe, a full pipe, a response left
 * half read (end() must resync), a lost connection (-EIO, then reconnect).
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"
#include "sbproto.h"
#include "splicefs.h"

int tcp_worker_sock(const struct worker *w);

TEST(sbproto_layout)
{
	struct sbp_req r = {.magic = SBP_REQ_MAGIC,
	                    .file = 0x01020304,
	                    .length = 0x11223344,
	                    .offset = 0x0807060504030201ULL,
	                    .tag = 0xa1a2a3a4a5a6a7a8ULL},
	               r2;
	struct sbp_resp s = {.magic = SBP_RESP_MAGIC, .status = 2, .length = 7, .tag = 9}, s2;
	struct sbp_hello h, h2;
	uint8_t b[SBP_HELLO_LEN];

	sbp_req_encode(&r, b);
	CHECK(!memcmp(b, "SBRQ", 4));
	CHECK(b[4] == 0x04 && b[7] == 0x01);         /* file, little-endian */
	CHECK(b[8] == 0x44 && b[11] == 0x11);        /* length */
	CHECK(!b[12] && !b[13] && !b[14] && !b[15]); /* reserved */
	CHECK(b[16] == 0x01 && b[23] == 0x08);       /* offset */
	CHECK(b[24] == 0xa8 && b[31] == 0xa1);       /* tag */
	sbp_req_decode(b, &r2);
	CHECK(!memcmp(&r, &r2, sizeof(r)));

	sbp_resp_encode(&s, b);
	CHECK(!memcmp(b, "SBRS", 4));
	CHECK(b[4] == 2 && b[8] == 7 && b[16] == 9);
	sbp_resp_decode(b, &s2);
	CHECK(!memcmp(&s, &s2, sizeof(s)));

	sbp_hello_init(&h, 3, 1ULL << 33, 4096, 0xdeadbeefcafeULL);
	h.max_len = 1 << 20;
	sbp_hello_encode(&h, b);
	CHECK(!memcmp(b, "SBH1", 4));
	CHECK(b[4] == SBP_VERSION && b[5] == 0);
	CHECK(b[8] == 3 && b[20] == 2); /* files; file_size bit 33 */
	sbp_hello_decode(b, &h2);
	CHECK(!memcmp(&h, &h2, sizeof(h)));
}

TEST(sbproto_hello_check)
{
	struct sbp_hello a, b;
	char msg[160];

	sbp_hello_init(&a, 2, 1 << 20, 4096, 0);
	b = a;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_OK);
	b.file_size = 2 << 20;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_MISMATCH);
	CHECK(strstr(msg, "file_size: ours 1048576, peer's 2097152"));
	b = a;
	b.seed = 5;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_MISMATCH);
	CHECK(strstr(msg, "seed"));
	b = a;
	b.granule = 8;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_MISMATCH);
	b = a;
	b.files = 1;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_MISMATCH);
	b = a;
	b.version = 2;
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_VERSION);
	b = a;
	b.magic = 0x47455420; /* "GET " */
	CHECK_EQ_U64(sbp_hello_check(&a, &b, msg, sizeof(msg)), SBP_ST_PROTO);
}

TEST(sbproto_req_check)
{
	struct sbp_hello s;
	struct sbp_req r = {.magic = SBP_REQ_MAGIC, .file = 1, .length = 4096, .offset = 0};
	uint32_t len = 99;
	char why[160];

	sbp_hello_init(&s, 2, 10000, 8, 0);
	s.max_len = 8192;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_OK);
	CHECK_EQ_U64(len, 4096);
	r.offset = 8000; /* clamped at EOF */
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_OK);
	CHECK_EQ_U64(len, 2000);
	r.offset = 10000; /* at EOF: 0 bytes */
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_OK);
	CHECK_EQ_U64(len, 0);
	r.offset = 10001;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_RANGE);
	r.offset = ~0ULL;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_RANGE);
	r.offset = 0;
	r.file = 2;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_RANGE);
	r.file = 0xffffffff;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_RANGE);
	r.file = 0;
	r.length = 8193;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_TOOBIG);
	r.length = 0xffffffff;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_TOOBIG);
	CHECK_EQ_U64(len, 0);
	r.length = 0;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_OK);
	r.reserved = 1;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_PROTO);
	r.reserved = 0;
	r.magic = SBP_RESP_MAGIC;
	CHECK_EQ_U64(sbp_req_check(&r, &s, &len, why, sizeof(why)), SBP_ST_PROTO);
	CHECK(strstr(why, "magic"));
}

TEST(sbproto_resp_check)
{
	struct sbp_resp r = {.magic = SBP_RESP_MAGIC, .length = 10, .tag = 5};
	char why[160];

	CHECK(sbp_resp_check(&r, 5, 10, why, sizeof(why)) == 0);
	CHECK(sbp_resp_check(&r, 6, 10, why, sizeof(why)) == -1);
	CHECK(sbp_resp_check(&r, 5, 11, why, sizeof(why)) == -1);
	r.status = SBP_ST_RANGE;
	CHECK(sbp_resp_check(&r, 5, 10, why, sizeof(why)) == -1);
	CHECK(strstr(why, "out of range"));
	r.status = 0;
	r.magic = 0;
	CHECK(sbp_resp_check(&r, 5, 10, why, sizeof(why)) == -1);
}

TEST(sbproto_parse_addr)
{
	char h[64], p[8];
	const char *o;

	CHECK(sbp_parse_addr("tcp://127.0.0.1:7000", h, sizeof(h), p, sizeof(p), &o) == 0);
	CHECK(!strcmp(h, "127.0.0.1") && !strcmp(p, "7000") && !o);
	CHECK(sbp_parse_addr("example.org:80/", h, sizeof(h), p, sizeof(p), &o) == 0);
	CHECK(!strcmp(h, "example.org") && !strcmp(p, "80"));
	CHECK(sbp_parse_addr("tcp://[::1]:65535?timeout=2&retries=1", h, sizeof(h), p, sizeof(p),
	                     &o) == 0);
	CHECK(!strcmp(h, "::1") && !strcmp(p, "65535") && o && !strcmp(o, "timeout=2&retries=1"));
	CHECK(sbp_parse_addr("tcp://10.99.0.1", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("tcp://10.99.0.1:", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("tcp://:80", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("::1:80", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("h:65536", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("h:0", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("h:12a", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("h:80/x", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr("[::1:80", h, sizeof(h), p, sizeof(p), &o) == -EINVAL);
	CHECK(sbp_parse_addr(
	          "a-very-long-host-name-that-does-not-fit-in-sixty-four-bytes-at-all-no-way:1", h,
	          sizeof(h), p, sizeof(p), &o) == -EINVAL);
}

/* ---- source_tcp against an in-process server ---- */

#define T_FILE_SIZE (4u << 20)

struct mini_srv {
	int lfd, port;
	struct pattern pat;
	struct sbp_hello hello;
	int close_after; /* close each connection after this many requests (0: never) */
	volatile int stop;
	uint8_t *data;
	pthread_t th;
};

static void mini_serve(struct mini_srv *m, int fd)
{
	uint8_t b[SBP_HELLO_LEN], h[SBP_RESP_LEN];
	struct sbp_hello peer, reply = m->hello;
	char why[160];
	int n = 0;

	if (sbp_read_full(fd, b, SBP_HELLO_LEN, NULL))
		return;
	sbp_hello_decode(b, &peer);
	reply.status = sbp_hello_check(&m->hello, &peer, why, sizeof(why));
	sbp_hello_encode(&reply, b);
	sbp_write_full(fd, b, SBP_HELLO_LEN);
	if (reply.status)
		return;
	for (;;) {
		struct sbp_req rq;
		struct sbp_resp rs = {.magic = SBP_RESP_MAGIC};
		uint32_t len;

		if (sbp_read_full(fd, b, SBP_REQ_LEN, NULL))
			return;
		sbp_req_decode(b, &rq);
		rs.status = sbp_req_check(&rq, &m->hello, &len, why, sizeof(why));
		rs.tag = rq.tag;
		rs.length = rs.status ? 0 : len;
		sbp_resp_encode(&rs, h);
		if (sbp_write_full(fd, h, sizeof(h)) || rs.status)
			return;
		if (m->close_after && ++n == m->close_after) {
			sbp_write_full(fd, m->data + rq.offset, len / 2); /* die mid-response */
			return;
		}
		if (sbp_write_full(fd, m->data + rq.offset, len))
			return;
	}
}

static void *mini_main(void *arg)
{
	struct mini_srv *m = arg;

	while (!m->stop) {
		int fd = accept(m->lfd, NULL, NULL);

		if (fd < 0)
			continue;
		mini_serve(m, fd);
		close(fd);
	}
	return NULL;
}

static int mini_start(struct mini_srv *m, int close_after)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(m, 0, sizeof(*m));
	m->pat = (struct pattern){.seed = 3, .granule = 4096};
	m->close_after = close_after;
	sbp_hello_init(&m->hello, 1, T_FILE_SIZE, 4096, 3);
	m->hello.max_len = 1 << 20;
	m->data = malloc(T_FILE_SIZE);
	if (!m->data)
		return -1;
	pattern_fill(&m->pat, 0, 0, m->data, T_FILE_SIZE);
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->lfd < 0 || bind(m->lfd, (void *)&a, sizeof(a)) || listen(m->lfd, 8) ||
	    getsockname(m->lfd, (void *)&a, &al))
		return -1;
	m->port = ntohs(a.sin_port);
	return pthread_create(&m->th, NULL, mini_main, m) ? -1 : 0;
}

static void mini_stop(struct mini_srv *m)
{
	m->stop = 1;
	shutdown(m->lfd, SHUT_RDWR);
	pthread_join(m->th, NULL);
	close(m->lfd);
	free(m->data);
}

static char src_spec[96];

static int tcp_open(struct mini_srv *m, struct sfs *fs, struct worker *w, uint64_t granule)
{
	static char buf[1 << 20];

	memset(fs, 0, sizeof(*fs));
	memset(w, 0, sizeof(*w));
	snprintf(src_spec, sizeof(src_spec), "tcp://127.0.0.1:%d?timeout=2&retries=1", m->port);
	fs->o.source = src_spec;
	fs->o.files = 1;
	fs->o.file_size = T_FILE_SIZE;
	fs->o.granule = granule;
	fs->o.seed = 3;
	fs->pat = (struct pattern){.seed = 3, .granule = granule};
	w->fs = fs;
	w->buf = buf;
	w->buf_size = sizeof(buf);
	if (source_tcp.setup(fs))
		return -1;
	return source_tcp.worker_init(w);
}

/* Read [off, off+n) to memory through the source and check it. */
static int read_mem(struct worker *w, uint64_t off, uint32_t n)
{
	struct read_req rq = {.file = 0, .off = off, .size = n};
	const void *p;
	int ret = source_tcp.begin(w, &rq);

	if (!ret)
		ret = source_tcp.to_mem(w, w->buf, n, &p);
	source_tcp.end(w, ret == 0);
	if (ret)
		return ret;
	return pattern_check(&w->fs->pat, 0, off, p, n, NULL) ? -EBADMSG : 0;
}

TEST(source_tcp_mem_and_pipe)
{
	struct mini_srv m;
	struct sfs fs;
	struct worker w;
	struct read_req rq = {.file = 0, .off = 12288, .size = 256 << 10};
	int pfd[2];
	size_t moved = 0;
	unsigned slots;
	ssize_t r;
	int again = 0;
	char *got;

	if (mini_start(&m, 0))
		SKIP("cannot listen on 127.0.0.1");
	CHECK(tcp_open(&m, &fs, &w, 4096) == 0);
	CHECK(tcp_worker_sock(&w) >= 0);
	CHECK(read_mem(&w, 0, 4096) == 0);
	CHECK(read_mem(&w, T_FILE_SIZE - 1000, 1000) == 0);
	CHECK(read_mem(&w, 4095, 1 << 20) == 0);
	CHECK_EQ_U64(w.c.source_bytes, 4096 + 1000 + (1 << 20));

	/* to_pipe with a pipe smaller than the read: partial moves, then -EAGAIN when full */
	CHECK(pipe2(pfd, O_CLOEXEC) == 0);
	fcntl(pfd[1], F_SETPIPE_SZ, 64 << 10);
	got = malloc(rq.size);
	CHECK(got);
	CHECK(source_tcp.begin(&w, &rq) == 0);
	while (moved < rq.size) {
		r = source_tcp.to_pipe(&w, pfd[1], rq.size - moved, &slots);
		if (r == -EAGAIN) {
			/* the pipe is full: empty it and go on (the caller's other pipe) */
			again++;
			CHECK(read(pfd[0], got, rq.size) > 0);
			continue;
		}
		CHECK(r > 0);
		moved += r;
		if (again > 1000)
			break;
	}
	source_tcp.end(&w, true);
	CHECK_EQ_U64(moved, rq.size);
	CHECK(again > 0);
	free(got);
	close(pfd[0]);
	close(pfd[1]);
	/* and the stream is still in sync */
	CHECK(read_mem(&w, 8192, 8192) == 0);

	/* a response left half read: end(ok = false) discards the rest */
	rq.size = 512 << 10;
	CHECK(source_tcp.begin(&w, &rq) == 0);
	{
		const void *p;

		CHECK(source_tcp.to_mem(&w, w.buf, 1000, &p) == 0);
	}
	source_tcp.end(&w, false);
	CHECK(read_mem(&w, 40960, 4096) == 0);
	CHECK_EQ_U64(w.c.errors, 0);
	CHECK_EQ_U64(w.c.reconnects, 0);
	source_tcp.worker_fini(&w);
	source_tcp.teardown(&fs);
	mini_stop(&m);
}

TEST(source_tcp_pipe_data)
{
	struct mini_srv m;
	struct sfs fs;
	struct worker w;
	struct read_req rq = {.file = 0, .off = 1 << 20, .size = 1 << 20};
	int pfd[2];
	size_t moved = 0, out = 0;
	unsigned slots;
	char *got;

	if (mini_start(&m, 0))
		SKIP("cannot listen on 127.0.0.1");
	CHECK(tcp_open(&m, &fs, &w, 4096) == 0);
	CHECK(pipe2(pfd, O_CLOEXEC) == 0);
	got = malloc(rq.size);
	CHECK(got);
	CHECK(source_tcp.begin(&w, &rq) == 0);
	while (moved < rq.size) {
		ssize_t r = source_tcp.to_pipe(&w, pfd[1], rq.size - moved, &slots);

		if (r == -EAGAIN) {
			ssize_t q = read(pfd[0], got + out, rq.size - out);

			CHECK(q > 0);
			out += q;
			continue;
		}
		CHECK(r > 0);
		moved += r;
	}
	source_tcp.end(&w, true);
	while (out < rq.size) {
		ssize_t q = read(pfd[0], got + out, rq.size - out);

		CHECK(q > 0);
		out += q;
	}
	CHECK(pattern_check(&fs.pat, 0, rq.off, got, rq.size, NULL) == 0);
	free(got);
	close(pfd[0]);
	close(pfd[1]);
	source_tcp.worker_fini(&w);
	source_tcp.teardown(&fs);
	mini_stop(&m);
}

TEST(source_tcp_lost_connection)
{
	struct mini_srv m;
	struct sfs fs;
	struct worker w;

	if (mini_start(&m, 2)) /* every connection dies in its 2nd response */
		SKIP("cannot listen on 127.0.0.1");
	CHECK(tcp_open(&m, &fs, &w, 4096) == 0);
	CHECK(read_mem(&w, 0, 65536) == 0);
	CHECK(read_mem(&w, 65536, 65536) == -EIO); /* the read that was cut short fails */
	CHECK(tcp_worker_sock(&w) < 0);
	CHECK(read_mem(&w, 0, 65536) == 0); /* the next one reconnects */
	CHECK_EQ_U64(w.c.reconnects, 1);
	CHECK(w.c.errors >= 1);
	source_tcp.worker_fini(&w);
	source_tcp.teardown(&fs);
	mini_stop(&m);
}

TEST(source_tcp_hello_mismatch)
{
	struct mini_srv m;
	struct sfs fs;
	struct worker w;

	if (mini_start(&m, 0))
		SKIP("cannot listen on 127.0.0.1");
	CHECK(tcp_open(&m, &fs, &w, 8192) != 0); /* server has granule 4096 */
	mini_stop(&m);
}
