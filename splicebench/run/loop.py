"""bench/run: the run, one process.  Group by group, round by round: each round's start
phase starts and warms up the daemons of every point of the round side by side, then
the round's measurements follow one another (measure.py), the daemons stop at the
round's end.  Each measurement is a line of DIR/measurements.jsonl; after a group's last
round its points go to DIR/points.jsonl (appended atomically), DIR/points.csv; meta.json
at the start and the end; --resume skips what is done.  Exit status: 0 every point ok or
skipped, 1 a point failed or a result could not be written, 2 bad input, 130/143 on
SIGINT/SIGTERM, after a cleanup that leaves no mount, process, cgroup or torn line."""
import fcntl
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile

# every module of the run imported now: a checkout edited during a long run changes nothing
from . import cli, measure, vm
from .meta import meta_of
from .procs import Interrupted, Procs, mounted, read, say
from .remote import open_host
from .rounds import run_rounds, utc
from ..results import read_jsonl
from ..stats import set_csv


def _raise(signum, frame):
    raise Interrupted(130 if signum == signal.SIGINT else 143)


class Runner:
    def __init__(self, c):
        self.c, self.top, self.b, self.out = c, c.top, c.build, c.out
        self.tmp, self.procs, self.remote, self.lock = None, None, None, None
        self.baseline = c.o.baseline
        self.hz = float(os.sysconf("SC_CLK_TCK") or 100)
        self.cores = len(os.sched_getaffinity(0))
        self.scale_of, self.done_points, self.done_meas, self.gave_up = {}, set(), set(), {}
        self.deferred = 0

    # ---------------------------------------------------------------- writing
    def write_fail(self, what):
        """A result could not be written (a full disk, ...): one line, exit 1."""
        why = ""
        try:
            s = os.statvfs(self.out)
            if s.f_bavail * s.f_frsize < 1024 * 1024:
                m = os.path.realpath(self.out)
                while not os.path.ismount(m):
                    m = os.path.dirname(m)
                why = " (no space left on %s)" % m
        except OSError:
            pass
        say("bench/run: cannot write %s%s; the points done so far are intact in %s/points.jsonl: free space, "
            "then rerun with --resume --out %s" % (what, why, self.out, self.out))
        sys.exit(1)

    def tmp_of(self, path):
        return "%s.tmp.%d" % (path, os.getpid())

    def replace(self, path, text, append=False):
        """PATH written whole (with APPEND: its content and one more line), atomically: a new
        file renamed over the old one, never a torn line."""
        t = self.tmp_of(path)
        try:
            old = read(path) if append else ""
            with open(t, "w") as f:
                f.write(old + text)
            os.replace(t, path)
        except OSError:
            try:
                os.unlink(t)
            except OSError:
                pass
            self.write_fail(path)

    def write_csv(self):
        self.replace(self.out + "/points.csv", set_csv(self.out + "/points.jsonl", self.c.lists.lists))

    def write_meta(self, end, complete):
        st = dict(self.state, end=end, complete="true" if complete else "false")
        try:
            m = meta_of(st, self.c.plan, self.c.mfile, self.top, self.c.sets, self.c.lists.lists)
            m["hosts"] = self.hosts
            text = json.dumps(m, indent=1) + "\n"
        except (OSError, ValueError, KeyError, TypeError) as e:
            say("bench/run: meta.json: %s" % e)
            self.write_fail(self.out + "/meta.json")
        self.replace(self.out + "/meta.json", text)

    # ---------------------------------------------------------------- the run
    def go(self):
        try:
            self.tmp = tempfile.mkdtemp(prefix="sbrun.", dir=os.environ.get("TMPDIR") or "/tmp")
        except OSError:
            cli.die("cannot make a temporary directory")
        self.procs = Procs(self.c, self.tmp)
        os.makedirs(self.tmp + "/mnt")
        self.interrupted, rc = False, 1
        signal.signal(signal.SIGINT, _raise)
        signal.signal(signal.SIGTERM, _raise)
        try:
            self.setup()
            self.rounds()
            rc = self.finish()
        except Interrupted as e:
            self.interrupted, rc = True, e.rc
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        finally:
            for s in (signal.SIGINT, signal.SIGTERM):  # the cleanup runs to its end
                signal.signal(s, lambda *a: None)
            self.cleanup()
        if self.interrupted:
            say("bench/run: interrupted; rerun with --resume --out %s to go on" % self.out)
        return rc

    def cleanup(self):
        self.procs.cleanup()
        for f in ("points.jsonl", "points.csv", "meta.json", "measurements.jsonl"):
            try:  # only this run's own temporary files (another run may be writing DIR)
                os.unlink(self.tmp_of(os.path.join(self.out, f)))
            except OSError:
                pass
        subprocess.run(["rm", "-rf", self.tmp])

    def take_lock(self):
        """The lock first: a second run on the same DIR changes nothing there."""
        out, o = self.out, self.c.o
        try:
            os.makedirs(out, exist_ok=True)
        except OSError:
            cli.die("cannot create '%s'" % out)
        try:
            self.lock = open(out + "/.lock", "a")
        except OSError:
            cli.die("cannot write '%s/.lock'" % out)
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            cli.die("another bench/run is writing '%s' (it holds %s/.lock); wait for it or use another --out"
                    % (out, out))
        pj = out + "/points.jsonl"
        if not o.resume and os.path.isfile(pj) and os.path.getsize(pj) > 0:
            cli.die("--out '%s' already holds results (use --resume, or another --out)" % out)
        try:
            os.makedirs(out + "/log", exist_ok=True)
        except OSError:
            cli.die("cannot create '%s/log'" % out)
        try:
            if not o.resume and os.path.exists(pj):
                os.unlink(pj)
            open(pj, "a").close()
        except OSError:
            cli.die("cannot write '%s'" % pj)

    def probe(self):
        """FUSE_OUT_SPLICES and the splice reply the kernel speaks (v2's or v3's ioctl):
        the first program's --probe; the variant's default from them."""
        p = self.procs
        with open(self.tmp + "/probe", "wb") as f:
            rc = subprocess.run([os.path.join(self.b, self.c.prober), self.tmp + "/mnt", "--probe"],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT).returncode
        lines = read(self.tmp + "/probe").splitlines() or [""]
        line = lines[0]
        self.splice_reply = next((ln.split(":", 1)[1].strip() for ln in lines
                                  if ln.startswith("splice reply:")), "")
        if mounted(self.tmp + "/mnt"):
            p.stop_daemon()
        splices = "yes" if rc == 0 else "no"
        if not line.startswith("FUSE_OUT_SPLICES:"):
            splices = "unknown"
        replies = self.splice_reply not in ("", "none")
        variant = self.c.o.variant or (self.splice_reply if replies else "unknown" if splices == "yes" else "none")
        return splices, line, variant

    def machine_state(self):
        """run_id, start and the limits: a resumed set's own, else measured now."""
        c, mj = self.c, self.out + "/meta.json"
        try:
            old = json.loads(read(mj)) if self.c.o.resume else None
        except ValueError:
            old = None
        if old and old.get("run_id"):
            if old.get("kernel") != c.kernel:
                cli.die("--resume: '%s' was measured on kernel %s, this is %s" % (self.out, old.get("kernel"), c.kernel))
            lim = old.get("limits") or {}
            return old["run_id"], old.get("start", ""), lim.get("tmpfs_read_gbps"), lim.get("dd_zero_null_gbps")
        start = utc()
        if c.o.cost:  # minutes under the plugin, and time means nothing there
            return "%s-%s-%s" % (c.stamp, c.env, c.kernel), start, None, None
        say("bench/run: measuring this machine's limits (tmpfs read, dd)")
        t, d = measure.measure_limits(self)
        return "%s-%s-%s" % (c.stamp, c.env, c.kernel), start, t, d

    def hosts_of(self):
        """Both hosts (scripts/hostinfo): kernel, CPU, the NIC towards the server; the server
        only with --server-host."""
        args = [self.top + "/scripts/hostinfo"] + (["--to", self.remote.addr] if self.remote else []) + ["--json"]
        try:
            client = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
        except (OSError, ValueError):
            client = None
        h = {"client": client}
        server = self.remote.hostinfo() if self.remote else None
        if server is not None:
            h["server"] = server
        return h

    def softirq_in_parts(self):
        """1 where softirq time is its own part (IRQ_TIME_ACCOUNTING: no task is charged)."""
        try:
            with gzip.open("/proc/config.gz", "rt") as f:
                cfg = f.read()
        except OSError:
            cfg = read("/boot/config-%s" % self.c.kernel)
        return 1 if "\nCONFIG_IRQ_TIME_ACCOUNTING=y" in "\n" + cfg else 0

    def setup(self):
        c, p = self.c, self.procs
        if c.o.cost:
            vm.cost_setup(self)
            self.baseline = False  # time means nothing under icount: no iperf3 baseline
        if c.o.server_host:
            self.remote = p.remote = open_host(c, self.b, self.baseline)
        self.take_lock()
        p.cg_setup()
        with open(self.tmp + "/cg", "w") as f:
            f.write(p.cg + "\n")
        self.sirq_in = self.softirq_in_parts()
        splices, line, variant = self.probe()
        self.splices, self.variant = splices, variant
        self.hosts = self.hosts_of()
        run_id, start, tmpfs, dd = self.machine_state()
        self.state = {"run_id": run_id, "kernel": c.kernel, "fuse_out_splices": splices, "probe": line,
                      "splice_reply": self.splice_reply,
                      "variant": variant, "env": c.env, "start": start, "tmpfs_read_gbps": tmpfs,
                      "dd_zero_null_gbps": dd, "clk_tck": "%d" % self.hz, "baseline": "",
                      "daemon_args": os.environ.get("SB_DAEMON_ARGS", ""), "cost": "1" if c.o.cost else "0",
                      "cpu_method": p.cpu_method, "cpu_softirq_in_parts": str(self.sirq_in)}
        self.state["baseline"] = self.baselines()
        self.write_meta("", False)

    def baselines(self):
        """scripts/iperf-baseline for every TCP path the matrix uses; the note for meta.json."""
        paths = sorted({p["path"] for p in self.c.plan if p["path"] not in ("mem", "nic")})
        note = "paths: %s" % (" ".join(paths) + " " if paths else "none")
        if self.c.o.cost and paths:
            note += "; no baseline (--cost)"
        if not self.baseline:
            return note
        bl = self.out + "/baseline.jsonl"
        for path in paths:
            if any(x.get("path") == path and x.get("streams") == 1 for x in read_jsonl(bl)):
                continue
            ib = self.top + "/scripts/iperf-baseline"
            if not os.access(ib, os.X_OK) or not subprocess.run(["sh", "-c", "command -v iperf3"],
                                                                stdout=subprocess.DEVNULL).returncode == 0:
                note += "; %s: no baseline (scripts/iperf-baseline or iperf3 missing)" % path
                continue
            say("bench/run: iperf3 baseline of the %s path" % path)
            rargs = ["--server-host", self.c.o.server_host] if path == "remote" else []
            with open(self.tmp + "/baseline.err", "wb") as err:
                rc = subprocess.run([ib, "--path", path] + rargs + ["--streams", "1", "--zerocopy", "0",
                                                                    "--seconds", "2", "--out", self.tmp + "/baseline.jsonl"],
                                    stdin=subprocess.DEVNULL, stderr=err).returncode
            if rc == 0:
                try:
                    with open(bl, "a") as f:
                        f.write(read(self.tmp + "/baseline.jsonl"))
                except OSError:
                    self.write_fail(bl)
            else:
                last = (read(self.tmp + "/baseline.err").splitlines() or [""])[-1].replace('"', "")
                note += "; %s: baseline failed: %s" % (path, last)
        return note

    def baseline_of(self, path):
        """GB/s of one iperf3 stream on PATH, measured in this run, or ""."""
        if path == "mem":
            return ""
        v = [x.get("gbytes_per_s") for x in read_jsonl(self.out + "/baseline.jsonl")
             if x.get("path") == path and x.get("streams") == 1 and not x.get("zerocopy")]
        return v[-1] if v else ""

    def rounds(self):
        run_rounds(self)

    def finish(self):
        self.write_csv()
        self.write_meta(utc(), self.deferred == 0)
        pts = read_jsonl(self.out + "/points.jsonl")
        n = {s: sum(1 for p in pts if p.get("status") == s) for s in ("ok", "failed", "skipped")}
        say("bench/run: done: %d ok, %d failed, %d skipped%s; %s/points.csv" % (
            n["ok"], n["failed"], n["skipped"],
            ", %d left for a boot with the other GRO setting" % self.deferred if self.deferred else "", self.out))
        return 0 if n["failed"] == 0 else 1


def main(argv=None):
    c = cli.check(sys.argv[1:] if argv is None else argv)
    if c.o.mode_env == "vm":
        vm.hand_off(c)
    cli.native_checks(c)
    if c.o.dry:
        cli.dry_run(c)
    return Runner(c).go()
