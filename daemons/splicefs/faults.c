// SPDX-License-Identifier: MIT
/*
 * Fault injection (testing), behind one hook.  As fio keeps verification out
 * of its engines, the modes know no fault: they call the hook at defined
 * points of a reply, and the faults switched on act there.  The points:
 *
 *  - begin: a READ starts (worker.c, for every mode);
 *  - iov:   the header + data iovecs of a reply sent from memory (copy, uring,
 *           and every fallback to copy) may be rewritten;
 *  - fill:  data is about to be moved into a pipe (splice, multipipe): a fault
 *           may stop the fill short or put bytes of its own in;
 *  - stop:  where the data of a reply's pipe i must end (multipipe);
 *  - fds:   the pipe fds a multipipe reply names, just before it is sent.
 *
 * The faults, one row each of the table below:
 *
 *  - swap (--fault-swap): the data's first two 4 KiB pages trade places in every
 *    reply of at least 8 KiB (iov: the iovecs name them in the wrong order;
 *    stop + fds: the two pages in two pipes named in the wrong order; splice
 *    moves page 0 through a side pipe itself, sfs_fault_swap_pages());
 *  - flip (--fault-flip-offset N): data byte N of every reply longer than N
 *    reaches the reader XORed with 0xff (iov: the iovecs go around it and name a
 *    flipped copy; fill: the fill stops at N, the byte is taken from the source
 *    and vmspliced in flipped, one slot; a pipe with no slot left for it passes
 *    it on: sfs_flip_take_held());
 *  - refuse (multipipe's --fault-every N --fault-kind ebadf|emsgsize): every
 *    Nth reply names a non-pipe fd, or one byte more than asked, in a pipe of
 *    its own; the kernel must refuse it.
 *
 * Each fault that acts adds 1 to faults_injected.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

#define PAGE 4096

struct fault {
	const char *name;
	bool (*on)(const struct worker *w);
	void (*begin)(struct worker *w);
	int (*iov)(struct worker *w, const struct read_req *rq, const void *data,
	           struct iovec *iov);
	ssize_t (*fill)(struct worker *w, struct pipe_pair *p, size_t *n);
	size_t (*stop)(struct worker *w, const struct read_req *rq, int i, size_t stop);
	int (*fds)(struct worker *w, const struct read_req *rq, uint32_t *fds, int used,
	           const struct sfs_refuse *r);
};

/* ---- swap ---- */

static bool swap_on(const struct worker *w)
{
	return w->fs->o.fault_swap;
}

static int swap_iov(struct worker *w, const struct read_req *rq, const void *data,
                    struct iovec *iov)
{
	char *d = (char *)data;

	if (rq->size < 2 * PAGE || w->swap_done) /* done: swapped in splice's pipe, read back */
		return 0;
	iov[1] = (struct iovec){d + PAGE, PAGE};
	iov[2] = (struct iovec){d, PAGE};
	iov[3] = (struct iovec){d + 2 * PAGE, rq->size - 2 * PAGE};
	w->c.faults_injected++;
	return rq->size > 2 * PAGE ? 4 : 3;
}

/* Pages 0 and 1 each in a pipe of their own (the fds are then swapped). */
static size_t swap_stop(struct worker *w, const struct read_req *rq, int i, size_t stop)
{
	(void)w;
	return rq->size >= 2 * PAGE && i < 2 ? PAGE * (size_t)(i + 1) : stop;
}

static int swap_fds(struct worker *w, const struct read_req *rq, uint32_t *fds, int used,
                    const struct sfs_refuse *r)
{
	uint32_t t;

	(void)r;
	if (used < 2 || rq->size < 2 * PAGE)
		return used;
	t = fds[0], fds[0] = fds[1], fds[1] = t;
	w->c.faults_injected++;
	return used;
}

/* ---- flip ---- */

static void swap_begin(struct worker *w)
{
	w->swap_done = false;
}

static bool flip_on(const struct worker *w)
{
	return w->fs->o.fault_flip;
}

static void flip_begin(struct worker *w)
{
	w->flip_pos = 0;
	w->flip_done = w->flip_held = false;
}

static int flip_iov(struct worker *w, const struct read_req *rq, const void *data,
                    struct iovec *iov)
{
	uint64_t at = w->fs->o.flip_offset;
	const char *d = data;
	int cnt = 1;

	if (w->flip_done || rq->size <= at)
		return 0;
	w->flip_byte = (unsigned char)d[at] ^ 0xff;
	if (at)
		iov[cnt++] = (struct iovec){(void *)d, at};
	iov[cnt++] = (struct iovec){&w->flip_byte, 1};
	if (rq->size > at + 1)
		iov[cnt++] = (struct iovec){(void *)(d + at + 1), rq->size - at - 1};
	w->flip_done = true;
	w->c.faults_injected++;
	return cnt;
}

static void flip_taken(struct worker *w)
{
	w->flip_held = false;
	w->flip_done = true;
	w->flip_pos++;
	w->c.faults_injected++;
}

/* The flipped byte into p on its own (one slot); taken from the source once, held. */
static ssize_t flip_put(struct worker *w, struct pipe_pair *p)
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
	flip_taken(w);
	p->used++;
	p->taken++;
	return 1;
}

static ssize_t flip_fill(struct worker *w, struct pipe_pair *p, size_t *n)
{
	uint64_t at = w->fs->o.flip_offset;

	if (w->flip_done)
		return 0;
	if (w->flip_pos == at)
		return flip_put(w, p);
	if (w->flip_pos < at && w->flip_pos + *n > at)
		*n = at - w->flip_pos;
	return 0;
}

/* ---- refuse (multipipe) ---- */

static bool refuse_on(const struct worker *w)
{
	(void)w;
	return true; /* decided per reply from the mode's options (fds) */
}

static int refuse_fds(struct worker *w, const struct read_req *rq, uint32_t *fds, int used,
                      const struct sfs_refuse *r)
{
	static const char extra = 'x';
	struct iovec x = {(void *)&extra, 1};
	struct pipe_pair *p;

	(void)rq;
	if (!r || !r->every || w->c.reads % r->every)
		return used;
	w->c.faults_injected++;
	if (!r->emsgsize) {
		fds[used - 1] = (uint32_t)w->fuse_fd; /* not a pipe: EBADF */
		return used;
	}
	/* One byte more than the request asked, in a pipe of its own: EMSGSIZE */
	p = r->spare ? r->spare(w, used) : NULL;
	if (p && vmsplice(p->wr, &x, 1, SPLICE_F_NONBLOCK) == 1) {
		p->used = 1;
		fds[used++] = (uint32_t)p->rd;
	}
	return used;
}

static const struct fault faults[] = {
    {"swap", swap_on, swap_begin, swap_iov, NULL, swap_stop, swap_fds},
    {"flip", flip_on, flip_begin, flip_iov, flip_fill, NULL, NULL},
    {"refuse", refuse_on, NULL, NULL, NULL, NULL, refuse_fds},
};
#define NFAULTS      (sizeof(faults) / sizeof(faults[0]))
#define ON(f, point) ((f)->point && (f)->on(w))

/* ---- the hook: the points every mode calls ---- */

void sfs_fault_begin(struct worker *w)
{
	for (const struct fault *f = faults; f < faults + NFAULTS; f++)
		if (ON(f, begin))
			f->begin(w);
}

int sfs_fault_iov(struct worker *w, const struct read_req *rq, const void *data, struct iovec *iov,
                  int cnt)
{
	for (const struct fault *f = faults; f < faults + NFAULTS; f++) {
		int n = ON(f, iov) ? f->iov(w, rq, data, iov) : 0;

		if (n)
			return n; /* one fault a reply (the options allow one) */
	}
	return cnt;
}

ssize_t sfs_fault_fill(struct worker *w, struct pipe_pair *p, size_t *n)
{
	for (const struct fault *f = faults; f < faults + NFAULTS; f++) {
		ssize_t r = ON(f, fill) ? f->fill(w, p, n) : 0;

		if (r)
			return r;
	}
	return 0;
}

size_t sfs_fault_stop(struct worker *w, const struct read_req *rq, int i, size_t stop)
{
	for (const struct fault *f = faults; f < faults + NFAULTS; f++)
		if (ON(f, stop))
			stop = f->stop(w, rq, i, stop);
	return stop;
}

int sfs_fault_fds(struct worker *w, const struct read_req *rq, uint32_t *fds, int used,
                  const struct sfs_refuse *r)
{
	for (const struct fault *f = faults; f < faults + NFAULTS; f++)
		if (ON(f, fds))
			used = f->fds(w, rq, fds, used, r);
	return used;
}

bool sfs_fault_swap_pages(struct worker *w, const struct read_req *rq)
{
	if (!swap_on(w) || rq->size < 2 * PAGE)
		return false;
	w->swap_done = true;
	w->c.faults_injected++;
	return true;
}

size_t sfs_flip_take_held(struct worker *w, void *dst)
{
	if (!w->flip_held)
		return 0;
	*(unsigned char *)dst = w->flip_byte;
	flip_taken(w);
	return 1;
}
