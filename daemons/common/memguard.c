// SPDX-License-Identifier: MIT
#include "memguard.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *memguard_fmt(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, unit[u]);
	return buf;
}

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	char s[64];
	int ok;

	if (!f)
		return -1;
	ok = fgets(s, sizeof(s), f) != NULL;
	fclose(f);
	if (!ok || !strncmp(s, "max", 3))
		return -1;
	return sscanf(s, "%" SCNu64, v) == 1 ? 0 : -1;
}

static int mem_available(uint64_t *v)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb;
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			*v = (uint64_t)kb * 1024;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/*
 * The tightest memory cgroup limit above us: walk from our group to the root
 * (v2: the "0::" line; v1: the "memory" controller's line).  Returns 0 with
 * limit, usage and the file it came from, or -1 when no limit is set.
 */
static int cgroup_limit(uint64_t *limit, uint64_t *usage, char *file, size_t flen)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[4096], path[4096], lim_file[4600], use_file[4600];
	int found = -1;
	uint64_t best_room = UINT64_MAX;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *base, *lim_name, *use_name;
		char *ctrl = strchr(line, ':'), *p;

		if (!ctrl)
			continue;
		p = strchr(ctrl + 1, ':');
		if (!p)
			continue;
		*p++ = 0;
		p[strcspn(p, "\n")] = 0;
		if (!strcmp(line, "0") && !strcmp(ctrl, ":")) {
			base = "/sys/fs/cgroup";
			lim_name = "memory.max";
			use_name = "memory.current";
		} else if (strstr(ctrl + 1, "memory") &&
		           (!strcmp(ctrl + 1, "memory") || strstr(ctrl + 1, ",memory") ||
		            !strncmp(ctrl + 1, "memory,", 7))) {
			base = "/sys/fs/cgroup/memory";
			lim_name = "memory.limit_in_bytes";
			use_name = "memory.usage_in_bytes";
		} else {
			continue;
		}
		snprintf(path, sizeof(path), "%s", p);
		for (;;) {
			uint64_t l, u = 0;
			char *slash;

			snprintf(lim_file, sizeof(lim_file), "%s%s/%s", base,
			         strcmp(path, "/") ? path : "", lim_name);
			snprintf(use_file, sizeof(use_file), "%s%s/%s", base,
			         strcmp(path, "/") ? path : "", use_name);
			/* v1 says "no limit" with a huge number */
			if (!read_u64(lim_file, &l) && l < (1ULL << 60)) {
				read_u64(use_file, &u);
				if ((u < l ? l - u : 0) < best_room) {
					best_room = u < l ? l - u : 0;
					*limit = l;
					*usage = u;
					snprintf(file, flen, "%s", lim_file);
					found = 0;
				}
			}
			slash = strrchr(path, '/');
			if (!slash || !strcmp(path, "/"))
				break;
			if (slash == path)
				strcpy(path, "/");
			else
				*slash = 0;
		}
	}
	fclose(f);
	return found;
}

int memguard_check(uint64_t need, char *msg, size_t msglen)
{
	uint64_t avail = 0, limit = 0, usage = 0, room = UINT64_MAX;
	char cgfile[4600] = "", a[32], b[32], c[32], d[32];
	bool have_avail = !mem_available(&avail), have_cg;
	int n;

	have_cg = !cgroup_limit(&limit, &usage, cgfile, sizeof(cgfile));
	if (have_avail)
		room = avail;
	if (have_cg && (usage < limit ? limit - usage : 0) < room)
		room = usage < limit ? limit - usage : 0;
	if (room == UINT64_MAX || (room > MEMGUARD_HEADROOM && need <= room - MEMGUARD_HEADROOM))
		return 0;
	n = snprintf(msg, msglen, "%s needed (+ %s headroom), but",
	             memguard_fmt(need, a, sizeof(a)),
	             memguard_fmt(MEMGUARD_HEADROOM, b, sizeof(b)));
	if (have_avail && n > 0 && (size_t)n < msglen)
		n += snprintf(msg + n, msglen - n, " MemAvailable is %s",
		              memguard_fmt(avail, c, sizeof(c)));
	if (have_cg && n > 0 && (size_t)n < msglen)
		n += snprintf(msg + n, msglen - n, "%s cgroup limit %s is %s with %s in use",
		              have_avail ? " and the" : " the", cgfile,
		              memguard_fmt(limit, c, sizeof(c)), memguard_fmt(usage, d, sizeof(d)));
	return -ENOMEM;
}
