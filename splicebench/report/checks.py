"""The chart check: each chart's data against the axes gnuplot drew (python3 -m splicebench
check OUTDIR; the ranges come from src/NAME.check.json, written by gnuplot.py's render)."""

import json
import math
import os
import sys

from .dataset import PROG


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
        print("usage: python3 -m splicebench check OUTDIR   (a directory plots/plot or plots/report wrote)", file=sys.stderr)
        return 2
    nch, npan, probs = check_charts(argv[0])
    for p in probs:
        print(f"{PROG}: chart check: {p}")
    print(f"{PROG}: chart check: {nch} charts, {npan} panels, {len(probs)} problem(s)")
    return 1 if probs or not nch else 0
