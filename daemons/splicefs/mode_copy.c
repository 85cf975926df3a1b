// SPDX-License-Identifier: MIT
/*
 * copy: the reply is the header and the data in one writev().  The kernel
 * copies the data from user memory into the request's pages; from a socket
 * source the bytes were already copied once, by recv(), into w->buf.
 *
 * --fault-swap (testing): the first two 4 KiB pages of every reply of at
 * least 8 KiB trade places (the iovecs name them in the wrong order, no copy),
 * so a checker that checks every 8-byte word at its own offset must fail.
 *
 * --fault-flip-offset N (testing): the data byte N of every reply longer than
 * N is sent XORed with 0xff: the iovecs go around it and name w->flip_byte
 * instead (the data itself, maybe the source's own memory, is not touched).
 */
#include "splicefs.h"

#include <linux/fuse.h>

/* Send header + size bytes at data (already in memory) and count them; swap: --fault-swap. */
int reply_copy_send(struct worker *w, const struct read_req *rq, const void *data, bool swap)
{
	struct fuse_out_header oh = {sizeof(oh) + rq->size, 0, rq->unique};
	struct iovec iov[4] = {{&oh, sizeof(oh)}, {(void *)data, rq->size}};
	int cnt = rq->size ? 2 : 1, err;
	uint64_t at = w->fs->o.flip_offset;

	if (swap && rq->size >= 8192) {
		char *d = (char *)data;

		iov[1] = (struct iovec){d + 4096, 4096};
		iov[2] = (struct iovec){d, 4096};
		iov[3] = (struct iovec){d + 8192, rq->size - 8192};
		cnt = rq->size > 8192 ? 4 : 3;
		w->c.faults_injected++;
	} else if (w->fs->o.fault_flip && !w->flip_done && rq->size > at) {
		const char *d = data;

		w->flip_byte = (unsigned char)d[at] ^ 0xff;
		cnt = 1;
		if (at)
			iov[cnt++] = (struct iovec){(void *)d, at};
		iov[cnt++] = (struct iovec){&w->flip_byte, 1};
		if (rq->size > at + 1)
			iov[cnt++] = (struct iovec){(void *)(d + at + 1), rq->size - at - 1};
		w->flip_done = true;
		w->c.faults_injected++;
	}
	err = sfs_send(w, iov, cnt);
	if (err)
		return err;
	w->c.bytes += rq->size;
	w->c.bytes_copied += rq->size;
	return 0;
}

int reply_copy_data(struct worker *w, const struct read_req *rq, const void *data)
{
	return reply_copy_send(w, rq, data, w->fs->o.fault_swap);
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
