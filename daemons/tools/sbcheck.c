// SPDX-License-Identifier: MIT
/*
 * sbcheck: read a splicebench file through any path (a splicefs mount, a
 * copy of it) and check every byte against the offset pattern.
 *
 *   sbcheck [--bs SIZE] [--direct] [--offset N] [--length N] [--file-index N]
 *           [--granule N] [--seed N] [--expect-size N] [--jobs N] FILE
 *
 * Prints one line: bytes checked and MB/s, or the first wrong byte with what
 * was expected and found.  Exit 0 = all good, 1 = mismatch or short file,
 * 2 = bad usage or I/O error.  It also checks that the read returns exactly
 * the file's size (or --expect-size): a short or long read is an error.
 * --jobs N: N threads, each reading its own consecutive Nth of the range
 * (the last one takes the remainder), as N fio jobs with offset_increment do;
 * a mismatch reports the lowest wrong offset any thread found.
 */
#include "opttab.h"
#include "pattern.h"
#include "sbcheck_core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
	uint64_t bs, offset, length, file, granule, seed, expect, jobs;
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
	{"jobs", 0, OPT_U64, O(jobs), "1", "N", "reader threads, each over its own Nth of the range", 1, 256},
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help"},
};
// clang-format on
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sbcheck [options] FILE\n");
	opt_usage(f, opt_table, NOPTS);
}

/* One reader thread: [off, off + len) of the file (sbcheck_core.c does the work). */
struct job {
	pthread_t tid;
	struct sbcheck_range r;
};

static void *job_run(void *arg)
{
	sbcheck_range_run(&((struct job *)arg)->r);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o = {.length = NONE, .file = NONE, .expect = NONE};
	unsigned long long bs, off, len, file, expect, total = 0, want_total, i, nj;
	struct pattern p;
	int direct, fd, first;
	char err[256];
	struct timespec t0, t1;
	struct stat st;
	struct job *jobs;
	struct sbcheck_range *worst = NULL;

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
	nj = o.jobs;
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
	want_total = len < expect ? len : expect;
	jobs = calloc(nj, sizeof(*jobs));
	if (!jobs) {
		fprintf(stderr, "sbcheck: out of memory\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nj; i++) {
		struct job *j = &jobs[i];
		unsigned long long part = len / nj;

		j->r = (struct sbcheck_range){.fd = fd, .p = &p, .file = file, .bs = bs};
		j->r.off = off + i * part;
		j->r.len = i == nj - 1 ? len - i * part : part;
		if (pthread_create(&j->tid, NULL, job_run, j)) {
			fprintf(stderr, "sbcheck: cannot start a reader thread\n");
			return 2;
		}
	}
	for (i = 0; i < nj; i++) {
		pthread_join(jobs[i].tid, NULL);
		total += jobs[i].r.total;
		/* a mismatch before an I/O error; the lowest offset first */
		if (jobs[i].r.rc && (!worst || jobs[i].r.rc < worst->rc ||
		                     (jobs[i].r.rc == worst->rc && jobs[i].r.bad < worst->bad)))
			worst = &jobs[i].r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (worst && worst->rc == 1) {
		printf("sbcheck: %s: MISMATCH %s\n", argv[optind], worst->msg);
		return 1;
	}
	if (worst) {
		fprintf(stderr, "sbcheck: %s: read at %llu: %s\n", argv[optind],
		        (unsigned long long)worst->bad, strerror(worst->err));
		return 2;
	}
	if (total != want_total) {
		printf("sbcheck: %s: read %llu bytes, expected %llu\n", argv[optind], total,
		       want_total);
		return 1;
	}
	{
		double s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;

		printf("sbcheck: %s: %llu bytes OK (%.0f MB/s)\n", argv[optind], total,
		       s > 0 ? total / s / 1e6 : 0.0);
	}
	return 0;
}
