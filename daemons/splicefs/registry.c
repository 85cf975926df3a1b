// SPDX-License-Identifier: MIT
/*
 * The one list of the reply modes and data sources splicefs knows.  A mode is
 * one file (mode_*.c: its ops table, its options, its state) plus one line
 * here; --help, --list, option parsing and the stats all come from this list.
 */
#include "splicefs.h"
#include "opttab.h"

#include <string.h>

const struct reply_mode *const reply_modes[] = {&mode_copy,        &mode_splice, &mode_multipipe,
                                                &mode_passthrough, &mode_uring,  NULL};
const struct data_source *const data_sources[] = {&source_mem, &source_tcp, NULL};

const struct reply_mode *mode_find(const char *name)
{
	for (const struct reply_mode *const *m = reply_modes; name && *m; m++)
		if (!strcmp((*m)->name, name))
			return *m;
	return NULL;
}

/* "mem" or "tcp://HOST:PORT": a source is found by the prefix before "://". */
const struct data_source *source_find(const char *spec)
{
	size_t n;

	if (!spec)
		return NULL;
	n = strcspn(spec, ":");
	for (const struct data_source *const *s = data_sources; *s; s++)
		if (strlen((*s)->name) == n && !strncmp((*s)->name, spec, n))
			return (spec[n] == 0 || !strncmp(spec + n, "://", 3)) ? *s : NULL;
	return NULL;
}

const char *mode_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (const struct reply_mode *const *m = reply_modes; *m && n < len; m++)
		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", (*m)->name);
	return buf;
}

const char *source_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (const struct data_source *const *s = data_sources; *s && n < len; s++)
		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", (*s)->spec);
	return buf;
}

void sfs_list(FILE *f)
{
	fputs("{\"program\":\"splicefs\",\"modes\":[", f);
	for (const struct reply_mode *const *m = reply_modes; *m; m++) {
		fputs(m == reply_modes ? "{\"name\":" : ",{\"name\":", f);
		opt_json_str(f, (*m)->name);
		fputs(",\"help\":", f);
		opt_json_str(f, (*m)->help);
		fputs(",\"needs\":", f);
		opt_json_str(f, (*m)->needs);
		fprintf(f, ",\"fault_swap\":%s,", (*m)->fault_swap ? "true" : "false");
		opt_json_options(f, (*m)->options, (*m)->noptions);
		fputc('}', f);
	}
	fputs("],\"sources\":[", f);
	for (const struct data_source *const *s = data_sources; *s; s++) {
		fputs(s == data_sources ? "{\"name\":" : ",{\"name\":", f);
		opt_json_str(f, (*s)->name);
		fputs(",\"spec\":", f);
		opt_json_str(f, (*s)->spec);
		fputs(",\"help\":", f);
		opt_json_str(f, (*s)->help);
		fputc(',', f);
		opt_json_options(f, (*s)->options, (*s)->noptions);
		fputc('}', f);
	}
	fputs("]}\n", f);
}
