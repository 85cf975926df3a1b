// SPDX-License-Identifier: MIT
#include "pattern.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int pattern_valid(const struct pattern *p)
{
	if (p->granule < 8 || p->granule % 8)
		return -EINVAL;
	return 0;
}

uint64_t pattern_file_key(uint64_t file)
{
	uint64_t z;

	if (file == 0)
		return 0;
	z = file * 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t word_at(const struct pattern *p, uint64_t key, uint64_t w)
{
	return (w - w % p->granule) ^ key;
}

/* Bytes of the word at w, little-endian, from byte index `from` to `to`. */
static void put_partial(const struct pattern *p, uint64_t key, uint64_t w, unsigned from,
                        unsigned to, unsigned char *dst)
{
	uint64_t v = word_at(p, key, w);
	unsigned i;

	for (i = from; i < to; i++)
		*dst++ = (unsigned char)(v >> (8 * i));
}

/*
 * The fast path writes whole words: within one granule every word holds the
 * same value, so the inner loop is a plain 64-bit store loop.
 */
void pattern_fill(const struct pattern *p, uint64_t file, uint64_t off, void *buf, size_t len)
{
	uint64_t key = p->seed ^ pattern_file_key(file);
	unsigned char *d = buf;
	uint64_t end = off + len;

	if (off % 8) {
		uint64_t w = off & ~7ULL;
		unsigned to = end - w < 8 ? (unsigned)(end - w) : 8;

		put_partial(p, key, w, off - w, to, d);
		d += to - (off - w);
		off = w + to;
	}
	while (end - off >= 8) {
		uint64_t gend = off - off % p->granule + p->granule;
		uint64_t v = word_at(p, key, off);

		if (gend > end)
			gend = end & ~7ULL;
		for (; off < gend; off += 8, d += 8)
			memcpy(d, &v, 8);
	}
	if (off < end)
		put_partial(p, key, off, 0, end - off, d);
}

int pattern_check(const struct pattern *p, uint64_t file, uint64_t off, const void *buf, size_t len,
                  uint64_t *bad)
{
	uint64_t key = p->seed ^ pattern_file_key(file);
	const unsigned char *s = buf;
	uint64_t end = off + len;
	unsigned char tmp[8];

	while (off < end) {
		uint64_t w = off & ~7ULL;
		uint64_t gend = w - w % p->granule + p->granule;

		if (off % 8 || end - off < 8) {
			unsigned from = off - w, to = end - w < 8 ? (unsigned)(end - w) : 8;

			put_partial(p, key, w, from, to, tmp);
			for (unsigned i = 0; i < to - from; i++) {
				if (s[i] != tmp[i]) {
					if (bad)
						*bad = off + i;
					return -1;
				}
			}
			s += to - from;
			off = w + to;
			continue;
		}
		if (gend > end)
			gend = end & ~7ULL;
		uint64_t v = word_at(p, key, off);
		for (; off < gend; off += 8, s += 8) {
			uint64_t got;

			memcpy(&got, s, 8);
			if (got != v) {
				if (bad) {
					unsigned i = 0;
					while (i < 8 && (unsigned char)(got >> (8 * i)) ==
					                    (unsigned char)(v >> (8 * i)))
						i++;
					*bad = off + i;
				}
				return -1;
			}
		}
	}
	return 0;
}

void pattern_explain(const struct pattern *p, uint64_t file, uint64_t at, const void *buf,
                     uint64_t buf_off, size_t buf_len, char *msg, size_t msglen)
{
	uint64_t key = p->seed ^ pattern_file_key(file);
	uint64_t w = at & ~7ULL, exp = word_at(p, key, w), got = 0;
	const unsigned char *s = buf;
	unsigned i;

	for (i = 0; i < 8; i++)
		if (w + i >= buf_off && w + i < buf_off + buf_len)
			got |= (uint64_t)s[w + i - buf_off] << (8 * i);
	snprintf(msg, msglen,
	         "file %llu offset %llu: expected word 0x%016llx, found 0x%016llx "
	         "(looks like offset %llu)",
	         (unsigned long long)file, (unsigned long long)at, (unsigned long long)exp,
	         (unsigned long long)got, (unsigned long long)(got ^ key));
}
