/* SPDX-License-Identifier: MIT */
/*
 * The mount point, for both daemons (splicefs, libfuse-ref): one daemon per
 * mount point (a lock keyed by its path, held for the daemon's life), no
 * stacking on a live mount, a dead FUSE mount (its daemon gone) cleared with
 * one line; the files a daemon writes (absolute, writable); the mount's
 * readahead; going to the background with a parent that returns once the
 * child serves.  Messages begin with mnt_prog; bad input exits 2, other
 * failures 1, in one line.
 */
#ifndef MOUNTPOINT_H
#define MOUNTPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The program's name, first in every message ("splicefs", "libfuse-ref"); also the
 * FUSE subtype a dead mount of ours has (fuse.NAME). */
extern const char *mnt_prog;

/* One line, "PROG: " and what was wrong and what to do; then exit code (2 bad input, 1). */
__attribute__((format(printf, 2, 3), noreturn)) void mnt_die(int code, const char *fmt, ...);

struct mnt_top {
	bool found;
	char type[128];
	unsigned int major, minor;
};

/* Undo /proc/self/mountinfo's octal escapes (\040 space, \011 tab, \012, \134). */
void mnt_unescape(char *s);
/* The topmost mount at path (the last one in mountinfo), if any. */
void mnt_find(const char *path, struct mnt_top *m);
/* Does the FUSE mount at path still have a daemon?  1 alive, 0 dead, -1 no answer in 2 s. */
int mnt_fuse_alive(const char *path);
/* Lazy unmount: umount2(MNT_DETACH) as root, else fusermount3 -u -z.  0 or -1. */
int mnt_clear(const char *path);

/*
 * The mount point mp: its absolute path into real (PATH_MAX), locked for this
 * daemon's life (mnt_unlock at exit), a dead FUSE mount there cleared (one
 * line), a live or other mount refused (exit 2: "is busy"), /dev/fuse usable.
 * Exits with one line when it cannot be used.
 */
void mnt_check(const char *mp, char *real);
/* Write this process's pid into the lock file (after daemonizing: the busy message names it). */
void mnt_lock_note_pid(void);
/* Remove and release the lock (also at exit). */
void mnt_unlock(void);
/* After the unmount: a dead mount of ours (an aborted connection) left at real is cleared. */
void mnt_unmount_if_dead(const char *real);

/* p made absolute (the daemon changes to /) in buf; p itself when absolute or NULL. */
const char *mnt_abs_path(const char *p, char *buf, size_t len);
/* Can path (the file of --opt) be written: created in its directory, or rewritten?  Exits 2 if not.
 */
void mnt_check_out_file(const char *opt, const char *path);

/* The mount's bdi read_ahead_kb = ra / 1024 (0: left alone); a warning when it cannot. */
void mnt_set_readahead(const char *real, uint64_t ra);

/*
 * To the background: the parent exits 0 once the child writes a byte to the
 * returned fd (mnt_ready) and, with check, a stat of check answers; or with
 * the child's status when it exits first.  -errno when it cannot fork.
 */
int mnt_daemonize(const char *check);
/* stdin, stdout to /dev/null, stderr to logfd (-1: /dev/null), logfd closed. */
void mnt_detach_stdio(int logfd);
/* Let the parent go (the fd of mnt_daemonize; -1 afterwards, and when none). */
void mnt_ready(int *ready_fd);

#endif
