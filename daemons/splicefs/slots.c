// SPDX-License-Identifier: MIT
/*
 * Pipe slots: a pipe holds a fixed number of buffers (slots), one per page
 * piece of a file or one per fragment of a socket buffer, whatever its bytes.
 * A reply's slots are known when the source says (a memfd), when a pipe filled
 * (a splice stopped short with bytes of room left: all its slots are taken),
 * or counted: tee() the pipe's buffers into the worker's probe pipe, then
 * vmsplice one byte per free slot until it is full; slots used = capacity -
 * free.  No data is copied; the probe is emptied into /dev/null.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

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
