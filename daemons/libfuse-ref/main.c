// SPDX-License-Identifier: MIT
/*
 * libfuse-ref main: options (one table: parsing, --help, --list), checks,
 * libfuse's session, mount, daemon, signal handlers and loop, the way
 * libfuse's own examples (passthrough_ll.c) do it, plus what the suite needs:
 * the same command line as splicefs, a pid file, a stats file, and a parent
 * that returns only once the mount serves.
 *
 * Exit status: 0 served and unmounted; 1 failed; 2 bad input (one line, no
 * mount left); 3 the mode cannot run here.
 */
#include "ref.h"
#include "daemon_opts.h"
#include "mountpoint.h"
#include "opttab.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ref ref = {.ready_fd = -1};

const struct ref_mode *const ref_modes[] = {&mode_libfuse_copy, &mode_libfuse_splice, NULL};
const struct ref_source *const ref_sources[] = {&source_mem, &source_tcp, NULL};

#define O(f) offsetof(struct ref_opts, f)
/* One row per option reads best as a table.  Names and meanings as splicefs's. */
// clang-format off
static const struct opt_desc opt_table[] = {
	DAEMON_OPT_MODE(O, "libfuse-copy", "reply mode (see below and --list)"),
	DAEMON_OPT_SOURCE(O, "data source: mem (a memfd per file) or tcp://HOST:PORT (sbserver)"),
	DAEMON_OPT_THREADS(O, "libfuse threads: 1 runs fuse_session_loop, more fuse_session_loop_mt"),
	DAEMON_OPT_CLONE_FD(O, "fuse_session_loop_mt with clone_fd: a /dev/fuse fd per thread"),
	DAEMON_OPTS_FILES(O),
	DAEMON_OPT_MAX_READ(O, 1 << 20,
	                    "largest FUSE_READ, a multiple of 4K (libfuse 3.14 allows up to 1M)"),
	DAEMON_OPTS_READAHEAD(O),
	DAEMON_OPT_DIRECT_IO(O, "open files with direct_io (bypass the page cache)"),
	DAEMON_OPTS_PATTERN(O),
	DAEMON_OPTS_HOUSEKEEPING(O),
	DAEMON_OPT_DEBUG(O, "libfuse's debug output (-d) on stderr"),
	DAEMON_OPT_LIST(O, "print the modes and sources as JSON and exit"),
	DAEMON_OPTS_VERSION_HELP(O),
};
// clang-format on
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

/* One line, what was wrong and what to do; then exit (mountpoint.h). */
#define die mnt_die

static void usage(FILE *f)
{
	fprintf(f, "usage: libfuse-ref MOUNTPOINT [options]\n\n"
	           "A stock-libfuse (low-level API) read-only filesystem serving the same\n"
	           "pattern files as splicefs, answering READ with libfuse's own replies.\n\n"
	           "options:\n");
	opt_usage(f, opt_table, NOPTS);
	fprintf(f, "\nmodes:\n");
	for (const struct ref_mode *const *m = ref_modes; *m; m++)
		fprintf(f, "  %-15s %s\n", (*m)->name, (*m)->help);
	fprintf(f, "\nsources:\n");
	for (const struct ref_source *const *s = ref_sources; *s; s++)
		fprintf(f, "  %-15s %s\n", (*s)->spec, (*s)->help);
	fprintf(f,
	        "\nexit status: 0 served and unmounted cleanly; 1 failed; 2 bad input; 3 the mode\n"
	        "cannot run here.\n");
}

static void parse(int argc, char **argv)
{
	char err[512], names[256];
	int first;

	first = opt_parse(opt_table, NOPTS, &ref.o, argc, argv, err, sizeof(err));
	if (first < 0)
		die(2, "%s", err);
	if (ref.o.help || ref.o.version || ref.o.list)
		return;
	if (first < argc)
		ref.o.mountpoint = argv[first++];
	if (first < argc)
		die(2, "unexpected argument '%s': one mount point only", argv[first]);
	if (!ref.o.mountpoint)
		die(2, "no mount point given: libfuse-ref MOUNTPOINT [options]");
	ref.mode = daemon_find(DAEMON_LIST(ref_modes), ref.o.mode);
	if (!ref.mode)
		die(2, "unknown mode '%s': use one of %s (libfuse-ref --list)", ref.o.mode,
		    daemon_names(DAEMON_LIST(ref_modes), false, names, sizeof(names)));
	ref.source = daemon_find_spec(DAEMON_LIST(ref_sources), ref.o.source);
	if (!ref.source)
		die(2, "unknown source '%s': use mem or tcp://HOST:PORT (libfuse-ref --list)",
		    ref.o.source);
	if (ref.o.max_read % 4096)
		die(2, "--max-read %u is not a multiple of 4096", ref.o.max_read);
	ref.pat = (struct pattern){ref.o.seed, ref.o.granule};
	if (pattern_valid(&ref.pat))
		die(2, "--granule %llu is not a multiple of 8", (unsigned long long)ref.o.granule);
}

/* From libfuse's init callback: mounted, INIT answered next, pid file written. */
void ref_ready(void)
{
	ref.served = true;
	if (ref.ready_fd < 0)
		return;
	mnt_detach_stdio(ref.o.log_file
	                     ? open(ref.o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
	                     : -1);
	mnt_ready(&ref.ready_fd);
}

static volatile sig_atomic_t want_stats, stats_stop;
static sem_t stats_wake; /* posted by SIGUSR1 and at exit */

static void on_usr1(int sig)
{
	(void)sig;
	want_stats = 1;
	sem_post(&stats_wake); /* async-signal-safe */
}

/* Rewrites the stats file every --stats-interval, and on SIGUSR1 (which also prints the
 * counters).  With --stats-interval 0 (bench/run) it sleeps until SIGUSR1 or exit: an
 * idle daemon, kept mounted while the others of its group are measured, never wakes. */
static void *stats_main(void *arg)
{
	double iv = ref.o.stats_interval;
	char buf[2048];

	(void)arg;
	while (!stats_stop) {
		if (iv > 0) {
			struct timespec dl;

			clock_gettime(CLOCK_REALTIME, &dl); /* sem_timedwait's clock */
			dl.tv_sec += (time_t)iv;
			dl.tv_nsec += (long)((iv - (time_t)iv) * 1e9);
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			while (sem_timedwait(&stats_wake, &dl) && errno == EINTR)
				;
		} else {
			while (sem_wait(&stats_wake) && errno == EINTR)
				;
		}
		if (stats_stop)
			break;
		if (want_stats) {
			want_stats = 0;
			if (stats_json(buf, sizeof(buf)) > 0)
				fputs(buf, stderr);
		}
		if (ref.o.stats_file)
			stats_write(ref.o.stats_file);
	}
	return NULL;
}

static int run_loop(void)
{
	struct fuse_loop_config *cfg;
	int res;

	if (ref.o.threads == 1)
		return fuse_session_loop(ref.se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, ref.o.clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, ref.o.threads);
	fuse_loop_cfg_set_idle_threads(cfg, ref.o.threads);
	res = fuse_session_loop_mt(ref.se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return res;
}

/* --help, --version, --list: print and exit 0. */
static void informational(void)
{
	/* --list: the same shape as splicefs --list (interfaces: one JSON object). */
	const struct daemon_list l = {"libfuse-ref", DAEMON_LIST(ref_modes),
	                              NULL,          DAEMON_LIST(ref_sources),
	                              ref_counters,  ref_ncounters};

	if (ref.o.help)
		usage(stdout);
	else if (ref.o.version)
		printf("libfuse-ref (libfuse %s, FUSE_USE_VERSION %d)\n", fuse_pkgversion(),
		       FUSE_USE_VERSION);
	else if (ref.o.list)
		daemon_list_json(stdout, &l);
	else
		return;
	exit(0);
}

/* The mount point (locked) and the files we write, absolute: the daemon changes to /. */
static void check_paths(void)
{
	static char pid_path[PATH_MAX + 1], log_path[PATH_MAX + 1], stats_path[PATH_MAX + 1];

	mnt_check(ref.o.mountpoint, ref.mnt); /* takes the mount point's lock */
	ref.o.pid_file = mnt_abs_path(ref.o.pid_file, pid_path, sizeof(pid_path));
	ref.o.stats_file = mnt_abs_path(ref.o.stats_file, stats_path, sizeof(stats_path));
	ref.o.log_file = mnt_abs_path(ref.o.log_file, log_path, sizeof(log_path));
}

/* The stats thread takes no signal: they must reach libfuse's threads.  0 or -1. */
static int start_stats(pthread_t *thr)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigset_t all, old;
	int res;

	sem_init(&stats_wake, 0, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	res = pthread_create(thr, NULL, stats_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (res)
		fprintf(stderr, "libfuse-ref: cannot start the stats thread\n");
	return res ? -1 : 0;
}

/* libfuse's session, mounted at ref.mnt: 0; 1 no session; 2 not mounted. */
static int mount_ref(char *argv0)
{
	static char mopts[256];
	static char *fargv[] = {NULL, "-o", mopts, NULL, NULL};
	struct fuse_args fargs = FUSE_ARGS_INIT(3, fargv);

	fargv[0] = argv0;
	snprintf(mopts, sizeof(mopts), "fsname=libfuse-ref,subtype=libfuse-ref,ro,max_read=%u%s",
	         ref.o.max_read, ref.o.allow_other ? ",allow_other" : "");
	if (ref.o.debug)
		fargv[fargs.argc++] = "-d";
	ref.se = fuse_session_new(&fargs, &ref_ops, sizeof(ref_ops), NULL);
	if (!ref.se) {
		fprintf(stderr, "libfuse-ref: fuse_session_new failed (see libfuse's message)\n");
		return 1;
	}
	if (fuse_session_mount(ref.se, ref.mnt)) {
		fprintf(stderr, "libfuse-ref: mounting %s failed (see libfuse's message)\n",
		        ref.mnt);
		return 2;
	}
	return 0;
}

/* Unmount (a dead mount of ours cleared, the lock given up), release, the last counters. */
static void finish(void)
{
	char buf[2048];

	fuse_session_unmount(ref.se);
	mnt_unmount_if_dead(ref.mnt);
	mnt_unlock(); /* the mount point is free: a successor need not wait for our exit */
	thr_release_all();
	if (!ref.served)
		return;
	if (ref.o.stats_file && stats_write(ref.o.stats_file))
		fprintf(stderr, "libfuse-ref: cannot write --stats-file %s\n", ref.o.stats_file);
	if (stats_json(buf, sizeof(buf)) > 0)
		fprintf(stderr, "libfuse-ref: exit: %s", buf);
}

int main(int argc, char **argv)
{
	pthread_t stats_thr;
	int rc = 1, res;

	setvbuf(stderr, NULL, _IOLBF, 0);
	mnt_prog = "libfuse-ref";
	parse(argc, argv);
	informational();
	check_paths();
	ref.page_size = sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);
	/* bench/run sends SIGUSR2 around its check (splicefs: the slot probe); none here */
	signal(SIGUSR2, SIG_IGN);

	if ((res = ref.source->setup(&ref)))
		return res == -EINVAL ? 2 : 1;
	switch (mount_ref(argv[0])) {
	case 1:
		goto out_source;
	case 2:
		goto out_session;
	}
	/* In the background the parent returns once init ran and a stat of the mount answers
	 * (libfuse still checks what init set); the child keeps the caller's stderr until it
	 * serves (ref_ready), so that a refusal is one line there. */
	if (!ref.o.foreground) {
		if ((ref.ready_fd = mnt_daemonize(ref.mnt)) < 0)
			die(1, "could not go to the background: %s", strerror(-ref.ready_fd));
		mnt_lock_note_pid();
	}
	if (ref.o.pid_file) {
		FILE *f = fopen(ref.o.pid_file, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "libfuse-ref: cannot write --pid-file %s\n",
			        ref.o.pid_file);
			goto out_unmount;
		}
	}
	if (fuse_set_signal_handlers(ref.se)) {
		fprintf(stderr, "libfuse-ref: cannot set signal handlers\n");
		goto out_pid;
	}
	if (!ref.o.direct_io) /* buffered reads: readahead asks for max_read at a time */
		mnt_set_readahead(ref.mnt, ref.o.readahead < ref.o.max_read ? ref.o.readahead
		                                                            : ref.o.max_read);
	if (start_stats(&stats_thr))
		goto out_signals;

	res = run_loop();
	rc = ref.exit_code ? ref.exit_code : (res < 0 && res != -EINTR) ? 1 : 0;
	if (rc == 1)
		fprintf(stderr, "libfuse-ref: libfuse's loop ended with %s\n", strerror(-res));
	stats_stop = 1;
	sem_post(&stats_wake);
	pthread_join(stats_thr, NULL);
out_signals:
	fuse_remove_signal_handlers(ref.se);
out_pid:
	if (ref.o.pid_file)
		unlink(ref.o.pid_file);
out_unmount:
	finish();
out_session:
	fuse_session_destroy(ref.se);
out_source:
	if (ref.source->teardown)
		ref.source->teardown(&ref);
	return rc;
}
