"""Two result sets (--compare): the points both measured, matched on the axes both have,
each judged through judge.py (by the between-runs rule; by cost per byte where either set
ran emulated); the report's comparison section, its A-vs-B table and compare.csv."""

import csv
import os

from .. import results as R
from ..results import bs_label
from . import judge
from .dataset import group_name, series_params
from .fmt import fig, jobs


def match_sets(ra, rb):
    """Points present (status ok) in both sets, matched on the axes both have, with the
    noise rule's verdict (judge.verdict).  Where either set ran emulated (TCG) nothing is compared
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
            v = judge.verdict(a, b, "cost", target, name, get)
        else:
            d = 100.0 * (b["gbps_median"] - a["gbps_median"]) / a["gbps_median"] if a["gbps_median"] else 0.0
            v = judge.verdict(a, b, "gbps", target, runs=(ra, rb, control))
        verdict, why = v["outcome"], v["reason"]
        if v.get("estimate") is not None:  # the change shown is the judged shift, not raw medians
            d = 100.0 * (v["estimate"] - 1)
        sig = judge.beyond_noise(verdict)
        label = a["mode"] + "".join(f" {p}={a.get(p)}" for p in series_params()
                                    if len({r.get(p) for r in ra.ok if r["mode"] == a["mode"]}) > 1)
        pairs.append({"a": a, "b": b, "delta_pct": d, "significant": sig, "verdict": verdict, "why": why, "judged": v,
                      "label": label, "emulated": emu, "control": control})
    return pairs


def section(d, rs, rb, pairs):
    """The comparison section: what was matched, how it was judged, the largest change."""
    emu = rs.emulated or rb.emulated
    d.h(2, f"Comparison: A = {rs.name}, B = {rb.name}")
    d.p(f"A: {rs.title()}. B: {rb.title()}.")
    if emu:
        d.warn("one set or both ran emulated (TCG): the sets are compared by cost per byte delivered "
               "only, never by time")
    if pairs:
        sig = [p for p in pairs if p["significant"]]
        what = "bytes moved per byte delivered" if emu else "GB/s"
        rule = judge.rule_text("cost" if emu else "between")
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


def appendix(d, pairs, outdir):
    """The appendix's A vs B table, one row per matched point, and compare.csv beside the report."""
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
