// SPDX-License-Identifier: MIT
/* The reply modes and data sources splicefs knows, by name. */
#include "splicefs.h"

#include <string.h>

const struct reply_mode *const reply_modes[] = {&mode_copy, &mode_splice, &mode_multipipe,
						 &mode_passthrough, &mode_uring, NULL};
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
