// SPDX-License-Identifier: MIT
/*
 * copy: the reply is the header and the data in one writev().  The kernel
 * copies the data from user memory into the request's pages; from a socket
 * source the bytes were already copied once, by recv(), into w->buf.
 *
 * Faults (testing: --fault-swap, --fault-flip-offset) act on the iovecs
 * through the fault hook (faults.c: its iov point); the data itself, maybe the
 * source's own memory, is not touched.
 */
#include "splicefs.h"

#include <linux/fuse.h>

/* Send header + size bytes at data (already in memory) and count them. */
int reply_copy_data(struct worker *w, const struct read_req *rq, const void *data)
{
	struct fuse_out_header oh = {sizeof(oh) + rq->size, 0, rq->unique};
	struct iovec iov[4] = {{&oh, sizeof(oh)}, {(void *)data, rq->size}};
	int cnt = rq->size ? 2 : 1, err;

	if (rq->size)
		cnt = sfs_fault_iov(w, rq, data, iov, cnt);
	err = sfs_send(w, iov, cnt);
	if (err)
		return err;
	w->c.bytes += rq->size;
	w->c.bytes_copied += rq->size;
	return 0;
}

/*
 * The data is made readable in memory (received into dst, or pointed at in
 * the source's own memory) and sent with the header: writev on /dev/fuse, or
 * the io_uring entry whose payload dst is.
 */
int reply_copy_into(struct worker *w, const struct read_req *rq, void *dst)
{
	const struct data_source *src = w->fs->source;
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
	}
	err = reply_copy_data(w, rq, p);
	if (rq->size)
		src->end(w, err == 0);
	return err;
}

/* Shared with the splicing modes, which fall back to it (and count why). */
int reply_by_copy(struct worker *w, const struct read_req *rq)
{
	return reply_copy_into(w, rq, w->buf);
}

const struct reply_mode mode_copy = {
    .name = "copy",
    .help = "writev(header + data): the kernel copies every byte from user memory",
    .needs = "",
    .fault_swap = true,
    .fault_flip = true,
    .reply = reply_by_copy,
};
