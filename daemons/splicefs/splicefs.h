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

#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "counters.h"
#include "daemon_list.h"
#include "daemon_opts.h"
#include "pattern.h"

/* Most pipes one multipipe reply may name (the fixed kernel takes up to 1024). */
#define SFS_MAX_PIPES 256

/* Exit status when the mode cannot run here (kernel lacks it, source does not fit). */
#define SFS_EXIT_UNSUPPORTED 3

struct worker;
struct sfs;
struct opt_desc;
struct sfs_opts;
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
 *
 * A source owns its options (.options, parsed from the spec's ?key=value
 * part into a block of .opts_size bytes: fs->o.src_opts), its shared state
 * (fs->src, made by setup) and its per-worker state (w->src, made by
 * worker_init).
 */
struct data_source {
	DAEMON_ENTRY; /* name, spec ("mem", "tcp://HOST:PORT"), help, options */
	size_t opts_size;
	/* Check the spec and fill opts (defaults applied); -1 with one line in err. */
	int (*parse)(const char *spec, void *opts, char *err, size_t errlen);
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
	/*
	 * Move up to n of the next bytes into pipe_wr; returns bytes moved or
	 * -errno (-EAGAIN: the pipe has no free slot).  *slots: the pipe slots the
	 * bytes took when the source knows (a memfd: one per page piece), else
	 * left alone (a socket's fragments: the caller counts them).
	 */
	ssize_t (*to_pipe)(struct worker *w, int pipe_wr, size_t n, unsigned *slots);
	/* After the reply: ok = false when the read failed part way (drain, resync). */
	void (*end)(struct worker *w, bool ok);
	/* Optional: an fd holding file `file` at offset 0 (passthrough's backing file). */
	int (*file_fd)(struct sfs *fs, uint64_t file);
};

/*
 * How the reply reaches /dev/fuse.  reply() writes the whole reply for rq
 * (header + data, or an error reply) through send.c; returns 0, or -errno
 * when no reply could be written (the loop then answers the request with EIO).
 *
 * A mode owns its options (.options: command-line options, parsed into a
 * block of .opts_size bytes, fs->o.mode_opts), its shared state (fs->mode_data)
 * and its per-worker state (w->mode_priv: pipes, rings, ...).
 */
struct reply_mode {
	DAEMON_ENTRY; /* name, help, needs (what the kernel must have), options */
	size_t opts_size;
	bool fault_swap; /* implements --fault-swap */
	bool fault_flip; /* implements --fault-flip-offset (its data passes reply_copy_send or
	                    sfs_fill_pipe) */
	/* After parsing: check the mode's options; -1 with one line in err. */
	int (*check)(const struct sfs_opts *o, char *err, size_t errlen);
	int (*probe)(struct sfs *fs); /* after mount+INIT: can this kernel do it? */
	/* Per worker, in the worker's own thread (after --privilege took effect). */
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
	/*
	 * Optional: where a reply of the request being handled goes when it is
	 * not /dev/fuse (a ring entry).  Return 1 when it did not take the reply:
	 * send.c then writes it to /dev/fuse.
	 */
	int (*send)(struct worker *w, const struct iovec *iov, int cnt);
	void (*shutdown)(struct sfs *fs); /* optional: free fs->mode_data */
};

/*
 * The counters, one line each (counters.h): per worker, written by their
 * worker only, summed by readers; the stats file and --list name them in this
 * order.  C(name, how it adds up, help); RATIO(name, num, den, decimals, help).
 */
// clang-format off
#define SFS_COUNTERS(C, RATIO) \
	C(requests, SUM, "every request read from /dev/fuse") \
	C(reads, SUM, "FUSE_READ requests") \
	C(bytes, SUM, "data bytes replied to READs") \
	C(bytes_spliced, SUM, "... of which went to the kernel through a pipe") \
	C(bytes_copied, SUM, "... of which were copied by write/writev") \
	C(replies_spliced, SUM, "replies that went through pipes") \
	C(pipe_slots, SUM, "pipe slots the replies with a slot count used") \
	C(slot_bytes, SUM, "bytes of those replies") \
	C(fallback_small, SUM, "splicing mode, copied: reply too small to splice") \
	C(fallback_grow, SUM, "splicing mode, copied: the pipe could not grow to fit") \
	C(fallback_full, SUM, "splicing mode, copied: the pipe was full of fragments before the reply fit") \
	C(fallback_error, SUM, "splicing mode, copied: a splice call failed") \
	C(fallback_other, SUM, "splicing mode, copied: a READ reached passthrough") \
	C(pipes_used, SUM, "sum of pipes per multipipe reply") \
	C(pool_grows, SUM, "multipipe: pipes added to the pool") \
	C(faults_injected, SUM, "replies a --fault-* option made wrong on purpose") \
	C(replies_failed, SUM, "replies that failed and were answered with an error") \
	C(errors, SUM, "other errors (bad requests, source failures)") \
	C(source_bytes, SUM, "bytes taken from the data source") \
	C(reconnects, SUM, "data-source connections re-established") \
	C(ring_requests, SUM, "requests that came through io_uring entries") \
	C(fallbacks, SUM, "replies a splicing mode copied instead (the fallback_* together)") \
	C(pipe_size_granted, MAX, "largest pipe a worker was granted, bytes") \
	RATIO(bytes_per_slot, slot_bytes, pipe_slots, 1, "bytes per pipe slot, over the replies whose slots were counted") \
	RATIO(pipes_per_reply, pipes_used, replies_spliced, 3, "pipes per spliced reply")
// clang-format on

struct counters {
	COUNTERS_STRUCT(SFS_COUNTERS)
} __attribute__((aligned(64)));

/* A mode's own counters (its .counters table) live in w->mode_c: this many at most. */
#define SFS_MODE_COUNTERS 8

enum fallback_reason { FB_SMALL, FB_GROW, FB_FULL, FB_ERROR, FB_OTHER };

struct pipe_pair {
	int rd, wr;
	size_t size;    /* capacity in bytes (what F_SETPIPE_SZ granted) */
	unsigned slots; /* capacity in slots (size / page size) */
	size_t used;    /* bytes currently in the pipe */
	unsigned taken; /* slots currently in use, when known */
	bool full;      /* no free slot left (a splice into it found none) */
	bool counted;   /* taken is exact (every fill said its slots) */
};

struct worker {
	struct sfs *fs;
	int id;
	int fuse_fd; /* the session fd, or this worker's clone */
	int null_fd; /* /dev/null: pipes are emptied into it */
	char *inbuf; /* one request, up to max_write + headers */
	size_t inbuf_size;
	char *buf; /* data staging buffer of max_read bytes (copy-from-socket) */
	size_t buf_size;
	struct pipe_pair probe; /* slot counting (slots.c), made on first use */
	/* --fault-flip-offset, per reply (faults.c; reset at its begin point): */
	uint64_t flip_pos;       /* data bytes sfs_fill_pipe took from the source so far */
	bool flip_done;          /* this reply's byte was flipped */
	bool flip_held;          /* the flipped byte is taken from the source, not yet in a pipe */
	unsigned char flip_byte; /* the flipped byte (vmspliced or in an iovec: stays put) */
	bool swap_done;          /* --fault-swap: this reply's pages were swapped in a pipe */
	void *src;               /* data source's per-worker state */
	void *mode_priv;         /* reply mode's per-worker state */
	struct counters c;
	uint64_t mode_c[SFS_MODE_COUNTERS]; /* the mode's own counters (reply_mode.counters) */
	pthread_t thread;
	int init_err;          /* worker_init's result, from the worker's thread */
	sem_t ready;           /* posted once init_err is set */
	bool cap_sys_resource; /* may grow pipes past pipe-max-size (set in worker_init) */
};

/* Options, declared once in tables (options.c's, and each mode's and source's). */
struct sfs_opts {
	DAEMON_OPTS_FIELDS; /* max_read: max_pages = max_read / 4096 */
	bool probe_only;
	const char *privilege;      /* "root" or "user" */
	bool user;                  /* --privilege user */
	bool fault_swap;            /* testing: misplace the data of every reply >= 8 KiB */
	bool slot_probe;            /* --slot-probe: the probe on from the start */
	const char *fault_flip_arg; /* testing: --fault-flip-offset as given (NULL: off) */
	bool fault_flip;            /* ... given: every reply longer than flip_offset ... */
	uint64_t flip_offset;       /* ... has its data byte at this offset XORed with 0xff */
	void *mode_opts;            /* the chosen mode's options (its .options table) */
	void *src_opts;             /* the chosen source's options */
};

struct sfs {
	struct sfs_opts o;
	struct pattern pat;
	const struct reply_mode *mode;
	const struct data_source *source;
	void *src;       /* data source shared state */
	void *mode_data; /* reply mode shared state */
	int fuse_fd;
	struct fuse_session *se;
	struct worker *workers;
	uint32_t proto_minor;
	uint32_t max_read; /* negotiated */
	long page_size;
	volatile int stop;
	pthread_t main_thread; /* waits for signals; a worker that ends wakes it (SIGHUP) */
	bool passthrough;      /* INIT enabled FUSE_PASSTHROUGH */
	bool uring;            /* INIT enabled FUSE_OVER_IO_URING */
};

/* registry.c: the one list of modes and sources */
extern const struct reply_mode mode_copy, mode_splice, mode_multipipe, mode_passthrough, mode_uring,
    mode_uring_zc;
extern const struct data_source source_mem, source_tcp;
#define SFS_MAX_MODES 16
extern const struct reply_mode *reply_modes[];         /* NULL-terminated */
extern const struct data_source *const data_sources[]; /* NULL-terminated */
/* Test builds only: add a mode to the list (from a constructor, before main). */
void sfs_register_mode(const struct reply_mode *m);
const struct reply_mode *mode_find(const char *name);
const struct data_source *source_find(const char *spec);
/* "copy, splice, ..." into buf */
const char *mode_names(char *buf, size_t len);
const char *source_names(char *buf, size_t len);
/* --list: every mode and source, their options, as one JSON object */
void sfs_list(FILE *f);

/* options.c */
int sfs_parse_opts(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen);
void sfs_free_opts(struct sfs_opts *o);
void sfs_usage(FILE *f, const char *prog);

/* proto.c: everything but READ */
int proto_handle_init(struct sfs *fs, char *buf, size_t bufsize);
void proto_dispatch(struct worker *w, const void *req, size_t len);
int sfs_reply_err(struct worker *w, uint64_t unique, int err);

/* send.c: every reply leaves through here */
int fuse_send(int fd, const struct iovec *iov, int cnt);
int sfs_send(struct worker *w, const struct iovec *iov, int cnt);
int sfs_send_pipe(struct worker *w, struct pipe_pair *p, size_t len);

/* pipe.c: the pipes, opened, resized, filled, drained */
int sfs_pipe_open(struct worker *w, struct pipe_pair *p, size_t size);
void sfs_pipe_close(struct pipe_pair *p);
int sfs_pipe_resize(struct worker *w, struct pipe_pair *p, size_t size);
int pipe_drain(struct worker *w, struct pipe_pair *p);
long sfs_pipe_max_size(void);
/*
 * Move up to n source bytes into p; updates used/taken/full.  Bytes, or -errno.
 * A fault may stop it short or put bytes of its own in (faults.c: fill).
 */
ssize_t sfs_fill_pipe(struct worker *w, struct pipe_pair *p, size_t n);

/* slots.c: the pipe slots a reply used */
int sfs_pipe_count_slots(struct worker *w, struct pipe_pair *p);
/*
 * The slot probe (3 syscalls a reply whose slots are not known otherwise) runs
 * only while sfs_slot_probe is set: off by default (timed windows stay free of
 * it), on with --slot-probe, toggled by SIGUSR2 from another process (bench/run:
 * around its untimed sbcheck pass).
 */
extern volatile sig_atomic_t sfs_slot_probe;
#define SFS_SLOTS_UNKNOWN UINT_MAX
bool sfs_slot_sample(struct worker *w);
unsigned sfs_pipe_slots(struct worker *w, struct pipe_pair *p, bool sample);

/*
 * faults.c: fault injection (testing) behind one hook, called at defined
 * points of every mode; the faults switched on act there (see faults.c).
 */
struct sfs_refuse { /* multipipe's --fault-every N, --fault-kind */
	int every;
	bool emsgsize;
	/* pipe i, empty, for the extra byte (NULL: none to be had) */
	struct pipe_pair *(*spare)(struct worker *w, int i);
};
void sfs_fault_begin(struct worker *w); /* a READ starts */
/* header + data iovecs (iov[0], iov[1], room for 4): the count to send */
int sfs_fault_iov(struct worker *w, const struct read_req *rq, const void *data, struct iovec *iov,
                  int cnt);
/* before a pipe fill of *n bytes: 0 (go on, *n maybe less), else its bytes or -errno */
ssize_t sfs_fault_fill(struct worker *w, struct pipe_pair *p, size_t *n);
/* where the data of pipe i of a reply must end (stop: where it would) */
size_t sfs_fault_stop(struct worker *w, const struct read_req *rq, int i, size_t stop);
/* the fds a multipipe reply names, before it is sent: how many it names now */
int sfs_fault_fds(struct worker *w, const struct read_req *rq, uint32_t *fds, int used,
                  const struct sfs_refuse *r);
/* splice: move data page 0 behind page 1 in this reply (--fault-swap; counted) */
bool sfs_fault_swap_pages(struct worker *w, const struct read_req *rq);
/* a flipped byte taken from the source but not yet in a pipe goes to dst: 1, else 0 */
size_t sfs_flip_take_held(struct worker *w, void *dst);

/* stats.c: counted where a reply ends */
void sfs_count_fallback(struct worker *w, enum fallback_reason why);
void sfs_count_spliced(struct worker *w, size_t bytes, unsigned slots);

/* mode_copy.c: the copy reply, also the splicing modes' counted fallback */
int reply_by_copy(struct worker *w, const struct read_req *rq);
int reply_copy_into(struct worker *w, const struct read_req *rq, void *dst);
/* header + data already in memory, through the fault hook's iov point */
int reply_copy_data(struct worker *w, const struct read_req *rq, const void *data);

/* worker.c */
int workers_start(struct sfs *fs);
/* SIGUSR2's handler: from another process it toggles sfs_slot_probe. */
void sfs_signals_init(void);
void worker_handle(struct worker *w, const void *req, size_t len);
void workers_stop(struct sfs *fs);
int sfs_drop_privilege(void);
/* This thread holds CAP_SYS_RESOURCE (effective): its pipes may pass pipe-max-size. */
bool sfs_cap_sys_resource(void);

/* stats.c */
extern const struct counter_desc sfs_counters[];
extern const size_t sfs_ncounters;
/* out: the workers' counters summed (mode_out: the mode's own, SFS_MODE_COUNTERS; or NULL) */
void counters_sum(const struct sfs *fs, struct counters *out, uint64_t *mode_out);
int stats_write(const struct sfs *fs, const char *path);
int stats_json(const struct sfs *fs, char *buf, size_t len);

#endif
