// SPDX-License-Identifier: MIT
#include "splicefs.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST(counters_sum_over_workers)
{
	struct sfs fs = {0};
	struct worker w[3] = {0};
	struct counters c;

	fs.o.threads = 3;
	fs.workers = w;
	w[0].c.bytes = 10, w[1].c.bytes = 20, w[2].c.bytes = 30;
	w[0].c.bytes_spliced = 10, w[2].c.bytes_copied = 30, w[1].c.bytes_copied = 20;
	w[1].c.fallback_full = 2;
	w[0].c.pipe_size_granted = 65536, w[2].c.pipe_size_granted = 1 << 20;
	counters_sum(&fs, &c);
	CHECK_EQ_U64(c.bytes, 60);
	CHECK_EQ_U64(c.bytes_spliced, 10);
	CHECK_EQ_U64(c.bytes_copied, 50);
	CHECK_EQ_U64(c.fallback_full, 2);
	CHECK_EQ_U64(c.pipe_size_granted, 1 << 20); /* a gauge: the largest, not a sum */
}

TEST(counters_json_has_every_field)
{
	struct sfs fs = {0};
	struct worker w = {0};
	char buf[2048];

	fs.o.threads = 1;
	fs.o.mode = "splice";
	fs.o.source = "mem";
	fs.workers = &w;
	w.c.bytes_copied = 123456789012ULL;
	CHECK(stats_json(&fs, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"bytes_copied\":123456789012") != NULL);
	CHECK(strstr(buf, "\"mode\":\"splice\"") != NULL);
	const char *fields[] = {
	    "requests",       "reads",           "bytes",          "bytes_spliced",
	    "fallbacks",      "pipes_used",      "replies_failed", "errors",
	    "source_bytes",   "replies_spliced", "pipe_slots",     "slot_bytes",
	    "bytes_per_slot", "fallback_small",  "fallback_grow",  "fallback_full",
	    "fallback_error", "pipes_per_reply", "pool_grows",     "pipe_size_granted",
	    "privilege",      "faults_injected"};
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char k[64];

		snprintf(k, sizeof(k), "\"%s\":", fields[i]);
		CHECK(strstr(buf, k) != NULL);
	}
	CHECK(stats_json(&fs, buf, 16) < 0); /* too small: an error, not half a line */
}

TEST(counters_fallbacks_sum_and_ratios)
{
	struct sfs fs = {0};
	struct worker w[2] = {0};
	char buf[4096];

	fs.o.threads = 2;
	fs.o.mode = "multipipe";
	fs.o.source = "mem";
	fs.o.user = true;
	fs.workers = w;
	w[0].c.fallback_small = 1, w[0].c.fallback_grow = 2, w[1].c.fallback_full = 4;
	w[1].c.fallback_error = 8;
	w[0].c.bytes_spliced = 3000, w[1].c.bytes_spliced = 1000, w[0].c.pipe_slots = 4;
	w[0].c.slot_bytes = 4000;
	w[0].c.replies_spliced = 3, w[1].c.replies_spliced = 1, w[1].c.pipes_used = 6;
	CHECK(stats_json(&fs, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"fallbacks\":15,") != NULL);
	CHECK(strstr(buf, "\"bytes_per_slot\":1000.0") != NULL);
	CHECK(strstr(buf, "\"pipes_per_reply\":1.500") != NULL);
	CHECK(strstr(buf, "\"privilege\":\"user\"") != NULL);
}

TEST(counters_stats_file_is_atomic)
{
	struct sfs fs = {0};
	struct worker w = {0};
	char path[] = "/tmp/sbunit-stats.XXXXXX", buf[2048];
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	CHECK(fd >= 0);
	close(fd);
	fs.o.threads = 1;
	fs.o.mode = "copy";
	fs.o.source = "mem";
	fs.workers = &w;
	w.c.reads = 7;
	CHECK(stats_write(&fs, path) == 0);
	f = fopen(path, "r");
	CHECK(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	unlink(path);
	CHECK(strstr(buf, "\"reads\":7") != NULL);
	CHECK(buf[n - 1] == '\n');
	CHECK(stats_write(&fs, "/nonexistent-dir/x") < 0);
}
