/* SPDX-License-Identifier: MIT */
/*
 * Counters, declared once.  A daemon (or a mode) lists its counters in one
 * X-macro table, a line each:
 *
 *   #define MY_COUNTERS(C, RATIO)                                         \
 *       C(requests, SUM, "every request read from /dev/fuse")             \
 *       C(pipe_size_granted, MAX, "largest pipe granted, bytes")          \
 *       RATIO(bytes_per_slot, slot_bytes, pipe_slots, 1, "bytes a slot")
 *
 * C(name, combine, help): a uint64_t each worker keeps; combine says how it
 * adds up, across a daemon's workers and across measurements: SUM, MAX (a
 * gauge: the largest), LAST (a gauge: the latest; per worker, the largest).
 * RATIO(name, num, den, decimals, help): no storage; recomputed as num / den
 * from the sums (0 when den is 0), never summed itself.
 *
 * From the table come the per-worker struct (COUNTERS_STRUCT) and the
 * descriptions (COUNTERS_DESC, with COUNTERS_TYPE naming the struct), which
 * the stats-file writer (counters_json) and --list (counters_list_json) read:
 * adding a counter is one line in the table.
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum counter_combine { COUNTER_SUM, COUNTER_MAX, COUNTER_LAST, COUNTER_RATIO };

struct counter_desc {
	const char *name;
	const char *help;
	enum counter_combine combine;
	size_t off;            /* SUM, MAX, LAST: its uint64_t in the counters struct */
	const char *num, *den; /* RATIO: the counters it is recomputed from */
	size_t num_off, den_off;
	int decimals; /* RATIO: in the stats file */
};

#define COUNTER_FIELD(name, combine, help) uint64_t name;
#define COUNTER_NOFIELD(...)
/* The struct's members: struct x { COUNTERS_STRUCT(TABLE) }; */
#define COUNTERS_STRUCT(TABLE) TABLE(COUNTER_FIELD, COUNTER_NOFIELD)

/* The descriptions: #define COUNTERS_TYPE struct x, then { COUNTERS_DESC(TABLE) }. */
#define COUNTER_DESC_ONE(name, combine, help)                                                      \
	{#name, help, COUNTER_##combine, offsetof(COUNTERS_TYPE, name), NULL, NULL, 0, 0, 0},
#define COUNTER_DESC_RATIO(name, num, den, decimals, help)                                         \
	{#name,                                                                                    \
	 help,                                                                                     \
	 COUNTER_RATIO,                                                                            \
	 0,                                                                                        \
	 #num,                                                                                     \
	 #den,                                                                                     \
	 offsetof(COUNTERS_TYPE, num),                                                             \
	 offsetof(COUNTERS_TYPE, den),                                                             \
	 decimals},
#define COUNTERS_DESC(TABLE) TABLE(COUNTER_DESC_ONE, COUNTER_DESC_RATIO)

#define COUNTERS_N(table) (sizeof(table) / sizeof((table)[0]))

/* "sum", "max", "last", "ratio" */
const char *counter_combine_name(enum counter_combine c);

/* A stored counter of c (SUM, MAX, LAST); a RATIO's value (0 when its den is 0). */
uint64_t counter_get(const struct counter_desc *d, const void *c);
double counter_ratio(const struct counter_desc *d, const void *c);

/*
 * Add one worker's counters (one, written by that worker as we read) into out:
 * SUM adds, MAX and LAST keep the largest.
 */
void counters_merge(const struct counter_desc *d, size_t n, void *out, const volatile void *one);

/*
 * Append ,"name":value for each counter of d, in order, to the JSON text in
 * buf (len bytes, n used: statsfile.h's STATS_APPEND rules); returns the new n.
 */
int counters_json(char *buf, size_t len, int n, const struct counter_desc *d, size_t nd,
                  const void *c);

/*
 * --list: the objects {"name","help","combine"[,"num","den"][,"mode"]} of d,
 * comma-separated (a comma first when first is 0), "mode":owner when owner.
 * Returns how many it wrote.
 */
size_t counters_list_json(FILE *f, const struct counter_desc *d, size_t nd, const char *owner,
                          int first);

#endif
