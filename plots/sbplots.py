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
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import sbresults as R  # noqa: E402  (shared with bench/sbstat.py: loading, axes, matching, noise rule)
from sbresults import InputError, bs_label, copied_share  # noqa: E402
import sbwhy  # noqa: E402  (issue 22: profiles, cost by symbol, projection; plots/sbwhy.py)

PROG = "plots"
LINE_RATE_GBPS = 100e9 / 8 / 1e9  # 100G Ethernet, GB/s (1e9 B/s), unless meta.json has line_rate_gbps

# Series within a mode: split further when these vary inside the mode.
SERIES_PARAMS = ["ioengine", "iodepth", "pipes", "pipe_size", "privilege", "pipe_max_size", "verify"]
W, H = 1400, 760
ENV_NAME = {"native": "native", "kvm": "KVM", "vm": "VM", "tcg": "TCG (emulated: absolute speeds meaningless)"}
TCG_NOTE = "emulated: absolute speeds are meaningless, only ratios within this run compare"


CHART_PREFIXES = ("gbps-bs-", "cpu-", "scaling-", "latency-", "cost-", "compare-")

# The result set being drawn (its modes, colours and copy modes); set by build().
CUR = None


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
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


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

    def render(self, name, data_blocks, body, caption, w=W, h=H):
        """data_blocks: list of lists of rows (tab-separated); body: gnuplot commands using `dat`."""
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
        for fmt in ("png", "svg"):
            p = subprocess.run(["gnuplot", "-e", f"fmt='{fmt}'", name + ".gp"], cwd=self.src,
                               capture_output=True, text=True)
            msgs = [ln for ln in p.stderr.splitlines() if ln.strip()]
            if p.returncode != 0:
                raise RuntimeError(f"gnuplot failed on {gp}: {' '.join(msgs[-3:])}")
            for m in msgs:
                print(f"{PROG}: gnuplot ({name}.{fmt}): {m}", file=sys.stderr)
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
        body += "plot " + ", \\\n     ".join(terms + rterms) + "\n"
        cap = f"GB/s against block size, {group_name(key)}, {jobs(nj)}"
        self.render(name, blocks, body, cap)

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
                    lab = s["label"] + ("*" if fell_back(r) else "") + (" (!)" if prob else "")
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
                panels.append((bs, ymax, terms))
            maxlen = max(len(s["label"]) + 5 for s in sers)
            n = len(panels)
            right = 0.80  # the key sits right of the last panel
            width = (right - 0.07) / n
            body = ("set style data histograms\nset style histogram rowstacked\n"
                    "set style fill solid 0.9 border rgb '#333333'\nset boxwidth 0.75 relative\n"
                    "set xtics rotate by 90 right nomirror scale 0\nset grid noxtics ytics\n"
                    f"set bmargin {0.6 * maxlen + 3.2:.1f}\nset tmargin 5\n"
                    "set multiplot title " +
                    gp_str(f"CPU seconds per GB delivered, the mode's own parts: {group_name(key)}, {jobs(nj)}") +
                    f" . \"\\n\" . {gp_str(self.rs.title())}\n")
            note = []
            if flagged:
                note.append("* fell back to copying for part or all of its replies")
            note.append("rest = rest of machine (s/GB), never part of a mode's cost")
            if bad:
                note.append("(!) CPU parts exceed cores x wall time: see the report")
            for i, (bs, ymax, terms) in enumerate(panels):
                body += (f"set lmargin at screen {0.07 + i * width:.4f}\n"
                         f"set rmargin at screen {0.07 + (i + 1) * width - 0.035:.4f}\n"
                         f"set yrange [0:{ymax}]\n"
                         f"set xlabel {gp_str('bs ' + bs_label(bs))} font ',12'\n"
                         + ("set ylabel 'CPU seconds per GB delivered (s/GB)'\n" if i == 0 else "unset ylabel\n")
                         + ("set key at screen 0.99, screen 0.85 right top nobox\n" if i == n - 1 else "unset key\n")
                         + (f"set label 1 {gp_str('; '.join(note))} "
                            "at screen 0.07, screen 0.90 left front tc rgb '#d62728'\n" if i == 0
                            else "unset label 1\n")
                         + "plot " + ", \\\n     ".join(terms) + "\n")
            body += "unset multiplot\n"
            self.render(f"cpu-{group_slug(key)}-j{nj}", blocks, body,
                        f"CPU s/GB by part, {group_name(key)}, {jobs(nj)} (rest of machine apart)")

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
            body += "plot " + ", \\\n     ".join(terms + rterms) + "\n"
            self.render(f"scaling-{group_slug(key)}", blocks, body,
                        f"GB/s against numjobs, {group_name(key)}, " + " and ".join(bs_label(b) for b in picks))

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
            body += "plot " + ", \\\n     ".join(terms) + "\n"
            self.render(f"latency-{group_slug(key)}-j{nj}", blocks, body,
                        f"latency p50/p99, {group_name(key)}, {jobs(nj)}")

    # --- 6. cost per byte (QEMU plugin columns)
    def cost(self):
        if not self.rs.cost_cols:
            self.notes.append("Cost chart: the result set has no cost_* columns (QEMU plugin), not drawn")
            return
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj]
            cols = [c for c in self.rs.cost_cols if any(r.get(c) is not None for r in sel)]
            if not cols:
                self.notes.append(f"Cost chart for {group_name(key)}: no cost_* values, not drawn")
                continue
            sers = series_of(sel)
            blocks = []
            for i, s in enumerate(sers):
                srows = sorted(s["rows"], key=lambda r: r["bs"])
                k = self._offset(i, len(sers))
                blocks.append([(r["bs"] * k,) + tuple(num(r.get(c)) for c in cols) for r in srows])
            fb = [(r["bs"] * self._offset(i, len(sers)),) + tuple(num(r.get(c)) for c in cols)
                  for i, s in enumerate(sers) for r in s["rows"] if fell_back(r)]
            if fb:
                blocks.append(fb)
            ncol = 2 if len(cols) > 1 else 1
            nrow = math.ceil(len(cols) / ncol)
            body = self.bs_axis([r["bs"] for r in sel])
            body += ("set key off\nset yrange [0:*]\nset format y '%g'\n"
                     f"set multiplot layout {nrow},{ncol} margins 0.08,0.97,{0.08 + 0.06 * math.ceil(len(sers) / 4)},0.88 spacing 0.09,0.12 "
                     f"title {gp_str(f'Cost per byte delivered (QEMU plugin): {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                     f"{gp_str(self.rs.title())}\n"
                     "set xlabel 'block size' offset 0,0.5\n")
            for ci, c in enumerate(cols):
                what = cost_name(c)
                body += f"set title {gp_str(what + ' per byte delivered')}\nset ylabel {gp_str(what + ' / byte')}\n"
                if ci == len(cols) - 1:
                    body += ("set key at screen 0.5, screen 0.02 center bottom horizontal maxrows 1 "
                             "width 2 box opaque\n")
                terms = [f"dat index {i} using 1:{ci + 2} with linespoints lw 2 pt 7 lc rgb '{s['color']}' "
                         f"title {gp_str(s['label'])}" for i, s in enumerate(sers)]
                if fb:
                    terms.append(f"dat index {len(sers)} using 1:{ci + 2} with points pt 6 ps 2.5 lw 2 "
                                 "lc rgb '#d62728' title 'fell back to copying'")
                body += "plot " + ", ".join(terms) + "\n"
            body += "unset multiplot\n"
            self.render(f"cost-{group_slug(key)}-j{nj}", blocks, body,
                        f"cost per byte delivered, {group_name(key)}, {jobs(nj)}", h=max(H, 330 * nrow + 160))

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
                    "set xlabel 'block size, grouped by reply mode; label: change of B against A (* beyond noise: "
                    "n >= 3, CV under target, ranges apart, change > 2 stdev)' . (anyfb ? '; fb: fell back to copying' : '') offset 0,-1.5\nset bmargin 7\n"
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
            body += "\n"
            self.render(f"compare-{group_slug(key)}-j{nj}", [rows], body,
                        f"A vs B, {group_name(key)}, {jobs(nj)}", w=max(W, 60 * len(rows) + 200))


def match_sets(ra, rb):
    """Points present (status ok) in both sets, matched on the axes both have, with the
    shared noise rule's verdict (bench/sbresults.py)."""
    target = min(ra.cv_target, rb.cv_target)
    pairs = []
    for a, b in R.match_sets(ra, rb):
        if a["status"] != "ok" or b["status"] != "ok":
            continue
        d = 100.0 * (b["gbps_median"] - a["gbps_median"]) / a["gbps_median"] if a["gbps_median"] else 0.0
        verdict, why = R.verdict(a, b, target)
        sig = verdict in ("better", "worse")
        label = a["mode"] + "".join(f" {p}={a.get(p)}" for p in SERIES_PARAMS
                                    if len({r.get(p) for r in ra.ok if r["mode"] == a["mode"]}) > 1)
        pairs.append({"a": a, "b": b, "delta_pct": d, "significant": sig, "verdict": verdict, "why": why,
                      "label": label})
    return pairs


SIG_RULE = R.RULE + " (bench/sbresults.py, as bench/compare)"


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
                out.append("| " + " | ".join(b[1]) + " |\n|" + "|".join("---" for _ in b[1]) + "|\n" +
                           "\n".join("| " + " | ".join(md_cell(c) for c in r) + " |" for r in b[2]))
            elif b[0] == "img":
                out.append(f"![{b[2]}]({b[1]}.png)\n\n*{b[2]}* ([SVG]({b[1]}.svg))")
        return "\n\n".join(out) + "\n"

    def html(self, title):
        e = html.escape
        out = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>",
               "<style>body{font-family:sans-serif;max-width:1250px;margin:1em auto;padding:0 1em;line-height:1.4}"
               "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
               "th{background:#eee}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}"
               ".warn{background:#fdd;border:3px solid #c00;padding:.6em;font-weight:bold;font-size:120%}"
               "figure{margin:1em 0}</style></head><body>"]
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
                out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in b[1]) + "</tr>" +
                           "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in b[2]) +
                           "</table>")
            elif b[0] == "img":
                out.append(f"<figure><a href=\"{e(b[1])}.svg\"><img src=\"{e(b[1])}.png\" alt=\"{e(b[2])}\"></a>"
                           f"<figcaption>{e(b[2])}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def cpu_name(m):
    c = m.get("cpu")
    return m.get("cpu_model") or (c.get("model") if isinstance(c, dict) else c) or "?"


def md_cell(c):
    return str(c).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " / ")


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
    """Comparable groups of ok rows (same axes but mode) -> [(axes dict, {mode: row}, notes)],
    one row per mode chosen by sbresults.pick_row (named in notes)."""
    out = []
    for key, g in R.comparable_groups(rows, rs.match_axes(), vary="mode").items():
        at, notes = {}, []
        for m, mrows in g.items():
            if m is None:
                continue
            at[m], n = R.pick_row(mrows, rs.cv_target)
            if n:
                notes.append(f"{m} {n}")
        out.append((g[None], at, notes))
    return out


def where_words(axes):
    return R.axes_words(axes, skip=("mode",) + tuple(R.MODE_OWN_AXES))


def label(rs, r):
    return R.mode_label(r, rs.copy_modes)


def headlines(rs):
    """Plain sentences with the run's headline ratios, every figure from the data; a ratio is
    ranked only under the noise rule, and every sentence names the axes it compares."""
    out = []
    target = rs.cv_target
    for key, rows in rs.groups().items():
        nj = min(r["numjobs"] for r in rows)
        bs = max(r["bs"] for r in rows if r["numjobs"] == nj)
        sel = [r for r in rows if r["numjobs"] == nj and r["bs"] == bs]
        for axes, at, notes in kept_rows(rs, sel):
            # a network cost baseline is a reference, not a mode to rank (see pipe_sentences)
            modes = [m for m in rs.modes if m in at and m not in R.COST_BASELINE_MODES]
            if not modes:
                continue
            where = f"At {where_words(axes)}"
            kept = (" Row kept per mode: the same axes for every mode" + (f"; {'; '.join(notes)}" if notes else "")
                    + ".") if len(modes) > 1 else ""
            base = base_mode(rs, modes)
            if rs.emulated:
                for name, get in R.COST_METRICS:
                    vals = [(m, get(at[m])) for m in modes if get(at[m]) is not None]
                    if not vals:
                        continue
                    s = f"{where}, {name}: " + ", ".join(f"{label(rs, at[m])} {v:.3g}" for m, v in vals)
                    if base and get(at[base]):
                        rel = []
                        for m, v in vals:
                            if m == base:
                                continue
                            vd, why = R.cost_verdict(at[base], at[m], name, get, target)
                            rel.append(f"{m} {v / get(at[base]):.2f}x ({vd}{': ' + why if why and vd == 'within noise' else ''})")
                        if rel:
                            s += f"; against {base}: " + ", ".join(rel)
                    out.append(s + "." + kept)
                continue
            nb = rs.baseline_of(rows, key[1])
            if nb:
                parts = [f"{label(rs, at[m])} delivers {pct(100 * at[m]['gbps_median'] / nb)}" if i == 0
                         else f"{label(rs, at[m])} {pct(100 * at[m]['gbps_median'] / nb)}" for i, m in enumerate(modes)]
                out.append(f"{where}: {parts[0]} of the iperf3 TCP {key[1]} single-stream baseline "
                           f"({g2(nb)} GB/s)" + "".join("; " + p for p in parts[1:]) + ".")
            else:
                out.append(f"{where}: " + ", ".join(f"{label(rs, at[m])} {g2(at[m]['gbps_median'])} GB/s" for m in modes) + ".")
            if base and at[base]["gbps_median"] and len(modes) > 1:
                rel = []
                for m in modes:
                    if m == base:
                        continue
                    vd, why = R.verdict(at[base], at[m], target)
                    rel.append(f"{label(rs, at[m])} {at[m]['gbps_median'] / at[base]['gbps_median']:.2f}x "
                               f"({vd}{': ' + why if why else ''})")
                out.append(f"{where}, GB/s against {base}'s: " + ", ".join(rel) + "." + kept)
                cc = R.cpu_mode_cost(at[base])
                cpu = []
                for m in modes:
                    c = R.cpu_mode_cost(at[m])
                    if m == base or c is None or not cc:
                        continue
                    vd, why = R.spread_verdict(R.spread(R.run_cpu_values(at[base])), R.spread(R.run_cpu_values(at[m])),
                                               target, False)
                    cpu.append(f"{label(rs, at[m])} {c:.3f} s/GB ({100 * (c - cc) / cc:+.1f} %, "
                               f"{vd or 'not ranked: no per-repeat CPU figures'}{': ' + why if why else ''})")
                if cpu:
                    out.append(f"{where}, CPU per GB delivered (the mode's own parts, rest of machine apart): "
                               f"{base} {cc:.3f} s/GB; " + "; ".join(cpu) + ".")
    if rs.emulated:
        if rs.ok:
            out.append("Nothing here is ranked by time: this run is emulated (TCG); its timings are in the "
                       "table 'Emulated timings' and mean nothing as speeds.")
        return out
    best = {}
    for r in rs.ok:
        if not R.stable(r, target)[0]:
            continue
        if r["mode"] not in best or r["gbps_median"] > best[r["mode"]]["gbps_median"]:
            best[r["mode"]] = r
    for m in [m for m in rs.modes if m in best]:
        b = best[m]
        out.append(f"At its best point (n >= 3, CV under {target:g}), {label(rs, b)} reaches "
                   f"{pct(100 * b['gbps_median'] / rs.line_rate)} of 100G line rate "
                   f"({g2(b['gbps_median'])} of {rs.line_rate:g} GB/s; {R.axes_words(b, skip=('mode',))}).")
    unstable = [m for m in rs.modes if m not in best and any(r["mode"] == m for r in rs.ok)]
    if unstable:
        out.append("No line-rate figure for " + ", ".join(unstable) + f": none of its points has n >= 3 and "
                   f"CV under {target:g}.")
    return out


def fallbacks_hidden(r):
    """The daemon cannot see its own fallbacks (libfuse-ref: libfuse copies silently)."""
    v = r.get("fallbacks_visible")
    return v is not None and v != "" and str(v).lower() in ("false", "0")


def fallback_sentences(rs):
    out = []
    for m in [m for m in rs.modes if m not in rs.copy_modes and any(r["mode"] == m for r in rs.ok)]:
        mr = [r for r in rs.ok if r["mode"] == m]
        if any(fallbacks_hidden(r) for r in mr):
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


def cpu_table(rs):
    """Per point: the CPU parts, their sum, cores x wall, and the check (sum <= it)."""
    parts = [p for p in R.CPU_PARTS if any(p[0] in R.cpu_parts(r) for r in rs.ok)]
    head = (["point"] + [p[1] for p in parts] + ["sum of the parts (the mode's cost; softirq only where it is a part of its own)",
                                                 "cores x wall", "check"])
    rows, bad = [], []
    for r in rs.ok:
        cp = R.cpu_parts(r)
        if not cp:
            continue
        s, cap, prob = R.cpu_check(r)
        if prob:
            bad.append(f"{R.axes_words(r)}: {prob}")
        rows.append([R.axes_words(r)] + [f"{cp[p[0]]:.4g}" if p[0] in cp else "" for p in parts]
                    + [f"{s:.4g}", f"{cap:.4g}" if cap is not None else "not in the data",
                       ("VIOLATED: " + prob) if prob else ("ok" if cap is not None else "cannot check")])
    return head, rows, bad


def reference_sentences(rs):
    """splicefs's modes against the reference programs' (e.g. libfuse-ref), per bs."""
    pairs = R.reference_pairs(rs.programs, rs.modes)
    out = []
    if not pairs:
        return out
    target = rs.cv_target
    for key, rows in rs.groups().items():
        for axes, at, notes in kept_rows(rs, rows):
            for ours, ref in pairs:
                if ours not in at or ref not in at:
                    continue
                a, b = at[ref], at[ours]
                where = where_words(axes)
                if rs.emulated:
                    parts = []
                    for name, get in R.COST_METRICS:
                        if get(a) and get(b) is not None:
                            vd, why = R.cost_verdict(a, b, name, get, target)
                            parts.append(f"{name} {get(b):.3g} vs {get(a):.3g} ({get(b) / get(a):.2f}x, "
                                         f"{vd}{': ' + why if why and vd == 'within noise' else ''})")
                    if parts:
                        out.append(f"{label(rs, b)} against {label(rs, a)} at {where}: " + "; ".join(parts) + ".")
                    continue
                vd, why = R.verdict(a, b, target)
                out.append(f"{label(rs, b)} against {label(rs, a)} at {where}: {b['gbps_median'] / a['gbps_median']:.2f}x "
                           f"({g2(b['gbps_median'])} vs {g2(a['gbps_median'])} GB/s; {vd}{': ' + why if why else ''}).")
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
            s += (f"{statistics.median(slot):.0f} bytes per pipe slot (median of {len(slot)} splicing points, "
                  f"{min(slot):.0f}-{max(slot):.0f})")
        else:
            s += "no point spliced through a pipe slot (bytes_per_slot not in the data or 0)"
        if probe:
            s += f"; the socket-to-pipe probe measured {statistics.median(probe):.0f} bytes per slot"
        out.append(s + ".")
        for axes, at, notes in kept_rows(rs, rows):
            where = where_words(axes)
            shares = []
            for m in [m for m in rs.modes if m in at and m not in rs.copy_modes]:
                r = at[m]
                tot = (r.get("bytes_spliced") or 0) + (r.get("bytes_copied") or 0)
                if not tot or m in R.COST_BASELINE_MODES:
                    continue
                sh = r.get("spliced_share")
                sh = 100 * sh if isinstance(sh, (int, float)) else 100 * (r.get("bytes_spliced") or 0) / tot
                why = R.fallback_reasons(r)
                if fallbacks_hidden(r):
                    shares.append(f"{m} asked libfuse to splice {sh:.0f} % of its bytes (what libfuse "
                                  "really spliced cannot be seen)")
                    continue
                shares.append(f"{m} spliced {sh:.0f} % of its bytes" + (
                    "" if sh >= 100 else f" (fell back: {why})" if why else " (no fallback reason in the counters)"))
            # privilege=root does not say whether pipes may grow: root in a container
            # may lack CAP_SYS_RESOURCE, and then pipe-max-size binds it as it binds a user
            nocap = sorted(m for m in at if str(at[m].get("cap_sys_resource", "")).lower() in ("false", "0"))
            if shares and nocap and axes.get("privilege", "root") == "root":
                shares.append(f"the daemon ran as root without CAP_SYS_RESOURCE ({', '.join(nocap)}), so "
                              "its pipes obeyed pipe-max-size as an unprivileged daemon's do")
            if shares:
                out.append(f"At {where}: " + "; ".join(shares) + ".")
            nb, nbsrc = _net_cost_baseline(rs, axes, at)
            for name, get in R.COST_METRICS:
                vals = [(m, get(at[m])) for m in rs.modes if m in at and get(at[m]) is not None
                        and m not in R.COST_BASELINE_MODES]
                if not vals:
                    continue
                txt = ", ".join(f"{label(rs, at[m])} {v:.3g}" + (f" ({v / nb:.2f}x the network's own {nb:.3g})"
                                                                 if nb and name.startswith("bytes moved") else "")
                                for m, v in vals)
                out.append(f"At {where}, {name}: {txt}.")
            if nb is None and any(get(at[m]) is not None for m in at for _, get in R.COST_METRICS):
                out.append(f"At {where}: no network cost baseline in the data (a plain TCP reader counted the "
                           "same way), so no multiple of the network's own cost.")
    return out


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


def write_report(rs, rb, pairs, ch, outdir):
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
    d.h(2, "Headlines")
    hl = headlines(rs)
    if rs.emulated:
        d.p("Emulated (TCG): every headline is a cost ratio (bytes moved and instructions per byte delivered, "
            "lower is better); nothing is ranked by time.")
    d.p(f"Noise rule: {R.COST_RULE if rs.emulated else R.RULE} (cv_target {rs.cv_target:g}).")
    d.ul(hl)
    if not hl:
        d.p("No headline figures: no point has status ok.")
    ref = reference_sentences(rs)
    if ref:
        d.h(2, "splicefs against the reference daemons")
        d.p("Each splicefs mode against the reference mode named after it (from the programs' --list), "
            "per block size, same axes, same run; " + ("cost ratios (emulated run)." if rs.emulated else
                                                        "GB/s ratios under the noise rule."))
        d.ul(ref)
    ps = pipe_sentences(rs)
    if any(r.get("bytes_per_slot") is not None or r.get("pipe_slots") is not None for r in rs.ok) or rs.cost_cols:
        d.h(2, "Where one pipe is not enough")
        d.p("Per path: how many bytes one pipe slot held, the share of bytes each splicing mode spliced "
            "(with the reasons it fell back), and the cost per byte delivered, as a multiple of the "
            "network's own cost where the data has a baseline.")
        d.ul(ps)
    d.h(2, "CPU per point")
    ch_, cr, bad = cpu_table(rs)
    for b in bad:
        d.warn("CPU parts exceed cores x wall time: " + b)
    if cr:
        d.p("CPU seconds per GB delivered, by part (cgroups: daemon, data server, fio; /proc/stat: softirq, "
            "kernel threads; everything else is rest of machine, never part of a mode's cost), their sum, "
            "and cores x wall time of the timed window: the sum must not exceed it."
            + (" Emulated run: CPU seconds here mean nothing as speeds." if rs.emulated else ""))
        d.table(ch_, cr)
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
        d.h(2, f"Comparison: A = {rs.name}, B = {rb.name}")
        d.p(f"A: {rs.title()}. B: {rb.title()}.")
        if pairs:
            sig = [p for p in pairs if p["significant"]]
            d.p(f"Of {len(pairs)} matched points (status ok in both, matched on {', '.join(a for a in rs.match_axes() if a in rb.header)}), "
                f"{len(sig)} differ significantly ({SIG_RULE}).")
            if sig:
                big = max(sig, key=lambda p: abs(p["delta_pct"]))
                a = big["a"]
                d.p(f"Largest significant change: {big['label']}, {group_name((a['source'], a['path'], a['direct']))}, "
                    f"{bs_label(a['bs'])}, {jobs(a['numjobs'])}: {a['gbps_median']:.2f} -> {big['b']['gbps_median']:.2f} GB/s "
                    f"({big['delta_pct']:+.1f} %).")
            if "tcg" in (rs.env, rb.env) and rs.env != rb.env:
                d.warn("one set is emulated (TCG): the absolute differences below are meaningless")
        else:
            d.p("No point matches between the two sets.")
    for blk in sbwhy.sections(rs.dir, outdir):  # issue 22's "why" sections, where their data exists
        getattr(d, blk[0])(*blk[1:])
    d.h(2, "Charts")
    more = []
    for name, cap, show in ch.made:
        if show:
            d.img(name, cap)
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
    if pairs:
        d.h(2, "A vs B per point")
        d.table(["point", "data path", "bs", "numjobs", "A GB/s", "B GB/s", "change", "significant",
                 "A CPU s/GB", "B CPU s/GB"],
                [[p["label"], group_name((p["a"]["source"], p["a"]["path"], p["a"]["direct"])), bs_label(p["a"]["bs"]),
                  p["a"]["numjobs"], f"{p['a']['gbps_median']:.2f}", f"{p['b']['gbps_median']:.2f}",
                  f"{p['delta_pct']:+.1f} %", "yes" if p["significant"] else "no",
                  "" if p["a"].get("cpu_total_s_per_gb") is None else f"{p['a']['cpu_total_s_per_gb']:.3f}",
                  "" if p["b"].get("cpu_total_s_per_gb") is None else f"{p['b']['cpu_total_s_per_gb']:.3f}"]
                 for p in pairs])
        with open(os.path.join(outdir, "compare.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["point", "label", "gbps_a", "gbps_b", "gbps_delta_pct", "gbps_verdict", "significant",
                        "cpu_a", "cpu_b"])
            for p in pairs:
                w.writerow([p["a"].get("point", ""), p["label"], p["a"]["gbps_median"], p["b"]["gbps_median"],
                            f"{p['delta_pct']:.3f}", p["verdict"], "yes" if p["significant"] else "no",
                            "" if p["a"].get("cpu_total_s_per_gb") is None else p["a"]["cpu_total_s_per_gb"],
                            "" if p["b"].get("cpu_total_s_per_gb") is None else p["b"]["cpu_total_s_per_gb"]])
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


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in USAGE:
        print("usage: sbplots.py plot|report DIR [--compare OTHER_DIR] [--out OUTDIR]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
