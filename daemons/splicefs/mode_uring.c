// SPDX-License-Identifier: MIT
/*
 * uring: FUSE over io_uring (Linux 6.14+), the upstream transport that
 * replaces read()/write() on /dev/fuse with ring entries (uring_ring.c: the
 * queues, entries, request loop and commit, shared with uring-zc).  Each
 * entry has a payload buffer of max_read bytes of its own.
 *
 * The data still crosses by copy: READ data is placed in the payload buffer
 * (received there directly from a socket; copied there from the memfd) and
 * the kernel copies it into the page cache or the reader's pages.  It is
 * counted as bytes_copied.
 */
#include "uring_ring.h"
#include "opttab.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

struct uring_opts {
	int depth;
};

static const struct opt_desc uring_options[] = {
    {"uring-depth", 0, OPT_INT, offsetof(struct uring_opts, depth), "2", "N",
     "ring entries per queue (one queue per CPU)", 1, 1024},
};

static int uring_worker_init(struct worker *w)
{
	struct uring_worker *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	w->mode_priv = u;
	return sfs_uring_worker_init(w, u, ((const struct uring_opts *)w->fs->o.mode_opts)->depth,
	                             false);
}

static void uring_worker_fini(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;

	if (!u)
		return;
	sfs_uring_worker_fini(u);
	free(u);
	w->mode_priv = NULL;
}

/* READ data goes straight into the entry's payload (no staging buffer). */
static int uring_reply(struct worker *w, const struct read_req *rq)
{
	struct uring_worker *u = w->mode_priv;

	if (!u || !u->cur) /* came by /dev/fuse (before the ring was ready) */
		return reply_by_copy(w, rq);
	return reply_copy_into(w, rq, u->cur->payload); /* sent by sfs_uring_send */
}

const struct reply_mode mode_uring = {
    .name = "uring",
    .help =
        "FUSE over io_uring (Linux 6.14+): requests and replies through ring entries, data by copy",
    .needs = "FUSE over io_uring: Linux 6.14+, CONFIG_FUSE_IO_URING, "
             "/sys/module/fuse/parameters/enable_uring = 1",
    .options = uring_options,
    .noptions = sizeof(uring_options) / sizeof(uring_options[0]),
    .opts_size = sizeof(struct uring_opts),
    .fault_flip = true, /* reply_copy_send: the flipped byte is copied into the entry */
    .send = sfs_uring_send,
    .probe = sfs_uring_probe,
    .init = sfs_uring_init,
    .worker_init = uring_worker_init,
    .worker_fini = uring_worker_fini,
    .reply = uring_reply,
    .run = sfs_uring_run,
};
