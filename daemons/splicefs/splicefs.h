/* SPDX-License-Identifier: MIT */
/*
 * splicefs: a read-only FUSE filesystem that serves pattern files (pattern.h)
 * and answers FUSE_READ in one of several reply modes.
 *
 * Shared by every mode: mount, the FUSE protocol (INIT, LOOKUP, GETATTR, OPEN,
 * ...), the worker loop and the data source.  A reply mode (mode_*.c) is a
 * small table of operations, a data source (source_*.c) another one; they meet
 * only in struct worker, which each thread owns: its buffers, pipes and
 * counters are never shared, so the read path takes no lock and allocates
 * nothing.
 */
#ifndef SPLICEFS_H
#define SPLICEFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pattern.h"

#define SFS_MAX_PIPES 64

/* Exit status when the mode cannot run here (kernel lacks it, source does not fit). */
#define SFS_EXIT_UNSUPPORTED 3

struct worker;
struct sfs;
struct fuse_init_in;
struct fuse_init_out;
struct fuse_open_out;

/* One FUSE_READ, already validated and clamped to the file's size. */
struct read_req {
	uint64_t unique;
	uint64_t file; /* file index */
	uint64_t off;
	uint32_t size; /* bytes to reply, 0 at EOF */
};

/*
 * Where the bytes come from.  A read is a stream: begin() announces it, then
 * the mode takes the bytes in order with to_mem() or to_pipe() (never both in
 * one read), and end() closes it.
 */
struct data_source {
	const char *name;
	const char *help;
	int (*setup)(struct sfs *fs); /* once, before mount */
	void (*teardown)(struct sfs *fs);
	int (*worker_init)(struct worker *w); /* per worker: connections, buffers */
	void (*worker_fini)(struct worker *w);
	int (*begin)(struct worker *w, const struct read_req *rq);
	/*
	 * Make the next n bytes readable at *p until end(): either receive them
	 * into dst (n bytes of room; *p = dst) or point *p at the source's own
	 * memory (no copy).
	 */
	int (*to_mem)(struct worker *w, void *dst, size_t n, const void **p);
	/* Move up to n of the next bytes into pipe_wr; returns bytes moved or -errno. */
	ssize_t (*to_pipe)(struct worker *w, int pipe_wr, size_t n);
	/* After the reply: ok = false when the read failed part way (drain, resync). */
	void (*end)(struct worker *w, bool ok);
	/* Optional: an fd holding file `file` at offset 0 (passthrough's backing file). */
	int (*file_fd)(struct sfs *fs, uint64_t file);
};

/*
 * How the reply reaches /dev/fuse.  reply() writes the whole reply for rq
 * (header + data, or an error reply) on w->fuse_fd; returns 0, or -errno when
 * no reply could be written (the loop then answers the request with EIO).
 */
struct reply_mode {
	const char *name;
	const char *help;
	int (*probe)(struct sfs *fs); /* after mount+INIT: can this kernel do it? */
	int (*worker_init)(struct worker *w);
	void (*worker_fini)(struct worker *w);
	int (*reply)(struct worker *w, const struct read_req *rq);
	/* Optional: adjust the INIT reply (flags the mode needs). */
	void (*init)(struct sfs *fs, const struct fuse_init_in *in, struct fuse_init_out *out);
	/* Optional: adjust an OPEN reply for file `file`; -errno fails the open. */
	int (*open)(struct worker *w, uint64_t file, struct fuse_open_out *out);
	/*
	 * Optional: a transport of its own (FUSE over io_uring).  The worker
	 * thread runs this instead of the read(/dev/fuse) loop; it gets requests
	 * its own way and dispatches them with worker_handle().
	 */
	void (*run)(struct worker *w);
};

/* Per-worker counters: written by their worker only, summed by readers. */
struct counters {
	uint64_t requests;       /* every request read from /dev/fuse */
	uint64_t reads;          /* FUSE_READ requests */
	uint64_t bytes;          /* data bytes replied to READs */
	uint64_t bytes_spliced;  /* ... of which went to the kernel through a pipe */
	uint64_t bytes_copied;   /* ... of which were copied by write/writev */
	uint64_t fallbacks;      /* replies a splicing mode sent by copy instead */
	uint64_t pipes_used;     /* sum of pipes per multipipe reply */
	uint64_t replies_failed; /* replies that failed and were answered with an error */
	uint64_t errors;         /* other errors (bad requests, source failures) */
	uint64_t source_bytes;   /* bytes taken from the data source */
	uint64_t reconnects;     /* data-source connections re-established */
	uint64_t ring_requests;  /* requests that came through io_uring entries */
} __attribute__((aligned(64)));

struct pipe_pair {
	int rd, wr;
	size_t size; /* capacity in bytes after F_SETPIPE_SZ */
	size_t used; /* bytes currently in the pipe */
};

struct worker {
	struct sfs *fs;
	int id;
	int fuse_fd; /* the session fd, or this worker's clone */
	char *inbuf; /* one request, up to max_write + headers */
	size_t inbuf_size;
	char *buf; /* data staging buffer of max_read bytes (copy-from-socket) */
	size_t buf_size;
	struct pipe_pair pipes[SFS_MAX_PIPES];
	int npipes;
	bool pipe_can_grow; /* splice mode: libfuse's grow-once rule */
	int sock;           /* data source connection, -1 if none */
	void *src;          /* data source private state */
	struct counters c;
	pthread_t thread;
	/* How replies leave: writev(/dev/fuse) by default; a ring entry for io_uring. */
	int (*send)(struct worker *w, const struct iovec *iov, int cnt);
	void *mode_priv; /* reply mode's per-worker state */
};

/* Options, declared once in options.c's table (which also prints --help). */
struct sfs_opts {
	const char *mountpoint;
	const char *mode;
	const char *source;
	int threads;
	bool clone_fd;
	uint64_t file_size;
	int files;
	uint32_t max_read; /* bytes per FUSE_READ (max_pages = max_read / 4096) */
	bool direct_io;
	uint64_t readahead;
	uint32_t pipe_size; /* bytes per pipe */
	int pipes;          /* pipes per worker (multipipe) */
	uint64_t seed;
	uint64_t granule;
	const char *stats_file;
	const char *pid_file;
	const char *log_file;
	double stats_interval;
	bool foreground;
	bool probe_only;
	bool debug;
	int fault_every; /* testing: inject a bad fd into every Nth multipipe reply */
	int uring_depth; /* io_uring: ring entries per queue */
	bool allow_other;
	bool help;
	bool version;
};

struct sfs {
	struct sfs_opts o;
	struct pattern pat;
	const struct reply_mode *mode;
	const struct data_source *source;
	void *src; /* data source shared state */
	int fuse_fd;
	struct fuse_session *se;
	struct worker *workers;
	uint32_t proto_minor;
	uint32_t max_read; /* negotiated */
	long page_size;
	volatile int stop;
	bool passthrough;          /* INIT enabled FUSE_PASSTHROUGH */
	bool uring;                /* INIT enabled FUSE_OVER_IO_URING */
	int *backing_ids;          /* passthrough: per file, 0 until registered */
	pthread_mutex_t open_lock; /* passthrough registration (open path, not read) */
};

/* Registries */
extern const struct reply_mode mode_copy, mode_splice, mode_multipipe, mode_passthrough, mode_uring;
extern const struct data_source source_mem, source_tcp;
extern const struct reply_mode *const reply_modes[];   /* NULL-terminated */
extern const struct data_source *const data_sources[]; /* NULL-terminated */
const struct reply_mode *mode_find(const char *name);
const struct data_source *source_find(const char *spec);

/* options.c */
int sfs_parse_opts(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen);
void sfs_usage(FILE *f, const char *prog);

/* proto.c: everything but READ */
int proto_handle_init(struct sfs *fs, char *buf, size_t bufsize);
void proto_dispatch(struct worker *w, const void *req, size_t len);
int sfs_reply_err(struct worker *w, uint64_t unique, int err);
int fuse_send(int fd, const struct iovec *iov, int cnt);

/* mode_copy.c: the copy reply, also the splicing modes' counted fallback */
int reply_by_copy(struct worker *w, const struct read_req *rq);
int reply_copy_into(struct worker *w, const struct read_req *rq, void *dst);

/* worker.c */
int workers_start(struct sfs *fs);
void worker_handle(struct worker *w, const void *req, size_t len);
int dev_send(struct worker *w, const struct iovec *iov, int cnt);
void workers_stop(struct sfs *fs);
int pipes_open(struct worker *w, int n, size_t size);
void pipes_close(struct worker *w);
int pipe_drain(struct pipe_pair *p);

/* stats.c */
void counters_sum(const struct sfs *fs, struct counters *out);
int stats_write(const struct sfs *fs, const char *path);
int stats_json(const struct sfs *fs, char *buf, size_t len);

#endif
