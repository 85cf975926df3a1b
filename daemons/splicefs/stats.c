// SPDX-License-Identifier: MIT
/*
 * Counters: each worker writes its own; readers sum them.  The sums are
 * written as one JSON object (the stats file, SIGUSR1, exit).
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FIELDS(X)                                                                                  \
	X(requests)                                                                                \
	X(reads) X(bytes) X(bytes_spliced) X(bytes_copied) X(fallbacks) X(pipes_used)              \
	    X(replies_failed) X(errors) X(source_bytes) X(reconnects) X(ring_requests)

void counters_sum(const struct sfs *fs, struct counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; fs->workers && i < fs->o.threads; i++) {
		const volatile struct counters *c = &fs->workers[i].c;
#define ADD(f) out->f += c->f;
		FIELDS(ADD)
#undef ADD
	}
}

int stats_json(const struct sfs *fs, char *buf, size_t len)
{
	struct counters c;
	int n;

	counters_sum(fs, &c);
	n = snprintf(buf, len,
	             "{\"pid\":%d,\"mode\":\"%s\",\"source\":\"%s\",\"threads\":%d,"
	             "\"clone_fd\":%s,\"direct_io\":%s,\"max_read\":%u,\"proto_minor\":%u,"
	             "\"pipes\":%d,\"pipe_size\":%u,\"file_size\":%llu,\"files\":%d,"
	             "\"granule\":%llu,\"seed\":%llu",
	             (int)getpid(), fs->o.mode, fs->o.source, fs->o.threads,
	             fs->o.clone_fd ? "true" : "false", fs->o.direct_io ? "true" : "false",
	             fs->max_read, fs->proto_minor, fs->o.pipes, fs->o.pipe_size,
	             (unsigned long long)fs->o.file_size, fs->o.files,
	             (unsigned long long)fs->pat.granule, (unsigned long long)fs->pat.seed);
#define OUT(f)                                                                                     \
	if (n >= 0 && (size_t)n < len)                                                             \
		n += snprintf(buf + n, len - n, ",\"%s\":%llu", #f, (unsigned long long)c.f);
	FIELDS(OUT)
#undef OUT
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "}\n");
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

/* Write to PATH.tmp, then rename: a reader never sees half a file. */
int stats_write(const struct sfs *fs, const char *path)
{
	char buf[2048], tmp[4096];
	int n = stats_json(fs, buf, sizeof(buf)), fd, err = 0;

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
