/* SPDX-License-Identifier: MIT */
/*
 * libfuse-ref: a stock-libfuse reference daemon, written the way a libfuse
 * user writes one (the low-level API, libfuse's own request loop and reply
 * functions), serving the same files, pattern and sources as splicefs so the
 * two can be compared point for point.
 *
 * A reply mode (mode_*.c) is a small ops table: how a READ is answered
 * (fuse_reply_buf, or fuse_reply_data with an fd buffer).  A data source
 * (source_*.c) is another: where the bytes come from (a memfd per file, or
 * sbserver over TCP).  Per-thread state (struct thr: counters, staging buffer,
 * pipe, connection) is created once, on a libfuse worker thread's first
 * request, and never shared: the read path takes no lock and allocates
 * nothing of ours.
 */
#ifndef LIBFUSE_REF_H
#define LIBFUSE_REF_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "daemon_list.h"
#include "daemon_opts.h"
#include "opttab.h"
#include "pattern.h"
#include "tcpsrc.h"

#define REF_EXIT_BAD_INPUT   2
#define REF_EXIT_UNSUPPORTED 3

/* Options, declared once in main.c's table (which also prints --help and --list). */
struct ref_opts {
	DAEMON_OPTS_FIELDS;
};

/*
 * The counters, one line each (daemons/common/counters.h), with splicefs's
 * names where they mean the same: per thread, written by their thread only,
 * summed by the stats writer; the stats file and --list name them in this order.
 */
// clang-format off
#define REF_COUNTERS(C, RATIO) \
	C(requests, SUM, "every request libfuse handed us") \
	C(reads, SUM, "READ requests") \
	C(bytes, SUM, "data bytes replied to READs") \
	C(bytes_spliced, SUM, "... of which libfuse was asked to splice (an fd buffer); whether it did, it does not say") \
	C(bytes_copied, SUM, "... of which went by fuse_reply_buf") \
	C(fallback_full, SUM, "tcp + libfuse-splice: our pipe filled with fragments before the reply fit, copied") \
	C(replies_failed, SUM, "replies libfuse failed to send") \
	C(errors, SUM, "other errors (bad requests, source failures)") \
	C(source_bytes, SUM, "bytes taken from the data source") \
	C(reconnects, SUM, "data-source connections re-established")
// clang-format on

struct ref_counters {
	COUNTERS_STRUCT(REF_COUNTERS)
} __attribute__((aligned(64)));

/* One per libfuse worker thread, made on its first request. */
struct thr {
	struct ref_counters c;
	struct thr *next; /* every thread's state, for the stats writer */
	int id;
	bool live;   /* resources held (the thread has not exited) */
	char *buf;   /* staging buffer of max_read bytes (tcp) */
	int pipe[2]; /* tcp + libfuse-splice: socket -> this pipe -> libfuse */
	size_t pipe_size;
	struct tcpsrc_conn tcp; /* tcp: this thread's connection (sock -1 if none) */
};

struct ref;

/*
 * Where the bytes come from.  to_mem() makes [off, off + size) of file readable
 * in memory (*p: the source's own memory, or t->buf).  to_buf() describes them
 * as a fuse_buf libfuse can splice from (FUSE_BUF_IS_FD), or, when the source
 * could not (a pipe too full of small socket fragments), as memory (flags 0):
 * the caller counts that as a fallback of its own.  done() runs after the
 * reply: ok = false when libfuse failed to send it (drop what is left).
 */
struct ref_source {
	DAEMON_ENTRY; /* name, spec, help, options (?key=value settings of the spec) */
	int (*setup)(struct ref *r);
	void (*teardown)(struct ref *r);
	int (*thread_init)(struct thr *t);
	void (*thread_fini)(struct thr *t);
	int (*to_mem)(struct thr *t, uint64_t file, uint64_t off, size_t size, const void **p);
	int (*to_buf)(struct thr *t, uint64_t file, uint64_t off, size_t size, struct fuse_buf *b);
	void (*done)(struct thr *t, bool ok);
};

/* How a READ is answered. */
struct ref_mode {
	DAEMON_ENTRY; /* name, help, needs (what the kernel must have, "" if nothing special) */
	/* In libfuse's init callback: set conn->want; -EOPNOTSUPP: cannot run here. */
	int (*init)(struct fuse_conn_info *conn, char *why, size_t whylen);
	int (*thread_init)(struct thr *t);
	/* Answer the read of [off, off + size) of file (size already clamped, > 0). */
	void (*read)(fuse_req_t req, struct thr *t, uint64_t file, uint64_t off, size_t size);
};

struct ref {
	struct ref_opts o;
	struct pattern pat;
	const struct ref_mode *mode;
	const struct ref_source *source;
	struct fuse_session *se;
	char mnt[PATH_MAX];
	long page_size;
	int exit_code; /* set by init when the mode cannot run */
	int ready_fd;  /* daemonized: tell the parent we serve */
	bool served;   /* init ran and the parent was let go */
};

extern struct ref ref;

extern const struct ref_mode mode_libfuse_copy, mode_libfuse_splice;
extern const struct ref_source source_mem, source_tcp;
extern const struct ref_mode *const ref_modes[];     /* NULL-terminated */
extern const struct ref_source *const ref_sources[]; /* NULL-terminated */

/* ops.c */
extern const struct fuse_lowlevel_ops ref_ops;
struct thr *thr_self(void);
void counters_sum(struct ref_counters *out, int *nthreads);
void thr_release_all(void);
/* Called by init once the mount serves: pid file is written, let the parent go. */
void ref_ready(void);

/* stats.c */
extern const struct counter_desc ref_counters[];
extern const size_t ref_ncounters;
int stats_json(char *buf, size_t len);
int stats_write(const char *path);

#endif
