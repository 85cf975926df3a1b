/* SPDX-License-Identifier: MIT */
/*
 * The reply modes and data sources of a daemon (splicefs, libfuse-ref), as
 * --list and the option checks see them: each mode's and source's struct
 * begins with DAEMON_ENTRY (its fields stay the struct's own: m->name,
 * .name = "copy"; &m->entry is all of them as one struct), and the daemon's
 * NULL-terminated lists of them come here as DAEMON_LIST(list).
 */
#ifndef DAEMON_LIST_H
#define DAEMON_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "counters.h"
#include "opttab.h"

#define DAEMON_ENTRY_FIELDS                                                                        \
	const char *name;                                                                          \
	const char *spec; /* a source: how --source names it ("tcp://HOST:PORT") */                \
	const char *help;                                                                          \
	const char *needs; /* a mode: what the kernel must have, "" for any kernel */              \
	bool splices;      /* a mode: its replies may pass through a pipe (it can fall back) */    \
	/* a mode: its command-line options; a source: the ?key=value settings of its spec */      \
	const struct opt_desc *options;                                                            \
	size_t noptions;                                                                           \
	/* a mode: counters of its own (counters.h), after the daemon's in the stats */            \
	const struct counter_desc *counters;                                                       \
	size_t ncounters

struct daemon_entry {
	DAEMON_ENTRY_FIELDS;
};

/* First in a mode's or source's struct. */
#define DAEMON_ENTRY                                                                               \
	union {                                                                                    \
		struct daemon_entry entry;                                                         \
		struct {                                                                           \
			DAEMON_ENTRY_FIELDS;                                                       \
		};                                                                                 \
	}

/* A NULL-terminated array of pointers to structs that begin with DAEMON_ENTRY. */
#define DAEMON_LIST(list) ((const void *const *)(list))

/* The entry called NAME; NULL when none is (or NAME is NULL). */
const void *daemon_find(const void *const *list, const char *name);

/* The entry a spec names: "NAME" or "NAME://..."; NULL when none does. */
const void *daemon_find_spec(const void *const *list, const char *spec);

/* "copy, splice, ..." (their specs when specs) into buf, which it returns. */
const char *daemon_names(const void *const *list, bool specs, char *buf, size_t len);

/* What a daemon lists (--list). */
struct daemon_list {
	const char *prog;
	const void *const *modes;
	void (*mode_extra)(FILE *f, const void *mode); /* ",\"key\":value" a mode; NULL: none */
	const void *const *sources;
	const struct counter_desc *counters; /* the daemon's own counters */
	size_t ncounters;
};

/*
 * --list: {"program":PROG,"modes":[...],"sources":[...],"counters":[...]} and
 * a newline.  A mode: name, help, needs, splices, then what mode_extra writes,
 * options.  A source: name, spec, help, options.  Counters: the daemon's, then
 * each mode's own (with "mode":NAME), in the order the stats file has them
 * (counters.h: name, help, combine, num and den for a ratio).
 */
void daemon_list_json(FILE *f, const struct daemon_list *l);

#endif
