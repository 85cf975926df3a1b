/* SPDX-License-Identifier: MIT */
/*
 * Option tables: every program of the suite declares each option once, in a
 * table of struct opt_desc (the shape of fio's option tables and libfuse's
 * fuse_opt specs), and that one table drives parsing, defaults, range checks
 * and --help.
 */
#ifndef SPLICEBENCH_OPTTAB_H
#define SPLICEBENCH_OPTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_STR,    /* const char * */
	OPT_BOOL,   /* bool, a flag without a value */
	OPT_INT,    /* int, whole number */
	OPT_U64,    /* uint64_t, whole number */
	OPT_SIZE,   /* uint64_t, with K/M/G/T suffixes (powers of 1024) */
	OPT_SIZE32, /* uint32_t, with suffixes */
	OPT_DOUBLE, /* double, >= 0 */
};

struct opt_desc {
	const char *name; /* long name, without "--" */
	int shortopt;     /* 0 for none */
	enum opt_type type;
	size_t off;      /* offset of the field in the options struct */
	const char *def; /* default, parsed like a command-line value; NULL = none */
	const char *arg; /* placeholder in --help, e.g. "SIZE" */
	const char *help;
	uint64_t min, max; /* bounds for numbers, inclusive; max 0 = none */
};

/*
 * Apply the defaults, then parse argv (getopt_long, "--name value" and
 * "--name=value") into the struct at base.  Returns the index of the first
 * argument that is not an option, or -1 with one line in err (what was wrong).
 */
int opt_parse(const struct opt_desc *t, size_t n, void *base, int argc, char **argv, char *err,
              size_t errlen);

/* opt_parse, and seen[i] = true for each row i given on the command line (n entries). */
int opt_parse_seen(const struct opt_desc *t, size_t n, void *base, int argc, char **argv,
                   bool *seen, char *err, size_t errlen);

/* One line per option: "  -s, --name ARG   help [default]". */
void opt_usage(FILE *f, const struct opt_desc *t, size_t n);

/* --list: S as a JSON string; the table as "options":[{name, arg, default, help}...]. */
void opt_json_str(FILE *f, const char *s);
void opt_json_options(FILE *f, const struct opt_desc *t, size_t n);

/* "4096", "128K", "1M", "1MiB", "8G": bytes.  0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *out);

#endif
