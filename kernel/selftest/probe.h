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

#include <stdint.h>

/*
 * v3 (kernel/patches/7.3-v3): the v2 ioctl and struct rebased onto 7.3, where v2's
 * numbers collide (ioctl 3 is FUSE_DEV_IOC_SYNC_INIT, minor 42 io_uring's).  Its
 * numbers are provisional: INIT flag bit 44 (flags2 bit 12), ioctl 4, protocol 7.47.
 * Errors that differ from v2: E2BIG (the pipes hold more than `size`; v2 said
 * EMSGSIZE), EIO (a pipe buffer could not be confirmed; v2 passed its error on).
 */
/* Its numbers and fuse_splices_v3_probe() are in fuse_splices.h, shared with splicefs. */

/* mount(2) "fuse" on dir with fd=N,rootmode=40000,user_id=0,group_id=0 (root only). */
int fuse_out_splices_mount(const char *dir, const char *extra_opts);
void fuse_out_splices_umount(const char *dir, int fuse_fd);

#endif
