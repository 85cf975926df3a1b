// SPDX-License-Identifier: MIT
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

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
