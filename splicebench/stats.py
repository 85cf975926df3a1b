#!/usr/bin/env python3
"""splicebench statistics and bookkeeping (Python 3 standard library only).

    python3 -m splicebench stats csv POINTS.jsonl       the CSV (contract in bench/README.md)
    python3 -m splicebench stats compare DIR_A DIR_B [--csv F | --out DIR_OUT]  two result sets
    python3 -m splicebench stats compare DIR --by AXIS --base VALUE [--csv F | --out DIR_OUT]
    python3 -m splicebench stats summary DIR            a short table of a result set
    python3 -m splicebench stats cost-join POINTS.jsonl COST.jsonl...   the sbcost windows
                                             joined to the points -> JSON lines (costjoin)

Result sets are read through splicebench.results (shared with splicebench.report): the
columns, axes, point matching and the noise rule live there.
Errors are one line on stderr and exit status 2.
"""
import argparse
import json
import os
import statistics
import sys

from . import results as R  # the shared results module
from . import verdict as V  # the one judge
from .results import CSV_COLUMNS, DETAIL_OBJECTS, OPTIONAL_COLUMNS, read_jsonl, spread


def die(msg):
    sys.stderr.write("sbstat: %s\n" % msg)
    sys.exit(2)


# ---------------------------------------------------------------- CSV

def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return ("%.6g" % v)
    return str(v).replace(",", ";").replace("\n", " ")


def extra_columns(points):
    """Generic extras: every top-level object of scalars (e.g. "cost") -> KEY_SUBKEY columns."""
    cols = []
    for p in points:
        for k, v in p.items():
            if k in DETAIL_OBJECTS or not isinstance(v, dict):
                continue
            if all(not isinstance(x, (dict, list)) for x in v.values()):
                for sk in v:
                    c = (k, sk)
                    if c not in cols:
                        cols.append(c)
    return cols


def csv_text(points, counters=()):
    """The points.csv text of points (points.jsonl records); counters: the names the set's
    --list declares (meta.json), each a column where a point has it, after the fixed ones."""
    extra = extra_columns(points)
    # Optional columns (new counters, axes, CPU parts) only when a point has them.
    opt = [c for c in OPTIONAL_COLUMNS
           if any(not isinstance(p.get(c), (dict, list)) and c in p for p in points)]
    cols = CSV_COLUMNS + opt
    # a mode's own axes (from its --list options) that no fixed column names yet
    for p in points:
        for a in (p.get("own_axes") or {}):
            if a not in cols:
                cols.append(a)
    for c in counters:  # a counter the daemons declare: its column with no line here
        if c not in cols and any(c in p and not isinstance(p[c], (dict, list)) for p in points):
            cols.append(c)
    lines = [",".join(cols + ["%s_%s" % c for c in extra])]
    for p in points:
        row = [fmt(p.get(c, "")) for c in cols]
        row += [fmt(p.get(k, {}).get(sk, "")) for k, sk in extra]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def set_csv(points_path, lists=None):
    """points.csv's text for a set's points.jsonl: the counters its daemons' --list declare
    (LISTS, else the set's meta.json beside it) get their columns."""
    meta = {"lists": lists} if lists is not None else {}
    if lists is None:
        try:  # the set's own meta.json beside its points names the daemons' counters
            with open(os.path.join(os.path.dirname(os.path.abspath(points_path)), "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            pass
    names = [c["name"] for c in R.counters(meta if isinstance(meta, dict) else {})]
    return csv_text(read_jsonl(points_path), names)


def cmd_csv(a):
    sys.stdout.write(set_csv(a.points))


# ---------------------------------------------------------------- compare

def _pct(a, b):
    return (b - a) / a * 100.0 if a else ""


def compare_pair(a, b, target, emulated, copy_modes, judge=None):
    """One matched pair -> a row of the compare CSV (verdicts by the shared noise rule).
    judge(a, b, what, higher_better) -> the rule's dict: R.paired within one run (the
    default), R.between through a control for two runs."""
    judge = judge or R.paired
    ok = a.get("status") == "ok" and b.get("status") == "ok"
    row = {"status_a": a.get("status"), "status_b": b.get("status"), "n_a": a.get("repeats") or 0,
           "n_b": b.get("repeats") or 0, "label_a": R.mode_label(a, copy_modes),
           "label_b": R.mode_label(b, copy_modes), "axes": "", "gbps_a": "", "gbps_b": "",
           "gbps_delta_pct": "", "gbps_verdict": "", "gbps_why": "", "cpu_a": "", "cpu_b": "",
           "cpu_delta_pct": "", "cpu_verdict": "", "reason": "", "pairs": "", "stolen_rounds": "", "gbps_ratio": "",
           "gbps_ratio_lo": "", "gbps_ratio_hi": "", "cpu_ratio": "", "cpu_why": "", "control": "",
           "cpu_ratio_lo": "", "cpu_ratio_hi": ""}
    for k, _ in COST_KEYS:
        row.update({k + s: "" for s in ("_a", "_b", "_verdict", "_why", "_ratio", "_lo", "_hi")})
    if not ok:
        row["reason"] = (a.get("reason") if a.get("status") != "ok" else b.get("reason")) or ""
        return row
    row.update(gbps_a=a["gbps_median"], gbps_b=b["gbps_median"],
               gbps_delta_pct=_pct(a["gbps_median"], b["gbps_median"]))  # replaced by the judged shift
    if emulated:
        row["gbps_verdict"], row["gbps_why"] = "", "emulated (TCG): not ranked by time"
    else:
        d = judge(a, b, "gbps", True)  # the one rule (splicebench/verdict.py)
        row.update(gbps_verdict=d["outcome"], gbps_why=d["reason"], pairs=d["n"],
                   stolen_rounds=d.get("stolen", ""),
                   control=d.get("control") or "", gbps_ratio=_num(d["estimate"]),
                   gbps_ratio_lo=_num(d["lo"]), gbps_ratio_hi=_num(d["hi"]))
        if d["estimate"] is not None:  # the delta shown is the judged shift, not raw medians
            row["gbps_delta_pct"] = (d["estimate"] - 1) * 100
        ca, cb = R.cpu_mode_cost(a), R.cpu_mode_cost(b)
        if ca is not None and cb is not None:
            row.update(cpu_a=ca, cpu_b=cb, cpu_delta_pct=_pct(ca, cb))
            c = judge(a, b, "cpu", False)
            row.update(cpu_verdict=c["outcome"], cpu_why=c["reason"], cpu_ratio=_num(c["estimate"]),
                       cpu_ratio_lo=_num(c["lo"]), cpu_ratio_hi=_num(c["hi"]))
            if c["estimate"] is not None:
                row["cpu_delta_pct"] = (c["estimate"] - 1) * 100
    for (k, name), (_, get) in zip(COST_KEYS, R.COST_METRICS):
        va, vb = get(a), get(b)
        if va is not None and vb is not None:
            c = R.cost_judged(a, b, name)
            row.update({k + "_a": va, k + "_b": vb, k + "_verdict": c["outcome"], k + "_why": c["reason"],
                        k + "_ratio": _num(c["estimate"]), k + "_lo": _num(c["lo"]), k + "_hi": _num(c["hi"])})
    return row


def _num(v):
    return "" if v is None else v


def verdicts_of(rows):
    """Every verdict the rows state (GB/s, CPU, each cost), for the family's text."""
    keys = ["gbps_verdict", "cpu_verdict"] + [k + "_verdict" for k, _ in COST_KEYS]
    return [r[k] for r in rows for k in keys if r.get(k)]


COST_KEYS = [("cost_moved", "bytes moved per byte delivered"),
             ("cost_instr", "instructions per byte delivered")]
CMP_COLS = (["point", "status_a", "status_b", "n_a", "n_b", "gbps_a", "gbps_b", "gbps_delta_pct",
             "gbps_verdict", "cpu_a", "cpu_b", "cpu_delta_pct", "cpu_verdict", "reason",
             "label_a", "label_b", "axes", "gbps_why"]
            + [k + s for k, _ in COST_KEYS for s in ("_a", "_b", "_verdict", "_why")]
            + ["pairs", "gbps_ratio", "gbps_ratio_lo", "gbps_ratio_hi", "cpu_ratio", "cpu_why", "control",
               "cpu_ratio_lo", "cpu_ratio_hi"]
            + [k + s for k, _ in COST_KEYS for s in ("_ratio", "_lo", "_hi")]
            + ["stolen_rounds"])


def sentence(r, emulated, base_name="A", new_name="B"):
    """One computed sentence: what is compared, at which axes, the figures, the verdict."""
    head = "%s against %s at %s" % (r["label_b"], r["label_a"], r["axes"])
    if r["gbps_a"] == "" or r["gbps_b"] == "":
        return "%s: not compared (%s/%s: %s)." % (head, r["status_a"], r["status_b"], r["reason"] or "no figure")
    parts = []
    for (k, name) in COST_KEYS:
        if r[k + "_a"] != "":
            v = r[k + "_verdict"] + (" (%s)" % r[k + "_why"] if r[k + "_why"] else "")
            iv = (", interval %.3f-%.3f" % (r[k + "_lo"], r[k + "_hi"])) if r[k + "_lo"] != "" else ""
            ratio = ("%.3fx%s" % (r[k + "_ratio"], iv)) if r[k + "_ratio"] != "" else "no ratio"
            parts.append("%s %.3g vs %.3g (%s): %s" % (name, r[k + "_b"], r[k + "_a"], ratio, v))
    if emulated:
        if not parts:
            return "%s: no cost figures, and emulated (TCG) timings rank nothing." % head
        return "%s: %s." % (head, "; ".join(parts))
    why = " (%s)" % r["gbps_why"] if r["gbps_why"] else ""
    iv = (", interval %.2f-%.2f" % (r["gbps_ratio_lo"], r["gbps_ratio_hi"])) if r["gbps_ratio_lo"] != "" else ""
    if r["control"]:
        ratio = ("ratio %.2fx through the control %s, %d rounds in each run%s" % (
            r["gbps_ratio"], r["control"], r["pairs"], iv) if r["gbps_ratio"] != ""
            else "through the control %s" % r["control"])
    elif r["gbps_why"] == "the control itself":
        ratio = "the control the other points are judged through"
    elif r["gbps_ratio"] != "":
        ratio = "ratio %.2fx over %d paired rounds%s" % (r["gbps_ratio"], r["pairs"], iv)
    else:
        ratio = "no paired rounds"
    s = "%s: %.3f vs %.3f GB/s (%s): %s%s" % (head, r["gbps_b"], r["gbps_a"], ratio, r["gbps_verdict"], why)
    if r["cpu_a"] != "":
        s += "; CPU %.3f vs %.3f s/GB (daemon, server, fio, softirq, kernel threads)%s" % (
            r["cpu_b"], r["cpu_a"], (": " + r["cpu_verdict"] + (" (%s)" % r["cpu_why"] if r["cpu_why"] else ""))
            if r["cpu_verdict"] else "")
    return s + "; ".join([""] + parts) + "."


def control_lines(ra, rb, control, axes):
    """The control's own change between the runs, judged, one line per place it was
    measured; and a warning where the runs differ in kernel (the control is under test too)."""
    out = []
    if control is None:
        return out
    seen = set()
    for ca in ra.rows:
        if str(ca.get(control[0])) != str(control[1]) or ca.get("status") != "ok":
            continue
        cb = next((r for r in rb.rows if R.match_key(r, axes) == R.match_key(ca, axes)), None)
        if cb is None or cb.get("status") != "ok" or id(ca) in seen:
            continue
        seen.add(id(ca))
        d = R.control_change(ca, cb)
        out.append("control %s=%s at %s, B against A: %s" % (control[0], control[1],
                                                             R.axes_words(ca, skip=(control[0],)), V.sentence(d)))
    ka, kb = ra.run_value("kernel"), rb.run_value("kernel")
    if ka != kb or ra.run_value("variant") != rb.run_value("variant"):
        out.append("the runs differ in kernel (%s %s against %s %s): the control is itself under test; "
                   "a machine control (a plain tmpfs read measured in the same rounds) tells the "
                   "machine's change apart" % (ka, ra.run_value("variant"), kb, rb.run_value("variant")))
    return out


def load(d):
    try:
        return R.load_set(d, required=["status", "mode", "bs", "numjobs", "gbps_median"])
    except R.InputError as e:
        die(str(e))


class Plan:
    """What a compare runs over: (name, A row, B row, axes in words) pairs, the judge, the
    header's title, the default CSV path, and (two runs) both sets and the control."""

    def __init__(self, **kw):
        self.ra = self.rb = self.control = None
        self.axes, self.notes = [], []
        self.__dict__.update(kw)


def plan_by_axis(a):
    """compare DIR --by AXIS --base VALUE: every point against the one that differs only in AXIS."""
    if len(a.dirs) != 1 or a.base is None:
        die("usage: compare DIR --by AXIS --base VALUE [--csv FILE]")
    rs = load(a.dirs[0])
    if a.by not in rs.match_axes():
        die("--by: '%s' is not an axis of %s (%s)" % (a.by, a.dirs[0], " ".join(rs.match_axes())))
    groups = R.comparable_groups(rs.rows, rs.match_axes(), vary=a.by)
    if not any(str(v) == a.base for g in groups.values() for v in g if v is not None):
        die("no point with %s=%s in %s" % (a.by, a.base, a.dirs[0]))
    pairs, notes = [], []
    for key, g in groups.items():
        base = [r for v, rows in g.items() if v is not None and str(v) == a.base for r in rows]
        if not base:
            continue
        ba, nb = R.pick_row(base, rs.cv_target)
        for v, rows in g.items():
            if v is None or str(v) == a.base:
                continue
            b, nt = R.pick_row(rows, rs.cv_target)
            notes += ["%s (%s)" % (n, R.axes_words(g[None])) for n in (nb, nt) if n]
            pairs.append(("%s | %s=%s vs %s" % (b.get("point") or R.axes_words(b), a.by, v, a.base), ba, b,
                          R.axes_words(g[None])))
    return Plan(pairs=pairs, notes=notes, target=rs.cv_target, emulated=rs.emulated, copy_modes=rs.copy_modes,
                judge=R.paired, title="%s: %s=* against %s=%s" % (a.dirs[0], a.by, a.by, a.base),
                csv=os.path.join(a.dirs[0], "compare-%s-%s.csv" % (a.by, a.base)), axes=rs.match_axes())


def _control(a, ra, rb, axes):
    """The control two runs are judged through: --control AXIS=VALUE, none, or the default."""
    if a.control is None:
        return R.default_control(ra, rb)
    if a.control == "none":
        return None
    ax, _, val = a.control.partition("=")
    if not val or ax not in axes:
        die("--control: want AXIS=VALUE with AXIS one of %s (or none), not '%s'" % (" ".join(axes), a.control))
    for d, rs in ((a.dirs[0], ra), (a.dirs[1], rb)):
        if not any(str(r.get(ax)) == val for r in rs.rows):
            die("--control %s: no point with %s=%s in %s" % (a.control, ax, val, d))
    return (ax, val)


def plan_two_runs(a):
    """compare DIR_A DIR_B: every point both have, judged through a control."""
    if len(a.dirs) != 2:
        die("usage: compare DIR_A DIR_B [--csv FILE]  |  compare DIR --by AXIS --base VALUE")
    ra, rb = load(a.dirs[0]), load(a.dirs[1])
    emulated = ra.emulated or rb.emulated
    axes = [x for x in ra.match_axes() if x in rb.header]
    pairs = [(pa.get("point") or R.axes_words(pa), pa, pb, R.axes_words(pa, skip=("mode",)))
             for pa, pb in R.match_sets(ra, rb, axes)]
    control = _control(a, ra, rb, axes)
    title = "A = %s (%s %s %s)   B = %s (%s %s %s)" % (
        a.dirs[0], ra.env, ra.run_value("kernel"), ra.run_value("variant"),
        a.dirs[1], rb.env, rb.run_value("kernel"), rb.run_value("variant"))
    if ra.env != rb.env and emulated:
        title += "\nWARNING: TCG figures are only comparable with other TCG figures"
    return Plan(pairs=pairs, target=min(ra.cv_target, rb.cv_target), emulated=emulated,
                copy_modes=ra.copy_modes | rb.copy_modes, ra=ra, rb=rb, control=control, axes=axes,
                judge=lambda pa, pb, what, hb: R.between(ra, rb, pa, pb, control, what, hb), title=title,
                csv=os.path.join(a.out, "compare.csv") if a.out else None)


def write_csv(path, rows):
    """compare.csv, written whole or not at all."""
    text = ",".join(CMP_COLS) + "\n" + "".join(",".join(fmt(r[c]) for c in CMP_COLS) + "\n" for r in rows)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        die("cannot write %s: %s" % (path, e.strerror))


def header_lines(pl, by):
    """The compare's header: what is compared, the rules, the control and its own change."""
    out = [pl.title]
    if pl.emulated:
        return out + ["emulated (TCG): verdicts are cost ratios (bytes moved and instructions per byte "
                      "delivered, lower is better); GB/s columns are emulated timings and rank nothing",
                      "rule (cost): " + R.COST_RULE]
    out.append("GB/s = median over rounds (1e9 B/s); CPU = the mode's own CPU s/GB (rest of machine left "
               "out); delta% and ratios: the judged shift (the Hodges-Lehmann estimate)")
    if by:
        return out + ["rule: " + R.RULE]
    ctl = pl.control
    out += ["rule (two runs): " + R.BETWEEN_RULE,
            "control: " + ("%s=%s, measured in the same rounds as every point of each run; its own change "
                           "between the runs is judged below, and a control that changed leaves every "
                           "comparison through it unresolved (--control AXIS=VALUE picks another)" % ctl
                           if ctl else "none: nothing is called between these runs "
                           "(--control AXIS=VALUE names one both runs measured)")]
    out += control_lines(pl.ra, pl.rb, ctl, pl.axes)
    la, lb = (s.meta.get("limits") or {} for s in (pl.ra, pl.rb))
    if la.get("tmpfs_read_gbps") and lb.get("tmpfs_read_gbps"):
        out.append("the machine's own limits, measured in each run: tmpfs read %.2f vs %.2f GB/s, "
                   "dd /dev/zero %.1f vs %.1f GB/s" % (la["tmpfs_read_gbps"], lb["tmpfs_read_gbps"],
                                                     la.get("dd_zero_null_gbps") or 0, lb.get("dd_zero_null_gbps") or 0))
    return out


def table_lines(rows, emulated):
    """One line a matched point: both figures, the judged delta, the verdicts."""
    w = max([len(r["point"]) for r in rows] + [5])
    gl = "emul. GB/s" if emulated else "GB/s"
    out = ["%-*s %10s %10s %8s %-14s %8s %8s %-14s" % (w, "point", gl + " A", gl + " B", "delta%", "verdict",
                                                       "cpu A", "cpu B", "verdict")]
    for r in rows:
        if r["gbps_a"] == "" or r["gbps_b"] == "":
            out.append("%-*s %s/%s %s" % (w, r["point"], r["status_a"], r["status_b"], r["reason"]))
            continue
        out.append("%-*s %10.3f %10.3f %8s %-14s %8s %8s %-14s" % (
            w, r["point"], r["gbps_a"], r["gbps_b"],
            ("%+.1f" % r["gbps_delta_pct"]) if r["gbps_delta_pct"] != "" else "", r["gbps_verdict"] or "-",
            ("%.3f" % r["cpu_a"]) if r["cpu_a"] != "" else "", ("%.3f" % r["cpu_b"]) if r["cpu_b"] != "" else "",
            r["cpu_verdict"]))
    return out


def cmd_compare(a):
    pl = plan_by_axis(a) if a.by else plan_two_runs(a)
    rows = []
    for key, pa, pb, words in pl.pairs:
        r = compare_pair(pa, pb, pl.target, pl.emulated, pl.copy_modes, pl.judge)
        r["point"], r["axes"] = key, words
        rows.append(r)
    csvf = a.csv or pl.csv
    if csvf:
        write_csv(csvf, rows)
    for line in header_lines(pl, a.by):
        print("# " + line)
    for line in table_lines(rows, pl.emulated):
        print(line)
    if not rows:
        print("(no point present in both)")
    else:
        print("\n# Verdicts (%s)" % V.family_text(len(verdicts_of(rows))))
        for r in rows:
            print(sentence(r, pl.emulated))
    for n in sorted(set(pl.notes)):
        print("# row kept: " + n)
    for line in outcome_lines(rows):
        print("# " + line)
    if csvf:
        print("# CSV: %s" % csvf)


def outcome_lines(rows):
    """The closing count of outcomes, and every comparison left unresolved or too short,
    by name: what a rerun with more rounds would have to settle."""
    keys = [("gbps_verdict", "GB/s"), ("cpu_verdict", "CPU")] + [(k + "_verdict", n) for k, n in COST_KEYS]
    count, left = {}, []
    for r in rows:
        for k, what in keys:
            v = r.get(k)
            if not v:
                continue
            count[v] = count.get(v, 0) + 1
            if v in (V.UNRESOLVED, V.TOO_FEW):
                why = r.get(k.replace("_verdict", "_why")) or ""
                left.append("%s (%s): %s%s" % (r["point"], what, v, ": " + why if why else ""))
    if not count:
        return []
    out = ["outcomes: " + ", ".join("%d %s" % (count.get(o, 0), o) for o in V.OUTCOMES)]
    out += ["left unresolved: " + x for x in left]
    return out


# ---------------------------------------------------------------- summary

def cmd_summary(a):
    rs = load(a.dir)
    print("# %s: env=%s kernel=%s variant=%s FUSE_OUT_SPLICES=%s" % (
        a.dir, rs.env, rs.run_value("kernel"), rs.run_value("variant"), rs.meta.get("fuse_out_splices", "?")))
    if rs.emulated:
        print("# emulated (TCG): GB/s below are emulated timings, not speeds")
    for p in rs.rows:
        name = p.get("point") or R.axes_words(p)
        if p.get("status") == "ok":
            extra = ""
            if R.fell_back(p, rs.copy_modes) or (p["mode"] not in rs.copy_modes and R.fallbacks_hidden(p)):
                extra = "  (%s)" % R.mode_label(p, rs.copy_modes)[len(p["mode"]) + 2:-1]
            cpu = R.cpu_mode_cost(p)
            prob = R.cpu_check(p)[2]
            if prob:
                extra += "  CPU CHECK FAILED: " + prob
            print("%-60s %7.3f GB/s%s  n=%d cv=%.3f  cpu %s s/GB%s" % (
                name, p["gbps_median"], " (emulated)" if rs.emulated else "", int(p.get("repeats") or 0),
                p.get("gbps_cv") or 0, "%.3f" % cpu if cpu is not None else "-", extra))
        else:
            print("%-60s %s: %s" % (name, p["status"], p.get("reason", "")))


def cmd_cost_join(a):
    from . import costjoin
    costjoin.main([a.points] + a.cost)


def parser():
    ap = argparse.ArgumentParser(prog="python3 -m splicebench stats", description="splicebench statistics and bookkeeping "
                                 "(Python 3 standard library only). Errors: one line, exit 2.")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    p = sub.add_parser("csv", help="points.jsonl -> the CSV (contract in bench/README.md)")
    p.add_argument("points", metavar="POINTS.jsonl")
    p.set_defaults(fn=cmd_csv)
    p = sub.add_parser("compare", help="DIR_A DIR_B, or DIR --by AXIS --base VALUE: verdicts by the noise rule")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--by", metavar="AXIS")
    p.add_argument("--base", metavar="VALUE")
    p.add_argument("--csv", metavar="FILE")
    p.add_argument("--out", metavar="DIR_OUT")
    p.add_argument("--control", metavar="AXIS=VALUE")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("summary", help="a short table of a result set")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(fn=cmd_summary)
    p = sub.add_parser("cost-join", help="the sbcost windows joined to the points (splicebench/costjoin.py)")
    p.add_argument("points", metavar="POINTS.jsonl")
    p.add_argument("cost", metavar="COST.jsonl", nargs="+")
    p.set_defaults(fn=cmd_cost_join)
    return ap


def main(argv=None):
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    ap = parser()
    # argparse's own errors: one line, exit 2 (the project's bad-input rule)
    ap.error = lambda msg: die(msg + " (see --help)")
    for sp in ap._subparsers._group_actions[0].choices.values():
        sp.error = lambda msg, sp=sp: die("%s: %s (see %s --help)" % (sp.prog, msg, sp.prog))
    a = ap.parse_args(argv)
    if not getattr(a, "fn", None):
        ap.print_help(sys.stderr)
        sys.exit(2)
    a.fn(a)


COMPARE_HELP = """Compare benchmark results (mmtests' compare-kernels.sh is the model).

  bench/compare DIR_A DIR_B [--control AXIS=VALUE|none] [--csv FILE | --out DIR_OUT]
      every point present in both result sets (matched on the axes both have):
      median GB/s and CPU s/GB (the mode's own parts) of A and B, delta % (B against A);
      judged through a control measured in the same rounds of each run (default: the
      first reference-daemon mode both runs have, else replica=1; none: no verdicts)
  bench/compare DIR --by AXIS --base VALUE [--csv FILE | --out DIR_OUT]
      within one result set: every point against the point that differs only in
      AXIS, which has VALUE (e.g. --by mode --base copy: each mode's own pipes and
      pipe_size set aside, the row kept named); CSV default DIR/compare-AXIS-VALUE.csv

Verdicts: GB/s and CPU by the paired rule of splicebench.verdict within one run and by
its between-runs rule for two, cost per byte by the cost rule; every compare's header
states them, generated from their parameters (below).  One sentence per pair names the
axes compared and labels fallbacks.  A TCG set is ranked by cost per byte only, never by
time.  The CSV: --csv FILE or DIR_OUT/compare.csv.
"""


def compare_cli(argv):
    """bench/compare: python3 -m splicebench compare ... (no argument or --help: the help)."""
    if not argv or argv[0] in ("-h", "--help"):
        import textwrap
        from .verdict import rules_text
        out = sys.stdout if argv else sys.stderr
        out.write(COMPARE_HELP + "\n")
        for line in rules_text():
            out.write(textwrap.fill(line, 90) + "\n")
        return 0 if argv else 2
    return main(["compare"] + argv)
