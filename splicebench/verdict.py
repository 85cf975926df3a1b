"""The one verdict rule of splicebench (Python 3 standard library only).

A comparison of A and B is judged from paired rounds: in each round both were
measured once, in an order that changes from round to round (bench/run), so slow
drift of the machine lands on both sides of a round alike and cancels in the
per-round ratio B/A.  The verdict looks at the median of those ratios and a
distribution-free confidence interval for it (order statistics, sign-test
coverage: exact for any continuous distribution, no seed, no resampling):

    better / worse   the whole interval lies beyond the threshold (above 1 + t,
                     or below 1 / (1 + t)), in the better / worse direction
    within noise     otherwise, with the reason: fewer than MIN_N rounds, too few
                     rounds for an interval of the stated confidence, or the
                     interval reaching into the threshold band

Two runs are never measured side by side, so round i of one has nothing in common
with round i of the other: a change of the machine between them (other load, its
speed) lands on every point of the second run.  Between runs a point is therefore
judged relative to a control measured in the same rounds of its own run (a mode the
change under test leaves alone, e.g. the reference daemon): per round x / control in
run A and in run B, two independent samples.  Their shift is estimated as the
Hodges-Lehmann median of all pairwise differences of the logs, with the
distribution-free interval that inverts the Mann-Whitney rank test (exact null
distribution, no seed); the same threshold and confidence decide.  Without a control
nothing is called between runs.

Every report, README line and command that states a rule prints rule_text() or
between_text(), generated from the parameters below: change them here, nowhere else.
"""
import math
import statistics

THRESHOLD = 0.05   # a difference under 5 % is never called better or worse
CONFIDENCE = 0.90  # coverage of the interval for the median ratio
MIN_N = 3          # below this many paired rounds: no verdict, no headline


def _binom_cdf_half(n, k):
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2.0 ** n


def median_interval(values, confidence=CONFIDENCE):
    """(lo, hi, coverage) of the distribution-free interval for the median: the order
    statistics x(k) and x(n+1-k) with the largest k whose coverage
    1 - 2 P(Bin(n, 1/2) <= k-1) is at least `confidence`; None when even the
    range min..max covers less (too few values)."""
    xs = sorted(values)
    n = len(xs)
    best = None
    for k in range(1, n // 2 + 1):
        cov = 1.0 - 2.0 * _binom_cdf_half(n, k - 1)
        if cov >= confidence:
            best = (xs[k - 1], xs[n - k], cov)
        else:
            break
    return best


def rounds_needed(confidence=CONFIDENCE):
    """The fewest values for which median_interval exists."""
    n = 1
    while 1.0 - 2.0 * _binom_cdf_half(n, 0) < confidence:
        n += 1
    return max(n, MIN_N)


def _decide(out, higher_is_better, threshold, confidence):
    """The threshold test both rules share: out's interval lo..hi against the band."""
    up, down = 1.0 + threshold, 1.0 / (1.0 + threshold)
    if out["lo"] > up:
        out["verdict"] = "better" if higher_is_better else "worse"
    elif out["hi"] < down:
        out["verdict"] = "worse" if higher_is_better else "better"
    else:
        out["reason"] = "%s interval %.3f-%.3f reaches into %.3f-%.3f" % (
            _pct(confidence), out["lo"], out["hi"], down, up)
    return out


def paired_verdict(ratios, higher_is_better=True, threshold=THRESHOLD, confidence=CONFIDENCE):
    """Per-round ratios B/A (one a round, both measured in that round) -> dict with
    verdict ('better', 'worse', 'within noise'), median, lo, hi (the interval, None
    without one), n, coverage and reason ('' for better/worse)."""
    rs = [float(r) for r in ratios if r is not None and isinstance(r, (int, float))
          and math.isfinite(r) and r > 0]
    n = len(rs)
    out = {"verdict": "within noise", "median": statistics.median(rs) if rs else None,
           "lo": None, "hi": None, "n": n, "coverage": None, "reason": ""}
    if n < MIN_N:
        out["reason"] = "n = %d < %d paired rounds" % (n, MIN_N)
        return out
    iv = median_interval(rs, confidence)
    if iv is None:
        out["reason"] = "n = %d: too few rounds for a %s interval (needs >= %d)" % (
            n, _pct(confidence), rounds_needed(confidence))
        return out
    out["lo"], out["hi"], out["coverage"] = iv
    return _decide(out, higher_is_better, threshold, confidence)


def paired_ratios(a, b):
    """{round: value} of A and of B -> [B/A] for the rounds both have, in round order."""
    out = []
    for k in sorted(set(a) & set(b)):
        va, vb = a[k], b[k]
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va > 0:
            out.append(vb / va)
    return out


def _mw_cdf(n, m):
    """[P(U <= u) for u in 0..n*m] of the Mann-Whitney U for samples of n and m without
    ties (exact: counts of the arrangements, by recursion on the largest value)."""
    from functools import lru_cache

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
    return out


def shift_interval(xs, ys, confidence=CONFIDENCE):
    """Two independent samples -> (estimate, lo, hi, coverage) for the shift of ys over xs:
    the Hodges-Lehmann median of the n*m differences y - x and the interval of their
    order statistics d(k)..d(nm+1-k), k the largest with coverage 1 - 2 P(U <= k-1) at
    least `confidence` (the Mann-Whitney inversion); None when even min..max covers less."""
    n, m = len(xs), len(ys)
    if not n or not m:
        return None
    d = sorted(y - x for x in xs for y in ys)
    cdf = _mw_cdf(n, m)
    best = None
    for k in range(1, (n * m + 1) // 2 + 1):
        cov = 1.0 - 2.0 * cdf[k - 1]
        if cov >= confidence:
            best = (statistics.median(d), d[k - 1], d[n * m - k], cov)
        else:
            break
    return best


def runs_needed(confidence=CONFIDENCE):
    """The fewest rounds a run (both runs alike) needs for shift_interval to exist."""
    n = 1
    while 1.0 - 2.0 * _mw_cdf(n, n)[0] < confidence:
        n += 1
    return max(n, MIN_N)


def between_verdict(xs, ys, higher_is_better=True, threshold=THRESHOLD, confidence=CONFIDENCE):
    """Per-round ratios to the control in run A (xs) and in run B (ys), independent ->
    the same dict as paired_verdict (median: the estimated ratio B/A, lo/hi its
    interval), n the smaller of the two counts."""
    xs = [math.log(v) for v in xs if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    ys = [math.log(v) for v in ys if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    n = min(len(xs), len(ys))
    out = {"verdict": "within noise", "median": None, "lo": None, "hi": None, "n": n,
           "coverage": None, "reason": ""}
    if n < MIN_N:
        out["reason"] = "n = %d < %d rounds with the control in %s" % (
            n, MIN_N, "A" if len(xs) <= len(ys) else "B")
        if xs and ys:
            out["median"] = math.exp(statistics.median(ys) - statistics.median(xs))
        return out
    iv = shift_interval(xs, ys, confidence)
    if iv is None:
        out["median"] = math.exp(statistics.median(ys) - statistics.median(xs))
        out["reason"] = "n = %d: too few rounds for a %s interval between runs (needs >= %d)" % (
            n, _pct(confidence), runs_needed(confidence))
        return out
    est, lo, hi, cov = iv
    out.update(median=math.exp(est), lo=math.exp(lo), hi=math.exp(hi), coverage=cov)
    return _decide(out, higher_is_better, threshold, confidence)


def between_text(threshold=THRESHOLD, confidence=CONFIDENCE, min_n=MIN_N):
    """The between-runs rule in words, from its parameters (bench/compare and plots/report
    print it for two result sets)."""
    return ("Two runs are compared through a control measured in the same rounds of each run: "
            "per round the point over the control, in A and in B (independent samples, since the "
            "runs never ran side by side); the ratio B/A is the Hodges-Lehmann estimate with the "
            "distribution-free %s interval of the Mann-Whitney test; 'better' or 'worse' only when "
            "the whole interval lies beyond +-%s (above %.3f or below %.3f), else 'within noise' "
            "with the reason (fewer than %d rounds, too few for the interval: it needs %d in each "
            "run, or the interval reaching into the band). Without a control in both runs nothing "
            "is called: a machine that ran faster between the runs cannot be told from faster code."
            % (_pct(confidence), _pct(threshold), 1 + threshold, 1 / (1 + threshold), min_n,
               runs_needed(confidence)))


def _pct(x):
    return ("%.1f" % (x * 100)).rstrip("0").rstrip(".") + " %"


def rule_text(threshold=THRESHOLD, confidence=CONFIDENCE, min_n=MIN_N):
    """The rule in words, from its parameters (reports, compare, READMEs print this)."""
    return ("B is compared with A round by round (both measured in every round, in an order that "
            "changes each round): the median of the per-round ratios B/A and its distribution-free "
            "%s confidence interval (order statistics, sign-test coverage); 'better' or 'worse' "
            "only when the whole interval lies beyond +-%s (above %.3f or below %.3f), else "
            "'within noise' with the reason (fewer than %d rounds, too few rounds for the "
            "interval: it needs %d, or the interval reaching into the band). No headline "
            "figure below n = %d."
            % (_pct(confidence), _pct(threshold), 1 + threshold, 1 / (1 + threshold), min_n,
               rounds_needed(confidence), min_n))


def rules_text():
    """Every rule that decides a verdict, one line each, generated from its parameters."""
    from .results import COST_RULE
    return ["GB/s and CPU, one run: " + rule_text(),
            "GB/s and CPU, two runs: " + between_text(),
            "Cost: " + COST_RULE + "."]


def rules_main(argv):
    """python3 -m splicebench rules: the rules, generated from their parameters."""
    print("\n".join(rules_text()))
    return 0
