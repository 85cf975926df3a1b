// SPDX-License-Identifier: MIT
/*
 * Counters as one JSON object (the stats file, SIGUSR1, exit), with
 * splicefs's names where they mean the same.  libfuse decides on its own
 * whether a fuse_reply_data() reply splices or copies and tells nobody, so
 * bytes_spliced counts what libfuse was asked to splice, "fallbacks" is not
 * reported, and "fallbacks_visible" says so.
 */
#include "ref.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
#define OUT(f)                                                                                     \
	if (n >= 0 && (size_t)n < len)                                                             \
		n += snprintf(buf + n, len - n, ",\"%s\":%llu", #f, (unsigned long long)c.f);
	REF_COUNTERS(OUT)
#undef OUT
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "}\n");
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

/* Write to PATH.tmp.PID, then rename: a reader never sees half a file. */
int stats_write(const char *path)
{
	char buf[2048], tmp[PATH_MAX + 32];
	int n = stats_json(buf, sizeof(buf)), fd, err = 0;

	if (n < 0)
		return n;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != n)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
