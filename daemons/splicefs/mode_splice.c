// SPDX-License-Identifier: MIT
/*
 * splice: the legacy path, step by step as libfuse 3.14 does it in
 * fuse_send_data_iov() when FUSE_CAP_SPLICE_WRITE is on.  We do the steps
 * ourselves rather than call fuse_reply_data(): that needs a fuse_req_t from
 * libfuse's own request loop, while every mode here must run on the same
 * loop (worker.c) to be compared fairly.  The rules kept from libfuse:
 *
 *  - replies under two pages go by copy;
 *  - one pipe per worker, created at the default size, grown with
 *    F_SETPIPE_SZ to pagesize * 3 + reply length; if growing fails the pipe
 *    is grown once to pipe-max-size, never tried again, and that reply and
 *    every later one that does not fit go by copy;
 *  - the header is vmspliced into the pipe, then the data is spliced in
 *    behind it (from the memfd or the socket), then one splice moves
 *    header + data from the pipe to /dev/fuse;
 *  - if the data does not all fit into the pipe (a socket's small
 *    fragments), the pipe is read back into memory and the reply is copied.
 *
 * Every fallback is counted (fallbacks, bytes_copied): a "splice" run that
 * copied says so in its numbers.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long pipe_max_size(void)
{
	static long max;
	FILE *f;

	if (!max && (f = fopen("/proc/sys/fs/pipe-max-size", "r"))) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max;
}

static int splice_worker_init(struct worker *w)
{
	w->pipe_can_grow = true;
	pipe_max_size();
	return pipes_open(w, 1, 0);
}

static int fallback(struct worker *w, const struct read_req *rq)
{
	w->c.fallbacks++;
	return reply_by_copy(w, rq);
}

/* Read back what is in the pipe (header + now bytes) and finish by copy. */
static int read_back_and_copy(struct worker *w, const struct read_req *rq, size_t now)
{
	const struct data_source *src = w->fs->source;
	struct pipe_pair *p = &w->pipes[0];
	struct fuse_out_header oh;
	struct iovec iov[2];
	const void *rest;
	int err;

	if (read(p->rd, &oh, sizeof(oh)) != sizeof(oh) ||
	    read(p->rd, w->buf, now) != (ssize_t)now) {
		pipe_drain(p);
		src->end(w, false);
		return -EIO;
	}
	err = src->to_mem(w, w->buf + now, rq->size - now, &rest);
	if (err) {
		src->end(w, false);
		return err;
	}
	if (rest != w->buf + now)
		memcpy(w->buf + now, rest, rq->size - now);
	oh.len = sizeof(oh) + rq->size;
	iov[0] = (struct iovec){&oh, sizeof(oh)};
	iov[1] = (struct iovec){w->buf, rq->size};
	err = fuse_send(w->fuse_fd, iov, 2);
	src->end(w, err == 0);
	if (err)
		return err;
	w->c.fallbacks++;
	w->c.bytes += rq->size;
	w->c.bytes_copied += rq->size;
	return 0;
}

static int splice_reply(struct worker *w, const struct read_req *rq)
{
	const struct data_source *src = w->fs->source;
	struct pipe_pair *p = &w->pipes[0];
	struct fuse_out_header oh = {sizeof(oh) + rq->size, 0, rq->unique};
	struct iovec hiov = {&oh, sizeof(oh)};
	size_t pipesize = 3 * w->fs->page_size + oh.len, done = 0;
	ssize_t r;
	int err;

	if (rq->size < 2 * w->fs->page_size)
		return fallback(w, rq);
	if (p->size < pipesize) {
		if (w->pipe_can_grow) {
			r = fcntl(p->wr, F_SETPIPE_SZ, (int)pipesize);
			if (r < 0) {
				r = fcntl(p->wr, F_SETPIPE_SZ, (int)pipe_max_size());
				if (r > 0)
					p->size = r;
				w->pipe_can_grow = false;
				return fallback(w, rq);
			}
			p->size = r;
		}
		if (p->size < pipesize)
			return fallback(w, rq);
	}
	r = vmsplice(p->wr, &hiov, 1, SPLICE_F_NONBLOCK);
	if (r != sizeof(oh)) {
		pipe_drain(p);
		return r < 0 ? fallback(w, rq) : -EIO;
	}
	err = src->begin(w, rq);
	while (!err && done < rq->size) {
		r = src->to_pipe(w, p->wr, rq->size - done);
		if (r == -EAGAIN || r == 0)
			return read_back_and_copy(w, rq, done); /* the pipe is full */
		if (r < 0)
			err = (int)r;
		else
			done += r;
	}
	if (err) {
		pipe_drain(p);
		src->end(w, false);
		return err;
	}
	r = splice(p->rd, NULL, w->fuse_fd, NULL, oh.len, 0);
	src->end(w, r == (ssize_t)oh.len);
	if (r != (ssize_t)oh.len) {
		err = r < 0 ? -errno : -EIO;
		pipe_drain(p);
		return err;
	}
	w->c.bytes += rq->size;
	w->c.bytes_spliced += rq->size;
	return 0;
}

const struct reply_mode mode_splice = {
    .name = "splice",
    .help = "header + data into one pipe, splice(pipe -> /dev/fuse), libfuse's fallbacks",
    .worker_init = splice_worker_init,
    .reply = splice_reply,
};
