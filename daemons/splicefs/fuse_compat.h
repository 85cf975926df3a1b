/* SPDX-License-Identifier: MIT */
/*
 * FUSE UAPI newer than the <linux/fuse.h> we build against (Debian 12: 7.38).
 * Values from upstream include/uapi/linux/fuse.h; the struct fields that
 * were "unused"/"padding" in 7.38 are reached through these macros.
 */
#ifndef SPLICEFS_FUSE_COMPAT_H
#define SPLICEFS_FUSE_COMPAT_H

#include <linux/fuse.h>
#include <linux/ioctl.h>
#include <stdint.h>

#ifndef FUSE_INIT_EXT
#define FUSE_INIT_EXT (1 << 30)
#endif
/* 7.40: passthrough.  Bits 32..63 of the INIT flags live in flags2. */
#define SFS_FUSE_PASSTHROUGH_FLAGS2       (1u << (37 - 32))
#define SFS_FOPEN_PASSTHROUGH             (1u << 7)
#define SFS_INIT_OUT_MAX_STACK_DEPTH(out) ((out)->unused[0])
#define SFS_OPEN_OUT_BACKING_ID(out)      ((out)->padding)

struct sfs_fuse_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define SFS_FUSE_DEV_IOC_BACKING_OPEN  _IOW(229, 1, struct sfs_fuse_backing_map)
#define SFS_FUSE_DEV_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

/* 7.42: FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING, enable_uring=1). */
#define SFS_FUSE_OVER_IO_URING_FLAGS2   (1u << (41 - 32))
#define SFS_FUSE_URING_IN_OUT_HEADER_SZ 128
#define SFS_FUSE_URING_OP_IN_OUT_SZ     128

struct sfs_fuse_uring_ent_in_out {
	uint64_t flags;     /* 7.46: SFS_FUSE_URING_ENT_ZERO_COPY */
	uint64_t commit_id; /* the request's unique, echoed in the commit */
	uint32_t payload_sz;
	uint32_t offset; /* 7.46: where in the queue's buffer pool the payload is (7.42: padding) */
	uint64_t reserved;
};

struct sfs_fuse_uring_req_header {
	char in_out[SFS_FUSE_URING_IN_OUT_HEADER_SZ]; /* fuse_in_header / fuse_out_header */
	char op_in[SFS_FUSE_URING_OP_IN_OUT_SZ];      /* the opcode's first argument */
	struct sfs_fuse_uring_ent_in_out ring_ent_in_out;
};

enum {
	SFS_FUSE_IO_URING_CMD_REGISTER = 1,
	SFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
	SFS_FUSE_IO_URING_CMD_ADD_QUEUE = 3,   /* 7.46 */
	SFS_FUSE_IO_URING_CMD_ADD_BUFPOOL = 4, /* 7.46 */
};

/* In the SQE128's 80-byte command area. */
struct sfs_fuse_uring_cmd_req {
	uint64_t flags; /* ADD_QUEUE: SFS_FUSE_URING_ZERO_COPY */
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
	union { /* 7.46; 7.42 ended at padding */
		struct {
			uint64_t uaddr; /* ADD_BUFPOOL: the pool's first byte */
			uint32_t len;   /* its size: len / the kernel's max payload = buffers */
			uint32_t reserved;
		} bufpool;
		/* REGISTER on a zero-copy queue: the ring's buffer-table slot of this entry */
		uint16_t ent_zero_copy_buf_index;
	};
};

/*
 * 7.46 (Linux 7.3): buffer pools and zero-copy for FUSE over io_uring.  INIT
 * offers FUSE_HAS_IO_URING_BUFPOOL (bit 43, with FUSE_OVER_IO_URING, when
 * enable_uring is on; the server need not echo it).  ADD_QUEUE with
 * FUSE_URING_ZERO_COPY (CAP_SYS_ADMIN) makes a queue whose READs of files
 * opened with FOPEN_IO_URING_ZERO_COPY come with FUSE_URING_ENT_ZERO_COPY set
 * and the reader's pages registered as the fixed buffer at the entry's
 * ent_zero_copy_buf_index; a zero-copy queue must have a buffer pool
 * (ADD_BUFPOOL before its entries REGISTER, with a payload iovec of {NULL, 0}).
 */
#define SFS_FUSE_HAS_IO_URING_BUFPOOL_FLAGS2 (1u << (43 - 32))
#define SFS_FUSE_URING_ZERO_COPY             (1u << 0)
#define SFS_FUSE_URING_ENT_ZERO_COPY         (1u << 0)
#define SFS_FOPEN_IO_URING_ZERO_COPY         (1u << 8)
#define SFS_FUSE_MINOR_URING_ZERO_COPY       46

_Static_assert(sizeof(struct sfs_fuse_uring_cmd_req) == 40,
               "fuse_uring_cmd_req (7.46) is 40 bytes");
_Static_assert(sizeof(struct sfs_fuse_uring_req_header) == 288,
               "fuse_uring_req_header is 288 bytes");

#endif
