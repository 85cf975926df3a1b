#!/usr/bin/env python3
"""Native profiles: perf samples -> folded stacks per component, a category breakdown
from bench/categories.tsv, and a flame graph (SVG, drawn here: no external scripts).

  splicebench/why/profile.py fold PERF_SCRIPT_TXT --out DIR --daemon PID[,PID] [--server PID]
                          [--reader-comm fio] [--freq HZ] [--gb GB]
      PERF_SCRIPT_TXT: `perf script -F comm,pid,tid,ip,sym,dso` of a `perf record -g`.
      Writes DIR/folded-COMPONENT.txt (the standard folded format: frames root first,
      ';'-joined, a space, the sample count), DIR/folded-all.txt (component as the root
      frame), DIR/categories.json, DIR/flame.svg.
  splicebench/why/profile.py flame FOLDED --out FILE.svg [--title T]
  splicebench/why/profile.py overhead OVERHEAD_JSON
      The profiler's measured overhead (bench/profile's overhead.json) in one sentence;
      exit 0 when measured and under OVERHEAD_LIMIT_PCT, 1 when not (missing, not
      measured, or at/over the limit).  splicebench/why/sections.py writes the same sentence.

Components: softirq (a stack holding the softirq handler, whoever was interrupted),
daemon (the FUSE daemon's process), server (the TCP data server), reader (fio: its
pids with --reader, else by name),
kthreads (kworkers, ksoftirqd and other kernel threads), idle (left out), other
(anything else on the machine: never in a mode's figures).  A sample's category is
that of its leaf frame; a leaf no category claims takes its nearest caller's subsystem
(pipe/splice, FUSE device, TCP receive), else "other".  Leaf frames that turn
interrupts back on are stepped over first: the timer interrupt behind cpu-clock waits
while they are off, so its samples pile up there (pvm_irq_enable on this host).  Python 3 standard library only.
"""
import argparse
import html
import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict

from .. import TOP
from .. import verdict as sbverdict  # the project's one interval for a median of paired ratios
from . import syms as sbsyms  # categories: one loader for both

COMPONENTS = ("daemon", "server", "reader", "softirq", "kthreads")
SOFTIRQ = re.compile(r"(handle_softirqs|__do_softirq|do_softirq.*|net_rx_action|irq_exit_rcu)$")
KTHREAD = re.compile(r"(kworker/.*|ksoftirqd/.*|rcu_.*|kthreadd|migration/.*|kcompactd.*|kswapd.*|"
                     r"khugepaged|watchdog.*|cpuhp/.*|idle_inject/.*|irq/.*|napi/.*|jbd2/.*|writeback)")
HEAD = re.compile(r"^(\S.*?)\s+(-?\d+)/(-?\d+)\s*:?\s*$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def parse(lines):
    """Yield (comm, pid, tid, [frames leaf first])."""
    cur = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                yield cur
            cur = None
            continue
        if cur is None or not line[0].isspace():
            m = HEAD.match(line)
            if m:
                if cur:
                    yield cur
                cur = (m.group(1).strip(), int(m.group(2)), int(m.group(3)), [])
            continue
        m = FRAME.match(line)
        if m:
            sym, dso = m.group(2), m.group(3)
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            if sym in ("[unknown]", ""):
                sym = "[%s]" % os.path.basename(dso) if dso and dso != "[unknown]" else "[unknown]"
            sym = sym.replace(";", ":").replace(" ", "_")
            # A user stack without frame pointers (fio) unwinds into a run of up to 127
            # "[unknown]" frames: one stands for the run.
            if not (sym.startswith("[") and cur[3] and cur[3][-1] == sym):
                cur[3].append(sym)
    if cur:
        yield cur


def component(comm, pid, frames, daemon, server, reader_comm, reader=None):
    if any(SOFTIRQ.match(f) for f in frames):
        return "softirq"
    if pid in daemon:
        return "daemon"
    if pid in server:
        return "server"
    if reader is not None:
        if pid in reader:
            return "reader"
    elif comm == reader_comm or comm.startswith(reader_comm + " "):
        return "reader"
    if pid == 0 or comm.startswith("swapper"):
        return "idle"
    if KTHREAD.fullmatch(comm):
        return "kthreads"
    return "other"


INHERIT = ("pipe/splice", "FUSE device", "TCP receive")


# cpu-clock samples come from a timer interrupt, which waits while interrupts are off:
# a sample lands where they are turned back on (pvm_irq_enable on this paravirtual host,
# spin unlocks that restore interrupts).  Those frames are stepped over to their caller.
IRQ_ON = re.compile(r"(.*pvm_irq_enable|native_irq_enable|pv_native_irq_enable|arch_local_irq_(enable|restore)|"
                    r"_raw_spin_unlock_irq(restore)?|__raw_spin_unlock_irq(restore)?|_raw_read_unlock_irq.*|"
                    r"_raw_write_unlock_irq.*|local_bh_enable|__local_bh_enable_ip)")


def leaf_category(frames, cats):
    """The leaf frame's own category; a leaf no category claims (a spin lock, a slab
    free) takes the nearest caller's subsystem (pipe/splice, FUSE device, TCP receive),
    never copying, syscall entry/exit or scheduling, which count only where they run."""
    i = 0
    while i < len(frames) - 1 and IRQ_ON.fullmatch(frames[i]):
        i += 1
    frames = frames[i:]
    if not frames:
        return "other"
    c = sbsyms.categorize(frames[0], cats)
    if c != "other":
        return c
    for f in frames[1:]:
        c = sbsyms.categorize(f, cats)
        if c in INHERIT:
            return c
    return "other"


def fold(lines, daemon, server, reader_comm, cats, reader=None):
    folded = defaultdict(Counter)  # component -> stack -> count
    catn = defaultdict(Counter)    # component -> category -> count
    n = 0
    for comm, pid, _tid, frames in parse(lines):
        n += 1
        comp = component(comm, pid, frames, daemon, server, reader_comm, reader)
        if comp == "idle" or (comp == "softirq" and pid == 0 and not frames):
            comp = "idle"
        cat = leaf_category(frames, cats)
        if comp != "idle" and cat == "idle":
            cat = "other"
        folded[comp][";".join([comm.replace(";", ":").replace(" ", "_")] + frames[::-1])] += 1
        catn[comp][cat] += 1
    return folded, catn, n


# ------------------------------------------------------------------ flame graph
def tree_of(stacks):
    root = {"n": 0, "c": {}}
    for stack, cnt in stacks.items():
        node = root
        node["n"] += cnt
        for f in stack.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}})
            node["n"] += cnt
    return root


PALETTE = {"copying": "#e8743b", "pipe/splice": "#5b9bd5", "FUSE device": "#a05195", "TCP receive": "#2ca25f",
           "syscall entry/exit": "#c9b33f", "scheduling/wake-ups": "#8c8c8c", "idle": "#dddddd",
           "other": "#f0c27b"}


def flame_svg(stacks, title, cats, width=1200, row=16):
    root = tree_of(stacks)
    total = root["n"] or 1
    rects = []

    def depth(node):
        return 1 + max((depth(c) for c in node["c"].values()), default=0)

    H = (depth(root) + 1) * row + 40

    def walk(node, x, lvl):
        for name, ch in sorted(node["c"].items()):
            w = ch["n"] / total * (width - 20)
            if w >= 0.3:
                y = H - 10 - (lvl + 1) * row
                # the two root levels are the component and the process (comm): no category
                cat = sbsyms.categorize(name, cats) if lvl >= 2 else "component / process"
                rects.append('<g><title>%s (%d samples, %.1f %%; %s)</title><rect x="%.1f" y="%d" width="%.1f" '
                             'height="%d" fill="%s" stroke="#fff" stroke-width="0.3"/>%s</g>' % (
                                 html.escape(name), ch["n"], 100 * ch["n"] / total, cat, 10 + x, y, w, row - 1,
                                 PALETTE.get(cat, "#dddddd"),
                                 '<text x="%.1f" y="%d" font-size="11" font-family="monospace">%s</text>' % (
                                     12 + x, y + row - 4, html.escape(name[:int(w / 7)])) if w > 30 else ""))
                walk(ch, x, lvl + 1)
            x += w
    walk(root, 0, 0)
    legend = " ".join('<tspan fill="%s">&#9632; %s</tspan>' % (c, html.escape(k)) for k, c in PALETTE.items()
                      if k != "idle")
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
            '<rect width="100%%" height="100%%" fill="#ffffff"/>'
            '<text x="10" y="16" font-size="13" font-family="sans-serif">%s (%d samples; width = share of '
            'samples; colour = category, bench/categories.tsv)</text>'
            '<text x="10" y="32" font-size="11" font-family="sans-serif">%s</text>%s</svg>\n' % (
                width, H, width, H, html.escape(title), total, legend, "".join(rects)))


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def cmd_fold(a):
    cats = sbsyms.load_categories()
    daemon = {int(x) for x in a.daemon.split(",") if x}
    server = {int(x) for x in (a.server or "").split(",") if x}
    reader = {int(x) for x in a.reader.split(",") if x} if a.reader else None
    with open(a.perf_script, errors="replace") as f:
        folded, catn, n = fold(f, daemon, server, a.reader_comm, cats, reader)
    os.makedirs(a.out, exist_ok=True)
    allst = Counter()
    for comp, st in folded.items():
        write(os.path.join(a.out, "folded-%s.txt" % comp),
              "".join("%s %d\n" % (s, c) for s, c in sorted(st.items())))
        if comp in COMPONENTS:
            for s, c in st.items():
                allst[comp + ";" + s] += c
    write(os.path.join(a.out, "folded-all.txt"), "".join("%s %d\n" % (s, c) for s, c in sorted(allst.items())))
    write(os.path.join(a.out, "flame.svg"), flame_svg(allst, a.title or "CPU samples", cats))
    used = {c: sum(v.values()) for c, v in catn.items() if c in COMPONENTS}
    cat_total = Counter()
    for comp in COMPONENTS:
        cat_total.update(catn.get(comp, {}))
    nused = sum(used.values())
    res = {"samples": n, "samples_used": nused, "freq_hz": a.freq, "gb": a.gb,
           "components": {c: dict(catn[c]) for c in catn},
           "categories": dict(cat_total),
           "category_share_pct": {c: 100 * v / nused for c, v in cat_total.items()} if nused else {},
           "component_share_pct": {c: 100 * v / nused for c, v in used.items()} if nused else {}}
    if a.freq and a.gb:
        res["cpu_s_per_gb"] = nused / a.freq / a.gb
        res["category_cpu_s_per_gb"] = {c: v / a.freq / a.gb for c, v in cat_total.items()}
        res["component_cpu_s_per_gb"] = {c: v / a.freq / a.gb for c, v in used.items()}
    write(os.path.join(a.out, "categories.json"), json.dumps(res, indent=1) + "\n")
    print("%s: %d samples, %d of the mode's components (%s); categories: %s" % (
        a.out, n, nused, ", ".join("%s %d" % kv for kv in sorted(used.items())),
        ", ".join("%s %.1f %%" % (c, s) for c, s in sorted(res["category_share_pct"].items(), key=lambda kv: -kv[1]))))
    return 0


OVERHEAD_LIMIT_PCT = sbverdict.THRESHOLD * 100  # the profiler may cost at most the band (issue 22)


def _f1(x):
    return "%.1f" % (0.0 if abs(x) < 0.05 else x)


def paired_overhead(ov):
    """From overhead.json's pairs (gbps_with[i], gbps_without[i], ... measured back to back,
    their order alternating): per pair the GB/s lost with perf recording (1 - with/without)
    and the CPU per GB it added (with/without - 1); each judged by the project's one judge
    (splicebench.verdict.paired_verdict: the estimate, its interval and the outcome
    against the band, perf on as B, perf off as A).  None where the lists do not pair up."""
    gw, go = ov.get("gbps_with") or [], ov.get("gbps_without") or []
    cw, co = ov.get("cpu_s_per_gb_with") or [], ov.get("cpu_s_per_gb_without") or []
    if not gw or len(gw) != len(go) or len(cw) != len(gw) or len(co) != len(gw):
        return None
    g = [w / o for w, o in zip(gw, go) if o > 0]
    c = [w / o for w, o in zip(cw, co) if o > 0]
    out = {"pairs": len(g)}
    for k, r, sign in (("gbps", g, -1), ("cpu", c, 1)):
        d = sbverdict.paired_verdict(r, higher_is_better=(k == "gbps"))
        est = d["estimate"] if d["estimate"] is not None else 1.0
        # overhead in %: GB/s lost (sign -1: a ratio under 1 is a loss), CPU per GB added
        pct = (lambda x: 100.0 * sign * (x - 1.0))
        out[k] = {"median_pct": pct(est), "ratios": r, "outcome": d["outcome"],
                  "lo_pct": min(pct(d["lo"]), pct(d["hi"])) if d["lo"] is not None else None,
                  "hi_pct": max(pct(d["lo"]), pct(d["hi"])) if d["lo"] is not None else None,
                  "coverage": d["coverage"]}
    return out


def overhead_sentence(ov, where="overhead.json"):
    """(sentence, ok) for bench/profile's overhead.json (a dict, or None when the file is
    missing or unreadable).  The overhead is measured on paired fio runs of the first
    mode, with and without perf recording: per pair the GB/s lost and the CPU per GB
    added; held against the limit is the upper end of both intervals (paired_overhead).
    ok: measured, and the one judge finds neither figure worse nor unresolved against its
    band (the limit is the band's edge: the overhead's whole interval under it)."""
    lim = "%g %%" % OVERHEAD_LIMIT_PCT
    if ov is None:
        return ("The profiler's overhead was not measured: %s is missing, so nothing says these profiles are "
                "within %s of an unprofiled run." % (where, lim), False)
    po = paired_overhead(ov)
    if po is None or not po["pairs"]:
        return ("The profiler's overhead was not measured (%s holds no paired runs: bench/profile --pairs 0), "
                "so nothing says these profiles are within %s of an unprofiled run." % (where, lim), False)
    g, c = po["gbps"], po["cpu"]
    on = ("%d paired fio runs of %s (%s, %s) with and without perf record -a -g -e cpu-clock at %g Hz, "
          "back to back, their order alternating: GB/s lost %+.1f %%, CPU per GB of daemon and fio added %+.1f %% "
          "(Hodges-Lehmann estimates of the per-pair ratios)" % (
              po["pairs"], ov.get("mode", "?"), ov.get("source", "?"), ov.get("bs", "?"), ov.get("freq_hz", 0),
              g["median_pct"], c["median_pct"]))
    if g["hi_pct"] is None or c["hi_pct"] is None:
        return ("The profiler's overhead was not bounded: %s; %d pairs give no %s interval (it needs %d), so "
                "nothing says these profiles are within %s of an unprofiled run: rerun bench/profile with more "
                "--pairs." % (on, po["pairs"], sbverdict._pct(sbverdict.CONFIDENCE),
                              sbverdict.rounds_needed(), lim), False)
    cov = sbverdict._pct(min(g["coverage"], c["coverage"]))
    hi = max(g["hi_pct"], c["hi_pct"])
    ivs = "intervals (%s): GB/s lost %s to %s %%, CPU added %s to %s %%" % (
        cov, _f1(g["lo_pct"]), _f1(g["hi_pct"]), _f1(c["lo_pct"]), _f1(c["hi_pct"]))
    if all(x["outcome"] in (sbverdict.EQUIVALENT, sbverdict.BETTER) for x in (g, c)):
        return ("Profiler overhead: at most %.1f %%, under the %s limit, measured as %s; %s." % (hi, lim, on, ivs), True)
    if any(x["outcome"] == sbverdict.WORSE for x in (g, c)):
        return ("Profiler overhead: at least %.1f %%: it EXCEEDED the %s limit (measured as %s; %s); these "
                "profiles disturb what they measure: rerun bench/profile with a lower --freq." % (
                    max(g["lo_pct"], c["lo_pct"]), lim, on, ivs), False)
    return ("Profiler overhead: up to %.1f %%: not shown to be under the %s limit (measured as %s; %s): the "
            "pairs vary too much here; rerun bench/profile with more --pairs on a quieter machine." % (
                hi, lim, on, ivs), False)


def cmd_overhead(a):
    try:
        with open(a.overhead) as f:
            ov = json.load(f)
        if not isinstance(ov, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        ov = None
    except (OSError, ValueError) as e:
        print("splicebench/why/profile.py: %s: %s" % (a.overhead, e), file=sys.stderr)
        return 2
    text, ok = overhead_sentence(ov, a.overhead)
    print(text)
    return 0 if ok else 1


def cmd_flame(a):
    st = Counter()
    with open(a.folded) as f:
        for line in f:
            s, _, c = line.rstrip("\n").rpartition(" ")
            if s and c.isdigit():
                st[s] += int(c)
    write(a.out, flame_svg(st, a.title or os.path.basename(a.folded), sbsyms.load_categories()))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fold")
    f.add_argument("perf_script")
    f.add_argument("--out", required=True)
    f.add_argument("--daemon", required=True)
    f.add_argument("--server", default="")
    f.add_argument("--reader-comm", default="fio", help="the reader by name (without --reader)")
    f.add_argument("--reader", default="", help="the reader's pids (another session's fio is then other)")
    f.add_argument("--freq", type=float, default=0)
    f.add_argument("--gb", type=float, default=0)
    f.add_argument("--title")
    g = sub.add_parser("flame")
    g.add_argument("folded")
    g.add_argument("--out", required=True)
    g.add_argument("--title")
    o = sub.add_parser("overhead")
    o.add_argument("overhead")
    a = ap.parse_args(argv)
    return {"fold": cmd_fold, "flame": cmd_flame, "overhead": cmd_overhead}[a.cmd](a)
