// SPDX-License-Identifier: MIT
/* The memory guard: refuses what cannot fit, with the numbers. */
#include "memguard.h"
#include "unit.h"

#include <errno.h>
#include <string.h>

TEST(memguard_fmt_units)
{
	char b[32];

	CHECK(!strcmp(memguard_fmt(100, b, sizeof(b)), "100 B"));
	CHECK(!strcmp(memguard_fmt(1536, b, sizeof(b)), "1.50 KiB"));
	CHECK(!strcmp(memguard_fmt(512ULL << 20, b, sizeof(b)), "512 MiB"));
	CHECK(!strcmp(memguard_fmt(3ULL << 30, b, sizeof(b)), "3.00 GiB"));
}

TEST(memguard_refuses_with_numbers)
{
	char msg[1024] = "";

	CHECK(memguard_check(4096, msg, sizeof(msg)) == 0);
	CHECK(memguard_check(1ULL << 52, msg, sizeof(msg)) == -ENOMEM);
	CHECK(strstr(msg, "4096 TiB needed"));
	CHECK(strstr(msg, "MemAvailable is ") || strstr(msg, "cgroup limit"));
}
