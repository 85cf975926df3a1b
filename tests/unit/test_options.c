// SPDX-License-Identifier: MIT
#include "opttab.h"
#include "splicefs.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
	            "128K", "--direct-io", "--pipes", "16", "--pipe-size", "256k", "--granule",
	            "1M", "--clone-fd", "/x", NULL) == 0);
	CHECK(!strcmp(o.mode, "splice"));
	CHECK_EQ_U64(o.threads, 4);
	CHECK_EQ_U64(o.file_size, 8ULL << 30);
	CHECK_EQ_U64(o.max_read, 128 << 10);
	CHECK(o.direct_io && o.clone_fd);
	CHECK_EQ_U64(o.pipes, 16);
	CHECK_EQ_U64(o.pipe_size, 256 << 10);
	CHECK_EQ_U64(o.granule, 1 << 20);
}

TEST(options_bad_input_one_clear_line)
{
	struct sfs_opts o;
	char err[256];

	CHECK(parse(&o, err, "/m", "--mode", "zerocopy", NULL) != 0);
	CHECK(strstr(err, "unknown mode 'zerocopy'") != NULL);
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
	for (const struct reply_mode *const *m = reply_modes; *m; m++)
		CHECK(strstr(buf, (*m)->name) != NULL);
	free(buf);
}
