"""The charts of a result set, one method a kind: GB/s against block size, CPU per GB,
scaling with numjobs, latency, cost per byte, where one pipe is not enough, and A against
B.  What each shows and does not: plots/README.md."""

import statistics

from .. import results as R
from ..results import bs_label, copied_share
from .dataset import group_name, group_slug, series_of, fell_back, mode_color, mode_key, source_order, row_cost_net
from .fmt import bs_words, jobs, fig, axis_value
from .gnuplot import Gnuplot, gp_str, num, W


class Charts(Gnuplot):
    """Every chart of a result set; main.build calls each kind in turn."""

    # --- 1. GB/s against block size
    def throughput(self):
        if self.rs.emulated:
            self.notes.append("GB/s charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            njs = sorted({r["numjobs"] for r in rows})
            for nj in njs:
                sel = [r for r in rows if r["numjobs"] == nj]
                if not sel:
                    continue
                if nj not in (njs[0], njs[-1]):
                    self.extra.add(f"gbps-bs-{group_slug(key)}-j{nj}")
                self._throughput_chart(key, nj, sel, rows)

    def _throughput_chart(self, key, nj, sel, grows):
        name = f"gbps-bs-{group_slug(key)}-j{nj}"
        sers = series_of(sel)
        blocks, terms = [], []
        for i, s in enumerate(sers):
            k = self._offset(i, len(sers))
            blocks.append([(r["bs"] * k, r["gbps_median"], num(r["gbps_min"] or r["gbps_median"]),
                            num(r["gbps_max"] or r["gbps_median"])) for r in sorted(s["rows"], key=lambda r: r["bs"])])
            terms.append(f"dat index {i} using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt {s['dt']} "
                         f"lc rgb '{s['color']}' title {gp_str(s['label'])}")
        fb = [(r["bs"] * self._offset(i, len(sers)), r["gbps_median"], gp_str(f"copied {copied_share(r):.0f}%"))
              for i, s in enumerate(sers) for r in s["rows"] if fell_back(r)]
        if fb:
            blocks.append(fb)
            terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                          "title 'fell back to copying (share of bytes copied)'")
            terms.append(f"dat index {len(blocks) - 1} using 1:2:3 with labels offset 0,-2.2 tc rgb '#d62728' notitle")
        ymax_data = max(r["gbps_max"] or r["gbps_median"] for r in sel)
        base = self.rs.baseline_of(grows, key[1])
        refs = [(self.rs.line_rate, f"100G Ethernet line rate ({self.rs.line_rate:g} GB/s)", 2)]
        if base is not None:
            refs.append((base, f"iperf3 TCP {key[1]}, 1 stream ({base:.2f} GB/s)", 4))
        rterms, ymax, offl = self.ref_lines(ymax_data, refs)
        skipped = [r for r in self.rs.rows if r["status"] != "ok" and (r["source"], r["path"], r.get("direct")) == key
                   and r.get("numjobs") == nj]
        notes = offl + [f"not measured: {len(skipped)} point(s) ({', '.join(sorted({r['status'] for r in skipped}))}), see report"] if skipped else offl
        body = self.bs_axis([r["bs"] for r in sel])
        body += (f"set title {gp_str(f'Read throughput vs block size: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                 f"{gp_str(self.rs.title())}\n"
                 f"set ylabel 'throughput (GB/s = 1e9 B/s; bars: min-max of repeats)'\n"
                 f"set yrange [0:{ymax}]\n")
        body += self._notes(notes)
        body += "plot " + ", \\\n     ".join(terms + rterms) + "\n" + self.probe("gbps")
        cap = f"GB/s against block size, {group_name(key)}, {jobs(nj)}"
        ys = [v for b in blocks[:len(sers)] for row in b for v in row[1:] if v != "NaN"]
        xs = [row[0] for b in blocks[:len(sers)] for row in b]
        self.render(name, blocks, body, cap, checks=[{"panel": "gbps", "ys": [float(v) for v in ys], "xs": xs,
                                                      "zero": True, "log": False}])

    # --- 2. CPU seconds per GB, stacked (the mode's own parts; rest of machine apart)
    def cpu(self):
        if self.rs.emulated:
            self.notes.append("CPU charts: not drawn, CPU seconds under emulation (TCG) rank nothing")
            return
        mode_parts = [p for p in R.CPU_PARTS if p[0] != "rest"]
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj]
            parts = [p for p in mode_parts if any((R.cpu_parts(r).get(p[0]) or 0) > 0 for r in sel)]
            if not parts:
                self.notes.append(f"CPU chart for {group_name(key)}: no CPU figures in the data, not drawn")
                continue
            sers = series_of(sel)
            bss = sorted({r["bs"] for r in sel})
            # One panel per block size, each on its own scale: CPU per GB at 4K is
            # tens of times that at 1M, and one shared axis flattens the large sizes.
            blocks, panels, flagged, bad = [], [], False, False
            for bi, bs in enumerate(bss):
                block = []
                for s in sers:
                    r = next((r for r in s["rows"] if r["bs"] == bs), None)
                    if r is None:
                        continue
                    cp = R.cpu_parts(r)
                    prob = R.cpu_check(r)[2]
                    lab = s["label"].split(" (")[0] + ("*" if fell_back(r) else "") + (" (!)" if prob else "")
                    flagged |= fell_back(r)
                    bad |= bool(prob)
                    own = sum(cp.get(p[0]) or 0 for p in parts)
                    rest = cp.get("rest")
                    if not R.softirq_counted(r):  # already inside the tasks' times: not stacked again
                        cp.pop("softirq", None)
                    block.append([gp_str(lab)] + [num(cp.get(p[0]) or 0) for p in parts]
                                 + [num(own), gp_str(f"rest {rest:.2g}" if rest is not None else "")])
                blocks.append(block)
                terms = []
                for pi, (col, lab, color, _) in enumerate(parts):
                    xt = ":xtic(1)" if pi == 0 else ""
                    t = f"title {gp_str(lab)}" if bi == len(bss) - 1 else "notitle"
                    terms.append(f"dat index {bi} using {pi + 2}{xt} lc rgb '{color}' {t}")
                np_ = len(parts)
                terms.append(f"dat index {bi} using ($0):{np_ + 2}:{np_ + 3} with labels rotate by 90 left "
                             "offset 0,0.4 font ',9' tc rgb '#555555' notitle")
                ymax = max([sum(R.cpu_parts(r).get(p[0]) or 0 for p in parts) for r in sel if r["bs"] == bs] +
                           [1e-9]) * 1.35
                panels.append((bs, ymax, terms, [float(row[-2]) for row in block]))
            maxlen = max(len(s["label"].split(" (")[0]) + 2 for s in sers)
            n = len(panels)
            right = 0.80  # the key sits right of the last panel
            width = (right - 0.07) / n
            body = ("set style data histograms\nset style histogram rowstacked\n"
                    "set style fill solid 0.9 border rgb '#333333'\nset boxwidth 0.75 relative\n"
                    "set xtics rotate by 45 right nomirror scale 0\nset grid noxtics ytics\n"
                    f"set bmargin {0.5 * maxlen + 3.5:.1f}\nset tmargin 5\n"
                    "set multiplot title " +
                    gp_str(f"CPU seconds per GB delivered, the mode's own parts: {group_name(key)}, {jobs(nj)}") +
                    f" . \"\\n\" . {gp_str(self.rs.title())}\n")
            note = []
            if flagged:
                note.append("* fell back to copying for part or all of its replies")
            note.append("rest = rest of machine (s/GB), never part of a mode's cost")
            if bad:
                note.append("(!) CPU parts exceed cores x wall time: see the report")
            for i, (bs, ymax, terms, _) in enumerate(panels):
                body += (f"set lmargin at screen {0.07 + i * width:.4f}\n"
                         f"set rmargin at screen {0.07 + (i + 1) * width - 0.035:.4f}\n"
                         f"set yrange [0:{ymax}]\n"
                         f"set xlabel {gp_str('bs ' + bs_label(bs))} font ',12'\n"
                         + ("set ylabel 'CPU seconds per GB delivered (s/GB)'\n" if i == 0 else "unset ylabel\n")
                         + ("set key at screen 0.99, screen 0.85 right top nobox\n" if i == n - 1 else "unset key\n")
                         + (f"set label 1 {gp_str('; '.join(note))} "
                            "at screen 0.07, screen 0.90 left front tc rgb '#d62728'\n" if i == 0
                            else "unset label 1\n")
                         + "plot " + ", \\\n     ".join(terms) + "\n" + self.probe(f"bs{bs}"))
            body += "unset multiplot\n"
            self.render(f"cpu-{group_slug(key)}-j{nj}", blocks, body,
                        f"CPU s/GB by part, {group_name(key)}, {jobs(nj)} (rest of machine apart)",
                        checks=[{"panel": f"bs{bs}", "ys": ys, "xs": None, "zero": True, "log": False}
                                for bs, _, _, ys in panels])

    # --- 3. GB/s against numjobs
    def scaling(self):
        if self.rs.emulated:
            self.notes.append("scaling charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            njs = sorted({r["numjobs"] for r in rows})
            if len(njs) < 2:
                self.notes.append(f"Scaling chart for {group_name(key)}: one numjobs value only ({njs[0]}), not drawn")
                continue
            bss = sorted({r["bs"] for r in rows})
            picks = [max(bss)] + ([min(bss)] if len(bss) > 1 else [])
            blocks, terms = [], []
            for pi, bs in enumerate(picks):
                sers = series_of([r for r in rows if r["bs"] == bs])
                for s in sers:
                    srows = sorted(s["rows"], key=lambda r: r["numjobs"])
                    if not srows:
                        continue
                    blocks.append([(r["numjobs"], r["gbps_median"], num(r["gbps_min"] or r["gbps_median"]),
                                    num(r["gbps_max"] or r["gbps_median"])) for r in srows])
                    terms.append(f"dat index {len(blocks) - 1} using 1:2:3:4 with yerrorlines lw 2 "
                                 f"pt {7 if pi == 0 else 5} dt {1 if pi == 0 else '(7,4)'} lc rgb '{s['color']}' "
                                 f"title {gp_str(s['label'] + ', ' + bs_label(bs))}")
            fb = [(r["numjobs"], r["gbps_median"]) for r in rows if r["bs"] in picks and fell_back(r)]
            if fb:
                blocks.append(fb)
                terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                             "title 'fell back to copying'")
            sel = [r for r in rows if r["bs"] in picks]
            base = self.rs.baseline_of(rows, key[1])
            refs = [(self.rs.line_rate, f"100G Ethernet line rate ({self.rs.line_rate:g} GB/s)", 2)]
            if base is not None:
                refs.append((base, f"iperf3 TCP {key[1]}, 1 stream ({base:.2f} GB/s)", 4))
            rterms, ymax, offl = self.ref_lines(max(r["gbps_max"] or r["gbps_median"] for r in sel), refs)
            tics = ", ".join(f'"{n}" {n}' for n in njs)
            body = (f"set title {gp_str(f'Scaling with parallel readers: {group_name(key)}, ' + ' and '.join(bs_words(b) for b in picks) + ' reads')} . \"\\n\" . "
                    f"{gp_str(self.rs.title())}\n"
                    f"set logscale x 2\nset xrange [{njs[0] / 1.3}:{njs[-1] * 1.3}]\nset xtics ({tics})\n"
                    "set xlabel 'fio numjobs (parallel readers, log2 scale)'\n"
                    "set ylabel 'throughput (GB/s = 1e9 B/s; bars: min-max of repeats)'\n"
                    f"set yrange [0:{ymax}]\n")
            body += self._notes(offl)
            body += "plot " + ", \\\n     ".join(terms + rterms) + "\n" + self.probe("scaling")
            ys = [float(v) for b in blocks for row in b for v in row[1:] if v != "NaN"]
            self.render(f"scaling-{group_slug(key)}", blocks, body,
                        f"GB/s against numjobs, {group_name(key)}, " + " and ".join(bs_label(b) for b in picks),
                        checks=[{"panel": "scaling", "ys": ys, "xs": [row[0] for b in blocks for row in b],
                                 "zero": True, "log": False}])

    # --- 4. latency p50 / p99
    def latency(self):
        if self.rs.emulated:
            self.notes.append("latency charts: not drawn, emulated (TCG) timings rank nothing (see the emulated table)")
            return
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj and r.get("lat_p50_us") is not None]
            if not sel:
                self.notes.append(f"Latency chart for {group_name(key)}: no latency figures, not drawn")
                continue
            sers = series_of(sel)
            blocks, terms = [], []
            for i, s in enumerate(sers):
                srows = sorted(s["rows"], key=lambda r: r["bs"])
                k = self._offset(i, len(sers))
                blocks.append([(r["bs"] * k, num(r["lat_p50_us"]), num(r["lat_p99_us"])) for r in srows])
                terms.append(f"dat index {i} using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '{s['color']}' "
                             f"title {gp_str(s['label'] + ' p50')}")
                if any(r.get("lat_p99_us") is not None for r in srows):
                    terms.append(f"dat index {i} using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '{s['color']}' "
                                 f"title {gp_str(s['label'] + ' p99')}")
            fb = [(r["bs"] * self._offset(i, len(sers)), num(r["lat_p50_us"]))
                  for i, s in enumerate(sers) for r in s["rows"] if fell_back(r)]
            if fb:
                blocks.append(fb)
                terms.append(f"dat index {len(blocks) - 1} using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' "
                             "title 'fell back to copying'")
            body = self.bs_axis([r["bs"] for r in sel])
            body += (f"set title {gp_str(f'fio completion latency: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                     f"{gp_str(self.rs.title())}\n"
                     "set logscale y 10\nset autoscale yfix\nset offsets 0, 0, graph 0.06, graph 0.06\n"
                     "set ylabel 'completion latency (µs, log scale)'\n"
                     "set format y '%g'\nset mytics 10\nset grid mytics\n"
                     "set ytics add (" + ", ".join(f"'{v:g}' {v:g}" for d in range(-1, 7) for v in (2 * 10 ** d, 5 * 10 ** d)) + ")\n")
            body += "plot " + ", \\\n     ".join(terms) + "\n" + self.probe("latency")
            ys = [float(v) for b in blocks for row in b for v in row[1:] if v != "NaN"]
            self.render(f"latency-{group_slug(key)}-j{nj}", blocks, body,
                        f"latency p50/p99, {group_name(key)}, {jobs(nj)}",
                        checks=[{"panel": "latency", "ys": ys, "xs": [row[0] for b in blocks for row in b],
                                 "zero": False, "log": True}])

    # --- 6. cost per byte (QEMU plugin columns): one chart per path that reads at a glance
    def cost(self):
        if not self.rs.cost_cols:
            self.notes.append("Cost chart: the result set has no cost_* columns (QEMU plugin), not drawn")
            return
        for key, rows in self.rs.groups().items():
            nj = min(r["numjobs"] for r in rows)
            sel = [r for r in rows if r["numjobs"] == nj and r["mode"] not in R.COST_BASELINE_MODES
                   and (r.get(R.COST_MOVED) is not None or R.instr_per_byte(r) is not None)]
            if not sel:
                self.notes.append(f"Cost chart for {group_name(key)}: no cost_* values, not drawn")
                continue
            sers = series_of(sel)
            bss = sorted({r["bs"] for r in sel})
            ns, bw = len(sers), 0.8 / len(sers)
            blocks = []
            for j, s in enumerate(sers):
                block = []
                for r in sorted(s["rows"], key=lambda r: r["bs"]):
                    x = bss.index(r["bs"]) + (j - (ns - 1) / 2) * bw
                    mv, ins = r.get(R.COST_MOVED), R.instr_per_byte(r)
                    block.append((round(x, 4), num(mv), num(ins), 1 if fell_back(r) else 0,
                                  gp_str(fig(mv) if mv is not None else ""), gp_str(fig(ins) if ins is not None else "")))
                blocks.append(block)
            net = []
            for i, bs in enumerate(bss):
                nc = [row_cost_net(self.rs, r, [p for p in self.rs.ok if p["bs"] == bs and p["source"] == key[0]
                                                and p["numjobs"] == nj]) for r in sel if r["bs"] == bs]
                nc = [v for v in nc if v]
                if nc:
                    net.append((i - 0.45, statistics.median(nc), 0.9))
            refblock = None
            if net:
                blocks.append(net)
                refblock = len(blocks) - 1
            moved = [r.get(R.COST_MOVED) for r in sel] + [n[1] for n in net]
            instr = [R.instr_per_byte(r) for r in sel]
            tics = ", ".join(f'"{bs_label(b)}" {i}' for i, b in enumerate(bss))
            body = (f"set style fill solid 0.85\nset boxwidth {bw * 0.92:.4f} absolute\n"
                    f"set xrange [-0.6:{len(bss) - 0.4}]\nset xtics ({tics}) scale 0\nset grid noxtics ytics\n"
                    "set xlabel 'block size (bytes per read)'\nset format y '%g'\n"
                    "set key at screen 0.995, screen 0.80 right top vertical Left reverse samplen 2 font ',10' width -2 box\n"
                    "set multiplot title " +
                    gp_str(f"Cost per byte delivered (QEMU plugin; lower is better): {group_name(key)}, {jobs(nj)}")
                    + f" . \"\\n\" . {gp_str(self.rs.title())}\n")
            body += "set lmargin at screen 0.06\nset rmargin at screen 0.41\nset tmargin at screen 0.86\nset bmargin at screen 0.12\n"
            b1, c1 = self._bar_panel(blocks, sers, 2, 5, len(bss), refblock,
                                     "bytes moved per byte delivered", "bytes moved / byte delivered", moved,
                                     "network's own (plain TCP reader)", panel_px=490)
            body += b1 + self.probe("moved")
            body += "set lmargin at screen 0.47\nset rmargin at screen 0.82\nunset key\n"
            b2, c2 = self._bar_panel(blocks, sers, 3, 6, len(bss), None,
                                     "instructions per byte delivered (kernel + user)", "instructions / byte delivered",
                                     instr, panel_px=490)
            body += b2 + self.probe("instr")
            body += "unset multiplot\n"
            self.render(f"cost-{group_slug(key)}-j{nj}", blocks, body,
                        f"cost per byte delivered, {group_name(key)}, {jobs(nj)}: bytes moved and instructions, "
                        "per mode and block size" + (", the network's own cost dashed" if net else ""),
                        checks=[dict(c1, panel="moved"), dict(c2, panel="instr")])

    # --- 7. where one pipe is not enough: cost as a multiple of the network's own, by path
    def pipe_cost(self):
        rs = self.rs
        if not rs.cost_cols:
            return
        clusters = []  # (label, {mode: row}, net)
        vary_axes = [a for a in ("privilege", "pipe_max_size", "gro", "numjobs", "bs")
                     if len({r.get(a) for r in rs.ok if r["source"] != "mem"}) > 1 or a in ("privilege", "bs")]
        keys = {}
        for r in rs.ok:
            if r["mode"] in R.COST_BASELINE_MODES or r.get(R.COST_MOVED) is None:
                continue
            k = (r["source"], r.get("path"), r.get("direct")) + tuple(r.get(a) for a in vary_axes)
            keys.setdefault(k, []).append(r)
        srcs = source_order(rs)
        for k, rows in sorted(keys.items(), key=lambda kv: (srcs.index(kv[0][0]),) + tuple(
                (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in kv[0][3:])):
            peers = [p for p in rs.ok if p["source"] == k[0] and all(p.get(a) == v for a, v in zip(vary_axes, k[3:]))]
            nets = [v for v in (row_cost_net(rs, r, peers) for r in rows) if v]
            if not nets:
                continue
            slot = [r["bytes_per_slot"] for r in rows if isinstance(r.get("bytes_per_slot"), (int, float))
                    and r["bytes_per_slot"] > 0]
            words = [k[0]] + [f"{bs_label(v)} reads" if a == "bs" else
                              (str(v) if a == "privilege" else f"{a}={axis_value({a: v}, a)}")
                              for a, v in zip(vary_axes, k[3:]) if v not in (None, "")]
            lab = words[0] + ", " + (words[1] if len(words) > 1 else "") + "\n" + ", ".join(words[2:]) + "\n" + (
                f"{statistics.median(slot):.0f} B per pipe slot" if slot else "no slot count")
            clusters.append((lab, rows, statistics.median(nets)))
        if not clusters:
            self.notes.append("'Where one pipe is not enough' chart: no network cost baseline in the data "
                              "(a plain TCP reader counted the same way), not drawn")
            return
        if len(clusters) > 8:  # the largest block size only
            big = max(r["bs"] for _, rows, _ in clusters for r in rows)
            clusters = [c for c in clusters if all(r["bs"] == big for r in c[1])]
        modes = [m for m in rs.modes if any(r["mode"] == m for _, rows, _ in clusters for r in rows)]
        ns, bw = len(modes), 0.8 / max(1, len(modes))
        sers, blocks = [], []
        for j, m in enumerate(modes):
            block = []
            for i, (_, rows, net) in enumerate(clusters):
                r = next((r for r in rows if r["mode"] == m), None)
                if r is None:
                    continue
                v = r[R.COST_MOVED] / net
                block.append((round(i + (j - (ns - 1) / 2) * bw, 4), v, 0, 1 if fell_back(r) else 0,
                              gp_str(f"{v:.2f}x"), '""'))
            blocks.append(block)
            sers.append({"label": m, "color": mode_color(m, j)})
        blocks.append([(i - 0.45, 1.0, 0.9) for i in range(len(clusters))])
        vals = [row[1] for b in blocks[:-1] for row in b] + [1.0]
        tics = ", ".join(f"{gp_str(lab)} {i}" for i, (lab, _, _) in enumerate(clusters))
        body = (f"set style fill solid 0.85\nset boxwidth {bw * 0.92:.4f} absolute\n"
                f"set xrange [-0.6:{len(clusters) - 0.4}]\nset xtics ({tics}) scale 0 font ',11'\nset grid noxtics ytics\n"
                "set format y '%gx'\nset bmargin 8\nset xlabel 'path, privilege, reads; bytes one pipe slot held "
                "(median of the splicing points)' offset 0,-2.6\n"
                "set key outside right top vertical\n")
        w = max(W, 70 * len(clusters) * max(1, ns) + 500)
        b1, c1 = self._bar_panel(blocks, sers, 2, 5, len(clusters), len(blocks) - 1,
                                 "Where one pipe is not enough: cost per byte as a multiple of the network's own"
                                 "\n" + rs.title(),
                                 "bytes moved per byte delivered / the network's own", vals,
                                 "network's own cost = 1x", panel_px=w - 520)
        body += b1 + self.probe("multiple")
        self.render("pipe-cost", blocks, body,
                    "where one pipe is not enough: bytes moved per byte delivered as a multiple of the network's "
                    "own, by path and privilege, each mode side by side",
                    checks=[dict(c1, panel="multiple", ys=vals)], w=w)

    # --- 5. two result sets
    def compare(self, pairs, rs_b):
        if self.rs.emulated or rs_b.emulated:
            self.notes.append("Comparison chart: not drawn, one set is emulated (TCG): timings rank nothing")
            return
        groups = {}
        for p in pairs:
            a = p["a"]
            groups.setdefault((a["source"], a["path"], a["direct"]), []).append(p)
        for key, ps in sorted(groups.items(), key=lambda kv: (kv[0][0] != "mem", kv[0])):
            nj = min(p["a"]["numjobs"] for p in ps)
            sel = [p for p in ps if p["a"]["numjobs"] == nj]
            labels = sorted({(p["a"]["mode"], p["label"]) for p in sel}, key=lambda ml: (mode_key(ml[0]), ml[1]))
            rows, glabels, x, anyfb = [], [], 0, False
            for m, lab in labels:
                mp = sorted([p for p in sel if p["label"] == lab], key=lambda p: p["a"]["bs"])
                start = x
                for p in mp:
                    a, b = p["a"], p["b"]
                    top = max(a["gbps_max"] or a["gbps_median"], b["gbps_max"] or b["gbps_median"])
                    dlab = f"{p['delta_pct']:+.1f}%" + ("*" if p["significant"] else "")
                    fbk = fell_back(a) or fell_back(b)
                    anyfb = anyfb or fbk
                    rows.append((x, gp_str(bs_label(a["bs"]) + (" fb" if fbk else "")), a["gbps_median"], num(a["gbps_min"]), num(a["gbps_max"]),
                                 b["gbps_median"], num(b["gbps_min"]), num(b["gbps_max"]), top, gp_str(dlab),
                                 1 if p["significant"] else 0))
                    x += 1
                glabels.append(((start + x - 1) / 2, lab))
                x += 0.6
            ymax = max(r[8] for r in rows) * 1.18
            body = (f"anyfb = {1 if anyfb else 0}\n"
                    f"set title {gp_str(f'A vs B, median GB/s per point: {group_name(key)}, {jobs(nj)}')} . \"\\n\" . "
                    f"{gp_str('A: ' + self.rs.name + ' (' + self.rs.title() + ')')} . \"\\n\" . "
                    f"{gp_str('B: ' + rs_b.name + ' (' + rs_b.title() + ')')}\n"
                    "set style fill solid 0.85 border rgb '#333333'\nset boxwidth 0.36 absolute\n"
                    f"set xrange [-0.7:{x - 0.4}]\nset yrange [0:{ymax}]\nset grid noxtics ytics\n"
                    "set xtics nomirror scale 0\nset ylabel 'throughput (GB/s; bars: min-max of repeats)'\n"
                    "set xlabel 'block size, grouped by reply mode; label: change of B against A (* better or worse by "
                    "the between-runs rule stated in the report)' . (anyfb ? '; fb: fell back to copying' : '') offset 0,-1.5\nset bmargin 7\n"
                    "set tmargin 5\n")
            for gx, gl in glabels:
                body += f"set label {gp_str(gl)} at first {gx}, graph -0.09 center font ',12'\n"
            body += ("plot dat using ($1-0.19):3:xtic(2) with boxes lc rgb '#4c72b0' title 'A (" + self.rs.name.replace("'", "") + ")', \\\n"
                     "     dat using ($1+0.19):6 with boxes lc rgb '#dd8452' title 'B (" + rs_b.name.replace("'", "") + ")', \\\n"
                     "     dat using ($1-0.19):4:(0):($5-$4) with vectors nohead lw 1.5 lc rgb '#222222' notitle, \\\n"
                     "     dat using ($1+0.19):7:(0):($8-$7) with vectors nohead lw 1.5 lc rgb '#222222' notitle")
            if any(r[10] for r in rows):
                body += ", \\\n     dat using 1:($11==1 ? $9 : NaN):10 with labels offset 0,0.9 font ',10:Bold' tc rgb '#000000' notitle"
            if not all(r[10] for r in rows):
                body += ", \\\n     dat using 1:($11==0 ? $9 : NaN):10 with labels offset 0,0.9 font ',9' tc rgb '#888888' notitle"
            body += "\n" + self.probe("compare")
            ys = [float(v) for r in rows for v in (r[2], r[3], r[4], r[5], r[6], r[7]) if v != "NaN"]
            self.render(f"compare-{group_slug(key)}-j{nj}", [rows], body,
                        f"A vs B, {group_name(key)}, {jobs(nj)}", w=max(W, 60 * len(rows) + 200),
                        checks=[{"panel": "compare", "ys": ys, "xs": [r[0] for r in rows], "zero": True,
                                 "log": False}])
