/* SPDX-License-Identifier: MIT */
/*
 * sbcheck's checking logic, apart from its command line, so that the unit tests
 * (tests/unit/test_sbcheck.c) run exactly what build/sbcheck runs: a byte
 * flipped deep in a block, a page swapped inside one, the last byte of a range.
 */
#ifndef SPLICEBENCH_SBCHECK_CORE_H
#define SPLICEBENCH_SBCHECK_CORE_H

#include "pattern.h"

#include <stddef.h>
#include <stdint.h>

/*
 * buf must hold bytes [off, off + len) of file `file`: every byte is checked
 * (granule 8: a plain word compare; the first wrong word goes to
 * pattern_check for its exact byte).  0, or -1 with *bad = the file offset
 * of the first wrong byte.
 */
int sbcheck_buf(const struct pattern *p, uint64_t file, uint64_t off, const void *buf, size_t len,
                uint64_t *bad);

/* One reader: [off, off + len) of fd, read bs bytes at a time with pread, every byte checked. */
struct sbcheck_range {
	int fd;
	const struct pattern *p;
	uint64_t file, bs, off, len;
	/* results */
	uint64_t total; /* bytes read and found right */
	uint64_t bad;   /* rc 1: first wrong byte's file offset; rc 2: where the read failed */
	int rc;        /* 0 ok (a short file stops early: compare total), 1 mismatch, 2 I/O error */
	int err;       /* rc 2: errno */
	char msg[256]; /* rc 1: pattern_explain's line */
};

void sbcheck_range_run(struct sbcheck_range *r);

#endif
