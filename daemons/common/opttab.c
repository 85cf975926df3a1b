// SPDX-License-Identifier: MIT
#include "opttab.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * A whole number, strictly: digits only (no sign, no spaces), decimal, or
 * hexadecimal with 0x.  A leading 0 is not octal ("010" is ten).  strtoull
 * alone would take " -1" as 2^64-1 and "010" as eight.
 */
static int parse_uint(const char *s, unsigned long long *v, char **end)
{
	int base = 10;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		base = 16;
	}
	errno = 0;
	*v = strtoull(s, end, base);
	if (errno)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	return *end == s ? -EINVAL : 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0, r;

	if ((r = parse_uint(s, &v, &end)))
		return r;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_opt(const struct opt_desc *d, void *base, const char *val, char *err, size_t errlen)
{
	char *p = (char *)base + d->off, *end;
	uint64_t v = 0;
	double dv;

	switch (d->type) {
	case OPT_STR:
		*(const char **)p = val;
		return 0;
	case OPT_BOOL:
		*(bool *)p = true;
		return 0;
	case OPT_DOUBLE:
		errno = 0;
		/* strtod takes spaces, signs, hex, "nan" and "inf": only digits and a point here */
		dv = val[strspn(val, "0123456789.")] == 0 && strpbrk(val, "0123456789")
		         ? strtod(val, &end)
		         : -1;
		if (dv < 0 || errno || end == val || *end || !isfinite(dv)) {
			snprintf(err, errlen, "--%s: '%s' is not a non-negative number", d->name,
			         val);
			return -1;
		}
		*(double *)p = dv;
		return 0;
	case OPT_INT:
	case OPT_U64: {
		unsigned long long u;

		if (parse_uint(val, &u, &end) || *end) {
			snprintf(err, errlen, "--%s: '%s' is not a whole number", d->name, val);
			return -1;
		}
		v = u;
	}
		if (d->type == OPT_INT && v > INT_MAX) {
			snprintf(err, errlen, "--%s: %s is too large", d->name, val);
			return -1;
		}
		break;
	case OPT_SIZE:
	case OPT_SIZE32:
		if (parse_size(val, &v)) {
			snprintf(err, errlen, "--%s: '%s' is not a size (e.g. 4096, 128K, 1M, 8G)",
			         d->name, val);
			return -1;
		}
		break;
	}
	if (d->type == OPT_SIZE32 && v > UINT32_MAX) {
		snprintf(err, errlen, "--%s: %s is too large", d->name, val);
		return -1;
	}
	if (v < d->min || (d->max && v > d->max)) {
		snprintf(err, errlen, "--%s: %s is out of range [%" PRIu64 ", %" PRIu64 "]",
		         d->name, val, d->min, d->max);
		return -1;
	}
	if (d->type == OPT_INT)
		*(int *)p = (int)v;
	else if (d->type == OPT_SIZE32)
		*(uint32_t *)p = (uint32_t)v;
	else
		*(uint64_t *)p = v;
	return 0;
}

int opt_parse(const struct opt_desc *t, size_t n, void *base, int argc, char **argv, char *err,
              size_t errlen)
{
	return opt_parse_seen(t, n, base, argc, argv, NULL, err, errlen);
}

int opt_parse_seen(const struct opt_desc *t, size_t n, void *base, int argc, char **argv,
                   bool *seen, char *err, size_t errlen)
{
	struct option *lopts = calloc(n + 1, sizeof(*lopts));
	char *shorts = calloc(2 * n + 2, 1), *sp = shorts;
	int c, idx, rc = -1;

	if (!lopts || !shorts) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*sp++ = ':'; /* report a missing value as ':' */
	for (size_t i = 0; i < n; i++) {
		if (t[i].def && set_opt(&t[i], base, t[i].def, err, errlen))
			goto out;
		lopts[i] = (struct option){t[i].name,
		                           t[i].type == OPT_BOOL ? no_argument : required_argument,
		                           NULL, 1000 + (int)i};
		if (t[i].shortopt) {
			*sp++ = (char)t[i].shortopt;
			if (t[i].type != OPT_BOOL)
				*sp++ = ':';
		}
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct opt_desc *d = NULL;

		if (c >= 1000) {
			d = &t[c - 1000];
		} else if (c == ':' || c == '?') {
			const char *bad = argv[optind - 1];

			if (c == ':')
				snprintf(err, errlen, "option '%s' needs a value: see --help", bad);
			else if (optopt)
				snprintf(err, errlen, "unknown option '-%c': see --help", optopt);
			else
				snprintf(err, errlen, "unknown option '%s': see --help", bad);
			goto out;
		} else {
			for (size_t i = 0; i < n; i++)
				if (t[i].shortopt == c)
					d = &t[i];
		}
		if (!d || set_opt(d, base, optarg, err, errlen))
			goto out;
		if (seen)
			seen[d - t] = true;
	}
	rc = optind;
out:
	free(lopts);
	free(shorts);
	return rc;
}

void opt_usage(FILE *f, const struct opt_desc *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct opt_desc *d = &t[i];
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s", d->shortopt ? '-' : ' ',
		         d->shortopt ? d->shortopt : ' ', d->shortopt ? ", " : "  ", d->name,
		         d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(f, "  %-28s %s", lhs, d->help);
		if (d->def)
			fprintf(f, " [%s]", d->def);
		fputc('\n', f);
	}
}

void opt_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void opt_json_options(FILE *f, const struct opt_desc *t, size_t n)
{
	fputs("\"options\":[", f);
	for (size_t i = 0; t && i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		opt_json_str(f, t[i].name);
		fputs(",\"arg\":", f);
		opt_json_str(f, t[i].type == OPT_BOOL ? "" : t[i].arg);
		fputs(",\"default\":", f);
		opt_json_str(f, t[i].def ? t[i].def : "");
		fputs(",\"help\":", f);
		opt_json_str(f, t[i].help);
		fputc('}', f);
	}
	fputc(']', f);
}
