// SPDX-License-Identifier: MIT
#include "unit.h"

#include <stdarg.h>
#include <string.h>

static struct unit_test *head, **tail = &head;
static int cur_failed, cur_skipped;
static char cur_msg[512];

void unit_register(struct unit_test *t)
{
	*tail = t;
	tail = &t->next;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cur_failed++)
		return;
	n = snprintf(cur_msg, sizeof(cur_msg), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(cur_msg + n, sizeof(cur_msg) - n, fmt, ap);
	va_end(ap);
}

void unit_skip(const char *why)
{
	cur_skipped = 1;
	snprintf(cur_msg, sizeof(cur_msg), "%s", why);
}

int unit_failed(void)
{
	return cur_failed;
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0, skip = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (struct unit_test *t = head; t; t = t->next) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		cur_failed = cur_skipped = 0;
		cur_msg[0] = 0;
		t->fn();
		if (cur_failed) {
			printf("FAIL unit.%s: %s\n", t->name, cur_msg);
			fail++;
		} else if (cur_skipped) {
			printf("SKIP unit.%s: %s\n", t->name, cur_msg);
			skip++;
		} else {
			printf("PASS unit.%s\n", t->name);
			pass++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}
