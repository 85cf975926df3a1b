// SPDX-License-Identifier: MIT
/*
 * The memory source: each file lives in its own memfd (tmpfs pages), filled
 * with the pattern once at start.  to_mem() points into its mapping (no
 * copy); to_pipe() splices from the memfd, which moves page references, not
 * bytes; file_fd() hands the memfd to passthrough as its backing file.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mem_file {
	int fd;
	char *map;
};

struct mem_cursor {
	const struct mem_file *f;
	loff_t pos; /* offset in the file of the next byte */
	loff_t end;
};

static struct mem_file *files;
static int nfiles;
static size_t file_len;

static void mem_teardown(struct sfs *fs)
{
	(void)fs;
	for (int i = 0; files && i < nfiles; i++) {
		if (files[i].map)
			munmap(files[i].map, file_len);
		if (files[i].fd >= 0)
			close(files[i].fd);
	}
	free(files);
	files = NULL;
	nfiles = 0;
}

static int mem_setup(struct sfs *fs)
{
	const size_t chunk = 4 << 20;
	int err = 0;

	files = calloc(fs->o.files, sizeof(*files));
	if (!files)
		return -ENOMEM;
	file_len = fs->o.file_size;
	for (nfiles = 0; nfiles < fs->o.files; nfiles++) {
		struct mem_file *m = &files[nfiles];

		m->fd = memfd_create("splicefs-data", MFD_CLOEXEC);
		if (m->fd < 0 || ftruncate(m->fd, (off_t)file_len) < 0) {
			err = -errno;
			break;
		}
		m->map = mmap(NULL, file_len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			err = -errno;
			break;
		}
		for (uint64_t off = 0; off < file_len; off += chunk)
			pattern_fill(&fs->pat, nfiles, off, m->map + off,
				     file_len - off < chunk ? file_len - off : chunk);
		mprotect(m->map, file_len, PROT_READ);
	}
	if (err) {
		nfiles++; /* tear down the partly made one too */
		mem_teardown(fs);
	}
	return err;
}

static int mem_file_fd(struct sfs *fs, uint64_t file)
{
	(void)fs;
	return file < (uint64_t)nfiles ? files[file].fd : -EINVAL;
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

	c->f = &files[rq->file];
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

static ssize_t mem_to_pipe(struct worker *w, int pipe_wr, size_t n)
{
	struct mem_cursor *c = w->src;
	ssize_t r;

	if ((loff_t)n > c->end - c->pos)
		n = c->end - c->pos;
	r = splice(c->f->fd, &c->pos, pipe_wr, NULL, n, SPLICE_F_NONBLOCK);
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
