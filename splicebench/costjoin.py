#!/usr/bin/env python3
"""sbcostjoin.py POINTS.jsonl COST.jsonl...  (also: splicebench/stats.py cost-join ...)

Joins the sbcost windows (kernel/vm --cost, one JSON line per window) to the
points of a result set: each repeat's window minus its short window, divided by
the bytes delivered between them, gives the cost per byte delivered; the
point's "cost" object holds the median over its repeats (6 significant digits)
and how many repeats had both windows.  Where the windows count system calls
(sbcost's syscalls_user) it also holds syscalls_per_reply: the user-space
system calls between the two windows per bs bytes delivered (per FUSE_READ of bs
for a mode's point; per bs received for the network's own reader).  Points go to stdout as JSON lines; a
count goes to stderr.  Python 3 standard library only.  Errors: one line, exit 2.
"""
import argparse
import json
import statistics
import sys

COST_FIELDS = ["insns_kernel", "insns_user", "load_bytes_kernel", "load_bytes_user",
               "store_bytes_kernel", "store_bytes_user", "kernel_load_user_bytes",
               "kernel_store_user_bytes", "rep_iters_kernel", "rep_iters_user", "syscalls_user"]
PER_BYTE = ["bytes_moved_per_byte", "loads_per_byte", "stores_per_byte", "instr_per_byte_kernel",
            "instr_per_byte_user", "rep_iters_per_byte", "kernel_user_copy_per_byte"]


def die(msg):
    sys.stderr.write("sbcostjoin: %s\n" % msg)
    sys.exit(2)


# Per reply of bs bytes, where both windows have the count (windows of an older plugin do not).
PER_REPLY = ["syscalls_per_reply"]


def cost_per_byte(big, small, n, bs=None):
    """Per byte of n: the big window minus the small one (fixed costs cancel); per reply
    of bs bytes the system calls, where both windows counted them and bs is given."""
    d = {f: big.get(f, 0) - small.get(f, 0) for f in COST_FIELDS}
    loads = d["load_bytes_kernel"] + d["load_bytes_user"]
    stores = d["store_bytes_kernel"] + d["store_bytes_user"]
    out = {
        "bytes_moved_per_byte": (loads + stores) / n,
        "loads_per_byte": loads / n,
        "stores_per_byte": stores / n,
        "instr_per_byte_kernel": (d["insns_kernel"] - d["rep_iters_kernel"]) / n,
        "instr_per_byte_user": (d["insns_user"] - d["rep_iters_user"]) / n,
        "rep_iters_per_byte": (d["rep_iters_kernel"] + d["rep_iters_user"]) / n,
        "kernel_user_copy_per_byte": (d["kernel_load_user_bytes"] + d["kernel_store_user_bytes"]) / n,
    }
    if bs and "syscalls_user" in big and "syscalls_user" in small:
        out["syscalls_per_reply"] = d["syscalls_user"] * bs / n
    return out


def read_windows(files):
    """Complete windows by label; a later file (or line) wins: a point rerun after --resume
    repeats its labels."""
    win = {}
    for f in files:
        try:
            with open(f) as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        w = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(w, dict) and w.get("complete") and w.get("label"):
                        win[w["label"]] = w
        except OSError as e:
            die("cannot read %s: %s" % (f, e.strerror))
    return win


# Window lists on a point and the object each yields: the mode's own cost, and (on a
# network path) the network's own cost, a plain TCP reader's windows next to it.
JOINS = [("cost_windows", "cost"), ("cost_net_windows", "cost_net")]


def join(pts, win):
    """Adds the "cost" (and "cost_net") object to each ok point with windows; returns
    (points with a cost, ok points with windows but no cost)."""
    joined = missing = 0
    for p in pts:
        for wkey, ckey in JOINS:
            r = join_one(p, win, wkey, ckey)
            if ckey == "cost" and r is not None:
                joined += r
                missing += 1 - r
    return joined, missing


def join_one(p, win, wkey, ckey):
    """One window list of a point -> p[ckey]: None without windows, else 1 joined, 0 not
    (a point that failed, or an ok one whose windows are missing)."""
    cw = p.get(wkey)
    if not isinstance(cw, list) or not cw:
        return None
    per = []
    for r in cw:
        big, small = win.get(r.get("label")), win.get(r.get("label_small"))
        r["window"] = {f: big[f] for f in COST_FIELDS if f in big} if big else None
        r["window_small"] = {f: small[f] for f in COST_FIELDS if f in small} if small else None
        n = (r.get("io_bytes") or 0) - (r.get("io_bytes_small") or 0)
        if big and small and n > 0:
            r.update(cost_per_byte(big, small, n, p.get("bs")))
            per.append((r, n))
    if p.get("status") != "ok" or not per:
        p.pop(ckey, None)
        return 0 if p.get("status") == "ok" else None
    c = {k: float("%.6g" % statistics.median(r[k] for r, _ in per)) for k in PER_BYTE}
    for k in PER_REPLY:
        if all(k in r for r, _ in per):
            c[k] = float("%.6g" % statistics.median(r[k] for r, _ in per))
    c["delivered_bytes"] = statistics.median(n for _, n in per)
    c["repeats"] = len(per)
    p[ckey] = c
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="sbcostjoin.py", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("points", metavar="POINTS.jsonl")
    ap.add_argument("cost", metavar="COST.jsonl", nargs="+")
    a = ap.parse_args(argv)
    win = read_windows(a.cost)
    try:
        with open(a.points) as fh:
            pts = [json.loads(l) for l in fh if l.strip()]
    except OSError as e:
        die("cannot read %s: %s" % (a.points, e.strerror))
    except ValueError as e:
        die("%s: not JSON lines: %s" % (a.points, e))
    joined, missing = join(pts, win)
    for p in pts:
        sys.stdout.write(json.dumps(p, separators=(",", ":")) + "\n")
    sys.stderr.write("sbstat cost-join: %d points with cost, %d ok points without windows, %d windows read\n"
                     % (joined, missing, len(win)))
