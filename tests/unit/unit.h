/* SPDX-License-Identifier: MIT */
/*
 * A tiny kselftest-like harness for splicebench's C unit tests.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_U64(a, b); }
 *
 * Each TEST registers itself; tests/unit/main.c runs them all (or those whose
 * name contains argv[1]) and prints PASS/FAIL lines and the closing totals.
 * A test may call SKIP("why") to skip itself.
 */
#ifndef SPLICEBENCH_UNIT_H
#define SPLICEBENCH_UNIT_H

#include <stdint.h>
#include <stdio.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void unit_skip(const char *why);
int unit_failed(void);

#define TEST(n)                                                                                    \
	static void test_##n(void);                                                                \
	static struct unit_test unit_##n = {#n, test_##n, NULL};                                   \
	__attribute__((constructor)) static void reg_##n(void)                                     \
	{                                                                                          \
		unit_register(&unit_##n);                                                          \
	}                                                                                          \
	static void test_##n(void)

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			unit_fail(__FILE__, __LINE__, "%s", #c);                                   \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		unsigned long long a_ = (a), b_ = (b);                                             \
		if (a_ != b_) {                                                                    \
			unit_fail(__FILE__, __LINE__, "%s == %llu, expected %s == %llu", #a, a_,   \
			          #b, b_);                                                         \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define SKIP(why)                                                                                  \
	do {                                                                                       \
		unit_skip(why);                                                                    \
		return;                                                                            \
	} while (0)

#endif
