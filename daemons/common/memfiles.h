/* SPDX-License-Identifier: MIT */
/*
 * The mem source's files, shared by both daemons: each file in its own memfd
 * (tmpfs pages), filled once with the pattern and mapped read-only.  Read-only
 * once made: workers read the mappings and splice from the fds without locks.
 */
#ifndef MEMFILES_H
#define MEMFILES_H

#include <stddef.h>

#include "pattern.h"

struct memfile {
	int fd;
	char *map; /* PROT_READ mapping of the whole file */
};

struct memfiles {
	int nfiles;
	size_t file_len;
	struct memfile *files;
};

/* Make nfiles memfds (named name) of len bytes each.  0 or -errno (nothing left behind). */
int memfiles_make(struct memfiles *m, const struct pattern *pat, int nfiles, size_t len,
                  const char *name);
void memfiles_free(struct memfiles *m);

#endif
