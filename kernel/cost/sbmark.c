/* SPDX-License-Identifier: MIT */
/*
 * sbmark: open and close a cost-measurement window of the sbcost QEMU plugin
 * from inside the guest.
 *
 *   sbmark begin LABEL          send LABEL, then the marker: the window opens
 *   sbmark end                  the marker: the window closes
 *   sbmark run LABEL -- CMD...  run CMD inside a window; exits with CMD's status
 *
 * The marker is `xchg %bx,%bx`; the label travels as `xchg %si,%si` (clear),
 * `xchg %cx,%cx` (a 0 bit) and `xchg %dx,%dx` (a 1 bit).  All four are
 * no-ops, so sbmark is harmless on real hardware or under KVM: there it only
 * runs CMD (after waiting for the next timer tick, as in the VM: see wait_tick).  With `run`, the window opens in the child just before execvp()
 * and closes in the parent once waitpid() returns, so it holds the exec of
 * CMD, CMD itself and its exit.  The plugin's marker is a toggle: a `begin`
 * without its `end` swallows the next `begin`'s marker as a close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LABEL_MAX 63 /* what the plugin keeps */

static inline void marker(void)
{
	__asm__ volatile("xchg %%bx,%%bx" ::: "memory");
}

/*
 * Wait for the next timer tick: CLOCK_MONOTONIC_COARSE moves only when the kernel
 * takes one.  The guest's ticks fall at fixed points of virtual time, but a boot's
 * earlier I/O waits (idle time, skipped over at a speed that depends on the host)
 * leave the window's start at a random phase between two ticks, so the number of
 * ticks, and what they run, would vary from boot to boot.  Opening the window
 * just after a tick removes that.  At most one tick (4 ms at HZ=250); bounded by
 * 50 ms of CLOCK_MONOTONIC in case the coarse clock does not move.
 */
static void wait_tick(void)
{
	struct timespec c0, c, t0, t;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &c0) || clock_gettime(CLOCK_MONOTONIC, &t0))
		return;
	do {
		if (clock_gettime(CLOCK_MONOTONIC_COARSE, &c) || clock_gettime(CLOCK_MONOTONIC, &t))
			return;
		if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 50000000L)
			return;
	} while (c.tv_sec == c0.tv_sec && c.tv_nsec == c0.tv_nsec);
}

static void send_label(const char *s)
{
	size_t n = strlen(s), i;
	int b;

	if (n > LABEL_MAX)
		n = LABEL_MAX;
	__asm__ volatile("xchg %%si,%%si" ::: "memory");
	for (i = 0; i < n; i++)
		for (b = 7; b >= 0; b--) {
			if (((unsigned char)s[i] >> b) & 1)
				__asm__ volatile("xchg %%dx,%%dx" ::: "memory");
			else
				__asm__ volatile("xchg %%cx,%%cx" ::: "memory");
		}
}

static int usage(void)
{
	fprintf(stderr, "usage: sbmark begin LABEL | sbmark end | sbmark run LABEL -- CMD [ARG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "begin") == 0) {
		send_label(argv[2]);
		wait_tick();
		marker();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "end") == 0) {
		marker();
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "run") == 0 && strcmp(argv[3], "--") == 0) {
		int st;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			perror("sbmark: fork");
			return 125;
		}
		if (pid == 0) {
			send_label(argv[2]);
			wait_tick();
			marker();
			execvp(argv[4], argv + 4);
			fprintf(stderr, "sbmark: cannot run %s\n", argv[4]);
			_exit(127);
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR) {
				marker();
				perror("sbmark: waitpid");
				return 125;
			}
		marker();
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		return 128 + WTERMSIG(st);
	}
	return usage();
}
