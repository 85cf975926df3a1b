#!/usr/bin/env python3
"""The report's "why" sections (issue 22): where the CPU goes (native profiles), cost by
kernel symbol (TCG counts), and the projection to 100G.  splicebench/report/main.py calls

    sections(result_dir, outdir) -> [block, ...]

each block a tuple its Doc takes: ("h", level, text), ("p", text), ("warn", text), ("ul", items),
("table", head, rows), ("img", name, caption) (NAME.png and NAME.svg written into
outdir here, with gnuplot and splicebench/report/style.gp), ("links", lead, [(text, href)]).
What it reads from the result set (each part only where present):
  DIR/profile/profile.json, overhead.json and DIR/profile/MODE/categories.json, flame.svg
    (bench/profile --out DIR/profile; bench/quick --profile); any DIR/profile* directory
  DIR/syms-check.json and DIR/syms-*.csv (splicebench/why/syms.py table DIR)
  DIR/projection.json (splicebench/why/project.py fit ... --json DIR/projection.json)
Standard library only (gnuplot draws).
"""
import json
import os
import shutil
import subprocess
import sys

from . import profile as sbprofile  # the profiler's overhead: its limit and its sentence
from . import syms as sbsyms  # the per-symbol tables and their differences

STYLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "report", "style.gp")
CATS = ("copying", "pipe/splice", "FUSE device", "TCP receive", "syscall entry/exit", "scheduling/wake-ups", "other")


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _gnuplot(outdir, name, data, body, w=900, h=420):
    """NAME.png and NAME.svg in outdir; False when gnuplot fails or is missing."""
    src = os.path.join(outdir, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, name + ".dat"), "w") as f:
        f.write(data)
    with open(STYLE) as s:
        style = s.read()
    with open(os.path.join(src, name + ".gp"), "w") as f:
        f.write("if (!exists('fmt')) fmt = 'png'\nW = %d; H = %d\n%s\ndat = '%s.dat'\nset output '../%s.' . fmt\n%s\n"
                % (w, h, style, name, name, body))
    for fmt in ("png", "svg"):
        try:
            p = subprocess.run(["gnuplot", "-e", "fmt='%s'" % fmt, name + ".gp"], cwd=src, capture_output=True,
                               text=True)
        except OSError:
            return False
        if p.returncode != 0:
            print("splicebench/why/sections.py: gnuplot failed on %s: %s" % (name, p.stderr.strip()[-200:]), file=sys.stderr)
            return False
    return True


def profile_blocks(d, outdir):
    out = []
    for name in sorted(os.listdir(d)):
        if name.startswith("profile") and os.path.isfile(os.path.join(d, name, "profile.json")):
            out += profile_set(os.path.join(d, name), name, outdir, not out)
    return out


def profile_set(pdir, name, outdir, first):
    prof = _load(os.path.join(pdir, "profile.json"))
    if not prof:
        return []
    out = [("h", 2, "Where the CPU goes (native profiles)")] if first else []
    out.append(("h", 3, "%s: %s" % (name, ", ".join(sorted({"%s %s" % (m.get("source", "?"), m.get("bs", "?"))
                                                            for m in prof.get("modes", []) if m.get("status") == "ok"})))))
    txt = ("perf record -a -g -e cpu-clock at %g Hz over %g s in the middle of each mode's fio run (kernel %s); "
           "samples by component (daemon, data server, reader = fio, softirq, kernel threads; idle and other "
           "processes of the machine left out) and by category of the leaf frame (bench/categories.tsv)."
           % (prof.get("freq_hz", 0), prof.get("seconds", 0), prof.get("kernel", "?")))
    out.append(("p", txt))
    # The profiler's measured overhead against its limit: bench/profile's overhead.json, the
    # one sentence and rule (splicebench/why/profile.py overhead_sentence); missing or over: a warning.
    ov = _load(os.path.join(pdir, "overhead.json"))
    said, ok = sbprofile.overhead_sentence(ov if isinstance(ov, dict) else None, name + "/overhead.json")
    out.append(("p", said) if ok else ("warn", said))
    rows, links, dat = [], [], []
    for m in prof.get("modes", []):
        if m.get("status") != "ok":
            rows.append([m.get("mode"), "not profiled: " + str(m.get("reason", "")).strip()] + [""] * (len(CATS) + 1))
            continue
        c = _load(os.path.join(pdir, m["mode"], "categories.json")) or {}
        sh = c.get("category_share_pct", {})
        rows.append([m["mode"], "%.3f" % m.get("gbps", 0), "%.3f" % c.get("cpu_s_per_gb", 0)]
                    + ["%.1f" % sh.get(k, 0) for k in CATS])
        dat.append("%s\t%s\n" % (m["mode"], "\t".join("%.4f" % (c.get("category_cpu_s_per_gb", {}).get(k, 0))
                                                        for k in CATS)))
        fl = os.path.join(pdir, m["mode"], "flame.svg")
        if os.path.exists(fl):
            shutil.copy(fl, os.path.join(outdir, "flame-%s-%s.svg" % (name, m["mode"])))
            links.append((m["mode"], "flame-%s-%s.svg" % (name, m["mode"])))
    out.append(("table", ["mode", "GB/s (profiled run)", "CPU s/GB (samples)"] + ["%s %%" % k for k in CATS], rows))
    if dat and _gnuplot(outdir, "why-categories-" + name, "".join(dat),
                        "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.9 border -1\n"
                        "set boxwidth 0.7\nset ylabel 'CPU seconds per GB (perf samples)'\nset xtics rotate by -20\n"
                        "plot " + ", ".join("dat using %d%s title '%s'" % (i + 2, ":xtic(1)" if i == 0 else "", k)
                                            for i, k in enumerate(CATS))):
        out.append(("img", "why-categories-" + name, "Where the CPU goes, per mode: CPU seconds per GB by category "
                    "(perf cpu-clock samples of the mode's components; bench/categories.tsv)"))
    if links:
        out.append(("links", "Flame graphs (SVG; width = share of samples, colour = category): ", links))
    return out


def syms_blocks(d):
    chk = _load(os.path.join(d, "syms-check.json"))
    if not chk:
        return []
    out = [("h", 2, "Cost by kernel symbol (TCG counts)")]
    rel = [r["sum_vs_median_pct"] for r in chk["rows"].values() if r.get("sum_vs_median_pct") is not None]
    out.append(("p", "The sbcost plugin adds every instruction and every byte loaded or stored to the kernel symbol "
                "(System.map) or user code page that executed it; per row the big window minus the small one, per "
                "byte delivered, summed over the repeats.  Each window's entries add up to its totals within "
                "%.2g %%; the tables (the mean over the repeats) are within %.2f %% of the rows' medians (the "
                "cost columns)." % (chk.get("windows_sum_vs_totals_max_rel", 0) * 100, max(rel) if rel else 0)))
    data, _ = sbsyms.load(d)
    nets = {k: v for k, v in data.items() if v["info"].get("mode") == "network"}
    for key in sorted(data):
        r = data[key]
        if r["info"].get("mode") == "network":
            continue
        bs = r["info"].get("bs")
        net = [k for k, v in nets.items() if v["info"].get("bs") == bs and
               (k == key + "-net" or not key.startswith("p"))]
        tab = r["table"]
        if net:
            rows, ta, tb = sbsyms.diff(data, net[0], key)
            top = sorted(rows, key=lambda x: -abs(x[2]["moved_per_byte"]))[:8]
            out.append(("p", "%s%s: %.3f bytes moved per byte against the network's own %.3f (%+.3f); "
                        "the symbols behind the difference:" % (
                            key, " (%s)" % r["info"]["point"] if r["info"].get("point") else "",
                            tb["moved_per_byte"], ta["moved_per_byte"], tb["moved_per_byte"] - ta["moved_per_byte"])))
            out.append(("table", ["symbol", "category", "network B/B", "mode B/B", "difference B/B",
                                  "instr/B difference"],
                        [[n, c, "%.4f" % ra["moved_per_byte"], "%.4f" % rb["moved_per_byte"],
                          "%+.4f" % dd["moved_per_byte"], "%+.4f" % dd["instr_per_byte"]]
                         for n, c, dd, ra, rb in top]))
        else:
            top = sorted(tab.items(), key=lambda kv: -kv[1]["moved_per_byte"])[:6]
            out.append(("p", "%s%s: the symbols that move the most bytes per byte delivered:" % (
                key, " (%s)" % r["info"]["point"] if r["info"].get("point") else "")))
            out.append(("table", ["symbol", "category", "bytes moved/B", "instr/B", "rep iterations/B"],
                        [[n, v["category"], "%.4f" % v["moved_per_byte"], "%.4f" % v["instr_per_byte"],
                          "%.4f" % v["rep_per_byte"]] for n, v in top]))
    return out


def projection_blocks(d, outdir):
    pj = _load(os.path.join(d, "projection.json"))
    if not pj:
        return []
    out = [("h", 2, "Projection to 100G (a projection, not a measurement)"), ("p", pj.get("label", ""))]
    k = pj.get("kernels", {})
    out.append(("p", "Calibrated: native kernel %s against guest kernel %s (counts from %s); %d calibration points."
                % (", ".join(k.get("native", [])) or "?", ", ".join(k.get("guest", [])) or "?",
                   ", ".join(os.path.basename(x) for x in k.get("cost_from", [])) or "?", pj.get("n", 0))))
    if pj.get("left_out"):
        out.append(("ul", ["left out of the calibration: %s %s %s: %s" % (c["mode"], c["source"], c["bs"], c["reason"])
                           for c in pj["left_out"]]))
    if "coef" in pj:
        out.append(("p", "Model: CPU s/GB = %s; leave-one-out error %.1f %% (root mean square), %.1f %% at worst." % (
            " + ".join("%.4g x %s" % (v, n) for n, v in pj["coef"].items()), pj["loo_rms_pct"], pj["loo_max_pct"])))
    if not pj.get("allowed"):
        out.append(("p", "The projection cannot be made: %s." % pj.get("reason", "?")))
        return out
    rows, dat = [], []
    for i, p in enumerate(pj["projection"]):
        rows.append([p["mode"], p["source"], str(p["bs"]), "%.3f (%.3f-%.3f)" % (
            p["cpu_s_per_gb"], p["cpu_s_per_gb_lo"], p["cpu_s_per_gb_hi"]),
            "%.2f (%.2f-%.2f)" % (p["cores_for_line"], p["cores_lo"], p["cores_hi"]),
            "" if not p.get("measured_native") else "%.3f" % p["measured_native"]])
        dat.append("%d\t\"%s %s %s\"\t%.5f\t%.5f\t%.5f\n" % (i, p["mode"], p["source"].replace("tcp-", ""),
                                                              "1m" if p["bs"] == 1048576 else "%dk" % (p["bs"] // 1024),
                                                              1 / p["cpu_s_per_gb"], 1 / p["cpu_s_per_gb_hi"],
                                                              1 / p["cpu_s_per_gb_lo"]))
    out.append(("table", ["mode", "source", "bs", "projected CPU s/GB (band)", "cores for 12.5 GB/s (band)",
                          "measured native CPU s/GB"], rows))
    if dat and _gnuplot(outdir, "why-projection", "".join(dat),
                        "set style fill solid 0.8 border -1\nset boxwidth 0.7\nset xtics rotate by -35\n"
                        "set ylabel 'GB/s per core (projected)'\nset yrange [0:*]\n"
                        "plot dat using 1:3:xtic(2) with boxes title 'projected GB/s per core', "
                        "'' using 1:3:4:5 with yerrorbars lc rgb 'black' title 'leave-one-out band', "
                        "%g with lines dt 2 lw 2 title '100G line (12.5 GB/s)'" % pj.get("line_gbps", 12.5),
                        w=1000, h=450):
        out.append(("img", "why-projection", "PROJECTION: GB/s one core could deliver per mode (1 / projected "
                    "CPU s/GB) with the leave-one-out band, against the 100G line"))
    return out


def sections(result_dir, outdir):
    """Every "why" block the result set has data for; [] when it has none."""
    os.makedirs(outdir, exist_ok=True)
    return profile_blocks(result_dir, outdir) + syms_blocks(result_dir) + projection_blocks(result_dir, outdir)


def main(argv):
    """python3 -m splicebench why DIR [OUTDIR]: the sections' blocks, one line each."""
    if not argv:
        print("usage: python3 -m splicebench why DIR [OUTDIR]", file=sys.stderr)
        return 2
    for b in sections(argv[0], argv[1] if len(argv) > 1 else os.path.join(argv[0], "report")):
        print(b[0], *(x if isinstance(x, str) else json.dumps(x)[:300] for x in b[1:]))
    return 0
