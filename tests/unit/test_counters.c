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
	counters_sum(&fs, &c, NULL);
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
	sfs_count_fallback(&w[0], FB_SMALL);
	for (int i = 0; i < 2; i++)
		sfs_count_fallback(&w[0], FB_GROW);
	for (int i = 0; i < 4; i++)
		sfs_count_fallback(&w[1], FB_FULL);
	for (int i = 0; i < 8; i++)
		sfs_count_fallback(&w[1], FB_ERROR);
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

/* Where "name": stands in buf, or -1. */
static long key_at(const char *buf, const char *name)
{
	char k[80];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", name);
	p = strstr(buf, k);
	return p ? p - buf : -1;
}

/* The stats file and --list name the same counters, in the table's order. */
TEST(counters_stats_and_list_agree)
{
	struct sfs fs = {0};
	struct worker w = {0};
	char path[] = "/tmp/sbunit-clist.XXXXXX", stats[4096], list[65536];
	long last_s = -1, last_l = -1;
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	CHECK(fd >= 0);
	f = fdopen(fd, "w+");
	CHECK(f != NULL);
	sfs_list(f);
	rewind(f);
	n = fread(list, 1, sizeof(list) - 1, f);
	fclose(f);
	unlink(path);
	list[n] = 0;
	fs.o.threads = 1;
	fs.o.mode = "copy";
	fs.o.source = "mem";
	fs.workers = &w;
	CHECK(stats_json(&fs, stats, sizeof(stats)) > 0);
	const char *c = strstr(list, "\"counters\":[");

	CHECK(c != NULL);
	CHECK(sfs_ncounters > 20);
	for (size_t i = 0; i < sfs_ncounters; i++) {
		char k[96];
		const char *p;
		long s = key_at(stats, sfs_counters[i].name);

		snprintf(k, sizeof(k), "{\"name\":\"%s\",", sfs_counters[i].name);
		p = strstr(c, k);
		if (s <= last_s || !p || p - c <= last_l) {
			unit_fail(__FILE__, __LINE__,
			          "counter %s: stats at %ld (after %ld), list %s",
			          sfs_counters[i].name, s, last_s, p ? "out of order" : "missing");
			return;
		}
		last_s = s;
		last_l = p - c;
	}
	/* every key of the list's counters is one of the table's, no more; a mode's own
	 * (its .counters: uring-zc's) name their mode and follow the daemon's */
	n = 0;
	for (const char *p = c; (p = strstr(p, "{\"name\":")); p++) {
		const char *end = strchr(p, '}');

		if (!end || !memmem(p, end - p, "\"mode\":", 7))
			n++;
		else
			CHECK(p - c > last_l);
	}
	CHECK_EQ_U64(n, sfs_ncounters);
	CHECK(strstr(c, "{\"name\":\"bytes_per_slot\",") != NULL);
	CHECK(strstr(c, "\"combine\":\"ratio\",\"num\":\"slot_bytes\",\"den\":\"pipe_slots\"}") !=
	      NULL);
	CHECK(strstr(c, "{\"name\":\"pipe_size_granted\",") != NULL);
}

/* How each counter adds up: the combine rules, ratios recomputed from the sums. */
TEST(counters_combine_rules)
{
	struct sfs fs = {0};
	struct worker w[2] = {0};
	struct counters c;
	const struct counter_desc *bps = NULL, *ppr = NULL, *psg = NULL;

	for (size_t i = 0; i < sfs_ncounters; i++) {
		const struct counter_desc *d = &sfs_counters[i];

		if (!strcmp(d->name, "bytes_per_slot"))
			bps = d;
		else if (!strcmp(d->name, "pipes_per_reply"))
			ppr = d;
		else if (!strcmp(d->name, "pipe_size_granted"))
			psg = d;
		else
			CHECK(d->combine == COUNTER_SUM);
	}
	CHECK(bps && ppr && psg);
	CHECK(psg->combine == COUNTER_MAX);
	CHECK(bps->combine == COUNTER_RATIO && !strcmp(bps->num, "slot_bytes") &&
	      !strcmp(bps->den, "pipe_slots"));
	CHECK(ppr->combine == COUNTER_RATIO && !strcmp(ppr->num, "pipes_used") &&
	      !strcmp(ppr->den, "replies_spliced"));
	fs.o.threads = 2;
	fs.workers = w;
	/* per worker 1000 and 3000 bytes a slot; over both: 8000 / 4, not the mean of ratios */
	w[0].c.slot_bytes = 2000, w[0].c.pipe_slots = 2;
	w[1].c.slot_bytes = 6000, w[1].c.pipe_slots = 2;
	w[0].c.pipe_size_granted = 4096, w[1].c.pipe_size_granted = 8192;
	counters_sum(&fs, &c, NULL);
	CHECK_EQ_U64(c.slot_bytes, 8000);
	CHECK(counter_ratio(bps, &c) == 2000.0);
	CHECK(counter_ratio(ppr, &c) == 0.0); /* no spliced reply: 0, not a division by 0 */
	CHECK_EQ_U64(counter_get(psg, &c), 8192);
}
