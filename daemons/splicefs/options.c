// SPDX-License-Identifier: MIT
/*
 * splicefs options: declared once, in opt_table[], which drives parsing,
 * defaults and --help alike (the shape of fio's option tables and libfuse's
 * fuse_opt specs).
 */
#include "splicefs.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { T_STR, T_INT, T_SIZE, T_U64, T_BOOL, T_DOUBLE };

struct opt_desc {
	const char *name;
	int shortopt;
	enum opt_type type;
	size_t off;
	const char *def; /* default, parsed like a command-line value; NULL = none */
	const char *arg; /* placeholder in --help */
	const char *help;
	uint64_t min, max; /* bounds for numbers (inclusive); max 0 = none */
};

#define O(f) offsetof(struct sfs_opts, f)

/* One row per option reads best as a table. */
// clang-format off
static const struct opt_desc opt_table[] = {
	{"mode", 'm', T_STR, O(mode), "copy", "MODE",
	 "reply mode: copy, splice, multipipe or passthrough (see below)"},
	{"source", 's', T_STR, O(source), "mem", "SRC",
	 "data source: mem (a memfd holding the files) or tcp://HOST:PORT (sbserver)"},
	{"threads", 't', T_INT, O(threads), "1", "N", "worker threads", 1, 256},
	{"clone-fd", 0, T_BOOL, O(clone_fd), NULL, NULL,
	 "give each worker its own /dev/fuse fd (FUSE_DEV_IOC_CLONE)"},
	{"file-size", 0, T_SIZE, O(file_size), "1G", "SIZE",
	 "size of each file (K, M, G suffixes: powers of 1024)", 1, 1ULL << 44},
	{"files", 0, T_INT, O(files), "1", "N", "number of files (data0, data1, ...)", 1, 4096},
	{"max-read", 0, T_SIZE, O(max_read), "1M", "SIZE",
	 "largest FUSE_READ, a multiple of 4K (sets max_pages)", 4096, 1 << 24},
	{"readahead", 0, T_SIZE, O(readahead), "1M", "SIZE",
	 "buffered reads: the mount's read_ahead_kb, capped at --max-read (0: kernel's)", 0,
	 1 << 30},
	{"direct-io", 0, T_BOOL, O(direct_io), NULL, NULL,
	 "open files with FOPEN_DIRECT_IO (bypass the page cache)"},
	{"pipe-size", 0, T_SIZE, O(pipe_size), "1M", "SIZE",
	 "bytes per pipe in multipipe mode (within /proc/sys/fs/pipe-max-size)", 4096, 1U << 31},
	{"pipes", 0, T_INT, O(pipes), "4", "N", "pipes per worker in multipipe mode", 1,
	 SFS_MAX_PIPES},
	{"seed", 0, T_U64, O(seed), "0", "N", "pattern seed (0 keeps fio's verify_pattern=%o usable)"},
	{"granule", 0, T_SIZE, O(granule), "8", "SIZE",
	 "pattern step: every GRANULE bytes hold their offset; set to fio's bs for fio verify", 8,
	 1U << 30},
	{"stats-file", 0, T_STR, O(stats_file), NULL, "PATH",
	 "write counters as JSON to PATH (atomically), every --stats-interval and at exit"},
	{"stats-interval", 0, T_DOUBLE, O(stats_interval), "1", "SECONDS",
	 "how often the stats file is rewritten (0: only at exit and on SIGUSR1)"},
	{"pid-file", 0, T_STR, O(pid_file), NULL, "PATH", "write the daemon's pid to PATH"},
	{"foreground", 'f', T_BOOL, O(foreground), NULL, NULL, "stay in the foreground"},
	{"allow-other", 0, T_BOOL, O(allow_other), NULL, NULL, "let other users read the mount"},
	{"probe", 0, T_BOOL, O(probe_only), NULL, NULL,
	 "mount, report whether the kernel accepts FUSE_OUT_SPLICES, unmount, exit 0 (yes) / 1"},
	{"fault-every", 0, T_INT, O(fault_every), "0", "N",
	 "testing: every Nth multipipe reply names a non-pipe fd, which the kernel must refuse",
	 0, 1 << 30},
	{"debug", 'd', T_BOOL, O(debug), NULL, NULL, "log every request to stderr"},
	{"version", 'V', T_BOOL, O(version), NULL, NULL, "print the version and exit"},
	{"help", 'h', T_BOOL, O(help), NULL, NULL, "print this help and exit"},
};

// clang-format on

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_opt(struct sfs_opts *o, const struct opt_desc *d, const char *val, char *err,
                   size_t errlen)
{
	char *p = (char *)o + d->off, *end;
	uint64_t v = 0;
	double dv;

	switch (d->type) {
	case T_STR:
		*(const char **)p = val;
		return 0;
	case T_BOOL:
		*(bool *)p = true;
		return 0;
	case T_DOUBLE:
		errno = 0;
		dv = strtod(val, &end);
		if (errno || end == val || *end || dv < 0) {
			snprintf(err, errlen, "--%s: '%s' is not a non-negative number of seconds",
			         d->name, val);
			return -1;
		}
		*(double *)p = dv;
		return 0;
	case T_INT:
	case T_U64:
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || *end || *val == '-') {
			snprintf(err, errlen, "--%s: '%s' is not a whole number", d->name, val);
			return -1;
		}
		break;
	case T_SIZE:
		if (parse_size(val, &v)) {
			snprintf(err, errlen, "--%s: '%s' is not a size (e.g. 4096, 128K, 1M, 8G)",
			         d->name, val);
			return -1;
		}
		break;
	}
	if (v < d->min || (d->max && v > d->max)) {
		snprintf(err, errlen, "--%s: %s is out of range [%" PRIu64 ", %" PRIu64 "]",
		         d->name, val, d->min, d->max);
		return -1;
	}
	if (d->type == T_INT)
		*(int *)p = (int)v;
	else if (d->type == T_U64)
		*(uint64_t *)p = v;
	else if (d->off == O(max_read) || d->off == O(pipe_size))
		*(uint32_t *)p = (uint32_t)v;
	else
		*(uint64_t *)p = v;
	return 0;
}

void sfs_usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s MOUNTPOINT [options]\n\n"
	        "A read-only FUSE filesystem serving offset-pattern files, answering\n"
	        "FUSE_READ in the chosen reply mode.\n\noptions:\n",
	        prog);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_desc *d = &opt_table[i];
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s", d->shortopt ? '-' : ' ',
		         d->shortopt ? d->shortopt : ' ', d->shortopt ? ", " : "  ", d->name,
		         d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(f, "  %-28s %s", lhs, d->help);
		if (d->def)
			fprintf(f, " [%s]", d->def);
		fputc('\n', f);
	}
	fprintf(f, "\nmodes:\n");
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		fprintf(f, "  %-10s %s\n", (*m)->name, (*m)->help);
	fprintf(f, "\nsources:\n");
	for (const struct data_source *const *s = data_sources; *s; s++)
		fprintf(f, "  %-10s %s\n", (*s)->name, (*s)->help);
}

int sfs_parse_opts(struct sfs_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct option lopts[NOPTS + 1];
	char shorts[2 * NOPTS + 1], *sp = shorts;
	int c, idx;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_desc *d = &opt_table[i];

		if (d->def && set_opt(o, d, d->def, err, errlen))
			return -1;
		lopts[i] =
		    (struct option){d->name, d->type == T_BOOL ? no_argument : required_argument,
		                    NULL, 1000 + (int)i};
		if (d->shortopt) {
			*sp++ = (char)d->shortopt;
			if (d->type != T_BOOL)
				*sp++ = ':';
		}
	}
	lopts[NOPTS] = (struct option){0};
	*sp = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct opt_desc *d = NULL;

		if (c >= 1000)
			d = &opt_table[c - 1000];
		else
			for (size_t i = 0; i < NOPTS; i++)
				if (opt_table[i].shortopt == c)
					d = &opt_table[i];
		if (!d) {
			const char *bad = argv[optind - 1];

			if (optopt && optopt < 1000)
				snprintf(err, errlen,
				         "unknown or incomplete option '-%c': see --help", optopt);
			else
				snprintf(err, errlen,
				         "unknown or incomplete option '%s': see --help", bad);
			return -1;
		}
		if (set_opt(o, d, optarg, err, errlen))
			return -1;
	}
	if (o->help || o->version)
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
	if (!mode_find(o->mode)) {
		snprintf(err, errlen, "unknown mode '%s': use copy, splice, multipipe or passthrough", o->mode);
		return -1;
	}
	if (!source_find(o->source)) {
		snprintf(err, errlen, "unknown source '%s': use mem or tcp://HOST:PORT", o->source);
		return -1;
	}
	return 0;
}
