// SPDX-License-Identifier: MIT
/*
 * The memory source: each file lives in its own memfd (tmpfs pages), filled
 * with the pattern once at start (daemons/common/memfiles.h, shared with
 * libfuse-ref).  to_mem() points into its mapping (no
 * copy); to_pipe() splices from the memfd, which moves page references, not
 * bytes; file_fd() hands the memfd to passthrough as its backing file.
 */
#include "splicefs.h"
#include "memfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Shared by every worker, read-only once filled: fs->src. */
struct mem_src {
	struct memfiles m;
	long page;
};

struct mem_cursor {
	const struct mem_src *s;
	const struct memfile *f;
	loff_t pos; /* offset in the file of the next byte */
	loff_t end;
};

static void mem_teardown(struct sfs *fs)
{
	struct mem_src *s = fs->src;

	if (s)
		memfiles_free(&s->m);
	free(s);
	fs->src = NULL;
}

static int mem_setup(struct sfs *fs)
{
	struct mem_src *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	fs->src = s;
	s->page = sysconf(_SC_PAGESIZE);
	err = memfiles_make(&s->m, &fs->pat, fs->o.files, fs->o.file_size, "splicefs-data");
	if (err)
		mem_teardown(fs);
	return err;
}

static int mem_file_fd(struct sfs *fs, uint64_t file)
{
	const struct mem_src *s = fs->src;

	return s && file < (uint64_t)s->m.nfiles ? s->m.files[file].fd : -EINVAL;
}

static int mem_worker_init(struct worker *w)
{
	struct mem_cursor *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->s = w->fs->src;
	w->src = c;
	return 0;
}

static void mem_worker_fini(struct worker *w)
{
	free(w->src);
	w->src = NULL;
}

static int mem_begin(struct worker *w, const struct read_req *rq)
{
	struct mem_cursor *c = w->src;

	c->f = &c->s->m.files[rq->file];
	c->pos = (loff_t)rq->off;
	c->end = c->pos + rq->size;
	return 0;
}

static int mem_to_mem(struct worker *w, void *dst, size_t n, const void **p)
{
	struct mem_cursor *c = w->src;

	(void)dst;
	if ((loff_t)n > c->end - c->pos)
		return -EINVAL;
	*p = c->f->map + c->pos;
	c->pos += n;
	w->c.source_bytes += n;
	return 0;
}

/*
 * splice(memfd -> pipe): shmem puts one pipe buffer per page piece (also
 * inside a large folio), so the bytes [pos, pos + r) took the pages they span.
 */
static ssize_t mem_to_pipe(struct worker *w, int pipe_wr, size_t n, unsigned *slots)
{
	struct mem_cursor *c = w->src;
	loff_t start = c->pos;
	long pg = c->s->page;
	ssize_t r;

	if ((loff_t)n > c->end - c->pos)
		n = c->end - c->pos;
	do
		r = splice(c->f->fd, &c->pos, pipe_wr, NULL, n, SPLICE_F_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r > 0)
		*slots = (unsigned)((start + r + pg - 1) / pg - start / pg);
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
    .spec = "mem",
    .help = "each file in a memfd filled once with the pattern (splice moves its pages)",
    .setup = mem_setup,
    .teardown = mem_teardown,
    .worker_init = mem_worker_init,
    .worker_fini = mem_worker_fini,
    .begin = mem_begin,
    .to_mem = mem_to_mem,
    .to_pipe = mem_to_pipe,
    .end = mem_end,
    .file_fd = mem_file_fd,
};
