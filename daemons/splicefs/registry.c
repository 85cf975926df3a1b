// SPDX-License-Identifier: MIT
/*
 * The one list of the reply modes and data sources splicefs knows.  A mode is
 * one file (mode_*.c: its ops table, its options, its state) plus one line
 * here; --help, --list, option parsing and the stats all come from this list.
 */
#include "splicefs.h"
#include "daemon_list.h"

const struct reply_mode *reply_modes[SFS_MAX_MODES + 1] = {
    &mode_copy,     &mode_splice, &mode_multipipe, &mode_passthrough, &mode_uring,
    &mode_uring_zc, NULL};
const struct data_source *const data_sources[] = {&source_mem, &source_tcp, NULL};

/*
 * The hook for test builds (make build/splicefs-testmode): a mode file linked
 * in only there adds itself from a constructor, before main() reads the list.
 */
void sfs_register_mode(const struct reply_mode *m)
{
	size_t n = 0;

	while (reply_modes[n])
		n++;
	if (n < SFS_MAX_MODES)
		reply_modes[n] = m;
}

const struct reply_mode *mode_find(const char *name)
{
	return daemon_find(DAEMON_LIST(reply_modes), name);
}

/* "mem" or "tcp://HOST:PORT": a source is found by the prefix before "://". */
const struct data_source *source_find(const char *spec)
{
	return daemon_find_spec(DAEMON_LIST(data_sources), spec);
}

const char *mode_names(char *buf, size_t len)
{
	return daemon_names(DAEMON_LIST(reply_modes), false, buf, len);
}

const char *source_names(char *buf, size_t len)
{
	return daemon_names(DAEMON_LIST(data_sources), true, buf, len);
}

static void list_fault_swap(FILE *f, const void *mode)
{
	fprintf(f, ",\"fault_swap\":%s,\"fault_flip\":%s",
	        ((const struct reply_mode *)mode)->fault_swap ? "true" : "false",
	        ((const struct reply_mode *)mode)->fault_flip ? "true" : "false");
}

void sfs_list(FILE *f)
{
	const struct daemon_list l = {"splicefs",      DAEMON_LIST(reply_modes),
	                              list_fault_swap, DAEMON_LIST(data_sources),
	                              sfs_counters,    sfs_ncounters};

	daemon_list_json(f, &l);
}
