// SPDX-License-Identifier: MIT
/*
 * The FUSE protocol for everything but READ: INIT, LOOKUP, GETATTR, OPEN,
 * READDIR, STATFS, ...  splicefs answers these itself, on the fd the request
 * came from, so that every worker (with or without a cloned fd) runs the same
 * loop and every reply mode sees the request's unique id.  libfuse does the
 * mount; its request loop hides the unique id and cannot reply on cloned fds.
 *
 * The tree is flat: the root (nodeid 1) holds data0 .. dataN-1 (nodeid 2 + i).
 */
#include "splicefs.h"
#include "fuse_compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATTR_VALID 3600 /* the files never change */

static int reply(struct worker *w, uint64_t unique, int err, const void *arg, size_t len)
{
	struct fuse_out_header oh = {sizeof(oh) + (arg ? len : 0), -err, unique};
	struct iovec iov[2] = {{&oh, sizeof(oh)}, {(void *)arg, len}};

	return sfs_send(w, iov, arg && len ? 2 : 1);
}

int sfs_reply_err(struct worker *w, uint64_t unique, int err)
{
	return reply(w, unique, err, NULL, 0);
}

static void fill_attr(const struct sfs *fs, uint64_t nodeid, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->blksize = 4096;
	if (nodeid == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0555;
		a->nlink = 2;
		a->size = 4096;
	} else {
		a->mode = S_IFREG | 0444;
		a->nlink = 1;
		a->size = fs->o.file_size;
		a->blocks = (fs->o.file_size + 511) / 512;
	}
}

/* nodeid of "dataN", or 0. */
static uint64_t lookup_name(const struct sfs *fs, const char *name)
{
	char *end;
	unsigned long i;

	if (strncmp(name, "data", 4) || !name[4] || (name[4] == '0' && name[5]))
		return 0;
	i = strtoul(name + 4, &end, 10);
	if (*end || i >= (unsigned long)fs->o.files)
		return 0;
	return 2 + i;
}

static bool is_file(const struct sfs *fs, uint64_t nodeid)
{
	return nodeid >= 2 && nodeid < 2 + (uint64_t)fs->o.files;
}

static void do_init(struct worker *w, const struct fuse_in_header *ih, const void *arg)
{
	const struct fuse_init_in *in = arg;
	struct sfs *fs = w->fs;
	struct fuse_init_out out = {0};

	if (in->major != FUSE_KERNEL_VERSION) {
		fprintf(stderr, "splicefs: kernel speaks FUSE %u.%u; this build needs %u.x\n",
		        in->major, in->minor, FUSE_KERNEL_VERSION);
		reply(w, ih->unique, EPROTO, NULL, 0);
		return;
	}
	out.major = FUSE_KERNEL_VERSION;
	out.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor : FUSE_KERNEL_MINOR_VERSION;
	fs->proto_minor = out.minor;
	out.max_readahead = in->max_readahead < fs->o.max_read ? in->max_readahead : fs->o.max_read;
	out.flags =
	    in->flags & (FUSE_ASYNC_READ | FUSE_MAX_PAGES | FUSE_ASYNC_DIO | FUSE_BIG_WRITES);
	out.max_background = DAEMON_MAX_BACKGROUND;
	out.congestion_threshold = DAEMON_CONGESTION_THRESHOLD;
	out.max_write = 64 * 1024;
	out.time_gran = 1;
	out.max_pages = fs->o.max_read / 4096;
	fs->max_read = (in->flags & FUSE_MAX_PAGES) ? fs->o.max_read : 32 * 4096;
	if (in->flags & FUSE_INIT_EXT)
		out.flags |= FUSE_INIT_EXT;
	if (fs->mode->init)
		fs->mode->init(fs, in, &out);
	reply(w, ih->unique, 0, &out, out.minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof(out));
}

static void do_lookup(struct worker *w, const struct fuse_in_header *ih, const char *name)
{
	struct fuse_entry_out e = {0};
	uint64_t id = ih->nodeid == FUSE_ROOT_ID ? lookup_name(w->fs, name) : 0;

	if (!id) {
		reply(w, ih->unique, ENOENT, NULL, 0);
		return;
	}
	e.nodeid = id;
	e.generation = 1;
	e.entry_valid = e.attr_valid = ATTR_VALID;
	fill_attr(w->fs, id, &e.attr);
	reply(w, ih->unique, 0, &e, sizeof(e));
}

static void do_getattr(struct worker *w, const struct fuse_in_header *ih)
{
	struct fuse_attr_out a = {0};

	if (ih->nodeid != FUSE_ROOT_ID && !is_file(w->fs, ih->nodeid)) {
		reply(w, ih->unique, ENOENT, NULL, 0);
		return;
	}
	a.attr_valid = ATTR_VALID;
	fill_attr(w->fs, ih->nodeid, &a.attr);
	reply(w, ih->unique, 0, &a, sizeof(a));
}

static void do_open(struct worker *w, const struct fuse_in_header *ih, const void *arg, bool dir)
{
	const struct fuse_open_in *in = arg;
	struct fuse_open_out o = {0};

	if (dir ? ih->nodeid != FUSE_ROOT_ID : !is_file(w->fs, ih->nodeid)) {
		reply(w, ih->unique, dir ? ENOTDIR : EISDIR, NULL, 0);
		return;
	}
	if ((in->flags & O_ACCMODE) != O_RDONLY) {
		reply(w, ih->unique, EROFS, NULL, 0);
		return;
	}
	if (!dir && w->fs->o.direct_io)
		o.open_flags = FOPEN_DIRECT_IO;
	o.fh = ih->nodeid;
	if (!dir && w->fs->mode->open) {
		int err = w->fs->mode->open(w, ih->nodeid - 2, &o);

		if (err) {
			reply(w, ih->unique, -err, NULL, 0);
			return;
		}
	}
	reply(w, ih->unique, 0, &o, sizeof(o));
}

static void do_readdir(struct worker *w, const struct fuse_in_header *ih, const void *arg)
{
	const struct fuse_read_in *in = arg;
	char buf[8192], name[32];
	size_t len = 0, max = in->size < sizeof(buf) ? in->size : sizeof(buf);
	uint64_t n = 2 + (uint64_t)w->fs->o.files;

	for (uint64_t i = in->offset; i < n; i++) {
		struct fuse_dirent *d = (struct fuse_dirent *)(buf + len);
		size_t nl, rec;

		if (i == 0)
			nl = snprintf(name, sizeof(name), ".");
		else if (i == 1)
			nl = snprintf(name, sizeof(name), "..");
		else
			nl = snprintf(name, sizeof(name), "data%llu", (unsigned long long)(i - 2));
		rec = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + nl);
		if (len + rec > max)
			break;
		memset(d, 0, rec);
		d->ino = i < 2 ? FUSE_ROOT_ID : i;
		d->off = i + 1;
		d->namelen = nl;
		d->type = i < 2 ? DT_DIR : DT_REG;
		memcpy(d->name, name, nl);
		len += rec;
	}
	reply(w, ih->unique, 0, buf, len);
}

static void do_statfs(struct worker *w, const struct fuse_in_header *ih)
{
	struct fuse_statfs_out s = {0};

	s.st.bsize = s.st.frsize = 4096;
	s.st.blocks = (w->fs->o.file_size * w->fs->o.files + 4095) / 4096;
	s.st.files = 1 + w->fs->o.files;
	s.st.namelen = 255;
	reply(w, ih->unique, 0, &s, sizeof(s));
}

/*
 * Answer the kernel's INIT before any worker runs: mount(2) queues it, so it
 * is there to read.  After this the negotiated limits and flags are known
 * (a mode's probe can use them) and the workers start on a live connection.
 */
int proto_handle_init(struct sfs *fs, char *buf, size_t bufsize)
{
	struct worker boot = {.fs = fs, .id = -1, .fuse_fd = fs->fuse_fd, .null_fd = -1};
	const struct fuse_in_header *ih = (const void *)buf;
	ssize_t n;

	do
		n = read(fs->fuse_fd, buf, bufsize);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(*ih) + sizeof(struct fuse_init_in) || ih->opcode != FUSE_INIT)
		return -EPROTO;
	do_init(&boot, ih, ih + 1);
	return fs->proto_minor ? 0 : -EPROTO;
}

void proto_dispatch(struct worker *w, const void *req, size_t len)
{
	const struct fuse_in_header *ih = req;
	const void *arg = (const char *)req + sizeof(*ih);

	if (w->fs->o.debug)
		fprintf(stderr, "splicefs[%d]: opcode %u unique %llu nodeid %llu len %zu\n", w->id,
		        ih->opcode, (unsigned long long)ih->unique, (unsigned long long)ih->nodeid,
		        len);
	switch (ih->opcode) {
	case FUSE_INIT:
		do_init(w, ih, arg);
		break;
	case FUSE_LOOKUP:
		if (len <= sizeof(*ih) || ((const char *)req)[len - 1] != 0)
			reply(w, ih->unique, EINVAL, NULL, 0);
		else
			do_lookup(w, ih, arg);
		break;
	case FUSE_GETATTR:
		do_getattr(w, ih);
		break;
	case FUSE_OPEN:
		do_open(w, ih, arg, false);
		break;
	case FUSE_OPENDIR:
		do_open(w, ih, arg, true);
		break;
	case FUSE_READDIR:
		do_readdir(w, ih, arg);
		break;
	case FUSE_STATFS:
		do_statfs(w, ih);
		break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_FSYNCDIR:
	case FUSE_DESTROY:
		reply(w, ih->unique, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		break; /* no reply */
	case FUSE_SETATTR:
	case FUSE_WRITE:
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_LINK:
	case FUSE_SYMLINK:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
	case FUSE_FALLOCATE:
		reply(w, ih->unique, EROFS, NULL, 0);
		break;
	default:
		reply(w, ih->unique, ENOSYS, NULL, 0);
		break;
	}
}
