// SPDX-License-Identifier: MIT
/*
 * splicefs main: options, checks, mount (libfuse), workers, signals, exit.
 * Every step that can fail unwinds what came before it (goto ladder, as in
 * libfuse's passthrough_ll.c): a failed start leaves no mount behind.
 */
#include "splicefs.h"
#include "fuse_splices.h"

#include <errno.h>
#include <fcntl.h>
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static bool is_mounted(const char *path, char *fstype, size_t len)
{
	char line[4096], mnt[PATH_MAX], type[256];
	FILE *f = fopen("/proc/self/mounts", "r");
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s %255s", mnt, type) == 2 && !strcmp(mnt, path)) {
			snprintf(fstype, len, "%s", type);
			found = true;
		}
	fclose(f);
	return found;
}

static void check_mountpoint(const char *mp, char *real)
{
	struct stat st;
	char type[256];

	if (stat(mp, &st) < 0) {
		if (errno == ENOTCONN)
			die(2,
			    "mount point %s is a dead FUSE mount: clear it with 'fusermount3 -u "
			    "%s'",
			    mp, mp);
		die(2, "mount point %s: %s: create it first (mkdir -p %s)", mp, strerror(errno),
		    mp);
	}
	if (!S_ISDIR(st.st_mode))
		die(2, "mount point %s is not a directory: give an empty directory", mp);
	if (!realpath(mp, real))
		die(2, "mount point %s: %s", mp, strerror(errno));
	if (is_mounted(real, type, sizeof(type)))
		die(2, "mount point %s is busy (a %s mount is there): unmount it or pick another",
		    real, type);
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		die(1,
		    "cannot open /dev/fuse (%s): load the fuse module (modprobe fuse) and run "
		    "as root or as a user allowed to use it",
		    strerror(errno));
	if (geteuid() != 0 && access("/bin/fusermount3", X_OK) < 0 &&
	    access("/usr/bin/fusermount3", X_OK) < 0)
		die(1, "not permitted to mount: run as root, or install fuse3 (fusermount3)");
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
static int daemonize(const char *log)
{
	int p[2], nul, logfd;
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
	logfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : nul;
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(logfd >= 0 ? logfd : nul, 2);
		if (logfd > 2 && logfd != nul)
			close(logfd);
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

int main(int argc, char **argv)
{
	static struct sfs fs;
	const struct fuse_lowlevel_ops ops = {0};
	char err[512], real[PATH_MAX], mopts[256], stats[2048];
	char *fargv[] = {argv[0], "-o", mopts, NULL};
	struct fuse_args fargs = FUSE_ARGS_INIT(3, fargv);
	sigset_t sigs;
	int rc = 1, r, ready_fd = -1;

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
	fs.pat = (struct pattern){fs.o.seed, fs.o.granule};
	fs.page_size = sysconf(_SC_PAGESIZE);
	fs.max_read = fs.o.max_read;
	fs.fuse_fd = -1;
	check_mountpoint(fs.o.mountpoint, real);

	/* Signals are taken synchronously by the main thread; workers block them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (fs.source->setup && (r = fs.source->setup(&fs))) {
		fprintf(stderr, "splicefs: data source %s: %s\n", fs.o.source, strerror(-r));
		return 1;
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
		rc = r > 0 ? 0 : r == 0 ? 1 : 2;
		goto out_unmount;
	}
	if (fs.mode->probe && (r = fs.mode->probe(&fs))) {
		rc = r == -EOPNOTSUPP ? SFS_EXIT_UNSUPPORTED : r == -EINVAL ? 2 : 1;
		goto out_unmount;
	}
	if (!fs.o.foreground && (ready_fd = daemonize(fs.o.log_file)) < 0) {
		fprintf(stderr, "splicefs: could not go to the background: %s\n",
		        strerror(-ready_fd));
		goto out_unmount;
	}
	if (fs.o.pid_file) {
		FILE *f = fopen(fs.o.pid_file, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "splicefs: cannot write --pid-file %s\n", fs.o.pid_file);
			goto out_unmount;
		}
	}
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
	for (struct timespec last = {0};;) {
		struct timespec tick = {0, 200 * 1000 * 1000}, now;
		int sig = sigtimedwait(&sigs, NULL, &tick);

		if (sig == SIGUSR1 && stats_json(&fs, stats, sizeof(stats)) > 0)
			fputs(stats, stderr);
		else if (sig > 0)
			break; /* SIGINT, SIGTERM, SIGHUP */
		if (fs.stop)
			break; /* unmounted from outside */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (fs.o.stats_file &&
		    (sig == SIGUSR1 ||
		     (fs.o.stats_interval > 0 &&
		      now.tv_sec - last.tv_sec + (now.tv_nsec - last.tv_nsec) / 1e9 >=
		          fs.o.stats_interval))) {
			stats_write(&fs, fs.o.stats_file);
			last = now;
		}
	}

out_unmount:
	fuse_session_unmount(fs.se);
	workers_stop(&fs);
	if (fs.workers) {
		if (fs.o.stats_file && stats_write(&fs, fs.o.stats_file))
			fprintf(stderr, "splicefs: cannot write --stats-file %s\n",
			        fs.o.stats_file);
		if (stats_json(&fs, stats, sizeof(stats)) > 0)
			fprintf(stderr, "splicefs: exit: %s", stats);
		free(fs.workers);
	}
	if (fs.o.pid_file && rc == 0)
		unlink(fs.o.pid_file);
out_session:
	fuse_session_destroy(fs.se);
out_source:
	if (fs.source->teardown)
		fs.source->teardown(&fs);
	return rc;
}
