// SPDX-License-Identifier: MIT
/*
 * Every reply leaves through here.  sfs_send() is the one way a reply goes
 * out: a mode with a transport of its own (uring) takes the replies of the
 * requests it delivered (.send); every other reply is one writev() on the
 * worker's /dev/fuse fd.  sfs_send_pipe(): a reply already in a pipe.
 */
#include "splicefs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

int fuse_send(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n, want = 0;

	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	do
		n = writev(fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == want ? 0 : -EIO;
}

int sfs_send(struct worker *w, const struct iovec *iov, int cnt)
{
	const struct reply_mode *m = w->fs->mode;
	int r;

	if (m->send && (r = m->send(w, iov, cnt)) != 1)
		return r;
	return fuse_send(w->fuse_fd, iov, cnt);
}

/* A reply already in p (header + data, len bytes) to /dev/fuse in one splice. */
int sfs_send_pipe(struct worker *w, struct pipe_pair *p, size_t len)
{
	ssize_t r;

	do
		r = splice(p->rd, NULL, w->fuse_fd, NULL, len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}
