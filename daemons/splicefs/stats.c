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

/* The counters, summed over workers (pipe_size_granted, a gauge, is their largest). */
#define FIELDS(X)                                                                                  \
	X(requests)                                                                                \
	X(reads)                                                                                   \
	X(bytes)                                                                                   \
	X(bytes_spliced) X(bytes_copied) X(replies_spliced) X(pipe_slots) X(slot_bytes)            \
	    X(fallback_small) X(fallback_grow) X(fallback_full) X(fallback_error)                  \
	        X(fallback_other) X(pipes_used) X(pool_grows) X(faults_injected) X(replies_failed) \
	            X(errors) X(source_bytes) X(reconnects) X(ring_requests)

void counters_sum(const struct sfs *fs, struct counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; fs->workers && i < fs->o.threads; i++) {
		const volatile struct counters *c = &fs->workers[i].c;
#define ADD(f) out->f += c->f;
		FIELDS(ADD)
#undef ADD
		if (c->pipe_size_granted > out->pipe_size_granted)
			out->pipe_size_granted = c->pipe_size_granted;
	}
}

#define APPEND STATS_APPEND

/* The mode's own options, under their names with '_' for '-'. */
static int mode_options_json(const struct sfs *fs, char *buf, size_t len, int n)
{
	const struct reply_mode *m = fs->mode ? fs->mode : mode_find(fs->o.mode);
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

int stats_json(const struct sfs *fs, char *buf, size_t len)
{
	struct counters c;
	int n;

	counters_sum(fs, &c);
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
#define OUT(f) APPEND(",\"%s\":%llu", #f, (unsigned long long)c.f);
	FIELDS(OUT)
#undef OUT
	bool cap = fs->workers && fs->o.threads > 0;

	for (int i = 0; cap && i < fs->o.threads; i++)
		cap = fs->workers[i].cap_sys_resource;
	/* whether every worker may grow its pipes past pipe-max-size */
	APPEND(",\"cap_sys_resource\":%s", cap ? "true" : "false");
	/* whether the slot probe is on now (--slot-probe, SIGUSR2) */
	APPEND(",\"slot_probe\":%s", sfs_slot_probe ? "true" : "false");
	APPEND(",\"fallbacks\":%llu,\"pipe_size_granted\":%llu,\"bytes_per_slot\":%.1f,"
	       "\"pipes_per_reply\":%.3f}\n",
	       (unsigned long long)(c.fallback_small + c.fallback_grow + c.fallback_full +
	                            c.fallback_error + c.fallback_other),
	       (unsigned long long)c.pipe_size_granted,
	       c.pipe_slots ? (double)c.slot_bytes / c.pipe_slots : 0.0,
	       c.replies_spliced ? (double)c.pipes_used / c.replies_spliced : 0.0);
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

int stats_write(const struct sfs *fs, const char *path)
{
	char buf[4096];
	int n = stats_json(fs, buf, sizeof(buf));

	return n < 0 ? n : statsfile_write(path, buf, (size_t)n);
}
