// SPDX-License-Identifier: MIT
/*
 * mem: each file in its own memfd, filled once with the pattern (as splicefs's
 * mem source).  libfuse-copy replies from the mapping; libfuse-splice hands
 * libfuse the memfd at the read's offset (FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK),
 * which libfuse splices into its pipe: page references, no copy.
 */
#include "ref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mem_file {
	int fd;
	char *map;
};

static struct {
	struct mem_file *files;
	int nfiles;
	size_t len;
} mem;

static void mem_teardown(struct ref *r)
{
	(void)r;
	for (int i = 0; mem.files && i < mem.nfiles; i++) {
		if (mem.files[i].map)
			munmap(mem.files[i].map, mem.len);
		if (mem.files[i].fd >= 0)
			close(mem.files[i].fd);
	}
	free(mem.files);
	memset(&mem, 0, sizeof(mem));
}

static int mem_setup(struct ref *r)
{
	const size_t chunk = 4 << 20;
	int err = 0;

	mem.files = calloc(r->o.files, sizeof(*mem.files));
	if (!mem.files)
		return -ENOMEM;
	mem.len = r->o.file_size;
	for (mem.nfiles = 0; mem.nfiles < r->o.files; mem.nfiles++) {
		struct mem_file *m = &mem.files[mem.nfiles];

		m->fd = memfd_create("libfuse-ref-data", MFD_CLOEXEC);
		if (m->fd < 0 || ftruncate(m->fd, (off_t)mem.len) < 0) {
			err = -errno;
			break;
		}
		m->map = mmap(NULL, mem.len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			err = -errno;
			break;
		}
		for (uint64_t off = 0; off < mem.len; off += chunk)
			pattern_fill(&r->pat, mem.nfiles, off, m->map + off,
			             mem.len - off < chunk ? mem.len - off : chunk);
		mprotect(m->map, mem.len, PROT_READ);
	}
	if (err) {
		fprintf(stderr, "libfuse-ref: mem source: %s\n", strerror(-err));
		mem.nfiles++; /* tear down the partly made one too */
		mem_teardown(r);
	}
	return err;
}

static int mem_to_mem(struct thr *t, uint64_t file, uint64_t off, size_t size, const void **p)
{
	*p = mem.files[file].map + off;
	t->c.source_bytes += size;
	return 0;
}

static int mem_to_buf(struct thr *t, uint64_t file, uint64_t off, size_t size, struct fuse_buf *b)
{
	b->size = size;
	b->flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	b->fd = mem.files[file].fd;
	b->pos = (off_t)off;
	t->c.source_bytes += size;
	return 0;
}

static void mem_done(struct thr *t, bool ok)
{
	(void)t;
	(void)ok;
}

const struct ref_source source_mem = {
    .name = "mem",
    .spec = "mem",
    .help = "each file in a memfd filled once with the pattern",
    .setup = mem_setup,
    .teardown = mem_teardown,
    .to_mem = mem_to_mem,
    .to_buf = mem_to_buf,
    .done = mem_done,
};
