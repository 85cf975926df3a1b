// SPDX-License-Identifier: MIT
#include "pattern.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* The reference: byte-by-byte from the definition in pattern.h. */
static unsigned char ref_byte(const struct pattern *p, uint64_t file, uint64_t off)
{
	uint64_t w = off & ~7ULL;
	uint64_t v = (w - w % p->granule) ^ p->seed ^ pattern_file_key(file);

	return (unsigned char)(v >> (8 * (off & 7)));
}

TEST(pattern_fill_matches_definition)
{
	const struct pattern ps[] = {{0, 8}, {0, 4096}, {0x1234, 8}, {7, 24}, {0, 1 << 20}};
	unsigned char buf[9000];

	for (unsigned k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		for (uint64_t off = 0; off < 40; off += 3) {
			for (size_t len = 0; len < sizeof(buf); len += 997) {
				pattern_fill(&ps[k], k, (1ULL << 20) - 4096 + off, buf, len);
				for (size_t i = 0; i < len; i++)
					CHECK(buf[i] ==
					      ref_byte(&ps[k], k, (1ULL << 20) - 4096 + off + i));
			}
		}
	}
}

TEST(pattern_fio_verify_compatible)
{
	/* granule = bs, seed 0, file 0: each block holds its own offset (fio's %o). */
	struct pattern p = {0, 131072};
	uint64_t *w = malloc(3 * 131072);

	CHECK(w != NULL);
	pattern_fill(&p, 0, 0, w, 3 * 131072);
	CHECK_EQ_U64(w[0], 0);
	CHECK_EQ_U64(w[131072 / 8 - 1], 0);
	CHECK_EQ_U64(w[131072 / 8], 131072);
	CHECK_EQ_U64(w[3 * 131072 / 8 - 1], 2 * 131072);
	free(w);
}

TEST(pattern_check_finds_first_bad_byte)
{
	struct pattern p = {42, 8};
	unsigned char buf[4096];
	uint64_t bad = 0;

	pattern_fill(&p, 3, 1001, buf, sizeof(buf));
	CHECK(pattern_check(&p, 3, 1001, buf, sizeof(buf), &bad) == 0);
	buf[2000] ^= 1;
	CHECK(pattern_check(&p, 3, 1001, buf, sizeof(buf), &bad) == -1);
	CHECK_EQ_U64(bad, 1001 + 2000);
	buf[2000] ^= 1;
	/* Right bytes, wrong place: data from offset 4096 later must not pass. */
	pattern_fill(&p, 3, 1001 + 4096, buf, sizeof(buf));
	CHECK(pattern_check(&p, 3, 1001, buf, sizeof(buf), &bad) == -1);
	/* Wrong file. */
	pattern_fill(&p, 4, 1001, buf, sizeof(buf));
	CHECK(pattern_check(&p, 3, 1001, buf, sizeof(buf), &bad) == -1);
	/* Unaligned tail shorter than a word. */
	pattern_fill(&p, 3, 5, buf, 2);
	CHECK(pattern_check(&p, 3, 5, buf, 2, NULL) == 0);
	buf[1] ^= 0x80;
	CHECK(pattern_check(&p, 3, 5, buf, 2, &bad) == -1);
	CHECK_EQ_U64(bad, 6);
}

TEST(pattern_rejects_bad_granule)
{
	struct pattern a = {0, 0}, b = {0, 12}, c = {0, 16};

	CHECK(pattern_valid(&a) != 0);
	CHECK(pattern_valid(&b) != 0);
	CHECK(pattern_valid(&c) == 0);
}

TEST(pattern_explain_names_offsets)
{
	struct pattern p = {0, 8};
	uint64_t buf[4];
	char msg[256];

	pattern_fill(&p, 0, 8192, buf, sizeof(buf));
	buf[2] = 4096; /* data of offset 4096 at offset 8192 + 16 */
	pattern_explain(&p, 0, 8192 + 16, buf, 8192, sizeof(buf), msg, sizeof(msg));
	CHECK(strstr(msg, "offset 8208") != NULL);
	CHECK(strstr(msg, "looks like offset 4096") != NULL);
}
