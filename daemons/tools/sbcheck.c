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
#include "opttab.h"
#include "pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
	uint64_t bs, offset, length, file, granule, seed, expect;
	bool direct, help;
};

#define NONE UINT64_MAX
#define O(f) offsetof(struct opts, f)
// clang-format off
static const struct opt_desc opt_table[] = {
	{"bs", 0, OPT_SIZE, O(bs), "1M", "SIZE", "bytes per read", 1, 1ULL << 30},
	{"direct", 0, OPT_BOOL, O(direct), NULL, NULL, "open with O_DIRECT"},
	{"offset", 0, OPT_SIZE, O(offset), "0", "N", "first byte to check"},
	{"length", 0, OPT_SIZE, O(length), NULL, "N", "bytes to check [to the end]"},
	{"file-index", 0, OPT_U64, O(file), NULL, "N", "file index of the pattern [from the name dataN]"},
	{"granule", 0, OPT_SIZE, O(granule), "8", "SIZE", "pattern granule (splicefs --granule)", 8},
	{"seed", 0, OPT_U64, O(seed), "0", "N", "pattern seed (splicefs --seed)"},
	{"expect-size", 0, OPT_SIZE, O(expect), NULL, "N", "bytes the file must yield from --offset [its size]"},
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help"},
};
// clang-format on
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sbcheck [options] FILE\n");
	opt_usage(f, opt_table, NOPTS);
}

int main(int argc, char **argv)
{
	struct opts o = {.length = NONE, .file = NONE, .expect = NONE};
	unsigned long long bs, off, len, file, expect;
	struct pattern p;
	int direct, fd, first;
	char err[256];
	struct timespec t0, t1;
	struct stat st;
	char *buf, msg[256];
	unsigned long long pos, total = 0;

	first = opt_parse(opt_table, NOPTS, &o, argc, argv, err, sizeof(err));
	if (first < 0) {
		fprintf(stderr, "sbcheck: %s\n", err);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	optind = first;
	bs = o.bs, off = o.offset, len = o.length, file = o.file, expect = o.expect;
	direct = o.direct;
	p = (struct pattern){o.seed, o.granule};
	if (optind != argc - 1 || !bs || pattern_valid(&p)) {
		usage(stderr);
		fprintf(stderr, "sbcheck: give one FILE, a non-zero --bs and a --granule that is a "
		                "multiple of 8\n");
		return 2;
	}
	if (file == NONE) { /* from the name: data<N> */
		const char *b = strrchr(argv[optind], '/');

		b = b ? b + 1 : argv[optind];
		file = strncmp(b, "data", 4) ? 0 : strtoull(b + 4, NULL, 10);
	}
	fd = open(argv[optind], O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "sbcheck: %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	if (expect == NONE)
		expect = st.st_size > (off_t)off ? st.st_size - off : 0;
	if (len == NONE)
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
