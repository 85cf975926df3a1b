// SPDX-License-Identifier: MIT
#include "fuse_splices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>
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
