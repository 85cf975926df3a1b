"""Where the per-round spread comes from: the machine's floor, measured apart from the runner.

    python3 -m splicebench noise [--rounds N] [--window S] [--bs SIZE] [--configs A,B,...]
                                 [--delay-ns N] [--out FILE.jsonl]

Two identical daemons (splicefs, mem source, its first mode that never splices: copy) are
mounted side by side, A and B, and
read by plain fio (psync, direct, one job) for one window each per round, A and B in an
order that alternates round by round: the per-round log ratio log(B/A) is what every
paired verdict is judged on, so its spread (sd) is the figure to bring down.  With
--delay-ns B is build/splicefs-testmode's mode with a --test-delay-ns option (found in its
--list), with a fixed busy-wait per
reply: a known difference the judge must find.  Each configuration changes one cause:

    base        the windows as bench/run measures today (1 s, nothing pinned)
    window5     5 s windows
    pin-split   daemon threads on CPU 0, fio on CPU 1 (fio's cpus_allowed, taskset)
    pin-same    daemon and fio both on CPU 0
    spin        a SCHED_IDLE busy loop on each CPU: a vCPU that never idles is never woken
                by the host (a FUSE read is a ping-pong of wake-ups between two threads)
    back2back   A and B back to back with no pause (the others pause 0.5 s between windows,
                as the verification and counter reads of a real point do)
    fine        a round's window cut into 5 slices a side, A and B alternating slice by
                slice (ABBAABBAAB...): a burst of the host lands on both sides alike
    fresh       both daemons started anew at each round's start, as bench/run's start phase
                does (the others keep one pair for all rounds: a daemon's own speed, from
                where its memory landed, then shows as a constant ratio, not as spread)
    placement   no daemon: build/sbmemcpy started --processes times (fresh processes, fresh
                pages) at two buffer sizes (64 MiB: memory; 1 MiB: the L2), each timing its
                copy 5 times; the spread between processes against the spread within one
                says whether a process carries its own speed from where its pages landed

Per window it records what may explain it: the host's steal time (/proc/stat), context
switches (system), the daemon's thread migrations (/proc/PID/task/*/sched), the 1-minute
load.  One JSON line per window (--out), then a table per configuration: the CV of single
windows, the sd of the per-round log ratio, the judge's verdict on B against A, and the
share of windows with stolen time.  Needs root (FUSE), fio, build/splicefs.
"""
import argparse
import glob
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from . import TOP
from . import verdict as V

CONFIGS = ("base", "window5", "pin-split", "pin-same", "spin", "back2back", "fine", "fresh", "placement")


def die(msg):
    print("splicebench noise: " + msg, file=sys.stderr)
    sys.exit(2)


def stat_counters():
    """(steal seconds, context switches) of the whole machine so far (/proc/stat)."""
    steal = ctxt = 0
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        for line in f:
            w = line.split()
            if w[0] == "cpu" and len(w) > 8:
                steal = int(w[8]) / hz
            elif w[0] == "ctxt":
                ctxt = int(w[1])
    return steal, ctxt


def migrations(pid):
    """The daemon's thread migrations so far (every thread's /proc/.../sched nr_migrations)."""
    n = 0
    for p in glob.glob(f"/proc/{pid}/task/*/sched"):
        try:
            with open(p) as f:
                for line in f:
                    if line.startswith("se.nr_migrations"):
                        n += int(line.split(":")[1])
        except OSError:
            pass
    return n


def list_mode(exe, want):
    """The first mode of exe's --list for which want(mode) holds (no mode is named here)."""
    try:
        j = json.loads(subprocess.run([exe, "--list"], capture_output=True, text=True).stdout)
        return next(m["name"] for m in j["modes"] if want(m))
    except (OSError, ValueError, KeyError, StopIteration):
        raise RuntimeError(f"{exe} --list names no mode this needs (run make)")


def placement(build, processes, repeats=5):
    """Fresh sbmemcpy processes at two buffer sizes, interleaved: per size the sd of log GB/s
    within a process (pooled over its repeats) and between processes (of their means, less the
    within part's share), and the range of the processes' medians."""
    exe = os.path.join(build, "sbmemcpy")
    if not os.access(exe, os.X_OK):
        raise RuntimeError(f"{exe}: not built (run make)")
    areas = (("64M", "4G"), ("1M", "2G"))
    runs = {a: [] for a, _ in areas}
    for i in range(processes):
        for area, total in (areas if i % 2 == 0 else areas[::-1]):
            p = subprocess.run([exe, "--area", area, "--total", total, "--repeat", str(repeats)],
                               capture_output=True, text=True)
            try:
                runs[area].append([math.log(g) for g in json.loads(p.stdout)["repeats_gbps"]])
            except (ValueError, KeyError):
                raise RuntimeError(f"sbmemcpy: exit {p.returncode}: {p.stderr.strip()[-200:]}")
    lines = []
    for area, _ in areas:
        rs = runs[area]
        within = statistics.mean(statistics.variance(r) for r in rs)
        means = [statistics.mean(r) for r in rs]
        between = max(0.0, statistics.variance(means) - within / repeats)
        med = sorted(math.exp(statistics.median(r)) for r in rs)
        lines.append("placement  memcpy %-4s %d processes x %d: sd(log GB/s) within %.3f, between %.3f;"
                     " medians %.1f-%.1f GB/s" % (area, len(rs), repeats, math.sqrt(within),
                                                  math.sqrt(between), med[0], med[-1]))
    return lines


class Daemon:
    """One mounted splicefs (or splicefs-testmode) daemon, stopped on every path."""

    def __init__(self, tmp, name, exe, extra):
        self.mnt = os.path.join(tmp, name)
        os.makedirs(self.mnt)
        pidf = os.path.join(tmp, name + ".pid")
        cmd = [exe, self.mnt, "--file-size", "256M", "--pid-file", pidf,
               "--log", os.path.join(tmp, name + ".log")] + extra
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{os.path.basename(exe)} {' '.join(extra)}: exit {p.returncode}: "
                               f"{(p.stderr or p.stdout).strip()[-200:]}")
        with open(pidf) as f:
            self.pid = int(f.read())

    def pin(self, cpus):
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(self.pid)], capture_output=True)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if not os.path.exists(f"/proc/{self.pid}") or open(f"/proc/{self.pid}/stat").read().split()[2] == "Z":
                return
            time.sleep(0.05)
        subprocess.run(["fusermount3", "-u", "-z", self.mnt], capture_output=True)


def window(d, seconds, bs, fio_cpus):
    """One timed fio window on daemon d -> its record (GB/s and what may explain it)."""
    s0, c0, m0 = *stat_counters(), migrations(d.pid)
    cmd = ["fio", "--name=w", f"--filename={d.mnt}/data0", "--rw=read", f"--bs={bs}", "--direct=1",
           "--ioengine=psync", "--time_based", f"--runtime={int(seconds * 1000)}ms", "--size=256M",
           "--output-format=json"] + ([f"--cpus_allowed={fio_cpus}"] if fio_cpus else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    s1, c1, m1 = *stat_counters(), migrations(d.pid)
    try:
        j = json.loads(p.stdout[p.stdout.index("{"):])
        gbps = j["jobs"][0]["read"]["bw_bytes"] / 1e9
    except (ValueError, KeyError, IndexError):
        raise RuntimeError(f"fio on {d.mnt}: exit {p.returncode}: {p.stderr.strip()[-200:]}")
    return {"gbps": gbps, "bytes": j["jobs"][0]["read"]["io_bytes"], "ms": j["jobs"][0]["job_runtime"],
            "steal_s": round(s1 - s0, 3), "ctxt": c1 - c0, "migrations": m1 - m0, "load1": os.getloadavg()[0]}


def sliced(a, b, seconds, bs, fio_cpus, first_a, n=5):
    """A round's two windows cut into n slices each, alternating (ABBA...): per side the
    bytes over the time of its slices, with their steal and context switches summed."""
    order = []
    for i in range(n):
        pair = [("A", a), ("B", b)] if (i % 2 == 0) == first_a else [("B", b), ("A", a)]
        order += pair
    acc = {s: {"bytes": 0, "ms": 0, "steal_s": 0.0, "ctxt": 0, "migrations": 0} for s in "AB"}
    for side, d in order:
        w = window(d, seconds / n, bs, fio_cpus)
        for k in acc[side]:
            acc[side][k] += w[k]
    for side in "AB":
        acc[side]["gbps"] = acc[side]["bytes"] / (acc[side]["ms"] / 1000) / 1e9 if acc[side]["ms"] else 0.0
        acc[side]["load1"] = os.getloadavg()[0]
    return acc


def spinners(on):
    """A SCHED_IDLE busy loop per CPU (started) or none (on=False): [Popen]."""
    if not on:
        return []
    return [subprocess.Popen(["taskset", "-c", str(c), "chrt", "-i", "0", "sh", "-c", "while :; do :; done"])
            for c in range(os.cpu_count() or 1)]


def run_config(name, pair, args, out):
    """The rounds of one configuration: A and B a window each per round, the order turning;
    pair: the two daemons (pair.ab) and how to start a new pair (pair.fresh())."""
    a, b = pair.ab
    secs = 5 if name == "window5" else args.window
    fio_cpus = {"pin-split": "1", "pin-same": "0"}.get(name, "")
    for d in (a, b):
        d.pin({"pin-split": "0", "pin-same": "0"}.get(name, f"0-{(os.cpu_count() or 1) - 1}"))
    spin = spinners(name == "spin")
    rows = []
    try:
        window(a, 1, args.bs, fio_cpus)  # a warm-up on each
        window(b, 1, args.bs, fio_cpus)
        for r in range(1, args.rounds + 1):
            rec = {"config": name, "round": r}
            if name == "fresh":
                a, b = pair.fresh()
                window(a, 1, args.bs, fio_cpus)
                window(b, 1, args.bs, fio_cpus)
            if name == "fine":
                rec.update(sliced(a, b, secs, args.bs, fio_cpus, r % 2 == 1))
                rows.append(rec)
                out.write(json.dumps(rec) + "\n")
                out.flush()
                continue
            for side, d in ((("A", a), ("B", b)) if r % 2 else (("B", b), ("A", a))):
                w = window(d, secs, args.bs, fio_cpus)
                rec[side] = w
                if name != "back2back":
                    time.sleep(0.5)
            rows.append(rec)
            out.write(json.dumps(rec) + "\n")
            out.flush()
    finally:
        for s in spin:
            s.kill()
            s.wait()
    return rows


def summary(name, rows):
    """One line: single-window CV, the per-round log ratio's sd, the judge on B against A."""
    ga = [r["A"]["gbps"] for r in rows]
    gb = [r["B"]["gbps"] for r in rows]
    logs = [math.log(r["B"]["gbps"] / r["A"]["gbps"]) for r in rows]
    cv = statistics.mean([statistics.stdev(g) / statistics.mean(g) for g in (ga, gb)])
    d = V.paired_verdict([r["B"]["gbps"] / r["A"]["gbps"] for r in rows])
    stolen = sum(1 for r in rows for s in "AB" if r[s]["steal_s"] > 0.01) / (2 * len(rows))
    mig = statistics.median([r[s]["migrations"] for r in rows for s in "AB"])
    return ("%-10s A %.2f B %.2f GB/s  cv %.3f  sd(log B/A) %.3f  %s  stolen %3.0f %%  migr %g" % (
        name, statistics.median(ga), statistics.median(gb), cv, statistics.stdev(logs), V.short(d),
        100 * stolen, mig))


def main(argv):
    ap = argparse.ArgumentParser(prog="python3 -m splicebench noise",
                                 description=__doc__.split("\n\n")[1])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--window", type=float, default=1.0, help="seconds a window (base) [1]")
    ap.add_argument("--bs", default="128k")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--delay-ns", type=int, default=0, help="B: splicefs-testmode with this busy-wait per reply")
    ap.add_argument("--out", help="one JSON line a round")
    ap.add_argument("--processes", type=int, default=12, help="placement: fresh processes a size [12]")
    ap.error = lambda m: die(m + " (see --help)")
    args = ap.parse_args(argv)
    cfgs = [c for c in args.configs.split(",") if c]
    bad = [c for c in cfgs if c not in CONFIGS]
    if bad:
        die(f"unknown configuration {bad[0]}: pick from {','.join(CONFIGS)}")
    if args.rounds < 3:
        die("--rounds: at least 3")
    build = os.environ.get("SB_BUILD") or os.path.join(TOP, "build")
    if "placement" in cfgs:
        cfgs.remove("placement")
        try:
            for line in placement(build, max(3, args.processes)):
                print(line, flush=True)
        except RuntimeError as e:
            print("splicebench noise: " + str(e), file=sys.stderr)
            return 1
        if not cfgs:
            return 0
    exe_b = os.path.join(build, "splicefs-testmode" if args.delay_ns else "splicefs")
    try:
        mode_a = list_mode(os.path.join(build, "splicefs"), lambda m: m.get("splices") is False)
        mode_b = list_mode(exe_b, lambda m: any(o.get("name") == "test-delay-ns" for o in m.get("options") or [])) \
            if args.delay_ns else mode_a
    except RuntimeError as e:
        die(str(e))
    for exe in (os.path.join(build, "splicefs"), exe_b):
        if not os.access(exe, os.X_OK):
            die(f"{exe}: not built (run make)")
    if not shutil.which("fio"):
        die("needs fio (scripts/deps)")
    tmp = tempfile.mkdtemp(prefix="sbnoise.")
    pair = Pair(tmp, [os.path.join(build, "splicefs"), "--mode", mode_a],
                [exe_b, "--mode", mode_b, "--test-delay-ns", str(args.delay_ns)] if args.delay_ns
                else [os.path.join(build, "splicefs"), "--mode", mode_a])
    out = open(args.out, "w") if args.out else open(os.devnull, "w")
    try:
        pair.fresh()
        print(f"# {len(cfgs)} configurations x {args.rounds} rounds, bs {args.bs}, load {os.getloadavg()[0]:.2f}"
              + (f", A: {mode_a}, B: {mode_b} --test-delay-ns {args.delay_ns}" if args.delay_ns else f", A/A: {mode_a}"))
        for c in cfgs:
            print(summary(c, run_config(c, pair, args, out)), flush=True)
    except RuntimeError as e:
        print("splicebench noise: " + str(e), file=sys.stderr)
        return 1
    finally:
        pair.stop()
        out.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


class Pair:
    """The two daemons measured, A and B; fresh() stops them and starts a new pair."""

    def __init__(self, tmp, cmd_a, cmd_b):
        self.tmp, self.cmds, self.ab, self.n = tmp, (cmd_a, cmd_b), (), 0

    def fresh(self):
        self.stop()
        self.n += 1
        started = []
        try:
            for side, c in zip("ab", self.cmds):
                started.append(Daemon(self.tmp, f"{side}{self.n}", c[0], c[1:]))
        finally:
            self.ab = tuple(started)  # stop() ends what started, even when B failed
        return self.ab

    def stop(self):
        for d in self.ab:
            d.stop()
        self.ab = ()
