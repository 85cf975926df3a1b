// SPDX-License-Identifier: MIT
/*
 * mem: each file in its own memfd, filled once with the pattern (the memfds
 * splicefs's mem source makes: daemons/common/memfiles.h).  libfuse-copy replies from the mapping;
 * libfuse-splice hands libfuse the memfd at the read's offset (FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK),
 * which libfuse splices into its pipe: page references, no copy.
 */
#include "ref.h"
#include "memfiles.h"

#include <string.h>

static struct memfiles mem;

static void mem_teardown(struct ref *r)
{
	(void)r;
	memfiles_free(&mem);
}

static int mem_setup(struct ref *r)
{
	int err = memfiles_make(&mem, &r->pat, r->o.files, r->o.file_size, "libfuse-ref-data");

	if (err)
		fprintf(stderr, "libfuse-ref: mem source: %s\n", strerror(-err));
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
