/* SPDX-License-Identifier: MIT */
/*
 * The FUSE-over-io_uring transport the ring modes share (uring_ring.c): the
 * queues a worker serves, its ring entries (header + payload), registering
 * them, the request loop, and the reply written into an entry and committed
 * with the next fetch.  mode_uring.c gives each entry a payload buffer of its
 * own; mode_uring_zc.c adds its queues with zero-copy and a buffer pool per
 * queue, and answers READs into the reader's pages.
 *
 * A ring mode's w->mode_priv points to a struct uring_worker (first member
 * of the mode's own per-worker state, if it has more).
 */
#ifndef SPLICEFS_URING_RING_H
#define SPLICEFS_URING_RING_H

#include "splicefs.h"
#include "fuse_compat.h"

#include <liburing.h>

/* user_data of the /dev/fuse read; an entry's command carries the entry's address. */
#define SFS_URING_CLASSIC_READ 1
/* The low bits of an address: 0 for an entry's command, SFS_URING_UD_MODE for the mode's own. */
#define SFS_URING_UD_MASK 3u
#define SFS_URING_UD_MODE 2u

struct uring_ent {
	struct sfs_fuse_uring_req_header *hdr;
	char *payload; /* this request's payload: its own buffer, or the pool's the kernel picked */
	char *pool;    /* the queue's buffer pool (NULL: the entry has a payload of its own) */
	uint16_t qid;
	uint16_t
	    index; /* in ents[]; on a zero-copy queue also its slot in the ring's buffer table */
	struct iovec iov[2];
};

struct uring_worker {
	struct io_uring ring;
	bool ring_ok;
	bool zero_copy; /* queues added with FUSE_URING_ZERO_COPY and a buffer pool each */
	struct uring_ent *ents;
	int nents;
	struct uring_ent *cur; /* the entry being answered */
	bool committed;        /* ... its commit is queued */
	size_t payload_size;   /* a payload buffer (own, or one of a pool) */
	size_t pool_len;       /* a queue's pool (zero_copy): depth payload buffers */
	char *mem;             /* all headers, payloads and pools, one mapping */
	size_t mem_len;
	/* Optional: a completion whose user_data has SFS_URING_UD_MODE set. */
	void (*on_mode_cqe)(struct worker *w, uint64_t ud, int res);
	/* Optional: an entry's command completed; true when the mode took it. */
	bool (*on_ent_cqe)(struct worker *w, struct uring_ent *e, int res);
};

/* The kernel's queues: one per possible CPU. */
int sfs_uring_queues(void);
/* INIT: take FUSE over io_uring where offered (fs->uring). */
void sfs_uring_init(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out);
/* After INIT: FUSE over io_uring on, and a queue for every worker; one line and -errno if not. */
int sfs_uring_probe(struct sfs *fs);
/*
 * In the worker's thread: depth entries on each of its queues (queue q is
 * worker q % threads), the ring, and (zero_copy) the queues added with
 * FUSE_URING_ZERO_COPY and a pool of depth payload buffers each, the ring's
 * buffer table sparse with a slot per entry; then every entry registered, so
 * that the worker's queues are ready when this returns.  0 or -errno (one line).
 */
int sfs_uring_worker_init(struct worker *w, struct uring_worker *u, int depth, bool zero_copy);
void sfs_uring_worker_fini(struct uring_worker *u);
/* A free SQE (submitting what is queued if the ring is full), or NULL. */
struct io_uring_sqe *sfs_uring_sqe(struct uring_worker *u);
/* Queue the ring command op for e (commit_id: COMMIT_AND_FETCH's); its SQE, or NULL. */
struct io_uring_sqe *sfs_uring_cmd(struct worker *w, struct uring_ent *e, uint32_t op,
                                   uint64_t commit_id);
/* reply_mode.send: a reply to the current entry, into its header and payload, committed. */
int sfs_uring_send(struct worker *w, const struct iovec *iov, int cnt);
/* reply_mode.run: the request loop. */
void sfs_uring_run(struct worker *w);

#endif
