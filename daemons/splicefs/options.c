// SPDX-License-Identifier: MIT
/*
 * splicefs options: declared once, in opt_table[], which drives parsing,
 * defaults and --help alike (the shape of fio's option tables and libfuse's
 * fuse_opt specs).
 */
#include "splicefs.h"
#include "opttab.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#define O(f) offsetof(struct sfs_opts, f)

/* One row per option reads best as a table. */
// clang-format off
static const struct opt_desc opt_table[] = {
	{"mode", 'm', OPT_STR, O(mode), "copy", "MODE",
	 "reply mode: copy, splice, multipipe, passthrough or uring (see below)"},
	{"source", 's', OPT_STR, O(source), "mem", "SRC",
	 "data source: mem (a memfd holding the files) or tcp://HOST:PORT (sbserver)"},
	{"threads", 't', OPT_INT, O(threads), "1", "N", "worker threads", 1, 256},
	{"clone-fd", 0, OPT_BOOL, O(clone_fd), NULL, NULL,
	 "give each worker its own /dev/fuse fd (FUSE_DEV_IOC_CLONE)"},
	{"file-size", 0, OPT_SIZE, O(file_size), "1G", "SIZE",
	 "size of each file (K, M, G suffixes: powers of 1024)", 1, 1ULL << 44},
	{"files", 0, OPT_INT, O(files), "1", "N", "number of files (data0, data1, ...)", 1, 4096},
	{"max-read", 0, OPT_SIZE32, O(max_read), "1M", "SIZE",
	 "largest FUSE_READ, a multiple of 4K (sets max_pages)", 4096, 1 << 24},
	{"readahead", 0, OPT_SIZE, O(readahead), "1M", "SIZE",
	 "buffered reads: the mount's read_ahead_kb, capped at --max-read (0: kernel's)", 0,
	 1 << 30},
	{"direct-io", 0, OPT_BOOL, O(direct_io), NULL, NULL,
	 "open files with FOPEN_DIRECT_IO (bypass the page cache)"},
	{"pipe-size", 0, OPT_SIZE32, O(pipe_size), "1M", "SIZE",
	 "bytes per pipe in multipipe mode (within /proc/sys/fs/pipe-max-size)", 4096, 1U << 31},
	{"pipes", 0, OPT_INT, O(pipes), "4", "N", "pipes per worker in multipipe mode", 1,
	 SFS_MAX_PIPES},
	{"seed", 0, OPT_U64, O(seed), "0", "N", "pattern seed (0 keeps fio's verify_pattern=%o usable)"},
	{"granule", 0, OPT_SIZE, O(granule), "8", "SIZE",
	 "pattern step: every GRANULE bytes hold their offset; set to fio's bs for fio verify", 8,
	 1U << 30},
	{"stats-file", 0, OPT_STR, O(stats_file), NULL, "PATH",
	 "write counters as JSON to PATH (atomically), every --stats-interval and at exit"},
	{"stats-interval", 0, OPT_DOUBLE, O(stats_interval), "1", "SECONDS",
	 "how often the stats file is rewritten (0: only at exit and on SIGUSR1)"},
	{"pid-file", 0, OPT_STR, O(pid_file), NULL, "PATH", "write the daemon's pid to PATH"},
	{"log", 0, OPT_STR, O(log_file), NULL, "PATH",
	 "in the background: append messages (errors, exit counters) to PATH"},
	{"foreground", 'f', OPT_BOOL, O(foreground), NULL, NULL, "stay in the foreground"},
	{"allow-other", 0, OPT_BOOL, O(allow_other), NULL, NULL, "let other users read the mount"},
	{"probe", 0, OPT_BOOL, O(probe_only), NULL, NULL,
	 "mount, report whether the kernel accepts FUSE_OUT_SPLICES, unmount, exit 0 (yes) / 1"},
	{"uring-depth", 0, OPT_INT, O(uring_depth), "2", "N",
	 "uring mode: ring entries per queue (one queue per CPU)", 1, 1024},
	{"fault-every", 0, OPT_INT, O(fault_every), "0", "N",
	 "testing: every Nth multipipe reply names a non-pipe fd, which the kernel must refuse",
	 0, 1 << 30},
	{"debug", 'd', OPT_BOOL, O(debug), NULL, NULL, "log every request to stderr"},
	{"version", 'V', OPT_BOOL, O(version), NULL, NULL, "print the version and exit"},
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help and exit"},
};

// clang-format on

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void sfs_usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s MOUNTPOINT [options]\n\n"
	        "A read-only FUSE filesystem serving offset-pattern files, answering\n"
	        "FUSE_READ in the chosen reply mode.\n\noptions:\n",
	        prog);
	opt_usage(f, opt_table, NOPTS);
	fprintf(f, "\nexit status: 0 served and unmounted cleanly; 1 failed; 2 bad input; 3 the mode\n"
	           "cannot run here (the kernel lacks it, or the source does not fit it).\n");
	fprintf(f, "\nmodes:\n");
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		fprintf(f, "  %-12s %s\n", (*m)->name, (*m)->help);
	fprintf(f, "\nsources:\n");
	for (const struct data_source *const *s = data_sources; *s; s++)
		fprintf(f, "  %-12s %s\n", (*s)->name, (*s)->help);
}

int sfs_parse_opts(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	int first;

	memset(o, 0, sizeof(*o));
	first = opt_parse(opt_table, NOPTS, o, argc, argv, err, errlen);
	if (first < 0)
		return -1;
	optind = first;
	if (o->help || o->version)
		return 0;
	if (optind < argc)
		o->mountpoint = argv[optind++];
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s': one mount point only",
		         argv[optind]);
		return -1;
	}
	if (!o->mountpoint) {
		snprintf(err, errlen, "no mount point given: splicefs MOUNTPOINT [options]");
		return -1;
	}
	if (o->max_read % 4096) {
		snprintf(err, errlen, "--max-read %u is not a multiple of 4096", o->max_read);
		return -1;
	}
	if (o->granule % 8) {
		snprintf(err, errlen, "--granule %" PRIu64 " is not a multiple of 8", o->granule);
		return -1;
	}
	if (!mode_find(o->mode)) {
		snprintf(err, errlen, "unknown mode '%s': use copy, splice, multipipe, passthrough or uring", o->mode);
		return -1;
	}
	if (!source_find(o->source)) {
		snprintf(err, errlen, "unknown source '%s': use mem or tcp://HOST:PORT", o->source);
		return -1;
	}
	return 0;
}
