// SPDX-License-Identifier: MIT
#include "daemon_list.h"

#include <string.h>

const void *daemon_find(const void *const *list, const char *name)
{
	for (size_t i = 0; name && list[i]; i++)
		if (!strcmp(((const struct daemon_entry *)list[i])->name, name))
			return list[i];
	return NULL;
}

/* A source is found by the prefix before "://". */
const void *daemon_find_spec(const void *const *list, const char *spec)
{
	size_t n;

	if (!spec)
		return NULL;
	n = strcspn(spec, ":");
	for (size_t i = 0; list[i]; i++) {
		const struct daemon_entry *e = list[i];

		if (strlen(e->name) == n && !strncmp(e->name, spec, n))
			return (spec[n] == 0 || !strncmp(spec + n, "://", 3)) ? list[i] : NULL;
	}
	return NULL;
}

const char *daemon_names(const void *const *list, bool specs, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; list[i] && n < len; i++) {
		const struct daemon_entry *e = list[i];

		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", specs ? e->spec : e->name);
	}
	return buf;
}

static void list_entries(FILE *f, const void *const *list, bool modes,
                         void (*extra)(FILE *f, const void *entry))
{
	fputc('[', f);
	for (size_t i = 0; list[i]; i++) {
		const struct daemon_entry *e = list[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		opt_json_str(f, e->name);
		if (!modes) {
			fputs(",\"spec\":", f);
			opt_json_str(f, e->spec);
		}
		fputs(",\"help\":", f);
		opt_json_str(f, e->help);
		if (modes) {
			fputs(",\"needs\":", f);
			opt_json_str(f, e->needs);
			fputs(e->splices ? ",\"splices\":true" : ",\"splices\":false", f);
		}
		if (extra)
			extra(f, list[i]);
		fputc(',', f);
		opt_json_options(f, e->options, e->noptions);
		fputc('}', f);
	}
	fputc(']', f);
}

void daemon_list_json(FILE *f, const struct daemon_list *l)
{
	size_t n;

	fputs("{\"program\":", f);
	opt_json_str(f, l->prog);
	fputs(",\"modes\":", f);
	list_entries(f, l->modes, true, l->mode_extra);
	fputs(",\"sources\":", f);
	list_entries(f, l->sources, false, NULL);
	fputs(",\"counters\":[", f);
	n = counters_list_json(f, l->counters, l->ncounters, NULL, 1);
	for (size_t i = 0; l->modes[i]; i++) {
		const struct daemon_entry *e = l->modes[i];

		n += counters_list_json(f, e->counters, e->ncounters, e->name, n == 0);
	}
	fputs("]}\n", f);
}
