#!/usr/bin/env python3
"""Random unaligned reads through a mount, every byte compared with a reference mount.

  random-reads.py REF TEST FILE_SIZE SEED COUNT MAX_LEN RNG_SEED

Reads COUNT ranges [off, off + len) of REF and TEST (len up to MAX_LEN, offsets
unaligned, a quarter of them running past EOF) into page-aligned buffers with
preadv, and compares the lengths and every byte; words at a stride are also
checked against the pattern (granule 8, file 0: the word at w is w ^ SEED), so a
reference that is wrong the same way is caught too.  Prints "ok N BYTES" or
"FAIL off=.. len=..: why" and exits 1 at the first difference.
"""
import mmap
import os
import random
import struct
import sys

ref, test, size, seed, count, max_len, rseed = sys.argv[1:8]
size, seed, count, max_len = int(size), int(seed), int(count), int(max_len)
rng = random.Random(int(rseed))
fr, ft = os.open(ref, os.O_RDONLY), os.open(test, os.O_RDONLY)
br, bt = mmap.mmap(-1, max_len), mmap.mmap(-1, max_len)
total = 0


def fail(off, n, why):
    print(f"FAIL off={off} len={n}: {why}")
    sys.exit(1)


for i in range(count):
    n = rng.randint(1, max_len)
    if i % 4 == 3:  # across EOF
        off = size - rng.randint(1, min(n, size))
    else:
        off = rng.randint(0, size - 1)
    if i % 8 == 0:
        n = max(n - n % 4096, 4096)  # whole pages at an unaligned offset too
    try:
        got_r = os.preadv(fr, [memoryview(br)[:n]], off)
    except OSError as e:
        fail(off, n, f"reference read: {e}")
    try:
        got_t = os.preadv(ft, [memoryview(bt)[:n]], off)
    except OSError as e:
        fail(off, n, f"read: {e}")
    want = max(0, min(n, size - off))
    if got_r != want:
        fail(off, n, f"reference returned {got_r} bytes, want {want}")
    if got_t != want:
        fail(off, n, f"returned {got_t} bytes, want {want}")
    if br[:want] != bt[:want]:
        k = next(j for j in range(want) if br[j] != bt[j])
        fail(off, n, f"byte {off + k} differs from the reference")
    for w in range(((off + 7) & ~7), off + want - 7, 65536):
        (v,) = struct.unpack_from("<Q", bt, w - off)
        if v != w ^ seed:
            fail(off, n, f"word at {w} holds {v:#x}, not the pattern's {w ^ seed:#x}")
    total += want
print(f"ok {count} {total}")
