// SPDX-License-Identifier: MIT
/* Counters declared once (counters.h): merging, the stats file's fields, --list. */
#include "counters.h"
#include "opttab.h"
#include "statsfile.h"

#include <string.h>

const char *counter_combine_name(enum counter_combine c)
{
	switch (c) {
	case COUNTER_SUM:
		return "sum";
	case COUNTER_MAX:
		return "max";
	case COUNTER_LAST:
		return "last";
	case COUNTER_RATIO:
		return "ratio";
	}
	return "?";
}

static uint64_t at(const void *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)c + off, sizeof(v));
	return v;
}

uint64_t counter_get(const struct counter_desc *d, const void *c)
{
	return d->combine == COUNTER_RATIO ? 0 : at(c, d->off);
}

double counter_ratio(const struct counter_desc *d, const void *c)
{
	uint64_t den = at(c, d->den_off);

	return den ? (double)at(c, d->num_off) / (double)den : 0.0;
}

void counters_merge(const struct counter_desc *d, size_t n, void *out, const volatile void *one)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t *o, v;

		if (d[i].combine == COUNTER_RATIO)
			continue;
		o = (uint64_t *)((char *)out + d[i].off);
		v = *(const volatile uint64_t *)((const volatile char *)one + d[i].off);
		if (d[i].combine == COUNTER_SUM)
			*o += v;
		else if (v > *o)
			*o = v;
	}
}

int counters_json(char *buf, size_t len, int n, const struct counter_desc *d, size_t nd,
                  const void *c)
{
	for (size_t i = 0; i < nd; i++) {
		if (d[i].combine == COUNTER_RATIO)
			STATS_APPEND(",\"%s\":%.*f", d[i].name, d[i].decimals,
			             counter_ratio(&d[i], c));
		else
			STATS_APPEND(",\"%s\":%llu", d[i].name,
			             (unsigned long long)counter_get(&d[i], c));
	}
	return n;
}

size_t counters_list_json(FILE *f, const struct counter_desc *d, size_t nd, const char *owner,
                          int first)
{
	for (size_t i = 0; i < nd; i++) {
		fputs(first && !i ? "{\"name\":" : ",{\"name\":", f);
		opt_json_str(f, d[i].name);
		fputs(",\"help\":", f);
		opt_json_str(f, d[i].help);
		fputs(",\"combine\":", f);
		opt_json_str(f, counter_combine_name(d[i].combine));
		if (d[i].combine == COUNTER_RATIO) {
			fputs(",\"num\":", f);
			opt_json_str(f, d[i].num);
			fputs(",\"den\":", f);
			opt_json_str(f, d[i].den);
		}
		if (owner) {
			fputs(",\"mode\":", f);
			opt_json_str(f, owner);
		}
		fputc('}', f);
	}
	return nd;
}
