"""The gnuplot runner: a chart is a data file and a script in OUTDIR/src (with the shared
look, style.gp), drawn by gnuplot as PNG and SVG; the axis ranges gnuplot chose are kept in
src/NAME.check.json for the chart check (checks.py).  Also the pieces every chart's script
shares (block-size axis, reference lines, notes, clustered bars)."""

import json
import os
import subprocess
import sys

from ..results import bs_label
from .dataset import PROG

W, H = 1400, 760


def gp_str(s):
    """A gnuplot double-quoted string literal."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def num(v):
    return "NaN" if v is None else repr(float(v))


class Gnuplot:
    """Renders charts into outdir (src/ for the sources); remembers what it drew (made),
    what the report links to instead of showing (extra) and notes for the report."""

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

    def _offset(self, i, n):
        return 2 ** (0.045 * (i - (n - 1) / 2))  # spread series sideways so error bars do not overlap

    @staticmethod
    def _notes(notes):
        return "".join(f"set label {gp_str(n)} at graph 0.01, graph {0.97 - 0.05 * i} left front tc rgb '#d62728'\n"
                       for i, n in enumerate(notes))

    # --- clustered bars (the cost charts)
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
