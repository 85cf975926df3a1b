// SPDX-License-Identifier: MIT
/*
 * tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver through the
 * client splicefs uses too (daemons/common/tcpsrc.h: spec, connect, HELLO,
 * reconnects, framing), one connection per libfuse worker thread, made on its
 * first read.
 *
 * libfuse-copy receives a read's bytes into the thread's buffer (one copy, by
 * recv) and replies with fuse_reply_buf().  libfuse-splice splices them from
 * the socket into the thread's pipe (page references, no copy) and gives
 * libfuse the pipe's read end as an fd buffer (FUSE_BUF_IS_FD, no seek):
 * libfuse splices pipe -> its own pipe (behind the header) -> /dev/fuse.  The
 * socket itself cannot be that fd buffer: libfuse makes one non-blocking
 * splice call per buffer, and a socket gives whatever has arrived, so most
 * replies would take libfuse's slowest path (a short splice: read the rest
 * into a fresh allocation and copy).  A pipe holds the whole reply first.
 *
 * When the pipe fills with small socket fragments before the reply is all in
 * (or cannot be made as large as --max-read), the bytes are read back from
 * the pipe and the rest received into the thread's buffer, and the reply
 * goes by copy: our own fallback, counted in fallback_full.
 *
 * Any doubt about the stream (I/O error, timeout, bad header) closes the
 * connection; the next read reconnects (retries with 50, 100, 200 ms ...
 * pauses), and the read that hit it fails with EIO.
 */
#include "ref.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

static struct tcpsrc tcp;

static int tcp_setup(struct ref *r)
{
	int ret = tcpsrc_setup(&tcp, "libfuse-ref", r->o.source, (uint32_t)r->o.files,
	                       r->o.file_size, r->o.granule, r->o.seed, r->o.max_read, NULL);

	return ret == -EPROTO ? -EINVAL : ret;
}

static void tcp_teardown(struct ref *r)
{
	(void)r;
}

static int tcp_thread_init(struct thr *t)
{
	tcpsrc_conn_init(&t->tcp, &tcp, t->id, &t->c.errors, &t->c.reconnects, &t->c.source_bytes);
	return tcpsrc_connect(&t->tcp);
}

static void tcp_thread_fini(struct thr *t)
{
	tcpsrc_drop(&t->tcp);
}

static int tcp_to_mem(struct thr *t, uint64_t file, uint64_t off, size_t size, const void **p)
{
	int ret = tcpsrc_begin(&t->tcp, file, off, (uint32_t)size);

	if (!ret)
		ret = tcpsrc_to_mem(&t->tcp, t->buf, size);
	if (!ret)
		*p = t->buf;
	return ret;
}

static int pipe_make(struct thr *t)
{
	long got;

	if (pipe2(t->pipe, O_CLOEXEC) < 0) {
		t->pipe[0] = t->pipe[1] = -1;
		return -errno;
	}
	got = fcntl(t->pipe[1], F_SETPIPE_SZ, (int)ref.o.max_read);
	if (got < 0)
		got = fcntl(t->pipe[1], F_GETPIPE_SZ); /* too small: replies that do not fit copy */
	t->pipe_size = got > 0 ? (size_t)got : 0;
	return 0;
}

/* Empty the pipe after a failed reply, so the next one starts clean. */
static void pipe_drain(struct thr *t)
{
	int n = 0;

	while (t->pipe[0] >= 0 && ioctl(t->pipe[0], FIONREAD, &n) == 0 && n > 0)
		if (read(t->pipe[0], t->buf,
		         (size_t)n < ref.o.max_read ? (size_t)n : ref.o.max_read) <= 0)
			break;
}

/* The pipe is full before the reply is all in: read it back, receive the rest, copy. */
static int to_buf_by_copy(struct thr *t, size_t in_pipe, size_t size, struct fuse_buf *b)
{
	size_t got = 0;
	int ret;

	while (got < in_pipe) {
		ssize_t r = read(t->pipe[0], t->buf + got, in_pipe - got);

		if (r <= 0) {
			pipe_drain(t);
			return tcpsrc_fail(&t->tcp, "reading back the pipe", r < 0 ? -errno : -EIO);
		}
		got += r;
	}
	ret = tcpsrc_to_mem(&t->tcp, t->buf + in_pipe, size - in_pipe);
	if (ret)
		return ret;
	b->flags = 0;
	b->mem = t->buf;
	b->size = size;
	return 0;
}

/* splice(socket -> pipe) until the reply is all in the pipe. */
static int tcp_to_buf(struct thr *t, uint64_t file, uint64_t off, size_t size, struct fuse_buf *b)
{
	size_t done = 0;
	int ret;

	if (t->pipe[0] < 0 && (ret = pipe_make(t))) {
		t->c.errors++;
		return ret;
	}
	ret = tcpsrc_begin(&t->tcp, file, off, (uint32_t)size);
	if (ret)
		return ret;
	if (t->pipe_size < size)
		return to_buf_by_copy(t, 0, size, b);
	while (done < size) {
		ssize_t r = tcpsrc_to_pipe(&t->tcp, t->pipe[1], size - done);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == -EAGAIN)
			return to_buf_by_copy(t, done, size, b);
		pipe_drain(t);
		return r < 0 ? (int)r : -EIO;
	}
	b->flags = FUSE_BUF_IS_FD;
	b->fd = t->pipe[0];
	b->size = size;
	return 0;
}

static void tcp_done(struct thr *t, bool ok)
{
	if (!ok)
		pipe_drain(t); /* libfuse did not take it all */
}

const struct ref_source source_tcp = {
    .entry = TCPSRC_ENTRY("libfuse thread"),
    .setup = tcp_setup,
    .teardown = tcp_teardown,
    .thread_init = tcp_thread_init,
    .thread_fini = tcp_thread_fini,
    .to_mem = tcp_to_mem,
    .to_buf = tcp_to_buf,
    .done = tcp_done,
};
