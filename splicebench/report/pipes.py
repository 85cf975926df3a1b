"""Where one pipe is not enough: per path the bytes one pipe slot held, the share each
mode spliced, and bytes moved per byte delivered as a multiple of the network's own cost
(sentences and one table; the chart is charts.py's pipe_cost)."""

import statistics

from .. import results as R
from ..results import bs_label
from .dataset import source_order, row_cost_net
from .doc import cell_text
from .fmt import fig, axis_value
from .tables import Notes, spliced_cell


def kept_rows(rs, rows):
    """Comparable groups of ok rows (same axes but mode) -> [(axes dict, {mode: [rows]})]:
    every row of a mode's own settings (pipes, pipe_size) kept, none picked as its best."""
    return [(g[None], {m: mrows for m, mrows in g.items() if m is not None})
            for g in R.comparable_groups(rows, rs.match_axes(), vary="mode").values()]


def _net_cost_baseline(rs, axes, at):
    """The network's own bytes moved per byte (a plain TCP reader) for a group, or None."""
    for m in R.COST_BASELINE_MODES:
        if m in at and at[m].get(R.COST_MOVED) is not None:
            return at[m][R.COST_MOVED], m
    # measured next to each mode's point (bench/run --cost: cost_net_*): their median
    vals = [v for v in (R.first_col(r, R.COST_BASELINE_COLS)[1] for r in at.values())
            if isinstance(v, (int, float)) and v > 0]
    if vals:
        return statistics.median(vals), "baseline column"
    for b in rs.baseline:
        if b.get("path") in (axes.get("path"), axes.get("source")) and (b.get("bs") in (None, axes.get("bs"))):
            v = b.get("cost_bytes_moved_per_byte", b.get("bytes_moved_per_byte"))
            if isinstance(v, (int, float)) and v > 0:
                return float(v), "baseline.jsonl"
    return None, ""


def pipe_sentences(rs):
    """'Where one pipe is not enough': per path, bytes per pipe slot, the share each mode
    spliced (with fallback reasons), and cost per byte, against the network's own."""
    out = []
    by_src = {}
    for r in rs.ok:
        by_src.setdefault(r["source"], []).append(r)
    for src in sorted(by_src, key=lambda s: (s != "mem", s)):
        rows = by_src[src]
        slot = [r["bytes_per_slot"] for r in rows if isinstance(r.get("bytes_per_slot"), (int, float))
                and r["bytes_per_slot"] > 0]
        probe = [b.get("bytes_per_slot") for b in rs.baseline
                 if b.get("path") in (src, rows[0].get("path")) and isinstance(b.get("bytes_per_slot"), (int, float))]
        s = f"On {src}: "
        if slot:
            passes = sorted({r.get("slots_pass") for r in rows if r.get("slots_pass")})
            s += (f"{statistics.median(slot):.0f} bytes per pipe slot (median of {len(slot)} splicing points, "
                  f"{min(slot):.0f}-{max(slot):.0f}"
                  + (f"; counted in the {' and '.join(passes)} pass" if passes else "") + ")")
        else:
            s += "no point spliced through a pipe slot (bytes_per_slot not in the data or 0)"
        if probe:
            s += f"; the socket-to-pipe probe measured {statistics.median(probe):.0f} bytes per slot"
        out.append(s + ".")
        nocap, nonet = set(), False
        for axes, allat in kept_rows(rs, rows):
            # privilege=root does not say whether pipes may grow: root in a container
            # may lack CAP_SYS_RESOURCE, and then pipe-max-size binds it as it binds a user
            if axes.get("privilege", "root") == "root" and any(m not in rs.copy_modes for m in allat):
                nocap |= {m for m, rr in allat.items()
                          if any(str(r.get("cap_sys_resource", "")).lower() in ("false", "0") for r in rr)}
            at = {m: rr[0] for m, rr in allat.items()}
            nb, _ = _net_cost_baseline(rs, axes, at)
            nonet |= nb is None and any(get(r) is not None for rr in allat.values() for r in rr
                                        for _, get in R.COST_METRICS)
        if nocap:
            out.append(f"On {src}: the daemon ran as root without CAP_SYS_RESOURCE ({', '.join(sorted(nocap))}), "
                       "so its pipes obeyed pipe-max-size as an unprivileged daemon's do.")
        if nonet:
            out.append(f"On {src}: no network cost baseline in the data (a plain TCP reader counted the same "
                       "way), so no multiple of the network's own cost: bytes moved per byte in the table.")
    return out


def pipe_table(rs):
    """'Where one pipe is not enough' as one table: a row per path, privilege (and whatever
    else varies) and block size; per mode its bytes moved per byte delivered as a multiple of
    the network's own (or the bytes moved where there is no baseline), and how much a
    splicing mode spliced, with the reason it copied.  (head, rows, notes) or None."""
    nj = {src: min(r["numjobs"] for r in rs.ok if r["source"] == src) for src in {r["source"] for r in rs.ok}}
    vary = [a for a in ("privilege", "pipe_max_size", "gro", "ioengine", "iodepth")
            if a in rs.header and (a == "privilege" or len({r.get(a) for r in rs.ok}) > 1)]
    modes = [m for m in rs.modes if m not in R.COST_BASELINE_MODES and any(r["mode"] == m for r in rs.ok)]
    notes, rows = Notes(), []
    keys = {}
    for r in rs.ok:
        if r["mode"] in R.COST_BASELINE_MODES or r["numjobs"] != nj[r["source"]]:
            continue  # each path at its smallest numjobs, as the headline tables
        k = (r["source"],) + tuple(r.get(a) for a in vary) + (r["bs"],)
        keys.setdefault(k, []).append(r)
    if not any(isinstance(r.get("bytes_per_slot"), (int, float)) or r.get(R.COST_MOVED) is not None for r in rs.ok):
        return None
    srcs = source_order(rs)
    for k in sorted(keys, key=lambda k: ((srcs.index(k[0]),) + tuple(str(v) for v in k[1:-1]) + (-k[-1],))):
        rr = keys[k]
        peers = [p for p in rs.ok if p["source"] == k[0] and p["bs"] == k[-1] and p["numjobs"] == nj[k[0]]
                 and all(p.get(a) == v for a, v in zip(vary, k[1:-1]))]
        nets = [v for v in (row_cost_net(rs, r, peers) for r in rr) if v]
        net = statistics.median(nets) if nets else None
        slot = [r["bytes_per_slot"] for r in rr if isinstance(r.get("bytes_per_slot"), (int, float))
                and r["bytes_per_slot"] > 0]
        cells = [k[0]] + [axis_value(dict(zip(vary, k[1:-1])), a) for a in vary] + [bs_label(k[-1]),
                 (f"{statistics.median(slot):.0f} B" if slot else "-")]
        for m in modes:
            r = next((r for r in rr if r["mode"] == m), None)
            if r is None:
                cells.append("")
                continue
            v = r.get(R.COST_MOVED)
            c = (f"{v / net:.2f}x" if net and v is not None else fig(v) if v is not None else "")
            sp = spliced_cell(rs, r, notes)
            if sp:
                c += (", " if c else "") + ("all spliced" if sp == "100 %" else
                                           sp if sp.startswith("not visible") else f"spliced {sp}")
            cells.append(c)
        cells.append(fig(net) if net else "-")
        rows.append(cells)
    head = ["path"] + vary + ["reads", "bytes per pipe slot"] + modes + ["network's own (bytes moved / B)"]
    keep = [i for i in range(len(head)) if i < 2 + len(vary) or any(cell_text(c[i]) not in ("", "-") for c in rows)]
    return [head[i] for i in keep], [[c[i] for i in keep] for c in rows], notes.lines()
