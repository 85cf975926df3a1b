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
    sbstat.py cost-join POINTS.jsonl COST.jsonl...   the sbcost windows joined to the points
                                             (a "cost" object per point) -> JSON lines

Errors are one line on stderr and exit status 2.
"""
import json
import os
import re
import statistics
import sys

# ---------------------------------------------------------------- matrices

AXES = ["mode", "source", "bs", "numjobs", "ioengine", "iodepth", "direct",
        "threads", "pipes", "pipe_size"]
# Settings: one value per matrix (not part of the cross product).
SETTINGS = {
    "repeats": "1/1", "cv_target": "0.05", "size": "64m", "runtime": "",
    "warmup": "8m", "max_read": "1m", "readahead": "1m",
}
DEFAULTS = {"mode": "copy", "source": "mem", "bs": "128k", "numjobs": "1",
            "ioengine": "psync", "iodepth": "1", "direct": "1", "threads": "1",
            "pipes": "4", "pipe_size": "1m"}
MODES = ("copy", "splice", "multipipe")
SOURCES = {"mem": "mem", "tcp-loopback": "loopback", "tcp-veth": "veth"}
ENGINES = ("psync", "libaio", "io_uring")
CSV_COLUMNS = (
    "run_id,point,status,env,kernel,variant,mode,source,path,bs,numjobs,ioengine,iodepth,"
    "direct,threads,pipes,pipe_size,repeats,gbps_median,gbps_min,gbps_max,gbps_stdev,gbps_cv,"
    "lat_p50_us,lat_p99_us,cpu_daemon_usr_s_per_gb,cpu_daemon_sys_s_per_gb,"
    "cpu_server_usr_s_per_gb,cpu_server_sys_s_per_gb,cpu_fio_usr_s_per_gb,cpu_fio_sys_s_per_gb,"
    "cpu_softirq_s_per_gb,cpu_other_s_per_gb,cpu_total_s_per_gb,bytes_spliced,bytes_copied,"
    "fallbacks,baseline_gbps,reason").split(",")
# Point-JSON objects that are details, not extra CSV columns.
DETAIL_OBJECTS = {"runs", "daemon_stats", "cpu_seconds", "settings", "gbps_values"}


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
    ax = {k: vals.get(k, [DEFAULTS[k]]) for k in AXES}
    st = {k: (vals[k][0] if vals.get(k) else v) for k, v in SETTINGS.items()}
    for v in ax["mode"]:
        if v not in MODES:
            raise Bad("mode: '%s' unknown (copy, splice, multipipe)" % v)
    for v in ax["source"]:
        if v not in SOURCES:
            raise Bad("source: '%s' unknown (mem, tcp-loopback, tcp-veth)" % v)
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
                                                  "pipes": p if mode == "multipipe" else "",
                                                  "pipe_size": s if mode == "multipipe" else ""}
                                            k = point_key(pt)
                                            if k in seen:
                                                continue
                                            seen.add(k)
                                            pt["point"] = k
                                            points.append(pt)
    return text, settings, points


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


def cmd_expand(args):
    if len(args) < 1:
        die("usage: sbstat.py expand MATRIX [KEY=VALUE...]")
    try:
        _, st, pts = expand(args[0], args[1:])
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


def cmd_repeat(args):
    opts = kv_opts(args, ("fio", "before", "after", "hz"))
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


def kv_opts(args, names, flags=()):
    o = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and a[2:] in flags:
            o[a[2:]] = True
            i += 1
        elif a.startswith("--") and a[2:] in names and i + 1 < len(args):
            o[a[2:]] = args[i + 1]
            i += 2
        else:
            die("unexpected argument '%s'" % a)
    return o


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


def spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    med = statistics.median(vals)
    mean = statistics.mean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return {"n": len(vals), "median": med, "min": min(vals), "max": max(vals), "mean": mean,
            "stdev": sd, "cv": sd / mean if mean else 0.0}


def cmd_enough(args):
    if len(args) != 4:
        die("usage: sbstat.py enough REPEATS.jsonl MIN MAX CV")
    reps = read_jsonl(args[0])
    n, rmin, rmax, cv = len(reps), int(args[1]), int(args[2]), float(args[3])
    if n < rmin:
        sys.exit(1)
    if n >= rmax:
        sys.exit(0)
    s = spread([r["gbps"] for r in reps])
    sys.exit(0 if s and s["cv"] < cv else 1)


# ---------------------------------------------------------------- one point

def cmd_point(args):
    if len(args) < 2:
        die("usage: sbstat.py point SPEC.json REPEATS.jsonl [--stats F] [--status S] [--reason R]")
    spec_path, reps_path = args[0], args[1]
    o = kv_opts(args[2:], ("stats", "status", "reason", "started", "ended"))
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
    lines = [",".join(CSV_COLUMNS + ["%s_%s" % c for c in extra])]
    for p in points:
        row = [fmt(p.get(c, "")) for c in CSV_COLUMNS]
        row += [fmt(p.get(k, {}).get(sk, "")) for k, sk in extra]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def cmd_csv(args):
    if len(args) != 1:
        die("usage: sbstat.py csv POINTS.jsonl")
    sys.stdout.write(csv_text(read_jsonl(args[0])))


# ---------------------------------------------------------------- compare

RULE = ("beyond noise: both sides have >= 2 repeats, their min..max ranges do not overlap "
        "AND |delta| > 2 x the larger stdev; otherwise 'noise' (or 'n<2')")


def verdict(a, b, higher_better):
    """a = base, b = new: spread dicts."""
    if not a or not b:
        return ""
    if a["n"] < 2 or b["n"] < 2:
        return "n<2"
    overlap = not (a["max"] < b["min"] or b["max"] < a["min"])
    if overlap or abs(b["median"] - a["median"]) <= 2 * max(a["stdev"], b["stdev"]):
        return "noise"
    up = b["median"] > a["median"]
    return "better" if up == higher_better else "worse"


def cpu_values(p):
    out = []
    for r in p.get("runs", []):
        gb = r.get("io_bytes", 0) / 1e9
        if gb:
            out.append(r["cpu_s"].get("total", 0.0) / gb)
    return out


def load_set(d):
    pts = read_jsonl(os.path.join(d, "points.jsonl"))
    if not pts and not os.path.exists(os.path.join(d, "points.jsonl")):
        die("no points.jsonl in '%s'" % d)
    try:
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        meta = {}
    return pts, meta


def pct(a, b):
    return (b - a) / a * 100.0 if a else ""


def compare_rows(pairs):
    rows = []
    for key, pa, pb in pairs:
        ga = spread(pa.get("gbps_values", [])) if pa.get("status") == "ok" else None
        gb = spread(pb.get("gbps_values", [])) if pb.get("status") == "ok" else None
        ca = spread(cpu_values(pa)) if ga else None
        cb = spread(cpu_values(pb)) if gb else None
        rows.append({
            "point": key, "status_a": pa.get("status"), "status_b": pb.get("status"),
            "gbps_a": ga["median"] if ga else "", "gbps_b": gb["median"] if gb else "",
            "gbps_delta_pct": pct(ga["median"], gb["median"]) if ga and gb else "",
            "gbps_verdict": verdict(ga, gb, True),
            "cpu_a": ca["median"] if ca else "", "cpu_b": cb["median"] if cb else "",
            "cpu_delta_pct": pct(ca["median"], cb["median"]) if ca and cb else "",
            "cpu_verdict": verdict(ca, cb, False),
            "n_a": pa.get("repeats", 0), "n_b": pb.get("repeats", 0),
            "reason": (pa.get("reason") or pb.get("reason") or "") if not (ga and gb) else "",
        })
    return rows


def cmd_compare(args):
    dirs, by, base, csvf, outd = [], None, None, None, None
    i = 0
    while i < len(args):
        if args[i] in ("--by", "--base", "--csv", "--out") and i + 1 < len(args):
            v = args[i + 1]
            if args[i] == "--by":
                by = v
            elif args[i] == "--base":
                base = v
            elif args[i] == "--out":
                outd = v
            else:
                csvf = v
            i += 2
        elif args[i].startswith("-"):
            die("unknown option '%s'" % args[i])
        else:
            dirs.append(args[i])
            i += 1
    if by:
        if len(dirs) != 1 or not base:
            die("usage: compare DIR --by AXIS --base VALUE [--csv FILE]")
        if by not in AXES:
            die("--by: '%s' is not an axis (%s)" % (by, " ".join(AXES)))
        pts, meta = load_set(dirs[0])
        skip = {by} | ({"pipes", "pipe_size"} if by == "mode" else set())
        bases = {point_key(p, skip): p for p in pts if str(p.get(by)) == base}
        if not bases:
            die("no point with %s=%s in %s" % (by, base, dirs[0]))
        pairs = []
        for p in pts:
            if str(p.get(by)) == base:
                continue
            k = point_key(p, skip)
            if k in bases:
                pairs.append(("%s | %s=%s vs %s" % (k, by, p.get(by), base), bases[k], p))
        title = "%s: %s=* against %s=%s" % (dirs[0], by, by, base)
        outdir = dirs[0]
    else:
        if len(dirs) != 2:
            die("usage: compare DIR_A DIR_B [--csv FILE]  |  compare DIR --by AXIS --base VALUE")
        pa, ma = load_set(dirs[0])
        pb, mb = load_set(dirs[1])
        ia = {p["point"]: p for p in pa}
        pairs = [(p["point"], ia[p["point"]], p) for p in pb if p["point"] in ia]
        title = "A = %s (%s %s %s)   B = %s (%s %s %s)" % (
            dirs[0], ma.get("env", "?"), ma.get("kernel", "?"), ma.get("variant", "?"),
            dirs[1], mb.get("env", "?"), mb.get("kernel", "?"), mb.get("variant", "?"))
        if ma.get("env") != mb.get("env") and "tcg" in (ma.get("env"), mb.get("env")):
            title += "\nWARNING: TCG figures are only comparable with other TCG figures"
        outdir = None
    rows = compare_rows(pairs)
    cols = ["point", "status_a", "status_b", "n_a", "n_b", "gbps_a", "gbps_b", "gbps_delta_pct",
            "gbps_verdict", "cpu_a", "cpu_b", "cpu_delta_pct", "cpu_verdict", "reason"]
    text = ",".join(cols) + "\n" + "".join(
        ",".join(fmt(r[c]) for c in cols) + "\n" for r in rows)
    if not csvf and outd:
        try:
            os.makedirs(outd, exist_ok=True)
        except OSError as e:
            die("cannot create %s: %s" % (outd, e.strerror))
        csvf = os.path.join(outd, "compare.csv")
    if not csvf and outdir:
        csvf = os.path.join(outdir, "compare-%s-%s.csv" % (by, base))
    if csvf:
        tmp = csvf + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, csvf)
        except OSError as e:
            die("cannot write %s: %s" % (csvf, e.strerror))
    print("# " + title)
    print("# GB/s = median of verified fio reads (1e9 B/s); CPU = all non-idle CPU s per GB read")
    print("# " + RULE)
    w = max([len(r["point"]) for r in rows] + [5])
    print("%-*s %9s %9s %8s %-7s %8s %8s %8s %-7s" % (w, "point", "GB/s A", "GB/s B", "delta%",
                                                       "", "cpu A", "cpu B", "delta%", ""))
    for r in rows:
        if r["gbps_a"] == "" or r["gbps_b"] == "":
            print("%-*s %s/%s %s" % (w, r["point"], r["status_a"], r["status_b"], r["reason"]))
            continue
        print("%-*s %9.3f %9.3f %8s %-7s %8s %8s %8s %-7s" % (
            w, r["point"], r["gbps_a"], r["gbps_b"],
            ("%+.1f" % r["gbps_delta_pct"]) if r["gbps_delta_pct"] != "" else "",
            r["gbps_verdict"],
            ("%.3f" % r["cpu_a"]) if r["cpu_a"] != "" else "",
            ("%.3f" % r["cpu_b"]) if r["cpu_b"] != "" else "",
            ("%+.1f" % r["cpu_delta_pct"]) if r["cpu_delta_pct"] != "" else "",
            r["cpu_verdict"]))
    if not rows:
        print("(no point present in both)")
    if csvf:
        print("# CSV: %s" % csvf)


# ---------------------------------------------------------------- summary

def cmd_summary(args):
    if len(args) != 1:
        die("usage: sbstat.py summary DIR")
    pts, meta = load_set(args[0])
    print("# %s: env=%s kernel=%s variant=%s FUSE_OUT_SPLICES=%s" % (
        args[0], meta.get("env", "?"), meta.get("kernel", "?"), meta.get("variant", "?"),
        meta.get("fuse_out_splices", "?")))
    for p in pts:
        if p.get("status") == "ok":
            extra = ""
            if p.get("bytes_copied") and p.get("mode") != "copy":
                extra = "  (copied %s B, %s fallbacks)" % (p["bytes_copied"], p.get("fallbacks"))
            print("%-60s %7.3f GB/s  n=%d cv=%.3f  cpu %.3f s/GB%s" % (
                p["point"], p["gbps_median"], p["repeats"], p["gbps_cv"],
                p["cpu_total_s_per_gb"] or 0, extra))
        else:
            print("%-60s %s: %s" % (p["point"], p["status"], p.get("reason", "")))


# ---------------------------------------------------------------- cost (sbcost windows)

COST_FIELDS = ["insns_kernel", "insns_user", "load_bytes_kernel", "load_bytes_user",
               "store_bytes_kernel", "store_bytes_user", "kernel_load_user_bytes",
               "kernel_store_user_bytes", "rep_iters_kernel", "rep_iters_user"]


def cost_per_byte(big, small, n):
    """Per byte of n: the big window minus the small one (fixed costs cancel)."""
    d = {f: big.get(f, 0) - small.get(f, 0) for f in COST_FIELDS}
    loads = d["load_bytes_kernel"] + d["load_bytes_user"]
    stores = d["store_bytes_kernel"] + d["store_bytes_user"]
    return {
        "bytes_moved_per_byte": (loads + stores) / n,
        "loads_per_byte": loads / n,
        "stores_per_byte": stores / n,
        "instr_per_byte_kernel": (d["insns_kernel"] - d["rep_iters_kernel"]) / n,
        "instr_per_byte_user": (d["insns_user"] - d["rep_iters_user"]) / n,
        "rep_iters_per_byte": (d["rep_iters_kernel"] + d["rep_iters_user"]) / n,
        "kernel_user_copy_per_byte": (d["kernel_load_user_bytes"] + d["kernel_store_user_bytes"]) / n,
    }


def cmd_cost_join(args):
    if len(args) < 2:
        die("usage: sbstat.py cost-join POINTS.jsonl COST.jsonl...")
    # Windows by label; a later file (or a later line) wins: a point rerun after
    # --resume repeats its labels.  Incomplete windows are ignored.
    win = {}
    for f in args[1:]:
        try:
            with open(f) as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        w = json.loads(line)
                    except ValueError:
                        continue
                    if w.get("complete") and w.get("label"):
                        win[w["label"]] = w
        except OSError as e:
            die("cannot read %s: %s" % (f, e))
    try:
        with open(args[0]) as fh:
            pts = [json.loads(l) for l in fh if l.strip()]
    except (OSError, ValueError) as e:
        die("cannot read %s: %s" % (args[0], e))
    joined = missing = 0
    for p in pts:
        cw = p.get("cost_windows")
        if not isinstance(cw, list) or not cw:
            continue
        per = []
        for r in cw:
            big, small = win.get(r.get("label")), win.get(r.get("label_small"))
            r["window"] = {f: big[f] for f in COST_FIELDS if f in big} if big else None
            r["window_small"] = {f: small[f] for f in COST_FIELDS if f in small} if small else None
            n = (r.get("io_bytes") or 0) - (r.get("io_bytes_small") or 0)
            if big and small and n > 0:
                r.update(cost_per_byte(big, small, n))
                per.append((r, n))
        if p.get("status") != "ok" or not per:
            if p.get("status") == "ok":
                missing += 1
            p.pop("cost", None)
            continue
        c = {}
        for k in ("bytes_moved_per_byte", "loads_per_byte", "stores_per_byte",
                  "instr_per_byte_kernel", "instr_per_byte_user", "rep_iters_per_byte",
                  "kernel_user_copy_per_byte"):
            c[k] = float("%.6g" % statistics.median(r[k] for r, _ in per))
        c["delivered_bytes"] = statistics.median(n for _, n in per)
        c["repeats"] = len(per)
        p["cost"] = c
        joined += 1
    for p in pts:
        sys.stdout.write(json.dumps(p, separators=(",", ":")) + "\n")
    sys.stderr.write("sbstat cost-join: %d points with cost, %d ok points without windows, %d windows read\n"
                     % (joined, missing, len(win)))


def main():
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    cmds = {"expand": cmd_expand, "repeat": cmd_repeat, "enough": cmd_enough,
            "point": cmd_point, "csv": cmd_csv, "compare": cmd_compare, "summary": cmd_summary,
            "cost-join": cmd_cost_join}
    if sys.argv[1] not in cmds:
        die("unknown subcommand '%s' (see --help)" % sys.argv[1])
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
