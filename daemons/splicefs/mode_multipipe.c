// SPDX-License-Identifier: MIT
/*
 * multipipe: the FUSE_OUT_SPLICES reply of the patched kernel.  The data is
 * moved into the worker's pipes (splice from the memfd or the socket: page
 * references, not bytes), then one write() hands the kernel a header and
 * the pipe fds; the kernel drains the pipes into the request's pages.
 *
 * It never copies silently: on a kernel without the patch splicefs refuses
 * to start (probe), and a reply the kernel rejects at run time (EMSGSIZE,
 * EBADF, ...) is drained, counted and answered with EIO.
 */
#include "splicefs.h"
#include "fuse_splices.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int multipipe_probe(struct sfs *fs)
{
	int r = fuse_splices_probe(fs->fuse_fd);

	if (r == 0) {
		fprintf(stderr,
		        "splicefs: kernel lacks FUSE_OUT_SPLICES (it answers EINVAL): build "
		        "and boot the patched kernel (kernel/build; kernel/vm IMAGE -- ...) "
		        "or pick --mode copy|splice\n");
		return -EOPNOTSUPP;
	}
	if (r < 0) {
		fprintf(stderr, "splicefs: probing FUSE_OUT_SPLICES failed: %s\n", strerror(-r));
		return r;
	}
	if ((uint64_t)fs->o.pipes * fs->o.pipe_size < fs->o.max_read) {
		fprintf(stderr,
		        "splicefs: --pipes %d x --pipe-size %u cannot hold --max-read %u: "
		        "raise one of them\n",
		        fs->o.pipes, fs->o.pipe_size, fs->o.max_read);
		return -EINVAL;
	}
	return 0;
}

static int multipipe_worker_init(struct worker *w)
{
	int err = pipes_open(w, w->fs->o.pipes, w->fs->o.pipe_size);

	if (err)
		fprintf(stderr,
		        "splicefs: %d pipes of %u bytes: %s (see "
		        "/proc/sys/fs/pipe-max-size)\n",
		        w->fs->o.pipes, w->fs->o.pipe_size, strerror(-err));
	return err;
}

static int multipipe_reply(struct worker *w, const struct read_req *rq)
{
	const struct data_source *src = w->fs->source;
	struct fuse_out_header oh = {sizeof(oh), 0, rq->unique};
	uint32_t fds[SFS_MAX_PIPES];
	struct iovec iov[2] = {{&oh, sizeof(oh)}, {fds, 0}};
	size_t done = 0;
	int i = 0, used = 0, err;
	ssize_t r;

	if (!rq->size) /* EOF: an empty reply needs no pipe */
		return fuse_send(w->fuse_fd, iov, 1);

	err = src->begin(w, rq);
	while (!err && done < rq->size) {
		struct pipe_pair *p = &w->pipes[i];
		size_t room = p->size - p->used;

		if (!room) {
			if (++i == w->npipes) {
				err = -EMSGSIZE; /* the pipes are full before the request is */
				break;
			}
			continue;
		}
		r = src->to_pipe(w, p->wr, rq->size - done < room ? rq->size - done : room);
		if (r == -EAGAIN || r == 0) {
			p->used = p->size; /* full in slots before bytes: next pipe */
			continue;
		}
		if (r < 0) {
			err = (int)r;
			break;
		}
		p->used += r;
		done += r;
		used = i + 1;
	}
	if (!err) {
		for (int k = 0; k < used; k++)
			fds[k] = (uint32_t)w->pipes[k].rd;
		if (w->fs->o.fault_every && (w->c.reads % w->fs->o.fault_every) == 0)
			fds[used - 1] = (uint32_t)w->fuse_fd; /* not a pipe: EBADF */
		oh.len = sizeof(oh) + used * sizeof(uint32_t);
		oh.error = FUSE_OUT_SPLICES;
		iov[1].iov_len = used * sizeof(uint32_t);
		err = fuse_send(w->fuse_fd, iov, 2);
	}
	src->end(w, err == 0);
	if (err) {
		for (int k = 0; k <= i && k < w->npipes; k++)
			pipe_drain(&w->pipes[k]);
		return err;
	}
	for (int k = 0; k < w->npipes; k++)
		w->pipes[k].used = 0; /* the kernel drained them */
	w->c.bytes += rq->size;
	w->c.bytes_spliced += rq->size;
	w->c.pipes_used += used;
	return 0;
}

const struct reply_mode mode_multipipe = {
    .name = "multipipe",
    .help = "data into N pipes, one FUSE_OUT_SPLICES reply naming them (patched kernel)",
    .probe = multipipe_probe,
    .worker_init = multipipe_worker_init,
    .reply = multipipe_reply,
};
