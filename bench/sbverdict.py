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

Every report, README line and command that states the rule prints rule_text(),
which is generated from the parameters below: change them here, nowhere else.
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
    up, down = 1.0 + threshold, 1.0 / (1.0 + threshold)
    if out["lo"] > up:
        out["verdict"] = "better" if higher_is_better else "worse"
    elif out["hi"] < down:
        out["verdict"] = "worse" if higher_is_better else "better"
    else:
        out["reason"] = "%s interval %.3f-%.3f reaches into %.3f-%.3f" % (
            _pct(confidence), out["lo"], out["hi"], down, up)
    return out


def paired_ratios(a, b):
    """{round: value} of A and of B -> [B/A] for the rounds both have, in round order."""
    out = []
    for k in sorted(set(a) & set(b)):
        va, vb = a[k], b[k]
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va > 0:
            out.append(vb / va)
    return out


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


if __name__ == "__main__":
    print(rule_text())
