// SPDX-License-Identifier: MIT
/*
 * multipipe: the FUSE_OUT_SPLICES reply of the patched kernel.  The data is
 * moved into the worker's pipes (splice from the memfd or the socket: page
 * references, not bytes), then one write() hands the kernel a header and
 * the pipe fds; the kernel drains the pipes into the request's pages.
 *
 * The pool is sized in slots, not bytes: a pipe holds a fixed number of
 * buffers, one per page piece of a file (a read at an unaligned offset spans
 * one page more than its length) or one per socket-buffer fragment (1440
 * bytes behind a NIC).  --pipes auto starts with enough pipes for --max-read
 * plus one page; a reply that finds every pipe full opens another one (counted
 * in pool_grows) up to --pipes-max; only past that bound does a read fail, and
 * the message names the bound.  Each reply counts the pipes (pipes_used) and
 * slots (pipe_slots) it used.
 *
 * Two protocols (--splice-protocol): v2, the FUSE_DEV_IOC_SPLICE_REPLY ioctl
 * of kernel/patches/6.12-v2 (taken where FUSE_INIT offers FUSE_SPLICE_REPLY:
 * the reply names the expected size, at most 16 pipes), and write, the
 * FUSE_OUT_SPLICES header + fds written to /dev/fuse (the seed and fixed
 * series).  auto takes v2 where offered; the stats field splice_protocol
 * says which one ran (v2-ioctl or write).  On 7.3 (kernel/patches/7.3-v3) the
 * ioctl form is v3's: INIT bit 44 and ioctl number 4, v2's numbers collide there
 * (v3-ioctl in the stats; --splice-protocol v2 takes it too).
 *
 * It never copies silently: on a kernel without the patch splicefs refuses
 * to start (probe), and a reply the kernel rejects at run time (EMSGSIZE,
 * EBADF, ...) is drained, counted and answered with EIO.
 *
 * Testing: --fault-every N makes every Nth reply one the kernel must refuse
 * (--fault-kind ebadf: a non-pipe fd; emsgsize: one byte more than asked);
 * --fault-swap puts the data's first two 4 KiB pages in two pipes named in
 * the wrong order.  The faults act through the fault hook (faults.c: where a
 * pipe's data stops, which fds the reply names); the reply knows none of them.
 */
#include "splicefs.h"
#include "fuse_splices.h"
#include "opttab.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct multipipe_opts {
	const char *pipes; /* N or "auto" */
	uint32_t pipe_size;
	int pipes_max;
	int fault_every;
	const char *fault_kind;
	const char *splice_protocol; /* auto|v2|write; after INIT: v2-ioctl|v3-ioctl|write */
	int npipes;                  /* pipes resolved from --pipes (0: auto) */
	bool emsgsize;
};

#define O(f) offsetof(struct multipipe_opts, f)
// clang-format off
static const struct opt_desc multipipe_options[] = {
	{"pipes", 0, OPT_STR, O(pipes), "4", "N|auto",
	 "pipes each worker starts with (auto: enough slots for --max-read at an unaligned offset)"},
	{"pipe-size", 0, OPT_SIZE32, O(pipe_size), "1M", "SIZE",
	 "bytes per pipe (asked; the granted size is in the stats: pipe_size_granted)", 4096,
	 1U << 31},
	{"pipes-max", 0, OPT_INT, O(pipes_max), "256", "N",
	 "bound of the pool: pipes a worker may grow to when fragments are small", 1,
	 SFS_MAX_PIPES},
	{"fault-every", 0, OPT_INT, O(fault_every), "0", "N",
	 "testing: every Nth reply is one the kernel must refuse (see --fault-kind)", 0, 1 << 30},
	{"fault-kind", 0, OPT_STR, O(fault_kind), "ebadf", "ebadf|emsgsize",
	 "testing: ebadf names a non-pipe fd; emsgsize puts one byte more than asked"},
	{"splice-protocol", 0, OPT_STR, O(splice_protocol), "auto", "auto|v2|write",
	 "v2: the FUSE_DEV_IOC_SPLICE_REPLY ioctl (where INIT offers it); write: the "
	 "FUSE_OUT_SPLICES write(); auto: v2 where offered (stats: splice_protocol)"},
};
// clang-format on
#undef O

struct multipipe_worker {
	int npipes;
	unsigned need_slots; /* a --max-read reply at an unaligned offset */
	int warned;          /* the pool bound was reported once */
	int bound;           /* pipes a reply may use: --pipes-max, or v2's at most 16 */
	uint32_t fds[SFS_MAX_PIPES];
	struct pipe_pair pool[SFS_MAX_PIPES];
};

static int multipipe_check(const struct sfs_opts *o, char *err, size_t errlen)
{
	struct multipipe_opts *m = o->mode_opts;
	char *end;
	long n;

	if (!strcmp(m->pipes, "auto")) {
		m->npipes = 0;
	} else {
		n = strtol(m->pipes, &end, 10);
		if (*end || end == m->pipes || n < 1 || n > m->pipes_max) {
			snprintf(err, errlen,
			         "--pipes '%s': give auto or a number in [1, %d] (--pipes-max)",
			         m->pipes, m->pipes_max);
			return -1;
		}
		m->npipes = (int)n;
	}
	if (m->pipe_size % 4096) {
		snprintf(err, errlen, "--pipe-size %u is not a multiple of 4096", m->pipe_size);
		return -1;
	}
	if (strcmp(m->fault_kind, "ebadf") && strcmp(m->fault_kind, "emsgsize")) {
		snprintf(err, errlen, "--fault-kind '%s': use ebadf or emsgsize", m->fault_kind);
		return -1;
	}
	m->emsgsize = !strcmp(m->fault_kind, "emsgsize");
	if (strcmp(m->splice_protocol, "auto") && strcmp(m->splice_protocol, "v2") &&
	    strcmp(m->splice_protocol, "write")) {
		snprintf(err, errlen, "--splice-protocol '%s': use auto, v2 or write",
		         m->splice_protocol);
		return -1;
	}
	return 0;
}

/* The ioctl form: v2's, or v3's (its number on 7.3). */
static bool use_v2(const struct multipipe_opts *m)
{
	return !strcmp(m->splice_protocol, "v2-ioctl") || !strcmp(m->splice_protocol, "v3-ioctl");
}

static int splice_reply(const struct multipipe_opts *m, int fd, uint64_t unique, uint32_t size,
                        const uint32_t *fds, uint32_t nr_fds)
{
	return fuse_splice_reply_ioc(fd,
	                             !strcmp(m->splice_protocol, "v3-ioctl")
	                                 ? FUSE_DEV_IOC_SPLICE_REPLY_V3
	                                 : FUSE_DEV_IOC_SPLICE_REPLY,
	                             unique, size, fds, nr_fds);
}

/* Take the ioctl form where the kernel offers it (v3's bit on 7.3, else v2's) and the
 * option allows it. */
static void multipipe_init(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out)
{
	struct multipipe_opts *m = fs->o.mode_opts;

	if (!strcmp(m->splice_protocol, "write"))
		return;
	if ((in->flags & FUSE_INIT_EXT) && (in->flags2 & FUSE_SPLICE_REPLY_V3_FLAGS2)) {
		out->flags2 |= FUSE_SPLICE_REPLY_V3_FLAGS2;
		m->splice_protocol = "v3-ioctl";
	} else if ((in->flags & FUSE_INIT_EXT) && (in->flags2 & FUSE_SPLICE_REPLY_FLAGS2)) {
		out->flags2 |= FUSE_SPLICE_REPLY_FLAGS2;
		m->splice_protocol = "v2-ioctl";
	}
}

static int multipipe_probe(struct sfs *fs)
{
	struct multipipe_opts *m = fs->o.mode_opts;
	int r;

	if (use_v2(m))
		return 0;
	if (!strcmp(m->splice_protocol, "v2")) {
		fprintf(stderr, "splicefs: kernel does not offer FUSE_SPLICE_REPLY in FUSE_INIT "
		                "(v2: kernel/build --variant v2): use --splice-protocol "
		                "write|auto\n");
		return -EOPNOTSUPP;
	}
	r = fuse_splices_probe(fs->fuse_fd);
	if (r == 0 && fuse_splices_v2_probe(fs->fuse_fd)) {
		fprintf(stderr,
		        "splicefs: kernel has FUSE_DEV_IOC_SPLICE_REPLY (v2), which refuses "
		        "the write() form: use --splice-protocol auto|v2\n");
		return -EOPNOTSUPP;
	}

	if (r == 0) {
		fprintf(stderr,
		        "splicefs: kernel lacks FUSE_OUT_SPLICES (it answers EINVAL): build "
		        "and boot the patched kernel (kernel/build; kernel/vm IMAGE -- ...) "
		        "or pick --mode copy|splice\n");
		return -EOPNOTSUPP;
	}
	if (r < 0) {
		fprintf(stderr, "splicefs: probing FUSE_OUT_SPLICES failed: %s\n", strerror(-r));
		return r;
	}
	m->splice_protocol = "write";
	return 0;
}

/* One more pipe in the pool.  0 or -errno. */
static int pool_add(struct worker *w, struct multipipe_worker *m)
{
	struct multipipe_opts *o = w->fs->o.mode_opts;
	struct pipe_pair *p = &m->pool[m->npipes];
	int err = sfs_pipe_open(w, p, o->pipe_size);

	if (err == -EPERM && w->fs->o.user) {
		/* Unprivileged: the kernel grants at most pipe-max-size. */
		long max = sfs_pipe_max_size();

		if (max >= 4096 && (uint32_t)max < o->pipe_size)
			err = sfs_pipe_open(w, p, (size_t)max);
	}
	if (err)
		return err;
	p->counted = true;
	m->npipes++;
	return 0;
}

static int multipipe_worker_init(struct worker *w)
{
	struct multipipe_opts *o = w->fs->o.mode_opts;
	struct multipipe_worker *m = calloc(1, sizeof(*m));
	int want, err;

	if (!m)
		return -ENOMEM;
	w->mode_priv = m;
	m->need_slots = (unsigned)(w->fs->max_read / w->fs->page_size) + 1;
	err = pool_add(w, m);
	if (!err) {
		unsigned per = m->pool[0].slots ? m->pool[0].slots : 1;

		want = o->npipes ? o->npipes : (int)((m->need_slots + per - 1) / per);
		if (want > o->pipes_max)
			want = o->pipes_max;
		while (!err && m->npipes < want)
			err = pool_add(w, m);
	}
	if (err)
		fprintf(stderr,
		        "splicefs: multipipe: pipe %d of %u bytes: %s (see "
		        "/proc/sys/fs/pipe-max-size and pipe-user-pages-soft)\n",
		        m->npipes + 1, o->pipe_size, strerror(-err));
	return err;
}

static void multipipe_worker_fini(struct worker *w)
{
	struct multipipe_worker *m = w->mode_priv;

	if (!m)
		return;
	for (int i = 0; i < m->npipes; i++)
		sfs_pipe_close(&m->pool[i]);
	free(m);
	w->mode_priv = NULL;
}

static void drain_all(struct worker *w, struct multipipe_worker *m)
{
	for (int k = 0; k < m->npipes; k++)
		if (m->pool[k].used)
			pipe_drain(w, &m->pool[k]);
}

/* A reply that filled every pipe up to the bound: say so once, with the bytes per slot seen. */
static int pool_bound(struct worker *w, struct multipipe_worker *m, const struct read_req *rq,
                      size_t done)
{
	struct multipipe_opts *o = w->fs->o.mode_opts;

	if (!m->warned++)
		fprintf(stderr,
		        "splicefs[%d]: multipipe: a %u-byte reply filled %s %d pipes of %zu bytes "
		        "(%u slots each) at byte %zu (%.0f bytes per slot): raise --pipes-max or "
		        "--pipe-size\n",
		        w->id, rq->size,
		        m->bound < o->pipes_max ? "the v2 bound of" : "--pipes-max", m->bound,
		        m->pool[0].size, m->pool[0].slots, done,
		        (double)done / (m->bound * (double)m->pool[0].slots));
	return -EMSGSIZE;
}

/* Pipe i exists: it is in the pool, or the pool grows to it (pool_grows).  0 or -errno. */
static int pool_reach(struct worker *w, struct multipipe_worker *m, int i)
{
	int err;

	if (i < m->npipes)
		return 0;
	err = pool_add(w, m);
	if (err)
		fprintf(stderr, "splicefs[%d]: multipipe: growing the pool: %s\n", w->id,
		        strerror(-err));
	else
		w->c.pool_grows++;
	return err;
}

/* The data of rq into the pool, pipe after pipe: the pipes it used, or -errno. */
static int fill_pool(struct worker *w, struct multipipe_worker *m, const struct read_req *rq)
{
	size_t done = 0;
	int i = 0, used = 0, err = 0;

	while (!err && done < rq->size) {
		struct pipe_pair *p;
		size_t stop;
		ssize_t r;

		if (i >= m->bound)
			return pool_bound(w, m, rq, done);
		if ((err = pool_reach(w, m, i)))
			break;
		p = &m->pool[i];
		stop = sfs_fault_stop(w, rq, i, rq->size);
		if (done >= stop || p->full || p->used >= p->size) {
			i++;
			continue;
		}
		r = sfs_fill_pipe(
		    w, p, (stop - done) < (p->size - p->used) ? stop - done : p->size - p->used);
		if (r == -EAGAIN)
			continue; /* full in slots before bytes: p->full, next pipe */
		if (r <= 0)
			err = r ? (int)r : -EIO;
		else
			done += r, used = i + 1;
	}
	return err ? err : used;
}

/* --fault-kind emsgsize: pipe i, empty, for the extra byte (the pool may grow to it). */
static struct pipe_pair *spare_pipe(struct worker *w, int i)
{
	struct multipipe_worker *m = w->mode_priv;

	return i < m->npipes || (i < m->bound && !pool_add(w, m)) ? &m->pool[i] : NULL;
}

/* The slots of the pipes used (SFS_SLOTS_UNKNOWN when one's are not known); names their fds. */
static unsigned pool_slots(struct worker *w, struct multipipe_worker *m, int used)
{
	bool sample = sfs_slot_sample(w);
	unsigned slots = 0;

	for (int k = 0; k < used; k++) {
		unsigned s = sfs_pipe_slots(w, &m->pool[k], sample);

		m->fds[k] = (uint32_t)m->pool[k].rd;
		slots = (s == SFS_SLOTS_UNKNOWN || slots == SFS_SLOTS_UNKNOWN) ? SFS_SLOTS_UNKNOWN
		                                                               : slots + s;
	}
	return slots;
}

/* One reply naming the used pipes: the v2 ioctl, or FUSE_OUT_SPLICES written. */
static int send_pipes(struct worker *w, struct multipipe_worker *m, const struct read_req *rq,
                      int used)
{
	struct fuse_out_header oh = {sizeof(oh) + used * sizeof(uint32_t), FUSE_OUT_SPLICES,
	                             rq->unique};
	struct iovec iov[2] = {{&oh, sizeof(oh)}, {m->fds, used * sizeof(uint32_t)}};

	if (use_v2(w->fs->o.mode_opts)) /* the size the request asked, a fault's extra byte not
	                                   counted */
		return splice_reply(w->fs->o.mode_opts, w->fuse_fd, rq->unique, rq->size, m->fds,
		                    (uint32_t)used);
	return sfs_send(w, iov, 2);
}

static int multipipe_reply(struct worker *w, const struct read_req *rq)
{
	const struct data_source *src = w->fs->source;
	struct multipipe_opts *o = w->fs->o.mode_opts;
	struct multipipe_worker *m = w->mode_priv;
	const struct sfs_refuse refuse = {o->fault_every, o->emsgsize, spare_pipe};
	struct fuse_out_header oh = {sizeof(oh), 0, rq->unique};
	struct iovec iov = {&oh, sizeof(oh)};
	unsigned slots = 0;
	int used, err;

	m->bound = use_v2(o) && o->pipes_max > FUSE_SPLICE_REPLY_MAX_FDS ? FUSE_SPLICE_REPLY_MAX_FDS
	                                                                 : o->pipes_max;
	if (!rq->size) /* EOF: an empty reply needs no pipe */
		return use_v2(o) ? splice_reply(o, w->fuse_fd, rq->unique, 0, NULL, 0)
		                 : sfs_send(w, &iov, 1);
	err = src->begin(w, rq);
	used = err ? err : fill_pool(w, m, rq);
	if (used > 0) {
		slots = pool_slots(w, m, used);
		used = sfs_fault_fds(w, rq, m->fds, used, &refuse);
		err = send_pipes(w, m, rq, used);
	} else {
		err = used ? used : -EIO;
	}
	src->end(w, err == 0);
	if (err) {
		drain_all(w, m);
		return err;
	}
	for (int k = 0; k < used; k++) { /* the kernel drained them */
		struct pipe_pair *p = &m->pool[k];

		p->used = 0;
		p->taken = 0;
		p->full = false;
		p->counted = true;
	}
	w->c.pipes_used += used;
	sfs_count_spliced(w, rq->size, slots);
	return 0;
}

const struct reply_mode mode_multipipe = {
    .name = "multipipe",
    .help = "data into a pool of pipes, one reply naming them (FUSE_DEV_IOC_SPLICE_REPLY "
            "or FUSE_OUT_SPLICES: patched kernel)",
    .needs = "FUSE_SPLICE_REPLY (v2) or FUSE_OUT_SPLICES (seed/fixed): kernel/build, kernel/vm",
    .splices = true,
    .options = multipipe_options,
    .noptions = sizeof(multipipe_options) / sizeof(multipipe_options[0]),
    .opts_size = sizeof(struct multipipe_opts),
    .fault_swap = true,
    .fault_flip = true, /* sfs_fill_pipe puts the flipped byte into a pipe */
    .check = multipipe_check,
    .probe = multipipe_probe,
    .init = multipipe_init,
    .worker_init = multipipe_worker_init,
    .worker_fini = multipipe_worker_fini,
    .reply = multipipe_reply,
};
