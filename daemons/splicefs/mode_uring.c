// SPDX-License-Identifier: MIT
/*
 * uring: FUSE over io_uring (Linux 6.14+), the upstream transport that
 * replaces read()/write() on /dev/fuse with ring entries.  The kernel has one
 * queue per CPU; each worker registers --uring-depth entries on its share of
 * the queues (queue q goes to worker q % threads), each entry a header buffer
 * and a payload buffer of max_read bytes.  A request arrives as a completion;
 * the reply is written into the same entry and committed with the next
 * fetch, one io_uring_enter for both.
 *
 * The data still crosses by copy: READ data is placed in the payload buffer
 * (received there directly from a socket; copied there from the memfd) and
 * the kernel copies it into the page cache or the reader's pages.  It is
 * counted as bytes_copied.  INIT, FORGET and INTERRUPT still use /dev/fuse:
 * worker 0 keeps a read of it armed in its ring.
 */
#include "splicefs.h"
#include "fuse_compat.h"
#include "opttab.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CLASSIC_READ 1 /* user_data of the /dev/fuse read; entries use their address */

struct uring_opts {
	int depth;
};

static const struct opt_desc uring_options[] = {
    {"uring-depth", 0, OPT_INT, offsetof(struct uring_opts, depth), "2", "N",
     "ring entries per queue (one queue per CPU)", 1, 1024},
};

struct uring_ent {
	struct sfs_fuse_uring_req_header *hdr;
	char *payload;
	uint16_t qid;
	struct iovec iov[2];
};

struct uring_worker {
	struct io_uring ring;
	bool ring_ok;
	struct uring_ent *ents;
	int nents;
	struct uring_ent *cur; /* the entry being answered */
	bool committed;
	size_t payload_size;
	char *mem; /* all headers and payloads, one mapping */
	size_t mem_len;
};

static int nr_queues(void)
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

static void uring_init(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out)
{
	if ((in->flags & FUSE_INIT_EXT) && (in->flags2 & SFS_FUSE_OVER_IO_URING_FLAGS2)) {
		out->flags2 |= SFS_FUSE_OVER_IO_URING_FLAGS2;
		fs->uring = true;
	}
}

static int uring_probe(struct sfs *fs)
{
	if (!fs->uring) {
		fprintf(stderr,
		        "splicefs: kernel does not offer FUSE over io_uring (needs Linux 6.14+ "
		        "with CONFIG_FUSE_IO_URING and 'echo 1 > "
		        "/sys/module/fuse/parameters/enable_uring'): pick another --mode\n");
		return -EOPNOTSUPP;
	}
	if (fs->o.threads > nr_queues()) {
		fprintf(stderr,
		        "splicefs: --threads %d is more than the %d io_uring queues (one per "
		        "CPU): use at most %d\n",
		        fs->o.threads, nr_queues(), nr_queues());
		return -EINVAL;
	}
	return 0;
}

static int uring_worker_init(struct worker *w)
{
	struct sfs *fs = w->fs;
	struct uring_worker *u = calloc(1, sizeof(*u));
	int nq = nr_queues(), n = 0, err;
	int depth = ((const struct uring_opts *)fs->o.mode_opts)->depth;
	size_t hsz = 4096; /* a page per header keeps payloads aligned */

	if (!u)
		return -ENOMEM;
	w->mode_priv = u;
	for (int q = w->id; q < nq; q += fs->o.threads)
		n += depth;
	u->payload_size = fs->max_read > 65536 ? fs->max_read : 65536; /* >= max_write too */
	u->mem_len = (size_t)n * (hsz + u->payload_size);
	u->mem = mmap(NULL, u->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->ents = calloc(n, sizeof(*u->ents));
	if (u->mem == MAP_FAILED || !u->ents) {
		if (u->mem == MAP_FAILED)
			u->mem = NULL;
		return -ENOMEM;
	}
	for (int q = w->id, i = 0; q < nq; q += fs->o.threads) {
		for (int d = 0; d < depth; d++, i++) {
			struct uring_ent *e = &u->ents[i];
			char *base = u->mem + (size_t)i * (hsz + u->payload_size);

			e->hdr = (void *)base;
			e->payload = base + hsz;
			e->qid = (uint16_t)q;
			e->iov[0] = (struct iovec){e->hdr, sizeof(*e->hdr)};
			e->iov[1] = (struct iovec){e->payload, u->payload_size};
		}
	}
	u->nents = n;
	/* A queue entry per ring entry, one for the /dev/fuse read, and room. */
	err = io_uring_queue_init((unsigned)(2 * n + 4), &u->ring, IORING_SETUP_SQE128);
	if (err) {
		fprintf(stderr, "splicefs: io_uring_queue_init: %s\n", strerror(-err));
		return err;
	}
	u->ring_ok = true;
	return 0;
}

static void uring_worker_fini(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;

	if (!u)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	if (u->mem)
		munmap(u->mem, u->mem_len);
	free(u->ents);
	free(u);
	w->mode_priv = NULL;
}

static struct io_uring_sqe *get_sqe(struct uring_worker *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) { /* full: hand what we have to the kernel first */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static int queue_cmd(struct worker *w, struct uring_ent *e, uint32_t op, uint64_t commit_id)
{
	struct uring_worker *u = w->mode_priv;
	struct io_uring_sqe *sqe = get_sqe(u);
	struct sfs_fuse_uring_cmd_req req = {.commit_id = commit_id, .qid = e->qid};

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = w->fuse_fd;
	sqe->cmd_op = op;
	sqe->addr = (uint64_t)(uintptr_t)e->iov;
	sqe->len = 2;
	memcpy(sqe->cmd, &req, sizeof(req));
	io_uring_sqe_set_data(sqe, e);
	return 0;
}

static int arm_classic(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, w->fuse_fd, w->inbuf, (unsigned)w->inbuf_size, 0);
	io_uring_sqe_set_data64(sqe, CLASSIC_READ);
	return 0;
}

/*
 * The reply of the current entry: header to in_out, arguments into the
 * payload.  1 (not ours: /dev/fuse) for a request that came by /dev/fuse.
 */
static int ring_send(struct worker *w, const struct iovec *iov, int cnt)
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
	return queue_cmd(w, e, SFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH,
	                 e->hdr->ring_ent_in_out.commit_id);
}

/* READ data goes straight into the entry's payload (no staging buffer). */
static int uring_reply(struct worker *w, const struct read_req *rq)
{
	struct uring_worker *u = w->mode_priv;

	if (!u || !u->cur) /* came by /dev/fuse (before the ring was ready) */
		return reply_by_copy(w, rq);
	return reply_copy_into(w, rq, u->cur->payload); /* sent by ring_send */
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
	size_t a = op_in_size(ih->opcode), p = e->hdr->ring_ent_in_out.payload_sz, len;

	/* Into w->buf: w->inbuf belongs to the armed /dev/fuse read. */
	if (sizeof(*ih) + a + p > w->buf_size) {
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

		ring_send(w, &iov, 1);
	}
	u->cur = NULL;
}

static void uring_run(struct worker *w)
{
	struct uring_worker *u = w->mode_priv;
	struct sfs *fs = w->fs;

	for (int i = 0; i < u->nents; i++)
		queue_cmd(w, &u->ents[i], SFS_FUSE_IO_URING_CMD_REGISTER, 0);
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
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			seen++;
			if (ud == CLASSIC_READ) {
				if (res == -ENODEV) {
					fs->stop = 1;
					continue;
				}
				if (res >= (int)sizeof(struct fuse_in_header))
					worker_handle(w, w->inbuf, (size_t)res);
				arm_classic(w);
			} else if (res < 0) {
				/* ENOTCONN, ECANCELED: the connection is going away */
				if (res != -EINTR)
					fs->stop = 1;
				else
					queue_cmd(w, (void *)(uintptr_t)ud,
					          SFS_FUSE_IO_URING_CMD_REGISTER, 0);
			} else {
				ring_request(w, (void *)(uintptr_t)ud);
			}
		}
		io_uring_cq_advance(&u->ring, seen);
	}
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
    .send = ring_send,
    .probe = uring_probe,
    .init = uring_init,
    .worker_init = uring_worker_init,
    .worker_fini = uring_worker_fini,
    .reply = uring_reply,
    .run = uring_run,
};
