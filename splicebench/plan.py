#!/usr/bin/env python3
"""The runner's bookkeeping for bench/run (Python 3 standard library only).

    python3 -m splicebench plan modes BUILD_DIR                 the valid modes: JSON {mode: program}, from the
                                             programs' --list (notes on stderr)
    python3 -m splicebench plan expand MATRIX --build DIR [--schedule] [KEY=VALUE...]
                                             validate a matrix (+ overrides); one JSON record
                                             per point on stdout (named fields; a mode's own
                                             axes from its --list options); --schedule: one
                                             per measurement instead, in run order (group by
                                             group, round by round, the order turning)
    python3 -m splicebench plan repeat --fio F --prefix P [--hz N] [--cores N] [--softirq-in-parts 0|1]
                                             one timed repeat -> JSON line (GB/s over the
                                             jobs' span, CPU parts over the window)
    python3 -m splicebench plan point RECORD.json MEASUREMENTS.jsonl RUN.json
                                             a point from its measurements (one per round)
                                             -> JSON line
    python3 -m splicebench plan meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]
                                             meta.json (the run's state, the plan's modes,
                                             this machine's versions, CPU, memory, git)

Fields: bench/README.md.  Errors: one line on stderr, exit status 2.
"""
import itertools
import json
import math
import os
import re
import statistics
import subprocess
import sys
import zlib

from . import results as R  # the shared results module
from .results import BASE_AXES, read_jsonl, spread

# The base axes (every point has them) and the counters come from the shared results
# module, declared there once; a mode's own axes come from its --list options.
AXES = list(BASE_AXES)
SETTINGS = {
    "rounds": "5", "repeats": "", "replicas": "1", "cv_target": "0.05", "size": "64m",
    "runtime": "", "warmup": "8m", "max_read": "1m", "readahead": "1m", "min_seconds": "1",
    "order": "rotate",
}
DEFAULTS = {"mode": "copy", "source": "mem", "bs": "128k", "numjobs": "1",
            "ioengine": "psync", "iodepth": "1", "direct": "1", "threads": "1",
            "privilege": "root", "pipe_max_size": "", "verify": "post", "gro": "on"}
# Network paths of the data source (the runner's own; the daemon's source is mem or tcp).
SOURCES = {"mem": "mem", "tcp-loopback": "loopback", "tcp-veth": "veth", "tcp-nic": "nic",
           "tcp-remote": "remote"}  # remote: sbserver on bench/run --server-host
ENGINES = ("psync", "libaio", "io_uring")
PROGRAMS = ("splicefs", "libfuse-ref")
PREFIX = {"libfuse-ref": "libfuse-"}  # the names of libfuse-ref's modes start with it
COUNTERS = tuple(c for c in R.COUNTERS if c != "spliced_share")


class Bad(Exception):
    pass


def die(msg):
    sys.stderr.write("splicebench plan: %s\n" % msg)
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


def parse_list(prog, text):
    """One program's --list JSON -> [(mode name, [option dicts], needs, splices)] (ValueError
    when bad); splices: the mode's replies may pass through a pipe (so it can fall back)."""
    j = json.loads(text)
    out = []
    for m in j["modes"]:
        opts = [o for o in (m.get("options") or []) if isinstance(o, dict) and o.get("name")]
        out.append((m["name"], opts, m.get("needs") or "", m.get("splices") is True))
    return out


def knob_of(needs):
    """A kernel knob a mode's --list "needs" names as 'PATH = VALUE' (a /sys or /proc file):
    (path, value) that bench/run sets around the mode's points, else ("", "")."""
    m = re.search(r"(/(?:sys|proc)/\S+)\s*=\s*(\S+)", needs or "")
    return (m.group(1), m.group(2)) if m else ("", "")


NEEDS = {}  # mode -> its --list "needs" (filled by load_modes)
SPLICES = {}  # mode -> its --list "splices" (filled by load_modes)


def load_modes(build):
    """({mode: program}, {program: why its modes are unknown}, {mode: [option dicts]}) from
    the programs' --list."""
    modes, missing, options = {}, {}, {}
    NEEDS.clear()
    SPLICES.clear()
    for prog in PROGRAMS:
        path = os.path.join(build, prog)
        if not os.access(path, os.X_OK):
            missing[prog] = "build/%s is not built" % prog
            continue
        listed = None
        try:
            r = subprocess.run([path, "--list"], capture_output=True, text=True, timeout=20)
            if r.returncode == 0:
                listed = parse_list(prog, r.stdout)
        except (OSError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired):
            listed = None
        if listed is None:
            try:
                r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20)
                listed = [(n, [], "", None) for n in help_modes(r.stdout)]
            except (OSError, subprocess.TimeoutExpired):
                listed = []
            if not listed:
                missing[prog] = "build/%s --list gave no modes" % prog
                continue
        for n, opts, needs, splices in listed:
            modes.setdefault(n, prog)
            options.setdefault(n, opts)
            NEEDS.setdefault(n, needs)
            SPLICES.setdefault(n, splices)
    return modes, missing, options


def cmd_modes(args):
    if len(args) != 1:
        die("usage: python3 -m splicebench plan modes BUILD_DIR")
    modes, missing, _ = load_modes(args[0])
    for p, why in missing.items():
        sys.stderr.write("splicebench plan: %s: its modes are unknown here\n" % why)
    print(json.dumps(modes, sort_keys=True))


def cmd_knob(args):
    """knob BUILD_DIR MODE: the kernel knob MODE's --list "needs" names, as 'PATH VALUE'
    (nothing where it names none), for bench/profile."""
    if len(args) != 2:
        die("usage: python3 -m splicebench plan knob BUILD_DIR MODE")
    load_modes(args[0])
    path, value = knob_of(NEEDS.get(args[1], ""))
    if path:
        print(path, value)


# ---------------------------------------------------------------- a mode's own axes

def own_axes(options):
    """{matrix key: {"option": --name, "arg": spec, "default": str, "modes": [...]}} from the
    modes' --list options (pipe-size -> pipe_size), in list order."""
    out = {}
    for mode, opts in options.items():
        for o in opts:
            k = o["name"].replace("-", "_")
            a = out.setdefault(k, {"option": o["name"], "arg": o.get("arg", ""),
                                   "default": str(o.get("default", "")), "modes": []})
            a["modes"].append(mode)
    return out


def own_value(key, spec, v):
    """A value of a mode's own axis, checked against the option's argument from --list:
    SIZE (bytes), N (a whole number), or words separated by | (N among them: a number)."""
    arg = spec["arg"] or "N"
    if v == "default":
        v = spec["default"]
    words = arg.split("|")
    if v in words and v not in ("N", "SIZE"):
        return v
    if "SIZE" in words:
        return size_bytes(v, key)
    if "N" in words and re.fullmatch(r"\d+", v):
        return pos_int(v, key, 0, 1 << 30)
    raise Bad("%s: '%s' does not fit its option --%s %s (from --list)" % (key, v, spec["option"], arg))


# ---------------------------------------------------------------- matrices

def parse_matrix(path, own=()):
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
        axes = AXES + list(own)
        if key not in axes and key not in SETTINGS:
            raise Bad("%s:%d: unknown key '%s' (axes: %s; settings: %s)"
                      % (path, ln, key, " ".join(axes), " ".join(SETTINGS)))
        if key in vals:
            raise Bad("%s:%d: '%s' given twice" % (path, ln, key))
        if key in SETTINGS and len(rest) > 1:
            raise Bad("%s:%d: '%s' takes one value" % (path, ln, key))
        if key in axes and not rest:
            raise Bad("%s:%d: axis '%s' has no value (give one or more, or leave the line out)"
                      % (path, ln, key))
        if len(set(rest)) != len(rest):
            raise Bad("%s:%d: '%s' lists a value twice" % (path, ln, key))
        vals[key] = rest
    return text, vals


# Short labels in point names (kept from before the axes came from --list).
LABEL = {"pipes": "pipes=", "pipe_size": "psz="}


def point_key(p, own=None):
    """The point's name: its axes, fixed order, no commas (a CSV field and the resume key).
    A mode's own axes (own: their keys in --list order) follow threads."""
    parts = []
    for k, lab in (("mode", ""), ("source", ""), ("bs", "bs="), ("numjobs", "nj="),
                   ("ioengine", ""), ("iodepth", "qd="), ("direct", "direct="),
                   ("threads", "t=")):
        v = p.get(k, "")
        if v == "" or v is None:
            continue
        parts.append("%s%s" % (lab, v))
    for k in (own if own is not None else [k for k in LABEL if k in p]):
        v = p.get(k, "")
        if v != "" and v is not None:
            parts.append("%s%s" % (LABEL.get(k, k + "="), v))
    if p.get("privilege", "root") != "root":
        parts.append("priv=%s" % p["privilege"])
    if p.get("pipe_max_size", "") != "":
        parts.append("pms=%s" % p["pipe_max_size"])
    if p.get("verify", "post") != "post":
        parts.append("verify=%s" % p["verify"])
    if p.get("gro", "") == "off":
        parts.append("gro=off")
    if p.get("replica", "") not in ("", None):
        parts.append("replica=%s" % p["replica"])
    return "/".join(parts)


def point_seed(name):
    """A non-zero seed that differs from point to point: CRC-32 of the point's name."""
    return zlib.crc32(name.encode()) or 1


def group_key(p, own):
    """The comparison group of a point: every axis but the mode, the modes' own axes and
    the replica (points that differ only there are measured round by round together)."""
    return "/".join("%s=%s" % (k, p.get(k, "")) for k in AXES if k != "mode" and k not in own)


def expand(path, overrides=(), modes=None, missing=None, options=None):
    modes = modes or {}
    missing = missing or {}
    own = own_axes(options or {})
    text, vals = parse_matrix(path, own)
    for o in overrides:
        m = re.fullmatch(r"([a-z_]+)=(.*)", o.strip())
        axes = AXES + list(own)
        if not m or (m.group(1) not in axes and m.group(1) not in SETTINGS):
            raise Bad("--set '%s': expected KEY=VALUE with a matrix key (axes: %s; settings: %s)"
                      % (o, " ".join(axes), " ".join(SETTINGS)))
        rest = m.group(2).split()
        if (m.group(1) in axes and not rest) or (m.group(1) in SETTINGS and len(rest) > 1):
            raise Bad("--set '%s': bad value" % o)
        if len(set(rest)) != len(rest):
            raise Bad("--set '%s': a value given twice" % o)
        vals[m.group(1)] = rest
    ax = {k: vals.get(k, [DEFAULTS[k]] if DEFAULTS[k] != "" else [""]) for k in AXES}
    st = {k: (vals[k][0] if vals.get(k) else v) for k, v in SETTINGS.items()}
    # a mode's own axes: only those the matrix names; values checked against --list
    own_used = [k for k in own if k in vals]
    own_vals = {k: [own_value(k, own[k], v) for v in vals[k]] for k in own_used}
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
    # "default": /proc/sys/fs/pipe-max-size left as it is (also what "" means).
    pms = ["" if v in ("", "default") else size_bytes(v, "pipe_max_size") for v in ax["pipe_max_size"]]
    for v in pms:
        if v != "" and (v < 4096 or v > 1 << 30):
            raise Bad("pipe_max_size: %d out of range (4k..1g)" % v)
    # rounds: fixed per matrix (no stopping rule: the verdict's own criterion must not
    # decide when to stop).  repeats=N (older matrices) means rounds=N.
    rs = st["rounds"]
    if st["repeats"]:
        if "rounds" in vals:
            raise Bad("repeats and rounds: give one (repeats=N is the older name of rounds=N)")
        if not re.fullmatch(r"\d+", st["repeats"]):
            raise Bad("repeats: '%s': a fixed number of rounds now (MIN/MAX stopped on the CV that "
                      "the verdict tests); use rounds=N" % st["repeats"])
        rs = st["repeats"]
    rounds = pos_int(rs, "rounds", 1, 1000)
    replicas = pos_int(st["replicas"], "replicas", 1, 20)
    if st["order"] not in ("rotate", "fixed"):
        raise Bad("order: '%s' must be rotate (a group's points in an order that turns each "
                  "round) or fixed (the same order every round: for showing the effect only)" % st["order"])
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
    base = itertools.product(ax["mode"], ax["source"], bss, nj, ax["ioengine"], qd, ax["direct"],
                             th, ax["privilege"], pms, ax["verify"], ax["gro"])
    points, seen = [], set()
    for mode, src, bs, j, eng, q, d, t, pv, pm, vf, gr in base:
        mine = [k for k in own_used if mode in own[k]["modes"]]
        for combo in itertools.product(*[own_vals[k] for k in mine]):
            for rep in range(1, replicas + 1):
                pt = {"mode": mode, "source": src, "path": SOURCES[src], "bs": bs,
                      "numjobs": j, "ioengine": eng, "iodepth": 1 if eng == "psync" else q,
                      "direct": int(d), "threads": t, "privilege": pv,
                      # it bounds an unprivileged daemon's pipes only: root points leave it
                      "pipe_max_size": pm if pv == "user" else "",
                      "verify": vf, "gro": gr if src == "tcp-nic" else "",
                      "replica": rep if replicas > 1 else ""}
                for k in own_used:  # "" for a mode without the option
                    pt[k] = ""
                pt.update(dict(zip(mine, combo)))
                k = point_key(pt, own_used)
                if k in seen:
                    continue
                seen.add(k)
                pt["point"] = k
                pt["own_axes"] = {a: own[a]["option"] for a in mine}
                pt["group"] = group_key(pt, own_used)
                points.append(pt)
    for i, pt in enumerate(points, 1):
        prog = modes.get(pt["mode"], "")
        knob, knob_value = knob_of(NEEDS.get(pt["mode"], ""))
        pt.update({"knob": knob, "knob_value": knob_value,
            "index": i, "total": len(points), "program": prog, "splices": SPLICES.get(pt["mode"]),
            "unavailable": "" if prog else "mode '%s' is in no --list here (%s)" % (
                pt["mode"], "; ".join(missing.values())),
            "size": size, "runtime": runtime, "rounds": rounds, "order": st["order"],
            "cv_target": cvf, "min_seconds": mins, "warmup": warm, "max_read": max_read,
            "readahead": readahead,
            "seed": 0 if pt["verify"] == "inline" else point_seed(pt["point"]),
            "granule": pt["bs"] if pt["verify"] == "inline" else 8,
        })
    return text, points


def schedule(points):
    """The measurements in run order: group by group (first-seen order), round by round;
    in round r the group's points turn by r-1 places (order=rotate), so each point takes
    each position in turn and slow drift lands on every point of a group alike.  Each
    record: the point's, plus round, position (1-based) and last (the group's last)."""
    groups = {}
    for p in points:
        groups.setdefault(p["group"], []).append(p)
    out = []
    for g, pts in groups.items():
        rounds = pts[0]["rounds"]
        for r in range(1, rounds + 1):
            turn = (r - 1) % len(pts) if pts[0].get("order", "rotate") == "rotate" else 0
            order = pts[turn:] + pts[:turn]
            for pos, p in enumerate(order, 1):
                out.append(dict(p, round=r, position=pos,
                                last=(r == rounds and pos == len(order))))
    return out


def cmd_expand(args):
    if len(args) < 3 or args[1] != "--build":
        die("usage: python3 -m splicebench plan expand MATRIX --build DIR [--schedule] [KEY=VALUE...]")
    sched = "--schedule" in args[3:]
    modes, missing, options = load_modes(args[2])
    if not modes and "splicefs" in missing:
        die("%s: no modes to run" % missing["splicefs"])
    try:
        _, pts = expand(args[0], [a for a in args[3:] if a != "--schedule"], modes, missing, options)
    except Bad as e:
        die(str(e))
    for p in (schedule(pts) if sched else pts):
        print(json.dumps(p, sort_keys=True))


# ---------------------------------------------------------------- one repeat

def read_sample(path):
    """bench/sample's file: t, cpu, ctxt, cg NAME usage user system, kthreads NS, proc NAME
    utime stime, loadavg."""
    s = {"t": None, "cpu": None, "ctxt": 0, "cg": {}, "kthreads": None, "procs": {},
         "loadavg": None, "kthread": {}}
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
                elif w[0] == "kthread" and len(w) == 3:
                    s["kthread"][w[1]] = int(w[2])
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
    if a["kthread"] and b["kthread"]:
        # the threads present at both edges: a kworker that exits (or starts) inside the
        # window would otherwise subtract its whole run time (a negative part)
        cpu["kthreads"] = sum(max(0, a["kthread"][p] - b["kthread"][p])
                              for p in a["kthread"] if p in b["kthread"]) / 1e9
    else:
        cpu["kthreads"] = (max(0.0, (a["kthreads"] - b["kthreads"]) / 1e9)
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


# ---------------------------------------------------------------- one point

CPU_PARTS = ("daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "kthreads", "softirq")
# Daemon counters that add up over a point's measurements (one daemon a measurement,
# its counters read by SIGUSR1 after the verification pass); the others (sizes, shares, flags) are taken from the last
# measurement.
ADDITIVE = {"requests", "reads", "bytes", "bytes_spliced", "bytes_copied", "replies_spliced",
            "pipe_slots", "slot_bytes", "fallbacks", "fallback_small", "fallback_grow", "fallback_full",
            "fallback_error", "fallback_other", "pipes_used", "pool_grows", "faults_injected", "replies_failed", "errors",
            "source_bytes", "reconnects", "ring_requests"}


def merge_stats(all_stats):
    out = {}
    for s in all_stats:
        for k, v in (s or {}).items():
            if k in ADDITIVE and isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            else:
                out[k] = v
    # bytes per slot over the replies the probe counted (slot_bytes), never over every
    # spliced byte: the probe sees only some replies (an untimed pass)
    if isinstance(out.get("pipe_slots"), (int, float)) and out.get("pipe_slots") and \
            isinstance(out.get("slot_bytes"), (int, float)):
        out["bytes_per_slot"] = out["slot_bytes"] / out["pipe_slots"]
    if isinstance(out.get("pipes_used"), (int, float)) and out.get("replies_spliced"):
        out["pipes_per_reply"] = out["pipes_used"] / out["replies_spliced"]
    return out


def spec_of(rec, run, ms):
    """The point's record without its figures: the expanded matrix record, the run's
    fields and the settings the measurements used (was bench/run's jq)."""
    last = ms[-1] if ms else {}
    psize = last.get("psize") or rec["size"]
    p = {k: rec.get(k, "") for k in ("point", "index", "program", "mode", "source", "path", "bs",
                                      "numjobs", "ioengine", "iodepth", "direct", "threads",
                                      "privilege", "pipe_max_size", "verify", "gro", "replica",
                                      "group", "rounds")}
    for a in rec.get("own_axes") or {}:
        p[a] = rec.get(a, "")
    for a in ("pipes", "pipe_size"):  # points.csv's fixed columns ("" where not an axis)
        p.setdefault(a, rec.get(a, ""))
    p["own_axes"] = rec.get("own_axes") or {}
    p.update({"run_id": run.get("run_id", ""), "env": run.get("env", ""),
              "kernel": run.get("kernel", ""), "variant": run.get("variant", ""),
              "verify_seed": rec["seed"], "verify_granule": rec["granule"],
              "size_scale": last.get("size_scale", 1), "cpu_method": run.get("cpu_method", ""),
              "cpu_softirq_in_parts": run.get("softirq_in_parts", 0),
              "baseline_gbps": run.get("baseline_gbps", ""), "round_order": rec.get("order", "")})
    cost = bool(run.get("cost"))
    p["settings"] = {
        "size_per_job": psize, "size_asked": rec["size"], "runtime_s": rec["runtime"],
        "time_based": rec["direct"] == 1 and not cost and (rec["runtime"] > 0 or rec["min_seconds"] > 0),
        "rounds": rec["rounds"], "order": rec.get("order", ""), "cv_target": rec["cv_target"],
        "min_seconds": rec["min_seconds"], "warmup": rec["warmup"], "max_read": rec["max_read"],
        "readahead": rec["readahead"], "file_size": psize * rec["numjobs"], "seed": rec["seed"],
        "granule": rec["granule"], "daemon_args": run.get("daemon_args", ""),
        "enable_uring": next((m.get("uring_before") for m in ms if m.get("uring_before")), ""),
        "measurement": "each round starts the group's daemons side by side (a warm-up "
                       "each) before its first timed repeat and stops them at its end; "
                       "per round one timed repeat and the verification pass a point, "
                       "the group's points interleaved round by round",
        "daemon_starts": sum(1 for m in ms if m.get("daemon") in ("round-start", "own-start"))}
    return p


def aggregate(rec, run, ms):
    """A point from its measurements (one per round, bench/run's measurements.jsonl)."""
    ms = sorted(ms, key=lambda m: m.get("round", 0))
    p = spec_of(rec, run, ms)
    status, reason = "ok", ""
    for m in ms:
        if m.get("status") == "skipped":
            status, reason = "skipped", m.get("reason", "")
            break
    if status == "ok":
        for m in ms:
            if m.get("status") == "failed":
                status, reason = "failed", "round %s: %s" % (m.get("round"), m.get("reason", ""))
                break
    if status == "ok":
        notes = sorted({m.get("reason") for m in ms if m.get("reason")})
        reason = "; ".join(notes)
    reps = []
    for m in ms:
        if isinstance(m.get("rep"), dict):
            reps.append(dict(m["rep"], round=m.get("round"), position=m.get("position"),
                             started=m.get("started", "")))
    p["status"] = status
    p["reason"] = reason.replace(",", ";").replace("\n", " ").strip()
    p["started"] = ms[0].get("started", "") if ms else ""
    p["ended"] = ms[-1].get("ended", "") if ms else ""
    p["runs"] = reps
    p["repeats"] = len(reps)
    stats = merge_stats([m.get("stats") for m in ms])
    p["daemon_stats"] = stats
    for k in ("bytes_spliced", "bytes_copied", "fallbacks") + COUNTERS:
        p[k] = stats.get(k, "")
    p["fallbacks_visible"] = stats.get("fallbacks_visible", True) if stats else ""
    # root in a container may lack CAP_SYS_RESOURCE: its pipes obey pipe-max-size too
    p["cap_sys_resource"] = stats.get("cap_sys_resource", "") if stats else ""
    # multipipe's reply protocol as the daemon negotiated it (v2 ioctl or the write() form)
    p["splice_protocol"] = stats.get("splice_protocol", "") if stats else ""
    nbytes = stats.get("bytes")
    p["spliced_share"] = (stats.get("bytes_spliced", 0) / nbytes
                          if isinstance(nbytes, (int, float)) and nbytes > 0 else "")
    # the verification passes (one per measurement): all must pass
    vers = [m.get("verify") or {} for m in ms if (m.get("verify") or {}).get("verify_status")]
    bad = next((v for v in vers if v.get("verify_status") != "ok"), None)
    v0 = bad or (vers[-1] if vers else {})
    p["verify_status"] = v0.get("verify_status", "")
    p["verify_first_bad_offset"] = v0.get("verify_first_bad_offset", "")
    p["verify_bytes"] = sum(v.get("verify_bytes") or 0 for v in vers) if vers else ""
    vs = [v.get("verify_s") for v in vers if isinstance(v.get("verify_s"), (int, float))]
    p["verify_s"] = sum(vs) if vs else ""
    # the pass whose replies the pipe-slot probe counted: the warm-up, else the
    # verification (once a daemon start)
    p["slots_pass"] = next((v["slots_pass"] for v in vers if v.get("slots_pass")), "") \
        if p.get("pipe_slots") else ""
    p["verify_detail"] = {k: v0.get(k, "") for k in ("tool", "message")}
    p["verify_detail"]["passes"] = len(vers)
    cw = [dict(w, repeat=i, round=m.get("round")) for i, (m, w) in enumerate(
        ((m, w) for m in ms for w in (m.get("costwin") or [])), 1)]
    if cw:
        p["cost_windows"] = cw
    nw = next((m["netwin"] for m in ms if m.get("netwin")), None)
    if nw:
        p["cost_net_windows"] = nw
    figures(p, reps)
    return p


def figures(p, reps):
    """The point's figures over its rounds (medians; CPU per GB over all rounds)."""
    for k in ("gbps_median", "gbps_min", "gbps_max", "gbps_stdev", "gbps_cv", "lat_p50_us",
              "lat_p99_us", "window_s"):
        p[k] = ""
    cols = CPU_PARTS + ("kthreads", "parts", "rest", "capacity")
    names = {"daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "kthreads", "softirq", "parts", "total", "rest", "capacity"}
    for c in names:
        p["cpu_%s_s_per_gb" % c] = ""
    status = p["status"]
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
        p["reason"] = p["reason"] or "no round completed"


def cmd_point(args):
    if len(args) != 3:
        die("usage: python3 -m splicebench plan point RECORD.json MEASUREMENTS.jsonl RUN.json")
    try:
        with open(args[0]) as f:
            rec = json.load(f)
        with open(args[2]) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read the point's files: %s" % e)
    ms = [m for m in read_jsonl(args[1]) if m.get("point") == rec["point"]]
    # a measurement redone after --resume: the later line wins
    by_round = {}
    for m in ms:
        by_round[m.get("round")] = m
    print(json.dumps(aggregate(rec, run, list(by_round.values())), sort_keys=True))


# ---------------------------------------------------------------- meta.json

def _first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return ((r.stdout or r.stderr).splitlines() or [""])[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _num(v):
    try:
        x = float(v)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def meta_of(state, plan, matrix_path, top, overrides):
    """meta.json from the run's state (bench/run's KEY=VALUE pairs), the plan (the point
    records) and what this machine says about itself (was bench/run's jq and probes)."""
    import hashlib
    with open(matrix_path, "rb") as f:
        mbytes = f.read()
    modes, programs = [], {}
    for p in plan:
        if p["mode"] not in modes:
            modes.append(p["mode"])
        if p.get("program") and p["mode"] not in programs.setdefault(p["program"], []):
            programs[p["program"]].append(p["mode"])
    cpu_model, mem_kib = "", None
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
        with open("/proc/meminfo") as f:
            mem_kib = next((int(ln.split()[1]) for ln in f if ln.startswith("MemTotal")), None)
    except (OSError, ValueError):
        pass
    git = lambda *a: subprocess.run(["git", "-C", top] + list(a), capture_output=True, text=True)
    try:
        commit = git("rev-parse", "HEAD").stdout.strip() or "unknown"
        dirty = bool(git("status", "--porcelain").stdout.strip())
    except OSError:
        commit, dirty = "unknown", False
    st = state
    m = {"run_id": st.get("run_id", ""), "matrix": os.path.basename(matrix_path),
         "matrix_file": matrix_path, "matrix_sha256": hashlib.sha256(mbytes).hexdigest(),
         "matrix_text": mbytes.decode("utf-8", "replace"), "kernel": st.get("kernel", ""),
         "fuse_out_splices": st.get("fuse_out_splices", ""), "probe": st.get("probe", ""),
         "variant": st.get("variant", ""), "env": st.get("env", ""), "cpu_model": cpu_model,
         "cores": len(os.sched_getaffinity(0)), "mem_kib": mem_kib,
         "versions": {"libfuse": _first_line(["pkg-config", "--modversion", "fuse3"]),
                      "fio": _first_line(["fio", "--version"]),
                      "iperf3": _first_line(["iperf3", "--version"]),
                      "qemu": _first_line(["qemu-system-x86_64", "--version"]),
                      "gcc": _first_line(["gcc", "-dumpfullversion"])},
         "git_commit": commit, "git_dirty": dirty, "start": st.get("start", ""),
         "end": st.get("end", ""), "complete": st.get("complete") == "true",
         "limits": {"tmpfs_read_gbps": _num(st.get("tmpfs_read_gbps")),
                    "dd_zero_null_gbps": _num(st.get("dd_zero_null_gbps"))},
         "clk_tck": int(st.get("clk_tck") or 100), "baseline": st.get("baseline", ""),
         "line_rate_gbps": 12.5, "daemon_args": st.get("daemon_args", ""),
         "cpu_method": st.get("cpu_method", ""),
         "cpu_softirq_in_parts": int(st.get("cpu_softirq_in_parts") or 0),
         "modes": modes, "programs": programs,
         "splicing_modes": [m for m in modes if any(p.get("splices") for p in plan if p["mode"] == m)],
         "rounds": plan[0]["rounds"] if plan else None,
         "round_order": plan[0].get("order", "") if plan else "", "overrides": list(overrides)}
    if st.get("cost") == "1":
        # what was done, never a figure this run did not measure
        m["cost"] = {"plugin": "sbcost (kernel/cost), kernel/vm --cost: one vCPU, single-threaded TCG, icount",
                     "method": "per round two sbcost windows: the measured fio run (SIZE per job) and a short "
                               "one before it (SIZE/4 rounded down to bs, at least bs); each window opens in "
                               "the first job exec_prerun and closes in the last job exec_postrun; cost = "
                               "(big - small) / (io_bytes big - io_bytes small); median over rounds"}
    return m


def cmd_meta(args):
    """meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]"""
    if len(args) < 3:
        die("usage: python3 -m splicebench plan meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]")
    rest = args[3:]
    over = rest[rest.index("--") + 1:] if "--" in rest else []
    kv = rest[:rest.index("--")] if "--" in rest else rest
    state = {}
    for a in kv:
        k, sep, v = a.partition("=")
        if not sep:
            die("meta: '%s' is not KEY=VALUE" % a)
        state[k] = v
    print(json.dumps(meta_of(state, read_jsonl(args[0]), args[1], args[2], over), indent=1))


def main(argv=None):
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        sys.exit(0 if argv else 2)
    cmds = {"modes": cmd_modes, "expand": cmd_expand, "repeat": cmd_repeat,
            "point": cmd_point, "meta": cmd_meta, "knob": cmd_knob}
    if argv[0] not in cmds:
        die("unknown subcommand '%s' (see --help)" % argv[0])
    cmds[argv[0]](argv[1:])
