// SPDX-License-Identifier: MIT
/*
 * Counters as one JSON object (the stats file, SIGUSR1, exit), with
 * splicefs's names where they mean the same.  libfuse decides on its own
 * whether a fuse_reply_data() reply splices or copies and tells nobody, so
 * bytes_spliced counts what libfuse was asked to splice, "fallbacks" is not
 * reported, and "fallbacks_visible" says so.
 */
#include "ref.h"
#include "statsfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define COUNTERS_TYPE struct ref_counters
const struct counter_desc ref_counters[] = {COUNTERS_DESC(REF_COUNTERS)};
const size_t ref_ncounters = COUNTERS_N(ref_counters);
#undef COUNTERS_TYPE

int stats_json(char *buf, size_t len)
{
	struct ref_counters c;
	int n, nthreads;

	counters_sum(&c, &nthreads);
	n = snprintf(buf, len,
	             "{\"program\":\"libfuse-ref\",\"libfuse\":\"%s\",\"pid\":%d,\"mode\":\"%s\","
	             "\"source\":\"%s\",\"threads\":%d,\"threads_started\":%d,\"clone_fd\":%s,"
	             "\"direct_io\":%s,\"max_read\":%u,\"file_size\":%llu,\"files\":%d,"
	             "\"granule\":%llu,\"seed\":%llu,\"fallbacks_visible\":false",
	             fuse_pkgversion(), (int)getpid(), ref.o.mode, ref.o.source, ref.o.threads,
	             nthreads, ref.o.clone_fd ? "true" : "false",
	             ref.o.direct_io ? "true" : "false", ref.o.max_read,
	             (unsigned long long)ref.o.file_size, ref.o.files,
	             (unsigned long long)ref.pat.granule, (unsigned long long)ref.pat.seed);
	n = counters_json(buf, len, n, ref_counters, ref_ncounters, &c);
	STATS_APPEND("}\n");
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

int stats_write(const char *path)
{
	char buf[2048];
	int n = stats_json(buf, sizeof(buf));

	return n < 0 ? n : statsfile_write(path, buf, (size_t)n);
}
