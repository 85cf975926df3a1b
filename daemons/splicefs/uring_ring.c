// SPDX-License-Identifier: MIT
/*
 * FUSE over io_uring, the transport the ring modes share (uring, uring-zc).
 * The kernel has one queue per possible CPU; each worker serves its share
 * (queue q goes to worker q % threads) with depth entries each, every entry
 * a header buffer and a payload buffer.  A request arrives as the completion
 * of an entry's command; the reply is written into the same entry and
 * committed with the next fetch, one io_uring_enter for both.  INIT, FORGET
 * and INTERRUPT still use /dev/fuse: worker 0 keeps a read of it armed in its
 * ring.
 *
 * Payloads: an entry's own buffer of max_read bytes (uring), or a pool per
 * queue (7.46's FUSE_IO_URING_CMD_ADD_BUFPOOL, uring-zc), from which the
 * kernel lends a buffer to each request that has payload to copy and says
 * which in the header (ring_ent_in_out.offset).  A READ zero-copied on a
 * zero-copy queue takes no buffer at all.
 *
 * The entries are registered in worker_init, before the mount is reported
 * ready: every queue then has entries, the ring is ready, and READs come
 * through it from the first one.
 */
#include "uring_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HDR_STRIDE 512 /* a pool entry's header; a page each where a payload follows */

int sfs_uring_queues(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int lo = 0, hi = 0;

	if (f) {
		if (fscanf(f, "%d-%d", &lo, &hi) < 2)
			hi = lo;
		fclose(f);
	} else {
		hi = (int)sysconf(_SC_NPROCESSORS_CONF) - 1;
	}
	return hi + 1;
}

void sfs_uring_init(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out)
{
	if ((in->flags & FUSE_INIT_EXT) && (in->flags2 & SFS_FUSE_OVER_IO_URING_FLAGS2)) {
		out->flags2 |= SFS_FUSE_OVER_IO_URING_FLAGS2;
		fs->uring = true;
	}
}

int sfs_uring_probe(struct sfs *fs)
{
	if (!fs->uring) {
		fprintf(stderr,
		        "splicefs: kernel does not offer FUSE over io_uring (needs Linux 6.14+ "
		        "with CONFIG_FUSE_IO_URING and 'echo 1 > "
		        "/sys/module/fuse/parameters/enable_uring'): pick another --mode\n");
		return -EOPNOTSUPP;
	}
	if (fs->o.threads > sfs_uring_queues()) {
		fprintf(stderr,
		        "splicefs: --threads %d is more than the %d io_uring queues (one per "
		        "CPU): use at most %d\n",
		        fs->o.threads, sfs_uring_queues(), sfs_uring_queues());
		return -EINVAL;
	}
	return 0;
}

struct io_uring_sqe *sfs_uring_sqe(struct uring_worker *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) { /* full: hand what we have to the kernel first */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static struct io_uring_sqe *cmd_sqe(struct worker *w, uint32_t op,
                                    const struct sfs_fuse_uring_cmd_req *req)
{
	struct uring_worker *u = w->mode_priv;
	struct io_uring_sqe *sqe = sfs_uring_sqe(u);

	if (!sqe)
		return NULL;
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = w->fuse_fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, req, sizeof(*req));
	return sqe;
}

struct io_uring_sqe *sfs_uring_cmd(struct worker *w, struct uring_ent *e, uint32_t op,
                                   uint64_t commit_id)
{
	struct uring_worker *u = w->mode_priv;
	struct sfs_fuse_uring_cmd_req req = {.commit_id = commit_id, .qid = e->qid};
	struct io_uring_sqe *sqe;

	if (op == SFS_FUSE_IO_URING_CMD_REGISTER && u->zero_copy)
		req.ent_zero_copy_buf_index = e->index;
	sqe = cmd_sqe(w, op, &req);
	if (!sqe)
		return NULL;
	sqe->addr = (uint64_t)(uintptr_t)e->iov;
	sqe->len = 2;
	io_uring_sqe_set_data(sqe, e);
	return sqe;
}

/* ADD_QUEUE or ADD_BUFPOOL, at set-up: submitted and waited for.  Its result. */
static int queue_cmd_sync(struct worker *w, uint32_t op, const struct sfs_fuse_uring_cmd_req *req)
{
	struct uring_worker *u = w->mode_priv;
	struct io_uring_sqe *sqe = cmd_sqe(w, op, req);
	struct io_uring_cqe *cqe;
	int r;

	if (!sqe)
		return -EBUSY;
	io_uring_sqe_set_data64(sqe, 0);
	r = io_uring_submit_and_wait(&u->ring, 1);
	if (r < 0)
		return r;
	while ((r = io_uring_wait_cqe(&u->ring, &cqe)) == -EINTR)
		;
	if (r < 0)
		return r;
	r = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return r;
}

/* Each of the worker's queues: zero-copy, with a pool of depth payload buffers. */
static int add_zero_copy_queues(struct worker *w, struct uring_worker *u, int depth)
{
	size_t pool_len = u->pool_len;

	for (int i = 0; i < u->nents; i += depth) {
		struct uring_ent *e = &u->ents[i];
		struct sfs_fuse_uring_cmd_req q = {.flags = SFS_FUSE_URING_ZERO_COPY,
		                                   .qid = e->qid};
		struct sfs_fuse_uring_cmd_req p = {.qid = e->qid};
		int r;

		p.bufpool.uaddr = (uint64_t)(uintptr_t)e->pool;
		p.bufpool.len = (uint32_t)pool_len;
		r = queue_cmd_sync(w, SFS_FUSE_IO_URING_CMD_ADD_QUEUE, &q);
		if (r) {
			fprintf(stderr,
			        "splicefs[%d]: FUSE_IO_URING_CMD_ADD_QUEUE (zero-copy) of queue "
			        "%u: %s\n",
			        w->id, e->qid, strerror(-r));
			return r;
		}
		r = queue_cmd_sync(w, SFS_FUSE_IO_URING_CMD_ADD_BUFPOOL, &p);
		if (r) {
			fprintf(stderr,
			        "splicefs[%d]: FUSE_IO_URING_CMD_ADD_BUFPOOL of queue %u (%zu "
			        "bytes): %s\n",
			        w->id, e->qid, pool_len, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Where each entry's header and payload (or pool) lie in u->mem. */
static void lay_out(struct worker *w, struct uring_worker *u, int depth)
{
	struct sfs *fs = w->fs;
	int nq = sfs_uring_queues();
	size_t page = (size_t)fs->page_size, hdrs = 0;

	if (u->zero_copy)
		hdrs = ((size_t)u->nents * HDR_STRIDE + page - 1) / page * page;
	for (int q = w->id, i = 0; q < nq; q += fs->o.threads) {
		char *pool = u->mem + hdrs + (size_t)(i / depth) * depth * u->payload_size;

		for (int d = 0; d < depth; d++, i++) {
			struct uring_ent *e = &u->ents[i];

			e->qid = (uint16_t)q;
			e->index = (uint16_t)i;
			if (u->zero_copy) {
				e->hdr = (void *)(u->mem + (size_t)i * HDR_STRIDE);
				e->pool = pool;
				e->payload = pool;
				e->iov[1] = (struct iovec){NULL, 0}; /* the pool's */
			} else {
				char *base = u->mem + (size_t)i * (page + u->payload_size);

				e->hdr = (void *)base;
				e->payload = base + page;
				e->iov[1] = (struct iovec){e->payload, u->payload_size};
			}
			e->iov[0] = (struct iovec){e->hdr, sizeof(*e->hdr)};
		}
	}
}

int sfs_uring_worker_init(struct worker *w, struct uring_worker *u, int depth, bool zero_copy)
{
	struct sfs *fs = w->fs;
	int nq = sfs_uring_queues(), n = 0, err;
	size_t page = (size_t)fs->page_size;

	w->mode_priv = u;
	u->zero_copy = zero_copy;
	for (int q = w->id; q < nq; q += fs->o.threads)
		n += depth;
	/* >= max_write too; the kernel's pool buffers are max(max_write, max_pages pages) */
	u->payload_size = fs->max_read > 65536 ? fs->max_read : 65536;
	u->payload_size = (u->payload_size + page - 1) / page * page;
	u->nents = n;
	u->pool_len = (size_t)depth * u->payload_size;
	if (zero_copy)
		u->mem_len =
		    ((size_t)n * HDR_STRIDE + page - 1) / page * page + (size_t)n * u->payload_size;
	else
		u->mem_len = (size_t)n * (page + u->payload_size);
	u->mem = mmap(NULL, u->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->ents = calloc(n, sizeof(*u->ents));
	if (u->mem == MAP_FAILED || !u->ents) {
		if (u->mem == MAP_FAILED)
			u->mem = NULL;
		return -ENOMEM;
	}
	lay_out(w, u, depth);
	/* A queue entry per ring entry, a second for a zero-copy READ, one for /dev/fuse, room. */
	err = io_uring_queue_init((unsigned)(2 * n + 4), &u->ring, IORING_SETUP_SQE128);
	if (err) {
		fprintf(stderr, "splicefs: io_uring_queue_init: %s\n", strerror(-err));
		return err;
	}
	u->ring_ok = true;
	if (zero_copy) {
		/* The kernel registers a READ's pages at its entry's slot: one slot each. */
		err = io_uring_register_buffers_sparse(&u->ring, (unsigned)n);
		if (err) {
			fprintf(stderr, "splicefs[%d]: io_uring_register_buffers_sparse(%d): %s\n",
			        w->id, n, strerror(-err));
			return err;
		}
		err = add_zero_copy_queues(w, u, depth);
		if (err)
			return err;
	}
	for (int i = 0; i < n; i++)
		if (!sfs_uring_cmd(w, &u->ents[i], SFS_FUSE_IO_URING_CMD_REGISTER, 0))
			return -EBUSY;
	err = io_uring_submit(&u->ring);
	return err < 0 ? err : 0;
}

void sfs_uring_worker_fini(struct uring_worker *u)
{
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	if (u->mem)
		munmap(u->mem, u->mem_len);
	free(u->ents);
	u->ring_ok = false;
	u->mem = NULL;
	u->ents = NULL;
}

static int arm_classic(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;
	struct io_uring_sqe *sqe = sfs_uring_sqe(u);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, w->fuse_fd, w->inbuf, (unsigned)w->inbuf_size, 0);
	io_uring_sqe_set_data64(sqe, SFS_URING_CLASSIC_READ);
	return 0;
}

/*
 * The reply of the current entry: header to in_out, arguments into the
 * payload.  1 (not ours: /dev/fuse) for a request that came by /dev/fuse.
 */
int sfs_uring_send(struct worker *w, const struct iovec *iov, int cnt)
{
	struct uring_worker *u = w->mode_priv;
	struct uring_ent *e = u ? u->cur : NULL;
	size_t off = 0;

	if (!e)
		return 1;
	if (iov[0].iov_len != sizeof(struct fuse_out_header))
		return -EINVAL;
	memcpy(e->hdr->in_out, iov[0].iov_base, iov[0].iov_len);
	for (int i = 1; i < cnt; i++) {
		if (off + iov[i].iov_len > u->payload_size)
			return -EMSGSIZE;
		if (iov[i].iov_base != e->payload + off)
			memcpy(e->payload + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	e->hdr->ring_ent_in_out.payload_sz = (uint32_t)off;
	u->committed = true;
	return sfs_uring_cmd(w, e, SFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH,
	                     e->hdr->ring_ent_in_out.commit_id)
	           ? 0
	           : -EBUSY;
}

/* Size of the opcode's first argument, which the kernel puts in op_in. */
static size_t op_in_size(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		return sizeof(struct fuse_read_in);
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		return sizeof(struct fuse_open_in);
	case FUSE_GETATTR:
		return sizeof(struct fuse_getattr_in);
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
		return sizeof(struct fuse_release_in);
	case FUSE_FLUSH:
		return sizeof(struct fuse_flush_in);
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
		return sizeof(struct fuse_getxattr_in);
	case FUSE_ACCESS:
		return sizeof(struct fuse_access_in);
	default:
		return 0; /* LOOKUP, STATFS, ...: nothing, or nothing we read */
	}
}

/* Rebuild the request as /dev/fuse would deliver it and handle it. */
static void ring_request(struct worker *w, struct uring_ent *e)
{
	struct uring_worker *u = w->mode_priv;
	const struct fuse_in_header *ih = (const void *)e->hdr->in_out;
	const struct sfs_fuse_uring_ent_in_out *io = &e->hdr->ring_ent_in_out;
	size_t a = op_in_size(ih->opcode), p = io->payload_sz, len;

	if (e->pool) { /* the buffer the kernel lent this request (none: no payload) */
		if ((size_t)io->offset + p > u->pool_len) {
			w->c.errors++;
			p = 0;
		} else {
			e->payload = e->pool + io->offset;
		}
	}
	/* Into w->buf: w->inbuf belongs to the armed /dev/fuse read. */
	if (sizeof(*ih) + a + p > w->buf_size || p > u->payload_size) {
		w->c.errors++;
		p = 0;
	}
	memcpy(w->buf, ih, sizeof(*ih));
	memcpy(w->buf + sizeof(*ih), e->hdr->op_in, a);
	memcpy(w->buf + sizeof(*ih) + a, e->payload, p);
	len = sizeof(*ih) + a + p;
	u->cur = e;
	u->committed = false;
	w->c.ring_requests++;
	worker_handle(w, w->buf, len);
	if (!u->committed) { /* no reply was sent: the entry must go back all the same */
		struct fuse_out_header oh = {sizeof(oh), -ENOSYS, ih->unique};
		struct iovec iov = {&oh, sizeof(oh)};

		sfs_uring_send(w, &iov, 1);
	}
	u->cur = NULL;
}

static void ring_cqe(struct worker *w, uint64_t ud, int res)
{
	struct uring_worker *u = w->mode_priv;
	struct sfs *fs = w->fs;
	struct uring_ent *e = (void *)(uintptr_t)ud;

	if (ud == SFS_URING_CLASSIC_READ) {
		if (res == -ENODEV) {
			fs->stop = 1;
			return;
		}
		if (res >= (int)sizeof(struct fuse_in_header))
			worker_handle(w, w->inbuf, (size_t)res);
		arm_classic(w);
	} else if ((ud & SFS_URING_UD_MASK) == SFS_URING_UD_MODE) {
		if (u->on_mode_cqe)
			u->on_mode_cqe(w, ud, res);
	} else if (u->on_ent_cqe && u->on_ent_cqe(w, e, res)) {
		/* the mode's */
	} else if (res < 0) {
		/* ENOTCONN, ECANCELED: the connection is going away */
		if (res != -EINTR)
			fs->stop = 1;
		else
			sfs_uring_cmd(w, e, SFS_FUSE_IO_URING_CMD_REGISTER, 0);
	} else {
		ring_request(w, e);
	}
}

void sfs_uring_run(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;
	struct sfs *fs = w->fs;

	if (w->id == 0)
		arm_classic(w);
	while (!fs->stop) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int r = io_uring_submit_and_wait(&u->ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			fprintf(stderr, "splicefs[%d]: io_uring: %s\n", w->id, strerror(-r));
			break;
		}
		io_uring_for_each_cqe(&u->ring, head, cqe)
		{
			seen++;
			ring_cqe(w, io_uring_cqe_get_data64(cqe), cqe->res);
		}
		io_uring_cq_advance(&u->ring, seen);
	}
}
