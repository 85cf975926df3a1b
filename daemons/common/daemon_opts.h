/* SPDX-License-Identifier: MIT */
/*
 * The options splicefs and libfuse-ref share: their fields
 * (DAEMON_OPTS_FIELDS) and their option-table rows.  Each program's table
 * (opttab.h) takes the rows with its own O(field) (offsetof into its options
 * struct).  DAEMON_OPTS_* rows are the same word for word; DAEMON_OPT_* rows
 * take the program's own help (and default, bound) as arguments.
 */
#ifndef DAEMON_OPTS_H
#define DAEMON_OPTS_H

#include "opttab.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * What both daemons negotiate at INIT besides max_read/max_pages, so that the
 * reference is not throttled where splicefs is not (fusectl shows both:
 * /sys/fs/fuse/connections/N/max_background, congestion_threshold).
 */
#define DAEMON_MAX_BACKGROUND       64
#define DAEMON_CONGESTION_THRESHOLD 48

/*
 * The options both daemons have, the leading fields of their options structs
 * (struct sfs_opts, struct ref_opts): the rows below and each program's own
 * rows for them point here.
 */
#define DAEMON_OPTS_FIELDS                                                                         \
	const char *mountpoint;                                                                    \
	const char *mode;                                                                          \
	const char *source;                                                                        \
	int threads;                                                                               \
	bool clone_fd;                                                                             \
	uint64_t file_size;                                                                        \
	int files;                                                                                 \
	uint32_t max_read; /* bytes per FUSE_READ */                                               \
	uint64_t readahead;                                                                        \
	bool direct_io;                                                                            \
	uint64_t seed;                                                                             \
	uint64_t granule;                                                                          \
	const char *stats_file;                                                                    \
	double stats_interval;                                                                     \
	const char *pid_file;                                                                      \
	const char *log_file;                                                                      \
	bool foreground;                                                                           \
	bool allow_other;                                                                          \
	bool debug;                                                                                \
	bool list;                                                                                 \
	bool version;                                                                              \
	bool help

// clang-format off
#define DAEMON_OPT_MODE(O, def, help)   {"mode", 'm', OPT_STR, O(mode), def, "MODE", help}
#define DAEMON_OPT_SOURCE(O, help)      {"source", 's', OPT_STR, O(source), "mem", "SRC", help}
#define DAEMON_OPT_THREADS(O, help)     {"threads", 't', OPT_INT, O(threads), "1", "N", help, 1, 256}
#define DAEMON_OPT_CLONE_FD(O, help)    {"clone-fd", 0, OPT_BOOL, O(clone_fd), NULL, NULL, help}
#define DAEMON_OPT_MAX_READ(O, max, help)                                                          \
	{"max-read", 0, OPT_SIZE32, O(max_read), "1M", "SIZE", help, 4096, max}
#define DAEMON_OPT_DIRECT_IO(O, help)   {"direct-io", 0, OPT_BOOL, O(direct_io), NULL, NULL, help}
#define DAEMON_OPT_DEBUG(O, help)       {"debug", 'd', OPT_BOOL, O(debug), NULL, NULL, help}
#define DAEMON_OPT_LIST(O, help)        {"list", 0, OPT_BOOL, O(list), NULL, NULL, help}

#define DAEMON_OPTS_VERSION_HELP(O)                                                                \
	{"version", 'V', OPT_BOOL, O(version), NULL, NULL, "print the version and exit"},          \
	{"help", 'h', OPT_BOOL, O(help), NULL, NULL, "print this help and exit"}

#define DAEMON_OPTS_FILES(O)                                                                       \
	{"file-size", 0, OPT_SIZE, O(file_size), "1G", "SIZE",                                     \
	 "size of each file (K, M, G suffixes: powers of 1024)", 1, 1ULL << 44},                   \
	{"files", 0, OPT_INT, O(files), "1", "N", "number of files (data0, data1, ...)", 1, 4096}

#define DAEMON_OPTS_READAHEAD(O)                                                                   \
	{"readahead", 0, OPT_SIZE, O(readahead), "1M", "SIZE",                                     \
	 "buffered reads: the mount's read_ahead_kb, capped at --max-read (0: kernel's)", 0,       \
	 1 << 30}

#define DAEMON_OPTS_PATTERN(O)                                                                     \
	{"seed", 0, OPT_U64, O(seed), "0", "N", "pattern seed (0 keeps fio's verify_pattern=%o usable)"}, \
	{"granule", 0, OPT_SIZE, O(granule), "8", "SIZE",                                          \
	 "pattern step: every GRANULE bytes hold their offset; set to fio's bs for fio verify", 8, \
	 1U << 30}

#define DAEMON_OPTS_HOUSEKEEPING(O)                                                                \
	{"stats-file", 0, OPT_STR, O(stats_file), NULL, "PATH",                                    \
	 "write counters as JSON to PATH (atomically), every --stats-interval and at exit"},       \
	{"stats-interval", 0, OPT_DOUBLE, O(stats_interval), "1", "SECONDS",                       \
	 "how often the stats file is rewritten (0: only at exit and on SIGUSR1)"},                \
	{"pid-file", 0, OPT_STR, O(pid_file), NULL, "PATH", "write the daemon's pid to PATH"},     \
	{"log", 0, OPT_STR, O(log_file), NULL, "PATH",                                             \
	 "in the background: append messages (errors, exit counters) to PATH"},                    \
	{"foreground", 'f', OPT_BOOL, O(foreground), NULL, NULL, "stay in the foreground"},        \
	{"allow-other", 0, OPT_BOOL, O(allow_other), NULL, NULL, "let other users read the mount"}
// clang-format on

#endif
