/* SPDX-License-Identifier: MIT */
/*
 * The sbserver client both daemons read through (--source
 * tcp://HOST:PORT[?timeout=S&retries=N]): spec parsing, connect + HELLO (and
 * the max_len check), reconnect with bounded retries, one request's header,
 * receiving its bytes into memory or splicing them into a pipe, and
 * discarding what is left to stay in sync.  Wire format: sbproto.h.
 *
 * One struct tcpsrc per daemon (read-only once set up), one struct
 * tcpsrc_conn per worker thread.  Per request: no allocation, no lock; the
 * frames are encoded on the stack.  Any doubt about the stream (I/O error,
 * timeout, bad header) closes the connection (the read that hit it gets
 * -EIO) and the next request reconnects.  Messages go to stderr as
 * "PROG[ID]: tcp source: ...", PROG being the daemon's name.
 */
#ifndef TCPSRC_H
#define TCPSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "opttab.h"
#include "sbproto.h"

/* The ?key=value settings of the spec (option table: tcpsrc_options). */
struct tcpsrc_opts {
	double timeout; /* seconds */
	int retries;
};

#define TCPSRC_NOPTS 2
extern const struct opt_desc tcpsrc_options[TCPSRC_NOPTS];

/*
 * The tcp source's name, spec, help and settings, for both daemons' source
 * tables (.entry = TCPSRC_ENTRY("worker"): daemon_list.h); WHO is what holds
 * one connection.
 */
#define TCPSRC_ENTRY(who)                                                                          \
	{                                                                                          \
		.name = "tcp", .spec = "tcp://HOST:PORT",                                          \
		.help = "tcp://HOST:PORT[?timeout=S&retries=N]: read from sbserver, one "          \
		        "connection per " who,                                                     \
		.options = tcpsrc_options, .noptions = TCPSRC_NOPTS,                               \
	}

/* Shared by every worker. */
struct tcpsrc {
	const char *prog; /* message prefix: "splicefs", "libfuse-ref" */
	char host[256];
	char port[16];
	int timeout_ms;
	int retries;
	struct sbp_hello hello;   /* what we expect the server to serve */
	const volatile int *stop; /* non-zero: give up waits, say nothing; NULL: never */
};

/* One per worker; its counters are the worker's own. */
struct tcpsrc_conn {
	const struct tcpsrc *s;
	int id;
	int sock; /* the connection, -1 if none */
	uint64_t tag;
	uint32_t left;  /* bytes of the current response not yet taken */
	bool connected; /* has been connected once (later connects are reconnects) */
	bool fresh;     /* the connection has not served a request yet */
	uint64_t *errors, *reconnects, *source_bytes;
};

/* tcp://HOST:PORT[?k=v&k=v] into o (defaults applied); -1 with one line in err. */
int tcpsrc_parse(const char *spec, struct tcpsrc_opts *o, char *err, size_t errlen);

/*
 * Parse spec, then one HELLO now, so that a wrong address, a mismatched server
 * or one serving less than max_read per request fails before the mount.
 * Prints one line on failure.  0, -EINVAL (bad spec, max_len), -EPROTO (HELLO
 * refused) or -errno (connect).
 */
int tcpsrc_setup(struct tcpsrc *s, const char *prog, const char *spec, uint32_t files,
                 uint64_t file_size, uint64_t granule, uint64_t seed, uint32_t max_read,
                 const volatile int *stop);

void tcpsrc_conn_init(struct tcpsrc_conn *c, const struct tcpsrc *s, int id, uint64_t *errors,
                      uint64_t *reconnects, uint64_t *source_bytes);
/* (Re)connect with bounded retries (50, 100, 200 ms ... apart).  0 or -errno. */
int tcpsrc_connect(struct tcpsrc_conn *c);
void tcpsrc_drop(struct tcpsrc_conn *c);
/* Count an error, say what failed, drop the connection; returns -EIO. */
int tcpsrc_fail(struct tcpsrc_conn *c, const char *what, int err);

/* Send the request, take the response header: size bytes are next.  0 or -EIO. */
int tcpsrc_begin(struct tcpsrc_conn *c, uint64_t file, uint64_t off, uint32_t size);
/* Receive the next n bytes into dst.  0, -EINVAL (more than is left) or -EIO. */
int tcpsrc_to_mem(struct tcpsrc_conn *c, void *dst, size_t n);
/*
 * One splice(socket -> pipe_wr) of up to n of the next bytes: the count moved,
 * -EAGAIN when the pipe is full (the caller takes the rest elsewhere), -EIO.
 */
ssize_t tcpsrc_to_pipe(struct tcpsrc_conn *c, int pipe_wr, size_t n);
/* Discard what is left of the response, to stay in sync. */
void tcpsrc_end(struct tcpsrc_conn *c);

#endif
