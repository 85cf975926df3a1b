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

/*
 * v2 (kernel/patches/6.12-v2): the reply is an ioctl on /dev/fuse, offered in
 * FUSE_INIT (flags2 bit FUSE_SPLICE_REPLY, protocol 7.42).  The daemon sets the
 * bit in its INIT reply to use it.  The pipes must hold exactly `size` bytes;
 * fds are the caller's own.  Every error but one met while copying leaves the
 * request pending and the pipes untouched.  The write() form above is refused
 * there (EINVAL), and a kernel without v2 answers the ioctl ENOTTY.
 */
#include <linux/ioctl.h>

#ifndef FUSE_SPLICE_REPLY
#define FUSE_SPLICE_REPLY (1ULL << 48)
#define FUSE_SPLICE_REPLY_MAX_FDS 16
struct fuse_splice_reply {
	uint64_t unique;
	uint32_t size;
	uint32_t nr_fds;
	uint32_t flags;
	uint32_t padding;
	uint64_t fds_ptr;
};
#define FUSE_DEV_IOC_SPLICE_REPLY _IOW(229, 3, struct fuse_splice_reply)
#endif
#define FUSE_SPLICE_REPLY_FLAGS2 ((uint32_t)(FUSE_SPLICE_REPLY >> 32))

/*
 * v3 (kernel/patches/7.3-v3): v2's ioctl and struct rebased onto 7.3, where v2's
 * numbers collide (ioctl 3 is FUSE_DEV_IOC_SYNC_INIT).  Provisional numbers: INIT
 * flag bit 44 (flags2 bit 12), ioctl 4 (kernel/selftest/probe.h has the same).
 */
#ifndef FUSE_SPLICE_REPLY_V3
#define FUSE_SPLICE_REPLY_V3 (1ULL << 44)
#define FUSE_SPLICE_REPLY_V3_FLAGS2 ((uint32_t)(FUSE_SPLICE_REPLY_V3 >> 32))
#define FUSE_DEV_IOC_SPLICE_REPLY_V3 _IOW(229, 4, struct fuse_splice_reply)
#endif

/* The ioctl: 0 or -errno. */
int fuse_splice_reply(int fuse_fd, uint64_t unique, uint32_t size, const uint32_t *fds,
                      uint32_t nr_fds);
/* The same with the ioctl number given (FUSE_DEV_IOC_SPLICE_REPLY or ..._V3). */
int fuse_splice_reply_ioc(int fuse_fd, unsigned long cmd, uint64_t unique, uint32_t size,
                          const uint32_t *fds, uint32_t nr_fds);

/*
 * Does the kernel know FUSE_DEV_IOC_SPLICE_REPLY?  1: yes (any answer but
 * ENOTTY to a reply for no request), 0: no (ENOTTY).
 */
int fuse_splices_v2_probe(int fuse_fd);

/* The same for v3's ioctl (FUSE_DEV_IOC_SPLICE_REPLY_V3, 7.3): 1 yes, 0 no. */
int fuse_splices_v3_probe(int fuse_fd);

/*
 * What a bare probe can tell: "v3" or "v2" (the ioctl), "write" (the write() form of
 * the seed or fixed series: no request-free probe tells them apart, both
 * answer ENOENT), or "none".  NULL if the probe failed (errno set).
 */
const char *fuse_splices_kind(int fuse_fd);

#endif
