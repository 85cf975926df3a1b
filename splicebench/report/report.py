"""The report of a result set: report.md and report.html, section by section, in the
order plots/README.md lists them ("The report").  The figures come from tables.py,
pipes.py and compare.py, the charts from charts.py, the why-sections from
splicebench/why/sections.py; doc.py writes the two files."""

import json
import os

from ..results import bs_label
from ..why import sections as sbwhy  # profiles, cost by symbol, projection
from . import compare, judge, upstream
from .dataset import ENV_NAME, TCG_NOTE, group_name, group_slug
from .doc import Doc
from .fmt import jobs
from .pipes import pipe_sentences, pipe_table
from .tables import (headline_tables, headline_legend, reference_tables, cpu_table, cpu_summary,
                     fallback_sentences, medians_table, cost_table)

# Report sections others add (helper hooks): callables f(doc, rs, charts) run after the
# headline tables, each adding its own headings and blocks to doc (a Doc).  An entry may
# also be (name, f); write_report(..., sections=[...]) adds more for one report.
SECTIONS = [("upstream", upstream.section)]  # FUSE_OUT_SPLICES against io_uring zero-copy (upstream.py)


class Page:
    """The document being written and the charts it has shown so far (each once)."""

    def __init__(self, rs, ch):
        self.d, self.rs, self.ch, self.shown = Doc(), rs, ch, set()

    def show(self, name):
        for n, cap, _ in self.ch.made:
            if n == name and n not in self.shown:
                self.d.img(n, cap)
                self.shown.add(n)


def write_report(rs, rb, pairs, ch, outdir, sections=None):
    """report.md and report.html of rs into outdir (rb, pairs: the set compared with and the
    matched points, or None; ch: the charts drawn)."""
    pg = Page(rs, ch)
    d = pg.d
    title = f"splicebench report: {rs.name}"
    judge.start()
    nst = _front(d, rs, title)
    front = len(d.blocks)
    _headlines(pg)
    for sec in list(SECTIONS) + list(sections or []):
        (sec[1] if isinstance(sec, tuple) else sec)(d, rs, ch)
    _reference(d, rs)
    _pipes(pg)
    cpu = _cpu(pg)
    _not_measured(d, rs)
    if pairs is not None:
        compare.section(d, rs, rb, pairs)
    for blk in sbwhy.sections(rs.dir, outdir):  # issue 22's "why" sections, where their data exists
        getattr(d, blk[0])(*blk[1:])
    _charts(pg)
    _appendix(d, rs, cpu, pairs, outdir, nst)
    # every verdict is stated by now: what their number means goes to the front
    d.blocks.insert(front, ("p", "Verdicts: " + judge.family_text()))
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(d.md())
    with open(os.path.join(outdir, "report.html"), "w") as f:
        f.write(d.html(title))


def _front(d, rs, title):
    """Title, warnings (TCG, incomplete run, KVM) and the run in one paragraph; returns the
    count of points per status."""
    d.h(1, title)
    env = rs.env
    if env == "tcg":
        d.warn(TCG_NOTE)
    if rs.meta.get("complete") is False:
        d.warn("incomplete run (meta.json complete = false): bench/run was still running or was interrupted")
    if env == "kvm":
        d.p("Note: measured in a KVM guest; compare absolute speeds only with other KVM runs.")
    nst = {s: sum(1 for r in rs.rows if r["status"] == s) for s in sorted({r["status"] for r in rs.rows})}
    m = rs.meta
    d.p(f"Kernel {rs.run_value('kernel')}, patch variant {rs.run_value('variant')}, environment "
        f"{ENV_NAME.get(env, env)}; FUSE_OUT_SPLICES: {m.get('fuse_out_splices', '?')}"
        + (f", splice reply: {m['splice_reply']}" if m.get("splice_reply") not in (None, "", "none") else "") + "; "
        f"CPU: {cpu_name(m)}; "
        f"matrix {m.get('matrix', '?')}, {m.get('start', '?')} to {m.get('end', '?')}; points: "
        + ", ".join(f"{n} {s}" for s, n in nst.items()) + ". Full metadata at the end.")
    return nst


def _headlines(pg):
    d, rs, show = pg.d, pg.rs, pg.show
    d.h(2, "Headlines")
    tabs = headline_tables(rs)
    if tabs:
        d.p(headline_legend(rs) + judge.marks_legend(tabs[0]["base"] or "base") +
            f" The rule: {judge.rule_text('cost' if rs.emulated else 'gbps')}")
    else:
        d.p("No headline figures: no point has status ok.")
    for t in tabs:
        d.h(3, t["title"])
        d.p(f"Every row: {t['const']}.")
        d.table(t["head"], t["rows"])
        d.small(t["notes"])
        nj = min(r["numjobs"] for r in rs.groups()[t["key"]])
        show(f"cost-{group_slug(t['key'])}-j{nj}")  # the path's chart under its table (emulated: cost)
        show(f"gbps-bs-{group_slug(t['key'])}-j{nj}")


def _reference(d, rs):
    reft = reference_tables(rs)
    if reft:
        d.h(2, "splicefs against the reference daemons")
        d.p("Each splicefs mode against the reference mode named after it (from the programs' --list), "
            "at the same axes in the same run, each path at its smallest numjobs; ratio: splicefs / reference, "
            + ("bytes moved per byte delivered (emulated run; lower is better)" if rs.emulated else "GB/s")
            + f", {judge.marks_words()}.")
        for t in reft:
            d.h(3, t["title"])
            d.table(t["head"], t["rows"])
            d.small(t["notes"])


def _pipes(pg):
    d, rs, show = pg.d, pg.rs, pg.show
    ps = pipe_sentences(rs)
    if any(r.get("bytes_per_slot") is not None or r.get("pipe_slots") is not None for r in rs.ok) or rs.cost_cols:
        d.h(2, "Where one pipe is not enough")
        d.p("Per path: how many bytes one pipe slot held, the share of bytes each splicing mode spliced "
            "(with the reasons it fell back), and the cost per byte delivered, as a multiple of the "
            "network's own cost where the data has a baseline.")
        show("pipe-cost")
        d.ul(ps)
        pt = pipe_table(rs)
        if pt:
            d.p("Per mode: bytes moved per byte delivered as a multiple of the network's own cost (a plain TCP "
                "reader's on the same path, last column; where the data has none, the bytes moved themselves), "
                "and how much of its bytes a splicing mode spliced.")
            d.table(pt[0], pt[1])
            d.small(pt[2])


def _cpu(pg):
    """The CPU section; returns the CPU table (head, rows) for the appendix."""
    d, rs, ch, show = pg.d, pg.rs, pg.ch, pg.show
    d.h(2, "CPU")
    ch_, cr, bad = cpu_table(rs)
    for b in bad:
        d.warn("CPU parts exceed cores x wall time: " + b)
    if cr:
        d.p("CPU seconds per GB delivered, by part (cgroups: daemon, data server, fio; /proc/stat: softirq, "
            "kernel threads; everything else is rest of machine, never part of a mode's cost), their sum, "
            "and cores x wall time of the timed window: the sum must not exceed it."
            + (" Emulated run: CPU seconds here mean nothing as speeds; not charted, ranked nowhere."
               if rs.emulated else " 3 significant digits; the full table is in the appendix."))
        for n, _, _ in list(ch.made):
            if n.startswith("cpu-"):
                show(n)
        cs = cpu_summary(rs)
        if cs:
            d.table(*cs[:2])
            d.small(cs[2])
    else:
        d.p("No CPU figures in the data.")
    return ch_, cr


def _not_measured(d, rs):
    d.h(2, "Fallbacks and points not measured")
    d.ul(fallback_sentences(rs))
    bad = [r for r in rs.rows if r["status"] != "ok"]
    if bad:
        d.p(f"{len(bad)} point(s) were not measured:")
        d.ul([f"{r['status']}: {r['mode']}, {group_name((r['source'], r['path'], r.get('direct')))}, "
              f"{bs_label(r['bs']) if r.get('bs') else '?'}, {jobs(r['numjobs'] or 0)}: {r.get('reason') or 'no reason given'}"
              for r in bad])
    else:
        d.p("Every point was measured (status ok).")


def _charts(pg):
    """The charts not shown yet, links to the intermediate ones, and the charts' notes."""
    d, ch, shown, show = pg.d, pg.ch, pg.shown, pg.show
    d.h(2, "Charts")
    more = []
    for name, cap, embed in ch.made:
        if name in shown:
            continue
        if embed:
            show(name)
        else:
            more.append((cap, name + ".png"))
    if more:
        d.links("Not shown above (intermediate numjobs): ", more)
    if ch.notes:
        d.ul(ch.notes)


def _appendix(d, rs, cpu, pairs, outdir, nst):
    """Medians, CPU and cost per point, A vs B, the hosts and meta.json."""
    ch_, cr = cpu
    d.h(2, "Emulated timings (TCG)" if rs.emulated else "Medians")
    d.p(("Emulated timings: not speeds, ranked nowhere. " if rs.emulated else "") +
        "Median GB/s (10^9 B/s) over the repeats, min-max in brackets; [fallback] marks a point whose daemon "
        "copied part or all of the data instead of splicing it.")
    d.table(*medians_table(rs))
    if cr:
        d.h(2, "CPU per point")
        d.p("Every point's CPU parts in s/GB (3 significant digits), their sum, cores x wall and the check.")
        d.table(ch_, cr)
    if rs.cost_cols:
        d.h(2, "Cost counters per point")
        d.p("Every cost column of the QEMU plugin, per byte delivered (the charts show bytes moved and "
            "instructions; the rest is here).")
        d.table(*cost_table(rs))
    if pairs:
        compare.appendix(d, pairs, outdir)
    hosts = rs.meta.get("hosts")
    if isinstance(hosts, dict) and any(isinstance(h, dict) for h in hosts.values()):
        d.h(2, "Hosts")
        d.p("What each machine was when the run started (scripts/hostinfo; the NIC is the one "
            "towards the data server).")
        d.table(["role", "host", "kernel", "CPU", "NIC", "MTU", "offloads (TSO/GSO/GRO)", "FUSE_OUT_SPLICES"],
                host_rows(hosts))
    d.h(2, "Run metadata (meta.json)")
    meta = [(k, v) for k, v in flat({k: v for k, v in rs.meta.items() if k != "matrix_text"})]
    meta.append(("points", ", ".join(f"{n} {s}" for s, n in nst.items())))
    d.table(["key", "value"], meta)
    if isinstance(rs.meta.get("matrix_text"), str):
        d.p("Matrix: " + " / ".join(ln.strip() for ln in rs.meta["matrix_text"].splitlines()
                                     if ln.strip() and not ln.lstrip().startswith("#")))


def host_rows(hosts):
    """One row per host of meta.json's hosts (client first, then server)."""
    rows = []
    for role in sorted(hosts, key=lambda r: (r != "client", r)):
        h = hosts[role]
        if not isinstance(h, dict):
            continue
        off = h.get("offload") if isinstance(h.get("offload"), dict) else {}
        nic = " ".join(x for x in (h.get("iface", ""), h.get("driver", ""), h.get("firmware", "")) if x)
        fos = str(h.get("fuse_out_splices", ""))
        rows.append([role, h.get("hostname", ""), h.get("kernel", ""),
                     f"{h.get('cpu_model', '')}, {h.get('cores', '?')} cores",
                     nic, h.get("mtu", ""),
                     "/".join((off.get(k) or "?").split(" ")[0] for k in ("tso", "gso", "gro")),
                     fos.split(" (")[0].replace("FUSE_OUT_SPLICES: ", "")])
    return rows


def cpu_name(m):
    c = m.get("cpu")
    return m.get("cpu_model") or (c.get("model") if isinstance(c, dict) else c) or "?"


def flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, f"{prefix}{k}.")
        elif v not in (None, ""):
            yield f"{prefix}{k}", (", ".join(map(str, v)) if isinstance(v, list)
                                   else json.dumps(v) if isinstance(v, bool) else str(v))
