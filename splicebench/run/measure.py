"""One measurement: the daemon (started in the round's start phase, or here), drop_caches,
one timed fio repeat whose window's edges fio's own jobs take (bench/sample: the cgroups'
cpu.stat, /proc/stat, the kernel threads), then the verification pass (build/sbcheck over
every byte of every job's region) and the daemon's counters (SIGUSR1)."""
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import time

from . import vm
from .procs import kill, mounted, read, running, say, tail1, write
from .repeat import RepeatError, from_files, read_fio


class Meas:
    """A measurement's state: status and reason, the size, which daemon, its records."""

    def __init__(self, scale):
        self.status, self.reason, self.daemon, self.slots_pass = "ok", "", "", ""
        self.size_scale = scale
        self.reps, self.costwin, self.netwin, self.verify, self.stats = [], [], [], {}, {}
        self.psize = 0

    def set(self, status, reason):
        self.status, self.reason = status, reason

    @property
    def ok(self):
        return self.status == "ok"


def fio_json(path):
    """Anything fio printed before its JSON object (notes, warnings) dropped."""
    txt = read(path)
    if not txt:
        return
    lines = txt.splitlines(True)
    i = next((n for n, ln in enumerate(lines) if ln.startswith("{")), len(lines))
    write(path, "".join(lines[i:]))


def fio_message(tmp, name, rc, err):
    hits = []
    for f in ("err", "out"):
        m = re.search(r"^.*(verify|bad|err).*$", read("%s/%s.%s" % (tmp, name, f)), re.M | re.I)
        if m:
            hits.append(m.group(0)[:160])
    return "fio exit %d job error %s: %s" % (rc, err, "\n".join(hits))


def run_fio(r, pt, name, size, nj, tb, runtime, verify, prefix="", label=""):
    """fio on the current point's mount, in its fio cgroup (the run's bench/read.fio job, from
    the environment); with PREFIX, fio's jobs take the window's edges (bench/sample); with
    LABEL (--cost), the jobs' reads run in an sbcost window of that label.  (ok, message)."""
    p, c, tmp = r.procs, r.procs.cur, r.tmp
    pre = post = "true"
    if prefix:
        for f in glob.glob(prefix + ".*"):
            shutil.rmtree(f, ignore_errors=True) if os.path.isdir(f) else os.unlink(f)
        pre = "%s/bench/sample pre %s %d %s" % (r.top, prefix, nj, c.st)
        post = "%s/bench/sample post %s %d %s" % (r.top, prefix, nj, c.st)
    if label:
        pre, post = vm.cost_edges(tmp, prefix, label, nj, pre, post)
    js = "%s/%s.json" % (tmp, name)
    if os.path.exists(js):
        os.unlink(js)
    env = dict(os.environ, SB_FILE=c.mnt + "/data0", SB_BS=str(pt["bs"]), SB_SIZE=str(size),
               SB_NUMJOBS=str(nj), SB_IOENGINE=pt["ioengine"], SB_IODEPTH=str(pt["iodepth"]),
               SB_DIRECT=str(pt["direct"]), SB_TIME_BASED=str(tb), SB_RUNTIME=str(runtime),
               SB_VERIFY=str(verify), SB_PRERUN=pre, SB_POSTRUN=post)
    with open("%s/%s.out" % (tmp, name), "wb") as o, open("%s/%s.err" % (tmp, name), "wb") as e:
        p.fproc = p.spawn("fio", ["timeout", "-s", "TERM", "3600", "fio", r.top + "/bench/read.fio",
                                  "--output-format=json", "--output=" + js], cwd=tmp, env=env, stdout=o, stderr=e)
        rc = p.fproc.wait() if p.fproc else 127
    p.fproc = None
    fio_json(js)
    try:
        jobs = read_fio(js)["jobs"]
        err = sum(int(j.get("error", 0)) for j in jobs)
        nbytes = sum(int(j["read"]["io_bytes"]) for j in jobs)
    except (OSError, ValueError, KeyError, TypeError):
        err, nbytes = -1, 0
    if rc != 0 or err != 0:
        return False, fio_message(tmp, name, rc, err)
    if tb == 0 and nbytes < size * nj:
        return False, "fio read %d bytes, wanted %d" % (nbytes, size * nj)
    return True, ""


def drop_caches():
    subprocess.run(["sync"])
    try:
        write("/proc/sys/vm/drop_caches", "3\n")
    except OSError:
        pass


def start_warm(r, pt, m, fs):
    """The current point's daemon (and sbserver) started and warmed up; False with m.status
    where that failed (a daemon left running is the caller's to stop).  The warm-up: once a
    daemon start, fio at the timed reader's bs and direct flag, one job; SIGUSR2 turns the
    daemon's pipe-slot probe on for this untimed pass only (the verification pass where
    there is no warm-up)."""
    p = r.procs
    p.make_room(fs, pt["path"])
    p.start_point(pt, fs, m)
    if not m.ok:
        return False
    warm = min(pt["warmup"], m.psize) // pt["bs"] * pt["bs"]
    m.slots_pass = "verification"
    if warm > 0:
        m.slots_pass = "warm-up"
        kill(p.cur.dpid, signal.SIGUSR2)
        ok, msg = run_fio(r, pt, "warmup", warm, 1, 0, 0, 0)
        kill(p.cur.dpid, signal.SIGUSR2)
        if not ok:
            m.set("failed", "warm-up: " + msg)
            return False
    p.prep_slots[p.cur.idx] = m.slots_pass
    return True


def stats_take(r, m):
    """The current daemon's counters: that measurement's (a daemon serves one).  A running
    daemon writes its stats file on SIGUSR1; a stopped one wrote it on exit."""
    c = r.procs.cur
    sf = os.path.join(c.st, "stats.json")
    if c.dpid and running(c.dpid):
        try:
            os.unlink(sf)
        except OSError:
            pass
        kill(c.dpid, signal.SIGUSR1)
        for _ in range(100):
            if read(sf):
                break
            time.sleep(0.05)
    try:
        txt = read(sf)
        m.stats = json.loads(txt) if txt else {}
        if not m.stats:
            m.stats = {}
        elif c.logp:
            try:
                write(c.logp + ".stats.json", txt)
            except OSError:
                pass
    except ValueError:
        m.stats = {}


def kthreads_file(st):
    """The kernel threads (children of kthreadd, and kthreadd) bench/sample reads."""
    kids = []
    for f in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(f) as h:
                if h.read().rsplit(") ", 1)[1].split()[1] == "2":
                    kids.append(int(f.split("/")[2]))
        except (OSError, IndexError):
            pass
    write(os.path.join(st, "kthreads"), " ".join(str(k) for k in sorted(kids)) + " 2")


def copy_log(src, dst):
    try:
        shutil.copyfile(src, dst)
    except OSError:
        pass


def one_repeat(r, pt, m, i, tb, rt, vflag):
    """Drop caches, the timed repeat (with --cost the short run before it), its figures;
    the repeat's record, or None with m.status failed."""
    tmp, idx, rnd, logp = r.tmp, pt["index"], pt["round"], r.procs.cur.logp
    lab = ""
    if r.c.o.cost:
        small = max(m.psize // 4 // pt["bs"] * pt["bs"], pt["bs"])  # the same fixed costs, fewer bytes
        drop_caches()
        ok, msg = run_fio(r, pt, "rep%ds" % i, small, pt["numjobs"], 0, 0, vflag, "%s/x%d" % (tmp, i),
                          "p%dr%ds" % (idx, rnd))
        if not ok:
            return m.set("failed", "repeat %d (cost, short run): %s" % (i, msg))
        small_bytes = sum(j["read"]["io_bytes"] for j in read_fio("%s/rep%ds.json" % (tmp, i))["jobs"])
        copy_log("%s/rep%ds.json" % (tmp, i), "%s.fio-r%ds.json" % (logp, rnd))
        lab = "p%dr%d" % (idx, rnd)
    drop_caches()
    ok, msg = run_fio(r, pt, "rep%d" % i, m.psize, pt["numjobs"], tb, "%dms" % rt, vflag, "%s/s%d" % (tmp, i), lab)
    copy_log("%s/rep%d.json" % (tmp, i), "%s.fio-r%d.json" % (logp, rnd))
    if not ok:
        return m.set("failed", "repeat %d: %s" % (i, msg))
    try:
        rep = from_files("%s/rep%d.json" % (tmp, i), "%s/s%d" % (tmp, i), r.hz, r.cores, r.sirq_in)
        rep = json.loads(json.dumps(rep, sort_keys=True))
    except RepeatError as e:
        return m.set("failed", "repeat %d: %s" % (i, e))
    if rep.get("cpu_over"):
        m.set("failed", "repeat %d: %s (a bookkeeping error: a part counted twice?)" % (i, rep["cpu_over"]))
        say("bench/run: %s: %s" % (pt["point"], m.reason))
        m.reps.append(rep)
        return None
    m.reps.append(rep)
    if lab:
        b = sum(j["read"]["io_bytes"] for j in read_fio("%s/rep%d.json" % (tmp, i))["jobs"])
        m.costwin.append({"repeat": rnd, "label": lab, "label_small": "p%dr%ds" % (idx, rnd),
                          "io_bytes": b, "io_bytes_small": small_bytes})
    return rep


def scale_factor(r, pt, m, span, scalings):
    """A buffered repeat shorter than min_seconds: the factor for more bytes (a bigger
    file), bounded by a third of the free memory; 1 where none; (factor, note)."""
    ms = pt["min_seconds"]
    factor = min(int(ms * 1.3 / span) + 1, 64)
    avail = 0
    for ln in read("/proc/meminfo").splitlines():
        if ln.startswith("MemAvailable"):
            avail = int(ln.split()[1]) * 1024
    maxb = int(avail / 3 / (2 + (pt["path"] != "mem")))
    while factor > 1 and m.psize * factor * pt["numjobs"] > maxb:
        factor -= 1
    if factor > 1 and scalings < 3:
        return factor, ""
    return 1, "repeats of %ss are under min_seconds %s (after %d scalings%s)" % (
        jnum(span), jnum(ms), scalings, "" if factor > 1 else ", memory bounds the size")


def jnum(v):
    """A number as jq prints it (an integral float without its .0)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e17:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def round3(v):
    return jnum(math.floor(v * 1000 + 0.5) / 1000)


def ensure_daemon(r, pt, m, fs):
    """The daemon of the round's start phase, still there with this file size, or one
    started now; False with m.status where the point ends here."""
    p = r.procs
    c = p.cur
    lv = p.live.get(pt["index"])
    if c.dpid and (lv is None or lv.fs != fs):
        p.stop_point()
    elif c.dpid and not (running(c.dpid) and mounted(c.mnt)):
        m.set("failed", "%s exited or lost its mount before this measurement: %s"
              % (pt["program"], tail1(c.logp + ".daemon.log")))
        p.stop_point()
        stats_take(r, m)
        return False
    if not c.dpid:
        m.daemon = "own-start"
        if not start_warm(r, pt, m, fs):
            if c.dpid:
                p.stop_point()
            stats_take(r, m)
            return False
    else:
        m.daemon, m.slots_pass = "round-start", p.prep_slots.get(pt["index"], "")
    return True


def verification(r, pt, m, fs):
    """The verification pass: every job's whole region, through the same mount, bs, direct
    flag and job count; each 8-byte word against its own offset and the seed."""
    p, tmp = r.procs, r.tmp
    if m.ok and pt["verify"] == "post":
        vd = ["--direct"] if pt["direct"] == 1 else []
        args = ["--bs", str(pt["bs"])] + vd + ["--jobs", str(pt["numjobs"]), "--offset", "0", "--length",
                                                str(fs), "--granule", str(pt["granule"]), "--seed", str(pt["seed"])]
        out = tmp + "/verify.out"
        t0 = time.time()
        if m.slots_pass == "verification":  # without a warm-up the slot probe runs in this pass
            kill(p.cur.dpid, signal.SIGUSR2)
        with open(out, "wb") as f:
            p.fproc = subprocess.Popen([r.b + "/sbcheck"] + args + [p.cur.mnt + "/data0"], stdin=subprocess.DEVNULL,
                                       stdout=f, stderr=subprocess.STDOUT)
            vrc = p.fproc.wait()
        p.fproc = None
        if m.slots_pass == "verification":
            kill(p.cur.dpid, signal.SIGUSR2)
        t1 = time.time()
        vmsg = tail1(out)
        copy_log(out, p.cur.logp + ".verify.txt")
        bad = re.search(r"MISMATCH file [0-9]* offset ([0-9]*):", read(out))
        vbad = bad.group(1) if bad and bad.group(1) else ""
        if vrc == 0:
            vst = "ok"
        else:
            vst = "failed"
            if vbad:
                k = vmsg.find("offset %s: " % vbad)
                m.set("failed", "verification: first bad offset %s: %s" % (
                    vbad, vmsg[k + len("offset %s: " % vbad):] if k >= 0 else vmsg))
            else:
                m.set("failed", "verification failed (sbcheck exit %d): %s" % (
                    vrc, vmsg[len("sbcheck: "):] if vmsg.startswith("sbcheck: ") else vmsg))
        m.verify = {"verify_bytes": fs, "verify_status": vst, "slots_pass": m.slots_pass,
                    "verify_first_bad_offset": int(vbad) if vbad else "", "verify_s": t1 - t0,
                    "tool": "sbcheck --bs %d %s --jobs %d --offset 0 --length %d --granule %d --seed %d MNT/data0" % (
                        pt["bs"], " ".join(vd), pt["numjobs"], fs, pt["granule"], pt["seed"]),
                    "message": vmsg}
    elif m.ok and pt["verify"] == "inline":
        m.verify = {"verify_bytes": sum(x["io_bytes"] for x in m.reps) if m.reps else None,
                    "verify_status": "ok", "verify_first_bad_offset": "", "verify_s": "",
                    "tool": "fio verify=pattern verify_pattern=%o (inline, in the timed repeats)", "message": ""}
    elif pt["verify"] == "inline" and m.status == "failed":
        m.verify = {"verify_status": "failed", "tool": "fio verify=pattern verify_pattern=%o (inline)"}


def timing(r, pt):
    """(time_based, runtime ms): direct reads loop over each job's region for at least
    min_seconds (every read reaches the daemon); buffered reads are single size-based
    passes (scaled up when shorter); --cost: size-based (windows of bytes)."""
    if pt["direct"] == 1 and not r.c.o.cost:
        rt = int(max(pt["runtime"], pt["min_seconds"]) * 1000)
        return (1 if rt > 0 else 0), rt
    return 0, 0


def measure(r, pt):
    """The point of the record measured once (this round): a Meas."""
    p = r.procs
    m = Meas(r.scale_of.get(pt["point"], 1))
    m.psize = pt["size"] * m.size_scale
    p.use_point(pt["index"], pt["path"])
    kthreads_file(p.cur.st)
    if not p.cur.dpid:
        write(os.path.join(p.cur.st, "pids"), " \n")
    if not p.point_setup(pt, m):
        return m
    vflag = "pattern" if pt["verify"] == "inline" else 0
    tb, rt = timing(r, pt)
    scalings = 0
    while True:
        fs = m.psize * pt["numjobs"]
        if not ensure_daemon(r, pt, m, fs):
            return m
        m.reps, m.costwin = [], []
        rep = one_repeat(r, pt, m, 1, tb, rt, vflag)
        if rep is not None and tb == 0 and not r.c.o.cost and pt["path"] != "nic" \
                and rep["span_s"] < pt["min_seconds"]:
            factor, note = scale_factor(r, pt, m, rep["span_s"], scalings)
            if factor > 1:
                scalings += 1
                m.size_scale *= factor
                m.psize *= factor
                say("  (a repeat took %ss, under min_seconds %s: size x%d = %d per job)"
                    % (jnum(rep["span_s"]), jnum(pt["min_seconds"]), m.size_scale, m.psize))
                p.stop_point()
                continue
            m.reason = note
        break
    if m.ok and r.c.o.cost and pt["path"] != "mem" and pt["round"] == 1:
        vm.net_cost(r, pt, m, fs)
    verification(r, pt, m, fs)
    if not m.ok:  # not measured again: its daemon stops now, the others stay for the next round
        p.stop_point()
    stats_take(r, m)
    if m.ok and m.stats:
        e = (m.stats.get("errors") or 0) + (m.stats.get("replies_failed") or 0)
        if e:
            m.reason = "daemon counted %s errors/failed replies%s" % (jnum(e), "; " + m.reason if m.reason else "")
    return m


def measure_limits(r):
    """This machine's ceilings, measured in this run: tmpfs read GB/s (fio psync 1m, one
    job, of a 512 MiB tmpfs file) and dd /dev/zero -> /dev/null (a memset ceiling)."""
    tmpfs = dd = None
    shm = "/dev/shm"
    if subprocess.run(["stat", "-f", "-c", "%T", shm], capture_output=True, text=True).stdout.strip() == "tmpfs":
        f = subprocess.run(["mktemp", shm + "/sb-limit.XXXXXX"], capture_output=True, text=True).stdout.strip()
        js = r.tmp + "/limit.json"
        if f and subprocess.run(["fio", "--name=tmpfs", "--filename=" + f, "--rw=read", "--bs=1m", "--size=512m",
                                 "--ioengine=psync", "--output-format=json", "--output=" + js],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            fio_json(js)
            try:
                tmpfs = read_fio(js)["jobs"][0]["read"]["bw_bytes"] / 1e9
            except (OSError, ValueError, KeyError, IndexError, TypeError):
                pass
        if f:
            os.unlink(f)
    out = subprocess.run(["dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=4096"], capture_output=True,
                         text=True, env=dict(os.environ, LC_ALL="C")).stderr
    for ln in out.splitlines():
        w = ln.split()
        if "copied" in ln:
            secs = next((w[i + 1] for i, x in enumerate(w[:-1]) if x.startswith("copied")), None)
            try:
                dd = int(w[0]) / float(secs) / 1e9
            except (ValueError, TypeError, ZeroDivisionError):
                pass
    return tmpfs, dd
