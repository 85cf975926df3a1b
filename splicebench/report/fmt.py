"""How the report writes numbers and sizes (tables, captions and chart labels alike)."""

import math

from ..results import axis_label, bs_label  # noqa: F401


def bs_words(bs):
    lab = bs_label(bs)
    return lab[:-1] + (" MiB" if lab.endswith("M") else " KiB" if lab.endswith("K") else " B")


def pct(x):
    return f"{x:.1f} %"


def jobs(n):
    return f"{n} job" + ("" if n == 1 else "s")


def fig(x):
    """3 significant digits, plain (no exponent for the sizes a report shows)."""
    if x is None:
        return ""
    if x == 0:
        return "0"
    d = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{d}f}"


def share(x):
    return f"{x:.0f} %" if x >= 9.95 or x == 0 else f"{x:.1f} %"


def axis_value(r, a):
    return axis_label(a, r.get(a))
