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

struct passthrough_data {
	int nfiles;
	int ids[]; /* backing id of each file */
};

/*
 * Register every file's backing fd now, in the main thread: OPEN then only
 * names the id (no lock, no ioctl on the open path).  The kernel registers
 * backing files for CAP_SYS_ADMIN only, so --privilege user (a daemon without
 * it) cannot run this mode; the main thread still holds it, so refuse here
 * rather than let the registration succeed and report a "user" point that an
 * unprivileged daemon could never produce.
 */
static int passthrough_probe(struct sfs *fs)
{
	struct passthrough_data *d;

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
	if (fs->o.user) {
		fprintf(stderr, "splicefs: --privilege user drops CAP_SYS_ADMIN, and the kernel "
		                "registers backing files (FUSE_DEV_IOC_BACKING_OPEN) for "
		                "CAP_SYS_ADMIN only: use --privilege root\n");
		return -EOPNOTSUPP;
	}
	d = calloc(1, sizeof(*d) + fs->o.files * sizeof(int));
	if (!d)
		return -ENOMEM;
	fs->mode_data = d;
	for (d->nfiles = 0; d->nfiles < fs->o.files; d->nfiles++) {
		struct sfs_fuse_backing_map map = {.fd = fs->source->file_fd(fs, d->nfiles)};
		int id = ioctl(fs->fuse_fd, SFS_FUSE_DEV_IOC_BACKING_OPEN, &map);

		if (id <= 0) {
			int err = id < 0 ? errno : EIO;

			fprintf(stderr, "splicefs: registering data%d as backing file: %s%s\n",
			        d->nfiles, strerror(err),
			        err == EPERM ? " (passthrough needs CAP_SYS_ADMIN)" : "");
			return err == EPERM ? -EOPNOTSUPP : -err;
		}
		d->ids[d->nfiles] = id;
	}
	return 0;
}

static int passthrough_open(struct worker *w, uint64_t file, struct fuse_open_out *out)
{
	struct passthrough_data *d = w->fs->mode_data;

	if (!d || file >= (uint64_t)d->nfiles)
		return -EIO;
	out->open_flags &= ~FOPEN_DIRECT_IO;
	out->open_flags |= SFS_FOPEN_PASSTHROUGH;
	SFS_OPEN_OUT_BACKING_ID(out) = d->ids[file];
	return 0;
}

static void passthrough_shutdown(struct sfs *fs)
{
	free(fs->mode_data);
	fs->mode_data = NULL;
}

static int passthrough_reply(struct worker *w, const struct read_req *rq)
{
	sfs_count_fallback(w, FB_OTHER);
	return reply_by_copy(w, rq);
}

const struct reply_mode mode_passthrough = {
    .name = "passthrough",
    .help = "upstream FUSE passthrough: the kernel reads the backing memfd, no READ reaches us",
    .needs = "FUSE passthrough: Linux 6.9+, CONFIG_FUSE_PASSTHROUGH, CAP_SYS_ADMIN",
    .probe = passthrough_probe,
    .init = passthrough_init,
    .open = passthrough_open,
    .reply = passthrough_reply,
    .shutdown = passthrough_shutdown,
};
