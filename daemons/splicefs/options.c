// SPDX-License-Identifier: MIT
/*
 * splicefs options: declared once, in tables which drive parsing, defaults
 * and --help alike (the shape of fio's option tables and libfuse's fuse_opt
 * specs).  The options every mode shares are in opt_table[] below; each reply
 * mode declares its own in its ops table (.options, as fio's engines do), and
 * registry.c's list of modes brings them here.  One command line is parsed
 * against all of them at once: each owner's options land in its own block,
 * and the chosen mode keeps its block (o->mode_opts).
 */
#include "splicefs.h"
#include "opttab.h"
#include "daemon_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#define O(f) offsetof(struct sfs_opts, f)

/* One row per option reads best as a table. */
// clang-format off
static const struct opt_desc opt_table[] = {
	DAEMON_OPT_MODE(O, "copy", "reply mode (see modes below, and --list)"),
	DAEMON_OPT_SOURCE(O, "data source (see sources below, and --list)"),
	DAEMON_OPT_THREADS(O, "worker threads"),
	DAEMON_OPT_CLONE_FD(O, "give each worker its own /dev/fuse fd (FUSE_DEV_IOC_CLONE)"),
	DAEMON_OPTS_FILES(O),
	DAEMON_OPT_MAX_READ(O, 1 << 24, "largest FUSE_READ, a multiple of 4K (sets max_pages)"),
	DAEMON_OPTS_READAHEAD(O),
	DAEMON_OPT_DIRECT_IO(O, "open files with FOPEN_DIRECT_IO (bypass the page cache)"),
	DAEMON_OPTS_PATTERN(O),
	{"privilege", 0, OPT_STR, O(privilege), "root", "root|user",
	 "user: after mounting, the workers drop CAP_SYS_RESOURCE and CAP_SYS_ADMIN, so pipe sizes "
	 "obey /proc/sys/fs/pipe-max-size and pipe-user-pages-*"},
	DAEMON_OPTS_HOUSEKEEPING(O),
	{"probe", 0, OPT_BOOL, O(probe_only), NULL, NULL,
	 "mount, report whether the kernel accepts FUSE_OUT_SPLICES, unmount, exit 0 (yes) / 1"},
	{"slot-probe", 0, OPT_BOOL, O(slot_probe), NULL, NULL,
	 "count the pipe slots of socket-fed replies from the start (tee + vmsplice + drain: 3 "
	 "syscalls a reply; off by default, SIGUSR2 from another process toggles it)"},
	{"fault-swap", 0, OPT_BOOL, O(fault_swap), NULL, NULL,
	 "testing: every reply of 8 KiB or more has its first two 4 KiB pages swapped (modes "
	 "with fault_swap in --list); a byte-exact check must fail"},
	{"fault-flip-offset", 0, OPT_STR, O(fault_flip_arg), NULL, "N",
	 "testing: every reply longer than N bytes has its data byte at offset N XORed with 0xff, "
	 "counted in faults_injected (modes with fault_flip in --list); a byte-exact check must "
	 "fail at that file offset"},
	DAEMON_OPT_DEBUG(O, "log every request to stderr"),
	DAEMON_OPT_LIST(O, "print every mode and source, with their options, as JSON and exit"),
	DAEMON_OPTS_VERSION_HELP(O),
};

// clang-format on

#define NOPTS    (sizeof(opt_table) / sizeof(opt_table[0]))
#define ALIGN(x) (((x) + 15) & ~(size_t)15)

void sfs_usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s MOUNTPOINT [options]\n\n"
	        "A read-only FUSE filesystem serving offset-pattern files, answering\n"
	        "FUSE_READ in the chosen reply mode.\n\noptions:\n",
	        prog);
	opt_usage(f, opt_table, NOPTS);
	fprintf(f,
	        "\nexit status: 0 served and unmounted cleanly; 1 failed; 2 bad input; 3 the mode\n"
	        "cannot run here (the kernel lacks it, or the source does not fit it).\n");
	fprintf(f, "\nmodes (--mode NAME) and their options:\n");
	for (const struct reply_mode *const *m = reply_modes; *m; m++) {
		fprintf(f, "  %-12s %s\n", (*m)->name, (*m)->help);
		if ((*m)->needs && *(*m)->needs)
			fprintf(f, "  %-12s needs: %s\n", "", (*m)->needs);
		if ((*m)->noptions)
			opt_usage(f, (*m)->options, (*m)->noptions);
	}
	fprintf(f, "\nsources (--source SPEC) and their settings (SPEC?key=value&...):\n");
	for (const struct data_source *const *s = data_sources; *s; s++) {
		fprintf(f, "  %-16s %s\n", (*s)->spec, (*s)->help);
		for (size_t i = 0; i < (*s)->noptions; i++)
			fprintf(f, "    %-26s %s [%s]\n", (*s)->options[i].name,
			        (*s)->options[i].help,
			        (*s)->options[i].def ? (*s)->options[i].def : "");
	}
}

void sfs_free_opts(struct sfs_opts *o)
{
	free(o->mode_opts);
	free(o->src_opts);
	o->mode_opts = o->src_opts = NULL;
}

/*
 * One table for the whole command line: the shared rows, then each mode's,
 * every row's offset moved into its owner's block of one scratch area.  A row
 * of a mode other than the chosen one, given on the command line, is refused:
 * its owner is known from the table, no option is named here.
 */
static int parse_all(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	size_t nrows = NOPTS, size = ALIGN(sizeof(*o)), r = 0;
	size_t at[64], row[64];
	struct opt_desc *t;
	char *scratch;
	bool *seen;
	int first, k = 0;

	for (const struct reply_mode *const *m = reply_modes; *m; m++, k++) {
		nrows += (*m)->noptions;
		at[k] = size;
		size += ALIGN((*m)->opts_size);
	}
	t = calloc(nrows, sizeof(*t));
	seen = calloc(nrows, sizeof(*seen));
	scratch = calloc(1, size);
	if (!t || !seen || !scratch) {
		free(t);
		free(seen);
		free(scratch);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(t, opt_table, sizeof(opt_table));
	r = NOPTS;
	k = 0;
	for (const struct reply_mode *const *m = reply_modes; *m; m++, k++) {
		row[k] = r;
		for (size_t i = 0; i < (*m)->noptions; i++) {
			t[r] = (*m)->options[i];
			t[r++].off += at[k];
		}
	}
	first = opt_parse_seen(t, nrows, scratch, argc, argv, seen, err, errlen);
	if (first >= 0) {
		const struct reply_mode *chosen = NULL;

		memcpy(o, scratch, sizeof(*o));
		k = 0;
		for (const struct reply_mode *const *m = reply_modes; *m; m++, k++)
			if (o->mode && !strcmp((*m)->name, o->mode)) {
				chosen = *m;
				if ((*m)->opts_size && (o->mode_opts = malloc((*m)->opts_size)))
					memcpy(o->mode_opts, scratch + at[k], (*m)->opts_size);
			}
		k = 0;
		for (const struct reply_mode *const *m = reply_modes; *m; m++, k++)
			for (size_t i = 0; chosen && *m != chosen && i < (*m)->noptions; i++)
				if (seen[row[k] + i] && !o->help && !o->list && !o->version) {
					snprintf(
					    err, errlen,
					    "--%s is an option of mode %s, not %s; drop it or use "
					    "--mode %s",
					    (*m)->options[i].name, (*m)->name, chosen->name,
					    (*m)->name);
					free(o->mode_opts);
					o->mode_opts = NULL;
					first = -1;
					goto out;
				}
	}
out:
	free(t);
	free(seen);
	free(scratch);
	return first;
}

int sfs_parse_opts(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const struct reply_mode *mode;
	const struct data_source *src;
	char names[256];
	int first;

	memset(o, 0, sizeof(*o));
	first = parse_all(o, argc, argv, err, errlen);
	if (first < 0)
		return -1;
	optind = first;
	if (o->help || o->version || o->list)
		return 0;
	if (optind < argc)
		o->mountpoint = argv[optind++];
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s': one mount point only",
		         argv[optind]);
		return -1;
	}
	if (!o->mountpoint) {
		snprintf(err, errlen, "no mount point given: splicefs MOUNTPOINT [options]");
		return -1;
	}
	if (o->max_read % 4096) {
		snprintf(err, errlen, "--max-read %u is not a multiple of 4096", o->max_read);
		return -1;
	}
	if (o->granule % 8) {
		snprintf(err, errlen, "--granule %" PRIu64 " is not a multiple of 8", o->granule);
		return -1;
	}
	if (!strcmp(o->privilege, "user")) {
		o->user = true;
	} else if (strcmp(o->privilege, "root")) {
		snprintf(err, errlen, "--privilege '%s': use root or user", o->privilege);
		return -1;
	}
	mode = mode_find(o->mode);
	if (!mode) {
		snprintf(err, errlen, "unknown mode '%s': use one of %s (splicefs --list)", o->mode,
		         mode_names(names, sizeof(names)));
		return -1;
	}
	if (mode->opts_size && !o->mode_opts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->fault_swap && !mode->fault_swap) {
		snprintf(err, errlen, "--fault-swap: mode %s does not implement it (see --list)",
		         mode->name);
		return -1;
	}
	if (o->fault_flip_arg) {
		if (parse_size(o->fault_flip_arg, &o->flip_offset) ||
		    o->flip_offset >= o->max_read) {
			snprintf(
			    err, errlen,
			    "--fault-flip-offset '%s': give a byte offset inside a reply, below "
			    "--max-read %u",
			    o->fault_flip_arg, o->max_read);
			return -1;
		}
		o->fault_flip = true;
	}
	if (o->fault_flip && !mode->fault_flip) {
		snprintf(err, errlen,
		         "--fault-flip-offset: mode %s does not implement it (see --list)",
		         mode->name);
		return -1;
	}
	if (o->fault_flip && o->fault_swap) {
		snprintf(err, errlen,
		         "--fault-flip-offset and --fault-swap: one fault at a time, drop one");
		return -1;
	}
	if (mode->check && mode->check(o, err, errlen))
		return -1;
	src = source_find(o->source);
	if (!src) {
		snprintf(err, errlen, "unknown source '%s': use one of %s (splicefs --list)",
		         o->source, source_names(names, sizeof(names)));
		return -1;
	}
	if (src->opts_size && !(o->src_opts = calloc(1, src->opts_size))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (src->parse && src->parse(o->source, o->src_opts, err, errlen))
		return -1;
	return 0;
}
