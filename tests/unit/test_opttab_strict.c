// SPDX-License-Identifier: MIT
/* opttab's number parsing is strict: no sign, no spaces, no octal, no nan/inf. */
#include "opttab.h"
#include "unit.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct strict_opts {
	uint64_t n;
	int i;
	uint64_t size;
	uint32_t size32;
	double d;
};

#define SO(f) offsetof(struct strict_opts, f)
static const struct opt_desc strict_table[] = {
    {"n", 0, OPT_U64, SO(n), "0", "N", "a u64"},
    {"i", 0, OPT_INT, SO(i), "0", "N", "an int"},
    {"size", 0, OPT_SIZE, SO(size), "0", "SIZE", "a size"},
    {"size32", 0, OPT_SIZE32, SO(size32), "0", "SIZE", "a 32-bit size"},
    {"d", 0, OPT_DOUBLE, SO(d), "0", "S", "a double"},
};

/* Parse "--NAME VALUE"; 0 ok, -1 refused (err says why). */
static int one(struct strict_opts *o, const char *name, const char *val, char *err)
{
	char opt[32];
	char *argv[] = {"t", opt, (char *)val, NULL};

	snprintf(opt, sizeof(opt), "--%s", name);
	memset(o, 0, sizeof(*o));
	return opt_parse(strict_table, sizeof(strict_table) / sizeof(strict_table[0]), o, 3, argv,
	                 err, 256) < 0
	           ? -1
	           : 0;
}

TEST(opttab_strict_refuses_signs_and_spaces)
{
	struct strict_opts o;
	char err[256];
	static const char *const bad[] = {" -1", "-1", "+1", " 1", "1 ", "", "0x", "1e3", "abc"};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		CHECK(one(&o, "n", bad[k], err) == -1);
		CHECK(one(&o, "i", bad[k], err) == -1);
		CHECK(one(&o, "size", bad[k], err) == -1);
	}
	CHECK(one(&o, "n", " -1", err) == -1);
	CHECK(strstr(err, "not a whole number"));
}

TEST(opttab_strict_decimal_not_octal)
{
	struct strict_opts o;
	char err[256];

	CHECK(one(&o, "n", "010", err) == 0);
	CHECK_EQ_U64(o.n, 10);
	CHECK(one(&o, "i", "010", err) == 0);
	CHECK_EQ_U64(o.i, 10);
	CHECK(one(&o, "size", "010K", err) == 0);
	CHECK_EQ_U64(o.size, 10240);
	CHECK(one(&o, "n", "08", err) == 0); /* would be invalid octal */
	CHECK_EQ_U64(o.n, 8);
	CHECK(one(&o, "n", "0x10", err) == 0); /* hex stays available (seeds) */
	CHECK_EQ_U64(o.n, 16);
}

TEST(opttab_strict_overflow)
{
	struct strict_opts o;
	char err[256];

	CHECK(one(&o, "n", "18446744073709551615", err) == 0);
	CHECK_EQ_U64(o.n, UINT64_MAX);
	CHECK(one(&o, "n", "18446744073709551616", err) == -1);
	CHECK(one(&o, "i", "2147483648", err) == -1);
	CHECK(one(&o, "size", "16777216T", err) == -1);
	CHECK(one(&o, "size32", "4G", err) == -1);
	CHECK(one(&o, "size32", "1M", err) == 0);
	CHECK_EQ_U64(o.size32, 1 << 20);
}

TEST(opttab_strict_double)
{
	struct strict_opts o;
	char err[256];
	static const char *const bad[] = {"nan", "NaN",   "inf",   "infinity", "-1", " 1",
	                                  "-0",  "1e400", "0x1p3", "",         "."};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CHECK(one(&o, "d", bad[k], err) == -1);
	CHECK(one(&o, "d", "0.5", err) == 0);
	CHECK(o.d == 0.5);
	CHECK(one(&o, "d", ".25", err) == 0);
	CHECK(o.d == 0.25);
	CHECK(one(&o, "d", "2", err) == 0);
	CHECK(o.d == 2);
}
