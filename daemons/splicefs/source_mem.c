// SPDX-License-Identifier: MIT
/*
 * The memory source: all files live in one memfd (tmpfs pages), filled with
 * the pattern once at start.  to_mem() points into its mapping (no copy);
 * to_pipe() splices from the memfd, which moves page references, not bytes.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mem_src {
	int fd;
	char *map;
	size_t len;
};

struct mem_cursor {
	loff_t pos; /* absolute offset in the memfd of the next byte */
	loff_t end;
};

static struct mem_src mem = {.fd = -1};

static int mem_setup(struct sfs *fs)
{
	uint64_t total = fs->o.file_size * (uint64_t)fs->o.files;
	const size_t chunk = 4 << 20;

	mem.fd = memfd_create("splicefs-data", MFD_CLOEXEC);
	if (mem.fd < 0)
		return -errno;
	if (ftruncate(mem.fd, (off_t)total) < 0)
		goto fail;
	mem.len = total;
	mem.map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, mem.fd, 0);
	if (mem.map == MAP_FAILED)
		goto fail;
	for (int f = 0; f < fs->o.files; f++)
		for (uint64_t off = 0; off < fs->o.file_size; off += chunk) {
			size_t n = fs->o.file_size - off < chunk ? fs->o.file_size - off : chunk;

			pattern_fill(&fs->pat, f, off, mem.map + f * fs->o.file_size + off, n);
		}
	mprotect(mem.map, total, PROT_READ);
	return 0;
fail : {
	int err = -errno;

	close(mem.fd);
	mem.fd = -1;
	return err;
}
}

static void mem_teardown(struct sfs *fs)
{
	(void)fs;
	if (mem.map && mem.map != MAP_FAILED)
		munmap(mem.map, mem.len);
	if (mem.fd >= 0)
		close(mem.fd);
	mem.map = NULL;
	mem.fd = -1;
}

static int mem_worker_init(struct worker *w)
{
	w->src = calloc(1, sizeof(struct mem_cursor));
	return w->src ? 0 : -ENOMEM;
}

static void mem_worker_fini(struct worker *w)
{
	free(w->src);
	w->src = NULL;
}

static int mem_begin(struct worker *w, const struct read_req *rq)
{
	struct mem_cursor *c = w->src;

	c->pos = (loff_t)(rq->file * w->fs->o.file_size + rq->off);
	c->end = c->pos + rq->size;
	return 0;
}

static int mem_to_mem(struct worker *w, void *dst, size_t n, const void **p)
{
	struct mem_cursor *c = w->src;

	(void)dst;
	if ((loff_t)n > c->end - c->pos)
		return -EINVAL;
	*p = mem.map + c->pos;
	c->pos += n;
	w->c.source_bytes += n;
	return 0;
}

static ssize_t mem_to_pipe(struct worker *w, int pipe_wr, size_t n)
{
	struct mem_cursor *c = w->src;
	ssize_t r;

	if ((loff_t)n > c->end - c->pos)
		n = c->end - c->pos;
	r = splice(mem.fd, &c->pos, pipe_wr, NULL, n, SPLICE_F_NONBLOCK);
	if (r < 0)
		return -errno;
	w->c.source_bytes += r;
	return r;
}

static void mem_end(struct worker *w, bool ok)
{
	(void)w;
	(void)ok;
}

const struct data_source source_mem = {
    .name = "mem",
    .help = "files held in a memfd filled once with the pattern (splice moves its pages)",
    .setup = mem_setup,
    .teardown = mem_teardown,
    .worker_init = mem_worker_init,
    .worker_fini = mem_worker_fini,
    .begin = mem_begin,
    .to_mem = mem_to_mem,
    .to_pipe = mem_to_pipe,
    .end = mem_end,
};
