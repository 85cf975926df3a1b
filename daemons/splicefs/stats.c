// SPDX-License-Identifier: MIT
/*
 * Counters: each worker writes its own; readers sum them.  The sums are
 * written as one JSON object (the stats file, SIGUSR1, exit).
 */
#include "splicefs.h"
#include "opttab.h"
#include "statsfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define COUNTERS_TYPE struct counters
const struct counter_desc sfs_counters[] = {COUNTERS_DESC(SFS_COUNTERS)};
const size_t sfs_ncounters = COUNTERS_N(sfs_counters);
#undef COUNTERS_TYPE

static const struct reply_mode *chosen_mode(const struct sfs *fs)
{
	return fs->mode ? fs->mode : mode_find(fs->o.mode);
}

void counters_sum(const struct sfs *fs, struct counters *out, uint64_t *mode_out)
{
	const struct reply_mode *m = chosen_mode(fs);

	memset(out, 0, sizeof(*out));
	if (mode_out)
		memset(mode_out, 0, SFS_MODE_COUNTERS * sizeof(*mode_out));
	for (int i = 0; fs->workers && i < fs->o.threads; i++) {
		counters_merge(sfs_counters, sfs_ncounters, out, &fs->workers[i].c);
		if (mode_out && m && m->ncounters)
			counters_merge(m->counters, m->ncounters, mode_out, fs->workers[i].mode_c);
	}
}

#define APPEND STATS_APPEND

/* The mode's own options, under their names with '_' for '-'. */
static int mode_options_json(const struct sfs *fs, char *buf, size_t len, int n)
{
	const struct reply_mode *m = chosen_mode(fs);
	const char *base = fs->o.mode_opts;

	for (size_t i = 0; m && base && i < m->noptions; i++) {
		const struct opt_desc *d = &m->options[i];
		const char *p = base + d->off;
		char key[64];

		snprintf(key, sizeof(key), "%s", d->name);
		for (char *k = key; *k; k++)
			if (*k == '-')
				*k = '_';
		switch (d->type) {
		case OPT_STR: {
			const char *v = *(const char *const *)p;

			if (v && *v && strspn(v, "0123456789") == strlen(v))
				APPEND(",\"%s\":%s", key, v);
			else
				APPEND(",\"%s\":\"%s\"", key, v ? v : "");
			break;
		}
		case OPT_BOOL:
			APPEND(",\"%s\":%s", key, *(const bool *)p ? "true" : "false");
			break;
		case OPT_INT:
			APPEND(",\"%s\":%d", key, *(const int *)p);
			break;
		case OPT_SIZE32:
			APPEND(",\"%s\":%u", key, *(const uint32_t *)p);
			break;
		case OPT_U64:
		case OPT_SIZE:
			APPEND(",\"%s\":%llu", key, (unsigned long long)*(const uint64_t *)p);
			break;
		case OPT_DOUBLE:
			APPEND(",\"%s\":%g", key, *(const double *)p);
			break;
		}
	}
	return n;
}

/* Whether every worker may grow its pipes past pipe-max-size. */
static bool all_cap_sys_resource(const struct sfs *fs)
{
	bool cap = fs->workers && fs->o.threads > 0;

	for (int i = 0; cap && i < fs->o.threads; i++)
		cap = fs->workers[i].cap_sys_resource;
	return cap;
}

int stats_json(const struct sfs *fs, char *buf, size_t len)
{
	const struct reply_mode *m = chosen_mode(fs);
	uint64_t mc[SFS_MODE_COUNTERS];
	struct counters c;
	int n;

	counters_sum(fs, &c, mc);
	n = snprintf(buf, len,
	             "{\"pid\":%d,\"mode\":\"%s\",\"source\":\"%s\",\"threads\":%d,"
	             "\"clone_fd\":%s,\"direct_io\":%s,\"max_read\":%u,\"proto_minor\":%u,"
	             "\"file_size\":%llu,\"files\":%d,\"granule\":%llu,\"seed\":%llu,"
	             "\"privilege\":\"%s\",\"fault_swap\":%s,\"fault_flip_offset\":%lld",
	             (int)getpid(), fs->o.mode, fs->o.source, fs->o.threads,
	             fs->o.clone_fd ? "true" : "false", fs->o.direct_io ? "true" : "false",
	             fs->max_read, fs->proto_minor, (unsigned long long)fs->o.file_size,
	             fs->o.files, (unsigned long long)fs->pat.granule,
	             (unsigned long long)fs->pat.seed, fs->o.user ? "user" : "root",
	             fs->o.fault_swap ? "true" : "false",
	             fs->o.fault_flip ? (long long)fs->o.flip_offset : -1LL);
	n = mode_options_json(fs, buf, len, n);
	APPEND(",\"cap_sys_resource\":%s", all_cap_sys_resource(fs) ? "true" : "false");
	/* whether the slot probe is on now (--slot-probe, SIGUSR2) */
	APPEND(",\"slot_probe\":%s", sfs_slot_probe ? "true" : "false");
	/* the counters, in the table's order (--list names them in the same) */
	n = counters_json(buf, len, n, sfs_counters, sfs_ncounters, &c);
	if (m && m->ncounters)
		n = counters_json(buf, len, n, m->counters, m->ncounters, mc);
	APPEND("}\n");
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

int stats_write(const struct sfs *fs, const char *path)
{
	char buf[4096];
	int n = stats_json(fs, buf, sizeof(buf));

	return n < 0 ? n : statsfile_write(path, buf, (size_t)n);
}

/* Counted where a reply ends: the splicing modes' fallbacks and spliced replies. */
void sfs_count_fallback(struct worker *w, enum fallback_reason why)
{
	w->c.fallbacks++;
	switch (why) {
	case FB_SMALL:
		w->c.fallback_small++;
		break;
	case FB_GROW:
		w->c.fallback_grow++;
		break;
	case FB_FULL:
		w->c.fallback_full++;
		break;
	case FB_ERROR:
		w->c.fallback_error++;
		break;
	case FB_OTHER:
		w->c.fallback_other++;
		break;
	}
}

void sfs_count_spliced(struct worker *w, size_t bytes, unsigned slots)
{
	w->c.bytes += bytes;
	w->c.bytes_spliced += bytes;
	w->c.replies_spliced++;
	if (slots != SFS_SLOTS_UNKNOWN) {
		w->c.pipe_slots += slots;
		w->c.slot_bytes += bytes;
	}
}
