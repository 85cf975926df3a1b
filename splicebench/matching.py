"""Result rows into the one judge (splicebench.verdict): per-round figures, paired and
between-run verdicts through a control, cost windows; matching points of one or two sets,
the groups a comparison runs over, and the one row kept for a mode among its settings."""
import statistics

from . import verdict as V
from .columns import COST_REPEATS, bs_label
from .modes import MODE_OWN_AXES, axis_label, mode_programs, ordered_modes

# ---------------------------------------------------------------- the noise rule

# The judge itself lives in splicebench/verdict.py (paired rounds, two samples, one band,
# five outcomes); everything here feeds it the figures of result rows and prints its texts.
RULE = V.rule_text()
BETWEEN_RULE = V.between_text()
COST_RULE = V.cost_text()


def stable(r, target=None):
    """(True, "") when a point's figures may head a report: n >= the rule's minimum of
    rounds (the CV is shown, never a gate: no rule stops on it); else (False, why)."""
    n = int(r.get("repeats") or 0)
    if n < V.MIN_N:
        return False, f"n={n} < {V.MIN_N}"
    return True, ""


def round_values(r, what="gbps"):
    """{round: value} of a point from points.jsonl: GB/s ("gbps") or the mode's own CPU
    s/GB ("cpu") of each round; a set from before rounds numbers its repeats instead."""
    out = {}
    for i, run in enumerate((r.get("_json") or {}).get("runs") or [], 1):
        k = run.get("round", i)
        if what == "gbps":
            v = run.get("gbps")
        else:
            v = _run_cpu(run)
        if isinstance(v, (int, float)):
            out[k] = v
    return out


# A window in which the host ran something else on our vCPUs for at least this share of
# its CPU capacity (/proc/stat steal, recorded per measurement as steal_share) is marked.
STEAL_MARK = 0.01


def stolen_rounds(r):
    """The rounds of a point whose measured window had host steal >= STEAL_MARK."""
    out = set()
    for i, run in enumerate((r.get("_json") or {}).get("runs") or [], 1):
        s = run.get("steal_share")
        if isinstance(s, (int, float)) and s >= STEAL_MARK:
            out.add(run.get("round", i))
    return out


def paired(a, b, what="gbps", higher_better=True):
    """The rule's full answer (sbverdict.paired_verdict's dict) for b against a, with
    'stolen': how many of the paired rounds had host steal in either side's window (both
    sides of such a round are kept alike; the reason says so, never the outcome)."""
    ra, rb = round_values(a, what), round_values(b, what)
    d = V.paired_verdict(V.paired_ratios(ra, rb), higher_better)
    if not ra or not rb:
        d["reason"] = "no per-round figures (%s has no points.jsonl runs)" % ("A" if not ra else "B")
    both = set(ra) & set(rb)
    d["stolen"] = len(both & (stolen_rounds(a) | stolen_rounds(b)))
    if d["stolen"]:
        d["reason"] = "; ".join(x for x in (d["reason"], "the host stole CPU (>= %d %% of a window) in %d of "
                                            "%d paired rounds" % (STEAL_MARK * 100, d["stolen"], len(both))) if x)
    return d


def verdict(a, b, target=None, higher_better=True):
    """GB/s of b against a (rows) -> (outcome, why) by the paired rule (splicebench.verdict);
    target is no longer used (kept for the callers' signature)."""
    d = paired(a, b, "gbps", higher_better)
    return d["verdict"], d["reason"]


def spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    mean = statistics.mean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return {"n": len(vals), "median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "mean": mean, "stdev": sd, "cv": sd / mean if mean else 0.0, "values": vals}


def spread_verdict(a, b, target=None, higher_better=True):
    """The same paired rule on two spread dicts whose values are in round order (e.g.
    spread(run_cpu_values(row))): value i of A pairs with value i of B."""
    if not a or not b:
        return "", ""
    va, vb = a.get("values") or [], b.get("values") or []
    d = V.paired_verdict(V.paired_ratios(dict(enumerate(va)), dict(enumerate(vb))), higher_better)
    return d["verdict"], d["reason"]


def _run_cpu(run):
    gb = (run.get("io_bytes") or 0) / 1e9
    c = run.get("cpu_s") or {}
    if not gb or not isinstance(c, dict):
        return None
    if isinstance(c.get("parts"), (int, float)):  # bench/run's sum of the mode's parts
        return c["parts"] / gb
    parts = [v for k, v in c.items() if isinstance(v, (int, float))
             and k.split("_")[0] in ("daemon", "server", "fio", "softirq", "kthreads")]
    return sum(parts) / gb if parts else None


def run_cpu_values(r):
    """Per-round CPU s/GB of the mode's own parts (points.jsonl runs), in round order."""
    return [v for _, v in sorted(round_values(r, "cpu").items())]


def cost_values(r, metric):
    """The per-window values of a cost metric (points.jsonl's cost_windows), in order."""
    vals = []
    for w in (r.get("_json") or {}).get("cost_windows") or []:
        if not isinstance(w, dict):
            continue
        if metric == "bytes moved per byte delivered" and isinstance(w.get("bytes_moved_per_byte"), (int, float)):
            vals.append(w["bytes_moved_per_byte"])
        elif metric == "instructions per byte delivered" and isinstance(w.get("instr_per_byte_kernel"), (int, float)):
            vals.append(w["instr_per_byte_kernel"] + (w.get("instr_per_byte_user") or 0))
    return vals


def cost_spread(r, metric):
    """(n, cv or None) of a cost metric: per-window values from points.jsonl when present."""
    vals = cost_values(r, metric)
    if len(vals) >= 2:
        s = spread(vals)
        return s["n"], s["cv"]
    n = r.get(COST_REPEATS)
    return (int(n) if isinstance(n, (int, float)) else 0), None


def cost_judged(a, b, metric):
    """Cost (lower is better) of b against a: the judge's dict (two samples: the windows)."""
    return V.between_verdict(cost_values(a, metric), cost_values(b, metric), higher_is_better=False,
                             what="cost windows")


def cost_verdict(a, b, metric, get, target=None):
    """Cost (lower is better) of b against a -> (outcome, why), by the one judge."""
    va, vb = get(a), get(b)
    if va is None or vb is None or va <= 0:
        return "", "no cost"
    d = cost_judged(a, b, metric)
    return d["outcome"], d["reason"]


# ---------------------------------------------------------------- matching

def control_row(rs, row, control, axes=None):
    """The row of set rs that is ROW's control: control = (AXIS, VALUE); the row that has
    AXIS=VALUE and matches ROW on every other axis (for AXIS mode, each mode's own axes set
    aside); None when rs has none, or when it is ROW itself."""
    axis, value = control
    axes = axes or rs.match_axes()
    skip = {axis} | (set(MODE_OWN_AXES) if axis == "mode" else set())
    key = match_key(row, [a for a in axes if a not in skip])
    for r in rs.rows:
        if str(r.get(axis)) == str(value) and match_key(r, [a for a in axes if a not in skip]) == key:
            return None if r is row else r
    return None


def default_control(ra, rb):
    """The control two runs are compared through, as (AXIS, VALUE), or None: the first
    mode (in A's mode order) of a reference program (not splicefs: the code under test)
    with ok points in both sets; else replica 1 where the sets have replicas."""
    progs = mode_programs(ra.rows + rb.rows, dict(rb.meta, **ra.meta))
    ok = lambda rs: {r.get("mode") for r in rs.rows if r.get("status") == "ok"}
    both = ok(ra) & ok(rb)
    for m in ordered_modes(ra.rows, progs, ra.meta):
        if m in both and progs.get(m, "splicefs") != "splicefs":
            return ("mode", m)
    reps = {str(r.get("replica")) for r in ra.rows + rb.rows if r.get("replica") not in (None, "")}
    if "1" in reps:
        return ("replica", "1")
    return None


def round_ratios(row, ctl, what="gbps"):
    """Per-round value of row over its control's in the same round ([] without both)."""
    if row is None or ctl is None:
        return []
    return V.paired_ratios(round_values(ctl, what), round_values(row, what))


def between(ra, rb, a, b, control, what="gbps", higher_better=True):
    """b (set rb) against a (set ra), two runs, through the control (AXIS, VALUE) measured in
    each run's own rounds: sbverdict.between_verdict's dict, with 'control' added (a words
    label, or '' where a is the control itself: no verdict)."""
    if control is None:
        d = V.unresolved("two runs and no control measured in both (--control AXIS=VALUE): a change "
                         "of the machine between them cannot be told from the code")
        d["control"] = None
        return d
    ca, cb = control_row(ra, a, control), control_row(rb, b, control)
    if str(a.get(control[0])) == str(control[1]):
        d = V.between_verdict([], [], higher_better)
        d.update(reason="the control itself", control="")
        return d
    d = V.between_verdict(round_ratios(a, ca, what), round_ratios(b, cb, what), higher_better)
    d["control"] = "%s=%s" % control
    if ca is None or cb is None or ca.get("status") != "ok" or cb.get("status") != "ok":
        d["reason"] = "control %s=%s not measured (ok) at these axes in %s" % (
            control[0], control[1], "A" if ca is None or ca.get("status") != "ok" else "B")
        return d
    cc = control_change(ca, cb, what, higher_better)
    d["control_change"] = cc
    if cc["outcome"] in (V.BETTER, V.WORSE):
        d = V.blocked(d, "the control %s=%s itself changed between the runs (%s)" % (
            control[0], control[1], V.short(cc)))
    return d


def control_change(ca, cb, what="gbps", higher_better=True):
    """The control's own change from run A to run B (its per-round values as two samples):
    the judge's dict.  A control that changed beyond the band cannot carry a comparison."""
    return V.between_verdict(list(round_values(ca, what).values()), list(round_values(cb, what).values()),
                             higher_better, what="rounds of the control")


def match_key(r, axes, skip=()):
    return tuple(r.get(c) for c in axes if c not in skip)


def match_sets(ra, rb, axes=None):
    """(a, b) rows present in both sets (every status), matched on the axes both CSVs have."""
    axes = axes or [a for a in ra.match_axes() if a in rb.header]
    bmap = {}
    for r in rb.rows:
        bmap.setdefault(match_key(r, axes), r)
    return [(a, bmap[match_key(a, axes)]) for a in ra.rows if match_key(a, axes) in bmap]


def comparable_groups(rows, axes, vary="mode"):
    """Rows grouped by every axis but VARY (and, for modes, each mode's own axes):
    {key tuple: {value of VARY: [rows]}} with the key's axes as a dict under None."""
    skip = {vary} | (set(MODE_OWN_AXES) if vary == "mode" else set())
    keep = [a for a in axes if a not in skip]
    g = {}
    for r in rows:
        k = match_key(r, keep)
        d = g.setdefault(k, {None: {a: r.get(a) for a in keep}})
        d.setdefault(r.get(vary), []).append(r)
    return g


def restrict_rounds(r, keep):
    """A copy of row r whose figures come from the rounds in KEEP only (runs filtered,
    median/min/max/CV and n recomputed)."""
    j = dict(r.get("_json") or {})
    runs = [run for i, run in enumerate(j.get("runs") or [], 1) if run.get("round", i) in keep]
    j["runs"] = runs
    out = dict(r, _json=j, repeats=len(runs))
    sp = spread([run.get("gbps") for run in runs])
    if sp:
        out.update(gbps_median=sp["median"], gbps_min=sp["min"], gbps_max=sp["max"],
                   gbps_stdev=sp["stdev"], gbps_cv=sp["cv"])
    return out


def pick_row(rows, target=None):
    """The one row kept for a mode among its own settings (pipes, pipe_size, ... from
    --list): the best median GB/s over the odd rounds picks the setting, and the row
    returned carries only the even rounds, so the rounds that chose it are never the
    rounds it is judged on (no winner's curse); returns (row, note naming the choice).
    Without per-round data the best median is kept and the note says so."""
    if len(rows) == 1:
        return rows[0], ""
    rounds = sorted({k for r in rows for k in round_values(r)})
    pick, judge = [k for k in rounds if k % 2 == 1], [k for k in rounds if k % 2 == 0]

    def med(r, ks):
        v = [x for k, x in round_values(r).items() if k in ks]
        return statistics.median(v) if v else 0.0
    own = lambda r: ", ".join(f"{a}={axis_label(a, r[a])}" for a in MODE_OWN_AXES
                              if r.get(a) not in (None, ""))
    if pick and judge:
        r = max(rows, key=lambda r: med(r, pick))
        return (restrict_rounds(r, set(judge)),
                f"{own(r)}: best of {len(rows)} settings on rounds {','.join(map(str, pick))}; "
                f"its figures and verdicts from rounds {','.join(map(str, judge))} only")
    r = max(rows, key=lambda r: r.get("gbps_median") or 0)
    return r, f"{own(r)}: best of {len(rows)} settings (no rounds to set apart: picked and judged on the same data)"
