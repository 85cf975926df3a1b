// SPDX-License-Identifier: MIT
#include "sbcheck_core.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int sbcheck_buf(const struct pattern *p, uint64_t file, uint64_t off, const void *buf, size_t len,
                uint64_t *bad)
{
	if (p->granule == 8 && off % 8 == 0 && len % 8 == 0) {
		uint64_t key = p->seed ^ pattern_file_key(file), i, n = len / 8;
		const uint64_t *w = buf;

		for (i = 0; i < n; i++)
			if (w[i] != ((off + 8 * i) ^ key))
				return pattern_check(p, file, off + 8 * i, w + i, len - 8 * i, bad);
		return 0;
	}
	return pattern_check(p, file, off, buf, len, bad);
}

void sbcheck_range_run(struct sbcheck_range *r)
{
	uint64_t pos, end = r->off + r->len;
	char *buf;

	r->total = 0;
	r->rc = 0;
	buf = mmap(NULL, r->bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		r->rc = 2, r->err = ENOMEM, r->bad = r->off;
		return;
	}
	for (pos = r->off; pos < end;) {
		size_t want = end - pos < r->bs ? end - pos : r->bs;
		ssize_t n = pread(r->fd, buf, want, (off_t)pos);
		uint64_t bad;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->rc = 2, r->err = errno, r->bad = pos;
			break;
		}
		if (n == 0)
			break;
		if (sbcheck_buf(r->p, r->file, pos, buf, (size_t)n, &bad)) {
			pattern_explain(r->p, r->file, bad, buf, pos, (size_t)n, r->msg,
			                sizeof(r->msg));
			r->rc = 1, r->bad = bad;
			break;
		}
		r->total += (uint64_t)n;
		pos += (uint64_t)n;
	}
	munmap(buf, r->bs);
}
