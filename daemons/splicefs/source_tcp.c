// SPDX-License-Identifier: MIT
/*
 * The TCP source: every worker holds one connection to sbserver and asks it
 * for each read's bytes, through the client both daemons share
 * (daemons/common/tcpsrc.h: spec, HELLO, reconnects, framing, resync).
 * to_mem() receives them into the worker's staging buffer (one copy, by
 * recv); to_pipe() splices them straight from the socket into the reply pipe
 * (no copy: the pipe takes references to the socket buffer's pages).
 *
 *   --source tcp://HOST:PORT[?timeout=SECONDS&retries=N]
 *
 * The stream must stay in sync: a response's data is always consumed whole,
 * by the mode or by end() (which discards what is left with MSG_TRUNC); any
 * doubt (I/O error, timeout, bad header) closes the connection, and the next
 * read reconnects.  The read that hit the failure returns -EIO.
 *
 * Per request: no allocation, no lock.
 */
#include "splicefs.h"
#include "tcpsrc.h"

#include <errno.h>
#include <stdlib.h>

static int tcp_parse(const char *spec, void *opts, char *err, size_t errlen)
{
	return tcpsrc_parse(spec, opts, err, errlen);
}

static int tcp_setup(struct sfs *fs)
{
	struct tcpsrc *tcp;
	int ret;

	if (fs->o.files < 1 || (uint64_t)fs->o.files > UINT32_MAX)
		return -EINVAL;
	tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	fs->src = tcp;
	ret = tcpsrc_setup(tcp, "splicefs", fs->o.source, (uint32_t)fs->o.files, fs->o.file_size,
	                   fs->o.granule, fs->o.seed, fs->o.max_read, &fs->stop);
	return ret;
}

static void tcp_teardown(struct sfs *fs)
{
	free(fs->src);
	fs->src = NULL;
}

/* For the unit tests: the worker's connection, or -1. */
int tcp_worker_sock(const struct worker *w)
{
	const struct tcpsrc_conn *c = w->src;

	return c ? c->sock : -1;
}

static int tcp_worker_init(struct worker *w)
{
	struct tcpsrc_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	tcpsrc_conn_init(c, w->fs->src, w->id, &w->c.errors, &w->c.reconnects, &w->c.source_bytes);
	w->src = c;
	return tcpsrc_connect(c);
}

static void tcp_worker_fini(struct worker *w)
{
	struct tcpsrc_conn *c = w->src;

	if (c)
		tcpsrc_drop(c);
	free(w->src);
	w->src = NULL;
}

static int tcp_begin(struct worker *w, const struct read_req *rq)
{
	return tcpsrc_begin(w->src, rq->file, rq->off, rq->size);
}

static int tcp_to_mem(struct worker *w, void *dst, size_t n, const void **p)
{
	int ret = tcpsrc_to_mem(w->src, dst, n);

	if (!ret)
		*p = dst;
	return ret;
}

static ssize_t tcp_to_pipe(struct worker *w, int pipe_wr, size_t n, unsigned *slots)
{
	(void)slots; /* one per fragment: unknown here, the caller counts them */
	return tcpsrc_to_pipe(w->src, pipe_wr, n);
}

static void tcp_end(struct worker *w, bool ok)
{
	(void)ok;
	tcpsrc_end(w->src);
}

const struct data_source source_tcp = {
    .entry = TCPSRC_ENTRY("worker"),
    .opts_size = sizeof(struct tcpsrc_opts),
    .parse = tcp_parse,
    .setup = tcp_setup,
    .teardown = tcp_teardown,
    .worker_init = tcp_worker_init,
    .worker_fini = tcp_worker_fini,
    .begin = tcp_begin,
    .to_mem = tcp_to_mem,
    .to_pipe = tcp_to_pipe,
    .end = tcp_end,
};
