"""splicebench result sets, shared by splicebench/stats.py (compare, summary) and
splicebench/report/main.py (charts, report).  Python 3 standard library only.

One place for: the points.csv columns, loading a result set (points.csv,
points.jsonl when present, meta.json, baseline.jsonl), the axes and how points
are matched, the noise rule behind every verdict and headline, fallback labels,
the CPU parts, the cost columns and the reply modes (taken from the data and from the
programs' --list that the set's meta.json carries, never spelled out here; reading a set
never runs a program).

Field names that bench/run publishes are mapped here once (CPU_PARTS,
CPU_SUM_COLS, CPU_CAPACITY_COLS, COST_*): a renamed field changes one line.
"""
import csv
import json
import math
import os
import re
import statistics
import sys

from . import TOP  # noqa: F401
from . import verdict as V  # noqa: F401  (the one judge)
from .columns import (  # noqa: F401  (re-exported: the results API in one place)
    BASE_AXES, RUN_LEVEL, CSV_COLUMNS, COUNTERS, OPTIONAL_COLUMNS, DETAIL_OBJECTS, REQUIRED,
    INT_COLUMNS, NUMERIC, CPU_PARTS, CPU_MODE_PARTS, CPU_SOFTIRQ_IN_PARTS, CPU_SUM_COLS,
    CPU_CAPACITY_COLS, CPU_LABEL, CPU_COLOR, first_col, cpu_parts, softirq_counted, cpu_mode_cost,
    cpu_check, COST_MOVED, COST_INSTR, COST_REPEATS, COST_BASELINE_MODES, COST_BASELINE_COLS,
    instr_per_byte, COST_METRICS, FALLBACK_REASONS, copied_share, fell_back, fallback_reasons,
    bs_label,
)
from .modes import (  # noqa: F401  (re-exported: the results API in one place)
    mode_lists, use_lists, counters, mode_options, mode_programs, ordered_modes, fallbacks_hidden,
    copy_like_modes, reference_pairs, MODE_OWN_AXES, AXES, mode_label, axes_words, is_size_axis, axis_label,
)
from .matching import (  # noqa: F401  (re-exported: the results API in one place)
    RULE, BETWEEN_RULE, COST_RULE, stable, round_values, paired, verdict, spread, spread_verdict,
    run_cpu_values, cost_values, cost_spread, cost_judged, cost_verdict, control_row,
    default_control, round_ratios, between, control_change, match_key, match_sets,
    comparable_groups, restrict_rounds, pick_row,
)

# ---------------------------------------------------------------- loading

class InputError(Exception):
    pass


def _float(v):
    v = (v or "").strip()
    if v == "":
        return None
    try:
        x = float(v)
    except ValueError:
        raise ValueError(v)
    return x if math.isfinite(x) else None


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass  # a torn line (never written by bench/run) is ignored
    except FileNotFoundError:
        pass
    return out


def _row(path, ln, header, rec, numeric, odd):
    """One points.csv record -> a row with its numbers parsed; bad input raises InputError."""
    if len(rec) != len(header):
        raise InputError(f"{path}:{ln}: {len(rec)} fields, the header has {len(header)}")
    row = {h: v.strip() for h, v in zip(header, rec)}
    for c in header:  # cost columns: numbers where they parse, ignored (None) otherwise
        if c.startswith("cost_"):
            try:
                row[c] = _float(row[c])
            except ValueError:
                odd.add(c)
                row[c] = None
    for c in numeric:
        if c in MODE_OWN_AXES and row[c] and not row[c][0].isdigit():
            continue  # a mode's own option may take a word (e.g. a pool sized by the reply: auto)
        try:
            row[c] = _float(row[c])
        except ValueError as e:
            if c in COUNTERS or c in OPTIONAL_COLUMNS:
                row[c] = None  # an optional counter that is not a number: left out
                continue
            raise InputError(f"{path}:{ln}: column {c}: not a number: '{e}'")
    for c in INT_COLUMNS:
        if row.get(c) is not None and c in header and row[c] != "auto":
            row[c] = int(row[c])
    if row["status"] == "ok":
        for c in ("bs", "numjobs", "gbps_median"):
            if row.get(c) is None:
                raise InputError(f"{path}:{ln}: status ok but {c} is empty")
        if row["bs"] <= 0:
            raise InputError(f"{path}:{ln}: bs must be > 0")
    return row


def _read_points_csv(d, required):
    """(header, rows, columns whose values did not parse) of DIR/points.csv."""
    path = os.path.join(d, "points.csv")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file (a result set directory from bench/run?)")
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        try:
            header = [h.strip() for h in next(rd)]
        except StopIteration:
            raise InputError(f"{path}: empty file")
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(f"{path}: missing column(s): {', '.join(missing)} "
                             "(see the points.csv contract in bench/README.md)")
        rows, odd = [], set()
        numeric = [c for c in dict.fromkeys(NUMERIC + [c for c in header if c.startswith("cpu_")]) if c in header]
        for ln, rec in enumerate(rd, start=2):
            if rec and any(x.strip() for x in rec):
                rows.append(_row(path, ln, header, rec, numeric, odd))
    return header, rows, odd


def _read_meta(d):
    mp = os.path.join(d, "meta.json")
    if not os.path.isfile(mp):
        return {}
    try:
        with open(mp, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"{mp}: not valid JSON: {e}")
    if not isinstance(meta, dict):
        raise InputError(f"{mp}: not a JSON object")
    return meta


def _read_baseline(d):
    """baseline.jsonl's records, and the bytes-per-slot probe lines (scripts/pipe-slots --out)."""
    baseline = []
    bp = os.path.join(d, "baseline.jsonl")
    if os.path.isfile(bp):
        with open(bp, encoding="utf-8") as f:
            for ln, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except ValueError as e:
                        raise InputError(f"{bp}:{ln}: not valid JSON: {e}")
                    if isinstance(rec, dict):
                        baseline.append(rec)
    for n in ("pipe-slots.jsonl", "slots.jsonl"):
        for rec in read_jsonl(os.path.join(d, n)):
            if isinstance(rec, dict) and "bytes_per_slot" in rec:
                baseline.append(rec)
    return baseline


def load_set(d, required=REQUIRED, cls=None):
    """A result set directory -> ResultSet.  Bad input raises InputError (one line)."""
    meta = _read_meta(d)
    use_lists(meta)  # the set's own modes and their options, before its columns are parsed
    header, rows, odd = _read_points_csv(d, required)
    baseline = _read_baseline(d)
    # Details that only points.jsonl has (per-repeat figures), joined by point name.
    js = {p.get("point"): p for p in read_jsonl(os.path.join(d, "points.jsonl")) if isinstance(p, dict)}
    for r in rows:
        p = js.get(r.get("point"))
        if p:
            r["_json"] = p
    cost_cols = [c for c in header if c.startswith("cost_") and "_per_byte" in c and c not in odd
                 and not c.startswith(COST_BASELINE_COLS)
                 and any(r.get(c) is not None for r in rows if r["status"] == "ok")]
    return (cls or ResultSet)(d, header, rows, meta, baseline, cost_cols)


class ResultSet:
    def __init__(self, d, header, rows, meta, baseline, cost_cols):
        self.dir, self.header, self.rows, self.meta = d, header, rows, meta
        self.baseline, self.cost_cols = baseline, cost_cols
        self.ok = [r for r in rows if r["status"] == "ok"]
        self.name = os.path.basename(os.path.normpath(d))
        use_lists(meta, rows)  # the set's own modes, axes and counters (its meta.json)
        self.counters = counters(meta)
        self.programs = mode_programs(rows, meta)
        self.modes = ordered_modes(rows, self.programs, meta)
        self.copy_modes = copy_like_modes(self.rows, self.programs, meta)

    def run_value(self, key):
        v = self.meta.get(key)
        if v not in (None, ""):
            return str(v)
        vals = sorted({r[key] for r in self.rows if r.get(key)})
        return "/".join(vals) if vals else "?"

    @property
    def env(self):
        return self.run_value("env")

    @property
    def emulated(self):
        return self.env == "tcg"

    @property
    def cv_target(self):
        return cv_target(self.meta, self.rows)

    def match_axes(self):
        return [a for a in AXES if a in self.header]


def cv_target(meta, rows=()):
    """The matrix's cv_target: meta.json (settings or top level), a CSV column, or points.jsonl
    settings; 0.05 (bench/run's default) when none says."""
    for src in (meta.get("settings") if isinstance(meta.get("settings"), dict) else {}, meta):
        v = src.get("cv_target")
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
        if isinstance(v, str):
            try:
                return float(v[:-1]) / 100 if v.endswith("%") else float(v)
            except ValueError:
                pass
    txt = meta.get("matrix_text") if isinstance(meta.get("matrix_text"), str) else ""
    for ov in list(meta.get("overrides") or []) if isinstance(meta.get("overrides"), list) else []:
        txt += "\n" + str(ov)
    found = None
    for ln in txt.splitlines():
        m = re.match(r"\s*cv_target\s*=\s*([0-9.]+%?)", ln.split("#", 1)[0])
        if m:
            found = m.group(1)  # the last one wins: a --set after the file's line
    if found:
        try:
            return float(found[:-1]) / 100 if found.endswith("%") else float(found)
        except ValueError:
            pass
    for r in rows:
        v = r.get("cv_target")
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
        s = (r.get("_json") or {}).get("settings") or {}
        if isinstance(s.get("cv_target"), (int, float)) and s["cv_target"] > 0:
            return float(s["cv_target"])
    return 0.05
