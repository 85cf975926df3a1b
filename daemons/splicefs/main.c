// SPDX-License-Identifier: MIT
/*
 * splicefs main: options, checks, mount (libfuse), workers, signals, exit.
 * Every step that can fail unwinds what came before it (goto ladder, as in
 * libfuse's passthrough_ll.c): a failed start leaves no mount behind.
 */
#include "splicefs.h"
#include "fuse_splices.h"
#include "memguard.h"

#include <errno.h>
#include <fcntl.h>
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define SPLICEFS_VERSION "0.1"

/* One line, what was wrong and what to do; then exit 2 (bad input) or 1. */
#define die(code, ...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "splicefs: " __VA_ARGS__);                                         \
		fputc('\n', stderr);                                                               \
		exit(code);                                                                        \
	} while (0)

/* ---- the mount point: one daemon at a time, no stacking, dead mounts cleared ---- */

static char lock_path[PATH_MAX + 64];
static int lock_fd = -1;
static void unlock_mountpoint(void);

/* Undo /proc/self/mountinfo's octal escapes (\040 space, \011 tab, \012, \134). */
static void unescape(char *s)
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

struct mnt_top {
	bool found;
	char type[128];
	unsigned int major, minor;
};

/* The topmost mount at path (the last one in mountinfo), if any. */
static void find_mount(const char *path, struct mnt_top *m)
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
		unescape(mp);
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
static int fuse_mount_alive(const char *path)
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
static int clear_mount(const char *path)
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
 * One splicefs per mount point: an exclusive lock on a file keyed by the
 * mount point's path (FNV-1a), taken before the busy check and held for the
 * daemon's life, so that two daemons started together cannot both pass the
 * check and stack two mounts.  The lock file is removed at exit (after a
 * SIGKILL it stays, unlocked, and is reused).
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
			fprintf(
			    stderr,
			    "splicefs: warning: no lock file %s (%s): two daemons started at once "
			    "on %s could both mount\n",
			    lock_path, strerror(errno), real);
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
				    "mount point %s is busy: another splicefs (pid %s) is starting "
				    "or "
				    "serving there; stop it or pick another mount point",
				    real, *who ? who : "?");
			die(1, "cannot lock %s: %s", lock_path, strerror(e));
		}
		/* Locked; but is it still the file at lock_path (not one just removed)? */
		if (fstat(fd, &a) == 0 && stat(lock_path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			lock_fd = fd;
			atexit(unlock_mountpoint);
			return;
		}
		close(fd);
	}
	die(1, "cannot take the lock %s: it keeps changing", lock_path);
}

static void lock_note_pid(void)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%d\n", (int)getpid());

	if (lock_fd >= 0 && ftruncate(lock_fd, 0) == 0 && pwrite(lock_fd, s, n, 0) != n) {
		/* the pid only improves the busy message */
	}
}

static void unlock_mountpoint(void)
{
	if (lock_fd < 0)
		return;
	unlink(lock_path); /* while still holding it: see lock_mountpoint */
	close(lock_fd);
	lock_fd = -1;
}

static void check_mountpoint(const char *mp, char *real)
{
	struct mnt_top m;
	struct stat st;

	canon_mountpoint(mp, real);
	lock_mountpoint(real);
	lock_note_pid();
	for (int i = 0; i < 8; i++) {
		int alive;

		find_mount(real, &m);
		if (!m.found)
			break;
		if (strncmp(m.type, "fuse", 4))
			die(2,
			    "mount point %s is busy (a %s mount is there): unmount it or pick "
			    "another",
			    real, m.type);
		alive = fuse_mount_alive(real);
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
		if (clear_mount(real))
			die(2,
			    "mount point %s is a dead FUSE mount (its daemon is gone) and could "
			    "not "
			    "be cleared: run 'fusermount3 -u -z %s' as root",
			    real, real);
		fprintf(stderr,
		        "splicefs: %s was a dead FUSE mount (its daemon is gone): cleared it (lazy "
		        "unmount)\n",
		        real);
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
 * mount behind.  We still hold the mount point's lock, so a splicefs mount
 * there is ours.
 */
static void unmount_if_dead(const char *real)
{
	struct mnt_top m;

	find_mount(real, &m);
	if (m.found && !strcmp(m.type, "fuse.splicefs") && fuse_mount_alive(real) == 0 &&
	    clear_mount(real))
		fprintf(stderr,
		        "splicefs: could not clear the dead mount at %s: fusermount3 -u -z %s\n",
		        real, real);
}

/* ---- the files splicefs writes: absolute before daemonizing, checked before mounting ---- */

static const char *abs_path(const char *p, char *buf, size_t len)
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
static void check_out_file(const char *opt, const char *path)
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

		snprintf(probe, sizeof(probe), "%s/.splicefs-check.%d", dir, (int)getpid());
		fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(2, "--%s %s: cannot create files in %s (%s): pick a writable directory",
			    opt, path, dir, strerror(errno));
		close(fd);
		unlink(probe);
	}
}

/* Buffered reads: let readahead ask for max_read at a time (bdi read_ahead_kb). */
static void set_readahead(struct sfs *fs, const char *mp)
{
	char path[128];
	struct stat st;
	uint64_t ra = fs->o.readahead;
	FILE *f;

	if (!ra || fs->o.direct_io || stat(mp, &st) < 0)
		return;
	if (ra > fs->max_read)
		ra = fs->max_read;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
	         minor(st.st_dev));
	f = fopen(path, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)(ra / 1024)) < 0)
		fprintf(stderr,
		        "splicefs: warning: could not set %s: readahead stays the kernel's\n",
		        path);
	if (f)
		fclose(f);
}

/*
 * Go to the background like fuse_daemonize(), but let the parent exit only
 * once the child says it is serving (one byte on the returned fd), so that
 * `splicefs MNT ...; fio MNT/data0` needs no wait and the pid file exists.
 * The parent exits 1 if the child dies first.  The child's messages go to
 * --log (default: nowhere), never to the caller's stdout or stderr.
 */
static int daemonize(int logfd)
{
	int p[2], nul;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	/* Hold none of the caller's pipes: `out=$(splicefs ...)` must return. */
	nul = open("/dev/null", O_RDWR);
	if (logfd < 0)
		logfd = nul;
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(logfd >= 0 ? logfd : nul, 2);
		if (logfd > 2 && logfd != nul)
			close(logfd);
		lock_note_pid();
		if (nul > 2)
			close(nul);
	}
	return p[1];
}

static void print_version(void)
{
	printf("splicefs %s (libfuse %d, FUSE protocol %d.%d)\n", SPLICEFS_VERSION, fuse_version(),
	       FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION);
}

/* A SIGINT/SIGTERM/SIGHUP already waiting (they are blocked): stop before mounting. */
static bool stop_requested(const sigset_t *sigs)
{
	struct timespec zero = {0, 0};
	int sig;

	while ((sig = sigtimedwait(sigs, NULL, &zero)) > 0)
		if (sig != SIGUSR1)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static struct sfs fs;
	const struct fuse_lowlevel_ops ops = {0};
	char err[512], real[PATH_MAX], mopts[256], stats[2048];
	char *fargv[] = {argv[0], "-o", mopts, NULL};
	struct fuse_args fargs = FUSE_ARGS_INIT(3, fargv);
	sigset_t sigs;
	static char pid_path[PATH_MAX + 1], log_path[PATH_MAX + 1], stats_path[PATH_MAX + 1];
	int rc = 1, r, ready_fd = -1, log_fd = -1;
	bool stats_warned = false, pid_written = false;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (sfs_parse_opts(&fs.o, argc, argv, err, sizeof(err)))
		die(2, "%s", err);
	if (fs.o.help) {
		sfs_usage(stdout, "splicefs");
		return 0;
	}
	if (fs.o.version) {
		print_version();
		return 0;
	}
	if (fs.o.list) {
		sfs_list(stdout);
		return 0;
	}
	fs.mode = mode_find(fs.o.mode);
	fs.source = source_find(fs.o.source);
	if (fs.o.probe_only) { /* the probe reads nothing: do not fill a gigabyte for it */
		fs.o.file_size = 4096;
		fs.o.files = 1;
		fs.source = &source_mem;
	}
	fs.pat = (struct pattern){fs.o.seed, fs.o.granule};
	fs.page_size = sysconf(_SC_PAGESIZE);
	fs.max_read = fs.o.max_read;
	fs.fuse_fd = -1;

	/* Signals are taken synchronously by the main thread; workers block them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfs_slot_probe = fs.o.slot_probe;
	sfs_signals_init(); /* SIGUSR2: the slot probe's switch, from the start */

	/* Files we write: absolute (we chdir("/") in the background), writable, before mounting. */
	fs.o.pid_file = abs_path(fs.o.pid_file, pid_path, sizeof(pid_path));
	fs.o.log_file = abs_path(fs.o.log_file, log_path, sizeof(log_path));
	fs.o.stats_file = abs_path(fs.o.stats_file, stats_path, sizeof(stats_path));
	check_out_file("pid-file", fs.o.pid_file);
	check_out_file("log", fs.o.log_file);
	check_out_file("stats-file", fs.o.stats_file);

	check_mountpoint(fs.o.mountpoint, real); /* takes the mount point's lock */

	/* Files are filled eagerly: refuse up front what does not fit. */
	if (fs.source == &source_mem) {
		uint64_t need = fs.o.file_size * (uint64_t)fs.o.files;
		char why[1024], a[32];

		if (memguard_check(need, why, sizeof(why)))
			die(2,
			    "--files %d x --file-size %s does not fit in memory: %s; use a smaller "
			    "--file-size or fewer --files",
			    fs.o.files, memguard_fmt(fs.o.file_size, a, sizeof(a)), why);
	}

	if (fs.source->setup && (r = fs.source->setup(&fs))) {
		/* the tcp source has said why in its own line */
		if (fs.source != &source_tcp)
			fprintf(stderr, "splicefs: data source %s: %s\n", fs.o.source,
			        strerror(-r));
		return r == -EINVAL ? 2 : 1;
	}
	if (stop_requested(&sigs)) {
		fprintf(stderr, "splicefs: stopped by a signal before mounting\n");
		goto out_source;
	}
	snprintf(mopts, sizeof(mopts), "fsname=splicefs,subtype=splicefs,ro,max_read=%u%s",
	         fs.o.max_read, fs.o.allow_other ? ",allow_other" : "");
	fs.se = fuse_session_new(&fargs, &ops, sizeof(ops), &fs);
	if (!fs.se) {
		fprintf(stderr, "splicefs: fuse_session_new failed\n");
		goto out_source;
	}
	if (fuse_session_mount(fs.se, real)) {
		fprintf(stderr, "splicefs: mounting %s failed (see libfuse's message above)\n",
		        real);
		goto out_session;
	}
	fs.fuse_fd = fuse_session_fd(fs.se);

	{
		static char initbuf[128 * 1024];

		if ((r = proto_handle_init(&fs, initbuf, sizeof(initbuf)))) {
			fprintf(stderr, "splicefs: FUSE INIT with the kernel failed: %s\n",
			        strerror(-r));
			goto out_unmount;
		}
	}
	if (fs.o.probe_only) {
		r = fuse_splices_probe(fs.fuse_fd);
		if (r >= 0)
			printf("FUSE_OUT_SPLICES: %s\n", r ? "yes" : "no (kernel answers EINVAL)");
		else
			fprintf(stderr, "splicefs: probe failed: %s\n", strerror(-r));
		if (r >= 0 && fuse_splices_v2_probe(fs.fuse_fd)) /* v2 refuses the write() */
			r = 1;
		if (r >= 0) /* v2 | write (seed or fixed: no bare probe tells them apart) | none */
			printf("splice reply: %s\n", fuse_splices_kind(fs.fuse_fd));
		rc = r > 0 ? 0 : r == 0 ? 1 : 2;
		goto out_unmount;
	}
	if (fs.mode->probe && (r = fs.mode->probe(&fs))) {
		rc = r == -EOPNOTSUPP ? SFS_EXIT_UNSUPPORTED : r == -EINVAL ? 2 : 1;
		goto out_unmount;
	}
	if (!fs.o.foreground && fs.o.log_file &&
	    (log_fd = open(fs.o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "splicefs: --log %s: %s\n", fs.o.log_file, strerror(errno));
		rc = 2;
		goto out_unmount;
	}
	if (!fs.o.foreground && (ready_fd = daemonize(log_fd)) < 0) {
		fprintf(stderr, "splicefs: could not go to the background: %s\n",
		        strerror(-ready_fd));
		goto out_unmount;
	}
	if (fs.o.pid_file) {
		FILE *f = fopen(fs.o.pid_file, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "splicefs: cannot write --pid-file %s: %s\n", fs.o.pid_file,
			        strerror(errno));
			if (f)
				unlink(fs.o.pid_file);
			goto out_unmount;
		}
		pid_written = true;
	}
	fs.main_thread = pthread_self();
	if ((r = workers_start(&fs))) {
		fprintf(stderr, "splicefs: starting %d workers: %s\n", fs.o.threads, strerror(-r));
		goto out_unmount;
	}
	set_readahead(&fs, real);
	if (ready_fd >= 0) { /* mounted, pid file written, workers serving: let the parent go */
		if (write(ready_fd, "", 1) != 1)
			fprintf(stderr,
			        "splicefs: warning: lost the parent before it saw us ready\n");
		close(ready_fd);
		ready_fd = -1;
	}

	rc = 0;
	/* No periodic wake-up: with --stats-interval 0 (bench/run, bench-cost) this thread
	 * sleeps until a signal, so nothing but the workers runs in a measured window. */
	for (struct timespec last = {0};;) {
		double iv = fs.o.stats_file ? fs.o.stats_interval : 0;
		struct timespec tick = {(time_t)iv, (long)((iv - (time_t)iv) * 1e9)}, now;
		int sig = iv > 0 ? sigtimedwait(&sigs, NULL, &tick) : sigwaitinfo(&sigs, NULL);

		if (sig == SIGUSR1 && stats_json(&fs, stats, sizeof(stats)) > 0)
			fputs(stats, stderr);
		else if (sig > 0)
			break; /* SIGINT, SIGTERM, SIGHUP (also a worker that ended) */
		if (fs.stop)
			break; /* unmounted from outside */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (fs.o.stats_file &&
		    (sig == SIGUSR1 ||
		     (fs.o.stats_interval > 0 &&
		      now.tv_sec - last.tv_sec + (now.tv_nsec - last.tv_nsec) / 1e9 >=
		          fs.o.stats_interval))) {
			if ((r = stats_write(&fs, fs.o.stats_file)) && !stats_warned) {
				fprintf(stderr, "splicefs: cannot write --stats-file %s: %s\n",
				        fs.o.stats_file, strerror(-r));
				stats_warned = true;
			}
			last = now;
		}
	}

out_unmount:
	fuse_session_unmount(fs.se);
	unmount_if_dead(real);
	unlock_mountpoint(); /* the mount point is free: a successor need not wait for our exit */
	workers_stop(&fs);
	if (fs.workers) {
		if (fs.o.stats_file && (r = stats_write(&fs, fs.o.stats_file))) {
			fprintf(stderr, "splicefs: cannot write --stats-file %s: %s\n",
			        fs.o.stats_file, strerror(-r));
			if (rc == 0)
				rc = 1;
		}
		if (stats_json(&fs, stats, sizeof(stats)) > 0)
			fprintf(stderr, "splicefs: exit: %s", stats);
		free(fs.workers);
	}
	if (pid_written)
		unlink(fs.o.pid_file);
out_session:
	fuse_session_destroy(fs.se);
out_source:
	if (fs.source->teardown)
		fs.source->teardown(&fs);
	return rc;
}
