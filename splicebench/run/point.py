"""A point from its measurements (one per round, bench/run's measurements.jsonl): the
record's settings, the rounds' figures, the daemon's counters combined as the programs'
--list says (lists.merge_stats), the verification passes and the cost windows."""
import statistics

from ..results import spread
from .lists import merge_stats

CPU_PARTS = ("daemon_usr", "daemon_sys", "server_usr", "server_sys", "fio_usr", "fio_sys",
             "kthreads", "softirq")
# Counters every point has as a top-level field (points.csv's fixed columns).
FIXED = ("bytes_spliced", "bytes_copied", "fallbacks")


def knob_before(ms):
    """The value the mode's kernel knob had before its first measurement ("" without one)."""
    return next((m.get("knob_before") or m.get("uring_before") for m in ms
                 if m.get("knob_before") or m.get("uring_before")), "")


def settings_of(rec, run, ms, psize):
    cost = bool(run.get("cost"))
    return {
        "size_per_job": psize, "size_asked": rec["size"], "runtime_s": rec["runtime"],
        "time_based": rec["direct"] == 1 and not cost and (rec["runtime"] > 0 or rec["min_seconds"] > 0),
        "rounds": rec["rounds"], "order": rec.get("order", ""), "cv_target": rec["cv_target"],
        "min_seconds": rec["min_seconds"], "warmup": rec["warmup"], "max_read": rec["max_read"],
        "readahead": rec["readahead"], "file_size": psize * rec["numjobs"], "seed": rec["seed"],
        "granule": rec["granule"], "daemon_args": run.get("daemon_args", ""),
        "knob": rec.get("knob", ""), "knob_before": knob_before(ms),
        "measurement": "each round starts the group's daemons side by side (a warm-up "
                       "each) before its first timed repeat and stops them at its end; "
                       "per round one timed repeat and the verification pass a point, "
                       "the group's points interleaved round by round",
        "daemon_starts": sum(1 for m in ms if m.get("daemon") in ("round-start", "own-start"))}


def spec_of(rec, run, ms):
    """The point's record without its figures: the expanded matrix record, the run's
    fields and the settings the measurements used."""
    last = ms[-1] if ms else {}
    psize = last.get("psize") or rec["size"]
    p = {k: rec.get(k, "") for k in ("point", "index", "program", "mode", "source", "path", "bs",
                                      "numjobs", "ioengine", "iodepth", "direct", "threads",
                                      "privilege", "pipe_max_size", "verify", "gro", "replica",
                                      "group", "rounds")}
    for a in rec.get("own_axes") or {}:
        p[a] = rec.get(a, "")
    p["own_axes"] = rec.get("own_axes") or {}
    p.update({"run_id": run.get("run_id", ""), "env": run.get("env", ""),
              "kernel": run.get("kernel", ""), "variant": run.get("variant", ""),
              "verify_seed": rec["seed"], "verify_granule": rec["granule"],
              "size_scale": last.get("size_scale", 1), "cpu_method": run.get("cpu_method", ""),
              "cpu_softirq_in_parts": run.get("softirq_in_parts", 0),
              "baseline_gbps": run.get("baseline_gbps", ""), "round_order": rec.get("order", "")})
    p["settings"] = settings_of(rec, run, ms, psize)
    return p


def status_of(ms):
    """(status, reason) of a point from its measurements'."""
    for m in ms:
        if m.get("status") == "skipped":
            return "skipped", m.get("reason", "")
    for m in ms:
        if m.get("status") == "failed":
            return "failed", "round %s: %s" % (m.get("round"), m.get("reason", ""))
    return "ok", "; ".join(sorted({m.get("reason") for m in ms if m.get("reason")}))


def counters_to(p, ms, counters):
    """The daemon's counters over the measurements, each as --list combines it."""
    stats = merge_stats([m.get("stats") for m in ms], counters)
    p["daemon_stats"] = stats
    for k in FIXED + tuple(c["name"] for c in counters if c["name"] not in FIXED):
        p[k] = stats.get(k, "")
    p["fallbacks_visible"] = stats.get("fallbacks_visible", True) if stats else ""
    # root in a container may lack CAP_SYS_RESOURCE: its pipes obey pipe-max-size too
    p["cap_sys_resource"] = stats.get("cap_sys_resource", "") if stats else ""
    # a mode's reply protocol as the daemon negotiated it (its stats say which)
    p["splice_protocol"] = stats.get("splice_protocol", "") if stats else ""
    nbytes = stats.get("bytes")
    p["spliced_share"] = (stats.get("bytes_spliced", 0) / nbytes
                          if isinstance(nbytes, (int, float)) and nbytes > 0 else "")


def verification_to(p, ms):
    """The verification passes (one per measurement): all must pass."""
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


def aggregate(rec, run, ms, counters=()):
    """A point from its measurements; counters: the programs' --list counters."""
    ms = sorted(ms, key=lambda m: m.get("round", 0))
    p = spec_of(rec, run, ms)
    status, reason = status_of(ms)
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
    counters_to(p, ms, list(counters))
    verification_to(p, ms)
    cw = [dict(w, repeat=i, round=m.get("round")) for i, (m, w) in enumerate(
        ((m, w) for m in ms for w in (m.get("costwin") or [])), 1)]
    if cw:
        p["cost_windows"] = cw
    nw = next((m["netwin"] for m in ms if m.get("netwin")), None)
    if nw:
        p["cost_net_windows"] = nw
    figures(p, reps)
    return p


def latest(ms):
    """A measurement redone after --resume: the later line of its round wins."""
    by_round = {}
    for m in ms:
        by_round[m.get("round")] = m
    return list(by_round.values())


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


