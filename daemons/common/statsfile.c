// SPDX-License-Identifier: MIT
/* The daemons' stats file (statsfile.h). */
#include "statsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

int statsfile_write(const char *path, const char *buf, size_t n)
{
	char tmp[PATH_MAX + 32];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != (ssize_t)n)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
