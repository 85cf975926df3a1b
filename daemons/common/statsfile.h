/* SPDX-License-Identifier: MIT */
/* The daemons' stats file: one JSON object, written whole or not at all. */
#ifndef STATSFILE_H
#define STATSFILE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Append to the JSON text being built in buf (len bytes, n used so far, all
 * three in scope); once it would not fit, n stays >= len: the caller reports
 * -ENOSPC.
 */
#define STATS_APPEND(...)                                                                          \
	do {                                                                                       \
		if (n >= 0 && (size_t)n < len)                                                     \
			n += snprintf(buf + n, len - n, __VA_ARGS__);                              \
	} while (0)

/*
 * Write n bytes of buf to PATH.tmp.PID, then rename: a reader never sees half
 * a file.  0 or -errno.
 */
int statsfile_write(const char *path, const char *buf, size_t n);

#endif
