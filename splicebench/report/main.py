"""splicebench charts and report, the command line: reads a result set (points.csv,
meta.json, baseline.jsonl), draws every chart (charts.py, through gnuplot.py) and, for
`report`, writes report.md / report.html (report.py).

Python standard library only; gnuplot draws every chart.  Entry points are plots/plot and
plots/report (python3 -m splicebench plot|report; see plots/README.md).  Every number in
the text comes from the input files; the only constant is the definition of 100G
Ethernet's line rate (100e9 bit/s / 8 = 12.5 GB/s, dataset.py).

The modules, one role each: dataset (loading, modes, paths), palette (colours), fmt
(numbers), judge (the verdict door: every verdict and its mark), gnuplot (scripts and the
runner), charts, tables, pipes ("where one pipe is not enough"), compare (two sets), doc
(the Markdown/HTML writer), report (the sections in order), checks (the chart check)."""

import argparse
import os
import shutil
import sys
import tempfile

from ..results import InputError
from . import dataset
from .charts import Charts
from .compare import match_sets
from .dataset import PROG, load_set
from .report import SECTIONS, write_report  # noqa: F401  (SECTIONS: the hook others append to)

CHART_PREFIXES = ("gbps-bs-", "cpu-", "scaling-", "latency-", "cost-", "compare-", "pipe-cost")


def build(rs, outdir, rb=None, report=False):
    """Draws every chart into outdir; with report, writes report.md/html there too."""
    dataset.use(rs)
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
