// SPDX-License-Identifier: MIT
/*
 * libfuse-copy: what most libfuse filesystems do.  The bytes are made
 * readable in memory (the memfd's mapping, or received from the socket into
 * the thread's buffer) and handed to fuse_reply_buf(), which writev()s the
 * header and the data to /dev/fuse: the kernel copies every byte.
 */
#include "ref.h"

#include <errno.h>

static void copy_read(fuse_req_t req, struct thr *t, uint64_t file, uint64_t off, size_t size)
{
	const void *p;
	int err = ref.source->to_mem(t, file, off, size, &p);

	if (err) {
		t->c.replies_failed++;
		fuse_reply_err(req, EIO);
		return;
	}
	err = fuse_reply_buf(req, p, size);
	ref.source->done(t, err == 0);
	if (err) {
		t->c.replies_failed++;
		return;
	}
	t->c.bytes += size;
	t->c.bytes_copied += size;
}

const struct ref_mode mode_libfuse_copy = {
    .name = "libfuse-copy",
    .help = "stock libfuse: fuse_reply_buf(), writev(header + data), the kernel copies",
    .needs = "",
    .read = copy_read,
};
