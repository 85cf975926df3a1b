#!/usr/bin/env python3
"""Cost by symbol: the sbcost plugin's per-code-entry counts, per byte delivered.

  splicebench/why/syms.py table DIR [--top N]
      DIR: a bench-cost result directory (cost.jsonl, cost-syms.jsonl, cost.csv) or a
      bench/run --cost result set (points.jsonl, cost.jsonl, cost-syms.jsonl).  Writes
      DIR/syms-KEY.csv per row (bench-cost: MODE-BS; bench/run: pINDEX and pINDEX-net)
      and DIR/syms-check.json, and prints each row's top symbols.
  splicebench/why/syms.py diff DIR A B [--top N] [--csv FILE]
      A, B: rows of DIR (bench-cost: MODE/BS, e.g. multipipe/1m, network/1m; bench/run:
      pINDEX or pINDEX-net, or the unique point whose name starts with PART, NET:PART for its network
      row).  Symbol by symbol: B minus A, per byte and per reply.

A row's figure for a symbol is, over its repeats, the sum of (big window - small window)
divided by the sum of the bytes delivered between them: the same difference the cost
columns take, so that fixed costs (exec, exit) cancel.  (cost.csv's figures are medians
over the repeats; the symbol tables are their mean, so that the parts add up: the
check file states both.)  Kernel counts go to the symbol that holds the instruction
(System.map), user counts to a code page, named here from the daemon's /proc/PID/maps
(maps-MODE.txt) where it was saved, else by region.  Categories: bench/categories.tsv;
a routine whose bytes are mostly rep-string iterations (an inlined memcpy) is copying.
Python 3 standard library only.
"""
import argparse
import csv
import json
import os
import re
import sys
from collections import defaultdict

from .. import TOP
FIELDS = ("insns", "rep", "load", "store", "kload_user", "kstore_user")
MIB = 1048576


def die(msg, code=2):
    print("splicebench/why/syms.py: " + msg, file=sys.stderr)
    sys.exit(code)


# ------------------------------------------------------------------ categories
def load_categories(path=None):
    """[(category, compiled regex)] from bench/categories.tsv, in file order."""
    path = path or os.path.join(TOP, "bench", "categories.tsv")
    cats = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if "\t" not in line:
                raise ValueError("%s:%d: want CATEGORY<TAB>REGEX" % (path, n))
            cat, rx = line.split("\t", 1)
            cats.append((cat, re.compile(rx)))
    return cats


def categorize(name, cats, cache={}):
    """The first category whose regex matches NAME as a whole; 'other' else.
    'u:' names (user code pages without symbols) are 'other' unless a regex names them."""
    key = (id(cats), name)
    if key in cache:
        return cache[key]
    base = name[2:] if name.startswith("u:") else name
    base = base.split(" ", 1)[0]
    out = "other"
    for cat, rx in cats:
        if rx.fullmatch(base):
            out = cat
            break
    cache[key] = out
    return out


# ------------------------------------------------------------------ reading
# One JSONL reader for the project (a torn last line, from a killed QEMU, is skipped).
from ..results import read_jsonl


def load_windows(d):
    """window number -> totals line, and per window number -> {sym: counts}."""
    wins = {w["window"]: w for w in read_jsonl(os.path.join(d, "cost.jsonl"))}
    syms = defaultdict(dict)
    p = os.path.join(d, "cost-syms.jsonl")
    if not os.path.exists(p):
        die("%s: no cost-syms.jsonl (run with the guest kernel's System.map: bench-cost --syms, "
            "or SBCOST_SYMS=System.map for bench/run --vm --cost)" % d)
    for e in read_jsonl(p):
        d = syms[e["window"]]
        if e["sym"] in d:  # two symbols of one name (static functions of different files): one row
            for f in FIELDS:
                d[e["sym"]][f] = d[e["sym"]].get(f, 0) + e.get(f, 0)
        else:
            d[e["sym"]] = e
    return wins, syms


def load_maps(d):
    """[(start, end, name)] from DIR/maps-*.txt (the daemons' /proc/PID/maps)."""
    out = []
    for fn in sorted(os.listdir(d)):
        if not (fn.startswith("maps-") and fn.endswith(".txt")):
            continue
        with open(os.path.join(d, fn)) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6 or "x" not in parts[1]:
                    continue
                a, b = (int(x, 16) for x in parts[0].split("-"))
                out.append((a, b, os.path.basename(parts[5])))
    return out


def user_name(page, maps):
    for a, b, name in maps:
        if a <= page < b:
            return "u:" + name
    if page < 0x10000000:
        return "u:[static exe, e.g. busybox]"
    if 0x555555554000 <= page < 0x560000000000:
        return "u:[PIE exe]"
    if page >= 0x7ff000000000:
        return "u:[shared libs, vdso]"
    return "u:[other]"


def check_window(w, ents):
    """Largest relative difference between the sum of a window's entries and its totals."""
    tot = {
        "insns": w["insns_kernel"] + w["insns_user"],
        "rep": w["rep_iters_kernel"] + w["rep_iters_user"],
        "load": w["load_bytes_kernel"] + w["load_bytes_user"],
        "store": w["store_bytes_kernel"] + w["store_bytes_user"],
        "kload_user": w["kernel_load_user_bytes"],
        "kstore_user": w["kernel_store_user_bytes"],
    }
    worst = 0.0
    for f in FIELDS:
        s = sum(e.get(f, 0) for e in ents.values())
        if tot[f]:
            worst = max(worst, abs(s - tot[f]) / tot[f])
        elif s:
            worst = max(worst, 1.0)
    return worst


def rows_bench_cost(d, wins):
    """bench-cost: labels MODE/BS/SIZE/REPEAT -> {row key: [(big, small, delivered)]}."""
    by = defaultdict(dict)
    for n, w in wins.items():
        if not w.get("complete"):
            continue
        k = w["label"].split("/")
        if len(k) < 3:
            continue
        by[(k[0], k[1], k[3] if len(k) > 3 else "1")][int(k[2])] = n
    rows = defaultdict(list)
    info = {}
    for (mode, bs, rep), sizes in by.items():
        if len(sizes) != 2:
            continue
        small, big = sorted(sizes)
        key = "%s/%s" % (mode, bs_name(int(bs)))
        rows[key].append((sizes[big], sizes[small], (big - small) * MIB))
        info[key] = {"mode": mode, "bs": int(bs)}
    return rows, info


def rows_bench_run(d, wins):
    """bench/run --cost: points.jsonl's cost_windows / cost_net_windows."""
    latest = {}
    for n in sorted(wins):
        latest[wins[n]["label"]] = n
    rows, info = defaultdict(list), {}
    for p in read_jsonl(os.path.join(d, "points.jsonl")):
        for fld, suffix in (("cost_windows", ""), ("cost_net_windows", "-net")):
            for cw in p.get(fld) or []:
                big, small = latest.get(cw.get("label")), latest.get(cw.get("label_small"))
                dl = (cw.get("io_bytes") or 0) - (cw.get("io_bytes_small") or 0)
                if big is None or small is None or dl <= 0:
                    continue
                key = "p%d%s" % (p["index"], suffix)
                rows[key].append((big, small, dl))
                info[key] = {"mode": ("network" if suffix else p.get("mode")), "bs": p.get("bs"),
                             "point": p.get("point"), "source": p.get("source")}
    return rows, info


def bs_name(b):
    for unit, m in (("m", MIB), ("k", 1024)):
        if b % m == 0:
            return "%d%s" % (b // m, unit)
    return str(b)


def table_of(pairs, syms, maps, cats):
    """{name: per-byte figures} over the pairs of one row, and the row's totals."""
    acc = defaultdict(lambda: [0] * len(FIELDS))
    delivered = 0
    for big, small, dl in pairs:
        delivered += dl
        for sign, n in ((1, big), (-1, small)):
            for sym, e in syms.get(n, {}).items():
                name = sym
                if sym.startswith("u:0x"):
                    name = user_name(int(sym[2:], 16), maps)
                a = acc[name]
                for i, f in enumerate(FIELDS):
                    a[i] += sign * e.get(f, 0)
    out = {}
    for name, a in acc.items():
        v = dict(zip(FIELDS, (x / delivered for x in a)))
        cat = categorize(name, cats)
        # A routine whose traffic is mostly rep-string iterations (a memcpy inlined into
        # fuse_copy_do or copy_out_splices: one load and one store per iteration) copies.
        if v["rep"] > 0 and 2 * v["rep"] >= 0.8 * (v["load"] + v["store"]):
            cat = "copying"
        out[name] = {
            "kind": "user" if name.startswith("u:") else "kernel",
            "category": cat,
            "instr_per_byte": v["insns"] - v["rep"],
            "rep_per_byte": v["rep"],
            "loads_per_byte": v["load"],
            "stores_per_byte": v["store"],
            "moved_per_byte": v["load"] + v["store"],
            "kernel_user_copy_per_byte": v["kload_user"] + v["kstore_user"],
        }
    return out, delivered


COLS = ("instr_per_byte", "rep_per_byte", "loads_per_byte", "stores_per_byte", "moved_per_byte",
        "kernel_user_copy_per_byte")


def totals(tab):
    return {c: sum(r[c] for r in tab.values()) for c in COLS}


def by_category(tab):
    out = defaultdict(lambda: dict.fromkeys(COLS, 0.0))
    for r in tab.values():
        for c in COLS:
            out[r["category"]][c] += r[c]
    return dict(out)


def load(d, cats=None):
    """Everything a caller needs: {row key: {"table", "delivered", "info", "pairs"}}, check."""
    cats = cats or load_categories()
    wins, syms = load_windows(d)
    if os.path.exists(os.path.join(d, "points.jsonl")):
        rows, info = rows_bench_run(d, wins)
    else:
        rows, info = rows_bench_cost(d, wins)
    maps = load_maps(d)
    out = {}
    worst = 0.0
    for key, pairs in rows.items():
        for big, small, _ in pairs:
            for n in (big, small):
                worst = max(worst, check_window(wins[n], syms.get(n, {})))
        tab, dl = table_of(pairs, syms, maps, cats)
        out[key] = {"table": tab, "delivered": dl, "info": info[key], "pairs": len(pairs)}
    return out, worst


def reference_moved(d, key, info):
    """The row's bytes moved per byte as the cost columns give it (median over repeats)."""
    try:
        if os.path.exists(os.path.join(d, "points.jsonl")):
            idx = int(key[1:].split("-")[0])
            for p in read_jsonl(os.path.join(d, "points.jsonl")):
                if p.get("index") == idx:
                    c = p.get("cost") or {}
                    return c.get("net_bytes_moved_per_byte" if key.endswith("-net") else "bytes_moved_per_byte")
        with open(os.path.join(d, "cost.csv")) as f:
            for r in csv.DictReader(f):
                if r["mode"] == info["mode"] and int(r["bs"]) == int(info["bs"]):
                    return float(r["cost_bytes_moved_per_byte"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def write_csv(path, tab):
    tot = totals(tab)
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("sym", "kind", "category") + COLS + ("share_moved_pct",))
        w.writerow(("TOTAL", "", "") + tuple("%.6g" % tot[c] for c in COLS) + ("100",))
        for name, r in sorted(tab.items(), key=lambda kv: -abs(kv[1]["moved_per_byte"]) - abs(kv[1]["instr_per_byte"]) * 1e-3):
            if all(abs(r[c]) < 1e-7 for c in COLS):
                continue
            share = 100 * r["moved_per_byte"] / tot["moved_per_byte"] if tot["moved_per_byte"] else 0
            w.writerow((name, r["kind"], r["category"]) + tuple("%.6g" % r[c] for c in COLS) + ("%.2f" % share,))
    os.replace(path + ".tmp", path)


def cmd_table(a):
    data, worst = load(a.dir)
    if not data:
        die("%s: no complete pairs of windows with symbols" % a.dir, 1)
    check = {"windows_sum_vs_totals_max_rel": worst, "rows": {}}
    for key in sorted(data):
        r = data[key]
        tab = r["table"]
        fn = "syms-%s.csv" % key.replace("/", "-")
        write_csv(os.path.join(a.dir, fn), tab)
        tot = totals(tab)
        ref = reference_moved(a.dir, key, r["info"])
        rel = abs(tot["moved_per_byte"] - ref) / ref * 100 if ref else None
        check["rows"][key] = {"file": fn, "pairs": r["pairs"], "moved_per_byte_sum": tot["moved_per_byte"],
                              "moved_per_byte_median_row": ref, "sum_vs_median_pct": rel,
                              "categories": by_category(tab), **r["info"]}
        print("%s: %d pair(s), %.4f bytes moved and %.4f instructions per byte in %d entries%s -> %s"
              % (key, r["pairs"], tot["moved_per_byte"], tot["instr_per_byte"], len(tab),
                 "" if rel is None else " (the median row: %.4f, %.2f %% apart)" % (ref, rel), fn))
        for name, s in sorted(tab.items(), key=lambda kv: -kv[1]["moved_per_byte"])[:a.top]:
            print("    %-40s %-20s moved %8.4f  instr %8.4f  rep %7.4f" % (
                name[:40], s["category"], s["moved_per_byte"], s["instr_per_byte"], s["rep_per_byte"]))
    print("every window's entries add up to its totals within %.2g %%%s" % (
        worst * 100, " (exact, as by construction)" if worst == 0 else ": NOT EXACT, a window's entries are missing"))
    with open(os.path.join(a.dir, "syms-check.json.tmp"), "w") as f:
        json.dump(check, f, indent=1)
    os.replace(os.path.join(a.dir, "syms-check.json.tmp"), os.path.join(a.dir, "syms-check.json"))
    return 0


def find_row(data, want):
    if want in data:
        return want
    net = want.startswith("NET:")
    part = want[4:] if net else want
    hits = [k for k, r in data.items() if (r["info"].get("point") or "").startswith(part) and k.endswith("-net") == net]
    if len(hits) == 1:
        return hits[0]
    die("row '%s': %s (rows: %s)" % (want, "matches %d rows" % len(hits) if hits else "no such row",
                                      ", ".join(sorted(data))))


def diff(data, ka, kb):
    """[(name, category, delta per byte dict)] B - A, and the two totals."""
    ta, tb = data[ka]["table"], data[kb]["table"]
    out = []
    for name in set(ta) | set(tb):
        ra, rb = ta.get(name), tb.get(name)
        z = dict.fromkeys(COLS, 0.0)
        ra, rb = ra or z, rb or z
        cat = (data[kb]["table"].get(name) or data[ka]["table"].get(name))["category"]
        out.append((name, cat, {c: rb[c] - ra[c] for c in COLS}, ra, rb))
    return out, totals(ta), totals(tb)


def cmd_diff(a):
    data, _ = load(a.dir)
    ka, kb = find_row(data, a.a), find_row(data, a.b)
    rows, tot_a, tot_b = diff(data, ka, kb)
    bs = data[kb]["info"].get("bs") or 0
    print("%s minus %s, per byte delivered (per reply of %s: x %d)" % (kb, ka, bs_name(int(bs)) if bs else "?", int(bs)))
    print("  total: bytes moved %+.4f (%.4f -> %.4f), instructions %+.4f (%.4f -> %.4f; %+.0f per reply)" % (
        tot_b["moved_per_byte"] - tot_a["moved_per_byte"], tot_a["moved_per_byte"], tot_b["moved_per_byte"],
        tot_b["instr_per_byte"] - tot_a["instr_per_byte"], tot_a["instr_per_byte"], tot_b["instr_per_byte"],
        (tot_b["instr_per_byte"] - tot_a["instr_per_byte"]) * bs))
    cat = defaultdict(lambda: dict.fromkeys(COLS, 0.0))
    for name, c, dd, _, _ in rows:
        for k in COLS:
            cat[c][k] += dd[k]
    print("  by category (bench/categories.tsv):")
    for c, dd in sorted(cat.items(), key=lambda kv: -abs(kv[1]["moved_per_byte"])):
        print("    %-22s moved %+8.4f  instr %+8.4f (%+8.0f per reply)  rep %+7.4f" % (
            c, dd["moved_per_byte"], dd["instr_per_byte"], dd["instr_per_byte"] * bs, dd["rep_per_byte"]))
    for what, col in (("bytes moved", "moved_per_byte"), ("instructions", "instr_per_byte")):
        print("  largest differences in %s per byte:" % what)
        for name, c, dd, ra, rb in sorted(rows, key=lambda r: -abs(r[2][col]))[:a.top]:
            print("    %-40s %-20s %+8.4f (%.4f -> %.4f)%s" % (
                name[:40], c, dd[col], ra[col], rb[col],
                "  %+.0f per reply" % (dd[col] * bs) if col == "instr_per_byte" and bs else ""))
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("sym", "category") + tuple("%s_%s" % (c, s) for c in COLS for s in ("a", "b", "delta")))
            for name, c, dd, ra, rb in sorted(rows, key=lambda r: -abs(r[2]["moved_per_byte"])):
                w.writerow((name, c) + tuple("%.6g" % v for col in COLS for v in (ra[col], rb[col], dd[col])))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Cost by symbol from sbcost's cost-syms.jsonl.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table", help="per-symbol tables of every row of DIR")
    t.add_argument("dir")
    t.add_argument("--top", type=int, default=8)
    d = sub.add_parser("diff", help="B minus A, symbol by symbol")
    d.add_argument("dir")
    d.add_argument("a")
    d.add_argument("b")
    d.add_argument("--top", type=int, default=12)
    d.add_argument("--csv")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.dir):
        die("%s is not a directory" % a.dir)
    return cmd_table(a) if a.cmd == "table" else cmd_diff(a)
