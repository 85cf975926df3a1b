// SPDX-License-Identifier: MIT
#include "opttab.h"
#include "splicefs.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct sfs_opts *o, char *err, const char *a0, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	const char *s;

	argv[argc++] = "splicefs";
	va_start(ap, a0);
	for (s = a0; s; s = va_arg(ap, const char *))
		argv[argc++] = (char *)s;
	va_end(ap);
	argv[argc] = NULL;
	return sfs_parse_opts(o, argc, argv, err, 256);
}

TEST(options_defaults)
{
	struct sfs_opts o;
	char err[256];

	CHECK(parse(&o, err, "/mnt", NULL) == 0);
	CHECK(!strcmp(o.mountpoint, "/mnt"));
	CHECK(!strcmp(o.mode, "copy"));
	CHECK(!strcmp(o.source, "mem"));
	CHECK_EQ_U64(o.threads, 1);
	CHECK_EQ_U64(o.file_size, 1ULL << 30);
	CHECK_EQ_U64(o.max_read, 1 << 20);
	CHECK_EQ_U64(o.granule, 8);
	CHECK(!o.direct_io);
}

TEST(options_values)
{
	struct sfs_opts o;
	char err[256];

	CHECK(parse(&o, err, "-m", "splice", "--threads", "4", "--file-size", "8G", "--max-read",
	            "128K", "--direct-io", "--granule", "1M", "--clone-fd", "/x", NULL) == 0);
	CHECK(!strcmp(o.mode, "splice"));
	CHECK_EQ_U64(o.threads, 4);
	CHECK_EQ_U64(o.file_size, 8ULL << 30);
	CHECK_EQ_U64(o.max_read, 128 << 10);
	CHECK(o.direct_io && o.clone_fd);
	CHECK_EQ_U64(o.granule, 1 << 20);
	CHECK(!o.user && !o.fault_swap);
	sfs_free_opts(&o);
}

/* A mode's own options land in its block (o.mode_opts); the stats show them. */
TEST(options_mode_owns_its_options)
{
	struct sfs_opts o;
	struct sfs fs = {0};
	struct worker w = {0};
	char err[256], buf[4096];

	CHECK(parse(&o, err, "/x", "--mode", "multipipe", "--pipes", "16", "--pipe-size", "256k",
	            "--privilege", "user", "--fault-swap", NULL) == 0);
	CHECK(o.mode_opts != NULL && o.user && o.fault_swap);
	fs.o = o;
	fs.o.threads = 1;
	fs.workers = &w;
	CHECK(stats_json(&fs, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"pipes\":16,") != NULL);
	CHECK(strstr(buf, "\"pipe_size\":262144,") != NULL);
	CHECK(strstr(buf, "\"fault_swap\":true") != NULL);
	sfs_free_opts(&o);
	CHECK(parse(&o, err, "/x", "--mode", "multipipe", "--pipes", "auto", NULL) == 0);
	sfs_free_opts(&o);
	CHECK(parse(&o, err, "/x", "--mode", "uring", "--uring-depth", "8", NULL) == 0);
	CHECK(o.mode_opts != NULL);
	CHECK_EQ_U64(*(int *)o.mode_opts, 8);
	sfs_free_opts(&o);
	CHECK(parse(&o, err, "/x", "--mode", "copy", NULL) == 0);
	CHECK(o.mode_opts == NULL); /* copy has no options */
}

TEST(options_bad_input_one_clear_line)
{
	struct sfs_opts o;
	char err[256];

	CHECK(parse(&o, err, "/m", "--mode", "zerocopy", NULL) != 0);
	CHECK(strstr(err, "unknown mode 'zerocopy'") != NULL);
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		CHECK(strstr(err, (*m)->name) != NULL); /* the valid names, from the list */
	CHECK(parse(&o, err, "/m", "--source", "udp://x:1", NULL) != 0);
	CHECK(strstr(err, "unknown source") && strstr(err, "mem") && strstr(err, "tcp://"));
	CHECK(parse(&o, err, "/m", "--source", "tcp://127.0.0.1:1?timeout=0", NULL) != 0);
	CHECK(strstr(err, "timeout=0") != NULL);
	CHECK(parse(&o, err, "/m", "--source", "tcp://127.0.0.1:1?timeout=2&retries=1", NULL) == 0);
	sfs_free_opts(&o);
	CHECK(parse(&o, err, "/m", "--source", "tcp://127.0.0.1:1?bogus=1", NULL) != 0);
	CHECK(strstr(err, "bogus") != NULL);
	CHECK(parse(&o, err, "/m", "--privilege", "admin", NULL) != 0);
	CHECK(strstr(err, "--privilege 'admin'") != NULL);
	CHECK(parse(&o, err, "/m", "--mode", "uring", "--fault-swap", NULL) != 0);
	CHECK(strstr(err, "--fault-swap") != NULL);
	CHECK(parse(&o, err, "/m", "--mode", "multipipe", "--pipes", "0", NULL) != 0);
	CHECK(strstr(err, "--pipes") != NULL);
	CHECK(parse(&o, err, "/m", "--mode", "multipipe", "--fault-kind", "x", NULL) != 0);
	CHECK(parse(&o, err, "/m", "--threads", "0", NULL) != 0);
	CHECK(strstr(err, "--threads") && strstr(err, "out of range"));
	CHECK(parse(&o, err, "/m", "--file-size", "12Q", NULL) != 0);
	CHECK(strstr(err, "not a size") != NULL);
	CHECK(parse(&o, err, "/m", "--max-read", "5000", NULL) != 0);
	CHECK(strstr(err, "multiple of 4096") != NULL);
	CHECK(parse(&o, err, "/m", "--granule", "12", NULL) != 0);
	CHECK(parse(&o, err, "/m", "--bogus", NULL) != 0);
	CHECK(strstr(err, "--bogus") != NULL);
	CHECK(parse(&o, err, NULL) != 0);
	CHECK(strstr(err, "no mount point") != NULL);
	CHECK(parse(&o, err, "/a", "/b", NULL) != 0);
	CHECK(parse(&o, err, "/m", "--source", "udp://x:1", NULL) != 0);
	CHECK(strchr(err, '\n') == NULL);
}

TEST(options_parse_size_suffixes)
{
	uint64_t v;

	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("4k", &v) == 0 && v == 4096);
	CHECK(parse_size("1MiB", &v) == 0 && v == 1 << 20);
	CHECK(parse_size("2G", &v) == 0 && v == 2ULL << 30);
	CHECK(parse_size("-1", &v) != 0);
	CHECK(parse_size("", &v) != 0);
	CHECK(parse_size("1X", &v) != 0);
	CHECK(parse_size("2T", &v) == 0 && v == 2ULL << 40);
	CHECK(parse_size("1kk", &v) != 0);
	CHECK(parse_size("99999999999999999999", &v) != 0);
	CHECK(parse_size("17179869184G", &v) != 0); /* overflows 64 bits */
}

TEST(options_help_lists_every_mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sfs_usage(f, "splicefs");
	fclose(f);
	CHECK(strstr(buf, "--pipe-size") && strstr(buf, "--granule"));
	for (const struct reply_mode *const *m = reply_modes; *m; m++) {
		CHECK(strstr(buf, (*m)->name) != NULL);
		for (size_t i = 0; i < (*m)->noptions; i++)
			CHECK(strstr(buf, (*m)->options[i].name) != NULL);
	}
	free(buf);
}

/* --list is one JSON object naming every registered mode and source (python3 reads it). */
TEST(options_list_is_json_naming_every_mode)
{
	char path[] = "/tmp/sbunit-list.XXXXXX", cmd[512], got[1024] = "", want[1024] = "";
	int fd = mkstemp(path);
	FILE *f, *p;
	size_t n = 0;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	CHECK(f != NULL);
	sfs_list(f);
	fclose(f);
	if (system("python3 -c '' 2>/dev/null") != 0) {
		unlink(path);
		SKIP("needs python3 to read the JSON");
	}
	snprintf(
	    cmd, sizeof(cmd),
	    "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
	    "assert d[\"program\"]==\"splicefs\"; "
	    "assert all(set(m)>={\"name\",\"help\",\"needs\",\"options\"} for m in d[\"modes\"]); "
	    "assert all(set(o)>={\"name\",\"arg\",\"default\",\"help\"} "
	    "for m in d[\"modes\"]+d[\"sources\"] for o in m[\"options\"]); "
	    "print(\" \".join(m[\"name\"] for m in d[\"modes\"]+d[\"sources\"]))' %s",
	    path);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!fgets(got, sizeof(got), p))
		got[0] = 0;
	pclose(p);
	unlink(path);
	got[strcspn(got, "\n")] = 0;
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		n += snprintf(want + n, sizeof(want) - n, "%s%s", n ? " " : "", (*m)->name);
	for (const struct data_source *const *s = data_sources; *s; s++)
		n += snprintf(want + n, sizeof(want) - n, " %s", (*s)->name);
	if (strcmp(got, want))
		unit_fail(__FILE__, __LINE__, "--list names '%s', the registry '%s'", got, want);
}

/*
 * An option of another mode is refused with one line naming its owner, for every
 * mode's every option against every other mode (from the tables, no names here);
 * the same option with its own mode is taken.
 */
TEST(options_of_another_mode_refused)
{
	struct sfs_opts o;
	char err[256], want[256];
	int tried = 0;

	CHECK(parse(&o, err, "/m", "--mode", "copy", "--pipes", "7", NULL) != 0);
	CHECK(strcmp(err, "--pipes is an option of mode multipipe, not copy; drop it or use "
	                  "--mode multipipe") == 0);
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		for (size_t i = 0; i < (*m)->noptions; i++) {
			const struct opt_desc *d = &(*m)->options[i];
			char name[64];
			const char *val = d->type == OPT_BOOL ? NULL : d->def ? d->def : "1";

			snprintf(name, sizeof(name), "--%s", d->name);
			CHECK(parse(&o, err, "/m", "--mode", (*m)->name, name, val, NULL) == 0);
			sfs_free_opts(&o);
			for (const struct reply_mode *const *n = reply_modes; *n; n++) {
				if (*n == *m)
					continue;
				snprintf(want, sizeof(want), "%s is an option of mode %s, not %s;",
				         name, (*m)->name, (*n)->name);
				CHECK(parse(&o, err, "/m", "--mode", (*n)->name, name, val, NULL) !=
				      0);
				CHECK(strstr(err, want) == err);
				CHECK(strchr(err, '\n') == NULL);
				CHECK(o.mode_opts == NULL);
				tried++;
			}
		}
	CHECK(tried > 0);
	/* --help and --list still work whatever else is given */
	CHECK(parse(&o, err, "--help", "--pipes", "7", NULL) == 0);
	sfs_free_opts(&o);
}
