"""The one judge of splicebench (Python 3 standard library only).

Every comparison the suite states -- GB/s and CPU s/GB within a run (paired rounds),
two runs through a control, cost per byte under TCG (windows), a profiler's overhead --
is decided here, by one threshold test on one kind of interval, into one of five
outcomes, and stated by text generated from the parameters below:

    better / worse    the whole interval lies beyond the band (above 1 + t, or below
                      1 / (1 + t)) in the better / worse direction
    equivalent        the whole interval lies inside the band: the two are the same
                      within +-t (two one-sided tests at the interval's level); only
                      this outcome is marked "≈"
    unresolved        the interval straddles an edge of the band: this run cannot tell
                      (marked "?", with the estimate, its interval and about how many
                      rounds at this spread would resolve it)
    too few rounds    too few values for an interval of the stated confidence

Paired rounds (one run): in each round both A and B were measured once, in an order
that changes from round to round (bench/run), so slow drift of the machine lands on
both sides of a round alike and cancels in the per-round ratio B/A.  On the logs of
those ratios the estimate is the Hodges-Lehmann pseudo-median (the median of the Walsh
averages) and the interval the distribution-free one that inverts the Wilcoxon
signed-rank test (exact null distribution, no seed, no resampling; it assumes the
per-round log ratios are symmetric about their centre).

Two samples (two runs, cost windows): the Hodges-Lehmann shift of the logs with the
interval that inverts the Mann-Whitney test.  Two runs are never measured side by
side, so a point is judged relative to a control measured in the same rounds of its
own run; the control's own change between the runs is judged too, and a control that
changed makes every comparison through it unresolved.

Many verdicts at once: each call (better, worse, equivalent) is wrong at most
(1 - CONFIDENCE) / 2 of the time; family_text() states what that means for the N
verdicts of one report or comparison.
"""
import math
import statistics
from functools import lru_cache

THRESHOLD = 0.05   # the band: differences inside +-5 % are "the same", beyond it "better/worse"
CONFIDENCE = 0.90  # two-sided coverage of every interval (each one-sided call: 95 %)
MIN_N = 3          # below this many values: no headline figure at all
MANY_ROUNDS = 100  # past this, "rounds to resolve" is said as "more than"

BETTER, WORSE, EQUIVALENT, UNRESOLVED, TOO_FEW = (
    "better", "worse", "equivalent", "unresolved", "too few rounds")
OUTCOMES = (BETTER, WORSE, EQUIVALENT, UNRESOLVED, TOO_FEW)
CALLS = (BETTER, WORSE, EQUIVALENT)  # outcomes that claim something
MARKS = {BETTER: "▲", WORSE: "▼", EQUIVALENT: "≈", UNRESOLVED: "?", TOO_FEW: "–"}
LEGEND = ("▲ better, ▼ worse (the interval beyond the band), ≈ equivalent (the interval "
          "inside it), ? unresolved (can't tell: the interval straddles the band), "
          "– too few rounds")
EFFICIENCY = 3 / math.pi  # Wilcoxon against the t interval for normal data (0.955)
Z = {0.80: 1.2816, 0.90: 1.6449, 0.95: 1.9600, 0.98: 2.3263, 0.99: 2.5758}


def _pct(x):
    return ("%.1f" % (x * 100)).rstrip("0").rstrip(".") + " %"


def _finite_pos(vals):
    return [float(v) for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) and v > 0]


# ---------------------------------------------------------------- exact null distributions

@lru_cache(maxsize=None)
def _signrank_cdf(n):
    """[P(T+ <= t) for t in 0..n(n+1)/2] of the Wilcoxon signed-rank statistic, n values."""
    counts = [1]
    for k in range(1, n + 1):
        new = counts + [0] * k
        for t, c in enumerate(counts):
            new[t + k] += c
        counts = new
    total, acc, out = 2 ** n, 0, []
    for c in counts:
        acc += c
        out.append(acc / total)
    return tuple(out)


@lru_cache(maxsize=None)
def _mw_cdf(n, m):
    """[P(U <= u) for u in 0..n*m] of the Mann-Whitney U for samples of n and m."""
    @lru_cache(maxsize=None)
    def count(a, b, u):  # arrangements of a X and b Y with exactly u (X, Y) pairs X > Y
        if u < 0:
            return 0
        if a == 0 or b == 0:
            return 1 if u == 0 else 0
        return count(a - 1, b, u - b) + count(a, b - 1, u)
    total = math.comb(n + m, n)
    out, acc = [], 0
    for u in range(n * m + 1):
        acc += count(n, m, u)
        out.append(acc / total)
    return tuple(out)


def _binom_cdf_half(n, k):
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2.0 ** n


def _order_interval(sorted_vals, cdf, confidence):
    """(lo, hi, coverage): order statistics v(k)..v(N+1-k), k the largest with
    1 - 2 cdf[k-1] >= confidence; None when even min..max covers less."""
    n, best = len(sorted_vals), None
    for k in range(1, (n + 1) // 2 + 1):
        cov = 1.0 - 2.0 * cdf[k - 1]
        if cov < confidence:
            break
        best = (sorted_vals[k - 1], sorted_vals[n - k], cov)
    return best


# ---------------------------------------------------------------- intervals

def median_interval(values, confidence=CONFIDENCE):
    """(lo, hi, coverage) of the sign-test interval for a median; None with too few values."""
    xs = sorted(values)
    cdf = [_binom_cdf_half(len(xs), k) for k in range(len(xs) + 1)]
    return _order_interval(xs, cdf, confidence)


def signrank_interval(logs, confidence=CONFIDENCE):
    """(estimate, lo, hi, coverage) for the centre of one sample (paired log ratios): the
    Hodges-Lehmann pseudo-median and the Wilcoxon signed-rank interval of the Walsh
    averages; None with too few values."""
    n = len(logs)
    if not n:
        return None
    w = sorted((logs[i] + logs[j]) / 2 for i in range(n) for j in range(i, n))
    iv = _order_interval(w, _signrank_cdf(n), confidence)
    return None if iv is None else (statistics.median(w),) + iv


def shift_interval(xs, ys, confidence=CONFIDENCE):
    """(estimate, lo, hi, coverage) for the shift of ys over xs (two independent samples):
    the Hodges-Lehmann median of the differences and the Mann-Whitney interval."""
    n, m = len(xs), len(ys)
    if not n or not m:
        return None
    d = sorted(y - x for x in xs for y in ys)
    iv = _order_interval(d, _mw_cdf(n, m), confidence)
    return None if iv is None else (statistics.median(d),) + iv


def rounds_needed(confidence=CONFIDENCE):
    """The fewest paired rounds for which the signed-rank interval exists."""
    n = 1
    while 1.0 - 2.0 * _signrank_cdf(n)[0] < confidence:
        n += 1
    return max(n, MIN_N)


def runs_needed(confidence=CONFIDENCE):
    """The fewest values each side needs for the two-sample interval to exist."""
    n = 1
    while 1.0 - 2.0 * _mw_cdf(n, n)[0] < confidence:
        n += 1
    return max(n, MIN_N)


# ---------------------------------------------------------------- the decision

def _rounds_to_resolve(est, spread, n, threshold, confidence):
    """About how many rounds at this spread (sd of the per-round logs) would put the whole
    interval on one side of the band's nearest edge; None where it cannot be said (no
    spread, or the estimate on the edge itself)."""
    edge = math.log1p(threshold)
    d = abs(abs(est) - edge)
    if not spread or d < 1e-3:
        return None
    z = Z.get(round(confidence, 2), 1.6449)
    return max(n + 1, math.ceil((z * spread / d) ** 2 / EFFICIENCY))


def decide(out, higher_is_better=True, threshold=THRESHOLD, confidence=CONFIDENCE):
    """The one threshold test: out's ratio interval lo..hi (and estimate) against the band
    -> out with outcome, mark and reason filled in."""
    up, down = 1.0 + threshold, 1.0 / (1.0 + threshold)
    lo, hi = out["lo"], out["hi"]
    if lo > up or hi < down:
        out["outcome"] = BETTER if (lo > up) == higher_is_better else WORSE
    elif down <= lo and hi <= up:
        out["outcome"] = EQUIVALENT
    else:
        out["outcome"] = UNRESOLVED
        need = out.get("rounds_to_resolve")
        if need and need <= MANY_ROUNDS:
            more = "; about %d rounds at this spread would resolve it" % need
        elif need:
            more = "; more than %d rounds at this spread would be needed" % MANY_ROUNDS
        else:
            more = ""
        out["reason"] = "%s interval %.3f-%.3f straddles the band %.3f-%.3f%s" % (
            _pct(confidence), lo, hi, down, up, more)
    out["mark"] = MARKS[out["outcome"]]
    out["verdict"] = out["outcome"]
    return out


def _empty(n):
    return {"outcome": TOO_FEW, "verdict": TOO_FEW, "mark": MARKS[TOO_FEW], "estimate": None,
            "median": None, "lo": None, "hi": None, "n": n, "coverage": None, "reason": "",
            "rounds_to_resolve": None}


def paired_verdict(ratios, higher_is_better=True, threshold=THRESHOLD, confidence=CONFIDENCE):
    """Per-round ratios B/A (both measured in each round) -> dict: outcome (= verdict),
    mark, estimate (the ratio judged; 'median' is the same number), lo, hi, n, coverage,
    reason, rounds_to_resolve."""
    logs = [math.log(r) for r in _finite_pos(ratios)]
    n = len(logs)
    out = _empty(n)
    if logs:
        est = signrank_interval(logs, 0.0)[0]
        out["estimate"] = out["median"] = math.exp(est)
    if n < MIN_N:
        out["reason"] = "n = %d < %d paired rounds" % (n, MIN_N)
        return out
    iv = signrank_interval(logs, confidence)
    if iv is None:
        out["reason"] = "n = %d: too few rounds for a %s interval (needs >= %d)" % (
            n, _pct(confidence), rounds_needed(confidence))
        return out
    est, lo, hi, cov = iv
    out.update(estimate=math.exp(est), median=math.exp(est), lo=math.exp(lo), hi=math.exp(hi),
               coverage=cov, spread=statistics.stdev(logs), kind="paired",
               rounds_to_resolve=_rounds_to_resolve(est, statistics.stdev(logs), n, threshold, confidence))
    return decide(out, higher_is_better, threshold, confidence)


def paired_ratios(a, b):
    """{round: value} of A and of B -> [B/A] for the rounds both have, in round order."""
    out = []
    for k in sorted(set(a) & set(b)):
        va, vb = a[k], b[k]
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va > 0:
            out.append(vb / va)
    return out


def between_verdict(xs, ys, higher_is_better=True, threshold=THRESHOLD, confidence=CONFIDENCE,
                    what="rounds with the control"):
    """Two independent samples of positive values (per-round ratios to the control in run A
    and run B; or cost windows of A and B) -> the same dict as paired_verdict, the
    estimate being the ratio B/A; n the smaller count."""
    lx, ly = [math.log(v) for v in _finite_pos(xs)], [math.log(v) for v in _finite_pos(ys)]
    n = min(len(lx), len(ly))
    out = _empty(n)
    if lx and ly:
        out["estimate"] = out["median"] = math.exp(shift_interval(lx, ly, 0.0)[0])
    if n < MIN_N:
        out["reason"] = "n = %d < %d %s in %s" % (n, MIN_N, what, "A" if len(lx) <= len(ly) else "B")
        return out
    iv = shift_interval(lx, ly, confidence)
    if iv is None:
        out["reason"] = "n = %d: too few %s for a %s interval (needs >= %d each)" % (
            n, what, _pct(confidence), runs_needed(confidence))
        return out
    est, lo, hi, cov = iv
    sd = math.sqrt((statistics.variance(lx) + statistics.variance(ly)) / 2)
    # two samples of n each: the shift's spread is sd * sqrt(2/n); "rounds" = per run
    need = _rounds_to_resolve(est, sd * math.sqrt(2), n, threshold, confidence)
    out.update(estimate=math.exp(est), median=math.exp(est), lo=math.exp(lo), hi=math.exp(hi),
               coverage=cov, spread=sd, rounds_to_resolve=need)
    return decide(out, higher_is_better, threshold, confidence)


def unresolved(why, n=0):
    """No interval to judge, for a reason outside the figures (e.g. no control): can't tell."""
    d = _empty(n)
    d.update(outcome=UNRESOLVED, verdict=UNRESOLVED, mark=MARKS[UNRESOLVED], reason=why)
    return d


def blocked(d, why):
    """d made unresolved for a reason outside its own interval (e.g. a control that changed)."""
    d = dict(d)
    if d["outcome"] != TOO_FEW:
        d.update(outcome=UNRESOLVED, verdict=UNRESOLVED, mark=MARKS[UNRESOLVED])
    d["reason"] = why + ("; " + d["reason"] if d.get("reason") else "")
    return d


def is_call(d):
    return bool(d) and d.get("outcome") in CALLS


def short(d, fmt="%.2fx"):
    """'1.22x ▲ (1.10-1.35)': the judged ratio, its mark and its interval."""
    if not d or d.get("estimate") is None:
        return ""
    s = (fmt % d["estimate"]) + " " + d["mark"]
    if d.get("lo") is not None:
        s += " (%s-%s)" % (fmt % d["lo"], fmt % d["hi"])
        s = s.replace("x-", "-", 1)
    return s


def sentence(d, what="ratio"):
    """The outcome in words with the judged ratio and interval: one clause."""
    if not d or d.get("estimate") is None:
        return d.get("reason") or "no figures" if d else "no figures"
    iv = (", %s interval %.3f-%.3f" % (_pct(d["coverage"]), d["lo"], d["hi"])) if d.get("lo") else ""
    head = {BETTER: "better", WORSE: "worse", EQUIVALENT: "equivalent within +-" + _pct(THRESHOLD),
            UNRESOLVED: "unresolved (can't tell)", TOO_FEW: "too few rounds"}[d["outcome"]]
    tail = ("; " + d["reason"]) if d.get("reason") and d["outcome"] in (UNRESOLVED, TOO_FEW) else ""
    return "%s: %s %.3f%s%s" % (head, what, d["estimate"], iv, tail)


# ---------------------------------------------------------------- stated rules

def _band(threshold):
    return "+-%s (%.3f-%.3f)" % (_pct(threshold), 1 / (1 + threshold), 1 + threshold)


def rule_text(threshold=THRESHOLD, confidence=CONFIDENCE, min_n=MIN_N):
    """The paired rule (one run) in words, from its parameters."""
    return ("B is compared with A round by round (both measured in every round, in an order that "
            "changes each round): the Hodges-Lehmann estimate of the per-round ratio B/A and its "
            "distribution-free %s interval (Wilcoxon signed-rank); 'better' or 'worse' when the "
            "whole interval lies beyond the band %s, 'equivalent' (≈) when it lies wholly inside "
            "it, 'unresolved' (?) when it straddles an edge (can't tell, with about how many "
            "rounds would resolve it), 'too few rounds' below %d (an interval needs %d). The "
            "ratio printed is the one judged. No headline figure below n = %d."
            % (_pct(confidence), _band(threshold), rounds_needed(confidence),
               rounds_needed(confidence), min_n))


def between_text(threshold=THRESHOLD, confidence=CONFIDENCE, min_n=MIN_N):
    """The between-runs rule in words, from its parameters."""
    return ("Two runs are compared through a control measured in the same rounds of each run: "
            "per round the point over the control, in A and in B (independent samples, since the "
            "runs never ran side by side); the ratio B/A is the Hodges-Lehmann estimate with the "
            "distribution-free %s interval of the Mann-Whitney test, judged against the band %s "
            "as within a run (better, worse, equivalent, unresolved; too few below %d rounds in "
            "each run). The control's own change between the runs is judged the same way: a "
            "control that changed makes every comparison through it unresolved. Without a "
            "control in both runs nothing is called: a machine that ran faster between the runs "
            "cannot be told from faster code."
            % (_pct(confidence), _band(threshold), runs_needed(confidence)))


def cost_text(threshold=THRESHOLD, confidence=CONFIDENCE):
    """The rule for counted costs (TCG: cost windows of A and B, lower is better)."""
    return ("Cost per byte (TCG counts) of B against A: the cost windows of each side as two "
            "samples, the Hodges-Lehmann ratio B/A with its %s Mann-Whitney interval, judged "
            "against the band %s like every other verdict (lower is better; %d windows a side "
            "at least)." % (_pct(confidence), _band(threshold), runs_needed(confidence)))


def family_text(n_verdicts, confidence=CONFIDENCE):
    """What N verdicts at once mean: each call's error rate, the expected number of false
    calls and the chance of at least one (independent verdicts)."""
    a = (1 - confidence) / 2
    if not n_verdicts:
        return "No verdicts."
    return ("%d verdicts: each call (better, worse or equivalent) is wrong at most %s of the time "
            "when the truth lies just across the band's edge, less further away; across all %d "
            "at most %.1f false calls are expected, and if they were independent the chance of "
            "one or more would be at most %s. A lone call among many unresolved ones deserves a "
            "rerun." % (n_verdicts, _pct(a), n_verdicts, n_verdicts * a,
                        _pct(1 - (1 - a) ** n_verdicts)))


def power(n, spread, effect, threshold=THRESHOLD, confidence=CONFIDENCE, trials=400):
    """{outcome: share} of paired verdicts on n rounds whose per-round log ratios are normal
    around log(effect) with sd `spread`: how often this rule, at this spread and this many
    rounds, calls a true difference (effect 1.15) or finds a true sameness (effect 1.0).
    Simulated with a fixed seed: the same inputs give the same answer."""
    import random
    rng = random.Random(20261207)
    out = {o: 0 for o in OUTCOMES}
    for _ in range(trials):
        rs = [math.exp(rng.gauss(math.log(effect), spread)) for _ in range(n)]
        out[paired_verdict(rs, True, threshold, confidence)["outcome"]] += 1
    return {o: c / trials for o, c in out.items()}


def power_text(n, spread, effect=0.85, threshold=THRESHOLD, confidence=CONFIDENCE):
    """What n rounds at this per-round spread can resolve, in one sentence."""
    if not n or spread is None:
        return ""
    hit = power(n, spread, effect, threshold, confidence)
    null = power(n, spread, 1.0, threshold, confidence)
    return ("At %d rounds and this run's median per-round spread (sd of the log ratio %.3f), a true "
            "%+.0f %% difference is called in %s of runs, and a true sameness is called equivalent in "
            "%s (falsely called better or worse in %s); simulated, normal per-round log ratios."
            % (n, spread, (effect - 1) * 100, _pct(hit[WORSE if effect < 1 else BETTER]),
               _pct(null[EQUIVALENT]), _pct(null[BETTER] + null[WORSE])))


def rules_text():
    """Every rule that decides a verdict, one line each, generated from its parameters."""
    return ["GB/s and CPU, one run: " + rule_text(),
            "GB/s and CPU, two runs: " + between_text(),
            "Cost: " + cost_text()]


def rules_main(argv):
    """python3 -m splicebench rules: the rules, generated from their parameters."""
    print("\n".join(rules_text()))
    return 0
