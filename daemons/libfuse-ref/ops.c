// SPDX-License-Identifier: MIT
/*
 * The filesystem as libfuse's low-level API sees it: a flat, read-only tree,
 * the root (inode 1) holding data0 .. dataN-1 (inode 2 + i), the same as
 * splicefs.  Every callback runs on one of libfuse's worker threads; READ
 * goes to the reply mode.
 *
 * Per-thread state: libfuse owns its threads, so ours is made on a thread's
 * first request (thread-local pointer, a pthread key to release it when
 * libfuse ends the thread).  Only that first request takes a lock (to add the
 * state to the list the stats writer sums); every later one finds its state
 * in the thread-local pointer.
 */
#include "ref.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define ATTR_VALID 3600.0 /* the files never change */

static __thread struct thr *self;
static pthread_key_t thr_key;
static pthread_once_t thr_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thr *thr_all;
static int thr_count;

static void thr_release(struct thr *t)
{
	if (!t->live)
		return;
	if (ref.source->thread_fini)
		ref.source->thread_fini(t);
	if (t->pipe[0] >= 0)
		close(t->pipe[0]);
	if (t->pipe[1] >= 0)
		close(t->pipe[1]);
	t->pipe[0] = t->pipe[1] = -1;
	if (t->buf)
		munmap(t->buf, ref.o.max_read);
	t->buf = NULL;
	t->live = false;
}

/* libfuse ended the thread: free its resources, keep its counters for the totals. */
static void thr_destructor(void *p)
{
	pthread_mutex_lock(&thr_lock);
	thr_release(p);
	pthread_mutex_unlock(&thr_lock);
}

static void thr_key_make(void)
{
	pthread_key_create(&thr_key, thr_destructor);
}

static struct thr *thr_new(void)
{
	struct thr *t;

	pthread_once(&thr_once, thr_key_make);
	if (posix_memalign((void **)&t, 64, sizeof(*t)))
		return NULL;
	memset(t, 0, sizeof(*t));
	t->tcp.sock = -1;
	t->pipe[0] = t->pipe[1] = -1;
	t->live = true;
	t->buf = mmap(NULL, ref.o.max_read, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (t->buf == MAP_FAILED) {
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&thr_lock);
	t->id = thr_count++;
	t->next = thr_all;
	thr_all = t;
	pthread_mutex_unlock(&thr_lock);
	/* A failed init is not fatal: the read path retries (tcp) or fails that read. */
	if (ref.source->thread_init && ref.source->thread_init(t))
		t->c.errors++;
	if (ref.mode->thread_init && ref.mode->thread_init(t))
		t->c.errors++;
	pthread_setspecific(thr_key, t);
	return t;
}

struct thr *thr_self(void)
{
	if (__builtin_expect(self != NULL, 1))
		return self;
	self = thr_new();
	return self;
}

void counters_sum(struct ref_counters *out, int *nthreads)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&thr_lock);
	for (struct thr *t = thr_all; t; t = t->next) {
		counters_merge(ref_counters, ref_ncounters, out, &t->c);
	}
	if (nthreads)
		*nthreads = thr_count;
	pthread_mutex_unlock(&thr_lock);
}

/* After the loop: release what threads still hold (the main thread's, in the single loop). */
void thr_release_all(void)
{
	pthread_mutex_lock(&thr_lock);
	for (struct thr *t = thr_all; t; t = t->next)
		thr_release(t);
	pthread_mutex_unlock(&thr_lock);
}

/* Count the request on this thread's counters; NULL when no state could be made. */
static struct thr *count_req(void)
{
	struct thr *t = thr_self();

	if (t)
		t->c.requests++;
	return t;
}

static bool is_file(fuse_ino_t ino)
{
	return ino >= 2 && ino < 2 + (fuse_ino_t)ref.o.files;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		st->st_size = 4096;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)ref.o.file_size;
		st->st_blocks = (ref.o.file_size + 511) / 512;
	}
}

static void ref_init(void *userdata, struct fuse_conn_info *conn)
{
	char why[256] = "";

	(void)userdata;
	count_req();
	/* max_pages comes from max_write in libfuse 3.14; max_read is the mount's. */
	conn->max_write = ref.o.max_read;
	conn->max_read = ref.o.max_read; /* must equal the mount's max_read option */
	conn->max_readahead = ref.o.max_read;
	/* As splicefs (libfuse's default is the kernel's: 12 and 9). */
	conn->max_background = DAEMON_MAX_BACKGROUND;
	conn->congestion_threshold = DAEMON_CONGESTION_THRESHOLD;
	if (ref.mode->init && ref.mode->init(conn, why, sizeof(why))) {
		fprintf(stderr, "libfuse-ref: mode %s cannot run here: %s\n", ref.mode->name, why);
		ref.exit_code = REF_EXIT_UNSUPPORTED;
		fuse_session_exit(ref.se);
		return;
	}
	ref_ready();
}

static void ref_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	unsigned long i;
	char *end;

	count_req();
	if (parent != FUSE_ROOT_ID || strncmp(name, "data", 4) || !name[4] ||
	    (name[4] == '0' && name[5]) || name[4] < '0' || name[4] > '9') {
		fuse_reply_err(req, ENOENT);
		return;
	}
	i = strtoul(name + 4, &end, 10);
	if (*end || i >= (unsigned long)ref.o.files) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = 2 + i;
	e.generation = 1;
	e.attr_timeout = e.entry_timeout = ATTR_VALID;
	fill_stat(e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ref_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	count_req();
	if (ino != FUSE_ROOT_ID && !is_file(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, ATTR_VALID);
}

static void ref_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	count_req();
	if (!is_file(ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->direct_io = ref.o.direct_io;
	fuse_reply_open(req, fi);
}

static void ref_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	count_req();
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_open(req, fi);
}

static void ref_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
	char buf[8192], name[32];
	size_t len = 0, max = size < sizeof(buf) ? size : sizeof(buf);
	uint64_t n = 2 + (uint64_t)ref.o.files;
	struct stat st = {0};

	(void)fi;
	count_req();
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (uint64_t i = off < 0 ? 0 : (uint64_t)off; i < n; i++) {
		size_t rec;

		if (i < 2)
			snprintf(name, sizeof(name), "%s", i ? ".." : ".");
		else
			snprintf(name, sizeof(name), "data%llu", (unsigned long long)(i - 2));
		st.st_ino = i < 2 ? FUSE_ROOT_ID : i;
		st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		rec = fuse_add_direntry(req, buf + len, max - len, name, &st, (off_t)(i + 1));
		if (rec > max - len)
			break;
		len += rec;
	}
	fuse_reply_buf(req, buf, len);
}

static void ref_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
	struct thr *t = count_req();

	(void)fi;
	if (!t) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	t->c.reads++;
	if (!is_file(ino) || off < 0) {
		t->c.errors++;
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > ref.o.max_read)
		size = ref.o.max_read;
	if ((uint64_t)off >= ref.o.file_size)
		size = 0;
	else if (size > ref.o.file_size - (uint64_t)off)
		size = ref.o.file_size - (uint64_t)off;
	if (!size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	ref.mode->read(req, t, ino - 2, (uint64_t)off, size);
}

static void ref_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	count_req();
	fuse_reply_err(req, 0);
}

static void ref_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs s = {0};

	(void)ino;
	count_req();
	s.f_bsize = s.f_frsize = 4096;
	s.f_blocks = (ref.o.file_size * ref.o.files + 4095) / 4096;
	s.f_files = 1 + ref.o.files;
	s.f_namemax = 255;
	fuse_reply_statfs(req, &s);
}

static void ref_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	count_req();
	fuse_reply_none(req);
}

const struct fuse_lowlevel_ops ref_ops = {
    .init = ref_init,
    .lookup = ref_lookup,
    .forget = ref_forget,
    .getattr = ref_getattr,
    .open = ref_open,
    .read = ref_read,
    .release = ref_release,
    .opendir = ref_opendir,
    .readdir = ref_readdir,
    .releasedir = ref_release,
    .statfs = ref_statfs,
};
