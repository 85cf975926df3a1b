// SPDX-License-Identifier: MIT
/*
 * passthrough: the upstream FUSE passthrough (Linux 6.9+, FUSE 7.40).  At
 * OPEN the daemon names a backing file (the source's memfd, registered once
 * with FUSE_DEV_IOC_BACKING_OPEN) and the kernel reads it directly: READ
 * never reaches the daemon.  It is the ceiling a daemon-served mode could
 * approach, put on the same charts.  Needs a source with files (mem) and
 * CAP_SYS_ADMIN; where the kernel does not offer it, splicefs refuses to
 * start.  A READ that still arrives is answered by copy and counted as a
 * fallback.
 */
#include "splicefs.h"
#include "fuse_compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static void passthrough_init(struct sfs *fs, const struct fuse_init_in *in,
			     struct fuse_init_out *out)
{
	if ((in->flags & FUSE_INIT_EXT) && (in->flags2 & SFS_FUSE_PASSTHROUGH_FLAGS2)) {
		out->flags2 |= SFS_FUSE_PASSTHROUGH_FLAGS2;
		SFS_INIT_OUT_MAX_STACK_DEPTH(out) = 1;
		fs->passthrough = true;
	}
}

static int passthrough_probe(struct sfs *fs)
{
	if (!fs->source->file_fd) {
		fprintf(stderr, "splicefs: passthrough needs files to pass through to: use "
				"--source mem\n");
		return -EOPNOTSUPP;
	}
	if (!fs->passthrough) {
		fprintf(stderr, "splicefs: kernel does not offer FUSE passthrough (needs Linux "
				"6.9+ with CONFIG_FUSE_PASSTHROUGH): pick another --mode\n");
		return -EOPNOTSUPP;
	}
	fs->backing_ids = calloc(fs->o.files, sizeof(*fs->backing_ids));
	if (!fs->backing_ids)
		return -ENOMEM;
	pthread_mutex_init(&fs->open_lock, NULL);
	return 0;
}

static int passthrough_open(struct worker *w, uint64_t file, struct fuse_open_out *out)
{
	struct sfs *fs = w->fs;
	int id, err = 0;

	pthread_mutex_lock(&fs->open_lock);
	id = fs->backing_ids[file];
	if (!id) {
		struct sfs_fuse_backing_map map = {.fd = fs->source->file_fd(fs, file)};

		id = ioctl(fs->fuse_fd, SFS_FUSE_DEV_IOC_BACKING_OPEN, &map);
		if (id <= 0) {
			err = id < 0 ? -errno : -EIO;
			fprintf(stderr, "splicefs: registering data%llu as backing file: %s\n",
				(unsigned long long)file, strerror(-err));
		} else {
			fs->backing_ids[file] = id;
		}
	}
	pthread_mutex_unlock(&fs->open_lock);
	if (err)
		return err;
	out->open_flags &= ~FOPEN_DIRECT_IO;
	out->open_flags |= SFS_FOPEN_PASSTHROUGH;
	SFS_OPEN_OUT_BACKING_ID(out) = id;
	return 0;
}

static int passthrough_reply(struct worker *w, const struct read_req *rq)
{
	w->c.fallbacks++;
	return reply_by_copy(w, rq);
}

const struct reply_mode mode_passthrough = {
	.name = "passthrough",
	.help = "upstream FUSE passthrough: the kernel reads the backing memfd, no READ reaches us",
	.probe = passthrough_probe,
	.init = passthrough_init,
	.open = passthrough_open,
	.reply = passthrough_reply,
};
