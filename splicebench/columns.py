"""The columns of a result set, declared once: points.csv's fixed and optional columns,
the axes every point has, the CPU parts and cost columns, the fallback reasons and the
labels built from them.  Field names that bench/run publishes are mapped here once
(CPU_PARTS, CPU_SUM_COLS, CPU_CAPACITY_COLS, COST_*): a renamed field changes one line."""

# ---------------------------------------------------------------- columns

# The axes of a point, in point-name order, declared once for bench/ and plots/.
# BASE_AXES: the matrix's axes that every point has (splicebench/plan.py expand).  A mode's own
# axes (multipipe's pipes and pipe_size, ...) are its --list options (mode_own_axes());
# "replica" numbers copies of one configuration (a matrix's replicas=N: A/A runs).
BASE_AXES = ["mode", "source", "bs", "numjobs", "ioengine", "iodepth", "direct", "threads",
             "privilege", "pipe_max_size", "verify", "gro"]




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



# ---------------------------------------------------------------- formatting

def bs_label(bs):
    bs = int(bs)
    if bs >= 1 << 20 and bs % (1 << 20) == 0:
        return f"{bs >> 20}M"
    if bs >= 1024 and bs % 1024 == 0:
        return f"{bs >> 10}K"
    return f"{bs}B"
