"""The verdict door: every verdict the report prints is asked for here, and its mark and
words come from here (the table cells, the legends).  The rule itself lives in
splicebench/verdict.py, reached through splicebench/results.py; a new rule, or a new way
of showing a verdict, changes this module only."""

import re

from .. import results as R
from . import dataset

MARK = {"better": "\u25b2", "worse": "\u25bc", "within noise": "\u2248", "not compared": "-"}


def verdict(a, b, kind="gbps", target=None, metric=None, get=None, runs=None):
    """Every verdict plots/ prints goes through here: B (row b) against A (row a) ->
    (verdict, why), verdict one of better / worse / within noise / not compared.
    kind: 'gbps' (higher is better), 'cpu' (per-repeat CPU s/GB, lower is better), 'cost'
    (metric, get: a cost per byte, lower is better).  Time ('gbps', 'cpu') is never
    compared where either side ran emulated (env tcg).  The rule itself lives in
    splicebench/verdict.py (through results.py); another rule changes this function only."""
    target = dataset.CUR.cv_target if target is None and dataset.CUR else (target or 0.05)
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


def rule_text(kind="gbps"):
    """The noise rule in words, from splicebench/verdict.py (the same door as verdict)."""
    return R.COST_RULE if kind == "cost" else R.BETWEEN_RULE if kind == "between" else R.RULE


def beyond_noise(vd):
    """Whether a verdict calls a difference (a significant one: marked, bold in the A/B chart)."""
    return vd in ("better", "worse")


def verdict_cell(ratio, vd, why, notes, what, sides=None):
    """'1.21x ▲' / '0.98x ≈[2]' (the reason in a note and on hover); sides (A, B) names the
    rule's 'A:' and 'B:' in the reason."""
    txt = f"{ratio:.2f}x {MARK.get(vd, '?')}"
    if sides and why:
        why = re.sub(r"\bA(:| has\b)", sides[0] + r"\1", re.sub(r"\bB(:| has\b)", sides[1] + r"\1", why))
    if beyond_noise(vd):
        return (txt, f"{vd}: beyond noise")
    if vd == "not compared":  # one reason for the whole table (no per-repeat figures, emulated)
        return (txt + notes.ref(f"not compared: {why}"), f"{vd}: {why}")
    return (txt + notes.ref(f"{what}: {vd}" + (f" ({why})" if why else "")), f"{vd}: {why}")


def marks_words(better=""):
    """The marks in words, for a table's legend: '▲ better, ▼ worse, ≈ within noise'."""
    return f"{MARK['better']} better{better}, {MARK['worse']} worse, {MARK['within noise']} within noise"


def marks_legend(base):
    """The headline tables' legend of the ratio column and its marks."""
    return (f"x {base}: against {base} at the same axes, {marks_words()} (why: the numbered note; on hover in "
            "report.html). spliced: the share of its bytes a splicing mode spliced. Largest block size first.")
