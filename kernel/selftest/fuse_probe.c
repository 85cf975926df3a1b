// SPDX-License-Identifier: MIT
/*
 * fuse_probe: does this kernel accept FUSE_OUT_SPLICES replies?
 *   fuse_probe [-q]
 * Mounts a bare FUSE file system on a temporary directory, writes a probe reply
 * (see probe.h), unmounts, and prints "FUSE_OUT_SPLICES: yes" (exit 0) or
 * "FUSE_OUT_SPLICES: no (kernel answers EINVAL)" (exit 1).  Exit 2 when it
 * cannot tell (not root, no /dev/fuse, mount failed); -q prints nothing.
 */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char dir[] = "/tmp/fuse_probe.XXXXXX";
	int quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	int fd, r;

	if (argc > 2 || (argc == 2 && !quiet)) {
		fprintf(stderr, "usage: fuse_probe [-q]\n");
		return 2;
	}
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr, "fuse_probe: cannot open /dev/fuse: %s\n", strerror(errno));
		return 2;
	}
	if (!mkdtemp(dir)) {
		fprintf(stderr, "fuse_probe: mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	fd = fuse_out_splices_mount(dir, NULL);
	if (fd < 0) {
		fprintf(stderr, "fuse_probe: mounting fuse on %s: %s%s\n", dir, strerror(-fd),
		        geteuid() ? " (run as root)" : "");
		rmdir(dir);
		return 2;
	}
	r = fuse_splices_probe(fd);
	fuse_out_splices_umount(dir, fd);
	rmdir(dir);
	if (r < 0) {
		fprintf(stderr, "fuse_probe: unexpected answer to the probe: %s\n", strerror(-r));
		return 2;
	}
	if (!quiet)
		printf("FUSE_OUT_SPLICES: %s\n", r ? "yes" : "no (kernel answers EINVAL)");
	return r ? 0 : 1;
}
