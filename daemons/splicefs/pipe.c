// SPDX-License-Identifier: MIT
/*
 * The pipes every splicing mode uses: opened at the size asked and recorded
 * at the size granted (with --privilege user, F_SETPIPE_SZ obeys
 * pipe-max-size and pipe-user-pages-*), filled from the source, emptied into
 * /dev/null (no copy) after a failed reply.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

long sfs_pipe_max_size(void)
{
	long max = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max;
}

static void granted(struct worker *w, struct pipe_pair *p, long got)
{
	p->size = (size_t)got;
	p->slots = (unsigned)(got / w->fs->page_size);
	if (p->size > w->c.pipe_size_granted)
		w->c.pipe_size_granted = p->size;
}

int sfs_pipe_resize(struct worker *w, struct pipe_pair *p, size_t size)
{
	long got = fcntl(p->wr, F_SETPIPE_SZ, size > INT_MAX ? INT_MAX : (int)size);

	if (got < 0)
		return -errno;
	granted(w, p, got);
	return 0;
}

/* A pipe of `size` bytes (0: the kernel's default).  0 or -errno; p->rd = -1 on failure. */
int sfs_pipe_open(struct worker *w, struct pipe_pair *p, size_t size)
{
	int fd[2], err;

	*p = (struct pipe_pair){.rd = -1, .wr = -1};
	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	p->rd = fd[0];
	p->wr = fd[1];
	if (size)
		err = sfs_pipe_resize(w, p, size);
	else {
		long got = fcntl(p->wr, F_GETPIPE_SZ);

		err = got < 0 ? -errno : 0;
		if (!err)
			granted(w, p, got);
	}
	if (err)
		sfs_pipe_close(p);
	return err;
}

void sfs_pipe_close(struct pipe_pair *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	p->rd = p->wr = -1;
}

/* Empty a pipe after a failed reply, so the next reply starts clean. */
int pipe_drain(struct worker *w, struct pipe_pair *p)
{
	char sink[4096];
	int err = 0;

	for (;;) {
		ssize_t r = w->null_fd >= 0
		                ? splice(p->rd, NULL, w->null_fd, NULL, 1 << 30, SPLICE_F_NONBLOCK)
		                : -1;

		if (r < 0 && w->null_fd >= 0 && errno == EINTR)
			continue;
		if (r < 0 && w->null_fd >= 0 && errno == EAGAIN)
			break;
		if (r == 0)
			break;
		if (r > 0)
			continue;
		/* No /dev/null, or it refused: read the bytes out. */
		r = read(p->rd, sink, sizeof(sink));
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		if (r < 0 && errno != EAGAIN)
			err = -errno;
		break;
	}
	p->used = 0;
	p->taken = 0;
	p->full = false;
	p->counted = true;
	return err;
}

ssize_t sfs_fill_pipe(struct worker *w, struct pipe_pair *p, size_t n)
{
	unsigned slots = UINT_MAX;
	ssize_t r;

	if (!p->used)
		p->counted = true, p->taken = 0, p->full = false;
	if ((r = sfs_fault_fill(w, p, &n))) /* a fault put its own bytes in, or failed */
		return r;
	r = w->fs->source->to_pipe(w, p->wr, n, &slots);
	if (r == -EAGAIN) { /* no free slot: every slot is taken, whatever the bytes */
		p->full = true;
		p->taken = p->slots;
		return r;
	}
	if (r <= 0)
		return r;
	p->used += r;
	w->flip_pos += r;
	if (slots == UINT_MAX)
		p->counted = false;
	else
		p->taken += slots;
	return r;
}
