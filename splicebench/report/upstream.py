"""The report's section "FUSE_OUT_SPLICES against upstream's io_uring zero-copy" (issue 29):
on a network path measured under --cost (the network's own reader next to each point), every
mode's bytes moved per byte delivered as a chart (the network's own a line), a table per mode
(bytes moved per byte, its multiple of the network's own, instructions per byte, system calls
per reply, the share zero-copied or spliced), and one sentence that states, at the network
path's largest block size as root, the network's own reader, the copy mode, the
FUSE_OUT_SPLICES mode and the zero-copy mode, and which of the three is cheapest by how much,
each comparison judged by the one judge (judge.verdict, kind "cost").

The section is about two modes, so it looks for them, by their --list (the set's meta.json
"lists"), never by a name list that other sets would have to match:
  - the FUSE_OUT_SPLICES mode: a mode whose --list `needs` names FUSE_OUT_SPLICES (splicefs'
    multipipe);
  - upstream's zero-copy mode: a mode whose --list `needs` names io_uring and zero-copy
    (splicefs' uring-zc);
  - a set whose meta.json carries no --list (made before sets carried one) has no such
    section: every set with both modes was made after.
The copy mode is the report's base mode (tables.base_mode: the first splicefs mode that
never splices, learnt from the data).  The section is drawn only where the set has cost
figures, a network path with the network's own cost, and ok points of both modes there;
elsewhere it adds nothing."""

import statistics

from .. import results as R
from ..modes import _lists_of
from ..results import bs_label
from . import judge
from .dataset import group_name, mode_color, mode_key, row_cost_net
from .fmt import fig, share
from .gnuplot import gp_str, num
from .tables import Notes, base_mode, figure_cell, spliced_cell, COST_METRIC_NAME

TITLE = "FUSE_OUT_SPLICES against upstream's io_uring zero-copy"
CHART = "cost-upstream"
MOVED, GET_MOVED = R.COST_METRICS[0][0], R.COST_METRICS[0][1]
INSTR, GET_INSTR = R.COST_METRICS[1][0], R.COST_METRICS[1][1]
SYSCALLS = "cost_syscalls_per_reply"


def roles(rs):
    """{"splices": mode, "zero_copy": mode, "copy": mode} of the modes the set has (None
    where it has none): by --list `needs` (module doc)."""
    needs = {}
    for j in _lists_of(rs.meta):
        for m in j.get("modes") or []:
            if isinstance(m, dict) and isinstance(m.get("name"), str):
                needs[m["name"]] = str(m.get("needs") or "")
    out = {"splices": None, "zero_copy": None}
    for m in rs.modes:
        n = needs.get(m, "")
        if out["splices"] is None and "FUSE_OUT_SPLICES" in n:
            out["splices"] = m
        if out["zero_copy"] is None and "io_uring" in n and "zero-copy" in n:
            out["zero_copy"] = m
    out["copy"] = base_mode(rs, set(rs.modes))
    return out


def is_root(r):
    return r.get("privilege") in (None, "", "root")


def net_of(rs, r):
    return row_cost_net(rs, r, [])


def pick(rs, ro):
    """(source, bs, rows): the network path (the NIC first: the condition the series was
    written for) whose largest block size has root points of both modes with cost figures
    and the network's own cost; None where the set has none."""
    cands = {}
    for r in rs.ok:
        if r.get("numjobs", 1) != 1 or not is_root(r) or GET_MOVED(r) is None or not net_of(rs, r):
            continue
        cands.setdefault((r["source"], r.get("path") or "", r["bs"]), []).append(r)
    best = None
    for (src, path, bs), rows in cands.items():
        ms = {r["mode"] for r in rows}
        if ro["splices"] not in ms or ro["zero_copy"] not in ms:
            continue
        key = (path != "nic" and "nic" not in src, -bs)
        if best is None or key < best[0]:
            best = (key, src, bs, rows)
    return None if best is None else (best[1], best[2], sorted(best[3], key=lambda r: mode_key(r["mode"])))


def net_row(rows):
    """The network's own reader at the chosen point as a row the judge takes: the windows
    of every point's own reader there (cost_net_windows: one reader, the same sbserver and
    bs, measured next to each point in the same boot), its figure their points' median."""
    wins = [w for r in rows for w in ((r.get("_json") or {}).get("cost_net_windows") or [])]
    nets = [v for v in (R.first_col(r, R.COST_BASELINE_COLS)[1] for r in rows) if isinstance(v, (int, float))]
    return {"point": None, R.COST_MOVED: statistics.median(nets) if nets else None,
            "_json": {"cost_windows": wins}}


def judged(v):
    """'1.31x (1.30-1.32, worse)': the judge's estimate, interval and outcome."""
    if v.get("estimate") is None:
        return f"not judged ({v.get('reason') or v['outcome']})"
    iv = f"{v['lo']:.2f}-{v['hi']:.2f}, " if v.get("lo") is not None else ""
    return f"{v['estimate']:.2f}x ({iv}{v['outcome']})"


def share_cell(rs, r, ro, notes):
    """The share of its bytes a mode zero-copied (a ratio counter its --list declares for it
    alone, e.g. uring-zc's zc_fraction) or spliced; 'copies' for a copy mode."""
    j = r.get("_json") or {}
    for c in rs.counters:
        v = r.get(c.get("name"))
        v = v if isinstance(v, (int, float)) else j.get(c.get("name"))  # points.jsonl has every counter
        if c.get("mode") == r["mode"] and c.get("combine") == "ratio" and isinstance(v, (int, float)):
            what = "zero-copied" if "zero-cop" in str(c.get("help", "")) else c["name"]
            return f"{share(100 * v)} {what}"
    if r["mode"] in rs.copy_modes:
        return "0 % (copies)"
    s = spliced_cell(rs, r, notes)
    if s and s[0].isdigit():  # '0 %[1]' -> '0 % spliced[1]'
        i = s.find("[")
        return f"{s} spliced" if i < 0 else f"{s[:i]} spliced{s[i:]}"
    return s


def section(d, rs, ch):
    """The section (report.SECTIONS): added only where the set has what it needs."""
    if not rs.cost_cols:
        return
    ro = roles(rs)
    if not ro["splices"] or not ro["zero_copy"]:
        return
    got = pick(rs, ro)
    if got is None:
        return
    src, bs, rows = got
    key = (src, rows[0].get("path") or "", rows[0].get("direct"))
    where = f"{group_name(key)}, {bs_label(bs)}, root"
    nets = [net_of(rs, r) for r in rows]
    net = statistics.median(nets)
    d.h(2, TITLE)
    d.p(f"Upstream Linux answers the seed's problem with FUSE over io_uring zero-copy ({ro['zero_copy']}: the "
        f"source reads each READ's data straight into the reader's pages, registered as a fixed buffer); "
        f"FUSE_OUT_SPLICES ({ro['splices']}) hands the kernel the data in pipes. Both against the copy mode "
        f"({ro['copy']}) and the network's own reader (a plain TCP reader, measured next to each point in the "
        "same boot), counted by the QEMU plugin: bytes moved (loaded + stored) and instructions per byte "
        "delivered, and the system calls user space made per reply (per READ of bs; for the network's own "
        "reader per bs received). Lower is better.")
    d.p(sentence(rs, ro, rows, net, where))
    _chart(d, rs, ch, rows, net, where)
    head, trows, notes = table(rs, ro)
    d.table(head, trows)
    d.small(["x network's own: bytes moved per byte over the network's own reader's (the median of its "
             "figures measured next to each point of the path and bs; mem: none). instructions: kernel + user per byte delivered, iterations of rep "
             "string instructions left out. syscalls / reply: executions of the syscall instruction in user "
             "mode (fio, the daemon, an in-guest server) per bs delivered, the median of the repeats and their "
             "range: the windows' fixed part (fio's helper thread, the hooks) varies by some calls, which the few "
             "replies between the two windows at 1 MiB (6 in 8 MiB) divide by little (most on a NIC path, where an "
             "idle guest's clock runs at real time): the calls a reply makes read best from the smaller bs."] + notes.lines())


def sentence(rs, ro, rows, net, where):
    """At the chosen point: the network's own, copy, FUSE_OUT_SPLICES, zero-copy; their
    multiples of the network's own (judged: each point's windows against its own reader's);
    the cheapest of the three against the other two (judged)."""
    by = {r["mode"]: r for r in rows}
    three = [m for m in (ro["copy"], ro["splices"], ro["zero_copy"]) if m in by]
    parts = []
    nr = net_row(rows)
    for m in three:
        r = by[m]
        v = judge.verdict(nr, r, "cost", metric=MOVED, get=GET_MOVED)
        parts.append(f"{m} {fig(GET_MOVED(r))} = {GET_MOVED(r) / net:.2f}x the network's own (judged: {judged(v)})")
    txt = (f"At {where}, bytes moved per byte delivered: the network's own reader {fig(net)} "
           f"(median of its {len(nr['_json']['cost_windows'])} pairs of windows, one next to each of the "
           f"{len(rows)} points), " + ", ".join(parts) + ".")
    cheap = min(three, key=lambda m: GET_MOVED(by[m]))
    vs, outs = [], set()
    for m in three:
        if m == cheap:
            continue
        v = judge.verdict(by[m], by[cheap], "cost", metric=MOVED, get=GET_MOVED)
        outs.add(v["outcome"])
        vs.append(f"{judged(v)} {m}'s")
    lead = "Cheapest" if outs == {"better"} else "Lowest by the median (the judge does not call it better than both)"
    return txt + f" {lead}: {cheap}, at " + " and ".join(vs) + " bytes moved per byte (the judge, B / A: " \
        f"{judge.rule_text('cost')})"


def table(rs, ro):
    """Every root point of every path with cost figures, per path and block size (largest
    first), one row a mode."""
    notes = Notes()
    head = ["path", "bs", "mode", "bytes moved / B", "x network's own", "instructions / B", "syscalls / reply",
            "zero-copied or spliced"]
    rows = []
    groups = {}
    for r in rs.ok:
        if is_root(r) and r.get("numjobs", 1) == 1 and GET_MOVED(r) is not None:
            groups.setdefault(((r["source"], r.get("path") or "", r.get("direct")), r["bs"]), []).append(r)
    order = sorted(groups, key=lambda k: (not net_of(rs, groups[k][0]), k[0][0], -k[1]))
    for k in order:
        first = True
        nets = [v for v in (net_of(rs, r) for r in groups[k]) if v]
        nc = statistics.median(nets) if nets else None
        for r in sorted(groups[k], key=lambda r: mode_key(r["mode"])):
            mv, ins, sc = GET_MOVED(r), GET_INSTR(r), r.get(SYSCALLS)
            rows.append([group_name(k[0]) if first else "", bs_label(k[1]) if first else "", r["mode"],
                         figure_cell(fig(mv), r, COST_METRIC_NAME[MOVED]),
                         f"{mv / nc:.2f}x" if nc else "-",
                         figure_cell(fig(ins), r, COST_METRIC_NAME[INSTR]) if ins is not None else "-",
                         syscalls_cell(r, sc),
                         share_cell(rs, r, ro, notes)])
            first = False
        if nets:
            nsc = [r.get("cost_net_syscalls_per_reply") for r in groups[k]
                   if isinstance(r.get("cost_net_syscalls_per_reply"), (int, float))]
            rows.append(["", "", "network's own reader", fig(nc), "1x", "-",
                         fig(statistics.median(nsc)) if nsc else "-", "(recv into one buffer)"])
    return head, rows, notes


def syscalls_cell(r, sc):
    """'10.3 (8.0-12.5)': the median over the repeats and, where they spread, their range (a
    window's fixed part, fio's helper thread and the hooks, varies by some calls, divided
    by the replies between the two windows: 6 at 1 MiB in 8 MiB)."""
    if not isinstance(sc, (int, float)):
        return "-"
    v = [w.get("syscalls_per_reply") for w in (r.get("_json") or {}).get("cost_windows") or []]
    v = [x for x in v if isinstance(x, (int, float))]
    return fig(sc) + (f" ({fig(min(v))}-{fig(max(v))})" if len(v) > 1 and max(v) > min(v) else "")


def _chart(d, rs, ch, rows, net, where):
    """Bytes moved per byte delivered per mode at the chosen point (bars), the network's own
    reader a dashed line; drawn through the report's chart code (Gnuplot.render)."""
    block = []
    for i, r in enumerate(rows):
        mv = GET_MOVED(r)
        block.append((i, num(mv), gp_str(f"{fig(mv)} ({mv / net:.2f}x)")))
    terms = ["dat index 0 using 1:2:(0.7):(column(0)+1001) with boxes fill solid 0.85 border rgb '#333333' "
             "lc variable notitle"]
    terms.append("dat index 0 using 1:2:3 with labels center offset 0,0.8 font ',11' tc rgb '#222222' notitle")
    terms.append(f"{net} with lines lw 2.5 dt 2 lc rgb '#000000' "
                 f"title {gp_str(f'network' + chr(39) + f's own reader ({fig(net)})')}")
    tics = ", ".join(f"{gp_str(r['mode'])} {i}" for i, r in enumerate(rows))
    top = max([GET_MOVED(r) for r in rows] + [net]) * 1.2
    body = ("set style fill solid 0.85\nset boxwidth 0.7 absolute\n"
            f"set xrange [-0.6:{len(rows) - 0.4}]\nset xtics ({tics}) scale 0 rotate by 20 right\n"
            "set grid noxtics ytics\nset lmargin at screen 0.07\nset rmargin at screen 0.98\n"
            "set key inside top center horizontal box\n"
            + "".join(f"set linetype {1000 + i + 1} lc rgb '{mode_color(r['mode'], i)}'\n"
                      for i, r in enumerate(rows))
            + f"set title {gp_str(f'Bytes moved per byte delivered (QEMU plugin; lower is better): {where}')}"
            f" . \"\\n\" . {gp_str(rs.title())}\n"
            "set ylabel 'bytes moved (loaded + stored) / byte delivered'\n"
            f"set yrange [0:{top}]\n"
            "plot " + ", \\\n     ".join(terms)
            + "\n" + ch.probe("moved"))
    cap = f"bytes moved per byte delivered per mode, {where}, the network's own reader dashed"
    ch.render(CHART, [block], body, cap,
              checks=[{"panel": "moved", "ys": [GET_MOVED(r) for r in rows] + [net],
                       "xs": list(range(len(rows))), "zero": True, "log": False}])
    # Shown here: the report's Charts section shows only what no section showed.
    ch.made[:] = [m for m in ch.made if m[0] != CHART]
    d.img(CHART, cap)
