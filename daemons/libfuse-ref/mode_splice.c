// SPDX-License-Identifier: MIT
/*
 * libfuse-splice: what libfuse documents for zero-copy reads.  The data is
 * described as a file-descriptor buffer (FUSE_BUF_IS_FD: the memfd at the
 * read's offset, or this thread's pipe holding the bytes spliced from the
 * socket) and handed to fuse_reply_data() with FUSE_BUF_SPLICE_MOVE, with
 * FUSE_CAP_SPLICE_WRITE and FUSE_CAP_SPLICE_MOVE enabled at init.
 *
 * libfuse then decides, silently, whether it splices (vmsplice the header
 * into its per-thread pipe, splice the data behind it, splice the pipe into
 * /dev/fuse) or falls back to copying (replies under two pages, a pipe that
 * cannot grow to 3 pages + the reply: posix_memalign, read the fd into it,
 * writev, free).  Nothing outside libfuse can see which it did, so the
 * counters say what libfuse was asked (bytes_spliced: handed over as an fd
 * buffer), and the stats say "fallbacks_visible": false.
 */
#include "ref.h"

#include <errno.h>
#include <stdio.h>

static int splice_init(struct fuse_conn_info *conn, char *why, size_t whylen)
{
	if (!(conn->capable & FUSE_CAP_SPLICE_WRITE)) {
		snprintf(why, whylen,
		         "libfuse reports no FUSE_CAP_SPLICE_WRITE (kernel FUSE %u.%u, or a "
		         "libfuse built without splice)",
		         conn->proto_major, conn->proto_minor);
		return -EOPNOTSUPP;
	}
	conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
	return 0;
}

static void splice_read(fuse_req_t req, struct thr *t, uint64_t file, uint64_t off, size_t size)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	bool as_fd;
	int err = ref.source->to_buf(t, file, off, size, &bv.buf[0]);

	if (err) {
		t->c.replies_failed++;
		fuse_reply_err(req, EIO);
		return;
	}
	as_fd = bv.buf[0].flags & FUSE_BUF_IS_FD;
	err = fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	ref.source->done(t, err == 0);
	if (err) {
		t->c.replies_failed++;
		return;
	}
	t->c.bytes += size;
	if (as_fd) {
		t->c.bytes_spliced += size;
	} else {
		/* Our own fallback (the source could not fill a pipe): visible, counted. */
		t->c.fallback_full++;
		t->c.bytes_copied += size;
	}
}

const struct ref_mode mode_libfuse_splice = {
    .name = "libfuse-splice",
    .help = "stock libfuse: fuse_reply_data() with an fd buffer and FUSE_BUF_SPLICE_MOVE; "
            "libfuse's fallbacks are silent",
    .needs = "splice into /dev/fuse (FUSE_CAP_SPLICE_WRITE, any Linux kernel)",
    .splices = true,
    .init = splice_init,
    .read = splice_read,
};
