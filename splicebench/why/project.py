#!/usr/bin/env python3
"""A projection to 100G, labelled as one: native CPU seconds per GB fitted against
counted costs (TCG, sbcost), then every counted mode's CPU s/GB and the cores it would
need for 12.5 GB/s.

  splicebench/why/project.py fit NATIVE_DIR COST_DIR... [--json FILE] [--max-error PCT]
                         [--features instr,moved] [--intercept]

NATIVE_DIR: a native bench/run result set (points.csv: cpu_parts_s_per_gb per point).
COST_DIR: bench/run --vm --cost result sets (points.csv with cost_* columns) or
kernel/cost/bench-cost directories (cost.csv); the first that has a (mode, source, bs)
wins.  Calibration points: every (mode, source, bs) that ran both natively and in
the guest (on this project's sets: copy, splice, libfuse-copy and libfuse-splice at mem and
tcp-loopback), ok on both sides, and on the same reply path (a point whose spliced share
differs by more than 10 points between native and guest is left out, with the reason;
--exclude leaves out others, e.g. where a daemon's fallbacks are invisible).  Model (least squares, no intercept unless asked:
no work, no time):

    cpu_s_per_GB = a * instructions_per_byte + b * bytes_moved_per_byte

instructions: kernel + user, rep-string iterations left out; bytes moved: loads +
stores.  Validation: leave-one-out (fit without a point, predict it); the error is the
root mean square of those relative errors.  Under --max-error (default 25 %) every
counted point (multipipe included) is projected with that error as its band, and the
cores for 12.5 GB/s = CPU s/GB x 12.5; else the projection is refused, with why.
Python 3 standard library only.
"""
import argparse
import csv
import json
import math
import os
import sys

LINE_GBPS = 12.5
LABEL = ("PROJECTION, not a measurement: native CPU s/GB predicted from instructions and "
         "bytes counted under QEMU TCG, by a model fitted on the modes that ran both ways")


def die(msg, code=2):
    print("splicebench/why/project.py: " + msg, file=sys.stderr)
    sys.exit(code)


# ------------------------------------------------------------------ the fit
def solve(A, b):
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(A)
    M = [list(A[i]) + [b[i]] for i in range(n)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        if abs(M[p][c]) < 1e-300:
            return None
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    return [M[i][n] / M[i][i] for i in range(n)]


def lstsq(X, y):
    """Least squares coefficients of y ~ X (rows of features), scaled for conditioning."""
    k = len(X[0])
    scale = [max(abs(r[j]) for r in X) or 1.0 for j in range(k)]
    Xs = [[r[j] / scale[j] for j in range(k)] for r in X]
    A = [[sum(r[i] * r[j] for r in Xs) for j in range(k)] for i in range(k)]
    b = [sum(r[i] * v for r, v in zip(Xs, y)) for i in range(k)]
    c = solve(A, b)
    return None if c is None else [c[j] / scale[j] for j in range(k)]


def predict(coef, x):
    return sum(c * v for c, v in zip(coef, x))


def loo(X, y):
    """Leave-one-out predictions and relative errors; (None, None) when a fit fails."""
    preds, errs = [], []
    for i in range(len(y)):
        c = lstsq(X[:i] + X[i + 1:], y[:i] + y[i + 1:])
        if c is None:
            return None, None
        p = predict(c, X[i])
        preds.append(p)
        errs.append((p - y[i]) / y[i] if y[i] else float("inf"))
    return preds, errs


def rms(v):
    return math.sqrt(sum(e * e for e in v) / len(v)) if v else float("inf")


def fit(cal, features, intercept=False, max_error=0.25):
    """cal: [{"x": {feature: value}, "y": value, ...}].  The model and its validation."""
    X = [[c["x"][f] for f in features] + ([1.0] if intercept else []) for c in cal]
    y = [c["y"] for c in cal]
    names = list(features) + (["intercept"] if intercept else [])
    out = {"features": names, "n": len(y), "max_error_pct": max_error * 100}
    if len(y) < len(names) + 2:
        out.update(allowed=False, reason="%d calibration points for %d coefficients: leave-one-out needs at "
                   "least %d" % (len(y), len(names), len(names) + 2))
        return out
    coef = lstsq(X, y)
    preds, errs = loo(X, y)
    if coef is None or errs is None:
        out.update(allowed=False, reason="the calibration points do not determine the model (singular)")
        return out
    out["coef"] = dict(zip(names, coef))
    out["loo_rms_pct"] = rms(errs) * 100
    out["loo_max_pct"] = max(abs(e) for e in errs) * 100
    out["loo"] = [{"pred": p, "err_pct": e * 100} for p, e in zip(preds, errs)]
    bad = [n for n, c in zip(names, coef) if c < 0 and n != "intercept"]
    if out["loo_rms_pct"] >= max_error * 100:
        out.update(allowed=False, reason="leave-one-out error %.1f %% is not under %.0f %%: the counted costs "
                   "do not predict native CPU time well enough here" % (out["loo_rms_pct"], max_error * 100))
    elif bad:
        out.update(allowed=False, reason="negative cost per unit of %s: the points cannot tell the features "
                   "apart" % ", ".join(bad))
    else:
        out.update(allowed=True, reason="")
    return out


# ------------------------------------------------------------------ the data
def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        x = float(v)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def native_points(d):
    p = os.path.join(d, "points.csv")
    if not os.path.exists(p):
        die("%s has no points.csv (a native bench/run result set)" % d)
    out = {}
    for r in read_csv(p):
        if r.get("status") != "ok" or r.get("env") not in ("native", "kvm"):
            continue
        y = num(r.get("cpu_parts_s_per_gb") or r.get("cpu_total_s_per_gb"))
        if y and y > 0:
            out[(r["mode"], r["source"], int(r["bs"]))] = {"y": y, "point": r.get("point"),
                                                         "kernel": r.get("kernel"),
                                                         "spliced_share": num(r.get("spliced_share"))}
    return out


def cost_points(dirs):
    out = {}
    for d in dirs:
        if os.path.exists(os.path.join(d, "points.csv")):
            rows = [r for r in read_csv(os.path.join(d, "points.csv")) if r.get("status") == "ok"]
            kind = "bench/run --cost"
        elif os.path.exists(os.path.join(d, "cost.csv")):
            rows = read_csv(os.path.join(d, "cost.csv"))
            kind = "bench-cost"
            try:  # the guest kernel: the image kernel/vm booted (guest.log's first line)
                with open(os.path.join(d, "guest.log")) as g:
                    m = g.readline().split(" booting ", 1)[1].split(" with ", 1)[0]
                img = os.path.basename(os.path.dirname(m)) or m
                rows = [dict(r, kernel=r.get("kernel") or img) for r in rows]
            except (OSError, IndexError):
                pass
        else:
            die("%s has neither points.csv nor cost.csv" % d)
        for r in rows:
            ik, iu = num(r.get("cost_instr_per_byte_kernel")), num(r.get("cost_instr_per_byte_user"))
            mv = num(r.get("cost_bytes_moved_per_byte"))
            if ik is None or iu is None or mv is None or r.get("mode") == "network":
                continue
            key = (r["mode"], r.get("source") or "mem", int(r["bs"]))
            out.setdefault(key, {"x": {"instr": ik + iu, "moved": mv, "instr_kernel": ik, "instr_user": iu,
                                       "rep": num(r.get("cost_rep_iters_per_byte") or r.get("rep_iters_per_byte")) or 0.0},
                                 "from": d, "kind": kind, "kernel": r.get("kernel", ""),
                                 "variant": r.get("variant", ""), "spliced_share": num(r.get("spliced_share"))})
    return out


def run(native_dir, cost_dirs, features=("instr", "moved"), intercept=False, max_error=0.25, exclude=None):
    """exclude: {(mode, source, bs): reason} left out of the calibration (still projected)."""
    nat = native_points(native_dir)
    cost = cost_points(cost_dirs)
    cal, left_out = [], []
    exclude = exclude or {}
    for key in sorted(set(nat) & set(cost)):
        mode, source, bs = key
        a, b = nat[key].get("spliced_share"), cost[key].get("spliced_share")
        why = exclude.get(key)
        if not why and a is not None and b is not None and abs(a - b) > 0.1:
            why = "not the same reply path: spliced %.0f %% natively, %.0f %% in the guest" % (100 * a, 100 * b)
        if why:
            left_out.append({"mode": mode, "source": source, "bs": bs, "reason": why})
            continue
        cal.append({"mode": mode, "source": source, "bs": bs, "y": nat[key]["y"], "x": cost[key]["x"]})
    res = fit(cal, features, intercept, max_error)
    res["label"] = LABEL
    res["line_gbps"] = LINE_GBPS
    res["calibration"] = cal
    res["left_out"] = left_out
    for c, l in zip(cal, res.get("loo", [])):
        c.update(l)
    res["kernels"] = {"native": sorted({v["kernel"] for v in nat.values() if v.get("kernel")}),
                      "guest": sorted({("%s %s" % (v["kernel"], v["variant"])).strip() for v in cost.values()}),
                      "cost_from": sorted({v["from"] for v in cost.values()})}
    proj = []
    if res.get("allowed"):
        coef = [res["coef"][f] for f in res["features"]]
        e = res["loo_rms_pct"] / 100
        for (mode, source, bs), v in sorted(cost.items()):
            x = [v["x"][f] for f in features] + ([1.0] if intercept else [])
            s = predict(coef, x)
            proj.append({"mode": mode, "source": source, "bs": bs, "cpu_s_per_gb": s,
                         "cpu_s_per_gb_lo": s * (1 - e), "cpu_s_per_gb_hi": s * (1 + e),
                         "cores_for_line": s * LINE_GBPS, "cores_lo": s * (1 - e) * LINE_GBPS,
                         "cores_hi": s * (1 + e) * LINE_GBPS,
                         "measured_native": nat.get((mode, source, bs), {}).get("y")})
    res["projection"] = proj
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("native")
    f.add_argument("cost", nargs="+")
    f.add_argument("--json")
    f.add_argument("--max-error", type=float, default=25.0, help="percent")
    f.add_argument("--features", default="instr,moved")
    f.add_argument("--intercept", action="store_true")
    f.add_argument("--exclude", action="append", default=[], metavar="MODE/SOURCE/BS=REASON",
                   help="leave a point out of the calibration, with the reason (it is still projected)")
    a = ap.parse_args(argv)
    excl = {}
    for e in a.exclude:
        k, _, why = e.partition("=")
        parts = k.split("/")
        if len(parts) != 3 or not why or not parts[2].isdigit():
            die("--exclude wants MODE/SOURCE/BS=REASON (bs in bytes), not '%s'" % e)
        excl[(parts[0], parts[1], int(parts[2]))] = why
    feats = tuple(x for x in a.features.split(",") if x)
    if not feats or any(x not in ("instr", "moved", "instr_kernel", "instr_user", "rep") for x in feats):
        die("--features: a comma list of instr, moved, instr_kernel, instr_user, rep")
    if not 0 < a.max_error < 1000:
        die("--max-error wants a percentage above 0")
    for d in [a.native] + a.cost:
        if not os.path.isdir(d):
            die("%s is not a directory" % d)
    res = run(a.native, a.cost, feats, a.intercept, a.max_error / 100, excl)
    print(res["label"])
    print("calibration: %d points; native kernel %s; guest %s" % (
        res["n"], ", ".join(res["kernels"]["native"]) or "?", ", ".join(res["kernels"]["guest"]) or "?"))
    for c in res["calibration"]:
        print("  %-15s %-13s %8d  native %.4f s/GB  instr/B %.3f  moved/B %.3f%s" % (
            c["mode"], c["source"], c["bs"], c["y"], c["x"]["instr"], c["x"]["moved"],
            "  loo %.4f (%+.1f %%)" % (c["pred"], c["err_pct"]) if "pred" in c else ""))
    for c in res["left_out"]:
        print("  left out: %s %s %d: %s" % (c["mode"], c["source"], c["bs"], c["reason"]))
    if "coef" in res:
        print("model: cpu_s_per_GB = " + " + ".join("%.4g*%s" % (v, k) for k, v in res["coef"].items()))
        print("leave-one-out error: %.1f %% rms, %.1f %% max" % (res["loo_rms_pct"], res["loo_max_pct"]))
    if not res.get("allowed"):
        print("no projection: " + res["reason"])
    for p in res["projection"]:
        print("  %-15s %-13s %8d  %.4f s/GB (%.4f-%.4f), %.2f cores for 12.5 GB/s (%.2f-%.2f)%s" % (
            p["mode"], p["source"], p["bs"], p["cpu_s_per_gb"], p["cpu_s_per_gb_lo"], p["cpu_s_per_gb_hi"],
            p["cores_for_line"], p["cores_lo"], p["cores_hi"],
            "  (measured %.4f)" % p["measured_native"] if p["measured_native"] else ""))
    if a.json:
        with open(a.json + ".tmp", "w") as fh:
            json.dump(res, fh, indent=1)
        os.replace(a.json + ".tmp", a.json)
    return 0
