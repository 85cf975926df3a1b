"""The report's tables and the sentences that go with them: the headline tables (a table
per data path), splicefs against the reference daemons, CPU per GB, the fallbacks, and the
appendix's medians, CPU and cost per point.  Every verdict through judge.py."""

from .. import results as R
from ..results import bs_label, copied_share
from . import judge
from .dataset import group_name, mode_key, fell_back, row_cost_net
from .doc import cell_text, with_attrs
from .fmt import pct, fig, share, axis_value


# What a figure cell shows, by name (data-metric in report.html; plots/browsercheck checks it).
COST_METRIC_NAME = {R.COST_METRICS[0][0]: "cost-moved", R.COST_METRICS[1][0]: "cost-instr"}


def figure_cell(c, r, metric):
    """Cell c showing point r's figure (metric: gbps, cpu, cost-moved, cost-instr), named in
    report.html (data-point, data-metric, data-kind=figure) for plots/browsercheck."""
    return with_attrs(c, point=r.get("point"), metric=metric, kind="figure") if r.get("point") else c


def ratio_cell(c, r, b, metric):
    """Cell c showing the judged ratio of point r against point b (data-base)."""
    return with_attrs(c, point=r.get("point"), base=b.get("point"), metric=metric, kind="ratio") \
        if r.get("point") and b.get("point") else c


class Notes:
    """Numbered notes of one table: the same text gets the same number."""

    def __init__(self):
        self.items = []

    def ref(self, text):
        if text not in self.items:
            self.items.append(text)
        return f"[{self.items.index(text) + 1}]"

    def lines(self):
        return [f"[{i + 1}] {t}" for i, t in enumerate(self.items)]


def base_mode(rs, modes):
    """The mode others are measured against: the first copy mode (never splices, learnt from
    the data) of splicefs present, else the first mode present."""
    for m in rs.modes:
        if m in modes and m in rs.copy_modes and rs.programs.get(m, "splicefs") == "splicefs":
            return m
    return next((m for m in rs.modes if m in modes), None)


def const_words(rows, axes):
    """'numjobs=1, psync, iodepth=1, ...' for the axes (constant in rows)."""
    r0 = {a: rows[0].get(a) for a in axes}
    return R.axes_words(r0, skip=("mode", "source", "bs"))


def spliced_cell(rs, r, notes):
    """The share a splicing mode spliced, '' for a copy mode, 'not visible' where the
    daemon cannot see libfuse's fallbacks; the fallback reasons in a note."""
    if r["mode"] in rs.copy_modes:
        return ""
    if R.fallbacks_hidden(r):
        return "not visible" + notes.ref(f"{r['mode']}: fallbacks not visible: libfuse copies instead of "
                                         "splicing without telling its daemon (fallbacks_visible = false)")
    tot = (r.get("bytes_spliced") or 0) + (r.get("bytes_copied") or 0)
    if not tot:  # e.g. passthrough: the kernel reads the backing file itself
        return "n/a" + notes.ref(f"{r['mode']}: no read reached the daemon (0 bytes spliced or copied): "
                                 "nothing for it to splice")
    sh = r.get("spliced_share")
    sh = 100 * sh if isinstance(sh, (int, float)) else 100 * (r.get("bytes_spliced") or 0) / tot
    if sh >= 99.95:
        return "100 %"
    why = R.fallback_reasons(r) or "no reason in the counters"
    return share(sh) + notes.ref(f"{r['mode']} fell back to copying the rest: {why}")


def headline_tables(rs):
    """Per data path (source, path, direct) at its smallest numjobs: one row per block size
    (largest first) and mode (with whichever other axes vary), the figure, its ratio to the
    base (copy) mode with the noise rule's verdict, to the network's own and to 100G line
    rate, and how much a splicing mode spliced.  Under TCG the figure is bytes moved per
    byte delivered (and instructions per byte): nothing is compared by time.
    Returns [{title, const, head, rows, notes}]."""
    out = []
    skip = {"mode", "source", "path", "direct", "bs"} | set(R.MODE_OWN_AXES)
    axes = [a for a in rs.match_axes() if a not in skip]
    for key, okrows in rs.groups().items():
        t = _headline_table(rs, key, okrows, axes)
        if t:
            out.append(t)
    return out


def _headline_table(rs, key, okrows, axes):
    """One path's headline table (headline_tables), or None where it has no point."""
    njs = sorted({r["numjobs"] for r in okrows})
    nj = njs[0]
    allr = [r for r in rs.rows if (r["source"], r["path"], r.get("direct")) == key and r.get("numjobs") == nj
            and r["mode"] not in R.COST_BASELINE_MODES and r.get("bs")]
    if not allr:
        return None
    vary = [a for a in axes if a != "numjobs" and len({r.get(a) for r in allr}) > 1]
    const = [a for a in axes if a not in vary]
    modes = [m for m in rs.modes if any(r["mode"] == m for r in allr)]
    own = {m: [a for a in R.MODE_OWN_AXES if len({r.get(a) for r in allr if r["mode"] == m}) > 1] for m in modes}
    base = base_mode(rs, [m for m in modes if any(r["mode"] == m and r["status"] == "ok" for r in allr)])
    cw = _headline_const(allr, const, njs, modes, own)
    notes = Notes()
    nb = None if rs.emulated else rs.baseline_of(okrows, key[1])
    head = _headline_head(rs, key, base, nb)
    rows = []
    for bs in sorted({r["bs"] for r in allr}, reverse=True):
        first = True
        for m in modes:
            mine = [r for r in allr if r["mode"] == m and r["bs"] == bs]
            for r in sorted(mine, key=lambda r: tuple(str(r.get(a)) for a in vary + own[m])):
                lab = m + "".join(f", {a}={r.get(a)}" if a not in ("ioengine",) else f", {r.get(a)}"
                                  for a in vary) + \
                    "".join(f" {a}={bs_label(r[a]) if a == 'pipe_size' and r.get(a) else r.get(a)}" for a in own[m])
                cells = [bs_label(bs) if first else "", lab]
                first = False
                if r["status"] != "ok":
                    cells.append(r["status"] + notes.ref(f"{lab} at {bs_label(bs)}: {r['status']}: "
                                                         f"{r.get('reason') or 'no reason given'}"))
                    rows.append(cells + [""] * (len(head) - len(cells)))
                    continue
                peers = [p for p in allr if p["bs"] == bs and p["status"] == "ok"
                         and all(p.get(a) == r.get(a) for a in vary)]
                b = None if m == base else next((p for p in peers if p["mode"] == base), None)
                if rs.emulated:
                    cells += _cost_cells(rs, r, b, base, lab, notes, nj)
                else:
                    cells += _time_cells(rs, r, b, base, lab, notes, nb)
                cells.append(spliced_cell(rs, r, notes))
                rows.append(cells)
    keep = [i for i in range(len(head)) if i < 2 or any(cell_text(c[i]) not in ("", "-") for c in rows)]
    head = [head[i] for i in keep]
    rows = [[c[i] for i in keep] for c in rows]
    title = group_name(key)
    return {"title": title, "const": cw, "head": head, "rows": rows, "notes": notes.lines(),
            "key": key, "base": base}


def _headline_head(rs, key, base, nb):
    """A headline table's columns: cost per byte under TCG, else GB/s and its shares."""
    bname = base or "base"
    if rs.emulated:
        return ["bs", "mode", "bytes moved / B", f"x {bname}", "x network's own", "instructions / B",
                f"x {bname}", "spliced"]
    return ["bs", "mode", "GB/s", f"x {bname}"] + ([f"of iperf3 {key[1]}"] if nb else []) + \
        [f"of {rs.line_rate:g} GB/s", "spliced"]


def _headline_const(allr, const, njs, modes, own):
    """The line above a headline table: the axes constant in it, and each mode's own settings
    that do not vary, stated once."""
    nj = njs[0]
    cw = const_words(allr, const)
    if len(njs) > 1:
        cw = cw.replace(f"numjobs={nj}", f"numjobs={nj} (numjobs {', '.join(map(str, njs[1:]))}: the medians "
                                         "table and the scaling chart)")
    for m in modes:  # a mode's own settings that do not vary: stated once too
        fixed = [a for a in R.MODE_OWN_AXES if a not in own[m]
                 and next((r.get(a) for r in allr if r["mode"] == m), None) not in (None, "")]
        if fixed:
            r0 = next(r for r in allr if r["mode"] == m)
            cw += f"; {m}: " + ", ".join(f"{a}={bs_label(r0[a]) if a == 'pipe_size' else r0[a]}" for a in fixed)
    return cw


def _cost_cells(rs, r, b, base, lab, notes, nj):
    """A headline row's figures under TCG: per cost metric its value and the ratio to the base
    mode's point b with the verdict; after bytes moved, the multiple of the network's own."""
    cells, m, bs = [], r["mode"], r["bs"]
    what = f"{lab} against {base}"
    for name, get in R.COST_METRICS:
        v = get(r)
        cells.append(figure_cell(fig(v) if v is not None else "-", r, COST_METRIC_NAME[name]))
        if m == base:
            cells.append("base")
        elif b is None or v is None or not get(b):
            cells.append("-")
        else:
            jv = judge.verdict(b, r, "cost", metric=name, get=get)
            cells.append(ratio_cell(judge.verdict_cell(v / get(b), jv, notes, f"{what}, {name}", (base, lab)),
                                    r, b, COST_METRIC_NAME[name]))
        if name.startswith("bytes moved"):
            nc = row_cost_net(rs, r, [p for p in rs.rows if p["status"] == "ok"
                                      and p["bs"] == bs and p["source"] == r["source"]
                                      and p.get("numjobs") == nj])
            cells.append(f"{v / nc:.2f}x" if nc and v is not None else "-")
    return cells


def _time_cells(rs, r, b, base, lab, notes, nb):
    """A headline row's figures by time: GB/s (none below 3 repeats), the ratio to the base
    mode's point b with the verdict, the shares of the path's iperf3 baseline (nb) and of
    line rate."""
    cells = []
    n = int(r.get("repeats") or 0)
    g = r["gbps_median"]
    if n < 3:
        cells.append(figure_cell(f"n={n}" + notes.ref(f"fewer than 3 repeats: no figure here (no absolute "
                                                      "headline below n = 3); the medians table has it"),
                                 r, "gbps"))
    else:
        cells.append(figure_cell(fig(g), r, "gbps"))
    if r["mode"] == base:
        cells.append("base")
    elif b is None or not b.get("gbps_median"):
        cells.append("-")
    else:
        jv = judge.verdict(b, r, "gbps")
        cells.append(ratio_cell(judge.verdict_cell(g / b["gbps_median"], jv, notes, f"{lab} against {base}",
                                                   (base, lab)), r, b, "gbps"))
    if nb:
        cells.append(share(100 * g / nb) if n >= 3 else "-")
    cells.append(share(100 * g / rs.line_rate) if n >= 3 else "-")
    return cells


def headline_legend(rs):
    if rs.emulated:
        return ("Emulated (TCG): every figure is a cost per byte delivered from the QEMU plugin (lower is "
                "better); nothing is ranked by time. x network's own: bytes moved as a multiple of a plain TCP "
                "reader's on the same path. ")
    return ("GB/s: median over the repeats (10^9 B/s); the shares are of the path's iperf3 single-stream "
            "baseline and of 100G line rate. ")


def fallback_sentences(rs):
    out = []
    for m in [m for m in rs.modes if m not in rs.copy_modes and any(r["mode"] == m for r in rs.ok)]:
        mr = [r for r in rs.ok if r["mode"] == m]
        if any(R.fallbacks_hidden(r) for r in mr):
            out.append(f"{m}: whether it fell back to copying cannot be seen ({len(mr)} points): its daemon "
                       "asks libfuse to splice every reply, and libfuse copies instead without telling it "
                       "(fallbacks_visible = false); a collapse in GB/s is the only sign.")
            continue
        fb = [r for r in mr if fell_back(r)]
        if not fb:
            out.append(f"{m} never fell back to copying ({len(mr)} points, bytes_copied = 0 at each).")
            continue
        t = min(r["bs"] for r in fb)
        above = [r for r in mr if r["bs"] >= t]
        sp = sum(r.get("bytes_spliced") or 0 for r in fb)
        cp = sum(r.get("bytes_copied") or 0 for r in fb)
        nfb = sum(int(r.get("fallbacks") or 0) for r in fb)
        why = {}
        for c, lab in R.FALLBACK_REASONS:
            n = sum(int(r.get(c) or 0) for r in fb)
            if n:
                why[lab] = n
        reasons = (" Reasons: " + ", ".join(f"{lab} {n}" for lab, n in sorted(why.items(), key=lambda x: -x[1])) + "."
                   if why else " The counters give no reason (fallback_* not in the data).")
        out.append(f"{m} fell back to copying at {len(fb)} of {len(above)} {m} points with bs >= {bs_label(t)} "
                   f"({nfb} replies fell back; {pct(100 * cp / (sp + cp) if sp + cp else 0)} of those points' bytes "
                   f"were copied, not spliced); below {bs_label(t)} it never fell back.{reasons} "
                   "The charts circle these points in red.")
    return out


def short_axes(rs, rows, skip=("mode", "source", "path", "direct", "bs")):
    """The axes that vary among rows (for short row labels); the rest are stated once."""
    return [a for a in rs.match_axes() if a not in skip and len({r.get(a) for r in rows}) > 1]


def cpu_table(rs):
    """Per point: the CPU parts, their sum, cores x wall, and the check (sum <= it); rows
    labelled by path, mode, bs and only the other axes that vary; 3 significant digits."""
    parts = [p for p in R.CPU_PARTS if any(p[0] in R.cpu_parts(r) for r in rs.ok)]
    rows_ = [r for r in rs.ok if R.cpu_parts(r)]
    vary = short_axes(rs, rows_)
    head = (["path", "mode", "bs"] + vary + [p[1] for p in parts] + ["sum (mode's cost)", "cores x wall", "check"])
    rows, bad = [], []
    for r in rows_:
        cp = R.cpu_parts(r)
        s, cap, prob = R.cpu_check(r)
        if prob:
            bad.append(f"{R.axes_words(r)}: {prob}")
        rows.append([group_name((r["source"], r["path"], r.get("direct"))), r["mode"], bs_label(r["bs"])]
                    + [axis_value(r, a) for a in vary]
                    + [fig(cp[p[0]]) if p[0] in cp else "" for p in parts]
                    + [fig(s), fig(cap) if cap is not None else "not in the data",
                       ("VIOLATED: " + prob) if prob else ("ok" if cap is not None else "cannot check")])
    return head, rows, bad


def cpu_summary(rs):
    """Per path at its smallest numjobs, the smallest and largest bs: each mode's own CPU s/GB
    (the parts but rest of machine) against the base mode's, with the noise rule's verdict on
    the per-repeat figures.  None under TCG (CPU seconds there rank nothing)."""
    if rs.emulated:
        return None
    head = ["path", "bs", "mode", "s/GB", "x base", "spliced"]
    rows, notes = [], Notes()
    for key, okrows in rs.groups().items():
        nj = min(r["numjobs"] for r in okrows)
        sel = [r for r in okrows if r["numjobs"] == nj and R.cpu_mode_cost(r) is not None]
        if not sel:
            continue
        vary = [a for a in short_axes(rs, sel, skip=("mode", "source", "path", "direct", "bs", "numjobs")
                                      + tuple(R.MODE_OWN_AXES))]
        own = {m: [a for a in R.MODE_OWN_AXES if len({r.get(a) for r in sel if r["mode"] == m}) > 1]
               for m in {r["mode"] for r in sel}}
        bss = sorted({r["bs"] for r in sel})
        for bs in sorted({bss[0], bss[-1]}, reverse=True):
            at = [r for r in sel if r["bs"] == bs]
            base = base_mode(rs, {r["mode"] for r in at})
            first = True
            for r in sorted(at, key=lambda r: (mode_key(r["mode"]), str([r.get(a) for a in vary]))):
                lab = r["mode"] + "".join(f", {a}={axis_value(r, a)}" for a in vary + own[r["mode"]])
                c = R.cpu_mode_cost(r)
                b = next((p for p in at if p["mode"] == base and all(p.get(a) == r.get(a) for a in vary)), None)
                if r["mode"] == base:
                    x = "base"
                elif b is None or not R.cpu_mode_cost(b):
                    x = "-"
                else:
                    jv = judge.verdict(b, r, "cpu")
                    x = ratio_cell(judge.verdict_cell(c / R.cpu_mode_cost(b), jv, notes,
                                                      f"{lab} against {base}, CPU s/GB", (base, lab)), r, b, "cpu")
                rows.append([group_name(key) if first else "", bs_label(bs) if first else "", lab,
                             figure_cell(fig(c), r, "cpu"), x,
                             spliced_cell(rs, r, notes)])
                first = False
    if not rows:
        return None
    return head, rows, ["Lower is better. x base: against the base mode's own CPU s/GB at the same axes, "
                        + judge.marks_words(" (less CPU)") + " (a verdict needs per-repeat CPU figures)."] + notes.lines()


def cost_table(rs):
    """Every cost_* column per point (an appendix: the charts show bytes moved and instructions)."""
    vary = short_axes(rs, rs.ok)
    cols = [c for c in rs.header if c.startswith("cost_") and any(r.get(c) is not None for r in rs.ok)]
    head = ["path", "mode", "bs"] + vary + [c[len("cost_"):] for c in cols]
    rows = [[group_name((r["source"], r["path"], r.get("direct"))), r["mode"], bs_label(r["bs"])]
            + [axis_value(r, a) for a in vary] + [fig(r.get(c)) if isinstance(r.get(c), (int, float)) else "" for c in cols]
            for r in rs.ok]
    return head, rows


def reference_tables(rs):
    """splicefs's modes against the reference programs' (e.g. libfuse-ref): per path at its
    smallest numjobs, per block size (largest first) and pair, B / A with the noise rule's
    mark; bytes moved per byte under TCG.  Returns [{title, const, head, rows, notes}]."""
    pairs = R.reference_pairs(rs.programs, rs.modes)
    out = []
    if not pairs:
        return out
    skip = {"mode", "source", "path", "direct", "bs"} | set(R.MODE_OWN_AXES)
    axes = [a for a in rs.match_axes() if a not in skip]
    name, get = R.COST_METRICS[0]
    for key, rows in rs.groups().items():
        nj = min(r["numjobs"] for r in rows)
        sel = [r for r in rows if r["numjobs"] == nj]
        vary = [a for a in axes if a != "numjobs" and len({r.get(a) for r in sel}) > 1]
        notes, trows = Notes(), []
        unit = "bytes moved / B" if rs.emulated else "GB/s"
        for bs in sorted({r["bs"] for r in sel}, reverse=True):
            first = True
            for ours, ref in pairs:
                for b in [r for r in sel if r["mode"] == ours and r["bs"] == bs]:
                    a = next((r for r in sel if r["mode"] == ref and r["bs"] == bs
                              and all(r.get(x) == b.get(x) for x in vary)), None)
                    if a is None:
                        continue
                    lab = f"{ours} / {ref}" + "".join(f", {x}={axis_value(b, x)}" for x in vary)
                    if rs.emulated:
                        va, vb = get(a), get(b)
                        if not va or vb is None:
                            continue
                        jv = judge.verdict(a, b, "cost", metric=name, get=get)
                        cell = ratio_cell(judge.verdict_cell(vb / va, jv, notes, f"{ours} against {ref}, {name}",
                                                             (ref, ours)), b, a, COST_METRIC_NAME[name])
                        trows.append([bs_label(bs) if first else "", lab, cell,
                                      figure_cell(fig(vb), b, COST_METRIC_NAME[name]),
                                      figure_cell(fig(va), a, COST_METRIC_NAME[name]),
                                      spliced_cell(rs, b, notes), spliced_cell(rs, a, notes)])
                    else:
                        jv = judge.verdict(a, b, "gbps")
                        cell = ratio_cell(judge.verdict_cell(b["gbps_median"] / a["gbps_median"], jv, notes,
                                                             f"{ours} against {ref}", (ref, ours)), b, a, "gbps")
                        shown = lambda r: fig(r['gbps_median']) if int(r.get("repeats") or 0) >= 3 else \
                            f"n={int(r.get('repeats') or 0)}"  # noqa: E731
                        trows.append([bs_label(bs) if first else "", lab, cell, figure_cell(shown(b), b, "gbps"),
                                      figure_cell(shown(a), a, "gbps"),
                                      spliced_cell(rs, b, notes), spliced_cell(rs, a, notes)])
                    first = False
        if trows:
            out.append({"title": group_name(key), "head": ["bs", "splicefs / reference", "ratio",
                                                           f"splicefs {unit}", f"reference {unit}",
                                                           "splicefs spliced", "reference spliced"],
                        "rows": trows, "notes": notes.lines()})
    return out


def medians_table(rs):
    """One row per (data path, numjobs, bs and every other axis that varies), one column per
    mode and, where a mode has several of its own settings (pipes, pipe_size), per setting:
    every point has its own cell, none hides another."""
    skip = {"mode", "source", "path", "direct", "numjobs", "bs"} | set(R.MODE_OWN_AXES)
    other = [a for a in rs.match_axes() if a not in skip and len({r.get(a) for r in rs.rows}) > 1]

    def col(r):
        own = [a for a in R.MODE_OWN_AXES
               if len({x.get(a) for x in rs.rows if x["mode"] == r["mode"]}) > 1]
        return r["mode"] + "".join(f" {a}={bs_label(r[a]) if a == 'pipe_size' and r.get(a) else r.get(a)}" for a in own)
    cols = []
    for m in rs.modes:
        for r in rs.rows:
            if r["mode"] == m and col(r) not in cols:
                cols.append(col(r))
    unit = "emulated GB/s" if rs.emulated else "GB/s"
    head = ["data path", "numjobs", "bs"] + other + [f"{c} {unit}" for c in cols]
    idx = {}
    for r in rs.rows:
        k = (group_name((r["source"], r["path"], r.get("direct"))), r.get("numjobs") or 0, r.get("bs") or 0) \
            + tuple(str(r.get(a, "")) for a in other)
        idx.setdefault(k, {})[col(r)] = r
    rows = []
    for k, by in sorted(idx.items(), key=lambda kv: (kv[0][0] != "mem",) + kv[0]):
        cells = [k[0], k[1], bs_label(k[2]) if k[2] else "?"] + list(k[3:])
        for c in cols:
            r = by.get(c)
            if r is None:
                cells.append("")
            elif r["status"] != "ok":
                cells.append(r["status"])
            else:
                v = f"{r['gbps_median']:.2f}"
                if r.get("gbps_min") is not None and r.get("gbps_max") is not None:
                    v += f" ({r['gbps_min']:.2f}-{r['gbps_max']:.2f})"
                if fell_back(r):
                    v += f" [fallback, {copied_share(r):.0f}% copied]"
                cells.append(v)
        rows.append(cells)
    return head, rows
