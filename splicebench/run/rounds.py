"""The matrix, round by round (bench/README.md, "Rounds"): a comparison group (the points
that differ only in mode, the modes' own options and replica) is measured round by
round, each point once a round in an order that turns by one place each round.  A
round's start phase starts every point's daemon (and sbserver) and warms it up, side by
side, before its first timed repeat; the daemons stop at the round's end.  Each
measurement is a line of DIR/measurements.jsonl (round, position, daemon round-start or
own-start); after the group's last round its points are written to points.jsonl.
--resume skips the points done and the measurements done."""
import json
import os
import subprocess
import time

from . import measure
from .lists import counters_of
from .point import aggregate, latest
from .procs import read, say
from ..results import read_jsonl


def utc():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def compact(obj, sort=False):
    return json.dumps(obj, separators=(",", ":"), sort_keys=sort)


def resume_state(r):
    """What DIR already holds: the points done, the measurements done, the points given up
    (failed or skipped in a round) and each point's size scale."""
    for p in read_jsonl(r.out + "/points.jsonl"):
        r.done_points.add(p.get("point"))
    mj = r.out + "/measurements.jsonl"
    if not os.path.exists(mj):
        try:
            open(mj, "a").close()
        except OSError:
            r.write_fail(mj)
    for m in read_jsonl(mj):
        k = m.get("point")
        r.done_meas.add((k, m.get("round")))
        if m.get("status") != "ok":
            r.gave_up[k] = m.get("status")
        r.scale_of[k] = m.get("size_scale") or 1


def to_do(r, rec):
    k = rec["point"]
    return k not in r.done_points and (k, rec["round"]) not in r.done_meas and k not in r.gave_up


def other_gro(r, rec):
    """A tcp-nic point of the other GRO setting: bench/vm boots again for those."""
    return rec["path"] == "nic" and r.guest_gro and rec["gro"] != r.guest_gro


def prepare_round(r, i):
    """A round's start phase: every point of the round that the schedule begins at I gets
    its daemon started and warmed up, in the round's order, before the round's first timed
    repeat (a daemon kept through the rounds carried its own speed into every round).
    Where memory is short the rest start at their own measurement; a point that cannot
    start here is left to its measurement (which starts it again and says why)."""
    p, sched, t, n = r.procs, r.c.sched, time.time(), 0
    r0, g0 = sched[i]["round"], sched[i]["group"]
    for rec in sched[i:]:
        if rec["round"] != r0 or rec["group"] != g0:
            break
        if not to_do(r, rec) or other_gro(r, rec):
            continue
        m = measure.Meas(r.scale_of.get(rec["point"], 1))
        if not p.point_setup(rec, m):
            continue
        m.psize = rec["size"] * m.size_scale
        fs = m.psize * rec["numjobs"]
        p.use_point(rec["index"], rec["path"])
        if not p.room_for(fs, rec["path"])[0]:
            break
        if measure.start_warm(r, rec, m, fs):
            n += 1
        elif p.cur.dpid:
            p.stop_point()
    p.no_point()
    if n:
        say("    (round %d: %d daemons started and warmed up side by side in %.1f s)" % (r0, n, time.time() - t))


def eta(r):
    if not r.ran:
        return "--:--"
    left = int((int(time.time()) - r.t0) * (r.todo - r.ran) / r.ran)
    return "%02d:%02d" % (left // 60, left % 60)


def measure_one(r, rec):
    """One measurement of the record, recorded as a line of measurements.jsonl."""
    key, rnd = rec["point"], rec["round"]
    say("[%d/%d] round %d, position %d: %s ... ETA %s" % (rec["index"], rec["total"], rnd, rec["position"], key, eta(r)))
    started = utc()
    knob = rec.get("knob") or ""
    knob_before = read(knob).strip() if knob and os.path.exists(knob) else ""
    m = measure.measure(r, rec)
    r.scale_of[key] = m.size_scale
    line = compact({"point": key, "round": rnd, "position": rec["position"], "status": m.status,
                    "reason": m.reason, "started": started, "ended": utc(), "psize": m.psize,
                    "size_scale": m.size_scale, "knob_before": knob_before, "daemon": m.daemon,
                    "rep": m.reps[-1] if m.reps else None, "verify": m.verify,
                    "stats": m.stats if isinstance(m.stats, dict) else {}, "costwin": m.costwin,
                    "netwin": m.netwin})
    r.replace(r.out + "/measurements.jsonl", line + "\n", append=True)
    if not m.ok:
        r.gave_up[key] = m.status
    r.ran += 1
    if m.ok:
        say("    round %d: %s GB/s" % (rnd, measure.round3(m.reps[-1]["gbps"])))
    else:
        say("    round %d: %s: %s" % (rnd, m.status, m.reason))


def finish_point(r, rec):
    """The point from its measurements -> a line of points.jsonl."""
    key = rec["point"]
    if key in r.done_points:
        return
    run = dict(r.run, baseline_gbps=r.baseline_of(rec["path"]))
    ms = latest(m for m in read_jsonl(r.out + "/measurements.jsonl") if m.get("point") == key)
    try:
        p = aggregate(rec, run, ms, counters_of(r.c.lists.lists))
        line = compact(p, sort=True)
    except Exception as e:  # noqa: BLE001 (a bookkeeping bug: bad input's status)
        say("bench/run: cannot aggregate point %s: %s" % (key, e))
        raise SystemExit(2)
    r.replace(r.out + "/points.jsonl", line + "\n", append=True)
    r.done_points.add(key)
    msg = "[%d/%d] %s: %s" % (p["index"], rec["total"], key, p["status"])
    if p["status"] == "ok":
        msg += " %s GB/s n=%d rounds, cv=%s cpu %s s/GB" % (
            measure.round3(p["gbps_median"]), p["repeats"], measure.round3(p["gbps_cv"]),
            measure.round3(p["cpu_parts_s_per_gb"]))
        fb = p.get("fallbacks")
        if isinstance(fb, (int, float)) and not isinstance(fb, bool) and fb > 0:
            msg += " (copied %s B, %s fallbacks)" % (measure.jnum(p["bytes_copied"]), measure.jnum(fb))
        if p["reason"]:
            msg += "; " + p["reason"]
    else:
        msg += ": " + p["reason"]
    say(msg)


def group_end(r, group_recs):
    """The last round's daemons stopped, the group's knobs put back, its points written."""
    r.procs.stop_points()
    r.procs.restore_knobs()
    for g in group_recs:
        if r.gave_up.get(g["point"]) != "deferred":
            finish_point(r, g)
    if not os.environ.get("SB_VM"):  # (in a guest the CSV is written once at the end)
        r.write_csv()


def run_rounds(r):
    c, p = r.c, r.procs
    resume_state(r)
    r.todo = sum(1 for rec in c.sched if rec["point"] not in r.done_points
                 and (rec["point"], rec["round"]) not in r.done_meas)
    r.guest_gro = ""
    if os.environ.get("SB_VM_NET") == "1":  # GRO of the guest's NIC (kernel/vm --net [--gro off])
        out = subprocess.run(["ethtool", "-k", "eth0"], capture_output=True, text=True).stdout
        r.guest_gro = next((ln.split()[1] for ln in out.splitlines()
                            if ln.startswith("generic-receive-offload:") and len(ln.split()) > 1), "")
    r.run = {"run_id": r.state["run_id"], "env": c.env, "kernel": c.kernel, "variant": r.variant,
             "daemon_args": os.environ.get("SB_DAEMON_ARGS", ""), "cpu_method": p.cpu_method,
             "softirq_in_parts": r.sirq_in, "cost": bool(c.o.cost)}
    say("bench/run: %s: %d points, %d measurements to run, natively on %s (env %s, FUSE_OUT_SPLICES %s, CPU %s); "
        "results in %s" % (c.mname, len(c.plan), r.todo, c.kernel, c.env, r.splices, p.cpu_method, r.out))
    r.t0, r.ran = int(time.time()), 0
    group_recs = []
    for i, rec in enumerate(c.sched):
        if rec["position"] == 1:  # a round's first record: the last round's daemons stopped
            p.stop_points()
            prepare_round(r, i)
        if rec["round"] == 1:
            group_recs.append({k: v for k, v in rec.items() if k not in ("round", "position", "last")})
        if to_do(r, rec):
            if other_gro(r, rec):  # it waits for bench/vm's boot with that setting
                if rec["round"] == 1:
                    say("[%d/%d] %s: left for a boot with --gro %s (this guest's eth0 has GRO %s)"
                        % (rec["index"], rec["total"], rec["point"], rec["gro"], r.guest_gro))
                    r.deferred += 1
                r.gave_up[rec["point"]] = "deferred"
            else:
                measure_one(r, rec)
        if rec["last"]:
            group_end(r, group_recs)
            group_recs = []
