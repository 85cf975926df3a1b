// SPDX-License-Identifier: MIT
/*
 * copy: the reply is the header and the data in one writev().  The kernel
 * copies the data from user memory into the request's pages; from a socket
 * source the bytes were already copied once, by recv(), into w->buf.
 */
#include "splicefs.h"

#include <linux/fuse.h>

/*
 * The data is made readable in memory (received into dst, or pointed at in
 * the source's own memory) and sent with the header by w->send: writev on
 * /dev/fuse, or the io_uring entry whose payload dst is.
 */
int reply_copy_into(struct worker *w, const struct read_req *rq, void *dst)
{
	const struct data_source *src = w->fs->source;
	struct fuse_out_header oh = {sizeof(oh) + rq->size, 0, rq->unique};
	struct iovec iov[2] = {{&oh, sizeof(oh)}, {NULL, rq->size}};
	const void *p = NULL;
	int err;

	if (rq->size) {
		err = src->begin(w, rq);
		if (!err)
			err = src->to_mem(w, dst, rq->size, &p);
		if (err) {
			src->end(w, false);
			return err;
		}
		iov[1].iov_base = (void *)p;
	}
	err = w->send(w, iov, rq->size ? 2 : 1);
	if (rq->size)
		src->end(w, err == 0);
	if (err)
		return err;
	w->c.bytes += rq->size;
	w->c.bytes_copied += rq->size;
	return 0;
}

/* Shared with the splicing modes, which fall back to it (and count that). */
int reply_by_copy(struct worker *w, const struct read_req *rq)
{
	return reply_copy_into(w, rq, w->buf);
}

const struct reply_mode mode_copy = {
    .name = "copy",
    .help = "writev(header + data): the kernel copies every byte from user memory",
    .reply = reply_by_copy,
};
