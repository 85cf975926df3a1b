#!/usr/bin/env python3
"""The runner's bookkeeping for bench/run (Python 3 standard library only).

    sbrun.py modes BUILD_DIR                 the valid modes: JSON {mode: program}, from the
                                             programs' --list (notes on stderr)
    sbrun.py expand MATRIX --build DIR [KEY=VALUE...]
                                             validate a matrix (+ overrides); one JSON record
                                             per point on stdout (named fields)
    sbrun.py repeat --fio F --prefix P [--hz N] [--cores N] [--softirq-in-parts 0|1]
                                             one timed repeat -> JSON line (GB/s over the
                                             jobs' span, CPU parts over the window)
    sbrun.py enough REPEATS.jsonl MIN MAX CV  exit 0 when no more repeats are needed
    sbrun.py point SPEC.json REPEATS.jsonl [--stats F] [--status S] [--reason R]
                   [--verify F] [--started T] [--ended T]
                                             aggregate one point -> JSON line

Fields: bench/README.md.  Errors: one line on stderr, exit status 2.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbresults import read_jsonl, spread  # noqa: E402  (the shared results module)

AXES = ["mode", "source", "bs", "numjobs", "ioengine", "iodepth", "direct", "threads",
        "pipes", "pipe_size", "privilege", "pipe_max_size", "verify", "gro"]
SETTINGS = {
    "repeats": "1/1", "cv_target": "0.05", "size": "64m", "runtime": "",
    "warmup": "8m", "max_read": "1m", "readahead": "1m", "min_seconds": "1",
}
DEFAULTS = {"mode": "copy", "source": "mem", "bs": "128k", "numjobs": "1",
            "ioengine": "psync", "iodepth": "1", "direct": "1", "threads": "1",
            "pipes": "4", "pipe_size": "1m", "privilege": "root", "pipe_max_size": "",
            "verify": "post", "gro": "on"}
# Network paths of the data source (the runner's own; the daemon's source is mem or tcp).
SOURCES = {"mem": "mem", "tcp-loopback": "loopback", "tcp-veth": "veth", "tcp-nic": "nic",
           "tcp-remote": "remote"}  # remote: sbserver on bench/run --server-host
ENGINES = ("psync", "libaio", "io_uring")
PROGRAMS = ("splicefs", "libfuse-ref")
PREFIX = {"libfuse-ref": "libfuse-"}  # the names of libfuse-ref's modes start with it
COUNTERS = ("replies_spliced", "pipe_slots", "bytes_per_slot", "fallback_small",
            "fallback_grow", "fallback_full", "fallback_error", "pipes_per_reply",
            "pool_grows", "pipe_size_granted", "faults_injected")


class Bad(Exception):
    pass


def die(msg):
    sys.stderr.write("sbrun: %s\n" % msg)
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


# ---------------------------------------------------------------- modes

def help_modes(text):
    """Fallback for a splicefs without --list: the names under 'modes:' in --help."""
    names, inside = [], False
    for line in text.splitlines():
        if line.strip() == "modes:":
            inside = True
            continue
        if inside:
            m = re.match(r"  ([a-z][a-z0-9-]*)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def load_modes(build):
    """{mode: program}, {program: why its modes are unknown} from the programs' --list."""
    modes, missing = {}, {}
    for prog in PROGRAMS:
        path = os.path.join(build, prog)
        if not os.access(path, os.X_OK):
            missing[prog] = "build/%s is not built" % prog
            continue
        names = None
        try:
            r = subprocess.run([path, "--list"], capture_output=True, text=True, timeout=20)
            if r.returncode == 0:
                names = [m["name"] for m in json.loads(r.stdout)["modes"]]
        except (OSError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired):
            names = None
        if names is None:
            try:
                r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20)
                names = help_modes(r.stdout)
            except (OSError, subprocess.TimeoutExpired):
                names = []
            if not names:
                missing[prog] = "build/%s --list gave no modes" % prog
                continue
        for n in names:
            modes.setdefault(n, prog)
    return modes, missing


def cmd_modes(args):
    if len(args) != 1:
        die("usage: sbrun.py modes BUILD_DIR")
    modes, missing = load_modes(args[0])
    for p, why in missing.items():
        sys.stderr.write("sbrun: %s: its modes are unknown here\n" % why)
    print(json.dumps(modes, sort_keys=True))


# ---------------------------------------------------------------- matrices

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
            raise Bad("%s:%d: axis '%s' has no value (give one or more, or leave the line out)"
                      % (path, ln, key))
        if len(set(rest)) != len(rest):
            raise Bad("%s:%d: '%s' lists a value twice" % (path, ln, key))
        vals[key] = rest
    return text, vals


def point_key(p):
    """The point's name: its axes, fixed order, no commas (a CSV field and the resume key)."""
    parts = []
    for k, lab in (("mode", ""), ("source", ""), ("bs", "bs="), ("numjobs", "nj="),
                   ("ioengine", ""), ("iodepth", "qd="), ("direct", "direct="),
                   ("threads", "t="), ("pipes", "pipes="), ("pipe_size", "psz=")):
        v = p.get(k, "")
        if v == "" or v is None:
            continue
        parts.append("%s%s" % (lab, v))
    if p.get("privilege", "root") != "root":
        parts.append("priv=%s" % p["privilege"])
    if p.get("pipe_max_size", "") != "":
        parts.append("pms=%s" % p["pipe_max_size"])
    if p.get("verify", "post") != "post":
        parts.append("verify=%s" % p["verify"])
    if p.get("gro", "") == "off":
        parts.append("gro=off")
    return "/".join(parts)


def point_seed(name):
    """A non-zero seed that differs from point to point: CRC-32 of the point's name."""
    return zlib.crc32(name.encode()) or 1


def expand(path, overrides=(), modes=None, missing=None):
    text, vals = parse_matrix(path)
    for o in overrides:
        m = re.fullmatch(r"([a-z_]+)=(.*)", o.strip())
        if not m or (m.group(1) not in AXES and m.group(1) not in SETTINGS):
            raise Bad("--set '%s': expected KEY=VALUE with a matrix key (axes: %s; settings: %s)"
                      % (o, " ".join(AXES), " ".join(SETTINGS)))
        rest = m.group(2).split()
        if (m.group(1) in AXES and not rest) or (m.group(1) in SETTINGS and len(rest) > 1):
            raise Bad("--set '%s': bad value" % o)
        if len(set(rest)) != len(rest):
            raise Bad("--set '%s': a value given twice" % o)
        vals[m.group(1)] = rest
    ax = {k: vals.get(k, [DEFAULTS[k]] if DEFAULTS[k] != "" else [""]) for k in AXES}
    st = {k: (vals[k][0] if vals.get(k) else v) for k, v in SETTINGS.items()}
    modes = modes or {}
    missing = missing or {}
    for v in ax["mode"]:
        # A program that is not built has modes nobody can list: its own prefix
        # ("libfuse-" for libfuse-ref) is accepted, and such points are skipped.
        if v not in modes and not any(v.startswith(PREFIX[pr]) for pr in missing if pr in PREFIX):
            raise Bad("mode: '%s' unknown (valid: %s%s)" % (
                v, " ".join(sorted(modes)),
                "".join("; %s: %s" % (pr, why) for pr, why in sorted(missing.items()))))
    for v in ax["source"]:
        if v not in SOURCES:
            raise Bad("source: '%s' unknown (valid: %s)" % (v, " ".join(SOURCES)))
    for v in ax["ioengine"]:
        if v not in ENGINES:
            raise Bad("ioengine: '%s' unknown (valid: %s)" % (v, " ".join(ENGINES)))
    for v in ax["direct"]:
        if v not in ("0", "1"):
            raise Bad("direct: '%s' must be 0 or 1" % v)
    for v in ax["privilege"]:
        if v not in ("root", "user"):
            raise Bad("privilege: '%s' must be root or user" % v)
    for v in ax["verify"]:
        if v not in ("post", "inline"):
            raise Bad("verify: '%s' must be post or inline" % v)
    for v in ax["gro"]:
        if v not in ("on", "off"):
            raise Bad("gro: '%s' must be on or off (the guest NIC's GRO, tcp-nic only)" % v)
    bss = [size_bytes(v, "bs") for v in ax["bs"]]
    for b in bss:
        if b % 4096:
            raise Bad("bs: %d is not a multiple of 4k (direct I/O and the granule need it)" % b)
    nj = [pos_int(v, "numjobs", 1, 256) for v in ax["numjobs"]]
    qd = [pos_int(v, "iodepth", 1, 4096) for v in ax["iodepth"]]
    th = [pos_int(v, "threads", 1, 256) for v in ax["threads"]]
    pp = ["auto" if v == "auto" else pos_int(v, "pipes (1..64 or auto)", 1, 64) for v in ax["pipes"]]
    ps = [size_bytes(v, "pipe_size") for v in ax["pipe_size"]]
    # "default": /proc/sys/fs/pipe-max-size left as it is (also what "" means).
    pms = ["" if v in ("", "default") else size_bytes(v, "pipe_max_size") for v in ax["pipe_max_size"]]
    for v in pms:
        if v != "" and (v < 4096 or v > 1 << 30):
            raise Bad("pipe_max_size: %d out of range (4k..1g)" % v)
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
    try:
        mins = float(st["min_seconds"])
    except ValueError:
        raise Bad("min_seconds: '%s' is not a number" % st["min_seconds"])
    if not 0 <= mins <= 600 or mins != mins:
        raise Bad("min_seconds: '%s' out of range (0..600)" % st["min_seconds"])
    size = size_bytes(st["size"], "size")
    runtime = pos_int(st["runtime"], "runtime", 1, 3600) if st["runtime"] else 0
    warm = size_bytes(st["warmup"], "warmup") if st["warmup"] not in ("0", "") else 0
    max_read = size_bytes(st["max_read"], "max_read")
    readahead = size_bytes(st["readahead"], "readahead")
    for b in bss:
        if size % b:
            raise Bad("size: %d is not a multiple of bs %d" % (size, b))
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
                                            for pv in ax["privilege"]:
                                                for pm in pms:
                                                    for vf, gr in [(a, b) for a in ax["verify"] for b in ax["gro"]]:
                                                        pt = {"mode": mode, "source": src,
                                                              "path": SOURCES[src], "bs": bs,
                                                              "numjobs": j, "ioengine": eng,
                                                              "iodepth": 1 if eng == "psync" else q,
                                                              "direct": int(d), "threads": t,
                                                              "pipes": p if mode == "multipipe" else "",
                                                              "pipe_size": s if mode == "multipipe" else "",
                                                              "privilege": pv,
                                                              # it bounds an unprivileged daemon's
                                                              # pipes only: root points leave it
                                                              "pipe_max_size": pm if pv == "user" else "",
                                                              "verify": vf,
                                                              "gro": gr if src == "tcp-nic" else ""}
                                                        k = point_key(pt)
                                                        if k in seen:
                                                            continue
                                                        seen.add(k)
                                                        pt["point"] = k
                                                        points.append(pt)
    for i, pt in enumerate(points, 1):
        prog = modes.get(pt["mode"], "")
        pt.update({
            "index": i, "total": len(points), "program": prog,
            "unavailable": "" if prog else "mode '%s' is in no --list here (%s)" % (
                pt["mode"], "; ".join(missing.values())),
            "size": size, "runtime": runtime, "repeats_min": rmin, "repeats_max": rmax,
            "cv_target": cvf, "min_seconds": mins, "warmup": warm, "max_read": max_read,
            "readahead": readahead,
            "seed": 0 if pt["verify"] == "inline" else point_seed(pt["point"]),
            "granule": pt["bs"] if pt["verify"] == "inline" else 8,
        })
    return text, points


def cmd_expand(args):
    if len(args) < 3 or args[1] != "--build":
        die("usage: sbrun.py expand MATRIX --build DIR [KEY=VALUE...]")
    modes, missing = load_modes(args[2])
    if not modes and "splicefs" in missing:
        die("%s: no modes to run" % missing["splicefs"])
    try:
        _, pts = expand(args[0], args[3:], modes, missing)
    except Bad as e:
        die(str(e))
    for p in pts:
        print(json.dumps(p, sort_keys=True))


# ---------------------------------------------------------------- one repeat

def read_sample(path):
    """bench/sample's file: t, cpu, ctxt, cg NAME usage user system, kthreads NS, proc NAME
    utime stime, loadavg."""
    s = {"t": None, "cpu": None, "ctxt": 0, "cg": {}, "kthreads": None, "procs": {},
         "loadavg": None}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            try:
                if w[0] == "t":
                    s["t"] = float(w[1])
                elif w[0] == "cpu":
                    s["cpu"] = [int(x) for x in w[1:]]
                elif w[0] == "ctxt":
                    s["ctxt"] = int(w[1])
                elif w[0] == "cg" and len(w) == 5:
                    s["cg"][w[1]] = tuple(int(x) for x in w[2:5])
                elif w[0] == "kthreads":
                    s["kthreads"] = int(w[1])
                elif w[0] == "proc" and len(w) == 4:
                    s["procs"][w[1]] = (int(w[2]), int(w[3]))
                elif w[0] == "loadavg":
                    s["loadavg"] = float(w[1])
            except (IndexError, ValueError):
                pass
    return s


def read_stamps(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(float(line.split()[0]))
                except (IndexError, ValueError):
                    pass
    except OSError:
        pass
    return out


def read_fio(path):
    with open(path) as f:
        txt = f.read()
    return json.loads(txt[txt.index("{"):])


def cmd_repeat(args):
    o = kv_opts(args, ("fio", "prefix", "hz", "cores", "softirq-in-parts"))
    hz = float(o.get("hz", 100))
    cores = int(o.get("cores", os.cpu_count() or 1))
    sirq_in = o.get("softirq-in-parts", "0") == "1"
    pre = o["prefix"]
    try:
        fio = read_fio(o["fio"])
        b, a = read_sample(pre + ".pre"), read_sample(pre + ".post")
    except (OSError, ValueError, KeyError) as e:
        die("cannot read the repeat's files: %s" % e)
    jobs = fio.get("jobs", [])
    err = sum(int(j.get("error", 0)) for j in jobs)
    io_bytes = sum(int(j["read"]["io_bytes"]) for j in jobs)
    bw_sum = sum(float(j["read"]["bw_bytes"]) for j in jobs)
    starts, ends = read_stamps(pre + ".starts"), read_stamps(pre + ".ends")
    rec = {"io_bytes": io_bytes, "fio_error": err, "fio_bw_sum_gbps": bw_sum / 1e9,
           "runtime_ms": max((j.get("job_runtime", 0) for j in jobs), default=0),
           "loadavg_1m": b["loadavg"], "jobs_stamped": [len(starts), len(ends)]}
    if starts and ends and len(starts) == len(jobs) and len(ends) == len(jobs) \
            and max(ends) > min(starts):
        rec["span_s"] = max(ends) - min(starts)
        rec["gbps"] = io_bytes / rec["span_s"] / 1e9
    else:
        die("the jobs' start/end stamps are missing (%d starts, %d ends, %d jobs)"
            % (len(starts), len(ends), len(jobs)))
    p50s, p99s = [], []
    for j in jobs:
        pc = j["read"].get("clat_ns", {}).get("percentile", {})
        if "50.000000" in pc:
            p50s.append(pc["50.000000"] / 1000.0)
        if "99.000000" in pc:
            p99s.append(pc["99.000000"] / 1000.0)
    rec["lat_p50_us"] = statistics.median(p50s) if p50s else None
    rec["lat_p99_us"] = max(p99s) if p99s else None
    cpu = {}
    wall = (a["t"] - b["t"]) if a["t"] is not None and b["t"] is not None else rec["span_s"]
    cpu["wall"] = wall
    cpu["cores"] = cores
    cpu["capacity"] = cores * wall
    for name in ("daemon", "server", "fio"):
        if name in a["cg"] and name in b["cg"]:
            cpu[name + "_usr"] = (a["cg"][name][1] - b["cg"][name][1]) / 1e6
            cpu[name + "_sys"] = (a["cg"][name][2] - b["cg"][name][2]) / 1e6
            cpu[name + "_usage"] = (a["cg"][name][0] - b["cg"][name][0]) / 1e6
        elif name in a["procs"] and name in b["procs"]:
            cpu[name + "_usr"] = (a["procs"][name][0] - b["procs"][name][0]) / hz
            cpu[name + "_sys"] = (a["procs"][name][1] - b["procs"][name][1]) / hz
        elif name == "fio":  # ticks fallback: fio's own accounting, whole jobs
            cpu["fio_usr"] = sum(j.get("usr_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0
                                 for j in jobs)
            cpu["fio_sys"] = sum(j.get("sys_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0
                                 for j in jobs)
        else:
            cpu[name + "_usr"] = cpu[name + "_sys"] = 0.0
    cpu["kthreads"] = ((a["kthreads"] - b["kthreads"]) / 1e9
                       if a["kthreads"] is not None and b["kthreads"] is not None else 0.0)
    busy = 0.0
    cpu["softirq"] = 0.0
    if a["cpu"] and b["cpu"]:
        d = [x - y for x, y in zip(a["cpu"], b["cpu"])]
        d += [0] * (8 - len(d))
        # user nice system idle iowait irq softirq steal
        cpu["softirq"] = d[6] / hz
        busy = (d[0] + d[1] + d[2] + d[5] + d[6] + d[7]) / hz
    cpu["busy_all"] = busy
    parts = sum(cpu[n + s] for n in ("daemon", "server", "fio") for s in ("_usr", "_sys"))
    parts += cpu["kthreads"] + (cpu["softirq"] if sirq_in else 0.0)
    cpu["parts"] = parts
    cpu["rest"] = max(0.0, busy - parts)
    cpu["ctxt"] = a["ctxt"] - b["ctxt"]
    # cgroup and schedstat times lag a running task by up to a tick at each edge;
    # /proc/stat's softirq is in ticks: a tick per core of slack, no more.
    slack = cores * (2.0 / 250 + (1.0 / hz if sirq_in else 0.0))
    if parts > cpu["capacity"] + slack:
        rec["cpu_over"] = "CPU parts %.4f s exceed cores x wall %d x %.4f = %.4f s" % (
            parts, cores, wall, cpu["capacity"])
    rec["cpu_s"] = cpu
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


def cmd_enough(args):
    if len(args) != 4:
        die("usage: sbrun.py enough REPEATS.jsonl MIN MAX CV")
    reps = read_jsonl(args[0])
    n, rmin, rmax, cv = len(reps), int(args[1]), int(args[2]), float(args[3])
    if n < rmin:
        sys.exit(1)
    if n >= rmax:
        sys.exit(0)
    s = spread([r["gbps"] for r in reps])
    sys.exit(0 if s and s["cv"] < cv else 1)


# ---------------------------------------------------------------- one point

CPU_PARTS = ("daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "kthreads", "softirq")


def cmd_point(args):
    if len(args) < 2:
        die("usage: sbrun.py point SPEC.json REPEATS.jsonl [--stats F] [--status S] ...")
    o = kv_opts(args[2:], ("stats", "status", "reason", "started", "ended", "verify"))
    with open(args[0]) as f:
        p = json.load(f)
    reps = read_jsonl(args[1])
    status = o.get("status", "ok")
    p["status"] = status
    p["reason"] = o.get("reason", "").replace(",", ";").replace("\n", " ").strip()
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
    for k in ("bytes_spliced", "bytes_copied", "fallbacks") + COUNTERS:
        p[k] = stats.get(k, "")
    p["fallbacks_visible"] = stats.get("fallbacks_visible", True) if stats else ""
    # root in a container may lack CAP_SYS_RESOURCE: its pipes obey pipe-max-size too
    p["cap_sys_resource"] = stats.get("cap_sys_resource", "") if stats else ""
    nbytes = stats.get("bytes")
    p["spliced_share"] = (stats.get("bytes_spliced", 0) / nbytes
                          if isinstance(nbytes, (int, float)) and nbytes > 0 else "")
    # the verification pass
    ver = {}
    if o.get("verify"):
        try:
            with open(o["verify"]) as f:
                ver = json.load(f)
        except (OSError, ValueError):
            ver = {}
    for k in ("verify_bytes", "verify_status", "verify_first_bad_offset", "verify_s"):
        p[k] = ver.get(k, "")
    p["verify_detail"] = {k: ver.get(k, "") for k in ("tool", "message")}
    for k in ("gbps_median", "gbps_min", "gbps_max", "gbps_stdev", "gbps_cv", "lat_p50_us",
              "lat_p99_us", "window_s"):
        p[k] = ""
    cols = CPU_PARTS + ("kthreads", "parts", "rest", "capacity")
    names = {"daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "kthreads", "softirq", "parts", "total", "rest", "capacity"}
    for c in names:
        p["cpu_%s_s_per_gb" % c] = ""
    if status == "ok" and reps:
        s = spread([r["gbps"] for r in reps])
        p["gbps_values"] = [r["gbps"] for r in reps]
        p.update({"gbps_median": s["median"], "gbps_min": s["min"], "gbps_max": s["max"],
                  "gbps_stdev": s["stdev"], "gbps_cv": s["cv"]})
        p["window_s"] = statistics.median(r["cpu_s"]["wall"] for r in reps)
        l50 = [r["lat_p50_us"] for r in reps if r.get("lat_p50_us") is not None]
        l99 = [r["lat_p99_us"] for r in reps if r.get("lat_p99_us") is not None]
        p["lat_p50_us"] = statistics.median(l50) if l50 else ""
        p["lat_p99_us"] = statistics.median(l99) if l99 else ""
        gb = sum(r["io_bytes"] for r in reps) / 1e9
        keys = set(cols) | {"busy_all", "wall", "ctxt"}
        tot = {c: sum(r["cpu_s"].get(c, 0.0) for r in reps) for c in sorted(keys)}
        tot["cores"] = reps[0]["cpu_s"].get("cores")
        p["cpu_seconds"] = tot
        p["gb_read"] = gb
        for c in names:
            v = tot["parts"] if c == "total" else tot.get(c, 0.0)
            p["cpu_%s_s_per_gb" % c] = v / gb if gb else ""
        p["ctxt_per_gb"] = tot["ctxt"] / gb if gb else ""
    elif status == "ok":
        p["status"] = "failed"
        p["reason"] = p["reason"] or "no repeat completed"
    print(json.dumps(p, sort_keys=True))


def main():
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    cmds = {"modes": cmd_modes, "expand": cmd_expand, "repeat": cmd_repeat,
            "enough": cmd_enough, "point": cmd_point}
    if sys.argv[1] not in cmds:
        die("unknown subcommand '%s' (see --help)" % sys.argv[1])
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
