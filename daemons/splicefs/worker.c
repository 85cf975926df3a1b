// SPDX-License-Identifier: MIT
/*
 * The worker loop every reply mode runs on.  Each worker owns its fd (the
 * session fd or a clone), its request buffer, its staging buffer, its pipes
 * and its counters: the read path takes no lock and allocates nothing.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef FUSE_DEV_IOC_CLONE
#define FUSE_DEV_IOC_CLONE _IOR(229, 0, uint32_t)
#endif

int pipes_open(struct worker *w, int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		int fd[2];
		long got;

		if (pipe2(fd, O_CLOEXEC) < 0)
			return -errno;
		w->pipes[i] = (struct pipe_pair){fd[0], fd[1], 0, 0};
		w->npipes = i + 1;
		got = size ? fcntl(fd[1], F_SETPIPE_SZ, (int)size) : fcntl(fd[1], F_GETPIPE_SZ);
		if (got < 0)
			return -errno;
		w->pipes[i].size = (size_t)got;
	}
	return 0;
}

void pipes_close(struct worker *w)
{
	for (int i = 0; i < w->npipes; i++) {
		close(w->pipes[i].rd);
		close(w->pipes[i].wr);
	}
	w->npipes = 0;
}

/* Empty a pipe after a failed reply, so the next reply starts clean. */
int pipe_drain(struct pipe_pair *p)
{
	char sink[65536];
	int fl = fcntl(p->rd, F_GETFL);

	fcntl(p->rd, F_SETFL, fl | O_NONBLOCK);
	while (read(p->rd, sink, sizeof(sink)) > 0)
		;
	fcntl(p->rd, F_SETFL, fl);
	p->used = 0;
	return 0;
}

static void handle_read(struct worker *w, const struct fuse_in_header *ih, size_t len)
{
	const struct fuse_read_in *in = (const void *)(ih + 1);
	struct sfs *fs = w->fs;
	struct read_req rq;
	int err;

	w->c.reads++;
	if (len < sizeof(*ih) + sizeof(*in) || ih->nodeid < 2 ||
	    ih->nodeid >= 2 + (uint64_t)fs->o.files) {
		w->c.errors++;
		sfs_reply_err(w, ih->unique, EINVAL);
		return;
	}
	rq.unique = ih->unique;
	rq.file = ih->nodeid - 2;
	rq.off = in->offset;
	rq.size = in->size;
	if (rq.size > w->buf_size)
		rq.size = w->buf_size;
	if (rq.off >= fs->o.file_size)
		rq.size = 0;
	else if (rq.size > fs->o.file_size - rq.off)
		rq.size = fs->o.file_size - rq.off;

	err = fs->mode->reply(w, &rq);
	if (err) {
		/* The mode already undid its state (drained pipes, resynced the source). */
		w->c.replies_failed++;
		sfs_reply_err(w, rq.unique, err == -ENOENT ? ENOENT : EIO);
	}
}

int dev_send(struct worker *w, const struct iovec *iov, int cnt)
{
	return fuse_send(w->fuse_fd, iov, cnt);
}

/* One request, whichever way it came: READ goes to the reply mode. */
void worker_handle(struct worker *w, const void *req, size_t len)
{
	w->c.requests++;
	if (((const struct fuse_in_header *)req)->opcode == FUSE_READ)
		handle_read(w, req, len);
	else
		proto_dispatch(w, req, len);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sfs *fs = w->fs;

	if (fs->mode->run) {
		fs->mode->run(w);
		fs->stop = 1;
		return NULL;
	}
	while (!fs->stop) {
		ssize_t n = read(w->fuse_fd, w->inbuf, w->inbuf_size);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ENOENT)
				continue; /* interrupted, or the request was aborted */
			if (errno == ENODEV)
				break; /* unmounted */
			fprintf(stderr, "splicefs[%d]: reading /dev/fuse: %s\n", w->id,
			        strerror(errno));
			break;
		}
		if ((size_t)n < sizeof(struct fuse_in_header))
			continue;
		worker_handle(w, w->inbuf, n);
	}
	fs->stop = 1;
	return NULL;
}

static int worker_init(struct sfs *fs, struct worker *w, int id)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->fs = fs;
	w->id = id;
	w->sock = -1;
	w->fuse_fd = fs->fuse_fd;
	w->send = dev_send;
	if (fs->o.clone_fd && id > 0) {
		uint32_t master = fs->fuse_fd;

		w->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
		if (w->fuse_fd < 0 || ioctl(w->fuse_fd, FUSE_DEV_IOC_CLONE, &master) < 0) {
			err = -errno;
			fprintf(stderr, "splicefs: cloning /dev/fuse for worker %d: %s\n", id,
			        strerror(-err));
			return err;
		}
	}
	w->inbuf_size =
	    64 * 1024 + 4096 + fs->o.max_read; /* max_write + headers, READs are small */
	w->buf_size = fs->o.max_read;
	w->inbuf = mmap(NULL, w->inbuf_size + w->buf_size, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (w->inbuf == MAP_FAILED) {
		w->inbuf = NULL;
		return -ENOMEM;
	}
	w->buf = w->inbuf + w->inbuf_size;
	if (fs->source->worker_init && (err = fs->source->worker_init(w)))
		return err;
	if (fs->mode->worker_init && (err = fs->mode->worker_init(w)))
		return err;
	return 0;
}

static void worker_fini(struct sfs *fs, struct worker *w)
{
	if (fs->mode->worker_fini)
		fs->mode->worker_fini(w);
	if (fs->source->worker_fini)
		fs->source->worker_fini(w);
	pipes_close(w);
	if (w->inbuf)
		munmap(w->inbuf, w->inbuf_size + w->buf_size);
	if (w->fuse_fd >= 0 && w->fuse_fd != fs->fuse_fd)
		close(w->fuse_fd);
	w->inbuf = NULL;
}

static void wake(int sig)
{
	(void)sig;
}

int workers_start(struct sfs *fs)
{
	struct sigaction sa = {.sa_handler = wake}; /* no SA_RESTART: read() returns EINTR */
	sigset_t all, old;
	int i, err = 0;

	sigaction(SIGUSR2, &sa, NULL);
	fs->workers = calloc(fs->o.threads, sizeof(*fs->workers));
	if (!fs->workers)
		return -ENOMEM;
	for (i = 0; i < fs->o.threads; i++) {
		err = worker_init(fs, &fs->workers[i], i);
		if (err)
			goto fail;
	}
	sigfillset(&all);
	sigdelset(&all, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < fs->o.threads; i++) {
		err = -pthread_create(&fs->workers[i].thread, NULL, worker_main, &fs->workers[i]);
		if (err) {
			fs->stop = 1;
			while (--i >= 0) {
				pthread_kill(fs->workers[i].thread, SIGUSR2);
				pthread_join(fs->workers[i].thread, NULL);
			}
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			i = fs->o.threads;
			goto fail;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
fail:
	for (int j = 0; j < fs->o.threads && j <= i; j++)
		worker_fini(fs, &fs->workers[j]);
	free(fs->workers);
	fs->workers = NULL;
	return err;
}

/* Called after the unmount: wake every worker out of read() and join it. */
void workers_stop(struct sfs *fs)
{
	if (!fs->workers)
		return;
	fs->stop = 1;
	for (int i = 0; i < fs->o.threads; i++) {
		/* A worker between its stop check and read() misses one signal: repeat. */
		do {
			struct timespec ts;

			pthread_kill(fs->workers[i].thread, SIGUSR2);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(fs->workers[i].thread, NULL, &ts) == 0)
				break;
		} while (1);
	}
	for (int i = 0; i < fs->o.threads; i++)
		worker_fini(fs, &fs->workers[i]);
}
