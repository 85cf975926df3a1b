/* SPDX-License-Identifier: MIT */
/*
 * The data every splicebench file holds: a deterministic function of the byte
 * offset, so any reader can check any byte without a reference copy.
 *
 * The file is a sequence of little-endian 64-bit words.  The word at byte
 * offset w (w a multiple of 8) holds
 *
 *     (w - w % granule) ^ seed ^ file_key(file)
 *
 * With granule 8 every word holds its own offset.  With granule = the reader's
 * block size and seed 0, file 0 is exactly what fio's `verify_pattern=%o`
 * expects (each block filled with its own offset), so fio verifies every
 * byte it reads.  file_key(0) is 0; other files get distinct keys so that data
 * from the wrong file is caught by our own checker.
 */
#ifndef SPLICEBENCH_PATTERN_H
#define SPLICEBENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct pattern {
	uint64_t seed;    /* mixed into every word; 0 keeps fio's %o compatible */
	uint64_t granule; /* bytes per offset step: a multiple of 8, >= 8 */
};

#define PATTERN_DEFAULT_GRANULE 8

/* 0 when p is usable, else -EINVAL (granule not a positive multiple of 8). */
int pattern_valid(const struct pattern *p);

/* Key of file index f: 0 for file 0, a splitmix64 mix of f otherwise. */
uint64_t pattern_file_key(uint64_t file);

/* Fill buf with the bytes [off, off + len) of file `file`. */
void pattern_fill(const struct pattern *p, uint64_t file, uint64_t off, void *buf, size_t len);

/*
 * Check that buf holds bytes [off, off + len) of file `file`.  Returns 0 when it
 * does, else -1 and, when bad is not NULL, the file offset of the first wrong byte.
 */
int pattern_check(const struct pattern *p, uint64_t file, uint64_t off, const void *buf, size_t len,
                  uint64_t *bad);

/* Describe a mismatch at file offset `at` of buf, which holds [buf_off, buf_off + buf_len). */
void pattern_explain(const struct pattern *p, uint64_t file, uint64_t at, const void *buf,
                     uint64_t buf_off, size_t buf_len, char *msg, size_t msglen);

#endif
