#!/usr/bin/env python3
"""python3 - SET [OUT] < plots/testdata/upstream/cut.py (from the checkout's top, which is
then first on Python's path, so the package imports as itself): this fixture, cut from a result set of bench/matrices/upstream (the
report section "FUSE_OUT_SPLICES against upstream's io_uring zero-copy",
splicebench/report/upstream.py; tests/61-upstream-report.t): its tcp-nic, 1 MiB, root
points (the section's chart, table and judged sentence) with their cost windows joined
(splicebench/costjoin.py, as bench/run --cost does), points.csv written by the same code
as bench/run's, and its meta.json.  Made from results/ref-2026-12-07-upstream/cost-7.3-v3."""
import glob
import json
import os
import shutil
import sys

from splicebench.costjoin import join, read_windows
from splicebench.results import read_jsonl
from splicebench.stats import csv_text

src = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join("plots", "testdata", "upstream")
pts = [p for p in read_jsonl(os.path.join(src, "points.jsonl"))
       if p.get("source") == "tcp-nic" and p.get("bs") == 1048576 and p.get("privilege") in (None, "", "root")]
cfiles = sorted(glob.glob(os.path.join(src, "cost.jsonl.*")), key=os.path.getmtime)
cfiles += [os.path.join(src, "cost.jsonl")]
join(pts, read_windows(cfiles))
with open(os.path.join(out, "points.jsonl"), "w") as f:
    f.write("".join(json.dumps(p, separators=(",", ":")) + "\n" for p in pts))
with open(os.path.join(out, "points.csv"), "w") as f:
    f.write(csv_text(pts))
shutil.copy(os.path.join(src, "meta.json"), os.path.join(out, "meta.json"))
print("cut.py: %d points -> %s" % (len(pts), out))
