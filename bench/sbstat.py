#!/usr/bin/env python3
"""splicebench statistics and bookkeeping (Python 3 standard library only).

    sbstat.py expand MATRIX [KEY=VALUE...]   validate a matrix file (+ overrides), print its points
    sbstat.py repeat --fio F --before S --after S [--gb-floor]   one repeat -> JSON line
    sbstat.py enough REPEATS.jsonl MIN MAX CV   exit 0 when no more repeats are needed
    sbstat.py point SPEC.json REPEATS.jsonl [--stats F] [--status S] [--reason R] ...
                                             aggregate one point -> JSON line
    sbstat.py csv POINTS.jsonl               the CSV (contract in bench/README.md)
    sbstat.py compare DIR_A DIR_B [--csv F | --out DIR_OUT]  two result sets side by side
    sbstat.py compare DIR --by AXIS --base VALUE [--csv F | --out DIR_OUT]   within one set
    sbstat.py summary DIR                    a short table of a result set
    sbstat.py cost-join POINTS.jsonl COST.jsonl...   bench/sbcostjoin.py: the sbcost windows
                                             joined to the points -> JSON lines

Result sets are read through bench/sbresults.py (shared with plots/sbplots.py): the
columns, axes, point matching and the noise rule live there.
Errors are one line on stderr and exit status 2.
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbresults as R  # noqa: E402  (the shared results module)
from sbresults import CSV_COLUMNS, DETAIL_OBJECTS, OPTIONAL_COLUMNS, read_jsonl, spread  # noqa: E402

# ---------------------------------------------------------------- matrices

AXES = ["mode", "source", "bs", "numjobs", "ioengine", "iodepth", "direct",
        "threads", "pipes", "pipe_size"]
# Settings: one value per matrix (not part of the cross product).
SETTINGS = {
    "repeats": "1/1", "cv_target": "0.05", "size": "64m", "runtime": "",
    "warmup": "8m", "max_read": "1m", "readahead": "1m",
}
DEFAULTS = {"mode": "", "source": "mem", "bs": "128k", "numjobs": "1",
            "ioengine": "psync", "iodepth": "1", "direct": "1", "threads": "1",
            "pipes": "4", "pipe_size": "1m"}
SOURCES = {"mem": "mem", "tcp-loopback": "loopback", "tcp-veth": "veth", "tcp-nic": "nic"}
ENGINES = ("psync", "libaio", "io_uring")
class Bad(Exception):
    pass


def die(msg):
    sys.stderr.write("sbstat: %s\n" % msg)
    sys.exit(2)


def size_bytes(s, what):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", s)
    if not m:
        raise Bad("%s: '%s' is not a size (a number with an optional k, m or g suffix)" % (what, s))
    n = int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    if n <= 0:
        raise Bad("%s: '%s' must be > 0" % (what, s))
    return n


def pos_int(s, what, lo=1, hi=1 << 20):
    if not re.fullmatch(r"\d+", s) or not lo <= int(s) <= hi:
        raise Bad("%s: '%s' is not a whole number in %d..%d" % (what, s, lo, hi))
    return int(s)


def parse_matrix(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise Bad("cannot read matrix '%s': %s" % (path, e.strerror))
    vals = {}
    for ln, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([a-z_]+)\s*=\s*(.*)", line)
        if not m:
            raise Bad("%s:%d: expected KEY=VALUE..., got '%s'" % (path, ln, line))
        key, rest = m.group(1), m.group(2).split()
        if key not in AXES and key not in SETTINGS:
            raise Bad("%s:%d: unknown key '%s' (axes: %s; settings: %s)"
                      % (path, ln, key, " ".join(AXES), " ".join(SETTINGS)))
        if key in vals:
            raise Bad("%s:%d: '%s' given twice" % (path, ln, key))
        if key in SETTINGS and len(rest) > 1:
            raise Bad("%s:%d: '%s' takes one value" % (path, ln, key))
        if key in AXES and not rest:
            raise Bad("%s:%d: '%s' has no value" % (path, ln, key))
        vals[key] = rest
    return text, vals


def expand(path, overrides=()):
    """Validate and expand a matrix: (settings, [point dict]) with duplicates removed.
    overrides: "KEY=VALUE..." strings that replace the file's line for KEY."""
    text, vals = parse_matrix(path)
    for o in overrides:
        m = re.fullmatch(r"([a-z_]+)=(.*)", o.strip())
        if not m or (m.group(1) not in AXES and m.group(1) not in SETTINGS):
            raise Bad("--set '%s': expected KEY=VALUE with a matrix key (%s %s)"
                      % (o, " ".join(AXES), " ".join(SETTINGS)))
        rest = m.group(2).split()
        if not rest or (m.group(1) in SETTINGS and len(rest) > 1):
            raise Bad("--set '%s': bad value" % o)
        vals[m.group(1)] = rest
    lists = R.mode_lists()  # the modes: splicefs --list and libfuse-ref --list, never spelt out here
    modes = {m: p for p, ms in lists for m in ms}
    if not modes:
        raise Bad("cannot list the modes: build/splicefs --list gave nothing (run make)")
    own = {}  # modes that take a pipes option (their pipes/pipe_size axes apply)
    ax = {k: vals.get(k, [DEFAULTS[k] or lists[0][1][0]]) for k in AXES}
    st = {k: (vals[k][0] if vals.get(k) else v) for k, v in SETTINGS.items()}
    for v in ax["mode"]:
        if v not in modes:
            raise Bad("mode: '%s' unknown (%s)" % (v, ", ".join(modes)))
        own[v] = mode_has_pipes(v)
    for v in ax["source"]:
        if v not in SOURCES:
            raise Bad("source: '%s' unknown (%s)" % (v, ", ".join(SOURCES)))
    for v in ax["ioengine"]:
        if v not in ENGINES:
            raise Bad("ioengine: '%s' unknown (psync, libaio, io_uring)" % v)
    for v in ax["direct"]:
        if v not in ("0", "1"):
            raise Bad("direct: '%s' must be 0 or 1" % v)
    bss = [size_bytes(v, "bs") for v in ax["bs"]]
    for b in bss:
        if b % 4096:
            raise Bad("bs: %d is not a multiple of 4k (splicefs's granule and direct I/O need it)" % b)
    nj = [pos_int(v, "numjobs", 1, 256) for v in ax["numjobs"]]
    qd = [pos_int(v, "iodepth", 1, 4096) for v in ax["iodepth"]]
    th = [pos_int(v, "threads", 1, 256) for v in ax["threads"]]
    pp = [pos_int(v, "pipes", 1, 64) for v in ax["pipes"]]
    ps = [size_bytes(v, "pipe_size") for v in ax["pipe_size"]]
    m = re.fullmatch(r"(\d+)(?:/(\d+))?", st["repeats"])
    if not m:
        raise Bad("repeats: '%s' must be N or MIN/MAX" % st["repeats"])
    rmin = int(m.group(1))
    rmax = int(m.group(2) or m.group(1))
    if not 1 <= rmin <= rmax <= 100:
        raise Bad("repeats: need 1 <= MIN <= MAX <= 100, got '%s'" % st["repeats"])
    cv = st["cv_target"]
    try:
        cvf = float(cv[:-1]) / 100 if cv.endswith("%") else float(cv)
    except ValueError:
        raise Bad("cv_target: '%s' is not a number (0.05 or 5%%)" % cv)
    if not 0 <= cvf < 10:
        raise Bad("cv_target: '%s' out of range" % cv)
    size = size_bytes(st["size"], "size")
    runtime = pos_int(st["runtime"], "runtime", 1, 3600) if st["runtime"] else 0
    warm = size_bytes(st["warmup"], "warmup") if st["warmup"] not in ("0", "") else 0
    max_read = size_bytes(st["max_read"], "max_read")
    readahead = size_bytes(st["readahead"], "readahead")
    for b in bss:
        if size % b:
            raise Bad("size: %d is not a multiple of bs %d" % (size, b))
    settings = {"repeats_min": rmin, "repeats_max": rmax, "cv_target": cvf, "size": size,
                "runtime": runtime, "warmup": warm, "max_read": max_read, "readahead": readahead}
    points, seen = [], set()
    for mode in ax["mode"]:
        for src in ax["source"]:
            for bs in bss:
                for j in nj:
                    for eng in ax["ioengine"]:
                        for q in qd:
                            for d in ax["direct"]:
                                for t in th:
                                    for p in pp:
                                        for s in ps:
                                            pt = {"mode": mode, "source": src, "path": SOURCES[src],
                                                  "bs": bs, "numjobs": j, "ioengine": eng,
                                                  "iodepth": 1 if eng == "psync" else q,
                                                  "direct": int(d), "threads": t,
                                                  "pipes": p if own[mode] else "",
                                                  "pipe_size": s if own[mode] else ""}
                                            k = point_key(pt)
                                            if k in seen:
                                                continue
                                            seen.add(k)
                                            pt["point"] = k
                                            points.append(pt)
    return text, settings, points


def mode_has_pipes(mode):
    """A mode whose --list entry declares a "pipes" option (its pipes/pipe_size axes apply).
    A build without --list: the mode's --help lines that name it."""
    if R.mode_options(mode):
        return "pipes" in R.mode_options(mode)
    exe = os.path.join(os.environ.get("SB_BUILD") or os.path.join(R._top(), "build"), "splicefs")
    try:
        import subprocess
        txt = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return False
    return any(ln.lstrip().startswith("--pipes") and (" %s mode" % mode) in ln for ln in txt.splitlines())


def point_key(p, skip=()):
    """The point's name: its axes, fixed order, no commas (a CSV field and the resume key)."""
    parts = []
    for k, lab in (("mode", ""), ("source", ""), ("bs", "bs="), ("numjobs", "nj="),
                   ("ioengine", ""), ("iodepth", "qd="), ("direct", "direct="),
                   ("threads", "t="), ("pipes", "pipes="), ("pipe_size", "psz=")):
        if k in skip:
            continue
        v = p.get(k, "")
        if v == "" or v is None:
            continue
        parts.append("%s%s" % (lab, v))
    return "/".join(parts)


def cmd_expand(a):
    try:
        _, st, pts = expand(a.matrix, a.overrides)
    except Bad as e:
        die(str(e))
    # One line per point, '|'-separated (bash: IFS='|' read): the settings repeat on each line.
    for i, p in enumerate(pts, 1):
        print("|".join(str(x) for x in (
            i, len(pts), p["point"], p["mode"], p["source"], p["path"], p["bs"], p["numjobs"],
            p["ioengine"], p["iodepth"], p["direct"], p["threads"], p["pipes"], p["pipe_size"],
            st["size"], st["runtime"], st["repeats_min"], st["repeats_max"], st["cv_target"],
            st["warmup"], st["max_read"], st["readahead"])))


# ---------------------------------------------------------------- one repeat

def read_sample(path):
    """A sample file: '/proc/stat' lines (cpu, ctxt) and 'NAME <contents of /proc/PID/stat>'."""
    s = {"cpu": None, "ctxt": 0, "procs": {}, "loadavg": None}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "cpu":
                s["cpu"] = [int(x) for x in w[1:]]
            elif w[0] == "ctxt":
                s["ctxt"] = int(w[1])
            elif w[0] == "loadavg" and len(w) > 1:
                s["loadavg"] = float(w[1])
            elif w[0] in ("daemon", "server") and len(w) > 2:
                rest = line[line.rfind(")") + 1:].split()
                # fields after comm: state(3) ... utime(14) stime(15): index 11, 12 here
                try:
                    s["procs"][w[0]] = (int(rest[11]), int(rest[12]))
                except (IndexError, ValueError):
                    pass
    return s


def cmd_repeat(a):
    opts = {k: v for k, v in vars(a).items() if v is not None}
    hz = float(opts.get("hz", 100))
    try:
        with open(opts["fio"]) as f:
            txt = f.read()
        # fio may print notes before its JSON
        fio = json.loads(txt[txt.index("{"):])
    except (OSError, ValueError, KeyError) as e:
        die("cannot read fio JSON: %s" % e)
    b, a = read_sample(opts["before"]), read_sample(opts["after"])
    jobs = fio.get("jobs", [])
    err = sum(int(j.get("error", 0)) for j in jobs)
    io_bytes = sum(int(j["read"]["io_bytes"]) for j in jobs)
    bw = sum(float(j["read"]["bw_bytes"]) for j in jobs)
    p50s, p99s = [], []
    for j in jobs:
        pc = j["read"].get("clat_ns", {}).get("percentile", {})
        if "50.000000" in pc:
            p50s.append(pc["50.000000"] / 1000.0)
        if "99.000000" in pc:
            p99s.append(pc["99.000000"] / 1000.0)
    fio_usr = sum(j.get("usr_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0 for j in jobs)
    fio_sys = sum(j.get("sys_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0 for j in jobs)
    cpu = {"fio_usr": fio_usr, "fio_sys": fio_sys}
    for name in ("daemon", "server"):
        if name in a["procs"] and name in b["procs"]:
            cpu[name + "_usr"] = (a["procs"][name][0] - b["procs"][name][0]) / hz
            cpu[name + "_sys"] = (a["procs"][name][1] - b["procs"][name][1]) / hz
        else:
            cpu[name + "_usr"] = cpu[name + "_sys"] = 0.0
    if a["cpu"] and b["cpu"]:
        d = [x - y for x, y in zip(a["cpu"], b["cpu"])]
        d += [0] * (8 - len(d))
        # user nice system idle iowait irq softirq steal
        cpu["sys_all"] = (d[2] + d[5]) / hz
        cpu["usr_all"] = (d[0] + d[1]) / hz
        cpu["softirq"] = d[6] / hz
        cpu["idle"] = (d[3] + d[4]) / hz
        cpu["total"] = (d[0] + d[1] + d[2] + d[5] + d[6] + d[7]) / hz
        attributed = cpu["daemon_sys"] + cpu["server_sys"] + cpu["fio_sys"]
        cpu["other"] = max(0.0, cpu["sys_all"] - attributed)
    cpu["ctxt"] = a["ctxt"] - b["ctxt"]
    rec = {"gbps": bw / 1e9, "io_bytes": io_bytes, "fio_error": err,
           "lat_p50_us": statistics.median(p50s) if p50s else None,
           "lat_p99_us": max(p99s) if p99s else None,
           "runtime_ms": max((j.get("job_runtime", 0) for j in jobs), default=0),
           "loadavg_1m": b["loadavg"],
           "cpu_s": cpu}
    print(json.dumps(rec, sort_keys=True))


def cmd_enough(a):
    reps = read_jsonl(a.repeats)
    n, rmin, rmax, cv = len(reps), a.min, a.max, a.cv
    if n < rmin:
        sys.exit(1)
    if n >= rmax:
        sys.exit(0)
    s = spread([r["gbps"] for r in reps])
    sys.exit(0 if s and s["cv"] < cv else 1)


# ---------------------------------------------------------------- one point

def cmd_point(a):
    spec_path, reps_path = a.spec, a.repeats
    o = {k: getattr(a, k) for k in ("stats", "status", "reason", "started", "ended")
         if getattr(a, k) is not None}
    with open(spec_path) as f:
        p = json.load(f)
    reps = read_jsonl(reps_path)
    status = o.get("status", "ok")
    reason = o.get("reason", "")
    p["status"] = status
    p["reason"] = reason.replace(",", ";").replace("\n", " ").strip()
    p["started"] = o.get("started", "")
    p["ended"] = o.get("ended", "")
    p["runs"] = reps
    p["repeats"] = len(reps)
    stats = {}
    if o.get("stats"):
        try:
            with open(o["stats"]) as f:
                stats = json.load(f)
        except (OSError, ValueError):
            stats = {}
    p["daemon_stats"] = stats
    for k in ("bytes_spliced", "bytes_copied", "fallbacks"):
        p[k] = stats.get(k, "")
    # Numbers only for a point that ran and verified every repeat.
    for k in ("gbps_median", "gbps_min", "gbps_max", "gbps_stdev", "gbps_cv", "lat_p50_us",
              "lat_p99_us"):
        p[k] = ""
    comps = ("daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "softirq", "other", "total")
    for c in comps:
        p["cpu_%s_s_per_gb" % c] = ""
    if status == "ok" and reps:
        s = spread([r["gbps"] for r in reps])
        p["gbps_values"] = [r["gbps"] for r in reps]
        p.update({"gbps_median": s["median"], "gbps_min": s["min"], "gbps_max": s["max"],
                  "gbps_stdev": s["stdev"], "gbps_cv": s["cv"]})
        l50 = [r["lat_p50_us"] for r in reps if r.get("lat_p50_us") is not None]
        l99 = [r["lat_p99_us"] for r in reps if r.get("lat_p99_us") is not None]
        p["lat_p50_us"] = statistics.median(l50) if l50 else ""
        p["lat_p99_us"] = statistics.median(l99) if l99 else ""
        gb = sum(r["io_bytes"] for r in reps) / 1e9
        tot = {c: sum(r["cpu_s"].get(c, 0.0) for r in reps) for c in comps}
        tot["ctxt"] = sum(r["cpu_s"].get("ctxt", 0) for r in reps)
        p["cpu_seconds"] = tot
        p["gb_read"] = gb
        for c in comps:
            p["cpu_%s_s_per_gb" % c] = tot[c] / gb if gb else ""
        p["ctxt_per_gb"] = tot["ctxt"] / gb if gb else ""
    elif status == "ok":
        p["status"] = "failed"
        p["reason"] = p["reason"] or "no repeat completed"
    print(json.dumps(p, sort_keys=True))


# ---------------------------------------------------------------- CSV

def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return ("%.6g" % v)
    return str(v).replace(",", ";").replace("\n", " ")


def extra_columns(points):
    """Generic extras: every top-level object of scalars (e.g. "cost") -> KEY_SUBKEY columns."""
    cols = []
    for p in points:
        for k, v in p.items():
            if k in DETAIL_OBJECTS or not isinstance(v, dict):
                continue
            if all(not isinstance(x, (dict, list)) for x in v.values()):
                for sk in v:
                    c = (k, sk)
                    if c not in cols:
                        cols.append(c)
    return cols


def csv_text(points):
    extra = extra_columns(points)
    # Optional columns (new counters, axes, CPU parts) only when a point has them.
    opt = [c for c in OPTIONAL_COLUMNS
           if any(not isinstance(p.get(c), (dict, list)) and c in p for p in points)]
    cols = CSV_COLUMNS + opt
    lines = [",".join(cols + ["%s_%s" % c for c in extra])]
    for p in points:
        row = [fmt(p.get(c, "")) for c in cols]
        row += [fmt(p.get(k, {}).get(sk, "")) for k, sk in extra]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def cmd_csv(a):
    sys.stdout.write(csv_text(read_jsonl(a.points)))


# ---------------------------------------------------------------- compare

def _pct(a, b):
    return (b - a) / a * 100.0 if a else ""


def compare_pair(a, b, target, emulated, copy_modes):
    """One matched pair -> a row of the compare CSV (verdicts by the shared noise rule)."""
    ok = a.get("status") == "ok" and b.get("status") == "ok"
    row = {"status_a": a.get("status"), "status_b": b.get("status"), "n_a": a.get("repeats") or 0,
           "n_b": b.get("repeats") or 0, "label_a": R.mode_label(a, copy_modes),
           "label_b": R.mode_label(b, copy_modes), "axes": "", "gbps_a": "", "gbps_b": "",
           "gbps_delta_pct": "", "gbps_verdict": "", "gbps_why": "", "cpu_a": "", "cpu_b": "",
           "cpu_delta_pct": "", "cpu_verdict": "", "reason": ""}
    for k, _ in COST_KEYS:
        row.update({k + "_a": "", k + "_b": "", k + "_verdict": "", k + "_why": ""})
    if not ok:
        row["reason"] = (a.get("reason") if a.get("status") != "ok" else b.get("reason")) or ""
        return row
    row.update(gbps_a=a["gbps_median"], gbps_b=b["gbps_median"],
               gbps_delta_pct=_pct(a["gbps_median"], b["gbps_median"]))
    if emulated:
        row["gbps_verdict"], row["gbps_why"] = "", "emulated (TCG): not ranked by time"
    else:
        row["gbps_verdict"], row["gbps_why"] = R.verdict(a, b, target, True)
        ca, cb = R.cpu_mode_cost(a), R.cpu_mode_cost(b)
        if ca is not None and cb is not None:
            row.update(cpu_a=ca, cpu_b=cb, cpu_delta_pct=_pct(ca, cb))
            row["cpu_verdict"], _ = R.spread_verdict(spread(R.run_cpu_values(a)), spread(R.run_cpu_values(b)), target, False)
    for (k, name), (_, get) in zip(COST_KEYS, R.COST_METRICS):
        va, vb = get(a), get(b)
        if va is not None and vb is not None:
            row[k + "_a"], row[k + "_b"] = va, vb
            row[k + "_verdict"], row[k + "_why"] = R.cost_verdict(a, b, name, get, target)
    return row


COST_KEYS = [("cost_moved", "bytes moved per byte delivered"),
             ("cost_instr", "instructions per byte delivered")]
CMP_COLS = (["point", "status_a", "status_b", "n_a", "n_b", "gbps_a", "gbps_b", "gbps_delta_pct",
             "gbps_verdict", "cpu_a", "cpu_b", "cpu_delta_pct", "cpu_verdict", "reason",
             "label_a", "label_b", "axes", "gbps_why"]
            + [k + s for k, _ in COST_KEYS for s in ("_a", "_b", "_verdict", "_why")])


def sentence(r, emulated, base_name="A", new_name="B"):
    """One computed sentence: what is compared, at which axes, the figures, the verdict."""
    head = "%s against %s at %s" % (r["label_b"], r["label_a"], r["axes"])
    if r["gbps_a"] == "" or r["gbps_b"] == "":
        return "%s: not compared (%s/%s: %s)." % (head, r["status_a"], r["status_b"], r["reason"] or "no figure")
    parts = []
    for (k, name) in COST_KEYS:
        if r[k + "_a"] != "":
            v = r[k + "_verdict"] + (" (%s)" % r[k + "_why"] if r[k + "_why"] and r[k + "_verdict"] == "within noise" else "")
            parts.append("%s %.3g vs %.3g (%.2fx): %s" % (name, r[k + "_b"], r[k + "_a"],
                                                        r[k + "_b"] / r[k + "_a"] if r[k + "_a"] else float("nan"), v))
    if emulated:
        if not parts:
            return "%s: no cost figures, and emulated (TCG) timings rank nothing." % head
        return "%s: %s." % (head, "; ".join(parts))
    why = " (%s)" % r["gbps_why"] if r["gbps_why"] else ""
    s = "%s: %.3f vs %.3f GB/s (%.2fx, %+.1f %%): %s%s" % (
        head, r["gbps_b"], r["gbps_a"], r["gbps_b"] / r["gbps_a"] if r["gbps_a"] else float("nan"),
        r["gbps_delta_pct"] if r["gbps_delta_pct"] != "" else 0, r["gbps_verdict"], why)
    if r["cpu_a"] != "":
        s += "; CPU %.3f vs %.3f s/GB (daemon, server, fio, softirq, kernel threads)%s" % (
            r["cpu_b"], r["cpu_a"], (": " + r["cpu_verdict"]) if r["cpu_verdict"] else "")
    return s + "; ".join([""] + parts) + "."


def load(d):
    try:
        return R.load_set(d, required=["status", "mode", "bs", "numjobs", "gbps_median"])
    except R.InputError as e:
        die(str(e))


def cmd_compare(a):
    if a.by:
        if len(a.dirs) != 1 or a.base is None:
            die("usage: compare DIR --by AXIS --base VALUE [--csv FILE]")
        rs = load(a.dirs[0])
        if a.by not in rs.match_axes():
            die("--by: '%s' is not an axis of %s (%s)" % (a.by, a.dirs[0], " ".join(rs.match_axes())))
        target, emulated, copy_modes = rs.cv_target, rs.emulated, rs.copy_modes
        axes = rs.match_axes()
        groups = R.comparable_groups(rs.rows, axes, vary=a.by)
        if not any(str(v) == a.base for g in groups.values() for v in g if v is not None):
            die("no point with %s=%s in %s" % (a.by, a.base, a.dirs[0]))
        pairs, notes = [], []
        for key, g in groups.items():
            base = [r for v, rows in g.items() if v is not None and str(v) == a.base for r in rows]
            if not base:
                continue
            ba, nb = R.pick_row(base, target)
            for v, rows in g.items():
                if v is None or str(v) == a.base:
                    continue
                b, nt = R.pick_row(rows, target)
                for n in (nb, nt):
                    if n:
                        notes.append("%s (%s)" % (n, R.axes_words(g[None])))
                pairs.append(("%s | %s=%s vs %s" % (b.get("point") or R.axes_words(b), a.by, v, a.base), ba, b,
                              R.axes_words(g[None])))
        title = "%s: %s=* against %s=%s" % (a.dirs[0], a.by, a.by, a.base)
        default_csv = os.path.join(a.dirs[0], "compare-%s-%s.csv" % (a.by, a.base))
    else:
        if len(a.dirs) != 2:
            die("usage: compare DIR_A DIR_B [--csv FILE]  |  compare DIR --by AXIS --base VALUE")
        ra, rb = load(a.dirs[0]), load(a.dirs[1])
        target = min(ra.cv_target, rb.cv_target)
        emulated = ra.emulated or rb.emulated
        copy_modes = ra.copy_modes | rb.copy_modes
        axes = [x for x in ra.match_axes() if x in rb.header]
        pairs = [(pa.get("point") or R.axes_words(pa), pa, pb, R.axes_words(pa, skip=("mode",)))
                 for pa, pb in R.match_sets(ra, rb, axes)]
        notes = []
        title = "A = %s (%s %s %s)   B = %s (%s %s %s)" % (
            a.dirs[0], ra.env, ra.run_value("kernel"), ra.run_value("variant"),
            a.dirs[1], rb.env, rb.run_value("kernel"), rb.run_value("variant"))
        if ra.env != rb.env and emulated:
            title += "\nWARNING: TCG figures are only comparable with other TCG figures"
        default_csv = os.path.join(a.out, "compare.csv") if a.out else None
    rows = []
    for key, pa, pb, words in pairs:
        r = compare_pair(pa, pb, target, emulated, copy_modes)
        r["point"], r["axes"] = key, words
        rows.append(r)
    text = ",".join(CMP_COLS) + "\n" + "".join(",".join(fmt(r[c]) for c in CMP_COLS) + "\n" for r in rows)
    csvf = a.csv or default_csv
    if csvf:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(csvf)), exist_ok=True)
            tmp = csvf + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, csvf)
        except OSError as e:
            die("cannot write %s: %s" % (csvf, e.strerror))
    print("# " + title)
    if emulated:
        print("# emulated (TCG): verdicts are cost ratios (bytes moved and instructions per byte "
              "delivered, lower is better); GB/s columns are emulated timings and rank nothing")
        print("# " + R.COST_RULE + " (cv_target %g)" % target)
    else:
        print("# GB/s = median over repeats (1e9 B/s); CPU = the mode's own CPU s/GB "
              "(rest of machine left out)")
    print("# " + R.RULE + "; beyond noise: better/worse (cv_target %g)" % target)
    w = max([len(r["point"]) for r in rows] + [5])
    gl = "emul. GB/s" if emulated else "GB/s"
    print("%-*s %10s %10s %8s %-12s %8s %8s %-12s" % (w, "point", gl + " A", gl + " B", "delta%", "verdict",
                                                      "cpu A", "cpu B", "verdict"))
    for r in rows:
        if r["gbps_a"] == "" or r["gbps_b"] == "":
            print("%-*s %s/%s %s" % (w, r["point"], r["status_a"], r["status_b"], r["reason"]))
            continue
        print("%-*s %10.3f %10.3f %8s %-12s %8s %8s %-12s" % (
            w, r["point"], r["gbps_a"], r["gbps_b"],
            ("%+.1f" % r["gbps_delta_pct"]) if r["gbps_delta_pct"] != "" else "",
            r["gbps_verdict"] or "-",
            ("%.3f" % r["cpu_a"]) if r["cpu_a"] != "" else "",
            ("%.3f" % r["cpu_b"]) if r["cpu_b"] != "" else "", r["cpu_verdict"]))
    if not rows:
        print("(no point present in both)")
    else:
        print("\n# Verdicts")
        for r in rows:
            print(sentence(r, emulated))
    for n in sorted(set(notes)):
        print("# row kept: " + n)
    if csvf:
        print("# CSV: %s" % csvf)


# ---------------------------------------------------------------- summary

def cmd_summary(a):
    rs = load(a.dir)
    print("# %s: env=%s kernel=%s variant=%s FUSE_OUT_SPLICES=%s" % (
        a.dir, rs.env, rs.run_value("kernel"), rs.run_value("variant"), rs.meta.get("fuse_out_splices", "?")))
    if rs.emulated:
        print("# emulated (TCG): GB/s below are emulated timings, not speeds")
    for p in rs.rows:
        name = p.get("point") or R.axes_words(p)
        if p.get("status") == "ok":
            extra = ""
            if R.fell_back(p, rs.copy_modes):
                extra = "  (%s)" % R.mode_label(p, rs.copy_modes)[len(p["mode"]) + 2:-1]
            cpu = R.cpu_mode_cost(p)
            prob = R.cpu_check(p)[2]
            if prob:
                extra += "  CPU CHECK FAILED: " + prob
            print("%-60s %7.3f GB/s%s  n=%d cv=%.3f  cpu %s s/GB%s" % (
                name, p["gbps_median"], " (emulated)" if rs.emulated else "", int(p.get("repeats") or 0),
                p.get("gbps_cv") or 0, "%.3f" % cpu if cpu is not None else "-", extra))
        else:
            print("%-60s %s: %s" % (name, p["status"], p.get("reason", "")))


def cmd_cost_join(a):
    import sbcostjoin
    sbcostjoin.main([a.points] + a.cost)


def parser():
    ap = argparse.ArgumentParser(prog="sbstat.py", description="splicebench statistics and bookkeeping "
                                 "(Python 3 standard library only). Errors: one line, exit 2.")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    p = sub.add_parser("expand", help="validate a matrix file (+ overrides), print its points")
    p.add_argument("matrix", metavar="MATRIX")
    p.add_argument("overrides", metavar="KEY=VALUE", nargs="*")
    p.set_defaults(fn=cmd_expand)
    p = sub.add_parser("repeat", help="one repeat -> JSON line")
    for o in ("fio", "before", "after"):
        p.add_argument("--" + o, required=True)
    p.add_argument("--hz")
    p.set_defaults(fn=cmd_repeat)
    p = sub.add_parser("enough", help="exit 0 when no more repeats are needed")
    p.add_argument("repeats", metavar="REPEATS.jsonl")
    p.add_argument("min", type=int, metavar="MIN")
    p.add_argument("max", type=int, metavar="MAX")
    p.add_argument("cv", type=float, metavar="CV")
    p.set_defaults(fn=cmd_enough)
    p = sub.add_parser("point", help="aggregate one point -> JSON line")
    p.add_argument("spec", metavar="SPEC.json")
    p.add_argument("repeats", metavar="REPEATS.jsonl")
    for o in ("stats", "status", "reason", "started", "ended"):
        p.add_argument("--" + o)
    p.set_defaults(fn=cmd_point)
    p = sub.add_parser("csv", help="points.jsonl -> the CSV (contract in bench/README.md)")
    p.add_argument("points", metavar="POINTS.jsonl")
    p.set_defaults(fn=cmd_csv)
    p = sub.add_parser("compare", help="DIR_A DIR_B, or DIR --by AXIS --base VALUE: verdicts by the noise rule")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--by", metavar="AXIS")
    p.add_argument("--base", metavar="VALUE")
    p.add_argument("--csv", metavar="FILE")
    p.add_argument("--out", metavar="DIR_OUT")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("summary", help="a short table of a result set")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(fn=cmd_summary)
    p = sub.add_parser("cost-join", help="the sbcost windows joined to the points (bench/sbcostjoin.py)")
    p.add_argument("points", metavar="POINTS.jsonl")
    p.add_argument("cost", metavar="COST.jsonl", nargs="+")
    p.set_defaults(fn=cmd_cost_join)
    return ap


def main():
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    ap = parser()
    # argparse's own errors: one line, exit 2 (the project's bad-input rule)
    ap.error = lambda msg: die(msg + " (see --help)")
    for sp in ap._subparsers._group_actions[0].choices.values():
        sp.error = lambda msg, sp=sp: die("%s: %s (see %s --help)" % (sp.prog, msg, sp.prog))
    a = ap.parse_args()
    if not getattr(a, "fn", None):
        ap.print_help(sys.stderr)
        sys.exit(2)
    a.fn(a)


if __name__ == "__main__":
    main()
