// SPDX-License-Identifier: MIT
/*
 * splicefs main: options, checks, mount (libfuse), workers, signals, exit.
 * Every step that can fail unwinds what came before it (goto ladder, as in
 * libfuse's passthrough_ll.c): a failed start leaves no mount behind.  The
 * mount point itself (lock, dead mounts, background) is daemons/common's
 * mountpoint.c, shared with libfuse-ref.
 */
#include "splicefs.h"
#include "fuse_splices.h"
#include "memguard.h"
#include "mountpoint.h"

#include <errno.h>
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPLICEFS_VERSION "0.1"

/* One line, what was wrong and what to do; then exit (mountpoint.h). */
#define die mnt_die

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

/* Everything main() keeps between its steps. */
struct run {
	struct sfs fs;
	char real[PATH_MAX], mopts[256];
	sigset_t sigs;
	int ready_fd;
	bool pid_written;
};

/* --help, --version, --list: print and exit 0. */
static void informational(struct sfs *fs)
{
	if (fs->o.help)
		sfs_usage(stdout, "splicefs");
	else if (fs->o.version)
		print_version();
	else if (fs->o.list)
		sfs_list(stdout);
	else
		return;
	exit(0);
}

static void setup_fs(struct sfs *fs)
{
	fs->mode = mode_find(fs->o.mode);
	fs->source = source_find(fs->o.source);
	if (fs->o.probe_only) { /* the probe reads nothing: do not fill a gigabyte for it */
		fs->o.file_size = 4096;
		fs->o.files = 1;
		fs->source = &source_mem;
	}
	fs->pat = (struct pattern){fs->o.seed, fs->o.granule};
	fs->page_size = sysconf(_SC_PAGESIZE);
	fs->max_read = fs->o.max_read;
	fs->fuse_fd = -1;
}

/* Signals are taken synchronously by the main thread; workers block them. */
static void setup_signals(struct run *r)
{
	sigemptyset(&r->sigs);
	sigaddset(&r->sigs, SIGINT);
	sigaddset(&r->sigs, SIGTERM);
	sigaddset(&r->sigs, SIGHUP);
	sigaddset(&r->sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &r->sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfs_slot_probe = r->fs.o.slot_probe;
	sfs_signals_init(); /* SIGUSR2: the slot probe's switch, from the start */
}

/* Files we write: absolute (we chdir("/") in the background), writable, before mounting. */
static void check_files(struct sfs_opts *o)
{
	static char pid_path[PATH_MAX + 1], log_path[PATH_MAX + 1], stats_path[PATH_MAX + 1];

	o->pid_file = mnt_abs_path(o->pid_file, pid_path, sizeof(pid_path));
	o->log_file = mnt_abs_path(o->log_file, log_path, sizeof(log_path));
	o->stats_file = mnt_abs_path(o->stats_file, stats_path, sizeof(stats_path));
	mnt_check_out_file("pid-file", o->pid_file);
	mnt_check_out_file("log", o->log_file);
	mnt_check_out_file("stats-file", o->stats_file);
}

/* Files are filled eagerly: refuse up front what does not fit. */
static void check_memory(const struct sfs *fs)
{
	uint64_t need = fs->o.file_size * (uint64_t)fs->o.files;
	char why[1024], a[32];

	if (fs->source == &source_mem && memguard_check(need, why, sizeof(why)))
		die(2,
		    "--files %d x --file-size %s does not fit in memory: %s; use a smaller "
		    "--file-size or fewer --files",
		    fs->o.files, memguard_fmt(fs->o.file_size, a, sizeof(a)), why);
}

/* The data source, set up before mounting: 0, or the exit status. */
static int setup_source(struct sfs *fs)
{
	int r = fs->source->setup ? fs->source->setup(fs) : 0;

	if (!r)
		return 0;
	if (fs->source != &source_tcp) /* the tcp source has said why in its own line */
		fprintf(stderr, "splicefs: data source %s: %s\n", fs->o.source, strerror(-r));
	return r == -EINVAL ? 2 : 1;
}

/* A libfuse session mounted at r->real, INIT answered: 0, 1 no session, 2 not mounted. */
static int mount_fs(struct run *r, char *argv0)
{
	static char initbuf[128 * 1024];
	const struct fuse_lowlevel_ops ops = {0};
	char *fargv[] = {argv0, "-o", r->mopts, NULL};
	struct fuse_args fargs = FUSE_ARGS_INIT(3, fargv);
	struct sfs *fs = &r->fs;
	int e;

	snprintf(r->mopts, sizeof(r->mopts), "fsname=splicefs,subtype=splicefs,ro,max_read=%u%s",
	         fs->o.max_read, fs->o.allow_other ? ",allow_other" : "");
	fs->se = fuse_session_new(&fargs, &ops, sizeof(ops), fs);
	if (!fs->se) {
		fprintf(stderr, "splicefs: fuse_session_new failed\n");
		return 1;
	}
	if (fuse_session_mount(fs->se, r->real)) {
		fprintf(stderr, "splicefs: mounting %s failed (see libfuse's message above)\n",
		        r->real);
		return 2;
	}
	fs->fuse_fd = fuse_session_fd(fs->se);
	if ((e = proto_handle_init(fs, initbuf, sizeof(initbuf))))
		fprintf(stderr, "splicefs: FUSE INIT with the kernel failed: %s\n", strerror(-e));
	return e ? 3 : 0;
}

/* --probe: FUSE_OUT_SPLICES and the splice reply this kernel takes; the exit status. */
static int probe_only(struct sfs *fs)
{
	int r = fuse_splices_probe(fs->fuse_fd);

	if (r >= 0)
		printf("FUSE_OUT_SPLICES: %s\n", r ? "yes" : "no (kernel answers EINVAL)");
	else
		fprintf(stderr, "splicefs: probe failed: %s\n", strerror(-r));
	/* v2 and v3 refuse the write() form: their ioctl is the splice reply */
	if (r >= 0 && (fuse_splices_v3_probe(fs->fuse_fd) || fuse_splices_v2_probe(fs->fuse_fd)))
		r = 1;
	if (r >= 0) /* v3 | v2 | write (seed or fixed: no bare probe tells them apart) | none */
		printf("splice reply: %s\n", fuse_splices_kind(fs->fuse_fd));
	return r > 0 ? 0 : r == 0 ? 1 : 2;
}

/* Mounted: the mode's check, the background, the pid file, the workers.  0 or the status. */
static int start_serving(struct run *r)
{
	struct sfs *fs = &r->fs;
	int e, log_fd = -1;

	if (fs->mode->probe && (e = fs->mode->probe(fs)))
		return e == -EOPNOTSUPP ? SFS_EXIT_UNSUPPORTED : e == -EINVAL ? 2 : 1;
	if (!fs->o.foreground && fs->o.log_file &&
	    (log_fd = open(fs->o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "splicefs: --log %s: %s\n", fs->o.log_file, strerror(errno));
		return 2;
	}
	if (!fs->o.foreground) {
		if ((r->ready_fd = mnt_daemonize(NULL)) < 0) {
			fprintf(stderr, "splicefs: could not go to the background: %s\n",
			        strerror(-r->ready_fd));
			return 1;
		}
		mnt_detach_stdio(log_fd);
		mnt_lock_note_pid();
	}
	if (fs->o.pid_file) {
		FILE *f = fopen(fs->o.pid_file, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "splicefs: cannot write --pid-file %s: %s\n",
			        fs->o.pid_file, strerror(errno));
			if (f)
				unlink(fs->o.pid_file);
			return 1;
		}
		r->pid_written = true;
	}
	fs->main_thread = pthread_self();
	if ((e = workers_start(fs))) {
		fprintf(stderr, "splicefs: starting %d workers: %s\n", fs->o.threads, strerror(-e));
		return 1;
	}
	if (!fs->o.direct_io) /* buffered reads: readahead asks for max_read at a time */
		mnt_set_readahead(r->real,
		                  fs->o.readahead < fs->max_read ? fs->o.readahead : fs->max_read);
	mnt_ready(&r->ready_fd); /* mounted, pid file written, workers serving */
	return 0;
}

/* Rewrite the stats file; warn once when it cannot. */
static void write_stats(struct sfs *fs, bool *warned)
{
	int r = stats_write(fs, fs->o.stats_file);

	if (r && !*warned) {
		fprintf(stderr, "splicefs: cannot write --stats-file %s: %s\n", fs->o.stats_file,
		        strerror(-r));
		*warned = true;
	}
}

/*
 * Serve until a signal or the unmount.  No periodic wake-up: with
 * --stats-interval 0 (bench/run, bench-cost) this thread sleeps until a signal,
 * so nothing but the workers runs in a measured window.
 */
static void serve(struct run *r)
{
	struct sfs *fs = &r->fs;
	char stats[2048];
	bool warned = false;

	for (struct timespec last = {0};;) {
		double iv = fs->o.stats_file ? fs->o.stats_interval : 0;
		struct timespec tick = {(time_t)iv, (long)((iv - (time_t)iv) * 1e9)}, now;
		int sig =
		    iv > 0 ? sigtimedwait(&r->sigs, NULL, &tick) : sigwaitinfo(&r->sigs, NULL);

		if (sig == SIGUSR1 && stats_json(fs, stats, sizeof(stats)) > 0)
			fputs(stats, stderr);
		else if (sig > 0)
			break; /* SIGINT, SIGTERM, SIGHUP (also a worker that ended) */
		if (fs->stop)
			break; /* unmounted from outside */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (fs->o.stats_file &&
		    (sig == SIGUSR1 ||
		     (iv > 0 &&
		      now.tv_sec - last.tv_sec + (now.tv_nsec - last.tv_nsec) / 1e9 >= iv))) {
			write_stats(fs, &warned);
			last = now;
		}
	}
}

/* Unmount, stop the workers, the last counters; the exit status (rc, or 1 for lost stats). */
static int finish(struct run *r, int rc)
{
	struct sfs *fs = &r->fs;
	char stats[2048];
	int e;

	fuse_session_unmount(fs->se);
	mnt_unmount_if_dead(r->real);
	mnt_unlock(); /* the mount point is free: a successor need not wait for our exit */
	workers_stop(fs);
	if (fs->workers) {
		if (fs->o.stats_file && (e = stats_write(fs, fs->o.stats_file))) {
			fprintf(stderr, "splicefs: cannot write --stats-file %s: %s\n",
			        fs->o.stats_file, strerror(-e));
			if (rc == 0)
				rc = 1;
		}
		if (stats_json(fs, stats, sizeof(stats)) > 0)
			fprintf(stderr, "splicefs: exit: %s", stats);
		free(fs->workers);
	}
	if (r->pid_written)
		unlink(fs->o.pid_file);
	return rc;
}

int main(int argc, char **argv)
{
	static struct run r = {.ready_fd = -1};
	struct sfs *fs = &r.fs;
	char err[512];
	int rc;

	setvbuf(stderr, NULL, _IOLBF, 0);
	mnt_prog = "splicefs";
	if (sfs_parse_opts(&fs->o, argc, argv, err, sizeof(err)))
		die(2, "%s", err);
	informational(fs);
	setup_fs(fs);
	setup_signals(&r);
	check_files(&fs->o);
	mnt_check(fs->o.mountpoint, r.real); /* takes the mount point's lock */
	check_memory(fs);
	if ((rc = setup_source(fs)))
		return rc;
	rc = 1;
	if (stop_requested(&r.sigs)) {
		fprintf(stderr, "splicefs: stopped by a signal before mounting\n");
		goto out_source;
	}
	switch (mount_fs(&r, argv[0])) {
	case 1:
		goto out_source;
	case 2:
		goto out_session;
	case 3:
		goto out_unmount;
	}
	if (fs->o.probe_only)
		rc = probe_only(fs);
	else if (!(rc = start_serving(&r)))
		serve(&r);
out_unmount:
	rc = finish(&r, rc);
out_session:
	fuse_session_destroy(fs->se);
out_source:
	if (fs->source->teardown)
		fs->source->teardown(fs);
	return rc;
}
