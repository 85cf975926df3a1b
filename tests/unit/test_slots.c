// SPDX-License-Identifier: MIT
/*
 * Pipe slots: the memory source's arithmetic (one slot per page piece) must
 * agree with slots.c's probe (tee + one-byte vmsplices), and the probe must
 * count buffers, not bytes.
 */
#include "splicefs.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

static void setup(struct sfs *fs, struct worker *w)
{
	memset(fs, 0, sizeof(*fs));
	memset(w, 0, sizeof(*w));
	fs->page_size = sysconf(_SC_PAGESIZE);
	fs->o.files = 1;
	fs->o.file_size = 4 << 20;
	fs->o.granule = 8;
	fs->pat = (struct pattern){.seed = 7, .granule = 8};
	fs->source = &source_mem;
	w->fs = fs;
	w->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	w->probe.rd = w->probe.wr = -1;
}

static void teardown(struct sfs *fs, struct worker *w)
{
	sfs_pipe_close(&w->probe);
	close(w->null_fd);
	if (w->src)
		source_mem.worker_fini(w);
	if (fs->src)
		source_mem.teardown(fs);
}

TEST(slots_mem_arithmetic_matches_probe)
{
	static const struct {
		uint64_t off;
		uint32_t size;
	} cases[] = {{0, 65536}, {4095, 65536}, {100, 10}, {4000, 200}, {12345, 300000}};
	struct sfs fs;
	struct worker w;
	struct pipe_pair p;

	setup(&fs, &w);
	CHECK(source_mem.setup(&fs) == 0);
	CHECK(source_mem.worker_init(&w) == 0);
	CHECK(sfs_pipe_open(&w, &p, 1 << 20) == 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct read_req rq = {.file = 0, .off = cases[i].off, .size = cases[i].size};
		uint64_t pages = (rq.off + rq.size + 4095) / 4096 - rq.off / 4096;
		unsigned known;
		int counted;
		size_t done = 0;

		p.used = 0;
		CHECK(source_mem.begin(&w, &rq) == 0);
		while (done < rq.size) {
			ssize_t r = sfs_fill_pipe(&w, &p, rq.size - done);

			CHECK(r > 0);
			done += r;
		}
		source_mem.end(&w, true);
		CHECK(p.counted);
		known = p.taken;
		CHECK_EQ_U64(known, pages);
		p.counted = false; /* make slots.c count them with the probe */
		counted = sfs_pipe_count_slots(&w, &p);
		CHECK_EQ_U64(counted, pages);
		CHECK(pipe_drain(&w, &p) == 0);
	}
	sfs_pipe_close(&p);
	teardown(&fs, &w);
}

TEST(slots_probe_counts_buffers_not_bytes)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct iovec iov[3] = {{page, 1}, {page + 10, 1000}, {page + 2000, 5}};
	struct sfs fs;
	struct worker w;
	struct pipe_pair p;

	setup(&fs, &w);
	CHECK(sfs_pipe_open(&w, &p, 65536) == 0);
	CHECK_EQ_U64(p.slots, 65536 / fs.page_size);
	CHECK(vmsplice(p.wr, iov, 3, 0) == 1006);
	p.used = 1006;
	p.counted = false;
	CHECK_EQ_U64(sfs_pipe_count_slots(&w, &p), 3);
	CHECK_EQ_U64(sfs_pipe_slots(&w, &p, true), 3);
	/* the data is still there, in order, after counting */
	{
		char got[1006];

		CHECK(read(p.rd, got, sizeof(got)) == 1006);
		CHECK(got[0] == page[0]);
	}
	p.used = 0;
	/* a full pipe is all its slots */
	p.full = true;
	p.used = 1;
	CHECK_EQ_U64(sfs_pipe_slots(&w, &p, true), p.slots);
	sfs_pipe_close(&p);
	CHECK(w.c.pipe_size_granted == 65536);
	teardown(&fs, &w);
}

/* pipe_drain empties a pipe whatever it holds (and does not stop on EINTR). */
TEST(slots_pipe_drain_empties)
{
	struct sfs fs;
	struct worker w;
	struct pipe_pair p;
	char buf[8192];
	int n;

	setup(&fs, &w);
	memset(buf, 1, sizeof(buf));
	CHECK(sfs_pipe_open(&w, &p, 65536) == 0);
	CHECK(write(p.wr, buf, sizeof(buf)) == sizeof(buf));
	p.used = sizeof(buf);
	CHECK(pipe_drain(&w, &p) == 0);
	CHECK(ioctl(p.rd, FIONREAD, &n) == 0);
	CHECK_EQ_U64(n, 0);
	CHECK_EQ_U64(p.used, 0);
	sfs_pipe_close(&p);
	teardown(&fs, &w);
}

/* --privilege user: the thread loses CAP_SYS_RESOURCE and CAP_SYS_ADMIN, others keep theirs. */
static void *drop_and_look(void *arg)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	int *r = arg;

	r[0] = sfs_drop_privilege();
	r[1] = syscall(SYS_capget, &h, d) == 0 && !(d[0].effective & (1u << CAP_SYS_ADMIN)) &&
	       !(d[0].effective & (1u << CAP_SYS_RESOURCE));
	return NULL;
}

TEST(slots_privilege_drop_is_per_thread)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	pthread_t t;
	int r[2] = {-1, 0};

	if (syscall(SYS_capget, &h, d) < 0 || !(d[0].effective & (1u << CAP_SYS_ADMIN)))
		SKIP("needs CAP_SYS_ADMIN to see it dropped");
	CHECK(pthread_create(&t, NULL, drop_and_look, r) == 0);
	pthread_join(t, NULL);
	CHECK(r[0] == 0);
	CHECK(r[1]); /* gone in the worker thread */
	CHECK(syscall(SYS_capget, &h, d) == 0);
	CHECK(d[0].effective & (1u << CAP_SYS_ADMIN)); /* this thread still has it */
}
