// SPDX-License-Identifier: MIT
/*
 * sbmemcpy: how fast one core copies memory, the ceiling every copying reply
 * mode is judged against (the kernel's copy of a FUSE reply is a memcpy).
 *
 *   sbmemcpy [--chunk SIZE] [--total SIZE] [--area SIZE] [--repeat N]
 *
 * Copies --total bytes (default 8G) in --chunk pieces (default 1M) between two
 * buffers of --area bytes each (default 64 MiB, so caches do not flatter it),
 * and prints one JSON object: {"memcpy_gbps": G, "chunk": C, "bytes": N,
 * "seconds": S}.  With --repeat N the copy is timed N times over the same two
 * buffers and "repeats_gbps" lists each: the spread within one process, to set
 * beside the spread between fresh processes (where their pages landed).
 */
#include "opttab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct opts {
	uint64_t chunk, total, area;
	int repeat;
	bool help;
};

#define O(f) offsetof(struct opts, f)
static const struct opt_desc opt_table[] = {
    {"chunk", 0, OPT_SIZE, O(chunk), "1M", "SIZE", "bytes per memcpy call", 64, 1ULL << 30},
    {"total", 0, OPT_SIZE, O(total), "8G", "SIZE", "bytes copied in all", 1 << 20, 1ULL << 40},
    {"area", 0, OPT_SIZE, O(area), "64M", "SIZE", "bytes of each buffer", 4096, 1ULL << 34},
    {"repeat", 0, OPT_INT, O(repeat), "1", "N", "time the copy N times in this process", 1, 1000},
    {"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help"},
};
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

/* One timed pass: --total bytes (rounded up to chunks) walking the area; seconds. */
static double copy_pass(char *dst, const char *src, const struct opts *o, uint64_t *bytes)
{
	struct timespec t0, t1;
	uint64_t done = 0, off = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < o->total) {
		if (off + o->chunk > o->area)
			off = 0;
		memcpy(dst + off, src + off, o->chunk);
		off += o->chunk;
		done += o->chunk;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*bytes = done;
	return (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[256], *src, *dst;
	uint64_t done = 0;
	double s = 0, g;
	int first = opt_parse(opt_table, NOPTS, &o, argc, argv, err, sizeof(err));

	if (first < 0 || first < argc) {
		fprintf(stderr, "sbmemcpy: %s\n",
		        first < 0 ? err : "takes no arguments: see --help");
		return 2;
	}
	if (o.help) {
		printf("usage: sbmemcpy [options]\n");
		opt_usage(stdout, opt_table, NOPTS);
		return 0;
	}
	if (o.chunk > o.area)
		o.chunk = o.area;
	src = mmap(NULL, o.area, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, o.area, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		fprintf(stderr, "sbmemcpy: cannot map 2 x %llu bytes: use a smaller --area\n",
		        (unsigned long long)o.area);
		return 1;
	}
	memset(src, 0x5a, o.area);
	memset(dst, 0, o.area);
	/* Use the result, so the copies cannot be optimized away. */
	s = copy_pass(dst, src, &o, &done);
	if (dst[o.chunk / 2] != 0x5a)
		return 1;
	printf("{\"memcpy_gbps\": %.3f, \"chunk\": %llu, \"bytes\": %llu, \"seconds\": %.3f",
	       s > 0 ? done / s / 1e9 : 0.0, (unsigned long long)o.chunk, (unsigned long long)done,
	       s);
	if (o.repeat > 1) {
		printf(", \"area\": %llu, \"repeats_gbps\": [", (unsigned long long)o.area);
		for (int i = 0; i < o.repeat; i++) {
			if (i)
				s = copy_pass(dst, src, &o, &done);
			g = s > 0 ? done / s / 1e9 : 0.0;
			printf("%s%.3f", i ? ", " : "", g);
		}
		printf("]");
	}
	printf("}\n");
	return 0;
}
