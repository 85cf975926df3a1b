// SPDX-License-Identifier: MIT
/*
 * uring-zc: FUSE over io_uring with zero-copy (Linux 7.3, FUSE 7.46), on the
 * transport uring_ring.c shares with uring.
 *
 * Set-up, per worker, for each of its queues: FUSE_IO_URING_CMD_ADD_QUEUE
 * with FUSE_URING_ZERO_COPY (the kernel takes it from CAP_SYS_ADMIN only),
 * FUSE_IO_URING_CMD_ADD_BUFPOOL (a pool of --zc-depth buffers of the
 * kernel's max payload, plain user memory: the commands then need no
 * IORING_URING_CMD_FIXED), and the ring's buffer table made sparse with one
 * slot per entry; each entry REGISTERs with a payload iovec of {NULL, 0} and
 * its slot in ent_zero_copy_buf_index.  Files open with
 * FOPEN_IO_URING_ZERO_COPY.
 *
 * A READ then arrives with FUSE_URING_ENT_ZERO_COPY in the entry header's
 * flags, no pool buffer, and the request's folios (the page cache's, or the
 * O_DIRECT reader's own pages) registered in the worker's ring as the fixed
 * buffer at the entry's slot, starting at address 0.  The source reads the
 * data straight into it: IORING_OP_READ_FIXED from the memfd at the file's
 * offset (mem), or IORING_OP_RECV with IORING_RECVSEND_FIXED_BUF and
 * MSG_WAITALL from the sbserver socket (tcp, after the request and the
 * response header went by the source's own calls), linked (IOSQE_IO_LINK) to
 * the entry's COMMIT_AND_FETCH, whose header says error 0 and payload_sz =
 * the bytes.  The kernel copies nothing at the commit (it only zeroes what
 * lies past payload_sz in a short read's folios) and unregisters the buffer.
 * One copy of each byte, by the source's read, as the network's own reader
 * has; no pipe, no staging buffer.
 *
 * A read that comes short or fails cancels the linked commit (-ECANCELED):
 * a short one is resumed (the rest, linked to a new commit: zc_resumed), a
 * failed one is answered with EIO (replies_failed; tcp drops its connection).
 * The socket carries one response at a time: a READ that finds it busy waits
 * in a FIFO of entries (no allocation) until the receive before it is done.
 *
 * Copied instead, counted by reason: a READ whose entry is not flagged
 * zero-copy (into the pool buffer the kernel lent it), one that came by
 * /dev/fuse before the ring was ready, and every READ of a source that can
 * read into a fixed buffer neither by file offset nor from a socket (files
 * then open without FOPEN_IO_URING_ZERO_COPY).  Other requests (LOOKUP,
 * GETATTR, ...) are answered through the pool as uring answers them.
 */
#include "uring_ring.h"
#include "opttab.h"
#include "tcpsrc.h"

#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"

struct zc_opts {
	int depth;
};

static const struct opt_desc zc_options[] = {
    {"zc-depth", 0, OPT_INT, offsetof(struct zc_opts, depth), "2", "N",
     "ring entries per queue (one queue per CPU), and buffers in each queue's pool", 1, 1024},
};

// clang-format off
#define ZC_COUNTERS(C, RATIO) \
	C(zc_bytes, SUM, "uring-zc: READ bytes the source read straight into the reader's pages (the registered buffer)") \
	C(zc_replies, SUM, "uring-zc: READ replies zero-copied") \
	C(zc_copied, SUM, "uring-zc: READ bytes copied instead (the zc_copied_* together)") \
	C(zc_copied_unflagged, SUM, "uring-zc, copied: the entry came without FUSE_URING_ENT_ZERO_COPY (into its pool buffer)") \
	C(zc_copied_classic, SUM, "uring-zc, copied: the READ came by /dev/fuse, not through a ring entry") \
	C(zc_copied_source, SUM, "uring-zc, copied: the source reads into a fixed buffer neither by file offset nor from a socket") \
	C(zc_resumed, SUM, "uring-zc: source reads into the registered buffer that came short and were resumed") \
	C(zc_read_bytes, SUM, "uring-zc: READ bytes replied, zero-copied or copied") \
	RATIO(zc_fraction, zc_bytes, zc_read_bytes, 4, "uring-zc: share of READ bytes zero-copied")
// clang-format on

struct zc_counters {
	COUNTERS_STRUCT(ZC_COUNTERS)
};
_Static_assert(sizeof(struct zc_counters) <= SFS_MODE_COUNTERS * sizeof(uint64_t),
               "uring-zc's counters do not fit in w->mode_c");

#define COUNTERS_TYPE struct zc_counters
static const struct counter_desc zc_counters[] = {COUNTERS_DESC(ZC_COUNTERS)};
#undef COUNTERS_TYPE

/* How the source's bytes reach a fixed buffer. */
enum zc_src {
	ZC_SRC_FILE,   /* an fd with the file at offset 0 (file_fd: mem's memfd): READ_FIXED */
	ZC_SRC_STREAM, /* a tcpsrc connection, one response at a time: RECV into the fixed buffer */
	ZC_SRC_NONE,   /* neither: copy */
};

/* One entry's zero-copy READ. */
struct zc_ent {
	struct read_req rq;
	uint32_t done; /* bytes in the reader's pages */
	int err;       /* the source read failed */
	int fd;
	uint8_t pending; /* completions of the chain still to come: the read's, the commit's */
};

struct zc_worker {
	struct uring_worker u; /* first: w->mode_priv is both */
	enum zc_src src;
	struct zc_ent *z; /* by entry index */
	uint16_t *wait;   /* entries waiting for the socket, a ring of nents */
	int wait_head, wait_n;
	bool stream_busy; /* a response is being received */
};

/* What INIT offered (one connection per process). */
static struct {
	uint32_t minor;
	bool bufpool;
} zc_kernel;

static struct zc_counters *zc_c(struct worker *w)
{
	return (struct zc_counters *)w->mode_c;
}

static enum zc_src zc_src_kind(const struct sfs *fs)
{
	if (fs->source->file_fd)
		return ZC_SRC_FILE;
	if (fs->source == &source_tcp)
		return ZC_SRC_STREAM;
	return ZC_SRC_NONE;
}

static void zc_init(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out)
{
	sfs_uring_init(fs, in, out);
	zc_kernel.minor = in->minor;
	zc_kernel.bufpool =
	    (in->flags & FUSE_INIT_EXT) && (in->flags2 & SFS_FUSE_HAS_IO_URING_BUFPOOL_FLAGS2);
}

static bool cap_sys_admin(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 && (d[0].effective & (1u << CAP_SYS_ADMIN));
}

/*
 * The kernel checks capable(CAP_SYS_ADMIN): in the initial user namespace.  Root
 * of another one (unshare -U, a rootless container) holds it in capget() and
 * may mount FUSE, but ADD_QUEUE with FUSE_URING_ZERO_COPY says EPERM.  The
 * initial namespace maps every uid to itself: "0 0 4294967295".
 */
static bool initial_user_ns(void)
{
	FILE *f = fopen("/proc/self/uid_map", "r");
	unsigned long a = 1, b = 1, n = 0;

	if (!f)
		return true; /* no user namespaces in this kernel */
	if (fscanf(f, "%lu %lu %lu", &a, &b, &n) != 3)
		a = 1;
	fclose(f);
	return a == 0 && b == 0 && n == 4294967295UL;
}

/* enable_uring: 1 on, 0 off, -1 no such parameter (no FUSE over io_uring in this kernel). */
static int enable_uring(void)
{
	FILE *f = fopen(ENABLE_URING, "r");
	int c;

	if (!f)
		return -1;
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == '1';
}

static int zc_probe(struct sfs *fs)
{
	if (!fs->uring) {
		if (enable_uring() == 0)
			fprintf(stderr, "splicefs: FUSE over io_uring is off (" ENABLE_URING
			                " = N): 'echo 1 > " ENABLE_URING
			                "' as root, or pick another --mode\n");
		else
			fprintf(
			    stderr,
			    "splicefs: kernel does not offer FUSE over io_uring (zero-copy needs "
			    "Linux 7.3+ with CONFIG_FUSE_IO_URING and enable_uring = 1): pick "
			    "another --mode\n");
		return -EOPNOTSUPP;
	}
	if (!zc_kernel.bufpool || zc_kernel.minor < SFS_FUSE_MINOR_URING_ZERO_COPY) {
		fprintf(stderr,
		        "splicefs: kernel speaks FUSE 7.%u without io_uring buffer pools "
		        "(FUSE_HAS_IO_URING_BUFPOOL, 7.%d: Linux 7.3+), so no io_uring zero-copy: "
		        "use --mode uring\n",
		        zc_kernel.minor, SFS_FUSE_MINOR_URING_ZERO_COPY);
		return -EOPNOTSUPP;
	}
	if (fs->o.user) {
		fprintf(stderr,
		        "splicefs: --privilege user drops CAP_SYS_ADMIN, and the kernel adds "
		        "zero-copy queues (FUSE_URING_ZERO_COPY) for CAP_SYS_ADMIN only: use "
		        "--privilege root or --mode uring\n");
		return -EOPNOTSUPP;
	}
	if (!cap_sys_admin()) {
		fprintf(stderr, "splicefs: no CAP_SYS_ADMIN, and the kernel adds zero-copy queues "
		                "(FUSE_URING_ZERO_COPY) for CAP_SYS_ADMIN only: run as root or use "
		                "--mode uring\n");
		return -EOPNOTSUPP;
	}
	if (!initial_user_ns()) {
		fprintf(stderr, "splicefs: CAP_SYS_ADMIN in a user namespace, and the kernel adds "
		                "zero-copy queues (FUSE_URING_ZERO_COPY) for CAP_SYS_ADMIN in the "
		                "initial one only: run outside it or use --mode uring\n");
		return -EOPNOTSUPP;
	}
	return sfs_uring_probe(fs);
}

static int zc_open(struct worker *w, uint64_t file, struct fuse_open_out *out)
{
	(void)file;
	if (zc_src_kind(w->fs) != ZC_SRC_NONE)
		out->open_flags |= SFS_FOPEN_IO_URING_ZERO_COPY;
	return 0;
}

/*
 * The rest of e's READ from the source into the registered buffer (at its
 * offset done), linked to the commit.  Two SQEs together: a link must not
 * be cut by a submit in between.
 */
static int zc_queue(struct worker *w, struct uring_ent *e)
{
	struct zc_worker *zw = w->mode_priv;
	struct zc_ent *z = &zw->z[e->index];
	struct io_uring_sqe *sqe;
	void *at = (void *)(uintptr_t)z->done; /* a kernel buffer starts at address 0 */
	unsigned n = z->rq.size - z->done;

	if (io_uring_sq_space_left(&zw->u.ring) < 2)
		io_uring_submit(&zw->u.ring);
	if (io_uring_sq_space_left(&zw->u.ring) < 2 || !(sqe = io_uring_get_sqe(&zw->u.ring)))
		return -EBUSY;
	if (zw->src == ZC_SRC_STREAM) {
		io_uring_prep_rw(IORING_OP_RECV, sqe, z->fd, at, n, 0);
		sqe->msg_flags = MSG_WAITALL;
		sqe->ioprio = IORING_RECVSEND_FIXED_BUF;
		sqe->buf_index = e->index;
	} else {
		io_uring_prep_read_fixed(sqe, z->fd, at, n, z->rq.off + z->done, e->index);
	}
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)e | SFS_URING_UD_MODE);
	e->hdr->ring_ent_in_out.payload_sz = z->rq.size;
	sfs_uring_cmd(w, e, SFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH,
	              e->hdr->ring_ent_in_out.commit_id);
	z->pending = 2;
	zw->u.committed = true;
	return 0;
}

/* Start e's READ: the source's request (tcp), the header, the linked read and commit. */
static int zc_issue(struct worker *w, struct uring_ent *e)
{
	struct zc_worker *zw = w->mode_priv;
	struct zc_ent *z = &zw->z[e->index];
	const struct data_source *src = w->fs->source;
	struct fuse_out_header oh = {sizeof(oh) + z->rq.size, 0, z->rq.unique};
	int err;

	if (zw->src == ZC_SRC_STREAM) {
		err = src->begin(w, &z->rq); /* request sent, response header taken */
		if (err) {
			src->end(w, false);
			return err;
		}
		z->fd = ((struct tcpsrc_conn *)w->src)->sock;
		zw->stream_busy = true;
	} else {
		z->fd = src->file_fd(w->fs, z->rq.file);
		if (z->fd < 0)
			return z->fd;
	}
	memcpy(e->hdr->in_out, &oh, sizeof(oh));
	z->done = 0;
	z->err = 0;
	err = zc_queue(w, e);
	if (err && zw->src == ZC_SRC_STREAM) {
		src->end(w, false);
		zw->stream_busy = false;
	}
	return err;
}

/* Entries that waited for the socket, in order, while it is free. */
static void zc_run_waiting(struct worker *w)
{
	struct zc_worker *zw = w->mode_priv;
	struct uring_ent *prev = zw->u.cur;
	bool committed = zw->u.committed;

	while (!zw->stream_busy && zw->wait_n) {
		struct uring_ent *e = &zw->u.ents[zw->wait[zw->wait_head]];
		int err;

		zw->wait_head = (zw->wait_head + 1) % zw->u.nents;
		zw->wait_n--;
		zw->u.cur = e;
		err = zc_issue(w, e);
		if (err) { /* as worker.c answers a failed reply */
			w->c.replies_failed++;
			sfs_reply_err(w, zw->z[e->index].rq.unique, err == -ENOENT ? ENOENT : EIO);
		}
	}
	zw->u.cur = prev;
	zw->u.committed = committed;
}

static int reply_copied(struct worker *w, const struct read_req *rq, void *dst, uint64_t *why)
{
	int err = dst ? reply_copy_into(w, rq, dst) : reply_by_copy(w, rq);

	if (!err) {
		*why += rq->size;
		zc_c(w)->zc_copied += rq->size;
		zc_c(w)->zc_read_bytes += rq->size;
	}
	return err;
}

static int zc_reply(struct worker *w, const struct read_req *rq)
{
	struct zc_worker *zw = w->mode_priv;
	struct uring_ent *e = zw ? zw->u.cur : NULL;
	struct zc_ent *z;

	if (!e) /* came by /dev/fuse (before the ring was ready) */
		return reply_copied(w, rq, NULL, &zc_c(w)->zc_copied_classic);
	if (!(e->hdr->ring_ent_in_out.flags & SFS_FUSE_URING_ENT_ZERO_COPY))
		return reply_copied(w, rq, e->payload,
		                    zw->src == ZC_SRC_NONE ? &zc_c(w)->zc_copied_source
		                                           : &zc_c(w)->zc_copied_unflagged);
	if (!rq->size) /* at or past the end: header only, the kernel zeroes the pages */
		return reply_copy_data(w, rq, NULL);
	z = &zw->z[e->index];
	z->rq = *rq;
	if (zw->src == ZC_SRC_STREAM && zw->stream_busy) {
		zw->wait[(zw->wait_head + zw->wait_n++) % zw->u.nents] = e->index;
		zw->u.committed = true; /* it will be */
		return 0;
	}
	return zc_issue(w, e);
}

/* Both completions of a chain whose commit was cancelled are in: resume, or EIO. */
static void zc_chain_failed(struct worker *w, struct uring_ent *e)
{
	struct zc_worker *zw = w->mode_priv;
	struct zc_ent *z = &zw->z[e->index];
	struct uring_ent *prev = zw->u.cur;
	bool committed = zw->u.committed;

	if (!z->err && z->done < z->rq.size && !zc_queue(w, e)) {
		zc_c(w)->zc_resumed++;
	} else {
		zw->u.cur = e;
		w->c.replies_failed++;
		sfs_reply_err(w, z->rq.unique, EIO);
	}
	zw->u.cur = prev;
	zw->u.committed = committed;
}

/* The source's read into the registered buffer completed. */
static void zc_read_done(struct worker *w, uint64_t ud, int res)
{
	struct zc_worker *zw = w->mode_priv;
	struct uring_ent *e = (void *)(uintptr_t)(ud & ~(uint64_t)SFS_URING_UD_MASK);
	struct zc_ent *z = &zw->z[e->index];
	bool complete;

	z->pending--;
	if (res < 0)
		z->err = res;
	else if (res == 0 && z->done < z->rq.size)
		z->err = -ENODATA; /* the memfd ended, or the server closed the connection */
	else
		z->done += (uint32_t)res;
	complete = !z->err && z->done == z->rq.size;
	if (zw->src == ZC_SRC_STREAM && (complete || z->err)) {
		struct tcpsrc_conn *c = w->src;

		if (complete) {
			c->left = 0;
			*c->source_bytes += z->rq.size;
		} else {
			tcpsrc_fail(c, "receiving into the reader's pages", z->err);
		}
		w->fs->source->end(w, complete);
		zw->stream_busy = false;
	} else if (complete) {
		w->c.source_bytes += z->rq.size;
	}
	if (complete) {
		w->c.bytes += z->rq.size;
		zc_c(w)->zc_bytes += z->rq.size;
		zc_c(w)->zc_read_bytes += z->rq.size;
		zc_c(w)->zc_replies++;
	}
	if (!z->pending) /* the cancelled commit came first */
		zc_chain_failed(w, e);
	zc_run_waiting(w);
}

/* An entry's command completed: the commit of a chain (the mode's), or a request. */
static bool zc_commit_done(struct worker *w, struct uring_ent *e, int res)
{
	struct zc_worker *zw = w->mode_priv;
	struct zc_ent *z = &zw->z[e->index];

	if (!z->pending)
		return false;
	z->pending--;
	if (res != -ECANCELED) { /* committed (e has its next request), or the end */
		z->pending = 0;
		return false;
	}
	if (!z->pending)
		zc_chain_failed(w, e);
	return true;
}

static int zc_worker_init(struct worker *w)
{
	struct zc_worker *zw = calloc(1, sizeof(*zw));
	int err;

	if (!zw)
		return -ENOMEM;
	w->mode_priv = zw;
	zw->src = zc_src_kind(w->fs);
	zw->u.on_mode_cqe = zc_read_done;
	zw->u.on_ent_cqe = zc_commit_done;
	err = sfs_uring_worker_init(w, &zw->u, ((const struct zc_opts *)w->fs->o.mode_opts)->depth,
	                            true);
	if (err)
		return err;
	zw->z = calloc(zw->u.nents, sizeof(*zw->z));
	zw->wait = calloc(zw->u.nents, sizeof(*zw->wait));
	return zw->z && zw->wait ? 0 : -ENOMEM;
}

static void zc_worker_fini(struct worker *w)
{
	struct zc_worker *zw = w->mode_priv;

	if (!zw)
		return;
	sfs_uring_worker_fini(&zw->u);
	free(zw->z);
	free(zw->wait);
	free(zw);
	w->mode_priv = NULL;
}

const struct reply_mode mode_uring_zc = {
    .name = "uring-zc",
    .help = "FUSE over io_uring with zero-copy (Linux 7.3+): each READ's data read by the "
            "source (memfd READ_FIXED, socket RECV) straight into the reader's pages, "
            "registered as a fixed buffer, linked to the commit",
    .needs = "FUSE over io_uring zero-copy: Linux 7.3+ (FUSE 7.46, io_uring buffer pools), "
             "CONFIG_FUSE_IO_URING, CAP_SYS_ADMIN, /sys/module/fuse/parameters/enable_uring = 1",
    .options = zc_options,
    .noptions = sizeof(zc_options) / sizeof(zc_options[0]),
    .opts_size = sizeof(struct zc_opts),
    .counters = zc_counters,
    .ncounters = COUNTERS_N(zc_counters),
    .send = sfs_uring_send,
    .probe = zc_probe,
    .init = zc_init,
    .open = zc_open,
    .worker_init = zc_worker_init,
    .worker_fini = zc_worker_fini,
    .reply = zc_reply,
    .run = sfs_uring_run,
};
