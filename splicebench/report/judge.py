"""The verdict door: every verdict the report prints is asked for here, and its mark and
words come from here (the table cells, the legends).  The judge itself lives in
splicebench/verdict.py, reached through splicebench/results.py; a new rule, or a new way
of showing a verdict, changes this module only."""

import re

from .. import results as R
from .. import verdict as V

NOT_COMPARED = "not compared"
MARK = dict(V.MARKS, **{NOT_COMPARED: "-"})
FAMILY = []  # every verdict this report stated: the judge's dicts (reset by start())


def start():
    """A new report: its family of verdicts starts empty."""
    FAMILY.clear()


def _not_compared(why):
    return {"outcome": NOT_COMPARED, "verdict": NOT_COMPARED, "reason": why, "mark": MARK[NOT_COMPARED],
            "estimate": None, "lo": None, "hi": None, "n": 0, "coverage": None}


def verdict(a, b, kind="gbps", target=None, metric=None, get=None, runs=None):
    """Every verdict plots/ prints goes through here: B (row b) against A (row a) -> the
    judge's dict (outcome, reason, estimate, lo, hi, mark); outcome one of the judge's five
    or 'not compared'.  kind: 'gbps' (higher is better), 'cpu' (per-round CPU s/GB, lower is
    better), 'cost' (metric, get: a cost per byte, lower is better).  Time ('gbps', 'cpu') is
    never compared where either side ran emulated (env tcg)."""
    if kind in ("gbps", "cpu") and "tcg" in (str(a.get("env")), str(b.get("env"))):
        return _not_compared("emulated (TCG): never compared by time")
    if kind == "gbps" and runs:  # two result sets: through a control (verdict.between_text)
        d = R.between(runs[0], runs[1], a, b, runs[2], "gbps", True)
    elif kind == "gbps":
        d = R.paired(a, b, "gbps", True)
    elif kind == "cpu":
        if not R.run_cpu_values(a) or not R.run_cpu_values(b):
            return _not_compared("no per-round CPU figures")
        d = R.paired(a, b, "cpu", False)
    else:
        va, vb = get(a), get(b)
        if va is None or vb is None or va <= 0:
            return _not_compared("no cost")
        d = R.cost_judged(a, b, metric)
    FAMILY.append(d)
    return d


def rule_text(kind="gbps"):
    """The rule in words, from splicebench/verdict.py (the same door as verdict)."""
    return R.COST_RULE if kind == "cost" else R.BETWEEN_RULE if kind == "between" else R.RULE


def family_text():
    """The family of verdicts this report stated, what their number means, and what this
    run's rounds at its spread can resolve (the paired verdicts' median per-round spread)."""
    outs = [d["outcome"] for d in FAMILY]
    counts = ", ".join(f"{outs.count(o)} {o}" for o in V.OUTCOMES if outs.count(o))
    paired = [d for d in FAMILY if d.get("kind") == "paired" and d.get("spread") is not None]
    pw = ""
    if paired:
        sds = sorted(d["spread"] for d in paired)
        ns = sorted(d["n"] for d in paired)
        pw = " " + V.power_text(ns[len(ns) // 2], sds[len(sds) // 2])
    stolen = [d for d in FAMILY if d.get("stolen")]
    st = (f" {len(stolen)} of them had host steal (1 % or more of a window's CPU) in some of their"
          " rounds; each names how many in its reason." if stolen else "")
    return V.family_text(len(FAMILY)) + (f" Outcomes: {counts}." if counts else "") + pw + st


def beyond_noise(vd):
    """Whether a verdict calls a difference (marked, bold in the A/B chart)."""
    return vd in (V.BETTER, V.WORSE)


def verdict_cell(ratio, v, notes, what, sides=None):
    """'1.21x ▲ (1.10-1.35)': the ratio the judge judged (its estimate; `ratio`, the plain
    quotient, only where nothing was judged), its mark and interval; a note (and the hover
    in report.html) says why for every outcome but better and worse.  sides (A, B) names
    the rule's 'A' and 'B' in the reason."""
    vd, why = v["outcome"], v.get("reason") or ""
    est = v["estimate"] if v.get("estimate") is not None else ratio
    txt = f"{est:.2f}x {MARK.get(vd, '?')}"
    if v.get("lo") is not None:
        txt += f" ({v['lo']:.2f}-{v['hi']:.2f})"
    if sides and why:
        why = re.sub(r"\bin A\b|\bA(:| has\b)", lambda m: (m.group(0).replace("A", sides[0])),
                     re.sub(r"\bin B\b|\bB(:| has\b)", lambda m: (m.group(0).replace("B", sides[1])), why))
    if beyond_noise(vd):
        return (txt, f"{vd}: the whole interval beyond the band")
    if vd == V.EQUIVALENT:
        return (txt, f"{vd}: the whole interval inside the band")
    if vd == NOT_COMPARED:  # one reason for the whole table (no per-round figures, emulated)
        return (txt + notes.ref(f"not compared: {why}"), f"{vd}: {why}")
    return (txt + notes.ref(f"{what}: {vd}" + (f" ({why})" if why else "")), f"{vd}: {why}")


def marks_words(better=""):
    """The marks in words, for a table's legend."""
    return (f"{MARK[V.BETTER]} better{better}, {MARK[V.WORSE]} worse (the whole interval beyond the band), "
            f"{MARK[V.EQUIVALENT]} equivalent (the whole interval inside it), {MARK[V.UNRESOLVED]} unresolved "
            f"(can't tell: the interval straddles the band), {MARK[V.TOO_FEW]} too few rounds")


def marks_legend(base):
    """The headline tables' legend of the ratio column and its marks."""
    return (f"x {base}: the judged ratio against {base} at the same axes, with its interval; {marks_words()} "
            "(why: the numbered note; on hover in report.html). spliced: the share of its bytes a splicing "
            "mode spliced. Largest block size first.")
