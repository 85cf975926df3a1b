// SPDX-License-Identifier: MIT
#include "fuse_splices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

int fuse_splices_probe(int fuse_fd)
{
	struct fuse_out_header oh;
	uint32_t fd;
	int p[2], err;
	struct iovec iov[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fd = (uint32_t)p[0];
	oh.len = sizeof(oh) + sizeof(fd);
	oh.error = FUSE_OUT_SPLICES;
	oh.unique = FUSE_SPLICES_PROBE_UNIQUE;
	iov[0] = (struct iovec){&oh, sizeof(oh)};
	iov[1] = (struct iovec){&fd, sizeof(fd)};
	err = writev(fuse_fd, iov, 2) < 0 ? errno : 0;
	close(p[0]);
	close(p[1]);
	switch (err) {
	case ENOENT:
		return 1;
	case EINVAL:
		return 0;
	case 0:
		return -EPROTO; /* nothing should accept a reply to no request */
	default:
		return -err;
	}
}

int fuse_splice_reply(int fuse_fd, uint64_t unique, uint32_t size, const uint32_t *fds,
                      uint32_t nr_fds)
{
	return fuse_splice_reply_ioc(fuse_fd, FUSE_DEV_IOC_SPLICE_REPLY, unique, size, fds, nr_fds);
}

int fuse_splice_reply_ioc(int fuse_fd, unsigned long cmd, uint64_t unique, uint32_t size,
                          const uint32_t *fds, uint32_t nr_fds)
{
	struct fuse_splice_reply r = {
	    .unique = unique,
	    .size = size,
	    .nr_fds = nr_fds,
	    .fds_ptr = (uint64_t)(uintptr_t)fds,
	};
	int ret;

	do
		ret = ioctl(fuse_fd, cmd, &r);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

int fuse_splices_v2_probe(int fuse_fd)
{
	int r = fuse_splice_reply(fuse_fd, FUSE_SPLICES_PROBE_UNIQUE, 0, NULL, 0);

	return r == -ENOTTY ? 0 : 1;
}

int fuse_splices_v3_probe(int fuse_fd)
{
	int r = fuse_splice_reply_ioc(fuse_fd, FUSE_DEV_IOC_SPLICE_REPLY_V3,
	                              FUSE_SPLICES_PROBE_UNIQUE, 0, NULL, 0);

	return r == -ENOTTY ? 0 : 1;
}

const char *fuse_splices_kind(int fuse_fd)
{
	int r;

	if (fuse_splices_v3_probe(fuse_fd))
		return "v3";
	if (fuse_splices_v2_probe(fuse_fd))
		return "v2";
	r = fuse_splices_probe(fuse_fd);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return r ? "write" : "none";
}
