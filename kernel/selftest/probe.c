// SPDX-License-Identifier: MIT
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

/* Even (not an interrupt reply), far above any id the kernel hands out. */
#define PROBE_UNIQUE 0x7ffffffffffff000ULL

int fuse_out_splices_probe(int fuse_fd)
{
	struct fuse_out_header oh = {
	    .len = sizeof(oh),
	    .error = FUSE_OUT_SPLICES,
	    .unique = PROBE_UNIQUE,
	};
	ssize_t n = write(fuse_fd, &oh, sizeof(oh));

	if (n >= 0)
		return -EPROTO; /* no kernel should accept a reply to no request */
	switch (errno) {
	case ENOENT:
		return 1;
	case EINVAL:
		return 0;
	default:
		return -errno;
	}
}

int fuse_out_splices_mount(const char *dir, const char *extra_opts)
{
	char opts[256];
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0%s%s", fd,
	         extra_opts && *extra_opts ? "," : "", extra_opts ? extra_opts : "");
	if (mount("splicebench", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

void fuse_out_splices_umount(const char *dir, int fuse_fd)
{
	umount2(dir, MNT_DETACH);
	if (fuse_fd >= 0)
		close(fuse_fd);
}
