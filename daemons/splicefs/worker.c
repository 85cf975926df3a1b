// SPDX-License-Identifier: MIT
/*
 * The worker loop every reply mode runs on.  Each worker owns its fd (the
 * session fd or a clone), its request buffer, its staging buffer, its pipes
 * and its counters: the read path takes no lock and allocates nothing.
 */
#include "splicefs.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef FUSE_DEV_IOC_CLONE
#define FUSE_DEV_IOC_CLONE _IOR(229, 0, uint32_t)
#endif

/*
 * --privilege user: this thread gives up CAP_SYS_RESOURCE and CAP_SYS_ADMIN
 * (effective, permitted and inheritable: for good).  Capabilities belong to a
 * thread, so each worker drops them itself and the main thread keeps them to
 * unmount.  Pipe sizes then obey /proc/sys/fs/pipe-max-size and
 * pipe-user-pages-*, as a normal daemon's do.
 */
int sfs_drop_privilege(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	const uint32_t drop = (1u << CAP_SYS_RESOURCE) | (1u << CAP_SYS_ADMIN); /* both < 32 */

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[0].effective &= ~drop;
	d[0].permitted &= ~drop;
	d[0].inheritable &= ~drop;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

bool sfs_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 && (d[0].effective & (1u << CAP_SYS_RESOURCE));
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

	sfs_fault_begin(w);
	err = fs->mode->reply(w, &rq);
	if (err) {
		/* The mode already undid its state (drained pipes, resynced the source). */
		w->c.replies_failed++;
		sfs_reply_err(w, rq.unique, err == -ENOENT ? ENOENT : EIO);
	}
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

/* A worker ends when the connection does (unmounted, aborted) or when told to: the
 * main thread, which sleeps in sigwaitinfo() with no periodic wake-up, learns it from a
 * SIGHUP (blocked there, so harmless once it has stopped waiting). */
static void *worker_end(struct sfs *fs)
{
	fs->stop = 1;
	pthread_kill(fs->main_thread, SIGHUP);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sfs *fs = w->fs;
	int err = 0;

	/* Set up in this thread, after the privilege drop: pipes get what it allows. */
	if (fs->o.user && (err = sfs_drop_privilege()))
		fprintf(stderr, "splicefs[%d]: dropping CAP_SYS_RESOURCE, CAP_SYS_ADMIN: %s\n",
		        w->id, strerror(-err));
	/* Root without CAP_SYS_RESOURCE (a container) is bound by pipe-max-size too. */
	w->cap_sys_resource = !err && sfs_cap_sys_resource();
	if (!err && fs->source->worker_init)
		err = fs->source->worker_init(w);
	if (!err && fs->mode->worker_init)
		err = fs->mode->worker_init(w);
	w->init_err = err;
	sem_post(&w->ready);
	if (err)
		return NULL;
	if (fs->mode->run) {
		fs->mode->run(w);
		return worker_end(fs);
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
	return worker_end(fs);
}

static int worker_init(struct sfs *fs, struct worker *w, int id)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->fs = fs;
	w->id = id;
	w->fuse_fd = fs->fuse_fd;
	w->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	w->probe.rd = w->probe.wr = -1;
	sem_init(&w->ready, 0, 0);
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
	return 0;
}

static void worker_fini(struct sfs *fs, struct worker *w)
{
	if (fs->mode->worker_fini)
		fs->mode->worker_fini(w);
	if (fs->source->worker_fini)
		fs->source->worker_fini(w);
	sfs_pipe_close(&w->probe);
	if (w->null_fd >= 0)
		close(w->null_fd);
	w->null_fd = -1;
	if (w->inbuf)
		munmap(w->inbuf, w->inbuf_size + w->buf_size);
	if (w->fuse_fd >= 0 && w->fuse_fd != fs->fuse_fd)
		close(w->fuse_fd);
	w->inbuf = NULL;
}

/*
 * SIGUSR2.  Sent by another process (kill(1), bench/run: SI_USER) it toggles
 * the pipe-slot probe (slots.c: sfs_slot_probe), so that the probe runs
 * only outside timed windows; sent by join_workers (pthread_kill: SI_TKILL)
 * it only wakes a worker out of read().  No SA_RESTART: read() returns EINTR.
 */
static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
		sfs_slot_probe = !sfs_slot_probe;
}

void sfs_signals_init(void)
{
	struct sigaction sa = {.sa_sigaction = on_usr2, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

/* Wake the first n workers out of read() and join them. */
static void join_workers(struct sfs *fs, int n)
{
	fs->stop = 1;
	for (int i = 0; i < n; i++) {
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
}

/*
 * Each worker sets itself up in its own thread (privilege drop first, then
 * the source's connection and the mode's pipes) and says how it went; a
 * failure in any stops them all.
 */
int workers_start(struct sfs *fs)
{
	sigset_t all, old;
	int i, started = 0, err = 0;

	sfs_signals_init();
	fs->workers = calloc(fs->o.threads, sizeof(*fs->workers));
	if (!fs->workers)
		return -ENOMEM;
	for (i = 0; i < fs->o.threads && !err; i++)
		err = worker_init(fs, &fs->workers[i], i);
	if (err)
		goto fail;
	sigfillset(&all);
	sigdelset(&all, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < fs->o.threads; started++) {
		err = -pthread_create(&fs->workers[started].thread, NULL, worker_main,
		                      &fs->workers[started]);
		if (err)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (int j = 0; j < started; j++) {
		while (sem_wait(&fs->workers[j].ready) < 0 && errno == EINTR)
			;
		if (!err)
			err = fs->workers[j].init_err;
	}
	if (!err)
		return 0;
	join_workers(fs, started);
fail:
	for (int j = 0; j < i; j++)
		worker_fini(fs, &fs->workers[j]);
	free(fs->workers);
	fs->workers = NULL;
	return err;
}

/* Called after the unmount: wake every worker out of read() and join it. */
void workers_stop(struct sfs *fs)
{
	if (fs->workers) {
		join_workers(fs, fs->o.threads);
		for (int i = 0; i < fs->o.threads; i++)
			worker_fini(fs, &fs->workers[i]);
	}
	if (fs->mode && fs->mode->shutdown)
		fs->mode->shutdown(fs);
}
