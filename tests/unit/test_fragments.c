// SPDX-License-Identifier: MIT
/*
 * Small fragments, as a NIC delivers them (about 1440 bytes a pipe slot),
 * from a fake source that vmsplices 1000 bytes per slot:
 *  - splice mode: the pipe runs out of slots before bytes; the reply is read
 *    back and copied, counted as fallback_full, with the bytes in order;
 *  - multipipe: the pool grows until the reply fits, the pipes named in order
 *    hold the bytes in order, and the slots are counted (full pipes, then the
 *    probe for the last one).
 * /dev/fuse is a pipe here: what a mode sends is read back and checked.
 */
#include "fuse_splices.h"
#include "splicefs.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define FRAG 1000
#define MAXR (256 << 10)

static struct pattern pat = {.seed = 5, .granule = 8};
/*
 * Each fragment in a page of its own: vmsplice takes references to the pages,
 * so a page is never reused within a test.
 */
#define NPAGES 2048
static char *pages;
static unsigned next_page;
static uint64_t cur, end;

static int fake_begin(struct worker *w, const struct read_req *rq)
{
	(void)w;
	cur = rq->off;
	end = rq->off + rq->size;
	return 0;
}

static int fake_to_mem(struct worker *w, void *dst, size_t n, const void **p)
{
	(void)w;
	pattern_fill(&pat, 0, cur, dst, n);
	cur += n;
	*p = dst;
	return 0;
}

static ssize_t fake_to_pipe(struct worker *w, int wr, size_t n, unsigned *slots)
{
	struct iovec iov[64];
	int k = 0;
	ssize_t r;

	(void)w;
	(void)slots; /* unknown, like a socket's */
	if (n > end - cur)
		n = end - cur;
	for (size_t at = 0; at < n && k < 64 && next_page < NPAGES; k++) {
		size_t len = n - at < FRAG ? n - at : FRAG;
		char *pg = pages + (size_t)next_page++ * 4096;

		pattern_fill(&pat, 0, cur + at, pg, len);
		iov[k] = (struct iovec){pg, len};
		at += len;
	}
	r = vmsplice(wr, iov, k, SPLICE_F_NONBLOCK);
	if (r < 0)
		return -errno;
	cur += r;
	return r;
}

static void fake_end(struct worker *w, bool ok)
{
	(void)w;
	(void)ok;
}

static const struct data_source fake = {
    .name = "fake",
    .begin = fake_begin,
    .to_mem = fake_to_mem,
    .to_pipe = fake_to_pipe,
    .end = fake_end,
};

static int dev[2]; /* the "/dev/fuse" pipe */

static int setup(struct sfs *fs, struct worker *w, const struct reply_mode *m, char **argv,
                 int argc)
{
	static char buf[MAXR];
	char err[256];

	memset(fs, 0, sizeof(*fs));
	memset(w, 0, sizeof(*w));
	if (!pages)
		pages = mmap(NULL, (size_t)NPAGES * 4096, PROT_READ | PROT_WRITE,
		             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	next_page = 0;
	if (sfs_parse_opts(&fs->o, argc, argv, err, sizeof(err)))
		return -1;
	fs->page_size = 4096;
	fs->max_read = MAXR;
	fs->pat = pat;
	fs->mode = m;
	fs->source = &fake;
	w->fs = fs;
	w->buf = buf;
	w->buf_size = sizeof(buf);
	w->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	w->probe.rd = w->probe.wr = -1;
	if (pipe2(dev, O_CLOEXEC) < 0 || fcntl(dev[1], F_SETPIPE_SZ, 1 << 20) < 0)
		return -1;
	w->fuse_fd = dev[1];
	return m->worker_init ? m->worker_init(w) : 0;
}

static void teardown(struct sfs *fs, struct worker *w)
{
	if (fs->mode->worker_fini)
		fs->mode->worker_fini(w);
	sfs_pipe_close(&w->probe);
	close(w->null_fd);
	close(dev[0]);
	close(dev[1]);
	sfs_free_opts(&fs->o);
}

static int read_full(int fd, void *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)p + got, n - got);

		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

TEST(fragments_splice_pipe_full_falls_back_in_order)
{
	char *argv[] = {"splicefs", "/x", "--mode", "splice", NULL};
	struct read_req rq = {.unique = 9, .file = 0, .off = 12344, .size = 128 << 10};
	struct fuse_out_header oh;
	static char got[128 << 10];
	struct sfs fs;
	struct worker w;

	CHECK(setup(&fs, &w, &mode_splice, argv, 4) == 0);
	CHECK(mode_splice.reply(&w, &rq) == 0);
	CHECK(read_full(dev[0], &oh, sizeof(oh)) == 0);
	CHECK_EQ_U64(oh.len, sizeof(oh) + rq.size);
	CHECK_EQ_U64(oh.unique, 9);
	CHECK(read_full(dev[0], got, rq.size) == 0);
	CHECK(pattern_check(&pat, 0, rq.off, got, rq.size, NULL) == 0);
	CHECK_EQ_U64(w.c.fallback_full, 1);
	CHECK_EQ_U64(w.c.bytes_copied, rq.size);
	CHECK_EQ_U64(w.c.bytes_spliced, 0);
	/* a reply that fits the slots splices; the probe is off (the default): slots unknown */
	rq.size = 16 << 10;
	sfs_slot_probe = 0;
	CHECK(mode_splice.reply(&w, &rq) == 0);
	CHECK(read_full(dev[0], &oh, sizeof(oh)) == 0 && read_full(dev[0], got, rq.size) == 0);
	CHECK_EQ_U64(w.c.bytes_spliced, rq.size);
	CHECK_EQ_U64(w.c.pipe_slots, 0);
	/* ... with the probe on (SIGUSR2, --slot-probe), its slots are counted */
	w.c.bytes_spliced = 0;
	sfs_slot_probe = 1;
	CHECK(mode_splice.reply(&w, &rq) == 0);
	sfs_slot_probe = 0;
	CHECK(read_full(dev[0], &oh, sizeof(oh)) == 0 && read_full(dev[0], got, rq.size) == 0);
	CHECK(pattern_check(&pat, 0, rq.off, got, rq.size, NULL) == 0);
	CHECK_EQ_U64(w.c.bytes_spliced, rq.size);
	CHECK_EQ_U64(w.c.pipe_slots, (rq.size + FRAG - 1) / FRAG);
	teardown(&fs, &w);
}

TEST(fragments_multipipe_pool_grows_in_order)
{
	char *argv[] = {"splicefs", "/x",          "--mode", "multipipe", "--pipes",
	                "1",        "--pipe-size", "16K",    NULL};
	struct read_req rq = {.unique = 7, .file = 0, .off = 4095, .size = 128 << 10};
	struct fuse_out_header oh;
	uint32_t fds[SFS_MAX_PIPES];
	static char got[128 << 10];
	size_t have = 0;
	unsigned nfds;
	struct sfs fs;
	struct worker w;

	CHECK(setup(&fs, &w, &mode_multipipe, argv, 8) == 0);
	sfs_slot_probe = 1; /* the last pipe's slots: probed */
	CHECK(mode_multipipe.reply(&w, &rq) == 0);
	sfs_slot_probe = 0;
	CHECK(read_full(dev[0], &oh, sizeof(oh)) == 0);
	nfds = (oh.len - sizeof(oh)) / 4;
	CHECK(nfds > 1 && nfds <= SFS_MAX_PIPES);
	CHECK(read_full(dev[0], fds, nfds * 4) == 0);
	/* 4 slots of 1000 bytes a pipe: 33 pipes for 128 KiB */
	CHECK_EQ_U64(nfds, (rq.size + 4 * FRAG - 1) / (4 * FRAG));
	CHECK_EQ_U64(w.c.pool_grows, nfds - 1);
	CHECK_EQ_U64(w.c.pipes_used, nfds);
	CHECK_EQ_U64(w.c.pipe_slots, (rq.size + FRAG - 1) / FRAG);
	for (unsigned i = 0; i < nfds; i++) {
		int n = 0;

		CHECK(ioctl(fds[i], FIONREAD, &n) == 0);
		CHECK(read_full(fds[i], got + have, n) == 0);
		have += n;
	}
	CHECK_EQ_U64(have, rq.size);
	CHECK(pattern_check(&pat, 0, rq.off, got, rq.size, NULL) == 0);
	teardown(&fs, &w);
}

/* Read what a mode sent to the "/dev/fuse" pipe: the data, or the pipes it named in order. */
static int read_reply(char *got, size_t size)
{
	struct fuse_out_header oh;
	uint32_t fds[SFS_MAX_PIPES];
	size_t have = 0;

	if (read_full(dev[0], &oh, sizeof(oh)))
		return -1;
	if (oh.error != FUSE_OUT_SPLICES)
		return oh.len == sizeof(oh) + size ? read_full(dev[0], got, size) : -1;
	if (read_full(dev[0], fds, oh.len - sizeof(oh)))
		return -1;
	for (unsigned i = 0; i < (oh.len - sizeof(oh)) / 4; i++) {
		int n = 0;

		if (ioctl(fds[i], FIONREAD, &n) || have + n > size ||
		    read_full(fds[i], got + have, n))
			return -1;
		have += n;
	}
	return have == size ? 0 : -1;
}

/* --fault-swap: exactly the first two 4 KiB pages trade places, in every mode that has it. */
TEST(fragments_fault_swap_swaps_pages_0_and_1)
{
	static const struct reply_mode *const modes[] = {&mode_copy, &mode_splice, &mode_multipipe};
	static char got[64 << 10], want[64 << 10];
	struct read_req rq = {.unique = 3, .file = 0, .off = 8000, .size = 64 << 10};

	pattern_fill(&pat, 0, rq.off, want, rq.size);
	for (unsigned i = 0; i < 3; i++) {
		char *argv[] = {"splicefs",     "/x", "--mode", (char *)modes[i]->name,
		                "--fault-swap", NULL};
		struct sfs fs;
		struct worker w;

		CHECK(modes[i]->fault_swap);
		CHECK(setup(&fs, &w, modes[i], argv, 5) == 0);
		CHECK(modes[i]->reply(&w, &rq) == 0);
		CHECK(read_reply(got, rq.size) == 0);
		if (memcmp(got, want + 4096, 4096) || memcmp(got + 4096, want, 4096) ||
		    memcmp(got + 8192, want + 8192, rq.size - 8192))
			unit_fail(__FILE__, __LINE__, "mode %s: pages not swapped as said",
			          modes[i]->name);
		CHECK_EQ_U64(w.c.faults_injected, 1);
		teardown(&fs, &w);
		if (unit_failed())
			return;
	}
}

/*
 * --fault-flip-offset N: exactly the data byte N of the reply arrives XORed with
 * 0xff, in every mode that has it, whichever way its bytes travel (iovecs, one
 * pipe, a pool of pipes), also where the pipe fills exactly at N (splice: 63
 * fragments fill its 64 slots, the byte is held and goes by the counted copy;
 * multipipe: a pipe of 4 slots is full at 4000, the byte goes to the next pipe).
 * Counted once per reply in faults_injected; the checker finds the exact offset.
 */
TEST(fragments_fault_flip_one_byte_at_offset)
{
	static const struct reply_mode *const modes[] = {&mode_copy, &mode_splice, &mode_multipipe};
	static char got[128 << 10], want[128 << 10];
	static const char *const at[] = {"0", "4000", "5000", "63000", "70001", "131071"};
	struct read_req rq = {.unique = 4, .file = 0, .off = 8000, .size = 128 << 10};

	pattern_fill(&pat, 0, rq.off, want, rq.size);
	for (unsigned i = 0; i < 3; i++)
		for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			char *argv[] = {"splicefs",
			                "/x",
			                "--mode",
			                (char *)modes[i]->name,
			                "--fault-flip-offset",
			                (char *)at[k],
			                "--pipe-size",
			                "16K",
			                NULL};
			int argc = modes[i] == &mode_multipipe ? 8 : 6;
			size_t n = strtoul(at[k], NULL, 10);
			uint64_t bad = 0;
			struct sfs fs;
			struct worker w;

			CHECK(modes[i]->fault_flip);
			CHECK(setup(&fs, &w, modes[i], argv, argc) == 0);
			CHECK(fs.o.fault_flip && fs.o.flip_offset == n);
			w.flip_pos = 0, w.flip_done = w.flip_held = false; /* as handle_read does */
			CHECK(modes[i]->reply(&w, &rq) == 0);
			CHECK(read_reply(got, rq.size) == 0);
			if (memcmp(got, want, n) || (got[n] ^ want[n]) != (char)0xff ||
			    memcmp(got + n + 1, want + n + 1, rq.size - n - 1))
				unit_fail(__FILE__, __LINE__,
				          "mode %s, offset %zu: not exactly that byte flipped",
				          modes[i]->name, n);
			CHECK(pattern_check(&pat, 0, rq.off, got, rq.size, &bad) != 0);
			CHECK_EQ_U64(bad, rq.off + n);
			CHECK_EQ_U64(w.c.faults_injected, 1);
			CHECK(!w.flip_held);
			/* a reply not longer than N is left alone */
			if (n > 0) {
				struct read_req small = rq;

				small.size = (uint32_t)n;
				w.flip_pos = 0, w.flip_done = w.flip_held = false;
				CHECK(modes[i]->reply(&w, &small) == 0);
				CHECK(read_reply(got, small.size) == 0);
				CHECK(memcmp(got, want, small.size) == 0);
				CHECK_EQ_U64(w.c.faults_injected, 1);
			}
			teardown(&fs, &w);
			if (unit_failed())
				return;
		}
}
