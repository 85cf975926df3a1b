// SPDX-License-Identifier: MIT
/*
 * sbclient: test and load client of sbserver (wire format: sbproto.h).
 *
 *   sbclient --connect HOST:PORT [--files N --file-size S --granule G --seed N]
 *            [--threads T] [--requests N | --seconds S] [--length L] [--random] [--no-check]
 *       read and verify (pattern_check) every byte; prints GB/s; exit 0 when all good.
 *   sbclient --connect HOST:PORT --hello-only ...   just the HELLO; exit 3 on refusal.
 *   sbclient --connect HOST:PORT --fuzz N [--fuzz-seed S] ...
 *       N connections, each sending one kind of malformed or cut-short input; checks
 *       that the server answers as sbproto.h says (error status, then close) within
 *       2 s.  Exit 0 when every answer was as expected.
 *   sbclient --connect HOST:PORT --stall silent|half --timeout MS
 *       connect and send nothing (silent), or HELLO and half a request (half); exit 0
 *       when the server closes the connection within MS, 1 when it is still open.
 *   sbclient --connect HOST:PORT --hold N
 *       N connections at once (each with HELLO); prints how many were served and how
 *       many the server refused as busy (its --max-conns).
 *
 * Exit: 0 ok, 1 data/verification/fuzz-expectation error, 2 usage, 3 connect or HELLO failure.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"
#include "opttab.h"
#include "sbproto.h"

static char host[256], port[16];
static uint64_t files = 1, file_size = 1ULL << 30, granule = 8, seed = 0;
static uint64_t length = 128 << 10, requests = 100;
static double seconds;
static int threads = 1, fuzz, timeout_ms = 10000;
static uint64_t fuzz_seed = 1;
static bool random_off, check = true, hello_only;
static const char *stall;
static int hold;
static struct sbp_hello ours;
static struct pattern pat;

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_conn(bool hello)
{
	char msg[200];
	int fd = sbp_connect(host, port, 5000, timeout_ms), ret;

	if (fd < 0) {
		fprintf(stderr, "sbclient: connect %s:%s: %s\n", host, port, sbp_strerror(-fd));
		return -1;
	}
	if (!hello)
		return fd;
	ret = sbp_client_hello(fd, &ours, NULL, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "sbclient: HELLO with %s:%s failed: %s\n", host, port, msg);
		close(fd);
		return -1;
	}
	return fd;
}

struct job {
	int id;
	uint64_t reqs, bytes, errors;
	int rc;
};

static void *reader(void *arg)
{
	struct job *j = arg;
	uint64_t rs = fuzz_seed * 1000 + j->id, off = 0, file = 0, tag = 0;
	uint8_t b[SBP_REQ_LEN], h[SBP_RESP_LEN];
	uint8_t *buf = malloc(length ? length : 1);
	double end = seconds > 0 ? now() + seconds : 0;
	char why[200];
	int fd = open_conn(true);

	if (fd < 0 || !buf) {
		j->rc = 3;
		free(buf);
		return NULL;
	}
	off = (j->id * length * 7) % file_size;
	for (uint64_t i = 0; seconds > 0 ? now() < end : i < requests; i++) {
		struct sbp_req rq = {.magic = SBP_REQ_MAGIC, .length = length};
		struct sbp_resp rp;
		uint32_t want;
		uint64_t bad;
		int ret;

		if (random_off) {
			off = rnd(&rs) % file_size;
			off -= off % 4096;
			file = rnd(&rs) % files;
		} else if (off >= file_size) {
			off = 0;
			file = (file + 1) % files;
		}
		rq.file = file;
		rq.offset = off;
		rq.tag = ++tag;
		want = length < file_size - off ? length : file_size - off;
		sbp_req_encode(&rq, b);
		ret = sbp_write_full(fd, b, sizeof(b));
		if (!ret)
			ret = sbp_read_full(fd, h, sizeof(h), NULL);
		if (ret) {
			fprintf(stderr, "sbclient: request %llu: %s\n", (unsigned long long)i,
			        strerror(-ret));
			j->rc = 1;
			break;
		}
		sbp_resp_decode(h, &rp);
		if (sbp_resp_check(&rp, rq.tag, want, why, sizeof(why))) {
			fprintf(stderr,
			        "sbclient: request %llu (file %llu off %llu len %llu): %s\n",
			        (unsigned long long)i, (unsigned long long)file,
			        (unsigned long long)off, (unsigned long long)length, why);
			j->rc = 1;
			break;
		}
		ret = sbp_read_full(fd, buf, want, NULL);
		if (ret) {
			fprintf(stderr, "sbclient: data of request %llu: %s\n",
			        (unsigned long long)i, strerror(-ret));
			j->rc = 1;
			break;
		}
		if (check && pattern_check(&pat, file, off, buf, want, &bad)) {
			char m[256];

			pattern_explain(&pat, file, bad, buf, off, want, m, sizeof(m));
			fprintf(stderr, "sbclient: wrong data: %s\n", m);
			j->errors++;
			j->rc = 1;
			break;
		}
		j->reqs++;
		j->bytes += want;
		off += want;
	}
	close(fd);
	free(buf);
	return NULL;
}

/* ---- fuzzing ---- */

enum fz {
	FZ_RANDOM_HELLO,
	FZ_SHORT_HELLO,
	FZ_BAD_VERSION,
	FZ_CLOSE,
	FZ_RANDOM_REQ,
	FZ_SHORT_REQ,
	FZ_BAD_MAGIC,
	FZ_RESERVED,
	FZ_BAD_FILE,
	FZ_BAD_OFFSET,
	FZ_HUGE_LEN,
	FZ_LEN_OVER_MAX,
	FZ_CUT_RESPONSE,
	FZ_EOF_CLAMP,
	FZ_NKINDS
};

static const char *fz_name[] = {"random-hello",   "short-hello",   "bad-version", "close",
                                "random-request", "short-request", "bad-magic",   "reserved",
                                "bad-file",       "bad-offset",    "huge-length", "over-max-len",
                                "cut-response",   "eof-clamp"};

/* Read until EOF within 2 s; returns the first response header in *rp (status -1 if none). */
static int expect_close(int fd, struct sbp_resp *rp, uint64_t *extra)
{
	struct timeval tv = {.tv_sec = 2};
	uint8_t b[4096];
	size_t have = 0;
	uint8_t h[SBP_RESP_LEN];

	rp->status = (uint32_t)-1;
	*extra = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t r = recv(fd, b, sizeof(b), 0);

		if (r == 0)
			return 0;
		if (r < 0)
			return errno == ECONNRESET ? 0 : -1; /* timeout: server did not close */
		for (ssize_t i = 0; i < r; i++) {
			if (have < SBP_RESP_LEN)
				h[have++] = b[i];
			else
				(*extra)++;
		}
		if (have == SBP_RESP_LEN && rp->status == (uint32_t)-1)
			sbp_resp_decode(h, rp);
	}
}

static int fuzz_one(int i, enum fz k, uint64_t *rs)
{
	uint8_t b[8192];
	struct sbp_req rq = {.magic = SBP_REQ_MAGIC, .length = 4096, .tag = 77};
	struct sbp_hello h = ours;
	struct sbp_resp rp;
	uint64_t extra;
	int want_status = -1, fd;
	size_t n;

	fd = open_conn(k >= FZ_RANDOM_REQ);
	if (fd < 0)
		return -1;
	switch (k) {
	case FZ_RANDOM_HELLO:
		n = 1 + rnd(rs) % 200;
		for (size_t j = 0; j < n; j++)
			b[j] = rnd(rs);
		send(fd, b, n, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		break;
	case FZ_SHORT_HELLO:
		sbp_hello_encode(&h, b);
		send(fd, b, rnd(rs) % SBP_HELLO_LEN, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		break;
	case FZ_BAD_VERSION:
		h.version = 99;
		sbp_hello_encode(&h, b);
		send(fd, b, SBP_HELLO_LEN, MSG_NOSIGNAL);
		break;
	case FZ_CLOSE:
		break;
	case FZ_RANDOM_REQ:
		n = 1 + rnd(rs) % 300;
		for (size_t j = 0; j < n; j++)
			b[j] = rnd(rs);
		if (n >= 4 && b[0] == 'S')
			b[0] = 'X'; /* never a valid magic by chance */
		send(fd, b, n, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		break;
	case FZ_SHORT_REQ:
		sbp_req_encode(&rq, b);
		send(fd, b, rnd(rs) % SBP_REQ_LEN, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		break;
	case FZ_BAD_MAGIC:
		rq.magic = (uint32_t)rnd(rs) | 1;
		if (rq.magic == SBP_REQ_MAGIC)
			rq.magic ^= 2;
		want_status = SBP_ST_PROTO;
		break;
	case FZ_RESERVED:
		rq.reserved = 1 + rnd(rs) % 1000;
		want_status = SBP_ST_PROTO;
		break;
	case FZ_BAD_FILE:
		rq.file = files + rnd(rs) % 1000;
		want_status = SBP_ST_RANGE;
		break;
	case FZ_BAD_OFFSET:
		rq.offset = file_size + 1 + rnd(rs) % (1ULL << 40);
		want_status = SBP_ST_RANGE;
		break;
	case FZ_HUGE_LEN:
		rq.length = 0xffffffffu;
		want_status = SBP_ST_TOOBIG;
		break;
	case FZ_LEN_OVER_MAX:
		rq.length = SBP_MAX_LEN_LIMIT + 1 + rnd(rs) % 1000;
		want_status = SBP_ST_TOOBIG;
		break;
	case FZ_CUT_RESPONSE:
		rq.length = 1 << 20;
		rq.offset = 0;
		break;
	case FZ_EOF_CLAMP:
		break;
	case FZ_NKINDS:
		break;
	}
	if (want_status >= 0 || k == FZ_CUT_RESPONSE) {
		sbp_req_encode(&rq, b);
		send(fd, b, SBP_REQ_LEN, MSG_NOSIGNAL);
	}
	if (k == FZ_CUT_RESPONSE) {
		recv(fd, b, 100, 0); /* take a little, then vanish mid-response */
		close(fd);
		return 0;
	}
	if (k == FZ_EOF_CLAMP) {
		/* a valid request past EOF: clamped, connection stays usable */
		uint64_t off = file_size - rnd(rs) % (file_size < 4096 ? file_size + 1 : 4096);
		uint8_t hb[SBP_RESP_LEN];
		char why[200];

		rq.offset = off;
		rq.length = 8192;
		rq.file = rnd(rs) % files;
		for (int rep = 0; rep < 2; rep++) {
			uint32_t want = (uint32_t)(file_size - off);
			uint64_t bad;

			sbp_req_encode(&rq, b);
			if (sbp_write_full(fd, b, SBP_REQ_LEN) ||
			    sbp_read_full(fd, hb, SBP_RESP_LEN, NULL)) {
				fprintf(stderr, "sbclient: fuzz %d eof-clamp: I/O error\n", i);
				close(fd);
				return -1;
			}
			sbp_resp_decode(hb, &rp);
			if (sbp_resp_check(&rp, rq.tag, want, why, sizeof(why)) ||
			    sbp_read_full(fd, b, want, NULL) ||
			    pattern_check(&pat, rq.file, off, b, want, &bad)) {
				fprintf(stderr, "sbclient: fuzz %d eof-clamp at %llu: %s\n", i,
				        (unsigned long long)off, why);
				close(fd);
				return -1;
			}
		}
		close(fd);
		return 0;
	}
	if (k == FZ_CLOSE) {
		close(fd);
		return 0;
	}
	if (expect_close(fd, &rp, &extra)) {
		fprintf(stderr, "sbclient: fuzz %d %s: server did not close the connection\n", i,
		        fz_name[k]);
		close(fd);
		return -1;
	}
	close(fd);
	if (want_status >= 0 && (rp.status != (uint32_t)want_status || rp.magic != SBP_RESP_MAGIC ||
	                         rp.length || rp.tag != rq.tag || extra)) {
		fprintf(stderr,
		        "sbclient: fuzz %d %s: expected status %d (%s), got %d, length %u, "
		        "%llu extra bytes\n",
		        i, fz_name[k], want_status, sbp_status_str(want_status), (int)rp.status,
		        rp.length, (unsigned long long)extra);
		return -1;
	}
	return 0;
}

static int run_fuzz(void)
{
	uint64_t rs = fuzz_seed;
	int bad = 0;

	for (int i = 0; i < fuzz; i++) {
		enum fz k = i < FZ_NKINDS ? (enum fz)i : (enum fz)(rnd(&rs) % FZ_NKINDS);

		if (fuzz_one(i, k, &rs))
			bad++;
	}
	printf("sbclient: fuzz: %d connections, %d unexpected answers\n", fuzz, bad);
	return bad ? 1 : 0;
}

/*
 * --stall silent: connect and never send; --stall half: HELLO, then half a
 * request, then nothing.  The server must close within --timeout MS (its own
 * --timeout, plus slack): 0 when it did, 1 when the connection was still open.
 */
static int run_stall(void)
{
	struct sbp_req rq = {.magic = SBP_REQ_MAGIC, .length = 4096, .tag = 5};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	uint8_t b[SBP_REQ_LEN];
	double t0 = now();
	bool half = !strcmp(stall, "half");
	int fd = open_conn(half);
	ssize_t r;

	if (fd < 0)
		return 3;
	if (half) {
		sbp_req_encode(&rq, b);
		if (sbp_write_full(fd, b, SBP_REQ_LEN / 2)) {
			close(fd);
			return 3;
		}
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		r = recv(fd, b, sizeof(b), 0);
	while (r > 0);
	close(fd);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		printf("sbclient: stall %s: the server kept the connection open for %.1f s\n",
		       stall, now() - t0);
		return 1;
	}
	printf("sbclient: stall %s: the server closed the connection after %.1f s\n", stall,
	       now() - t0);
	return 0;
}

/* --hold N: N connections at once, each with HELLO; say how many were served or refused busy. */
static int run_hold(void)
{
	int *fds = calloc(hold, sizeof(int)), ok = 0, busy = 0, failed = 0;

	for (int i = 0; i < hold; i++) {
		char msg[200];
		struct sbp_hello srv;
		int fd = sbp_connect(host, port, 5000, timeout_ms), ret;

		fds[i] = -1;
		if (fd < 0) {
			failed++;
			continue;
		}
		memset(&srv, 0, sizeof(srv));
		ret = sbp_client_hello(fd, &ours, &srv, msg, sizeof(msg));
		if (ret == 0) {
			ok++;
			fds[i] = fd;
			continue;
		}
		if (ret == -EPROTO && srv.status == SBP_ST_BUSY)
			busy++;
		else
			failed++;
		close(fd);
	}
	printf("sbclient: hold: %d served, %d refused busy, %d failed\n", ok, busy, failed);
	for (int i = 0; i < hold; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sbclient --connect HOST:PORT [--files N] [--file-size S] [--granule G]\n"
	           "       [--seed N] [--threads T] [--requests N | --seconds S] [--length L]\n"
	           "       [--random] [--no-check] [--hello-only] [--fuzz N] [--fuzz-seed S]\n"
	           "       [--timeout MS] [--stall silent|half] [--hold N]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"connect", 1, 0, 'c'},
	                                   {"files", 1, 0, 'F'},
	                                   {"file-size", 1, 0, 'S'},
	                                   {"granule", 1, 0, 'g'},
	                                   {"seed", 1, 0, 's'},
	                                   {"threads", 1, 0, 't'},
	                                   {"requests", 1, 0, 'n'},
	                                   {"seconds", 1, 0, 'T'},
	                                   {"length", 1, 0, 'l'},
	                                   {"random", 0, 0, 'r'},
	                                   {"no-check", 0, 0, 'N'},
	                                   {"hello-only", 0, 0, 'H'},
	                                   {"fuzz", 1, 0, 'z'},
	                                   {"fuzz-seed", 1, 0, 'Z'},
	                                   {"timeout", 1, 0, 'o'},
	                                   {"stall", 1, 0, 'x'},
	                                   {"hold", 1, 0, 'y'},
	                                   {"help", 0, 0, 'h'},
	                                   {0, 0, 0, 0}};
	const char *connect_to = NULL;
	struct job *jobs;
	pthread_t *th;
	uint64_t reqs = 0, bytes = 0;
	double t0, dt;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'c':
			connect_to = optarg;
			break;
		case 'F':
			files = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			ok = !parse_size(optarg, &file_size);
			break;
		case 'g':
			ok = !parse_size(optarg, &granule);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'n':
			requests = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			seconds = atof(optarg);
			break;
		case 'l':
			ok = !parse_size(optarg, &length) && length <= SBP_MAX_LEN_LIMIT;
			break;
		case 'r':
			random_off = true;
			break;
		case 'N':
			check = false;
			break;
		case 'H':
			hello_only = true;
			break;
		case 'z':
			fuzz = atoi(optarg);
			break;
		case 'Z':
			fuzz_seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			timeout_ms = atoi(optarg);
			break;
		case 'x':
			stall = optarg;
			ok = !strcmp(stall, "silent") || !strcmp(stall, "half");
			break;
		case 'y':
			hold = atoi(optarg);
			ok = hold > 0 && hold <= 100000;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "sbclient: bad value '%s' (see --help)\n", optarg);
			return 2;
		}
	}
	if (!connect_to || optind < argc || threads < 1 || threads > 1024 || !files || !file_size ||
	    granule < 8 || granule % 8) {
		usage(stderr);
		return 2;
	}
	if (sbp_parse_addr(connect_to, host, sizeof(host), port, sizeof(port), NULL)) {
		fprintf(stderr, "sbclient: --connect '%s': expected HOST:PORT\n", connect_to);
		return 2;
	}
	sbp_hello_init(&ours, files, file_size, granule, seed);
	pat.granule = granule;
	pat.seed = seed;
	if (hello_only) {
		int fd = open_conn(true);

		if (fd < 0)
			return 3;
		close(fd);
		printf("sbclient: HELLO ok\n");
		return 0;
	}
	if (fuzz)
		return run_fuzz();
	if (stall)
		return run_stall();
	if (hold)
		return run_hold();

	jobs = calloc(threads, sizeof(*jobs));
	th = calloc(threads, sizeof(*th));
	t0 = now();
	for (int i = 0; i < threads; i++) {
		jobs[i].id = i;
		pthread_create(&th[i], NULL, reader, &jobs[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		reqs += jobs[i].reqs;
		bytes += jobs[i].bytes;
		if (jobs[i].rc > rc)
			rc = jobs[i].rc;
	}
	dt = now() - t0;
	printf("sbclient: %llu requests, %llu bytes in %.3f s: %.3f GB/s%s\n",
	       (unsigned long long)reqs, (unsigned long long)bytes, dt, bytes / dt / 1e9,
	       check ? ", all verified" : "");
	free(jobs);
	free(th);
	return rc;
}
