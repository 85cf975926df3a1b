// SPDX-License-Identifier: MIT
/*
 * sbcheck's checking logic (daemons/common/sbcheck_core.c, what build/sbcheck
 * runs): a wrong byte anywhere in a block is found at its exact file offset,
 * a page swapped inside a block is found, and every byte of the range is read
 * and checked (a checker cut to the first 8 KiB of each read, or of the
 * range, fails here).
 */
#include "pattern.h"
#include "sbcheck_core.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static const struct pattern pat8 = {0x5eed1234, 8};

/* Block [off, off + len) of file `file`, in a fresh buffer. */
static unsigned char *block(const struct pattern *p, uint64_t file, uint64_t off, size_t len)
{
	unsigned char *b = malloc(len);

	if (b)
		pattern_fill(p, file, off, b, len);
	return b;
}

TEST(sbcheck_flip_deep_in_1m_block_exact_offset)
{
	const uint64_t off = 3 * MIB; /* the block's place in the file */
	const size_t at[] = {700000, 8191, 8192, MIB - 1, 0};
	unsigned char *b = block(&pat8, 0, off, MIB);
	uint64_t bad = 0;

	CHECK(b != NULL);
	CHECK(sbcheck_buf(&pat8, 0, off, b, MIB, &bad) == 0); /* the control passes */
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		b[at[i]] ^= 0xff;
		bad = 0;
		CHECK(sbcheck_buf(&pat8, 0, off, b, MIB, &bad) != 0);
		CHECK_EQ_U64(bad, off + at[i]);
		/* the slow path (an unaligned start) finds the same byte */
		bad = 0;
		CHECK(sbcheck_buf(&pat8, 0, off + 3, b + 3, MIB - 3, &bad) != 0 || at[i] < 3);
		if (at[i] >= 3)
			CHECK_EQ_U64(bad, off + at[i]);
		b[at[i]] ^= 0xff;
	}
	/* another file's data (file key) and another seed are wrong at the first byte */
	CHECK(sbcheck_buf(&pat8, 1, off, b, MIB, &bad) != 0);
	CHECK_EQ_U64(bad, off);
	free(b);
}

TEST(sbcheck_page_swapped_inside_block)
{
	const uint64_t off = 5 * MIB;
	unsigned char *b = block(&pat8, 2, off, MIB), page[4096];
	uint64_t bad = 0;

	CHECK(b != NULL);
	memcpy(page, b + 40 * 4096, 4096);
	memcpy(b + 40 * 4096, b + 41 * 4096, 4096);
	memcpy(b + 41 * 4096, page, 4096);
	CHECK(sbcheck_buf(&pat8, 2, off, b, MIB, &bad) != 0);
	CHECK_EQ_U64(bad / 8 * 8,
	             off + 40 * 4096); /* the first byte that differs, in its first word */
	free(b);
}

/* A file of the pattern (a memfd), checked through sbcheck_range_run as sbcheck does. */
static int pattern_file(const struct pattern *p, uint64_t size)
{
	int fd = memfd_create("sbcheck-test", 0);
	unsigned char *b;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		return -1;
	pattern_fill(p, 0, 0, b, size);
	munmap(b, size);
	return fd;
}

static void flip_at(int fd, uint64_t at)
{
	unsigned char c;

	if (pread(fd, &c, 1, (off_t)at) == 1) {
		c ^= 0xff;
		if (pwrite(fd, &c, 1, (off_t)at) != 1)
			abort();
	}
}

TEST(sbcheck_range_reads_and_checks_every_byte)
{
	const uint64_t size = 4 * MIB + 12344; /* the last read is short */
	const uint64_t at[] = {MIB + 700000, 8 * 1024, size - 1, 3 * MIB + 4095};
	struct sbcheck_range r;
	int fd = pattern_file(&pat8, size);

	CHECK(fd >= 0);
	r = (struct sbcheck_range){
	    .fd = fd, .p = &pat8, .file = 0, .bs = MIB, .off = 0, .len = size};
	sbcheck_range_run(&r);
	CHECK_EQ_U64(r.rc, 0);
	CHECK_EQ_U64(r.total, size); /* the whole range, not its first 8 KiB */
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		flip_at(fd, at[i]);
		r = (struct sbcheck_range){.fd = fd, .p = &pat8, .bs = MIB, .len = size};
		sbcheck_range_run(&r);
		CHECK_EQ_U64(r.rc, 1);
		CHECK_EQ_U64(r.bad, at[i]);
		CHECK(strstr(r.msg, "offset") != NULL);
		/* the bytes before the wrong one's block were all read and right */
		CHECK_EQ_U64(r.total, at[i] / MIB * MIB);
		flip_at(fd, at[i]);
	}
	/* a part of the file, as one sbcheck --jobs reader takes it: its own bytes only */
	flip_at(fd, MIB - 1);
	r = (struct sbcheck_range){.fd = fd, .p = &pat8, .bs = 128 * 1024, .off = MIB, .len = MIB};
	sbcheck_range_run(&r);
	CHECK_EQ_U64(r.rc, 0);
	CHECK_EQ_U64(r.total, MIB);
	r = (struct sbcheck_range){.fd = fd, .p = &pat8, .bs = 128 * 1024, .off = 0, .len = MIB};
	sbcheck_range_run(&r);
	CHECK_EQ_U64(r.rc, 1);
	CHECK_EQ_U64(r.bad, MIB - 1);
	close(fd);
}
