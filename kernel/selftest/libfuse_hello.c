// SPDX-License-Identifier: MIT
/*
 * libfuse_hello: the smallest libfuse3 file system, to check that a libfuse
 * daemon from the host mounts and serves inside a kernel/vm guest.
 *   libfuse_hello MOUNTPOINT [libfuse options]
 * Serves one file, "hello", holding "hello from libfuse\n".  Daemonizes once
 * mounted (fuse_main); unmount with fusermount3 -u MOUNTPOINT.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <string.h>
#include <sys/stat.h>

static const char text[] = "hello from libfuse\n";

static int hello_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (strcmp(path, "/hello") == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(text) - 1;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int hello_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	return strcmp(path, "/hello") ? -ENOENT : 0;
}

static int hello_read(const char *path, char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
	size_t len = sizeof(text) - 1;

	(void)path;
	(void)fi;
	if ((size_t)off >= len)
		return 0;
	if (size > len - off)
		size = len - off;
	memcpy(buf, text + off, size);
	return size;
}

static const struct fuse_operations ops = {
    .getattr = hello_getattr,
    .open = hello_open,
    .read = hello_read,
};

int main(int argc, char **argv)
{
	return fuse_main(argc, argv, &ops, NULL);
}
