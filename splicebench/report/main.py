#!/usr/bin/env python3
"""splicebench charts and report: reads a result set (points.csv, meta.json,
baseline.jsonl), writes tidy data files and gnuplot scripts, runs gnuplot for
every chart (PNG and SVG), and writes report.md / report.html.

Python standard library only; gnuplot draws every chart.  Entry points are
plots/plot and plots/report (see plots/README.md).  Every number in the text
comes from the input files; the only constant is the definition of 100G
Ethernet's line rate (100e9 bit/s / 8 = 12.5 GB/s)."""

import argparse
import csv
import html
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from .. import results as R  # shared with splicebench.stats: loading, axes, matching, noise rule
from ..results import InputError, bs_label, copied_share
from ..why import sections as sbwhy  # profiles, cost by symbol, projection

PROG = "plots"
LINE_RATE_GBPS = 100e9 / 8 / 1e9  # 100G Ethernet, GB/s (1e9 B/s), unless meta.json has line_rate_gbps

# Series within a mode: split further when these vary inside the mode.
SERIES_PARAMS = ["ioengine", "iodepth", "pipes", "pipe_size", "privilege", "pipe_max_size", "verify"]
W, H = 1400, 760
ENV_NAME = {"native": "native", "kvm": "KVM", "vm": "VM", "tcg": "TCG (emulated: absolute speeds meaningless)"}
TCG_NOTE = "emulated: absolute speeds are meaningless, only ratios within this run compare"


CHART_PREFIXES = ("gbps-bs-", "cpu-", "scaling-", "latency-", "cost-", "compare-", "pipe-cost")

# The result set being drawn (its modes, colours and copy modes); set by build().
CUR = None

# Report sections others add (helper hooks): callables f(doc, rs, charts) run after the
# headline tables, each adding its own headings and blocks to doc (a Doc).  An entry may
# also be (name, f); write_report(..., sections=[...]) adds more for one report.
SECTIONS = []


# ---------------------------------------------------------------- the noise rule (one door)

MARK = {"better": "\u25b2", "worse": "\u25bc", "within noise": "\u2248", "not compared": "-"}


def _verdict(a, b, kind="gbps", target=None, metric=None, get=None, runs=None):
    """Every verdict plots/ prints goes through here: B (row b) against A (row a) ->
    (verdict, why), verdict one of better / worse / within noise / not compared.
    kind: 'gbps' (higher is better), 'cpu' (per-repeat CPU s/GB, lower is better), 'cost'
    (metric, get: a cost per byte, lower is better).  Time ('gbps', 'cpu') is never
    compared where either side ran emulated (env tcg).  The rule itself lives in
    bench/ (sbresults.py today); switching to another rule changes this function only."""
    target = CUR.cv_target if target is None and CUR else (target or 0.05)
    if kind in ("gbps", "cpu") and "tcg" in (str(a.get("env")), str(b.get("env"))):
        return "not compared", "emulated (TCG): never compared by time"
    if kind == "gbps" and runs:  # two result sets: through a control (sbverdict.between_text)
        d = R.between(runs[0], runs[1], a, b, runs[2], "gbps", True)
        return d["verdict"], d["reason"]
    if kind == "gbps":
        return R.verdict(a, b, target)
    if kind == "cpu":
        vd, why = R.spread_verdict(R.spread(R.run_cpu_values(a)), R.spread(R.run_cpu_values(b)), target, False)
        return (vd, why) if vd else ("not compared", "no per-repeat CPU figures")
    vd, why = R.cost_verdict(a, b, metric, get, target)
    return (vd, why) if vd else ("not compared", why or "no cost")


def _rule_text(kind="gbps"):
    """The noise rule in words, from bench/ (the same door as _verdict)."""
    return R.COST_RULE if kind == "cost" else R.BETWEEN_RULE if kind == "between" else R.RULE


# ---------------------------------------------------------------- formatting

def bs_words(bs):
    lab = bs_label(bs)
    return lab[:-1] + (" MiB" if lab.endswith("M") else " KiB" if lab.endswith("K") else " B")


def pct(x):
    return f"{x:.1f} %"


def g2(x):
    return f"{x:.2f}"


def jobs(n):
    return f"{n} job" + ("" if n == 1 else "s")


def gp_str(s):
    """A gnuplot double-quoted string literal."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def num(v):
    return "NaN" if v is None else repr(float(v))


def mode_key(m):
    """Modes in the data's order (splicefs's --list order first, then the reference programs)."""
    modes = CUR.modes if CUR else []
    return (modes.index(m) if m in modes else len(modes), m)


def mode_color(m, i=0):
    return CUR.colors.get(m, R.PALETTE[i % len(R.PALETTE)]) if CUR else R.PALETTE[i % len(R.PALETTE)]


# ---------------------------------------------------------------- input

def load_set(d):
    return R.load_set(d, cls=PlotSet)


class PlotSet(R.ResultSet):
    def __init__(self, *a):
        super().__init__(*a)
        lr = self.meta.get("line_rate_gbps")
        self.line_rate = float(lr) if isinstance(lr, (int, float)) and lr > 0 else LINE_RATE_GBPS
        order, progs = meta_modes(self.meta)
        for m, p in progs.items():
            self.programs.setdefault(m, p)
        if order:  # meta.json's modes, in run order; modes it does not name keep their place after them
            self.modes = sorted(self.modes, key=lambda m: (order.index(m) if m in order else len(order),
                                                           self.modes.index(m)))
        self.colors = R.mode_colors(self.modes)

    def title(self):
        env = self.env
        return f"kernel {self.run_value('kernel')}, variant {self.run_value('variant')}, {ENV_NAME.get(env, env)}"

    def groups(self):
        """(source, path, direct) -> ok rows, in a stable order (mem first)."""
        g = {}
        for r in self.ok:
            g.setdefault((r["source"], r["path"], r["direct"]), []).append(r)
        return dict(sorted(g.items(), key=lambda kv: (kv[0][0] != "mem", kv[0])))

    def iperf(self, path, streams=1):
        """The iperf3 GB/s of a path from baseline.jsonl (no zerocopy), or None."""
        vals = []
        for b in self.baseline:
            if b.get("path") == path and int(b.get("streams", 1) or 1) == streams and not b.get("zerocopy"):
                v = b.get("gbytes_per_s", b.get("gbps"))
                if isinstance(v, (int, float)):
                    vals.append(float(v))
        return statistics.median(vals) if vals else None

    def baseline_of(self, rows, path):
        vals = [r["baseline_gbps"] for r in rows if r.get("baseline_gbps") is not None]
        if vals:
            return statistics.median(vals)
        return None if path == "mem" else self.iperf(path)


def meta_modes(meta):
    """meta.json's `modes`: the modes in run order -> ([names], {name: program}).  A list of
    names or of {"name"/"mode", "program"} objects gives the order; an object {mode: program}
    (older bench/run, written sorted) gives programs only."""
    m = meta.get("modes")
    order, progs = [], {}
    if isinstance(m, list):
        for x in m:
            name = x if isinstance(x, str) else (x.get("name") or x.get("mode")) if isinstance(x, dict) else None
            if isinstance(name, str) and name and name not in order:
                order.append(name)
                if isinstance(x, dict) and isinstance(x.get("program"), str):
                    progs[name] = x["program"]
    elif isinstance(m, dict):
        progs = {k: v for k, v in m.items() if isinstance(v, str)}
    return order, progs


def group_name(key):
    """mem, TCP loopback, TCP veth (source 'tcp-loopback' or 'tcp' with path 'loopback')."""
    source, path, direct = key
    if source.startswith("tcp"):
        where = "TCP " + (path or source[4:] or "?")
    elif path in ("", "mem", source):
        where = source
    else:
        where = f"{source} {path}"
    return where + ("" if direct else ", buffered")


def group_slug(key):
    source, path, direct = key
    slug = source if path in ("", "mem") or source.endswith(path) else f"{source}-{path}"
    return slug + ("" if direct else "-buffered")


def series_of(rows):
    """Split rows into series: mode plus whichever series parameters vary within that mode."""
    by_mode = {}
    for r in rows:
        by_mode.setdefault(r["mode"], []).append(r)
    out = []
    for i, m in enumerate(sorted(by_mode, key=mode_key)):
        mr = by_mode[m]
        params = [p for p in SERIES_PARAMS if len({r.get(p) for r in mr}) > 1]
        if any(r.get("threads") != r.get("numjobs") for r in mr) and len({r.get("threads") for r in mr}) > 1:
            params.append("threads")
        sub = {}
        for r in mr:
            sub.setdefault(tuple(r.get(p) for p in params), []).append(r)
        for j, (vals, srows) in enumerate(sorted(sub.items(), key=lambda kv: str(kv[0]))):
            label = m + "".join(f" {p}={v}" for p, v in zip(params, vals))
            prog = CUR.programs.get(m, "splicefs") if CUR else "splicefs"
            ref = prog != "splicefs"  # another program's mode (a reference daemon): dashed, named
            out.append({"mode": m, "label": label + (f" ({prog})" if ref else ""), "rows": srows,
                        "color": mode_color(m, i), "dt": (3 if ref else 1) + j})
    return out


def cost_name(c):
    """cost_instr_per_byte_kernel -> 'instructions (kernel)'."""
    base, _, qual = c[len("cost_"):].partition("_per_byte")
    base = " ".join("instructions" if w == "instr" else w for w in base.split("_"))
    qual = qual.strip("_").replace("_", " ")
    return base + (f" ({qual})" if qual else "")


def fell_back(r):
    return R.fell_back(r, CUR.copy_modes if CUR else ())


# ---------------------------------------------------------------- gnuplot

class Charts:
    def __init__(self, outdir, rs):
        self.out, self.rs = outdir, rs
        self.src = os.path.join(outdir, "src")
        os.makedirs(self.src, exist_ok=True)
        self.made = []  # (name, caption, embed in the report)
        self.extra = set()  # names the report links to instead of showing
        self.notes = []

    @staticmethod
    def probe(panel):
        """A gnuplot line, after a plot command: prints the axis ranges gnuplot chose and the
        plot area's height, so that check_charts can hold them against the data."""
        return ("print sprintf('SBRANGE %s %.9g %.9g %.9g %.9g %.9g %.9g', " + gp_str(panel) +
                ", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX)\n")

    def render(self, name, data_blocks, body, caption, w=W, h=H, checks=None):
        """data_blocks: list of lists of rows (tab-separated); body: gnuplot commands using `dat`.
        checks: [{"panel", "ys", "xs" (or None), "zero" (bars/lines from 0), "log"}], one per
        panel whose plot command is followed by self.probe(panel): written with the ranges
        gnuplot printed to src/NAME.check.json for check_charts."""
        dat = os.path.join(self.src, name + ".dat")
        with open(dat, "w") as f:
            for i, block in enumerate(data_blocks):
                if i:
                    f.write("\n\n")
                for row in block:
                    f.write("\t".join(str(x) for x in row) + "\n")
        gp = os.path.join(self.src, name + ".gp")
        style = os.path.join(os.path.dirname(os.path.abspath(__file__)), "style.gp")
        with open(gp, "w") as f:
            f.write(f"# {caption}\n# Regenerate: gnuplot -e \"fmt='svg'\" {name}.gp   (run in this directory)\n")
            f.write(f"if (!exists('fmt')) fmt = 'png'\nW = {w}; H = {h}\n")
            with open(style) as s:
                f.write(s.read())
            f.write(f"dat = {gp_str(name + '.dat')}\n")
            f.write(f"set output {gp_str('../' + name + '.')} . fmt\n")
            f.write(body.strip() + "\n")
        ranges = {}
        for fmt in ("png", "svg"):
            p = subprocess.run(["gnuplot", "-e", f"fmt='{fmt}'", name + ".gp"], cwd=self.src,
                               capture_output=True, text=True)
            msgs = [ln for ln in p.stderr.splitlines() if ln.strip()]
            if p.returncode != 0:
                raise RuntimeError(f"gnuplot failed on {gp}: {' '.join(msgs[-3:])}")
            for m in msgs:
                if m.startswith("SBRANGE "):
                    f_ = m.split()
                    if fmt == "png" and len(f_) == 8:
                        ranges[f_[1]] = dict(zip(("xmin", "xmax", "ymin", "ymax", "term_ymin", "term_ymax"),
                                                 map(float, f_[2:])))
                    continue
                print(f"{PROG}: gnuplot ({name}.{fmt}): {m}", file=sys.stderr)
        with open(os.path.join(self.src, name + ".check.json"), "w") as f:
            json.dump({"chart": name, "w": w, "h": h, "panels": [
                dict(c, axis=ranges.get(c["panel"])) for c in (checks or [])]}, f)
        self.made.append((name, caption, name not in self.extra))

    # --- helpers shared by the bs-axis charts
    @staticmethod
    def bs_axis(bss):
        lo, hi = min(bss), max(bss)
        tics = ", ".join(f'"{bs_label(b)}" {b}' for b in sorted(set(bss)))
        return (f"set logscale x 2\nset xrange [{lo / 1.5}:{hi * 1.5}]\nset xtics ({tics})\n"
                "set xlabel 'block size (bytes per read, log2 scale)'\n")

    def ref_lines(self, ymax_data, refs):
        """refs: [(value, title, dashtype)].  Returns (plot terms, ymax, labels) keeping
        off-scale references out of the range and saying so on the chart."""
        terms, labels, ymax = [], [], ymax_data * 1.12
        for v, t, dt in refs:
            if v is None:
                continue
            if v <= ymax_data * 3:
                ymax = max(ymax, v * 1.08)
                terms.append(f"{v} with lines lw 2 dt {dt} lc rgb '#444444' title {gp_str(t)}")
            else:
                labels.append(f"{t}: off scale")
        return terms, ymax, labels

    # --- 1. GB/s against block size
    def throughput(self):
        if self.rs.emulated:
            self.notes.append("GB/s charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            njs = sorted({r["numjobs"] for r in rows})
            for nj in njs:
                sel = [r for r in rows if r["numjobs"] == nj]
                if not sel:
                    continue
                if nj not in (njs[0], njs[-1]):
                    self.extra.add(f"gbps-bs-{group_slug(key)}-j{nj}")
                self._throughput_chart(key, nj, sel, rows)

    def _offset(self, i, n):
        return 2 ** (0.045 * (i - (n - 1) / 2))  # spread series sideways so error bars do not overlap

    def _throughput_chart(self, key, nj, sel, grows):
        name = f"gbps-bs-{group_slug(key)}-j{nj}"
        sers = series_of(sel)
        blocks, terms = [], []
        for i, s in enumerate(sers):
            k = self._offset(i, len(sers))
            blocks.append([(r["bs"] * k, r["gbps_median"], num(r["gbps_min"] or r["gbps_median"]),
                            num(r["gbps_max"] or r["gbps_median"])) for r in sorted(s["rows"], key=lambda r: r["bs"])])
            terms.append(f"dat index {i} using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt {s['dt']} "
                         f"lc rgb '{s['color']}' title {gp_str(s['label'])}")
        fb = [(r["bs"] * self._offset(i, len(sers)), r["gbps_median"], gp_str(f"copied {copied_share(r):.0f}%"))
              for i, s in enumerate(sers) for r in s["rows"] if fell_back(r)]
        if fb:
            blocks.append(fb)
            terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                          "title 'fell back to copying (share of bytes copied)'")
            terms.append(f"dat index {len(blocks) - 1} using 1:2:3 with labels offset 0,-2.2 tc rgb '#d62728' notitle")
        ymax_data = max(r["gbps_max"] or r["gbps_median"] for r in sel)
        base = self.rs.baseline_of(grows, key[1])
        refs = [(self.rs.line_rate, f"100G Ethernet line rate ({self.rs.line_rate:g} GB/s)", 2)]
        if base is not None:
            refs.append((base, f"iperf3 TCP {key[1]}, 1 stream ({base:.2f} GB/s)", 4))
        rterms, ymax, offl = self.ref_lines(ymax_data, refs)
        skipped = [r for r in self.rs.rows if r["status"] != "ok" and (r["source"], r["path"], r.get("direct")) == key
                   and r.get("numjobs") == nj]
        notes = offl + [f"not measured: {len(skipped)} point(s) ({', '.join(sorted({r['status'] for r in skipped}))}), see report"] if skipped else offl
        body = self.bs_axis([r["bs"] for r in sel])
        body += (f"set title {gp_str(f'Read throughput vs block size: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                 f"{gp_str(self.rs.title())}\n"
                 f"set ylabel 'throughput (GB/s = 1e9 B/s; bars: min-max of repeats)'\n"
                 f"set yrange [0:{ymax}]\n")
        body += self._notes(notes)
        body += "plot " + ", \\\n     ".join(terms + rterms) + "\n" + self.probe("gbps")
        cap = f"GB/s against block size, {group_name(key)}, {jobs(nj)}"
        ys = [v for b in blocks[:len(sers)] for row in b for v in row[1:] if v != "NaN"]
        xs = [row[0] for b in blocks[:len(sers)] for row in b]
        self.render(name, blocks, body, cap, checks=[{"panel": "gbps", "ys": [float(v) for v in ys], "xs": xs,
                                                      "zero": True, "log": False}])

    @staticmethod
    def _notes(notes):
        return "".join(f"set label {gp_str(n)} at graph 0.01, graph {0.97 - 0.05 * i} left front tc rgb '#d62728'\n"
                       for i, n in enumerate(notes))

    # --- 2. CPU seconds per GB, stacked (the mode's own parts; rest of machine apart)
    def cpu(self):
        if self.rs.emulated:
            self.notes.append("CPU charts: not drawn, CPU seconds under emulation (TCG) rank nothing")
            return
        mode_parts = [p for p in R.CPU_PARTS if p[0] != "rest"]
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj]
            parts = [p for p in mode_parts if any((R.cpu_parts(r).get(p[0]) or 0) > 0 for r in sel)]
            if not parts:
                self.notes.append(f"CPU chart for {group_name(key)}: no CPU figures in the data, not drawn")
                continue
            sers = series_of(sel)
            bss = sorted({r["bs"] for r in sel})
            # One panel per block size, each on its own scale: CPU per GB at 4K is
            # tens of times that at 1M, and one shared axis flattens the large sizes.
            blocks, panels, flagged, bad = [], [], False, False
            for bi, bs in enumerate(bss):
                block = []
                for s in sers:
                    r = next((r for r in s["rows"] if r["bs"] == bs), None)
                    if r is None:
                        continue
                    cp = R.cpu_parts(r)
                    prob = R.cpu_check(r)[2]
                    lab = s["label"].split(" (")[0] + ("*" if fell_back(r) else "") + (" (!)" if prob else "")
                    flagged |= fell_back(r)
                    bad |= bool(prob)
                    own = sum(cp.get(p[0]) or 0 for p in parts)
                    rest = cp.get("rest")
                    if not R.softirq_counted(r):  # already inside the tasks' times: not stacked again
                        cp.pop("softirq", None)
                    block.append([gp_str(lab)] + [num(cp.get(p[0]) or 0) for p in parts]
                                 + [num(own), gp_str(f"rest {rest:.2g}" if rest is not None else "")])
                blocks.append(block)
                terms = []
                for pi, (col, lab, color, _) in enumerate(parts):
                    xt = ":xtic(1)" if pi == 0 else ""
                    t = f"title {gp_str(lab)}" if bi == len(bss) - 1 else "notitle"
                    terms.append(f"dat index {bi} using {pi + 2}{xt} lc rgb '{color}' {t}")
                np_ = len(parts)
                terms.append(f"dat index {bi} using ($0):{np_ + 2}:{np_ + 3} with labels rotate by 90 left "
                             "offset 0,0.4 font ',9' tc rgb '#555555' notitle")
                ymax = max([sum(R.cpu_parts(r).get(p[0]) or 0 for p in parts) for r in sel if r["bs"] == bs] +
                           [1e-9]) * 1.35
                panels.append((bs, ymax, terms, [float(row[-2]) for row in block]))
            maxlen = max(len(s["label"].split(" (")[0]) + 2 for s in sers)
            n = len(panels)
            right = 0.80  # the key sits right of the last panel
            width = (right - 0.07) / n
            body = ("set style data histograms\nset style histogram rowstacked\n"
                    "set style fill solid 0.9 border rgb '#333333'\nset boxwidth 0.75 relative\n"
                    "set xtics rotate by 45 right nomirror scale 0\nset grid noxtics ytics\n"
                    f"set bmargin {0.5 * maxlen + 3.5:.1f}\nset tmargin 5\n"
                    "set multiplot title " +
                    gp_str(f"CPU seconds per GB delivered, the mode's own parts: {group_name(key)}, {jobs(nj)}") +
                    f" . \"\\n\" . {gp_str(self.rs.title())}\n")
            note = []
            if flagged:
                note.append("* fell back to copying for part or all of its replies")
            note.append("rest = rest of machine (s/GB), never part of a mode's cost")
            if bad:
                note.append("(!) CPU parts exceed cores x wall time: see the report")
            for i, (bs, ymax, terms, _) in enumerate(panels):
                body += (f"set lmargin at screen {0.07 + i * width:.4f}\n"
                         f"set rmargin at screen {0.07 + (i + 1) * width - 0.035:.4f}\n"
                         f"set yrange [0:{ymax}]\n"
                         f"set xlabel {gp_str('bs ' + bs_label(bs))} font ',12'\n"
                         + ("set ylabel 'CPU seconds per GB delivered (s/GB)'\n" if i == 0 else "unset ylabel\n")
                         + ("set key at screen 0.99, screen 0.85 right top nobox\n" if i == n - 1 else "unset key\n")
                         + (f"set label 1 {gp_str('; '.join(note))} "
                            "at screen 0.07, screen 0.90 left front tc rgb '#d62728'\n" if i == 0
                            else "unset label 1\n")
                         + "plot " + ", \\\n     ".join(terms) + "\n" + self.probe(f"bs{bs}"))
            body += "unset multiplot\n"
            self.render(f"cpu-{group_slug(key)}-j{nj}", blocks, body,
                        f"CPU s/GB by part, {group_name(key)}, {jobs(nj)} (rest of machine apart)",
                        checks=[{"panel": f"bs{bs}", "ys": ys, "xs": None, "zero": True, "log": False}
                                for bs, _, _, ys in panels])

    # --- 3. GB/s against numjobs
    def scaling(self):
        if self.rs.emulated:
            self.notes.append("scaling charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            njs = sorted({r["numjobs"] for r in rows})
            if len(njs) < 2:
                self.notes.append(f"Scaling chart for {group_name(key)}: one numjobs value only ({njs[0]}), not drawn")
                continue
            bss = sorted({r["bs"] for r in rows})
            picks = [max(bss)] + ([min(bss)] if len(bss) > 1 else [])
            blocks, terms = [], []
            for pi, bs in enumerate(picks):
                sers = series_of([r for r in rows if r["bs"] == bs])
                for s in sers:
                    srows = sorted(s["rows"], key=lambda r: r["numjobs"])
                    if not srows:
                        continue
                    blocks.append([(r["numjobs"], r["gbps_median"], num(r["gbps_min"] or r["gbps_median"]),
                                    num(r["gbps_max"] or r["gbps_median"])) for r in srows])
                    terms.append(f"dat index {len(blocks) - 1} using 1:2:3:4 with yerrorlines lw 2 "
                                 f"pt {7 if pi == 0 else 5} dt {1 if pi == 0 else '(7,4)'} lc rgb '{s['color']}' "
                                 f"title {gp_str(s['label'] + ', ' + bs_label(bs))}")
            fb = [(r["numjobs"], r["gbps_median"]) for r in rows if r["bs"] in picks and fell_back(r)]
            if fb:
                blocks.append(fb)
                terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                             "title 'fell back to copying'")
            sel = [r for r in rows if r["bs"] in picks]
            base = self.rs.baseline_of(rows, key[1])
            refs = [(self.rs.line_rate, f"100G Ethernet line rate ({self.rs.line_rate:g} GB/s)", 2)]
            if base is not None:
                refs.append((base, f"iperf3 TCP {key[1]}, 1 stream ({base:.2f} GB/s)", 4))
            rterms, ymax, offl = self.ref_lines(max(r["gbps_max"] or r["gbps_median"] for r in sel), refs)
            tics = ", ".join(f'"{n}" {n}' for n in njs)
            body = (f"set title {gp_str(f'Scaling with parallel readers: {group_name(key)}, ' + ' and '.join(bs_words(b) for b in picks) + ' reads')} . \"\\n\" . "
                    f"{gp_str(self.rs.title())}\n"
                    f"set logscale x 2\nset xrange [{njs[0] / 1.3}:{njs[-1] * 1.3}]\nset xtics ({tics})\n"
                    "set xlabel 'fio numjobs (parallel readers, log2 scale)'\n"
                    "set ylabel 'throughput (GB/s = 1e9 B/s; bars: min-max of repeats)'\n"
                    f"set yrange [0:{ymax}]\n")
            body += self._notes(offl)
            body += "plot " + ", \\\n     ".join(terms + rterms) + "\n" + self.probe("scaling")
            ys = [float(v) for b in blocks for row in b for v in row[1:] if v != "NaN"]
            self.render(f"scaling-{group_slug(key)}", blocks, body,
                        f"GB/s against numjobs, {group_name(key)}, " + " and ".join(bs_label(b) for b in picks),
                        checks=[{"panel": "scaling", "ys": ys, "xs": [row[0] for b in blocks for row in b],
                                 "zero": True, "log": False}])

    # --- 4. latency p50 / p99
    def latency(self):
        if self.rs.emulated:
            self.notes.append("latency charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj and r.get("lat_p50_us") is not None]
            if not sel:
                self.notes.append(f"Latency chart for {group_name(key)}: no latency figures, not drawn")
                continue
            sers = series_of(sel)
            blocks, terms = [], []
            for i, s in enumerate(sers):
                srows = sorted(s["rows"], key=lambda r: r["bs"])
                k = self._offset(i, len(sers))
                blocks.append([(r["bs"] * k, num(r["lat_p50_us"]), num(r["lat_p99_us"])) for r in srows])
                terms.append(f"dat index {i} using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '{s['color']}' "
                             f"title {gp_str(s['label'] + ' p50')}")
                if any(r.get("lat_p99_us") is not None for r in srows):
                    terms.append(f"dat index {i} using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '{s['color']}' "
                                 f"title {gp_str(s['label'] + ' p99')}")
            fb = [(r["bs"] * self._offset(i, len(sers)), num(r["lat_p50_us"]))
                  for i, s in enumerate(sers) for r in s["rows"] if fell_back(r)]
            if fb:
                blocks.append(fb)
                terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                             "title 'fell back to copying'")
            body = self.bs_axis([r["bs"] for r in sel])
            body += (f"set title {gp_str(f'fio completion latency: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                     f"{gp_str(self.rs.title())}\n"
                     "set logscale y 10\nset autoscale yfix\nset offsets 0, 0, graph 0.06, graph 0.06\n"
                     "set ylabel 'completion latency (µs, log scale)'\n"
                     "set format y '%g'\nset mytics 10\nset grid mytics\n"
                     "set ytics add (" + ", ".join(f"'{v:g}' {v:g}" for d in range(-1, 7) for v in (2 * 10 ** d, 5 * 10 ** d)) + ")\n")
            body += "plot " + ", \\\n     ".join(terms) + "\n" + self.probe("latency")
            ys = [float(v) for b in blocks for row in b for v in row[1:] if v != "NaN"]
            self.render(f"latency-{group_slug(key)}-j{nj}", blocks, body,
                        f"latency p50/p99, {group_name(key)}, {jobs(nj)}",
                        checks=[{"panel": "latency", "ys": ys, "xs": [row[0] for b in blocks for row in b],
                                 "zero": False, "log": True}])

    # --- 6. cost per byte (QEMU plugin columns): one chart per path that reads at a glance
    def _bar_panel(self, blocks, sers, col, lab_col, nclusters, refblock, title, ylabel, values, note="",
                   panel_px=560):
        """A panel of clustered bars (one cluster per x tic, one bar per series), value labels
        on top, fallbacks hatched with a red edge, a reference as dashed segments.  Returns
        (gnuplot commands, check dict)."""
        vals = [v for v in values if v is not None and v > 0]
        top = max(vals) if vals else 1.0
        log = bool(vals) and top / min(vals) > 10
        body = f"set title {gp_str(title)}\nset ylabel {gp_str(ylabel)}\n"
        if log:
            body += f"set logscale y\nset yrange [{min(vals) / 1.6}:{top * 1.6}]\n"
        else:
            body += f"unset logscale y\nset yrange [0:{top * 1.2}]\n"
        nbars = sum(len(b) for b in blocks[:len(sers)])
        barpx = panel_px / max(1, nclusters) * 0.8 / max(1, len(sers))
        lab = "rotate by 90 left offset 0,0.3 font ',9'" if barpx < 42 else "center offset 0,0.6 font ',10'"
        terms = []
        for i, s in enumerate(sers):
            terms.append(f"dat index {i} using 1:{col} with boxes fill solid 0.85 border rgb '#333333' "
                         f"lc rgb '{s['color']}' title {gp_str(s['label'])}")
        fbs = [i for i in range(len(sers)) if any(row[3] == 1 for row in blocks[i])]
        for i in fbs:
            terms.append(f"dat index {i} using 1:($4 == 1 ? ${col} : NaN) with boxes fill pattern 4 transparent "
                         "border rgb '#d62728' lw 2.5 lc rgb '#d62728' " +
                         ("title 'fell back to copying'" if i == fbs[0] else "notitle"))
        for i, s in enumerate(sers):
            terms.append(f"dat index {i} using 1:{col}:{lab_col} with labels {lab} tc rgb '#222222' notitle")
        if refblock is not None:
            terms.append(f"dat index {refblock} using 1:2:3:(0) with vectors nohead lw 2.5 dt 2 lc rgb '#000000' "
                         + (f"title {gp_str(note)}" if note else "notitle"))
        body += "plot " + ", \\\n     ".join(terms) + "\n"
        xs = [row[0] for b in blocks[:len(sers)] for row in b]
        return body, {"ys": vals, "xs": xs, "zero": not log, "log": log}

    def cost(self):
        if not self.rs.cost_cols:
            self.notes.append("Cost chart: the result set has no cost_* columns (QEMU plugin), not drawn")
            return
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj and r["mode"] not in R.COST_BASELINE_MODES
                   and (r.get(R.COST_MOVED) is not None or R.instr_per_byte(r) is not None)]
            if not sel:
                self.notes.append(f"Cost chart for {group_name(key)}: no cost_* values, not drawn")
                continue
            sers = series_of(sel)
            bss = sorted({r["bs"] for r in sel})
            ns, bw = len(sers), 0.8 / len(sers)
            blocks = []
            for j, s in enumerate(sers):
                block = []
                for r in sorted(s["rows"], key=lambda r: r["bs"]):
                    x = bss.index(r["bs"]) + (j - (ns - 1) / 2) * bw
                    mv, ins = r.get(R.COST_MOVED), R.instr_per_byte(r)
                    block.append((round(x, 4), num(mv), num(ins), 1 if fell_back(r) else 0,
                                  gp_str(fig(mv) if mv is not None else ""), gp_str(fig(ins) if ins is not None else "")))
                blocks.append(block)
            net = []
            for i, bs in enumerate(bss):
                nc = [row_cost_net(self.rs, r, [p for p in self.rs.ok if p["bs"] == bs and p["source"] == key[0]
                                                and p["numjobs"] == nj]) for r in sel if r["bs"] == bs]
                nc = [v for v in nc if v]
                if nc:
                    net.append((i - 0.45, statistics.median(nc), 0.9))
            refblock = None
            if net:
                blocks.append(net)
                refblock = len(blocks) - 1
            moved = [r.get(R.COST_MOVED) for r in sel] + [n[1] for n in net]
            instr = [R.instr_per_byte(r) for r in sel]
            tics = ", ".join(f'"{bs_label(b)}" {i}' for i, b in enumerate(bss))
            body = (f"set style fill solid 0.85\nset boxwidth {bw * 0.92:.4f} absolute\n"
                    f"set xrange [-0.6:{len(bss) - 0.4}]\nset xtics ({tics}) scale 0\nset grid noxtics ytics\n"
                    "set xlabel 'block size (bytes per read)'\nset format y '%g'\n"
                    "set key at screen 0.995, screen 0.80 right top vertical Left reverse samplen 2 font ',10' width -2 box\n"
                    "set multiplot title " +
                    gp_str(f"Cost per byte delivered (QEMU plugin; lower is better): {group_name(key)}, {jobs(nj)}")
                    + f" . \"\\n\" . {gp_str(self.rs.title())}\n")
            body += "set lmargin at screen 0.06\nset rmargin at screen 0.41\nset tmargin at screen 0.86\nset bmargin at screen 0.12\n"
            b1, c1 = self._bar_panel(blocks, sers, 2, 5, len(bss), refblock,
                                     "bytes moved per byte delivered", "bytes moved / byte delivered", moved,
                                     "network's own (plain TCP reader)", panel_px=490)
            body += b1 + self.probe("moved")
            body += "set lmargin at screen 0.47\nset rmargin at screen 0.82\nunset key\n"
            b2, c2 = self._bar_panel(blocks, sers, 3, 6, len(bss), None,
                                     "instructions per byte delivered (kernel + user)", "instructions / byte delivered",
                                     instr, panel_px=490)
            body += b2 + self.probe("instr")
            body += "unset multiplot\n"
            self.render(f"cost-{group_slug(key)}-j{nj}", blocks, body,
                        f"cost per byte delivered, {group_name(key)}, {jobs(nj)}: bytes moved and instructions, "
                        "per mode and block size" + (", the network's own cost dashed" if net else ""),
                        checks=[dict(c1, panel="moved"), dict(c2, panel="instr")])

    # --- 7. where one pipe is not enough: cost as a multiple of the network's own, by path
    def pipe_cost(self):
        rs = self.rs
        if not rs.cost_cols:
            return
        clusters = []  # (label, {mode: row}, net)
        vary_axes = [a for a in ("privilege", "pipe_max_size", "gro", "numjobs", "bs")
                     if len({r.get(a) for r in rs.ok if r["source"] != "mem"}) > 1 or a in ("privilege", "bs")]
        keys = {}
        for r in rs.ok:
            if r["mode"] in R.COST_BASELINE_MODES or r.get(R.COST_MOVED) is None:
                continue
            k = (r["source"], r.get("path"), r.get("direct")) + tuple(r.get(a) for a in vary_axes)
            keys.setdefault(k, []).append(r)
        srcs = source_order(rs)
        for k, rows in sorted(keys.items(), key=lambda kv: (srcs.index(kv[0][0]),) + tuple(
                (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in kv[0][3:])):
            peers = [p for p in rs.ok if p["source"] == k[0] and all(p.get(a) == v for a, v in zip(vary_axes, k[3:]))]
            nets = [v for v in (row_cost_net(rs, r, peers) for r in rows) if v]
            if not nets:
                continue
            slot = [r["bytes_per_slot"] for r in rows if isinstance(r.get("bytes_per_slot"), (int, float))
                    and r["bytes_per_slot"] > 0]
            words = [k[0]] + [f"{bs_label(v)} reads" if a == "bs" else
                              (str(v) if a == "privilege" else f"{a}={axis_value({a: v}, a)}")
                              for a, v in zip(vary_axes, k[3:]) if v not in (None, "")]
            lab = words[0] + ", " + (words[1] if len(words) > 1 else "") + "\n" + ", ".join(words[2:]) + "\n" + (
                f"{statistics.median(slot):.0f} B per pipe slot" if slot else "no slot count")
            clusters.append((lab, rows, statistics.median(nets)))
        if not clusters:
            self.notes.append("'Where one pipe is not enough' chart: no network cost baseline in the data "
                              "(a plain TCP reader counted the same way), not drawn")
            return
        if len(clusters) > 8:  # the largest block size only
            big = max(r["bs"] for _, rows, _ in clusters for r in rows)
            clusters = [c for c in clusters if all(r["bs"] == big for r in c[1])]
        modes = [m for m in rs.modes if any(r["mode"] == m for _, rows, _ in clusters for r in rows)]
        ns, bw = len(modes), 0.8 / max(1, len(modes))
        sers, blocks = [], []
        for j, m in enumerate(modes):
            block = []
            for i, (_, rows, net) in enumerate(clusters):
                r = next((r for r in rows if r["mode"] == m), None)
                if r is None:
                    continue
                v = r[R.COST_MOVED] / net
                block.append((round(i + (j - (ns - 1) / 2) * bw, 4), v, 0, 1 if fell_back(r) else 0,
                              gp_str(f"{v:.2f}x"), '""'))
            blocks.append(block)
            sers.append({"label": m, "color": mode_color(m, j)})
        blocks.append([(i - 0.45, 1.0, 0.9) for i in range(len(clusters))])
        vals = [row[1] for b in blocks[:-1] for row in b] + [1.0]
        tics = ", ".join(f"{gp_str(lab)} {i}" for i, (lab, _, _) in enumerate(clusters))
        body = (f"set style fill solid 0.85\nset boxwidth {bw * 0.92:.4f} absolute\n"
                f"set xrange [-0.6:{len(clusters) - 0.4}]\nset xtics ({tics}) scale 0 font ',11'\nset grid noxtics ytics\n"
                "set format y '%gx'\nset bmargin 8\nset xlabel 'path, privilege, reads; bytes one pipe slot held "
                "(median of the splicing points)' offset 0,-2.6\n"
                "set key outside right top vertical\n")
        w = max(W, 70 * len(clusters) * max(1, ns) + 500)
        b1, c1 = self._bar_panel(blocks, sers, 2, 5, len(clusters), len(blocks) - 1,
                                 "Where one pipe is not enough: cost per byte as a multiple of the network's own"
                                 "\n" + rs.title(),
                                 "bytes moved per byte delivered / the network's own", vals,
                                 "network's own cost = 1x", panel_px=w - 520)
        body += b1 + self.probe("multiple")
        self.render("pipe-cost", blocks, body,
                    "where one pipe is not enough: bytes moved per byte delivered as a multiple of the network's "
                    "own, by path and privilege, each mode side by side",
                    checks=[dict(c1, panel="multiple", ys=vals)], w=w)

    # --- 5. two result sets
    def compare(self, pairs, rs_b):
        if self.rs.emulated or rs_b.emulated:
            self.notes.append("Comparison chart: not drawn, one set is emulated (TCG): timings rank nothing")
            return
        groups = {}
        for p in pairs:
            a = p["a"]
            groups.setdefault((a["source"], a["path"], a["direct"]), []).append(p)
        for key, ps in sorted(groups.items(), key=lambda kv: (kv[0][0] != "mem", kv[0])):
            nj = min(p["a"]["numjobs"] for p in ps)
            sel = [p for p in ps if p["a"]["numjobs"] == nj]
            labels = sorted({(p["a"]["mode"], p["label"]) for p in sel}, key=lambda ml: (mode_key(ml[0]), ml[1]))
            rows, glabels, x, anyfb = [], [], 0, False
            for m, lab in labels:
                mp = sorted([p for p in sel if p["label"] == lab], key=lambda p: p["a"]["bs"])
                start = x
                for p in mp:
                    a, b = p["a"], p["b"]
                    top = max(a["gbps_max"] or a["gbps_median"], b["gbps_max"] or b["gbps_median"])
                    dlab = f"{p['delta_pct']:+.1f}%" + ("*" if p["significant"] else "")
                    fbk = fell_back(a) or fell_back(b)
                    anyfb = anyfb or fbk
                    rows.append((x, gp_str(bs_label(a["bs"]) + (" fb" if fbk else "")), a["gbps_median"], num(a["gbps_min"]), num(a["gbps_max"]),
                                 b["gbps_median"], num(b["gbps_min"]), num(b["gbps_max"]), top, gp_str(dlab),
                                 1 if p["significant"] else 0))
                    x += 1
                glabels.append(((start + x - 1) / 2, lab))
                x += 0.6
            ymax = max(r[8] for r in rows) * 1.18
            body = (f"anyfb = {1 if anyfb else 0}\n"
                    f"set title {gp_str(f'A vs B, median GB/s per point: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                    f"{gp_str('A: ' + self.rs.name + ' (' + self.rs.title() + ')')} . \"\\n\" . "
                    f"{gp_str('B: ' + rs_b.name + ' (' + rs_b.title() + ')')}\n"
                    "set style fill solid 0.85 border rgb '#333333'\nset boxwidth 0.36 absolute\n"
                    f"set xrange [-0.7:{x - 0.4}]\nset yrange [0:{ymax}]\nset grid noxtics ytics\n"
                    "set xtics nomirror scale 0\nset ylabel 'throughput (GB/s; bars: min-max of repeats)'\n"
                    "set xlabel 'block size, grouped by reply mode; label: change of B against A (* better or worse by "
                    "the between-runs rule stated in the report)' . (anyfb ? '; fb: fell back to copying' : '') offset 0,-1.5\nset bmargin 7\n"
                    "set tmargin 5\n")
            for gx, gl in glabels:
                body += f"set label {gp_str(gl)} at first {gx}, graph -0.09 center font ',12'\n"
            body += ("plot dat using ($1-0.19):3:xtic(2) with boxes lc rgb '#4c72b0' title 'A (" + self.rs.name.replace("'", "") + ")', \\\n"
                     "     dat using ($1+0.19):6 with boxes lc rgb '#dd8452' title 'B (" + rs_b.name.replace("'", "") + ")', \\\n"
                     "     dat using ($1-0.19):4:(0):($5-$4) with vectors nohead lw 1.5 lc rgb '#222222' notitle, \\\n"
                     "     dat using ($1+0.19):7:(0):($8-$7) with vectors nohead lw 1.5 lc rgb '#222222' notitle")
            if any(r[10] for r in rows):
                body += ", \\\n     dat using 1:($11==1 ? $9 : NaN):10 with labels offset 0,0.9 font ',10:Bold' tc rgb '#000000' notitle"
            if not all(r[10] for r in rows):
                body += ", \\\n     dat using 1:($11==0 ? $9 : NaN):10 with labels offset 0,0.9 font ',9' tc rgb '#888888' notitle"
            body += "\n" + self.probe("compare")
            ys = [float(v) for r in rows for v in (r[2], r[3], r[4], r[5], r[6], r[7]) if v != "NaN"]
            self.render(f"compare-{group_slug(key)}-j{nj}", [rows], body,
                        f"A vs B, {group_name(key)}, {jobs(nj)}", w=max(W, 60 * len(rows) + 200),
                        checks=[{"panel": "compare", "ys": ys, "xs": [r[0] for r in rows], "zero": True,
                                 "log": False}])


def match_sets(ra, rb):
    """Points present (status ok) in both sets, matched on the axes both have, with the
    noise rule's verdict (_verdict).  Where either set ran emulated (TCG) nothing is compared
    by time: the change and verdict are those of bytes moved per byte delivered."""
    target = min(ra.cv_target, rb.cv_target)
    emu = ra.emulated or rb.emulated
    name, get = R.COST_METRICS[0]
    control = R.default_control(ra, rb)
    pairs = []
    for a, b in R.match_sets(ra, rb):
        if a["status"] != "ok" or b["status"] != "ok":
            continue
        if emu:
            va, vb = get(a), get(b)
            d = 100.0 * (vb - va) / va if va and vb is not None else None
            verdict, why = _verdict(a, b, "cost", target, name, get)
        else:
            d = 100.0 * (b["gbps_median"] - a["gbps_median"]) / a["gbps_median"] if a["gbps_median"] else 0.0
            verdict, why = _verdict(a, b, "gbps", target, runs=(ra, rb, control))
        sig = verdict in ("better", "worse")
        label = a["mode"] + "".join(f" {p}={a.get(p)}" for p in SERIES_PARAMS
                                    if len({r.get(p) for r in ra.ok if r["mode"] == a["mode"]}) > 1)
        pairs.append({"a": a, "b": b, "delta_pct": d, "significant": sig, "verdict": verdict, "why": why,
                      "label": label, "emulated": emu, "control": control})
    return pairs


SIG_RULE = _rule_text("between") + " (splicebench/verdict.py, as bench/compare for two runs)"


# ---------------------------------------------------------------- report

class Doc:
    """Blocks rendered to both Markdown and HTML."""

    def __init__(self):
        self.blocks = []

    def h(self, level, text):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def warn(self, text):
        self.blocks.append(("warn", text))

    def ul(self, items):
        if items:
            self.blocks.append(("ul", items))

    def links(self, lead, items):
        self.blocks.append(("links", lead, items))

    def table(self, head, rows):
        self.blocks.append(("table", head, rows))

    def img(self, name, caption):
        self.blocks.append(("img", name, caption))

    def small(self, lines):
        """Notes under a table, one a line."""
        if lines:
            self.blocks.append(("small", lines))

    def md(self):
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "warn":
                out.append(f"> **WARNING: {b[1]}**")
            elif b[0] == "links":
                out.append(b[1] + ", ".join(f"[{t}]({h})" for t, h in b[2]) + ".")
            elif b[0] == "ul":
                out.append("\n".join(f"- {i}" for i in b[1]))
            elif b[0] == "table":
                out.append("| " + " | ".join(md_cell(c) for c in b[1]) + " |\n|" + "|".join("---" for _ in b[1]) + "|\n" +
                           "\n".join("| " + " | ".join(md_cell(c) for c in r) + " |" for r in b[2]))
            elif b[0] == "small":
                out.append("\n".join(b[1]))
            elif b[0] == "img":
                # linked, not embedded: report.md pastes into a mailing-list post or a PR as it is
                out.append(f"Chart: [{b[2]}]({b[1]}.png) ([SVG]({b[1]}.svg))")
        return "\n\n".join(out) + "\n"

    def html(self, title):
        e = html.escape
        out = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>",
               "<style>body{font-family:sans-serif;max-width:1250px;margin:1em auto;padding:0 1em;line-height:1.4}"
               "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
               "th{background:#eee}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}img{max-width:100%;border:1px solid #ddd}"
               ".warn{background:#fdd;border:3px solid #c00;padding:.6em;font-weight:bold;font-size:120%}"
               "figure{margin:1em 0}.tw{overflow-x:auto}.notes{font-size:85%;color:#333}"
               "td[title]{cursor:help}</style></head><body>"]
        for b in self.blocks:
            if b[0] == "h":
                out.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                out.append(f"<p>{e(b[1])}</p>")
            elif b[0] == "warn":
                out.append(f"<p class=\"warn\">WARNING: {e(b[1])}</p>")
            elif b[0] == "links":
                out.append(f"<p>{e(b[1])}" + ", ".join(f"<a href=\"{e(h)}\">{e(t)}</a>" for t, h in b[2]) + ".</p>")
            elif b[0] == "ul":
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b[1]) + "</ul>")
            elif b[0] == "table":
                out.append("<div class=\"tw\"><table><tr>" + "".join(f"<th>{e(cell_text(h))}</th>" for h in b[1]) + "</tr>" +
                           "".join("<tr>" + "".join(html_cell(c) for c in r) + "</tr>" for r in b[2]) +
                           "</table></div>")
            elif b[0] == "small":
                out.append("<p class=\"notes\">" + "<br>".join(e(x) for x in b[1]) + "</p>")
            elif b[0] == "img":
                out.append(f"<figure><a href=\"{e(b[1])}.svg\"><img src=\"{e(b[1])}.png\" alt=\"{e(b[2])}\"></a>"
                           f"<figcaption>{e(b[2])}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def cpu_name(m):
    c = m.get("cpu")
    return m.get("cpu_model") or (c.get("model") if isinstance(c, dict) else c) or "?"


def cell_text(c):
    """A table cell is a string or (text, hover text)."""
    return str(c[0] if isinstance(c, tuple) else c)


def md_cell(c):
    return cell_text(c).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " / ")


def html_cell(c):
    e = html.escape
    if isinstance(c, tuple) and len(c) > 1 and c[1]:
        return f"<td title=\"{e(str(c[1]))}\">{e(str(c[0]))}</td>"
    return f"<td>{e(cell_text(c))}</td>"


def flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, f"{prefix}{k}.")
        elif v not in (None, ""):
            yield f"{prefix}{k}", (", ".join(map(str, v)) if isinstance(v, list)
                                   else json.dumps(v) if isinstance(v, bool) else str(v))


def base_mode(rs, modes):
    """The mode others are measured against: the first copy mode (never splices, learnt from
    the data) of splicefs present, else the first mode present."""
    for m in rs.modes:
        if m in modes and m in rs.copy_modes and rs.programs.get(m, "splicefs") == "splicefs":
            return m
    return next((m for m in rs.modes if m in modes), None)


def kept_rows(rs, rows):
    """Comparable groups of ok rows (same axes but mode) -> [(axes dict, {mode: [rows]})]:
    every row of a mode's own settings (pipes, pipe_size) kept, none picked as its best."""
    return [(g[None], {m: mrows for m, mrows in g.items() if m is not None})
            for g in R.comparable_groups(rows, rs.match_axes(), vary="mode").values()]


class Notes:
    """Numbered notes of one table: the same text gets the same number."""

    def __init__(self):
        self.items = []

    def ref(self, text):
        if text not in self.items:
            self.items.append(text)
        return f"[{self.items.index(text) + 1}]"

    def lines(self):
        return [f"[{i + 1}] {t}" for i, t in enumerate(self.items)]


def fig(x):
    """3 significant digits, plain (no exponent for the sizes a report shows)."""
    if x is None:
        return ""
    if x == 0:
        return "0"
    d = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{d}f}"


def share(x):
    return f"{x:.0f} %" if x >= 9.95 or x == 0 else f"{x:.1f} %"


def const_words(rows, axes):
    """'numjobs=1, psync, iodepth=1, ...' for the axes (constant in rows)."""
    r0 = {a: rows[0].get(a) for a in axes}
    return R.axes_words(r0, skip=("mode", "source", "bs"))


def row_cost_net(rs, r, peers):
    """The network's own bytes moved per byte for the point r (a column on the point, a
    baseline-mode point among peers at the same axes, or baseline.jsonl), or None."""
    v = R.first_col(r, R.COST_BASELINE_COLS)[1]
    if isinstance(v, (int, float)) and v > 0:
        return float(v)
    for p in peers:
        if p["mode"] in R.COST_BASELINE_MODES and p.get(R.COST_MOVED):
            return p[R.COST_MOVED]
    for b in rs.baseline:
        if b.get("path") in (r.get("path"), r.get("source")) and b.get("bs") in (None, r.get("bs")):
            v = b.get("cost_bytes_moved_per_byte", b.get("bytes_moved_per_byte"))
            if isinstance(v, (int, float)) and v > 0:
                return float(v)
    return None


def spliced_cell(rs, r, notes):
    """The share a splicing mode spliced, '' for a copy mode, 'not visible' where the
    daemon cannot see libfuse's fallbacks; the fallback reasons in a note."""
    if r["mode"] in rs.copy_modes:
        return ""
    if R.fallbacks_hidden(r):
        return "not visible" + notes.ref(f"{r['mode']}: fallbacks not visible: libfuse copies instead of "
                                         "splicing without telling its daemon (fallbacks_visible = false)")
    tot = (r.get("bytes_spliced") or 0) + (r.get("bytes_copied") or 0)
    if not tot:  # e.g. passthrough: the kernel reads the backing file itself
        return "n/a" + notes.ref(f"{r['mode']}: no read reached the daemon (0 bytes spliced or copied): "
                                 "nothing for it to splice")
    sh = r.get("spliced_share")
    sh = 100 * sh if isinstance(sh, (int, float)) else 100 * (r.get("bytes_spliced") or 0) / tot
    if sh >= 99.95:
        return "100 %"
    why = R.fallback_reasons(r) or "no reason in the counters"
    return share(sh) + notes.ref(f"{r['mode']} fell back to copying the rest: {why}")


def verdict_cell(ratio, vd, why, notes, what, sides=None):
    """'1.21x ▲' / '0.98x ≈[2]' (the reason in a note and on hover); sides (A, B) names the
    rule's 'A:' and 'B:' in the reason."""
    txt = f"{ratio:.2f}x {MARK.get(vd, '?')}"
    if sides and why:
        why = re.sub(r"\bA(:| has\b)", sides[0] + r"\1", re.sub(r"\bB(:| has\b)", sides[1] + r"\1", why))
    if vd in ("better", "worse"):
        return (txt, f"{vd}: beyond noise")
    if vd == "not compared":  # one reason for the whole table (no per-repeat figures, emulated)
        return (txt + notes.ref(f"not compared: {why}"), f"{vd}: {why}")
    return (txt + notes.ref(f"{what}: {vd}" + (f" ({why})" if why else "")), f"{vd}: {why}")


def headline_tables(rs):
    """Per data path (source, path, direct) at its smallest numjobs: one row per block size
    (largest first) and mode (with whichever other axes vary), the figure, its ratio to the
    base (copy) mode with the noise rule's verdict, to the network's own and to 100G line
    rate, and how much a splicing mode spliced.  Under TCG the figure is bytes moved per
    byte delivered (and instructions per byte): nothing is compared by time.
    Returns [{title, const, head, rows, notes}]."""
    out = []
    skip = {"mode", "source", "path", "direct", "bs"} | set(R.MODE_OWN_AXES)
    axes = [a for a in rs.match_axes() if a not in skip]
    for key, okrows in rs.groups().items():
        njs = sorted({r["numjobs"] for r in okrows})
        nj = njs[0]
        allr = [r for r in rs.rows if (r["source"], r["path"], r.get("direct")) == key and r.get("numjobs") == nj
                and r["mode"] not in R.COST_BASELINE_MODES and r.get("bs")]
        if not allr:
            continue
        vary = [a for a in axes if a != "numjobs" and len({r.get(a) for r in allr}) > 1]
        const = [a for a in axes if a not in vary]
        modes = [m for m in rs.modes if any(r["mode"] == m for r in allr)]
        own = {m: [a for a in R.MODE_OWN_AXES if len({r.get(a) for r in allr if r["mode"] == m}) > 1] for m in modes}
        base = base_mode(rs, [m for m in modes if any(r["mode"] == m and r["status"] == "ok" for r in allr)])
        cw = const_words(allr, const)
        if len(njs) > 1:
            cw = cw.replace(f"numjobs={nj}", f"numjobs={nj} (numjobs {', '.join(map(str, njs[1:]))}: the medians "
                                             "table and the scaling chart)")
        for m in modes:  # a mode's own settings that do not vary: stated once too
            fixed = [a for a in R.MODE_OWN_AXES if a not in own[m]
                     and next((r.get(a) for r in allr if r["mode"] == m), None) not in (None, "")]
            if fixed:
                r0 = next(r for r in allr if r["mode"] == m)
                cw += f"; {m}: " + ", ".join(f"{a}={bs_label(r0[a]) if a == 'pipe_size' else r0[a]}" for a in fixed)
        notes = Notes()
        nb = None if rs.emulated else rs.baseline_of(okrows, key[1])
        bname = base or "base"
        if rs.emulated:
            head = ["bs", "mode", "bytes moved / B", f"x {bname}", "x network's own", "instructions / B",
                    f"x {bname}", "spliced"]
        else:
            head = ["bs", "mode", "GB/s", f"x {bname}"] + ([f"of iperf3 {key[1]}"] if nb else []) + \
                   [f"of {rs.line_rate:g} GB/s", "spliced"]
        rows = []
        for bs in sorted({r["bs"] for r in allr}, reverse=True):
            first = True
            for m in modes:
                mine = [r for r in allr if r["mode"] == m and r["bs"] == bs]
                for r in sorted(mine, key=lambda r: tuple(str(r.get(a)) for a in vary + own[m])):
                    lab = m + "".join(f", {a}={r.get(a)}" if a not in ("ioengine",) else f", {r.get(a)}"
                                      for a in vary) + \
                        "".join(f" {a}={bs_label(r[a]) if a == 'pipe_size' and r.get(a) else r.get(a)}" for a in own[m])
                    cells = [bs_label(bs) if first else "", lab]
                    first = False
                    if r["status"] != "ok":
                        cells.append(r["status"] + notes.ref(f"{lab} at {bs_label(bs)}: {r['status']}: "
                                                             f"{r.get('reason') or 'no reason given'}"))
                        rows.append(cells + [""] * (len(head) - len(cells)))
                        continue
                    peers = [p for p in allr if p["bs"] == bs and p["status"] == "ok"
                             and all(p.get(a) == r.get(a) for a in vary)]
                    b = None if m == base else next((p for p in peers if p["mode"] == base), None)
                    what = f"{lab} against {base}"
                    if rs.emulated:
                        for name, get in R.COST_METRICS:
                            v = get(r)
                            cells.append(fig(v) if v is not None else "-")
                            if m == base:
                                cells.append("base")
                            elif b is None or v is None or not get(b):
                                cells.append("-")
                            else:
                                vd, why = _verdict(b, r, "cost", metric=name, get=get)
                                cells.append(verdict_cell(v / get(b), vd, why, notes, f"{what}, {name}", (base, lab)))
                            if name.startswith("bytes moved"):
                                nc = row_cost_net(rs, r, [p for p in rs.rows if p["status"] == "ok"
                                                          and p["bs"] == bs and p["source"] == r["source"]
                                                          and p.get("numjobs") == nj])
                                cells.append(f"{v / nc:.2f}x" if nc and v is not None else "-")
                    else:
                        n = int(r.get("repeats") or 0)
                        g = r["gbps_median"]
                        if n < 3:
                            cells.append(f"n={n}" + notes.ref(f"fewer than 3 repeats: no figure here (no absolute "
                                                              "headline below n = 3); the medians table has it"))
                        else:
                            cells.append(fig(g))
                        if m == base:
                            cells.append("base")
                        elif b is None or not b.get("gbps_median"):
                            cells.append("-")
                        else:
                            vd, why = _verdict(b, r, "gbps")
                            cells.append(verdict_cell(g / b["gbps_median"], vd, why, notes, what, (base, lab)))
                        if nb:
                            cells.append(share(100 * g / nb) if n >= 3 else "-")
                        cells.append(share(100 * g / rs.line_rate) if n >= 3 else "-")
                    cells.append(spliced_cell(rs, r, notes))
                    rows.append(cells)
        keep = [i for i in range(len(head)) if i < 2 or any(cell_text(c[i]) not in ("", "-") for c in rows)]
        head = [head[i] for i in keep]
        rows = [[c[i] for i in keep] for c in rows]
        title = group_name(key)
        out.append({"title": title, "const": cw, "head": head, "rows": rows, "notes": notes.lines(),
                    "key": key, "base": base})
    return out


def headline_legend(rs):
    if rs.emulated:
        return ("Emulated (TCG): every figure is a cost per byte delivered from the QEMU plugin (lower is "
                "better); nothing is ranked by time. x network's own: bytes moved as a multiple of a plain TCP "
                "reader's on the same path. ")
    return ("GB/s: median over the repeats (10^9 B/s); the shares are of the path's iperf3 single-stream "
            "baseline and of 100G line rate. ")


def marks_legend(base):
    return (f"x {base}: against {base} at the same axes, {MARK['better']} better, {MARK['worse']} worse, "
            f"{MARK['within noise']} within noise (why: the numbered note; on hover in report.html). spliced: "
            "the share of its bytes a splicing mode spliced. Largest block size first.")


def fallback_sentences(rs):
    out = []
    for m in [m for m in rs.modes if m not in rs.copy_modes and any(r["mode"] == m for r in rs.ok)]:
        mr = [r for r in rs.ok if r["mode"] == m]
        if any(R.fallbacks_hidden(r) for r in mr):
            out.append(f"{m}: whether it fell back to copying cannot be seen ({len(mr)} points): its daemon "
                       "asks libfuse to splice every reply, and libfuse copies instead without telling it "
                       "(fallbacks_visible = false); a collapse in GB/s is the only sign.")
            continue
        fb = [r for r in mr if fell_back(r)]
        if not fb:
            out.append(f"{m} never fell back to copying ({len(mr)} points, bytes_copied = 0 at each).")
            continue
        t = min(r["bs"] for r in fb)
        above = [r for r in mr if r["bs"] >= t]
        sp = sum(r.get("bytes_spliced") or 0 for r in fb)
        cp = sum(r.get("bytes_copied") or 0 for r in fb)
        nfb = sum(int(r.get("fallbacks") or 0) for r in fb)
        why = {}
        for c, lab in R.FALLBACK_REASONS:
            n = sum(int(r.get(c) or 0) for r in fb)
            if n:
                why[lab] = n
        reasons = (" Reasons: " + ", ".join(f"{lab} {n}" for lab, n in sorted(why.items(), key=lambda x: -x[1])) + "."
                   if why else " The counters give no reason (fallback_* not in the data).")
        out.append(f"{m} fell back to copying at {len(fb)} of {len(above)} {m} points with bs >= {bs_label(t)} "
                   f"({nfb} replies fell back; {pct(100 * cp / (sp + cp) if sp + cp else 0)} of those points' bytes "
                   f"were copied, not spliced); below {bs_label(t)} it never fell back.{reasons} "
                   "The charts circle these points in red.")
    return out


def short_axes(rs, rows, skip=("mode", "source", "path", "direct", "bs")):
    """The axes that vary among rows (for short row labels); the rest are stated once."""
    return [a for a in rs.match_axes() if a not in skip and len({r.get(a) for r in rows}) > 1]


def axis_value(r, a):
    v = r.get(a)
    return bs_label(v) if a in ("pipe_size", "pipe_max_size") and v not in (None, "") else ("" if v is None else v)


def cpu_table(rs):
    """Per point: the CPU parts, their sum, cores x wall, and the check (sum <= it); rows
    labelled by path, mode, bs and only the other axes that vary; 3 significant digits."""
    parts = [p for p in R.CPU_PARTS if any(p[0] in R.cpu_parts(r) for r in rs.ok)]
    rows_ = [r for r in rs.ok if R.cpu_parts(r)]
    vary = short_axes(rs, rows_)
    head = (["path", "mode", "bs"] + vary + [p[1] for p in parts] + ["sum (mode's cost)", "cores x wall", "check"])
    rows, bad = [], []
    for r in rows_:
        cp = R.cpu_parts(r)
        s, cap, prob = R.cpu_check(r)
        if prob:
            bad.append(f"{R.axes_words(r)}: {prob}")
        rows.append([group_name((r["source"], r["path"], r.get("direct"))), r["mode"], bs_label(r["bs"])]
                    + [axis_value(r, a) for a in vary]
                    + [fig(cp[p[0]]) if p[0] in cp else "" for p in parts]
                    + [fig(s), fig(cap) if cap is not None else "not in the data",
                       ("VIOLATED: " + prob) if prob else ("ok" if cap is not None else "cannot check")])
    return head, rows, bad


def cpu_summary(rs):
    """Per path at its smallest numjobs, the smallest and largest bs: each mode's own CPU s/GB
    (the parts but rest of machine) against the base mode's, with the noise rule's verdict on
    the per-repeat figures.  None under TCG (CPU seconds there rank nothing)."""
    if rs.emulated:
        return None
    head = ["path", "bs", "mode", "s/GB", "x base", "spliced"]
    rows, notes = [], Notes()
    for key, okrows in rs.groups().items():
        nj = min(r["numjobs"] for r in okrows)
        sel = [r for r in okrows if r["numjobs"] == nj and R.cpu_mode_cost(r) is not None]
        if not sel:
            continue
        vary = [a for a in short_axes(rs, sel, skip=("mode", "source", "path", "direct", "bs", "numjobs")
                                      + tuple(R.MODE_OWN_AXES))]
        own = {m: [a for a in R.MODE_OWN_AXES if len({r.get(a) for r in sel if r["mode"] == m}) > 1]
               for m in {r["mode"] for r in sel}}
        bss = sorted({r["bs"] for r in sel})
        for bs in sorted({bss[0], bss[-1]}, reverse=True):
            at = [r for r in sel if r["bs"] == bs]
            base = base_mode(rs, {r["mode"] for r in at})
            first = True
            for r in sorted(at, key=lambda r: (mode_key(r["mode"]), str([r.get(a) for a in vary]))):
                lab = r["mode"] + "".join(f", {a}={axis_value(r, a)}" for a in vary + own[r["mode"]])
                c = R.cpu_mode_cost(r)
                b = next((p for p in at if p["mode"] == base and all(p.get(a) == r.get(a) for a in vary)), None)
                if r["mode"] == base:
                    x = "base"
                elif b is None or not R.cpu_mode_cost(b):
                    x = "-"
                else:
                    vd, why = _verdict(b, r, "cpu")
                    x = verdict_cell(c / R.cpu_mode_cost(b), vd, why, notes, f"{lab} against {base}, CPU s/GB",
                                     (base, lab))
                rows.append([group_name(key) if first else "", bs_label(bs) if first else "", lab, fig(c), x,
                             spliced_cell(rs, r, notes)])
                first = False
    if not rows:
        return None
    return head, rows, ["Lower is better. x base: against the base mode's own CPU s/GB at the same axes, "
                        f"{MARK['better']} better (less CPU), {MARK['worse']} worse, {MARK['within noise']} within "
                        "noise (a verdict needs per-repeat CPU figures)."] + notes.lines()


def cost_table(rs):
    """Every cost_* column per point (an appendix: the charts show bytes moved and instructions)."""
    vary = short_axes(rs, rs.ok)
    cols = [c for c in rs.header if c.startswith("cost_") and any(r.get(c) is not None for r in rs.ok)]
    head = ["path", "mode", "bs"] + vary + [c[len("cost_"):] for c in cols]
    rows = [[group_name((r["source"], r["path"], r.get("direct"))), r["mode"], bs_label(r["bs"])]
            + [axis_value(r, a) for a in vary] + [fig(r.get(c)) if isinstance(r.get(c), (int, float)) else "" for c in cols]
            for r in rs.ok]
    return head, rows


def reference_tables(rs):
    """splicefs's modes against the reference programs' (e.g. libfuse-ref): per path at its
    smallest numjobs, per block size (largest first) and pair, B / A with the noise rule's
    mark; bytes moved per byte under TCG.  Returns [{title, const, head, rows, notes}]."""
    pairs = R.reference_pairs(rs.programs, rs.modes)
    out = []
    if not pairs:
        return out
    skip = {"mode", "source", "path", "direct", "bs"} | set(R.MODE_OWN_AXES)
    axes = [a for a in rs.match_axes() if a not in skip]
    name, get = R.COST_METRICS[0]
    for key, rows in rs.groups().items():
        nj = min(r["numjobs"] for r in rows)
        sel = [r for r in rows if r["numjobs"] == nj]
        vary = [a for a in axes if a != "numjobs" and len({r.get(a) for r in sel}) > 1]
        notes, trows = Notes(), []
        unit = "bytes moved / B" if rs.emulated else "GB/s"
        for bs in sorted({r["bs"] for r in sel}, reverse=True):
            first = True
            for ours, ref in pairs:
                for b in [r for r in sel if r["mode"] == ours and r["bs"] == bs]:
                    a = next((r for r in sel if r["mode"] == ref and r["bs"] == bs
                              and all(r.get(x) == b.get(x) for x in vary)), None)
                    if a is None:
                        continue
                    lab = f"{ours} / {ref}" + "".join(f", {x}={axis_value(b, x)}" for x in vary)
                    if rs.emulated:
                        va, vb = get(a), get(b)
                        if not va or vb is None:
                            continue
                        vd, why = _verdict(a, b, "cost", metric=name, get=get)
                        cell = verdict_cell(vb / va, vd, why, notes, f"{ours} against {ref}, {name}", (ref, ours))
                        trows.append([bs_label(bs) if first else "", lab, cell, fig(vb), fig(va),
                                      spliced_cell(rs, b, notes), spliced_cell(rs, a, notes)])
                    else:
                        vd, why = _verdict(a, b, "gbps")
                        cell = verdict_cell(b["gbps_median"] / a["gbps_median"], vd, why, notes,
                                            f"{ours} against {ref}", (ref, ours))
                        shown = lambda r: fig(r['gbps_median']) if int(r.get("repeats") or 0) >= 3 else \
                            f"n={int(r.get('repeats') or 0)}"  # noqa: E731
                        trows.append([bs_label(bs) if first else "", lab, cell, shown(b), shown(a),
                                      spliced_cell(rs, b, notes), spliced_cell(rs, a, notes)])
                    first = False
        if trows:
            out.append({"title": group_name(key), "head": ["bs", "splicefs / reference", "ratio",
                                                           f"splicefs {unit}", f"reference {unit}",
                                                           "splicefs spliced", "reference spliced"],
                        "rows": trows, "notes": notes.lines()})
    return out


def _net_cost_baseline(rs, axes, at):
    """The network's own bytes moved per byte (a plain TCP reader) for a group, or None."""
    for m in R.COST_BASELINE_MODES:
        if m in at and at[m].get(R.COST_MOVED) is not None:
            return at[m][R.COST_MOVED], m
    # measured next to each mode's point (bench/run --cost: cost_net_*): their median
    vals = [v for v in (R.first_col(r, R.COST_BASELINE_COLS)[1] for r in at.values())
            if isinstance(v, (int, float)) and v > 0]
    if vals:
        return statistics.median(vals), "baseline column"
    for b in rs.baseline:
        if b.get("path") in (axes.get("path"), axes.get("source")) and (b.get("bs") in (None, axes.get("bs"))):
            v = b.get("cost_bytes_moved_per_byte", b.get("bytes_moved_per_byte"))
            if isinstance(v, (int, float)) and v > 0:
                return float(v), "baseline.jsonl"
    return None, ""


def pipe_sentences(rs):
    """'Where one pipe is not enough': per path, bytes per pipe slot, the share each mode
    spliced (with fallback reasons), and cost per byte, against the network's own."""
    out = []
    by_src = {}
    for r in rs.ok:
        by_src.setdefault(r["source"], []).append(r)
    for src in sorted(by_src, key=lambda s: (s != "mem", s)):
        rows = by_src[src]
        slot = [r["bytes_per_slot"] for r in rows if isinstance(r.get("bytes_per_slot"), (int, float))
                and r["bytes_per_slot"] > 0]
        probe = [b.get("bytes_per_slot") for b in rs.baseline
                 if b.get("path") in (src, rows[0].get("path")) and isinstance(b.get("bytes_per_slot"), (int, float))]
        s = f"On {src}: "
        if slot:
            passes = sorted({r.get("slots_pass") for r in rows if r.get("slots_pass")})
            s += (f"{statistics.median(slot):.0f} bytes per pipe slot (median of {len(slot)} splicing points, "
                  f"{min(slot):.0f}-{max(slot):.0f}"
                  + (f"; counted in the {' and '.join(passes)} pass" if passes else "") + ")")
        else:
            s += "no point spliced through a pipe slot (bytes_per_slot not in the data or 0)"
        if probe:
            s += f"; the socket-to-pipe probe measured {statistics.median(probe):.0f} bytes per slot"
        out.append(s + ".")
        nocap, nonet = set(), False
        for axes, allat in kept_rows(rs, rows):
            # privilege=root does not say whether pipes may grow: root in a container
            # may lack CAP_SYS_RESOURCE, and then pipe-max-size binds it as it binds a user
            if axes.get("privilege", "root") == "root" and any(m not in rs.copy_modes for m in allat):
                nocap |= {m for m, rr in allat.items()
                          if any(str(r.get("cap_sys_resource", "")).lower() in ("false", "0") for r in rr)}
            at = {m: rr[0] for m, rr in allat.items()}
            nb, _ = _net_cost_baseline(rs, axes, at)
            nonet |= nb is None and any(get(r) is not None for rr in allat.values() for r in rr
                                        for _, get in R.COST_METRICS)
        if nocap:
            out.append(f"On {src}: the daemon ran as root without CAP_SYS_RESOURCE ({', '.join(sorted(nocap))}), "
                       "so its pipes obeyed pipe-max-size as an unprivileged daemon's do.")
        if nonet:
            out.append(f"On {src}: no network cost baseline in the data (a plain TCP reader counted the same "
                       "way), so no multiple of the network's own cost: bytes moved per byte in the table.")
    return out


def source_order(rs):
    """The data sources in the order the run measured them (mem first)."""
    seen = []
    for r in rs.rows:
        if r.get("source") and r["source"] not in seen:
            seen.append(r["source"])
    return sorted(seen, key=lambda x: (x != "mem", seen.index(x)))


def pipe_table(rs):
    """'Where one pipe is not enough' as one table: a row per path, privilege (and whatever
    else varies) and block size; per mode its bytes moved per byte delivered as a multiple of
    the network's own (or the bytes moved where there is no baseline), and how much a
    splicing mode spliced, with the reason it copied.  (head, rows, notes) or None."""
    nj = {src: min(r["numjobs"] for r in rs.ok if r["source"] == src) for src in {r["source"] for r in rs.ok}}
    vary = [a for a in ("privilege", "pipe_max_size", "gro", "ioengine", "iodepth")
            if a in rs.header and (a == "privilege" or len({r.get(a) for r in rs.ok}) > 1)]
    modes = [m for m in rs.modes if m not in R.COST_BASELINE_MODES and any(r["mode"] == m for r in rs.ok)]
    notes, rows = Notes(), []
    keys = {}
    for r in rs.ok:
        if r["mode"] in R.COST_BASELINE_MODES or r["numjobs"] != nj[r["source"]]:
            continue  # each path at its smallest numjobs, as the headline tables
        k = (r["source"],) + tuple(r.get(a) for a in vary) + (r["bs"],)
        keys.setdefault(k, []).append(r)
    if not any(isinstance(r.get("bytes_per_slot"), (int, float)) or r.get(R.COST_MOVED) is not None for r in rs.ok):
        return None
    srcs = source_order(rs)
    for k in sorted(keys, key=lambda k: ((srcs.index(k[0]),) + tuple(str(v) for v in k[1:-1]) + (-k[-1],))):
        rr = keys[k]
        peers = [p for p in rs.ok if p["source"] == k[0] and p["bs"] == k[-1] and p["numjobs"] == nj[k[0]]
                 and all(p.get(a) == v for a, v in zip(vary, k[1:-1]))]
        nets = [v for v in (row_cost_net(rs, r, peers) for r in rr) if v]
        net = statistics.median(nets) if nets else None
        slot = [r["bytes_per_slot"] for r in rr if isinstance(r.get("bytes_per_slot"), (int, float))
                and r["bytes_per_slot"] > 0]
        cells = [k[0]] + [axis_value(dict(zip(vary, k[1:-1])), a) for a in vary] + [bs_label(k[-1]),
                 (f"{statistics.median(slot):.0f} B" if slot else "-")]
        for m in modes:
            r = next((r for r in rr if r["mode"] == m), None)
            if r is None:
                cells.append("")
                continue
            v = r.get(R.COST_MOVED)
            c = (f"{v / net:.2f}x" if net and v is not None else fig(v) if v is not None else "")
            sp = spliced_cell(rs, r, notes)
            if sp:
                c += (", " if c else "") + ("all spliced" if sp == "100 %" else
                                           sp if sp.startswith("not visible") else f"spliced {sp}")
            cells.append(c)
        cells.append(fig(net) if net else "-")
        rows.append(cells)
    head = ["path"] + vary + ["reads", "bytes per pipe slot"] + modes + ["network's own (bytes moved / B)"]
    keep = [i for i in range(len(head)) if i < 2 + len(vary) or any(cell_text(c[i]) not in ("", "-") for c in rows)]
    return [head[i] for i in keep], [[c[i] for i in keep] for c in rows], notes.lines()


def medians_table(rs):
    """One row per (data path, numjobs, bs and every other axis that varies), one column per
    mode and, where a mode has several of its own settings (pipes, pipe_size), per setting:
    every point has its own cell, none hides another."""
    skip = {"mode", "source", "path", "direct", "numjobs", "bs"} | set(R.MODE_OWN_AXES)
    other = [a for a in rs.match_axes() if a not in skip and len({r.get(a) for r in rs.rows}) > 1]

    def col(r):
        own = [a for a in R.MODE_OWN_AXES
               if len({x.get(a) for x in rs.rows if x["mode"] == r["mode"]}) > 1]
        return r["mode"] + "".join(f" {a}={bs_label(r[a]) if a == 'pipe_size' and r.get(a) else r.get(a)}" for a in own)
    cols = []
    for m in rs.modes:
        for r in rs.rows:
            if r["mode"] == m and col(r) not in cols:
                cols.append(col(r))
    unit = "emulated GB/s" if rs.emulated else "GB/s"
    head = ["data path", "numjobs", "bs"] + other + [f"{c} {unit}" for c in cols]
    idx = {}
    for r in rs.rows:
        k = (group_name((r["source"], r["path"], r.get("direct"))), r.get("numjobs") or 0, r.get("bs") or 0) \
            + tuple(str(r.get(a, "")) for a in other)
        idx.setdefault(k, {})[col(r)] = r
    rows = []
    for k, by in sorted(idx.items(), key=lambda kv: (kv[0][0] != "mem",) + kv[0]):
        cells = [k[0], k[1], bs_label(k[2]) if k[2] else "?"] + list(k[3:])
        for c in cols:
            r = by.get(c)
            if r is None:
                cells.append("")
            elif r["status"] != "ok":
                cells.append(r["status"])
            else:
                v = f"{r['gbps_median']:.2f}"
                if r.get("gbps_min") is not None and r.get("gbps_max") is not None:
                    v += f" ({r['gbps_min']:.2f}-{r['gbps_max']:.2f})"
                if fell_back(r):
                    v += f" [fallback, {copied_share(r):.0f}% copied]"
                cells.append(v)
        rows.append(cells)
    return head, rows


def build(rs, outdir, rb=None, report=False):
    """Draws every chart into outdir; with report, writes report.md/html there too."""
    global CUR
    CUR = rs
    ch = Charts(outdir, rs)
    ch.throughput()
    ch.cpu()
    ch.scaling()
    ch.latency()
    ch.cost()
    ch.pipe_cost()
    pairs = None
    if rb is not None:
        pairs = match_sets(rs, rb)
        if pairs:
            ch.compare(pairs, rb)
        else:
            ch.notes.append(f"Comparison: no point of {rs.name} matches one of {rb.name}, not drawn")
    if not ch.made and not report:
        raise InputError(f"{rs.dir}: no point with status ok, nothing to draw")
    if not rs.ok:
        ch.notes.append("No point has status ok: nothing to draw")
    if report:
        write_report(rs, rb, pairs, ch, outdir)
    return ch


def write_report(rs, rb, pairs, ch, outdir, sections=None):
    d = Doc()
    title = f"splicebench report: {rs.name}"
    d.h(1, title)
    env = rs.env
    if env == "tcg":
        d.warn(TCG_NOTE)
    if rs.meta.get("complete") is False:
        d.warn("incomplete run (meta.json complete = false): bench/run was still running or was interrupted")
    if env == "kvm":
        d.p("Note: measured in a KVM guest; compare absolute speeds only with other KVM runs.")
    nst = {s: sum(1 for r in rs.rows if r["status"] == s) for s in sorted({r["status"] for r in rs.rows})}
    m = rs.meta
    d.p(f"Kernel {rs.run_value('kernel')}, patch variant {rs.run_value('variant')}, environment "
        f"{ENV_NAME.get(env, env)}; FUSE_OUT_SPLICES: {m.get('fuse_out_splices', '?')}; "
        f"CPU: {cpu_name(m)}; "
        f"matrix {m.get('matrix', '?')}, {m.get('start', '?')} to {m.get('end', '?')}; points: "
        + ", ".join(f"{n} {s}" for s, n in nst.items()) + ". Full metadata at the end.")
    shown = set()

    def show(name):
        for n, cap, _ in ch.made:
            if n == name and n not in shown:
                d.img(n, cap)
                shown.add(n)

    d.h(2, "Headlines")
    tabs = headline_tables(rs)
    if tabs:
        d.p(headline_legend(rs) + marks_legend(tabs[0]["base"] or "base") +
            f" Noise rule: {_rule_text('cost' if rs.emulated else 'gbps')} (cv_target {rs.cv_target:g}).")
    else:
        d.p("No headline figures: no point has status ok.")
    for t in tabs:
        d.h(3, t["title"])
        d.p(f"Every row: {t['const']}.")
        d.table(t["head"], t["rows"])
        d.small(t["notes"])
        nj = min(r["numjobs"] for r in rs.groups()[t["key"]])
        show(f"cost-{group_slug(t['key'])}-j{nj}")  # the path's chart under its table (emulated: cost)
        show(f"gbps-bs-{group_slug(t['key'])}-j{nj}")
    for sec in list(SECTIONS) + list(sections or []):
        (sec[1] if isinstance(sec, tuple) else sec)(d, rs, ch)
    reft = reference_tables(rs)
    if reft:
        d.h(2, "splicefs against the reference daemons")
        d.p("Each splicefs mode against the reference mode named after it (from the programs' --list), "
            "at the same axes in the same run, each path at its smallest numjobs; ratio: splicefs / reference, "
            + ("bytes moved per byte delivered (emulated run; lower is better)" if rs.emulated else "GB/s")
            + f", {MARK['better']} better, {MARK['worse']} worse, {MARK['within noise']} within noise.")
        for t in reft:
            d.h(3, t["title"])
            d.table(t["head"], t["rows"])
            d.small(t["notes"])
    ps = pipe_sentences(rs)
    if any(r.get("bytes_per_slot") is not None or r.get("pipe_slots") is not None for r in rs.ok) or rs.cost_cols:
        d.h(2, "Where one pipe is not enough")
        d.p("Per path: how many bytes one pipe slot held, the share of bytes each splicing mode spliced "
            "(with the reasons it fell back), and the cost per byte delivered, as a multiple of the "
            "network's own cost where the data has a baseline.")
        show("pipe-cost")
        d.ul(ps)
        pt = pipe_table(rs)
        if pt:
            d.p("Per mode: bytes moved per byte delivered as a multiple of the network's own cost (a plain TCP "
                "reader's on the same path, last column; where the data has none, the bytes moved themselves), "
                "and how much of its bytes a splicing mode spliced.")
            d.table(pt[0], pt[1])
            d.small(pt[2])
    d.h(2, "CPU")
    ch_, cr, bad = cpu_table(rs)
    for b in bad:
        d.warn("CPU parts exceed cores x wall time: " + b)
    if cr:
        d.p("CPU seconds per GB delivered, by part (cgroups: daemon, data server, fio; /proc/stat: softirq, "
            "kernel threads; everything else is rest of machine, never part of a mode's cost), their sum, "
            "and cores x wall time of the timed window: the sum must not exceed it."
            + (" Emulated run: CPU seconds here mean nothing as speeds; not charted, ranked nowhere."
               if rs.emulated else " 3 significant digits; the full table is in the appendix."))
        for n, _, _ in list(ch.made):
            if n.startswith("cpu-"):
                show(n)
        cs = cpu_summary(rs)
        if cs:
            d.table(*cs[:2])
            d.small(cs[2])
    else:
        d.p("No CPU figures in the data.")
    d.h(2, "Fallbacks and points not measured")
    d.ul(fallback_sentences(rs))
    bad = [r for r in rs.rows if r["status"] != "ok"]
    if bad:
        d.p(f"{len(bad)} point(s) were not measured:")
        d.ul([f"{r['status']}: {r['mode']}, {group_name((r['source'], r['path'], r.get('direct')))}, "
              f"{bs_label(r['bs']) if r.get('bs') else '?'}, {jobs(r['numjobs'] or 0)}: {r.get('reason') or 'no reason given'}"
              for r in bad])
    else:
        d.p("Every point was measured (status ok).")
    if pairs is not None:
        emu = rs.emulated or rb.emulated
        d.h(2, f"Comparison: A = {rs.name}, B = {rb.name}")
        d.p(f"A: {rs.title()}. B: {rb.title()}.")
        if emu:
            d.warn("one set or both ran emulated (TCG): the sets are compared by cost per byte delivered "
                   "only, never by time")
        if pairs:
            sig = [p for p in pairs if p["significant"]]
            what = "bytes moved per byte delivered" if emu else "GB/s"
            rule = _rule_text("cost" if emu else "between")
            if not emu:
                ctl = pairs[0]["control"]
                d.p("The two sets were never measured side by side; each point is judged through "
                    + (f"the control {ctl[0]}={ctl[1]}, measured in the same rounds of each run."
                       if ctl else "a control, and neither set has one the other has too: nothing is called."))
            d.p(f"Of {len(pairs)} matched points (status ok in both, matched on {', '.join(a for a in rs.match_axes() if a in rb.header)}), "
                f"{len(sig)} differ significantly in {what} ({rule}).")
            if sig:
                big = max(sig, key=lambda p: abs(p["delta_pct"] or 0))
                a = big["a"]
                if emu:
                    d.p(f"Largest significant change: {big['label']}, {group_name((a['source'], a['path'], a['direct']))}, "
                        f"{bs_label(a['bs'])}, {jobs(a['numjobs'])}: {fig(a[R.COST_MOVED])} -> "
                        f"{fig(big['b'][R.COST_MOVED])} bytes moved per byte delivered ({big['delta_pct']:+.1f} %).")
                else:
                    d.p(f"Largest significant change: {big['label']}, {group_name((a['source'], a['path'], a['direct']))}, "
                        f"{bs_label(a['bs'])}, {jobs(a['numjobs'])}: {a['gbps_median']:.2f} -> {big['b']['gbps_median']:.2f} GB/s "
                        f"({big['delta_pct']:+.1f} %).")
        else:
            d.p("No point matches between the two sets.")
    for blk in sbwhy.sections(rs.dir, outdir):  # issue 22's "why" sections, where their data exists
        getattr(d, blk[0])(*blk[1:])
    d.h(2, "Charts")
    more = []
    for name, cap, embed in ch.made:
        if name in shown:
            continue
        if embed:
            show(name)
        else:
            more.append((cap, name + ".png"))
    if more:
        d.links("Not shown above (intermediate numjobs): ", more)
    if ch.notes:
        d.ul(ch.notes)
    d.h(2, "Emulated timings (TCG)" if rs.emulated else "Medians")
    d.p(("Emulated timings: not speeds, ranked nowhere. " if rs.emulated else "") +
        "Median GB/s (10^9 B/s) over the repeats, min-max in brackets; [fallback] marks a point whose daemon "
        "copied part or all of the data instead of splicing it.")
    d.table(*medians_table(rs))
    if cr:
        d.h(2, "CPU per point")
        d.p("Every point's CPU parts in s/GB (3 significant digits), their sum, cores x wall and the check.")
        d.table(ch_, cr)
    if rs.cost_cols:
        d.h(2, "Cost counters per point")
        d.p("Every cost column of the QEMU plugin, per byte delivered (the charts show bytes moved and "
            "instructions; the rest is here).")
        d.table(*cost_table(rs))
    if pairs:
        emu = pairs[0]["emulated"]
        d.h(2, "A vs B per point")
        if emu:
            d.table(["point", "data path", "bs", "numjobs", "A bytes moved / B", "B bytes moved / B", "change",
                     "verdict"],
                    [[p["label"], group_name((p["a"]["source"], p["a"]["path"], p["a"]["direct"])),
                      bs_label(p["a"]["bs"]), p["a"]["numjobs"], fig(p["a"].get(R.COST_MOVED)),
                      fig(p["b"].get(R.COST_MOVED)), "" if p["delta_pct"] is None else f"{p['delta_pct']:+.1f} %",
                      (p["verdict"], p["why"])] for p in pairs])
        else:
            d.table(["point", "data path", "bs", "numjobs", "A GB/s", "B GB/s", "change", "significant",
                     "A CPU s/GB", "B CPU s/GB"],
                    [[p["label"], group_name((p["a"]["source"], p["a"]["path"], p["a"]["direct"])), bs_label(p["a"]["bs"]),
                      p["a"]["numjobs"], f"{p['a']['gbps_median']:.2f}", f"{p['b']['gbps_median']:.2f}",
                      f"{p['delta_pct']:+.1f} %", ("yes" if p["significant"] else "no", p["why"]),
                      fig(p["a"].get("cpu_total_s_per_gb")), fig(p["b"].get("cpu_total_s_per_gb"))]
                     for p in pairs])
        with open(os.path.join(outdir, "compare.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["point", "label", "gbps_a", "gbps_b", "gbps_delta_pct", "gbps_verdict", "significant",
                        "cpu_a", "cpu_b"])
            for p in pairs:
                if emu:  # never compared by time: the GB/s columns stay empty
                    w.writerow([p["a"].get("point", ""), p["label"], "", "", "",
                                "not compared (emulated, TCG)", "no", "", ""])
                    continue
                w.writerow([p["a"].get("point", ""), p["label"], p["a"]["gbps_median"], p["b"]["gbps_median"],
                            f"{p['delta_pct']:.3f}", p["verdict"], "yes" if p["significant"] else "no",
                            "" if p["a"].get("cpu_total_s_per_gb") is None else p["a"]["cpu_total_s_per_gb"],
                            "" if p["b"].get("cpu_total_s_per_gb") is None else p["b"]["cpu_total_s_per_gb"]])
    hosts = rs.meta.get("hosts")
    if isinstance(hosts, dict) and any(isinstance(h, dict) for h in hosts.values()):
        d.h(2, "Hosts")
        d.p("What each machine was when the run started (scripts/hostinfo; the NIC is the one "
            "towards the data server).")
        d.table(["role", "host", "kernel", "CPU", "NIC", "MTU", "offloads (TSO/GSO/GRO)", "FUSE_OUT_SPLICES"],
                host_rows(hosts))
    d.h(2, "Run metadata (meta.json)")
    meta = [(k, v) for k, v in flat({k: v for k, v in rs.meta.items() if k != "matrix_text"})]
    meta.append(("points", ", ".join(f"{n} {s}" for s, n in nst.items())))
    d.table(["key", "value"], meta)
    if isinstance(rs.meta.get("matrix_text"), str):
        d.p("Matrix: " + " / ".join(ln.strip() for ln in rs.meta["matrix_text"].splitlines()
                                     if ln.strip() and not ln.lstrip().startswith("#")))
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(d.md())
    with open(os.path.join(outdir, "report.html"), "w") as f:
        f.write(d.html(title))


def host_rows(hosts):
    """One row per host of meta.json's hosts (client first, then server)."""
    rows = []
    for role in sorted(hosts, key=lambda r: (r != "client", r)):
        h = hosts[role]
        if not isinstance(h, dict):
            continue
        off = h.get("offload") if isinstance(h.get("offload"), dict) else {}
        nic = " ".join(x for x in (h.get("iface", ""), h.get("driver", ""), h.get("firmware", "")) if x)
        fos = str(h.get("fuse_out_splices", ""))
        rows.append([role, h.get("hostname", ""), h.get("kernel", ""),
                     f"{h.get('cpu_model', '')}, {h.get('cores', '?')} cores",
                     nic, h.get("mtu", ""),
                     "/".join((off.get(k) or "?").split(" ")[0] for k in ("tso", "gso", "gro")),
                     fos.split(" (")[0].replace("FUSE_OUT_SPLICES: ", "")])
    return rows


# ---------------------------------------------------------------- chart check

MIN_PLOT_PX = 150  # a panel's plot area at least this tall (pixels of the PNG)
MIN_SHARE = 0.1    # the data span at least this share of the plot height


def check_charts(outdir):
    """Each chart's data against the axes gnuplot drew (src/NAME.check.json, written by
    render): no point outside the x or y range, the data not squashed into less than a
    tenth of the plot height (from 0 for bars and lines drawn from 0; in log space on a log
    axis), and every panel's plot area at least MIN_PLOT_PX tall.  Returns (charts, panels,
    [problem lines]); a chart drawn without its check file is a problem too."""
    src = os.path.join(outdir, "src")
    probs, nch, npan = [], 0, 0
    pngs = sorted(n[:-4] for n in os.listdir(outdir) if n.endswith(".png"))
    for name in pngs:
        cj = os.path.join(src, name + ".check.json")
        try:
            with open(cj) as f:
                c = json.load(f)
        except (OSError, ValueError) as e:
            probs.append(f"{name}: no readable check file ({e})")
            continue
        nch += 1
        if not c.get("panels"):
            probs.append(f"{name}: no panel recorded")
        for p in c.get("panels") or []:
            npan += 1
            what = f"{name} [{p.get('panel')}]"
            ax = p.get("axis")
            if not ax:
                probs.append(f"{what}: gnuplot printed no axis ranges")
                continue
            ys = [float(v) for v in p.get("ys") or []]
            if not ys:
                probs.append(f"{what}: no data")
                continue
            y0, y1 = ax["ymin"], ax["ymax"]
            tol = 1e-6 * max(abs(y0), abs(y1), 1e-12)
            out = [v for v in ys if v < y0 - tol or v > y1 + tol]
            if out:
                probs.append(f"{what}: {len(out)} value(s) outside the y axis [{y0:g}, {y1:g}], e.g. {out[0]:g}")
            xs = [float(v) for v in p.get("xs") or []]
            xt = 1e-6 * max(abs(ax["xmin"]), abs(ax["xmax"]), 1e-12)
            xo = [v for v in xs if v < ax["xmin"] - xt or v > ax["xmax"] + xt]
            if xo:
                probs.append(f"{what}: {len(xo)} value(s) outside the x axis [{ax['xmin']:g}, {ax['xmax']:g}], "
                             f"e.g. {xo[0]:g}")
            if p.get("log"):
                if min(ys) <= 0 or y0 <= 0:
                    probs.append(f"{what}: a value <= 0 on a log axis")
                    continue
                f_ = lambda v: math.log10(v)  # noqa: E731
            else:
                f_ = lambda v: v  # noqa: E731
            lo = f_(y0) if p.get("zero") and not p.get("log") and y0 <= 0 <= y1 else f_(min(ys))
            if p.get("zero") and not p.get("log"):
                lo = min(lo, f_(max(y0, 0)))
            span = (f_(max(ys)) - lo) / (f_(y1) - f_(y0)) if f_(y1) > f_(y0) else 0
            if max(ys) > min(ys) or p.get("zero"):
                if span < MIN_SHARE:
                    probs.append(f"{what}: the data span {span:.1%} of the plot height (less than "
                                 f"{MIN_SHARE:.0%}): squashed")
            px = ax["term_ymax"] - ax["term_ymin"]
            if px < MIN_PLOT_PX:
                probs.append(f"{what}: plot area {px:.0f} px tall (less than {MIN_PLOT_PX})")
    return nch, npan, probs


def check_main(argv):
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: sbplots.py check OUTDIR   (a directory plots/plot or plots/report wrote)", file=sys.stderr)
        return 2
    nch, npan, probs = check_charts(argv[0])
    for p in probs:
        print(f"{PROG}: chart check: {p}")
    print(f"{PROG}: chart check: {nch} charts, {npan} panels, {len(probs)} problem(s)")
    return 1 if probs or not nch else 0


# ---------------------------------------------------------------- CLI

USAGE = {
    "plot": "usage: plots/plot DIR [--compare OTHER_DIR] [--out OUTDIR]   (default OUTDIR: DIR/plots)",
    "report": "usage: plots/report DIR [--compare OTHER_DIR] [--out OUTDIR]   (default OUTDIR: DIR/report)",
}


def main(cmd, argv):
    ap = argparse.ArgumentParser(prog=f"plots/{cmd}", description=(
        "every chart of a result set, PNG and SVG" if cmd == "plot" else "charts plus report.md and report.html")
        + "; see plots/README.md for what each chart shows and does not.")
    ap.add_argument("dir", metavar="DIR", help="a result set from bench/run")
    ap.add_argument("--compare", metavar="OTHER_DIR", help="a second result set (B) to compare with")
    ap.add_argument("--out", metavar="OUTDIR", help=f"default DIR/{'plots' if cmd == 'plot' else 'report'}")

    def err(msg):
        print(f"{PROG}: {msg} ({USAGE[cmd]})", file=sys.stderr)
        sys.exit(2)
    ap.error = err
    a = ap.parse_args(argv)
    d, other, out = a.dir, a.compare, a.out
    if shutil.which("gnuplot") is None:
        print(f"{PROG}: needs gnuplot (scripts/deps)", file=sys.stderr)
        return 2
    out = out or os.path.join(d, "plots" if cmd == "plot" else "report")
    stage = None
    try:
        rs = load_set(d)
        rb = load_set(other) if other else None
        parent = os.path.dirname(os.path.abspath(out))
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=".sbplots-", dir=parent)
        build(rs, stage, rb, report=(cmd == "report"))
        # Everything rendered: move it into place, the report pages last.
        os.makedirs(out, exist_ok=True)
        if os.path.isdir(os.path.join(out, "src")):
            shutil.rmtree(os.path.join(out, "src"))
        for n in os.listdir(out):  # charts of an earlier run that this one does not draw
            if n.startswith(CHART_PREFIXES) and n.endswith((".png", ".svg")) or n == "compare.csv":
                os.remove(os.path.join(out, n))
        last = {"report.md", "report.html"}
        names = sorted(os.listdir(stage), key=lambda n: n in last)
        for n in names:
            os.replace(os.path.join(stage, n), os.path.join(out, n))
        print(f"{PROG}: {len([n for n in names if n.endswith('.png')])} charts"
              + (", report.md, report.html" if cmd == "report" else "") + f" in {out}")
        return 0
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    finally:
        if stage and os.path.isdir(stage):
            shutil.rmtree(stage, ignore_errors=True)


def plot_cli(argv):
    """plots/plot: python3 -m splicebench plot DIR [--compare OTHER_DIR] [--out OUTDIR]"""
    return main("plot", argv)


def report_cli(argv):
    """plots/report: python3 -m splicebench report DIR [--compare OTHER_DIR] [--out OUTDIR]"""
    return main("report", argv)
