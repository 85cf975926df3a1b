"""A matrix expanded into points (named JSON records, one per configuration), and the
rounds' schedule.  The modes, their own axes and knobs come from the programs' --list
(lists.Lists); nothing here names a mode or an option.  Fields: bench/README.md."""
import itertools
import re
import zlib

from ..results import BASE_AXES
from .lists import own_axes

# The base axes (every point has them) come from the shared results module; a mode's own
# axes from its --list options.
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


class Bad(Exception):
    pass



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


def point_key(p, own=()):
    """The point's name: its axes, fixed order, no commas (a CSV field and the resume key).
    A mode's own axes (own: their keys in --list order) follow threads, as KEY=VALUE."""
    parts = []
    for k, lab in (("mode", ""), ("source", ""), ("bs", "bs="), ("numjobs", "nj="),
                   ("ioengine", ""), ("iodepth", "qd="), ("direct", "direct="),
                   ("threads", "t=")):
        v = p.get(k, "")
        if v == "" or v is None:
            continue
        parts.append("%s%s" % (lab, v))
    for k in own:
        v = p.get(k, "")
        if v != "" and v is not None:
            parts.append("%s=%s" % (k, v))
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


def apply_overrides(vals, overrides, own):
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


CHOICES = (("ioengine", ENGINES, "unknown (valid: %s)" % " ".join(ENGINES)),
           ("direct", ("0", "1"), "must be 0 or 1"),
           ("privilege", ("root", "user"), "must be root or user"),
           ("verify", ("post", "inline"), "must be post or inline"),
           ("gro", ("on", "off"), "must be on or off (the guest NIC's GRO, tcp-nic only)"))


def check_words(ax, lists):
    """The axes whose values are words: modes from --list, sources, engines, flags."""
    prefixes = lists.prefixes()
    for v in ax["mode"]:
        # A program that is not built has modes nobody can list: its prefix is accepted,
        # and such points are skipped.
        if v not in lists.modes and not any(v.startswith(p) for p in prefixes):
            raise Bad("mode: '%s' unknown (valid: %s%s)" % (
                v, " ".join(sorted(lists.modes)),
                "".join("; %s: %s" % (pr, why) for pr, why in sorted(lists.missing.items()))))
    for v in ax["source"]:
        if v not in SOURCES:
            raise Bad("source: '%s' unknown (valid: %s)" % (v, " ".join(SOURCES)))
    for key, ok, why in CHOICES:
        for v in ax[key]:
            if v not in ok:
                raise Bad("%s: '%s' %s" % (key, v, why))


def numbers(ax):
    """The axes whose values are numbers, checked: {axis: [values]}."""
    n = {"bs": [size_bytes(v, "bs") for v in ax["bs"]]}
    for b in n["bs"]:
        if b % 4096:
            raise Bad("bs: %d is not a multiple of 4k (direct I/O and the granule need it)" % b)
    n["numjobs"] = [pos_int(v, "numjobs", 1, 256) for v in ax["numjobs"]]
    n["iodepth"] = [pos_int(v, "iodepth", 1, 4096) for v in ax["iodepth"]]
    n["threads"] = [pos_int(v, "threads", 1, 256) for v in ax["threads"]]
    # "default": /proc/sys/fs/pipe-max-size left as it is (also what "" means).
    n["pipe_max_size"] = ["" if v in ("", "default") else size_bytes(v, "pipe_max_size")
                          for v in ax["pipe_max_size"]]
    for v in n["pipe_max_size"]:
        if v != "" and (v < 4096 or v > 1 << 30):
            raise Bad("pipe_max_size: %d out of range (4k..1g)" % v)
    return n


def rounds_of(st, vals):
    """rounds: fixed per matrix (no stopping rule: the verdict's own criterion must not
    decide when to stop).  repeats=N (older matrices) means rounds=N."""
    rs = st["rounds"]
    if st["repeats"]:
        if "rounds" in vals:
            raise Bad("repeats and rounds: give one (repeats=N is the older name of rounds=N)")
        if not re.fullmatch(r"\d+", st["repeats"]):
            raise Bad("repeats: '%s': a fixed number of rounds now (MIN/MAX stopped on the CV that "
                      "the verdict tests); use rounds=N" % st["repeats"])
        rs = st["repeats"]
    return pos_int(rs, "rounds", 1, 1000)


def settings(st, vals):
    """The matrix's settings, checked: {name: value} as the point records carry them."""
    s = {"rounds": rounds_of(st, vals), "replicas": pos_int(st["replicas"], "replicas", 1, 20)}
    if st["order"] not in ("rotate", "fixed"):
        raise Bad("order: '%s' must be rotate (a group's points in an order that turns each "
                  "round) or fixed (the same order every round: for showing the effect only)" % st["order"])
    s["order"] = st["order"]
    cv = st["cv_target"]
    try:
        s["cv_target"] = float(cv[:-1]) / 100 if cv.endswith("%") else float(cv)
    except ValueError:
        raise Bad("cv_target: '%s' is not a number (0.05 or 5%%)" % cv)
    if not 0 <= s["cv_target"] < 10:
        raise Bad("cv_target: '%s' out of range" % cv)
    try:
        s["min_seconds"] = float(st["min_seconds"])
    except ValueError:
        raise Bad("min_seconds: '%s' is not a number" % st["min_seconds"])
    if not 0 <= s["min_seconds"] <= 600 or s["min_seconds"] != s["min_seconds"]:
        raise Bad("min_seconds: '%s' out of range (0..600)" % st["min_seconds"])
    s["size"] = size_bytes(st["size"], "size")
    s["runtime"] = pos_int(st["runtime"], "runtime", 1, 3600) if st["runtime"] else 0
    s["warmup"] = size_bytes(st["warmup"], "warmup") if st["warmup"] not in ("0", "") else 0
    s["max_read"] = size_bytes(st["max_read"], "max_read")
    s["readahead"] = size_bytes(st["readahead"], "readahead")
    return s


def combos(ax, n, own, own_used, own_vals, replicas):
    """The points' axes, every combination once (a mode's own axes only where it has them)."""
    base = itertools.product(ax["mode"], ax["source"], n["bs"], n["numjobs"], ax["ioengine"],
                             n["iodepth"], ax["direct"], n["threads"], ax["privilege"],
                             n["pipe_max_size"], ax["verify"], ax["gro"])
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
    return points


def expand(path, overrides, lists):
    """(the matrix's text, [point records]) from a matrix file, --set overrides and the
    programs' --list (lists.Lists); Bad on bad input."""
    own = own_axes(lists.options)
    text, vals = parse_matrix(path, own)
    apply_overrides(vals, overrides, own)
    ax = {k: vals.get(k, [DEFAULTS[k]] if DEFAULTS[k] != "" else [""]) for k in AXES}
    st = {k: (vals[k][0] if vals.get(k) else v) for k, v in SETTINGS.items()}
    # a mode's own axes: only those the matrix names; values checked against --list
    own_used = [k for k in own if k in vals]
    own_vals = {k: [own_value(k, own[k], v) for v in vals[k]] for k in own_used}
    check_words(ax, lists)
    n = numbers(ax)
    s = settings(st, vals)
    for b in n["bs"]:
        if s["size"] % b:
            raise Bad("size: %d is not a multiple of bs %d" % (s["size"], b))
    points = combos(ax, n, own, own_used, own_vals, s.pop("replicas"))
    for i, pt in enumerate(points, 1):
        prog = lists.modes.get(pt["mode"], "")
        knob, knob_value = lists.knob(pt["mode"])
        pt.update(s)
        pt.update({"knob": knob, "knob_value": knob_value,
                   "index": i, "total": len(points), "program": prog,
                   "splices": lists.splices.get(pt["mode"]),
                   "unavailable": "" if prog else "mode '%s' is in no --list here (%s)" % (
                       pt["mode"], "; ".join(lists.missing.values())),
                   "seed": 0 if pt["verify"] == "inline" else point_seed(pt["point"]),
                   "granule": pt["bs"] if pt["verify"] == "inline" else 8})
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


