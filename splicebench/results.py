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

from . import TOP
from . import verdict as V  # the one verdict rule

# ---------------------------------------------------------------- columns

# The axes of a point, in point-name order, declared once for bench/ and plots/.
# BASE_AXES: the matrix's axes that every point has (splicebench/plan.py expand).  A mode's own
# axes (multipipe's pipes and pipe_size, ...) are its --list options (mode_own_axes());
# "replica" numbers copies of one configuration (a matrix's replicas=N: A/A runs).
BASE_AXES = ["mode", "source", "bs", "numjobs", "ioengine", "iodepth", "direct", "threads",
             "privilege", "pipe_max_size", "verify", "gro"]


def _own_from_lists(meta=None, rows=()):
    """The matrix keys of a set's modes' own options (an option's '-' is '_'), in list
    order: from its meta.json's --list ("lists"), else its points' own_axes, else (a set
    made before either) the fixed points.csv columns between the base axes and the figures."""
    names = []
    for j in _lists_of(meta or {}):
        for m in j.get("modes") or []:
            for o in (m.get("options") or []) if isinstance(m, dict) else []:
                k = (o.get("name") or "").replace("-", "_") if isinstance(o, dict) else ""
                if k and k not in names:
                    names.append(k)
    if not names:  # in the order of the set's columns (points.jsonl sorts its keys)
        own = {k for r in rows for k in ((r.get("_json") or {}).get("own_axes") or {})}
        names = [k for k in (rows[0] if rows else {}) if k in own] + \
            sorted(own - set(rows[0] if rows else {}))
    if not names and not _lists_of(meta or {}):
        names = CSV_COLUMNS[CSV_COLUMNS.index("threads") + 1:CSV_COLUMNS.index("repeats")]
    return names


RUN_LEVEL = ["run_id", "env", "kernel", "variant"]

# points.csv: the fixed columns (written for every point, empty when not applicable).
CSV_COLUMNS = (
    "run_id,point,status,env,kernel,variant,mode,source,path,bs,numjobs,ioengine,iodepth,"
    "direct,threads,pipes,pipe_size,repeats,gbps_median,gbps_min,gbps_max,gbps_stdev,gbps_cv,"
    "lat_p50_us,lat_p99_us,cpu_daemon_usr_s_per_gb,cpu_daemon_sys_s_per_gb,"
    "cpu_server_usr_s_per_gb,cpu_server_sys_s_per_gb,cpu_fio_usr_s_per_gb,cpu_fio_sys_s_per_gb,"
    "cpu_softirq_s_per_gb,cpu_other_s_per_gb,cpu_total_s_per_gb,bytes_spliced,bytes_copied,"
    "fallbacks,baseline_gbps,reason").split(",")
# Optional columns: written after the fixed ones when at least one point has the key
# (top-level scalar in points.jsonl), in the order of bench/README.md's field list.
# Counters: the columns points.csv has for them (a contract of its own: what a counter is
# and how it adds up is the daemons' --list, meta.json's "lists", counters() below; every
# --list counter is a top-level field of points.jsonl); axes: item 5; verification and
# CPU: bench/run.
COUNTERS = ["spliced_share", "replies_spliced", "pipe_slots", "bytes_per_slot", "fallback_small",
            "fallback_grow", "fallback_full", "fallback_error", "pipes_per_reply", "pool_grows",
            "pipe_size_granted", "faults_injected"]
OPTIONAL_COLUMNS = (["program", "privilege", "pipe_max_size", "verify", "window_s", "size_scale",
                     "verify_seed", "verify_granule", "verify_bytes", "verify_status",
                     "verify_first_bad_offset", "verify_s", "cpu_method", "cpu_kthreads_s_per_gb",
                     "cpu_softirq_in_parts", "cpu_parts_s_per_gb", "cpu_rest_s_per_gb",
                     "cpu_capacity_s_per_gb"] + COUNTERS + ["fallbacks_visible", "gro", "cv_target", "cap_sys_resource",
                                 "replica", "rounds", "round_order", "slots_pass", "splice_protocol"])
# Point-JSON objects that are details, not extra CSV columns.
DETAIL_OBJECTS = {"runs", "daemon_stats", "cpu_seconds", "settings", "gbps_values", "cost_windows",
                  "verify_detail", "own_axes"}

# Columns plots/ and sbstat compare cannot do without.
REQUIRED = ["status", "env", "kernel", "variant", "mode", "source", "path", "bs", "numjobs",
            "ioengine", "iodepth", "direct", "threads", "pipes", "pipe_size", "repeats",
            "gbps_median", "gbps_min", "gbps_max", "lat_p50_us", "lat_p99_us",
            "bytes_spliced", "bytes_copied", "fallbacks", "baseline_gbps", "reason"]
INT_COLUMNS = ["bs", "numjobs", "iodepth", "direct", "threads", "pipes", "pipe_size", "repeats",
               "pipe_max_size", "replica"]
NUMERIC = (INT_COLUMNS + ["gbps_median", "gbps_min", "gbps_max", "gbps_stdev", "gbps_cv",
                          "lat_p50_us", "lat_p99_us", "bytes_spliced", "bytes_copied", "fallbacks",
                          "baseline_gbps", "cv_target", "window_s", "size_scale"]
           + [c for c in COUNTERS])

# ---------------------------------------------------------------- CPU parts

# The parts of the CPU time of a point, per GB delivered, as bench/run publishes them
# (bench/README.md, points.csv): each part is the first column set found in the data
# (a set is summed: usr + sys).  "rest" (rest of the machine) is shown apart and never
# counts in a mode's cost.  Old result sets (/proc/PID/stat ticks) have cpu_other:
# system time nobody was charged for, which is rest of machine too.
CPU_PARTS = [
    ("daemon", "daemon", "#08519c", [("cpu_daemon_s_per_gb",),
                                     ("cpu_daemon_usr_s_per_gb", "cpu_daemon_sys_s_per_gb")]),
    ("server", "data server", "#fd8d3c", [("cpu_server_s_per_gb",),
                                          ("cpu_server_usr_s_per_gb", "cpu_server_sys_s_per_gb")]),
    ("fio", "fio", "#31a354", [("cpu_fio_s_per_gb",), ("cpu_fio_usr_s_per_gb", "cpu_fio_sys_s_per_gb")]),
    ("softirq", "softirq", "#756bb1", [("cpu_softirq_s_per_gb",)]),
    ("kthreads", "kernel threads", "#bcbddc", [("cpu_kthreads_s_per_gb",)]),
    ("rest", "rest of machine", "#969696", [("cpu_rest_s_per_gb",), ("cpu_other_s_per_gb",)]),
]
CPU_MODE_PARTS = [p[0] for p in CPU_PARTS if p[0] != "rest"]
# softirq is a part of its own only where no task was charged for it (bench/run says so in
# this column: 0 = already inside the tasks' times, shown for information, not added).
CPU_SOFTIRQ_IN_PARTS = "cpu_softirq_in_parts"
CPU_SUM_COLS = ("cpu_parts_s_per_gb",)          # the mode's cost as bench/run summed it
CPU_CAPACITY_COLS = ("cpu_capacity_s_per_gb",)  # cores x wall of the timed windows, per GB
CPU_LABEL = {p[0]: p[1] for p in CPU_PARTS}
CPU_COLOR = {p[0]: p[2] for p in CPU_PARTS}


def first_col(row, names):
    for n in names:
        v = row.get(n)
        if v not in (None, ""):
            return n, v
    return None, None


def cpu_parts(row):
    """{part: s/GB} for the parts the row has ({} without CPU data)."""
    out = {}
    for key, _, _, sets in CPU_PARTS:
        for cols in sets:
            vals = [row.get(c) for c in cols]
            if all(isinstance(v, (int, float)) for v in vals):
                out[key] = float(sum(vals))
                break
    return out


def softirq_counted(row):
    v = row.get(CPU_SOFTIRQ_IN_PARTS)
    return v in (None, "") or bool(v)


def cpu_mode_cost(row):
    """The mode's own CPU s/GB: the parts but rest of machine (and softirq when it is
    already inside the tasks' times); None without CPU data."""
    p = cpu_parts(row)
    keys = [k for k in CPU_MODE_PARTS if k in p and (k != "softirq" or softirq_counted(row))]
    return sum(p[k] for k in keys) if keys else None


def cpu_check(row, tol=1e-3):
    """(sum of the mode's parts, cores x wall, problem or "") in s/GB; capacity None when
    the data has none.  A problem: the parts (or parts + rest of machine) exceed cores x
    wall, or bench/run's published sum disagrees with the parts."""
    s = cpu_mode_cost(row)
    if s is None:
        return None, None, ""
    rest = cpu_parts(row).get("rest") or 0.0
    _, published = first_col(row, CPU_SUM_COLS)
    _, cap = first_col(row, CPU_CAPACITY_COLS)
    prob = []
    if isinstance(published, (int, float)) and abs(published - s) > max(tol * max(s, published), 2e-4):
        prob.append(f"published sum {published:.4g} s/GB differs from its parts' {s:.4g}")
    if isinstance(cap, (int, float)):
        if s > cap * (1 + tol) + 1e-9:
            prob.append(f"CPU parts add up to {s:.4g} s/GB, more than cores x wall time ({cap:.4g} s/GB)")
        elif s + rest > cap * (1 + tol) + 1e-9:
            prob.append(f"CPU parts plus rest of machine ({s + rest:.4g} s/GB) exceed cores x wall time "
                        f"({cap:.4g} s/GB)")
    return s, cap if isinstance(cap, (int, float)) else None, "; ".join(prob)


# ---------------------------------------------------------------- cost columns

# Cost per byte delivered (kernel/vm --cost, cost-join): lower is better.
COST_MOVED = "cost_bytes_moved_per_byte"
COST_INSTR = ("cost_instr_per_byte_kernel", "cost_instr_per_byte_user")
COST_REPEATS = "cost_repeats"
# A network's own cost baseline (a plain TCP reader, counted the same way): either a
# point whose mode is one of these names, or these columns on a mode's point.
COST_BASELINE_MODES = ("network", "net-baseline", "tcp-reader", "sbclient", "baseline")
COST_BASELINE_COLS = ("cost_baseline_bytes_moved_per_byte", "baseline_cost_bytes_moved_per_byte",
                      "cost_net_bytes_moved_per_byte")


def instr_per_byte(row):
    vals = [row.get(c) for c in COST_INSTR if row.get(c) is not None]
    return sum(vals) if vals else None


COST_METRICS = [  # (name in sentences, getter)
    ("bytes moved per byte delivered", lambda r: r.get(COST_MOVED)),
    ("instructions per byte delivered", instr_per_byte),
]

# ---------------------------------------------------------------- fallbacks

FALLBACK_REASONS = [("fallback_small", "reply too small"), ("fallback_grow", "pipe could not grow"),
                    ("fallback_full", "pipe full of fragments"), ("fallback_error", "splice error")]


def copied_share(r):
    s, c = r.get("bytes_spliced") or 0, r.get("bytes_copied") or 0
    return 100.0 * c / (s + c) if s + c > 0 else 0.0


def fell_back(r, copy_modes=()):
    """A point whose daemon copied bytes in a mode meant to splice (copy modes given)."""
    if r.get("mode") in copy_modes:
        return False
    return (r.get("bytes_copied") or 0) > 0 and ((r.get("bytes_spliced") or 0) > 0 or (r.get("fallbacks") or 0) > 0)


def fallback_reasons(r):
    """'pipe could not grow' / 'pipe full of fragments 40, reply too small 2' from the counters."""
    got = [(r.get(c) or 0, lab) for c, lab in FALLBACK_REASONS if isinstance(r.get(c), (int, float)) and r.get(c)]
    if not got:
        return ""
    if len(got) == 1:
        return got[0][1]
    return ", ".join(f"{lab} {int(n)}" for n, lab in sorted(got, key=lambda x: -x[0]))


def mode_label(r, copy_modes=()):
    """'splice', 'splice (copied 98 %, pipe could not grow)', or 'libfuse-splice (fallbacks
    not visible)' where the daemon cannot see them."""
    m = r.get("mode", "?")
    if m not in copy_modes and fallbacks_hidden(r):
        return f"{m} (fallbacks not visible)"
    if not fell_back(r, copy_modes):
        return m
    why = fallback_reasons(r)
    return f"{m} (copied {copied_share(r):.0f} %" + (f", {why})" if why else ")")


# ---------------------------------------------------------------- formatting

def bs_label(bs):
    bs = int(bs)
    if bs >= 1 << 20 and bs % (1 << 20) == 0:
        return f"{bs >> 20}M"
    if bs >= 1024 and bs % 1024 == 0:
        return f"{bs >> 10}K"
    return f"{bs}B"


def axes_words(r, skip=()):
    """The axes of a point in words: 'mem, bs=1M, numjobs=1, direct=1, psync qd=1, threads=1'."""
    out = []
    for k in AXES:
        if k in skip or k == "path":
            continue
        v = r.get(k)
        if v in (None, ""):
            continue
        if k in ("bs", "pipe_size", "pipe_max_size"):
            v = bs_label(v)
        out.append(str(v) if k in ("mode", "source", "ioengine") else f"{k}={v}")
    return ", ".join(out)


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


def load_set(d, required=REQUIRED, cls=None):
    """A result set directory -> ResultSet.  Bad input raises InputError (one line)."""
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
            if not rec or all(not x.strip() for x in rec):
                continue
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
                if c == "pipes" and row[c] == "auto":
                    continue  # multipipe's pool sized from the reply's slots (pipes=auto)
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
            rows.append(row)
    meta = {}
    mp = os.path.join(d, "meta.json")
    if os.path.isfile(mp):
        try:
            with open(mp, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError) as e:
            raise InputError(f"{mp}: not valid JSON: {e}")
        if not isinstance(meta, dict):
            raise InputError(f"{mp}: not a JSON object")
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
    # Bytes-per-slot probe lines (scripts/pipe-slots --out), where the run kept them.
    for n in ("pipe-slots.jsonl", "slots.jsonl"):
        for rec in read_jsonl(os.path.join(d, n)):
            if isinstance(rec, dict) and "bytes_per_slot" in rec:
                baseline.append(rec)
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


# ---------------------------------------------------------------- modes

def _top():
    return TOP


_LISTS = []  # the --list JSON of the programs of every set read so far (use_lists)
_OPTIONS = {}  # mode -> its option names (from a set's --list)
_SPLICES = {}  # mode -> its --list "splices" (its replies may pass through a pipe)


# The --list of splicefs and libfuse-ref as they were when meta.json began to carry its
# own (committed data, never a build's output at read time): a set made before is read
# with it, as it was read with the build's then.
_LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run", "lists-legacy.json")
_LEGACY_LISTS = None


def _legacy_lists():
    global _LEGACY_LISTS
    if _LEGACY_LISTS is None:
        try:
            with open(_LEGACY, encoding="utf-8") as f:
                _LEGACY_LISTS = [j for j in json.load(f) if isinstance(j, dict)]
        except (OSError, ValueError, TypeError):
            _LEGACY_LISTS = []
    return _LEGACY_LISTS


def _lists_of(meta):
    """The --list JSON objects a set's meta.json carries ("lists": bench/run since the
    counters came from --list); a set made before: the lists of that time (_LEGACY)."""
    ls = meta.get("lists") if isinstance(meta, dict) else None
    if isinstance(ls, list):
        return [j for j in ls if isinstance(j, dict)]
    return _legacy_lists() if isinstance(meta, dict) else []


def mode_lists(meta=None):
    """[(program, [mode names in list order])] from a set's meta.json ("lists", else its
    "programs"), or, without META, from every set read so far; never from a build."""
    if meta is None:
        out = []
        for j in _LISTS:
            out += [p for p in _pairs(j) if p not in out]
        return out
    out = [p for j in _lists_of(meta) for p in _pairs(j)]
    if not out and isinstance(meta.get("programs"), dict):
        out = [(p, [m for m in ms if isinstance(m, str)]) for p, ms in meta["programs"].items()
               if isinstance(ms, list)]
    return out


def _pairs(j):
    names = [m.get("name") if isinstance(m, dict) else m for m in j.get("modes") or []]
    names = [n for n in names if isinstance(n, str) and n]
    return [(j.get("file") or j.get("program") or "?", names)] if names else []


def use_lists(meta, rows=()):
    """A set's own --list (its meta.json) known from now on: its modes' options and
    "splices", and its modes' own axes added to MODE_OWN_AXES and AXES (in place)."""
    ls = _lists_of(meta)
    for j in ls:
        if j not in _LISTS:
            _LISTS.append(j)
        for m in j.get("modes") or []:
            if isinstance(m, dict) and m.get("name"):
                _OPTIONS.setdefault(m["name"], [o.get("name") for o in m.get("options") or []
                                                if isinstance(o, dict)])
                if isinstance(m.get("splices"), bool):
                    _SPLICES.setdefault(m["name"], m["splices"])
    if not ls:  # a set made before meta.json carried --list: its "programs"
        for p, ms in mode_lists(meta):
            j = {"program": p, "modes": ms}
            if j not in _LISTS:
                _LISTS.append(j)
    for k in _own_from_lists(meta, rows):
        if k not in MODE_OWN_AXES:
            MODE_OWN_AXES.append(k)
            AXES.insert(AXES.index("privilege"), k)


def counters(meta):
    """The daemon counters a set's --list declares (meta.json "lists"): [{name, combine,
    help, num, den, mode}], in list order; [] for a set made before."""
    out, seen = [], set()
    for j in _lists_of(meta):
        for c in j.get("counters") or []:
            if isinstance(c, dict) and c.get("name") and c["name"] not in seen:
                seen.add(c["name"])
                out.append(c)
    return out


def mode_options(mode):
    """The option names a mode declares in the --list of the sets read ([] when unknown)."""
    return _OPTIONS.get(mode, [])


def mode_programs(rows, meta):
    """mode -> program (splicefs, libfuse-ref, ...): a `program` column, meta.json's lists
    ({"programs": {"libfuse-ref": ["..."]}} or {"lists": [{"program": .., "modes": [..]}]}),
    else those of the sets read so far; unknown modes are splicefs's."""
    prog = {}
    for r in rows:
        if r.get("program") and r.get("mode"):
            prog.setdefault(r["mode"], r["program"])
    pm = meta.get("programs")
    if isinstance(pm, dict):
        for p, ms in pm.items():
            for m in ms if isinstance(ms, list) else []:
                prog.setdefault(m if isinstance(m, str) else m.get("name", ""), p)
    lists = meta.get("lists") or meta.get("mode_lists")
    if isinstance(lists, list):
        for j in lists:
            if isinstance(j, dict):
                for m in j.get("modes", []):
                    prog.setdefault(m if isinstance(m, str) else m.get("name", ""), j.get("program", "?"))
    for p, ms in mode_lists(meta) + mode_lists():
        for m in ms:
            prog.setdefault(m, p)
    return prog


def ordered_modes(rows, programs, meta=None):
    """Modes in the data: in meta.json's `modes` order (bench/run records the run's modes
    in matrix order); without it splicefs's first, then by program, each in list/first-seen
    order."""
    listed = (meta or {}).get("modes")
    if isinstance(listed, list) and all(isinstance(m, str) for m in listed):
        seen = []
        for r in rows:
            if r.get("mode") and r["mode"] not in seen:
                seen.append(r["mode"])
        return sorted(seen, key=lambda m: (listed.index(m) if m in listed else len(listed) + seen.index(m)))
    order = {}
    for _, ms in mode_lists(meta or {}) + mode_lists():
        for m in ms:
            order.setdefault(m, len(order))
    seen = []
    for r in rows:
        if r.get("mode") and r["mode"] not in seen:
            seen.append(r["mode"])
    return sorted(seen, key=lambda m: (programs.get(m, "splicefs") != "splicefs", programs.get(m, "splicefs"),
                                       order.get(m, 1000 + seen.index(m))))


def fallbacks_hidden(r):
    """The daemon cannot see its own fallbacks (libfuse-ref: libfuse copies silently)."""
    v = r.get("fallbacks_visible")
    return v is not None and v != "" and str(v).lower() in ("false", "0")


def copy_like_modes(rows, programs, meta=None):
    """Modes that never splice (a copy mode): no ok point of theirs spliced a byte and at
    least one copied.  Learnt from the data, so no mode name is spelt out; but a mode whose
    daemon cannot see its fallbacks (0 spliced says nothing) is a copy mode only where its
    --list says it never splices (meta.json's splicing_modes, else the built program's)."""
    spl, cop, hidden = set(), set(), set()
    for r in rows:
        if r.get("status") != "ok":
            continue
        if fallbacks_hidden(r):
            hidden.add(r["mode"])
        if (r.get("bytes_spliced") or 0) > 0 or (r.get("fallbacks") or 0) > 0:
            spl.add(r["mode"])
        elif (r.get("bytes_copied") or 0) > 0:
            cop.add(r["mode"])
    listed = (meta or {}).get("splicing_modes")
    if isinstance(listed, list):
        known = {m: m in listed for m in (meta or {}).get("modes") or []}
    else:
        known = dict(_SPLICES)
    return {m for m in cop - spl if m not in hidden or known.get(m) is False}


def reference_pairs(programs, modes):
    """[(splicefs mode, reference mode)]: a mode of another program pairs with the splicefs
    mode its name ends in ('-' + name), e.g. PROGPREFIX-copy with copy."""
    ours = [m for m in modes if programs.get(m, "splicefs") == "splicefs"]
    out = []
    for ref in modes:
        if programs.get(ref, "splicefs") == "splicefs":
            continue
        for m in sorted(ours, key=len, reverse=True):
            if ref.endswith("-" + m):
                out.append((m, ref))
                break
    return out


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


def paired(a, b, what="gbps", higher_better=True):
    """The rule's full answer (sbverdict.paired_verdict's dict) for b against a."""
    ra, rb = round_values(a, what), round_values(b, what)
    d = V.paired_verdict(V.paired_ratios(ra, rb), higher_better)
    if not ra or not rb:
        d["reason"] = "no per-round figures (%s has no points.jsonl runs)" % ("A" if not ra else "B")
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
    own = lambda r: ", ".join(f"{a}={bs_label(r[a]) if a == 'pipe_size' else r[a]}" for a in MODE_OWN_AXES
                              if r.get(a) not in (None, ""))
    if pick and judge:
        r = max(rows, key=lambda r: med(r, pick))
        return (restrict_rounds(r, set(judge)),
                f"{own(r)}: best of {len(rows)} settings on rounds {','.join(map(str, pick))}; "
                f"its figures and verdicts from rounds {','.join(map(str, judge))} only")
    r = max(rows, key=lambda r: r.get("gbps_median") or 0)
    return r, f"{own(r)}: best of {len(rows)} settings (no rounds to set apart: picked and judged on the same data)"


# ---------------------------------------------------------------- axes (from --list)

# The modes' own axes of the sets read so far (use_lists, from their meta.json: never a
# build's --list); both lists grow in place as sets are read.
MODE_OWN_AXES = []
AXES = (["mode", "source", "path", "bs", "numjobs", "ioengine", "iodepth", "direct", "threads"]
        + MODE_OWN_AXES + ["privilege", "pipe_max_size", "verify", "gro", "replica"])
