/* SPDX-License-Identifier: MIT */
/*
 * FUSE_OUT_SPLICES: the out-of-tree reply format of kernel/patches/.
 *
 * A reply to FUSE_READ may be a fuse_out_header with error = FUSE_OUT_SPLICES
 * and len = 16 + 4 * N, followed by N u32 pipe fds.  The kernel drains the
 * pipes, in order, into the request's pages.  An unpatched kernel rejects
 * that error value with EINVAL before it looks the request up.
 */
#ifndef SPLICEBENCH_FUSE_SPLICES_H
#define SPLICEBENCH_FUSE_SPLICES_H

#include <stdint.h>

#ifndef FUSE_OUT_SPLICES
#define FUSE_OUT_SPLICES 0x40000000
#endif

/* An even unique no request has: ids step by 2 from small numbers. */
#define FUSE_SPLICES_PROBE_UNIQUE 0x7ffffffffffff000ULL

/*
 * Ask the kernel behind a mounted /dev/fuse fd whether it accepts
 * FUSE_OUT_SPLICES: a reply for a request that does not exist is answered
 * ENOENT by a patched kernel (the header passed), EINVAL by an unpatched one.
 * Returns 1 (accepted), 0 (rejected), or -errno for anything else.
 */
int fuse_splices_probe(int fuse_fd);

#endif
