// SPDX-License-Identifier: MIT
/*
 * splice: the legacy path, step by step as libfuse 3.14 does it in
 * fuse_send_data_iov() when FUSE_CAP_SPLICE_WRITE is on.  We do the steps
 * ourselves rather than call fuse_reply_data(): that needs a fuse_req_t from
 * libfuse's own request loop, while every mode here must run on the same
 * loop (worker.c) to be compared fairly.  The rules kept from libfuse:
 *
 *  - replies under two pages go by copy (fallback_small);
 *  - one pipe per worker, created at the default size, grown with
 *    F_SETPIPE_SZ to pagesize * 3 + reply length; if growing fails the pipe
 *    is grown once to pipe-max-size, never tried again, and that reply and
 *    every later one that does not fit go by copy (fallback_grow);
 *  - the header is vmspliced into the pipe, then the data is spliced in
 *    behind it (from the memfd or the socket), then one splice moves
 *    header + data from the pipe to /dev/fuse;
 *  - if the data does not all fit into the pipe because its slots ran out
 *    before its bytes did (a socket's small fragments: one slot each), the
 *    pipe is read back into memory and the reply is copied (fallback_full);
 *  - a splice call that fails sends the reply by copy where it still can
 *    (fallback_error).
 *
 * Every fallback is counted with its reason (and bytes_copied): a "splice"
 * run that copied says so, and why, in its numbers.
 *
 * Faults (testing) come through the fault hook (faults.c): --fault-flip-offset
 * at its fill point (sfs_fill_pipe) or, for a reply that goes by copy, its iov
 * point; --fault-swap, where sfs_fault_swap_pages() says so, sends the data's
 * first 4 KiB through a side pipe so that it lands behind the second 4 KiB (a
 * pipe-to-pipe splice: no copy).
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct splice_worker {
	struct pipe_pair pipe;
	struct pipe_pair side; /* --fault-swap only */
	bool can_grow;         /* libfuse's grow-once rule */
	long max_size;         /* /proc/sys/fs/pipe-max-size at start */
};

static int splice_worker_init(struct worker *w)
{
	struct splice_worker *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	w->mode_priv = s;
	s->side.rd = s->side.wr = -1;
	s->can_grow = true;
	s->max_size = sfs_pipe_max_size();
	err = sfs_pipe_open(w, &s->pipe, 0);
	if (!err && w->fs->o.fault_swap)
		err = sfs_pipe_open(w, &s->side, 0);
	return err;
}

static void splice_worker_fini(struct worker *w)
{
	struct splice_worker *s = w->mode_priv;

	if (!s)
		return;
	sfs_pipe_close(&s->pipe);
	sfs_pipe_close(&s->side);
	free(s);
	w->mode_priv = NULL;
}

static int fallback(struct worker *w, const struct read_req *rq, enum fallback_reason why)
{
	sfs_count_fallback(w, why);
	return reply_by_copy(w, rq);
}

/* Read back what is in the pipe (header + now bytes) and finish by copy. */
static int read_back_and_copy(struct worker *w, const struct read_req *rq, size_t now)
{
	const struct data_source *src = w->fs->source;
	struct splice_worker *s = w->mode_priv;
	struct pipe_pair *p = &s->pipe;
	struct fuse_out_header oh;
	const void *rest;
	size_t got = 0;
	int err;

	while (got < sizeof(oh) + now) {
		ssize_t r = got < sizeof(oh)
		                ? read(p->rd, (char *)&oh + got, sizeof(oh) - got)
		                : read(p->rd, w->buf + got - sizeof(oh), sizeof(oh) + now - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pipe_drain(w, p);
			src->end(w, false);
			return -EIO;
		}
		got += r;
	}
	p->used = 0;
	now += sfs_flip_take_held(w, w->buf + now); /* taken, flipped, not yet in the pipe */
	err = src->to_mem(w, w->buf + now, rq->size - now, &rest);
	if (err) {
		src->end(w, false);
		return err;
	}
	if (rest != w->buf + now)
		memcpy(w->buf + now, rest, rq->size - now);
	sfs_count_fallback(w, FB_FULL);
	/* With --fault-swap the pages are already swapped in the pipe (faults.c knows). */
	err = reply_copy_data(w, rq, w->buf);
	src->end(w, err == 0);
	return err;
}

/* Move exactly n bytes into p.  n, -EAGAIN when the pipe ran out of slots, or -errno. */
static ssize_t fill(struct worker *w, struct pipe_pair *p, size_t n, size_t *done)
{
	size_t start = *done;

	while (*done - start < n) {
		ssize_t r = sfs_fill_pipe(w, p, n - (*done - start));

		if (r < 0)
			return r;
		if (r == 0)
			return -EIO;
		*done += r;
	}
	return (ssize_t)n;
}

/* --fault-swap: data page 0 via the side pipe, so that it lands behind page 1. */
static ssize_t fill_swapped(struct worker *w, struct splice_worker *s, size_t *done)
{
	struct pipe_pair *q = &s->side;
	size_t side = 0;
	ssize_t r;

	r = fill(w, q, 4096, &side);
	if (r >= 0)
		r = fill(w, &s->pipe, 4096, done);
	if (r >= 0) {
		do
			r = splice(q->rd, NULL, s->pipe.wr, NULL, 4096, SPLICE_F_NONBLOCK);
		while (r < 0 && errno == EINTR);
		r = r == 4096 ? 0 : r < 0 ? -errno : -EIO;
	}
	if (r < 0) {
		pipe_drain(w, q);
		return r == -EAGAIN ? -EIO : r;
	}
	s->pipe.used += 4096;
	s->pipe.taken += q->taken;
	s->pipe.counted = s->pipe.counted && q->counted;
	q->used = 0;
	*done += 4096;
	return 0;
}

static int splice_reply(struct worker *w, const struct read_req *rq)
{
	const struct data_source *src = w->fs->source;
	struct splice_worker *s = w->mode_priv;
	struct pipe_pair *p = &s->pipe;
	struct fuse_out_header oh = {sizeof(oh) + rq->size, 0, rq->unique};
	struct iovec hiov = {&oh, sizeof(oh)};
	size_t pipesize = 3 * w->fs->page_size + oh.len, done = 0;
	unsigned slots;
	ssize_t r;
	int err;

	if (rq->size < 2 * w->fs->page_size)
		return fallback(w, rq, FB_SMALL);
	if (p->size < pipesize) {
		if (!s->can_grow)
			return fallback(w, rq, FB_GROW);
		if (sfs_pipe_resize(w, p, pipesize)) {
			if (s->max_size > 0)
				sfs_pipe_resize(w, p, (size_t)s->max_size);
			s->can_grow = false;
			return fallback(w, rq, FB_GROW);
		}
		if (p->size < pipesize)
			return fallback(w, rq, FB_GROW);
	}
	do
		r = vmsplice(p->wr, &hiov, 1, SPLICE_F_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r != sizeof(oh)) {
		pipe_drain(w, p);
		return fallback(w, rq, FB_ERROR);
	}
	p->used = sizeof(oh);
	p->taken = 1; /* the header: one slot of its own */
	p->counted = true;
	p->full = false;
	err = src->begin(w, rq);
	if (!err && sfs_fault_swap_pages(w, rq))
		err = (int)fill_swapped(w, s, &done);
	while (!err && done < rq->size) {
		r = sfs_fill_pipe(w, p, rq->size - done);
		if (r == -EAGAIN || r == 0)
			return read_back_and_copy(w, rq, done); /* out of slots: copy the rest */
		if (r < 0)
			err = (int)r;
		else
			done += r;
	}
	if (err) {
		pipe_drain(w, p);
		src->end(w, false);
		return err;
	}
	slots = sfs_pipe_slots(w, p, sfs_slot_sample(w));
	err = sfs_send_pipe(w, p, oh.len);
	src->end(w, err == 0);
	if (err) {
		pipe_drain(w, p);
		return err;
	}
	p->used = 0;
	/* The header took the first slot. */
	sfs_count_spliced(w, rq->size,
	                  slots == SFS_SLOTS_UNKNOWN ? slots
	                  : slots > 0                ? slots - 1
	                                             : 0);
	return 0;
}

const struct reply_mode mode_splice = {
    .name = "splice",
    .help = "header + data into one pipe, splice(pipe -> /dev/fuse), libfuse's fallbacks",
    .needs = "",
    .splices = true,
    .fault_swap = true,
    .fault_flip = true,
    .worker_init = splice_worker_init,
    .worker_fini = splice_worker_fini,
    .reply = splice_reply,
};
