// SPDX-License-Identifier: MIT
/*
 * testmode: an invented reply mode for tests, linked only into
 * build/splicefs-testmode (daemons/splicefs/splicefs.mk), never into
 * build/splicefs.  It shows that a mode with an option and counters of its
 * own needs nothing but its file: it adds itself to the registry from a
 * constructor (sfs_register_mode), its option is in its .options table, its
 * counters in its .counters table (one line each), and --list, --help, the
 * option checks and the stats file take them from there.
 *
 * A reply is copy's (reply_by_copy, with its faults), after a fixed CPU cost:
 * --test-delay-ns N busy-waits N ns on CLOCK_MONOTONIC (no sleep: the worker
 * stays on its CPU), so a daemon can be made slower by a known cost per reply.
 * test_spins counts the replies that waited, test_spin_ns the ns they spun
 * (measured, at least N each).
 */
#include "splicefs.h"
#include "opttab.h"

#include <stddef.h>
#include <time.h>

struct testmode_opts {
	uint64_t delay_ns;
};

#define O(f) offsetof(struct testmode_opts, f)
static const struct opt_desc testmode_options[] = {
    {"test-delay-ns", 0, OPT_U64, O(delay_ns), "0", "N",
     "busy-wait N ns (CLOCK_MONOTONIC) before each reply: a fixed CPU cost per reply"},
};
#undef O

// clang-format off
#define TESTMODE_COUNTERS(C, RATIO) \
	C(test_spins, SUM, "testmode: replies that busy-waited --test-delay-ns") \
	C(test_spin_ns, SUM, "testmode: ns those replies spun, measured") \
	RATIO(test_ns_per_spin, test_spin_ns, test_spins, 0, "testmode: ns spun per reply")
// clang-format on

struct testmode_counters {
	COUNTERS_STRUCT(TESTMODE_COUNTERS)
};
_Static_assert(sizeof(struct testmode_counters) <= SFS_MODE_COUNTERS * sizeof(uint64_t),
               "testmode's counters do not fit in w->mode_c");

#define COUNTERS_TYPE struct testmode_counters
static const struct counter_desc testmode_counters[] = {COUNTERS_DESC(TESTMODE_COUNTERS)};
#undef COUNTERS_TYPE

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int testmode_reply(struct worker *w, const struct read_req *rq)
{
	const struct testmode_opts *o = w->fs->o.mode_opts;
	struct testmode_counters *c = (struct testmode_counters *)w->mode_c;

	if (o->delay_ns) {
		uint64_t t0 = now_ns(), t;

		do
			t = now_ns();
		while (t - t0 < o->delay_ns);
		c->test_spins++;
		c->test_spin_ns += t - t0;
	}
	return reply_by_copy(w, rq);
}

const struct reply_mode mode_testmode = {
    .name = "testmode",
    .help = "tests only: copy after --test-delay-ns of busy-waiting per reply",
    .needs = "",
    .options = testmode_options,
    .noptions = sizeof(testmode_options) / sizeof(testmode_options[0]),
    .opts_size = sizeof(struct testmode_opts),
    .counters = testmode_counters,
    .ncounters = COUNTERS_N(testmode_counters),
    .fault_swap = true,
    .fault_flip = true,
    .reply = testmode_reply,
};

__attribute__((constructor)) static void testmode_register(void)
{
	sfs_register_mode(&mode_testmode);
}
