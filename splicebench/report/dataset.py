"""The result set the report draws: loading (through splicebench/results.py), the modes'
order, programs and colours, the data paths (groups) and their names, the series of a
chart, and the set being drawn now (CUR, set by use())."""

import statistics

from .. import results as R  # shared with splicebench.stats: loading, axes, matching, noise rule
from .palette import PALETTE, mode_colors

PROG = "plots"
LINE_RATE_GBPS = 100e9 / 8 / 1e9  # 100G Ethernet, GB/s (1e9 B/s), unless meta.json has line_rate_gbps

# Series within a mode: split further when these vary inside the mode.
def series_params():
    """The axes that may tell two series of one mode apart: the engine's, every mode's own
    options (from the sets' --list, read so far), privilege and the pipe limit, verify."""
    return ["ioengine", "iodepth"] + list(R.MODE_OWN_AXES) + ["privilege", "pipe_max_size", "verify"]
ENV_NAME = {"native": "native", "kvm": "KVM", "vm": "VM", "tcg": "TCG (emulated: absolute speeds meaningless)"}
TCG_NOTE = "emulated: absolute speeds are meaningless, only ratios within this run compare"

# The result set being drawn (its modes, colours and copy modes); set by use() (main.build).
CUR = None


def use(rs):
    """Make rs the set being drawn: its modes' order, colours and copy modes."""
    global CUR
    CUR = rs


def mode_key(m):
    """Modes in the data's order (splicefs's --list order first, then the reference programs)."""
    modes = CUR.modes if CUR else []
    return (modes.index(m) if m in modes else len(modes), m)


def mode_color(m, i=0):
    return CUR.colors.get(m, PALETTE[i % len(PALETTE)]) if CUR else PALETTE[i % len(PALETTE)]


def load_set(d):
    return R.load_set(d, cls=PlotSet)


class PlotSet(R.ResultSet):
    def __init__(self, *a):
        super().__init__(*a)
        lr = self.meta.get("line_rate_gbps")
        self.line_rate = float(lr) if isinstance(lr, (int, float)) and lr > 0 else LINE_RATE_GBPS
        order, progs = meta_modes(self.meta)
        for m, p in progs.items():
            self.programs.setdefault(m, p)
        if order:  # meta.json's modes, in run order; modes it does not name keep their place after them
            self.modes = sorted(self.modes, key=lambda m: (order.index(m) if m in order else len(order),
                                                           self.modes.index(m)))
        self.colors = mode_colors(self.modes)

    def title(self):
        env = self.env
        return f"kernel {self.run_value('kernel')}, variant {self.run_value('variant')}, {ENV_NAME.get(env, env)}"

    def groups(self):
        """(source, path, direct) -> ok rows, in a stable order (mem first)."""
        g = {}
        for r in self.ok:
            g.setdefault((r["source"], r["path"], r["direct"]), []).append(r)
        return dict(sorted(g.items(), key=lambda kv: (kv[0][0] != "mem", kv[0])))

    def iperf(self, path, streams=1):
        """The iperf3 GB/s of a path from baseline.jsonl (no zerocopy), or None."""
        vals = []
        for b in self.baseline:
            if b.get("path") == path and int(b.get("streams", 1) or 1) == streams and not b.get("zerocopy"):
                v = b.get("gbytes_per_s", b.get("gbps"))
                if isinstance(v, (int, float)):
                    vals.append(float(v))
        return statistics.median(vals) if vals else None

    def baseline_of(self, rows, path):
        vals = [r["baseline_gbps"] for r in rows if r.get("baseline_gbps") is not None]
        if vals:
            return statistics.median(vals)
        return None if path == "mem" else self.iperf(path)


def meta_modes(meta):
    """meta.json's `modes`: the modes in run order -> ([names], {name: program}).  A list of
    names or of {"name"/"mode", "program"} objects gives the order; an object {mode: program}
    (older bench/run, written sorted) gives programs only."""
    m = meta.get("modes")
    order, progs = [], {}
    if isinstance(m, list):
        for x in m:
            name = x if isinstance(x, str) else (x.get("name") or x.get("mode")) if isinstance(x, dict) else None
            if isinstance(name, str) and name and name not in order:
                order.append(name)
                if isinstance(x, dict) and isinstance(x.get("program"), str):
                    progs[name] = x["program"]
    elif isinstance(m, dict):
        progs = {k: v for k, v in m.items() if isinstance(v, str)}
    return order, progs


def group_name(key):
    """mem, TCP loopback, TCP veth (source 'tcp-loopback' or 'tcp' with path 'loopback')."""
    source, path, direct = key
    if source.startswith("tcp"):
        where = "TCP " + (path or source[4:] or "?")
    elif path in ("", "mem", source):
        where = source
    else:
        where = f"{source} {path}"
    return where + ("" if direct else ", buffered")


def group_slug(key):
    source, path, direct = key
    slug = source if path in ("", "mem") or source.endswith(path) else f"{source}-{path}"
    return slug + ("" if direct else "-buffered")


def series_of(rows):
    """Split rows into series: mode plus whichever series parameters vary within that mode."""
    by_mode = {}
    for r in rows:
        by_mode.setdefault(r["mode"], []).append(r)
    out = []
    for i, m in enumerate(sorted(by_mode, key=mode_key)):
        mr = by_mode[m]
        params = [p for p in series_params() if len({r.get(p) for r in mr}) > 1]
        if any(r.get("threads") != r.get("numjobs") for r in mr) and len({r.get("threads") for r in mr}) > 1:
            params.append("threads")
        sub = {}
        for r in mr:
            sub.setdefault(tuple(r.get(p) for p in params), []).append(r)
        for j, (vals, srows) in enumerate(sorted(sub.items(), key=lambda kv: str(kv[0]))):
            label = m + "".join(f" {p}={v}" for p, v in zip(params, vals))
            prog = CUR.programs.get(m, "splicefs") if CUR else "splicefs"
            ref = prog != "splicefs"  # another program's mode (a reference daemon): dashed, named
            out.append({"mode": m, "label": label + (f" ({prog})" if ref else ""), "rows": srows,
                        "color": mode_color(m, i), "dt": (3 if ref else 1) + j})
    return out


def fell_back(r):
    return R.fell_back(r, CUR.copy_modes if CUR else ())


def source_order(rs):
    """The data sources in the order the run measured them (mem first)."""
    seen = []
    for r in rs.rows:
        if r.get("source") and r["source"] not in seen:
            seen.append(r["source"])
    return sorted(seen, key=lambda x: (x != "mem", seen.index(x)))


def row_cost_net(rs, r, peers):
    """The network's own bytes moved per byte for the point r (a column on the point, a
    baseline-mode point among peers at the same axes, or baseline.jsonl), or None."""
    v = R.first_col(r, R.COST_BASELINE_COLS)[1]
    if isinstance(v, (int, float)) and v > 0:
        return float(v)
    for p in peers:
        if p["mode"] in R.COST_BASELINE_MODES and p.get(R.COST_MOVED):
            return p[R.COST_MOVED]
    for b in rs.baseline:
        if b.get("path") in (r.get("path"), r.get("source")) and b.get("bs") in (None, r.get("bs")):
            v = b.get("cost_bytes_moved_per_byte", b.get("bytes_moved_per_byte"))
            if isinstance(v, (int, float)) and v > 0:
                return float(v)
    return None
