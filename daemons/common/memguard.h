/* SPDX-License-Identifier: MIT */
/*
 * Memory guard: the daemons fill their data eagerly (files x file-size bytes of
 * memfd pages that cannot be reclaimed), so they check up front that it fits,
 * instead of being killed half-way by the OOM killer with no message.
 */
#ifndef SPLICEBENCH_MEMGUARD_H
#define SPLICEBENCH_MEMGUARD_H

#include <stddef.h>
#include <stdint.h>

/* Headroom kept free besides the data (the daemon's own buffers, the reader). */
#define MEMGUARD_HEADROOM (32ULL << 20)

/*
 * 0 when `need` bytes (+ headroom) fit in MemAvailable and in every memory
 * cgroup limit above this process (v2 memory.max, v1 memory.limit_in_bytes,
 * minus what the group already uses); otherwise -ENOMEM with one line in msg
 * giving the numbers: "NEED needed, but ... MemAvailable X; cgroup memory.max Y (Z in use)".
 */
int memguard_check(uint64_t need, char *msg, size_t msglen);

/* "1.5 GiB", "512 MiB", "12 KiB", "100 B" */
const char *memguard_fmt(uint64_t bytes, char *buf, size_t len);

#endif
