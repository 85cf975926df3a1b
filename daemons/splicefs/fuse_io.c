// SPDX-License-Identifier: MIT
/*
 * Every reply leaves through here, and the pipes every splicing mode uses are
 * made, filled, counted and emptied here.
 *
 *  - sfs_send(): the one way a reply goes out.  A mode with a transport of its
 *    own (uring) takes the replies of the requests it delivered (.send); every
 *    other reply is one writev() on the worker's /dev/fuse fd.
 *  - Pipes: opened at the size asked and recorded at the size granted (with
 *    --privilege user, F_SETPIPE_SZ obeys pipe-max-size and pipe-user-pages-*);
 *    emptied into /dev/null (no copy) after a failed reply.
 *  - Slots: a pipe holds a fixed number of buffers (slots), one per page piece
 *    of a file or one per fragment of a socket buffer, whatever its bytes.  A
 *    reply's slots are known when the source says (a memfd), when a pipe filled
 *    (a splice stopped short with bytes of room left: all its slots are taken),
 *    or counted: tee() the pipe's buffers into the worker's probe pipe, then
 *    vmsplice one byte per free slot until it is full; slots used = capacity -
 *    free.  No data is copied; the probe is emptied into /dev/null.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int fuse_send(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n, want = 0;

	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	do
		n = writev(fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == want ? 0 : -EIO;
}

int sfs_send(struct worker *w, const struct iovec *iov, int cnt)
{
	const struct reply_mode *m = w->fs->mode;
	int r;

	if (m->send && (r = m->send(w, iov, cnt)) != 1)
		return r;
	return fuse_send(w->fuse_fd, iov, cnt);
}

/* A reply already in p (header + data, len bytes) to /dev/fuse in one splice. */
int sfs_send_pipe(struct worker *w, struct pipe_pair *p, size_t len)
{
	ssize_t r;

	do
		r = splice(p->rd, NULL, w->fuse_fd, NULL, len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

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

/* 1024 one-byte pieces of one page: vmsplice makes each its own pipe buffer. */
static char one[4096] __attribute__((aligned(4096)));
static struct iovec iov[1024];

__attribute__((constructor)) static void iov_init(void)
{
	for (unsigned i = 0; i < 1024; i++)
		iov[i] = (struct iovec){one, 1};
}

/* Slots in use in p, counted with the probe pipe (see the top of this file). */
int sfs_pipe_count_slots(struct worker *w, struct pipe_pair *p)
{
	struct pipe_pair *q = &w->probe;
	unsigned free_slots = 0;
	ssize_t r;

	if (!p->used)
		return 0;
	if (p->full)
		return (int)p->slots;
	if (q->rd < 0 || q->slots < p->slots) {
		int err = q->rd < 0 ? sfs_pipe_open(w, q, p->size) : sfs_pipe_resize(w, q, p->size);

		if (err)
			return err;
		fcntl(q->rd, F_SETFL, O_NONBLOCK);
		fcntl(q->wr, F_SETFL, O_NONBLOCK);
	}
	do
		r = tee(p->rd, q->wr, p->used, SPLICE_F_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)p->used) {
		pipe_drain(w, q);
		return r < 0 ? -errno : -EIO;
	}
	for (;;) {
		r = vmsplice(q->wr, iov, 1024, SPLICE_F_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		free_slots += (unsigned)r;
		if (r < 1024)
			break;
	}
	pipe_drain(w, q);
	p->taken = q->slots > free_slots ? q->slots - free_slots : 0;
	return (int)p->taken;
}

/*
 * --fault-flip-offset: data byte flip_offset of this reply, XORed with 0xff,
 * into p on its own (one slot).  The byte is taken from the source once
 * (to_mem) and held in w->flip_byte until a pipe has room for it.
 */
static ssize_t fill_flipped(struct worker *w, struct pipe_pair *p)
{
	struct iovec v = {&w->flip_byte, 1};
	ssize_t r;

	if (!w->flip_held) {
		const void *b = NULL;
		int err = w->fs->source->to_mem(w, &w->flip_byte, 1, &b);

		if (err)
			return err;
		w->flip_byte = *(const unsigned char *)b ^ 0xff;
		w->flip_held = true;
	}
	do
		r = vmsplice(p->wr, &v, 1, SPLICE_F_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN) {
		p->full = true;
		p->taken = p->slots;
		return -EAGAIN;
	}
	if (r != 1)
		return r < 0 ? -errno : -EIO;
	w->flip_held = false;
	w->flip_done = true;
	w->flip_pos++;
	w->c.faults_injected++;
	p->used++;
	p->taken++;
	return 1;
}

size_t sfs_flip_take_held(struct worker *w, void *dst)
{
	if (!w->flip_held)
		return 0;
	*(unsigned char *)dst = w->flip_byte;
	w->flip_held = false;
	w->flip_done = true;
	w->flip_pos++;
	w->c.faults_injected++;
	return 1;
}

ssize_t sfs_fill_pipe(struct worker *w, struct pipe_pair *p, size_t n)
{
	unsigned slots = UINT_MAX;
	ssize_t r;

	if (!p->used)
		p->counted = true, p->taken = 0, p->full = false;
	if (w->fs->o.fault_flip && !w->flip_done) {
		uint64_t at = w->fs->o.flip_offset;

		if (w->flip_pos == at)
			return fill_flipped(w, p);
		if (w->flip_pos < at && w->flip_pos + n > at)
			n = at - w->flip_pos;
	}
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

volatile sig_atomic_t sfs_slot_probe;

bool sfs_slot_sample(struct worker *w)
{
	(void)w;
	return sfs_slot_probe;
}

/*
 * Slots the bytes in p take: known, or counted with the probe while it is on
 * (sample: sfs_slot_sample()), else SFS_SLOTS_UNKNOWN: the probe adds three
 * syscalls a reply, so it is off in timed windows.
 */
unsigned sfs_pipe_slots(struct worker *w, struct pipe_pair *p, bool sample)
{
	int r;

	if (!p->used)
		return 0;
	if (p->full)
		return p->slots;
	if (p->counted)
		return p->taken;
	if (!sample)
		return SFS_SLOTS_UNKNOWN;
	r = sfs_pipe_count_slots(w, p);
	return r < 0 ? SFS_SLOTS_UNKNOWN : (unsigned)r;
}

void sfs_count_fallback(struct worker *w, enum fallback_reason why)
{
	w->c.fallbacks++;
	switch (why) {
	case FB_SMALL:
		w->c.fallback_small++;
		break;
	case FB_GROW:
		w->c.fallback_grow++;
		break;
	case FB_FULL:
		w->c.fallback_full++;
		break;
	case FB_ERROR:
		w->c.fallback_error++;
		break;
	case FB_OTHER:
		w->c.fallback_other++;
		break;
	}
}

void sfs_count_spliced(struct worker *w, size_t bytes, unsigned slots)
{
	w->c.bytes += bytes;
	w->c.bytes_spliced += bytes;
	w->c.replies_spliced++;
	if (slots != SFS_SLOTS_UNKNOWN) {
		w->c.pipe_slots += slots;
		w->c.slot_bytes += bytes;
	}
}
