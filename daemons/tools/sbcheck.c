// SPDX-License-Identifier: MIT
/*
 * sbcheck: read a splicebench file through any path (a splicefs mount, a
 * copy of it) and check every byte against the offset pattern.
 *
 *   sbcheck [--bs SIZE] [--direct] [--offset N] [--length N] [--file-index N]
 *           [--granule N] [--seed N] [--expect-size N] FILE
 *
 * Prints one line: bytes checked and MB/s, or the first wrong byte with what
 * was expected and found.  Exit 0 = all good, 1 = mismatch or short file,
 * 2 = bad usage or I/O error.  It also checks that the read returns exactly
 * the file's size (or --expect-size): a short or long read is an error.
 */
#include "pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int parse_num(const char *s, unsigned long long *v)
{
	char *end;
	int shift = 0;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end)
		return -1;
	*v <<= shift;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sbcheck [--bs SIZE] [--direct] [--offset N] [--length N] "
	           "[--file-index N] [--granule N] [--seed N] [--expect-size N] FILE\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"bs", 1, 0, 'b'},         {"direct", 0, 0, 'd'},
	    {"offset", 1, 0, 'o'},     {"length", 1, 0, 'l'},
	    {"file-index", 1, 0, 'i'}, {"granule", 1, 0, 'g'},
	    {"seed", 1, 0, 's'},       {"expect-size", 1, 0, 'e'},
	    {"help", 0, 0, 'h'},       {0},
	};
	unsigned long long bs = 1 << 20, off = 0, len = ~0ULL, file = ~0ULL, expect = ~0ULL, v;
	struct pattern p = {0, 8};
	int direct = 0, c, fd;
	struct timespec t0, t1;
	struct stat st;
	char *buf, msg[256];
	unsigned long long pos, total = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'd') {
			direct = 1;
			continue;
		}
		if (c == '?' || !optarg || parse_num(optarg, &v)) {
			usage(stderr);
			fprintf(stderr, "sbcheck: bad option or value%s%s\n", optarg ? ": " : "",
			        optarg ? optarg : "");
			return 2;
		}
		switch (c) {
		case 'b':
			bs = v;
			break;
		case 'o':
			off = v;
			break;
		case 'l':
			len = v;
			break;
		case 'i':
			file = v;
			break;
		case 'g':
			p.granule = v;
			break;
		case 's':
			p.seed = v;
			break;
		case 'e':
			expect = v;
			break;
		}
	}
	if (optind != argc - 1 || !bs || pattern_valid(&p)) {
		usage(stderr);
		fprintf(stderr, "sbcheck: give one FILE, a non-zero --bs and a --granule that is a "
		                "multiple of 8\n");
		return 2;
	}
	if (file == ~0ULL) { /* from the name: data<N> */
		const char *b = strrchr(argv[optind], '/');

		b = b ? b + 1 : argv[optind];
		file = strncmp(b, "data", 4) ? 0 : strtoull(b + 4, NULL, 10);
	}
	fd = open(argv[optind], O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "sbcheck: %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	if (expect == ~0ULL)
		expect = st.st_size > (off_t)off ? st.st_size - off : 0;
	if (len == ~0ULL)
		len = expect;
	buf = mmap(NULL, bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		fprintf(stderr, "sbcheck: cannot allocate %llu bytes\n", bs);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (pos = off; pos < off + len;) {
		size_t want = off + len - pos < bs ? off + len - pos : bs;
		ssize_t n = pread(fd, buf, want, pos);
		unsigned long long bad;

		if (n < 0) {
			fprintf(stderr, "sbcheck: %s: read at %llu: %s\n", argv[optind], pos,
			        strerror(errno));
			return 2;
		}
		if (n == 0)
			break;
		if (pattern_check(&p, file, pos, buf, n, (uint64_t *)&bad)) {
			pattern_explain(&p, file, bad, buf, pos, n, msg, sizeof(msg));
			printf("sbcheck: %s: MISMATCH %s\n", argv[optind], msg);
			return 1;
		}
		total += n;
		pos += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (total != (len < expect ? len : expect)) {
		printf("sbcheck: %s: read %llu bytes, expected %llu\n", argv[optind], total,
		       len < expect ? len : expect);
		return 1;
	}
	{
		double s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;

		printf("sbcheck: %s: %llu bytes OK (%.0f MB/s)\n", argv[optind], total,
		       s > 0 ? total / s / 1e6 : 0.0);
	}
	return 0;
}
