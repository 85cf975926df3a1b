/* SPDX-License-Identifier: MIT */
/*
 * Does the running kernel accept FUSE_OUT_SPLICES replies (kernel/patches/)?
 *
 * fuse_splices_probe() (daemons/common/fuse_splices.c, shared with splicefs) writes, on an already mounted /dev/fuse fd, a reply
 * header with error = FUSE_OUT_SPLICES and a unique id no request has.  A patched
 * kernel lets the error value through and then finds no request: ENOENT.  An
 * unpatched one rejects the error value first: EINVAL.  Nothing else changes on
 * the connection, so a daemon may call it at any time after mount(2).
 *
 * fuse_out_splices_mount() mounts a bare FUSE file system (no daemon; nothing is
 * answered, not even INIT) on dir and returns its /dev/fuse fd or -errno;
 * fuse_out_splices_umount() undoes it.
 */
#ifndef SPLICEBENCH_KERNEL_PROBE_H
#define SPLICEBENCH_KERNEL_PROBE_H

#include "fuse_splices.h" /* FUSE_OUT_SPLICES, fuse_splices_probe() */

/* mount(2) "fuse" on dir with fd=N,rootmode=40000,user_id=0,group_id=0 (root only). */
int fuse_out_splices_mount(const char *dir, const char *extra_opts);
void fuse_out_splices_umount(const char *dir, int fuse_fd);

#endif
