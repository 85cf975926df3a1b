// SPDX-License-Identifier: MIT
/* The mem source's memfds (memfiles.h). */
#include "memfiles.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void memfiles_free(struct memfiles *m)
{
	for (int i = 0; m->files && i < m->nfiles; i++) {
		if (m->files[i].map)
			munmap(m->files[i].map, m->file_len);
		if (m->files[i].fd >= 0)
			close(m->files[i].fd);
	}
	free(m->files);
	memset(m, 0, sizeof(*m));
}

int memfiles_make(struct memfiles *m, const struct pattern *pat, int nfiles, size_t len,
                  const char *name)
{
	const size_t chunk = 4 << 20;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->files = calloc(nfiles > 0 ? nfiles : 1, sizeof(*m->files));
	if (!m->files)
		return -ENOMEM;
	m->file_len = len;
	for (m->nfiles = 0; m->nfiles < nfiles; m->nfiles++) {
		struct memfile *f = &m->files[m->nfiles];

		f->fd = memfd_create(name, MFD_CLOEXEC);
		if (f->fd < 0 || ftruncate(f->fd, (off_t)len) < 0) {
			err = -errno;
			break;
		}
		f->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
		if (f->map == MAP_FAILED) {
			f->map = NULL;
			err = -errno;
			break;
		}
		for (uint64_t off = 0; off < len; off += chunk)
			pattern_fill(pat, m->nfiles, off, f->map + off,
			             len - off < chunk ? len - off : chunk);
		mprotect(f->map, len, PROT_READ);
	}
	if (err) {
		m->nfiles++; /* tear down the partly made one too */
		memfiles_free(m);
	}
	return err;
}
