// SPDX-License-Identifier: MIT
/*
 * fuse_probe: does this kernel accept FUSE_OUT_SPLICES replies?
 *   fuse_probe [-q]
 * Mounts a bare FUSE file system on a temporary directory, writes a probe reply
 * (see probe.h), unmounts, and prints "FUSE_OUT_SPLICES: yes" or
 * "FUSE_OUT_SPLICES: no (kernel answers EINVAL)" (the write() form), then
 * "splice reply: v3|v2|write|none" (v3: the ioctl under 7.3-v3's number; v2:
 * FUSE_DEV_IOC_SPLICE_REPLY, which refuses
 * the write() form; write: the seed or fixed series, which no bare probe tells
 * apart).  Exit 0 for v3, v2 or write, 1 for none, 2 when it cannot tell (not
 * root, no /dev/fuse, mount failed); -q prints nothing.
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
	const char *kind;
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
	kind = r < 0 ? NULL : fuse_splices_kind(fd);
	fuse_out_splices_umount(dir, fd);
	rmdir(dir);
	if (r < 0) {
		fprintf(stderr, "fuse_probe: unexpected answer to the probe: %s\n", strerror(-r));
		return 2;
	}
	if (!quiet)
		printf("FUSE_OUT_SPLICES: %s\nsplice reply: %s\n",
		       r ? "yes" : "no (kernel answers EINVAL)", kind ? kind : "?");
	return r || (kind && (!strcmp(kind, "v2") || !strcmp(kind, "v3"))) ? 0 : 1;
}
