// SPDX-License-Identifier: MIT
/*
 * The mount point, for both daemons (mountpoint.h): one daemon at a time, no
 * stacking, dead mounts cleared; the paths a daemon writes; readahead;
 * going to the background.
 */
#include "mountpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

const char *mnt_prog = "splicefs";

#define die mnt_die

void mnt_die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", mnt_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static char lock_path[PATH_MAX + 64];
static int lock_fd = -1;

/* Undo /proc/self/mountinfo's octal escapes (\040 space, \011 tab, \012, \134). */
void mnt_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* The topmost mount at path (the last one in mountinfo), if any. */
void mnt_find(const char *path, struct mnt_top *m)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;

	memset(m, 0, sizeof(*m));
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *tok, *mp = NULL, *sep;
		unsigned int maj = 0, min = 0;
		int i = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
			if (i == 2)
				sscanf(tok, "%u:%u", &maj, &min);
			else if (i == 4)
				mp = tok;
		}
		if (!mp)
			continue;
		mnt_unescape(mp);
		if (strcmp(mp, path))
			continue;
		m->found = true;
		m->major = maj;
		m->minor = min;
		sscanf(sep + 3, "%127s", m->type);
	}
	free(line);
	fclose(f);
}

/*
 * Does the FUSE mount at path still have a daemon?  statfs() is never answered
 * from a cache: it reaches the connection, which says ENOTCONN once its
 * daemon is gone.  Asked in a child, so that a daemon that hangs cannot hang
 * us.  1 alive, 0 dead, -1 no answer within 2 s.
 */
int mnt_fuse_alive(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct statfs sf;

		_exit(statfs(path, &sf) == 0                         ? 0
		      : (errno == ENOTCONN || errno == ECONNABORTED) ? 1
		                                                     : 2);
	}
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 1 ? 0 : 1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Lazy unmount: umount2(MNT_DETACH) as root, else fusermount3 -u -z. */
int mnt_clear(const char *path)
{
	pid_t pid;
	int st;

	if (umount2(path, MNT_DETACH) == 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0) {
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execlp("fusermount3", "fusermount3", "-u", "-z", path, (char *)NULL);
		_exit(127);
	}
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

/*
 * The mount point's absolute path, without stat()ing the mount point itself
 * when it is a dead FUSE mount (which answers ENOTCONN): then it is the real
 * path of its parent plus its own name.
 */
static void canon_mountpoint(const char *mp, char *real)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	const char *base;

	if (realpath(mp, real))
		return;
	if (errno == ENOENT)
		die(2, "mount point %s: %s: create it first (mkdir -p %s)", mp, strerror(errno),
		    mp);
	if (errno != ENOTCONN && errno != ECONNABORTED)
		die(2, "mount point %s: %s", mp, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s", mp);
	for (size_t n = strlen(tmp); n > 1 && tmp[n - 1] == '/'; n--)
		tmp[n - 1] = 0;
	slash = strrchr(tmp, '/');
	if (slash) {
		*slash = 0;
		base = slash + 1;
		snprintf(dir, sizeof(dir), "%s", slash == tmp ? "/" : tmp);
	} else {
		base = tmp;
		snprintf(dir, sizeof(dir), ".");
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !realpath(dir, real))
		die(2, "mount point %s: %s: give its full path", mp, strerror(ENOTCONN));
	if (strlen(real) + strlen(base) + 2 > PATH_MAX)
		die(2, "mount point %s: path too long", mp);
	if (strcmp(real, "/"))
		strcat(real, "/");
	strcat(real, base);
}

/* Is the process whose pid the lock file holds on its way out (PF_EXITING, zombie)? */
static bool holder_exiting(int fd)
{
	char who[32], path[64], st[1024], *p;
	unsigned long flags = 0;
	char state = 0;
	ssize_t n = pread(fd, who, sizeof(who) - 1, 0);
	FILE *f;

	if (n <= 0)
		return false;
	who[n] = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", atoi(who));
	f = fopen(path, "r");
	if (!f)
		return true; /* gone: its lock is about to be released */
	n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n > 0 ? n : 0] = 0;
	p = strrchr(st, ')'); /* after "pid (comm)": state ppid pgrp session tty tpgid flags */
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & 0x4 /* PF_EXITING */);
}

/* The program holding the lock (pid who): its comm, else ours. */
static const char *holder_name(const char *who)
{
	static char comm[32];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", atoi(who));
	f = *who ? fopen(path, "r") : NULL;
	if (!f)
		return mnt_prog;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	return *comm ? comm : mnt_prog;
}

/*
 * Take the lock, waiting a little: up to 1 s for a daemon that is just
 * starting or stopping, and up to 30 s while the holder is exiting (a killed
 * daemon frees its memory before it lets go of the lock).  0, or -1 with errno.
 */
static int lock_wait(int fd)
{
	for (int i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || (i >= 20 && !holder_exiting(fd)) || i >= 600) {
			if (errno == EWOULDBLOCK || errno == EINTR)
				errno = EWOULDBLOCK;
			return -1;
		}
		usleep(50000);
	}
}

/*
 * One daemon per mount point (splicefs or libfuse-ref, one namespace of lock files): an exclusive
 * lock on a file keyed by the mount point's path (FNV-1a), taken before the busy check and held for
 * the daemon's life, so that two daemons started together cannot both pass the check and stack two
 * mounts.  The lock file is removed at exit (after a SIGKILL it stays, unlocked, and is reused).
 */
static void lock_mountpoint(const char *real)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *dir = access("/run/lock", W_OK | X_OK) ? "/tmp" : "/run/lock";

	for (const unsigned char *p = (const unsigned char *)real; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(lock_path, sizeof(lock_path), "%s/splicefs-%016llx.lock", dir,
	         (unsigned long long)h);
	for (int tries = 0; tries < 10; tries++) {
		struct stat a, b;
		char who[32] = "";
		ssize_t n;
		int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

		if (fd < 0)
			fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd <
		    0) { /* nowhere to lock (read-only /run/lock and /tmp): the mount table only */
			fprintf(stderr,
			        "%s: warning: no lock file %s (%s): two daemons started at once "
			        "on %s could both mount\n",
			        mnt_prog, lock_path, strerror(errno), real);
			return;
		}
		if (lock_wait(fd)) {
			int e = errno;

			n = pread(fd, who, sizeof(who) - 1, 0);
			who[n > 0 ? n : 0] = 0;
			who[strcspn(who, "\n")] = 0;
			close(fd);
			if (e == EWOULDBLOCK)
				die(2,
				    "mount point %s is busy: another %s (pid %s) is starting "
				    "or "
				    "serving there; stop it or pick another mount point",
				    real, holder_name(who), *who ? who : "?");
			die(1, "cannot lock %s: %s", lock_path, strerror(e));
		}
		/* Locked; but is it still the file at lock_path (not one just removed)? */
		if (fstat(fd, &a) == 0 && stat(lock_path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			lock_fd = fd;
			atexit(mnt_unlock);
			return;
		}
		close(fd);
	}
	die(1, "cannot take the lock %s: it keeps changing", lock_path);
}

void mnt_lock_note_pid(void)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%d\n", (int)getpid());

	if (lock_fd >= 0 && ftruncate(lock_fd, 0) == 0 && pwrite(lock_fd, s, n, 0) != n) {
		/* the pid only improves the busy message */
	}
}

void mnt_unlock(void)
{
	if (lock_fd < 0)
		return;
	unlink(lock_path); /* while still holding it: see lock_mountpoint */
	close(lock_fd);
	lock_fd = -1;
}

void mnt_check(const char *mp, char *real)
{
	struct mnt_top m;
	struct stat st;

	canon_mountpoint(mp, real);
	lock_mountpoint(real);
	mnt_lock_note_pid();
	for (int i = 0; i < 8; i++) {
		int alive;

		mnt_find(real, &m);
		if (!m.found)
			break;
		if (strncmp(m.type, "fuse", 4))
			die(2,
			    "mount point %s is busy (a %s mount is there): unmount it or pick "
			    "another",
			    real, m.type);
		alive = mnt_fuse_alive(real);
		if (alive > 0)
			die(2,
			    "mount point %s is busy (a live %s mount is there): unmount it or pick "
			    "another",
			    real, m.type);
		if (alive < 0)
			die(2,
			    "mount point %s is busy: a %s mount whose daemon does not answer is "
			    "there; "
			    "if that daemon is gone: echo 1 > /sys/fs/fuse/connections/%u/abort, "
			    "then "
			    "fusermount3 -u -z %s",
			    real, m.type, (m.major << 20) | m.minor, real);
		if (mnt_clear(real))
			die(2,
			    "mount point %s is a dead FUSE mount (its daemon is gone) and could "
			    "not "
			    "be cleared: run 'fusermount3 -u -z %s' as root",
			    real, real);
		fprintf(stderr,
		        "%s: %s was a dead FUSE mount (its daemon is gone): cleared it (lazy "
		        "unmount)\n",
		        mnt_prog, real);
	}
	if (stat(real, &st) < 0)
		die(2, "mount point %s: %s", real, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die(2, "mount point %s is not a directory: give an empty directory", mp);
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		die(1,
		    "cannot open /dev/fuse (%s): load the fuse module (modprobe fuse) and run "
		    "as root or as a user allowed to use it",
		    strerror(errno));
	if (geteuid() != 0 && access("/bin/fusermount3", X_OK) < 0 &&
	    access("/usr/bin/fusermount3", X_OK) < 0)
		die(1, "not permitted to mount: run as root, or install fuse3 (fusermount3)");
}

/*
 * libfuse skips the unmount when the connection was aborted (POLLERR on the
 * fd, e.g. through /sys/fs/fuse/connections/N/abort): never leave that dead
 * mount behind.  We still hold the mount point's lock, so a mount of ours
 * there is ours.
 */
void mnt_unmount_if_dead(const char *real)
{
	struct mnt_top m;

	mnt_find(real, &m);
	if (m.found && !strncmp(m.type, "fuse.", 5) && !strcmp(m.type + 5, mnt_prog) &&
	    mnt_fuse_alive(real) == 0 && mnt_clear(real))
		fprintf(stderr, "%s: could not clear the dead mount at %s: fusermount3 -u -z %s\n",
		        mnt_prog, real, real);
}

/* ---- the files a daemon writes: absolute before daemonizing, checked before mounting ---- */

const char *mnt_abs_path(const char *p, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (!p || p[0] == '/')
		return p;
	if (!getcwd(cwd, sizeof(cwd)))
		die(2, "cannot resolve the relative path %s: %s: give an absolute one", p,
		    strerror(errno));
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, p) >= len)
		die(2, "path too long: %s/%s", cwd, p);
	return buf;
}

/* Can `path` be written (created in its directory, or rewritten)?  Creates nothing. */
void mnt_check_out_file(const char *opt, const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (!path)
		return;
	if (!*path)
		die(2, "--%s: empty path", opt);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = 0;
	else if (slash)
		*slash = 0;
	if (stat(dir, &st) < 0)
		die(2, "--%s %s: directory %s: %s: create it first", opt, path, dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die(2, "--%s %s: %s is not a directory", opt, path, dir);
	if (stat(path, &st) == 0) {
		int fd;

		if (S_ISDIR(st.st_mode))
			die(2, "--%s %s is a directory: give a file path", opt, path);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			die(2, "--%s %s is not writable (%s): pick a writable path", opt, path,
			    strerror(errno));
		close(fd);
	}
	/* Try it: create (and remove) a file next to it; access() says yes to root on /sys. */
	{
		char probe[PATH_MAX + 64];
		int fd;

		snprintf(probe, sizeof(probe), "%s/.%s-check.%d", dir, mnt_prog, (int)getpid());
		fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(2, "--%s %s: cannot create files in %s (%s): pick a writable directory",
			    opt, path, dir, strerror(errno));
		close(fd);
		unlink(probe);
	}
}

/*
 * Buffered reads: let readahead ask for ra bytes at a time (the bdi's
 * read_ahead_kb).  The bdi is found in mountinfo: a stat of the mount could
 * wait for an INIT the daemon has not answered yet (libfuse-ref).
 */
void mnt_set_readahead(const char *real, uint64_t ra)
{
	char path[128];
	struct mnt_top m;
	FILE *f = NULL;

	if (!ra)
		return;
	mnt_find(real, &m);
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", m.major, m.minor);
	if (m.found)
		f = fopen(path, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)(ra / 1024)) < 0)
		fprintf(stderr, "%s: warning: could not set %s: readahead stays the kernel's\n",
		        mnt_prog, path);
	if (f)
		fclose(f);
}

/*
 * Go to the background like fuse_daemonize(), but let the parent exit only
 * once the child says it is serving (one byte on the returned fd), so that
 * `DAEMON MNT ...; fio MNT/data0` needs no wait and the pid file exists.  With
 * check, the parent also waits for a stat of it to answer (the mount serves).
 * If the child exits first, the parent exits with its status (1 if it was
 * killed).  The child: a session of its own, in /.  Returns the fd, or -errno.
 */
int mnt_daemonize(const char *check)
{
	int p[2], st;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		struct stat sb;

		close(p[1]);
		if (read(p[0], &c, 1) == 1 && (!check || stat(check, &sb) == 0))
			_exit(0);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	return p[1];
}

/* Hold none of the caller's pipes (`out=$(DAEMON ...)` must return): stdin, stdout to
 * /dev/null, stderr to logfd (-1: /dev/null); logfd is closed. */
void mnt_detach_stdio(int logfd)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(logfd >= 0 ? logfd : nul, 2);
		if (nul > 2)
			close(nul);
	}
	if (logfd > 2)
		close(logfd);
}

/* Tell the parent of mnt_daemonize() we serve; a warning if it is gone. */
void mnt_ready(int *ready_fd)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, "", 1) != 1)
		fprintf(stderr, "%s: warning: lost the parent before it saw us ready\n", mnt_prog);
	close(*ready_fd);
	*ready_fd = -1;
}
