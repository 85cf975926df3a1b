"""bench/run --vm on the host: kernel/vm boots KERNEL with the guest's bench/run, the
host-side data servers of tcp-nic points (as a NIC's DMA is outside the host CPU: under
--cost never counted; one sbserver a point, its port in DIR/.nic-ports), the guest's
output followed, and --cost's windows joined to the points afterwards."""
import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from ..costjoin import join, read_windows
from ..results import read_jsonl
from ..stats import set_csv
from .cli import die
from .matrix import Bad, expand
from .procs import Interrupted, kill, read, say

FIGS = ("bytes_moved_per_byte", "instr_per_byte_kernel", "instr_per_byte_user")


def _raise(signum, frame):
    raise Interrupted(130 if signum == signal.SIGINT else 143)


class Boot:
    def __init__(self, c):
        self.c, self.o, self.top, self.b = c, c.o, c.top, c.build
        self.out = os.path.abspath(c.out)
        self.servers, self.nic_wrap, self.vm = [], [], None
        if not os.path.isfile(self.o.vm_kernel):
            die("--vm: no kernel image '%s' (kernel/build prints one)" % self.o.vm_kernel)
        self.kvm = self.top + "/kernel/vm"
        if not os.access(self.kvm, os.X_OK):
            die("--vm: kernel/vm is not there yet (the QEMU runner)")
        self.vk = os.path.abspath(self.o.vm_kernel)
        self.help = subprocess.run([self.kvm, "--help"], capture_output=True, text=True).stdout
        self.help += subprocess.run([self.kvm, "--help"], capture_output=True, text=True).stderr
        try:  # the guest's points: with and without the --set-tcg lines (its accelerator decides)
            self.both = c.plan + expand(c.mfile, self.o.sets + self.o.tcg_sets, c.lists)[1]
        except Bad as e:
            die(str(e))
        self.setup()

    def inner(self):
        i = 'exec bench/run "$SB_VM_OUT/.matrix/%s" --native --out "$SB_VM_OUT"' % self.c.mname
        i += "".join(" --set " + shlex.quote(s) for s in self.o.sets)
        i += "".join(" --set-tcg " + shlex.quote(s) for s in self.o.tcg_sets)
        i += " --resume" if self.o.resume else ""
        i += " --no-baseline" if not self.o.baseline else ""
        i += " --variant " + shlex.quote(self.o.variant) if self.o.variant else ""
        return i + (" --cost" if self.o.cost else "")

    def setup(self):
        o, env = self.o, os.environ
        self.net, self.smp, self.cost = [], env.get("SB_VM_SMP") or str(len(os.sched_getaffinity(0))), []
        if any(p["source"] == "tcp-nic" for p in self.c.plan):
            if "--net" not in self.help:
                say("bench/run: kernel/vm has no --net yet: tcp-nic points will be skipped in the guest")
            elif env.get("SB_VM_NIC", "user") == "tap":  # the NIC's peer: this host's stack in a namespace
                self.net = ["--tap", "sbvn-tap/sbvn-t0", "--mtu", env.get("SB_VM_MTU", "1500")]
                self.nic_wrap = [self.top + "/scripts/netns", "exec", "tap", "--name", "sbvn"]
            else:
                self.net = ["--net"]
        # tcp-nic points with GRO on and off need a boot each: the guest leaves the other
        # setting's points unrecorded, the next boot resumes
        self.gros = ["on"]
        if self.net:
            self.gros = sorted({p["gro"] for p in self.both if p["source"] == "tcp-nic"}, reverse=True) or ["on"]
            if (len(self.gros) > 1 or self.gros[0] == "off") and "--gro" not in self.help:
                die("gro=off: kernel/vm has no --gro")
        if o.cost:
            for f in (self.b + "/sbmark", self.b + "/kernel/sbcost.so"):
                if not os.path.exists(f):
                    die("--cost: %s is not built (make)" % f)
            if "--cost" not in self.help:
                die("--cost: kernel/vm has no --cost")
            if "," in self.out:
                die("--cost: the --out path may not contain a comma (QEMU's -plugin options)")
            self.cost, self.smp = ["--cost", self.out + "/cost.jsonl"], "1"
        maxfs = max(p["size"] * p["numjobs"] for p in self.c.plan) // 1048576
        # guest memory: the largest file twice (memfd + sbserver) plus 2 GiB, at least 3 GiB
        self.mem = env.get("SB_VM_MEM") or str(max(2 * maxfs + 2048, 3072))

    def argv(self, gro, inner):
        return [self.kvm, "--out", self.out, "--timeout", os.environ.get("SB_VM_TIMEOUT", "14400"), "--mem",
                self.mem, "--smp", self.smp] + self.cost + self.net + (["--gro", gro] if self.net else []) + \
               ["--env", "SB_VARIANT=" + self.o.variant, self.vk, "--", "bash", "-c", inner]

    def dry(self):
        for g in self.gros:
            a = self.argv(g, self.inner())
            print("would run: %s '%s'" % (" ".join(a[:-1]).replace(self.top + "/kernel/vm", "kernel/vm", 1), a[-1]))
        for p in self.c.plan:
            print("  [%d/%d] %s  (%s)" % (p["index"], p["total"], p["point"],
                                          "?" if p.get("program") is None else p["program"]))
        return 0

    def aside(self, suffix):
        """The plugin truncates its file: an earlier boot's windows kept aside."""
        cj = self.out + "/cost.jsonl"
        if self.o.cost and os.path.isfile(cj) and os.path.getsize(cj) > 0:
            try:
                os.rename(cj, "%s.%d%s" % (cj, int(time.time()), suffix))
            except OSError:
                die("cannot keep %s" % cj)

    def start_servers(self):
        """One sbserver per tcp-nic point (its own file size and seed) on the host."""
        ports = self.out + "/.nic-ports"
        open(ports, "w").close()
        addr = "127.0.0.1"  # the guest reaches the host's 127.0.0.1 as 10.0.2.2 (user networking)
        if self.nic_wrap:
            r = subprocess.run([self.top + "/scripts/netns", "tap-up", "--name", "sbvn", "--mtu",
                                os.environ.get("SB_VM_MTU", "1500")], capture_output=True, text=True)
            if r.returncode != 0:
                die("SB_VM_NIC=tap: scripts/netns tap-up failed")
            addr = r.stdout.strip().splitlines()[-1]
        if not self.net or not os.access(self.b + "/sbserver", os.X_OK):
            return
        pts = sorted({(p["point"], p["size"] * p["numjobs"], p["seed"], p["granule"])
                      for p in self.both if p["source"] == "tcp-nic"})
        os.makedirs(self.out + "/log", exist_ok=True)
        for n, (key, fs, seed, gran) in enumerate(pts, 1):
            pf = "%s/log/nic-server-%d.port" % (self.out, n)
            if os.path.exists(pf):
                os.unlink(pf)
            with open("%s/log/nic-server-%d.log" % (self.out, n), "w") as log:
                self.servers.append(subprocess.Popen(self.nic_wrap + [
                    self.b + "/sbserver", "--bind", addr, "--port", "0", "--port-file", pf, "--files", "1",
                    "--file-size", str(fs), "--granule", str(gran), "--seed", str(seed)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
            for _ in range(300):
                if read(pf).strip():
                    break
                time.sleep(0.1)
            if read(pf).strip():
                with open(ports, "a") as f:
                    f.write("%s %d %s\n" % (key, fs, read(pf).strip()))
        if pts:
            say("bench/run: %d sbserver(s) on the host for the tcp-nic points" % len(pts))

    def stop_servers(self):
        for p in self.servers:
            kill(p.pid, signal.SIGTERM)
        for p in self.servers:
            p.wait()
        self.servers = []
        if self.nic_wrap:
            subprocess.run([self.top + "/scripts/netns", "tap-down", "--name", "sbvn"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def boot(self, gro, inner, vlog):
        """kernel/vm once, its output (through a file: a helper of kernel/vm may hold a pipe
        open after it is gone) followed on stderr; its exit status."""
        pos = os.path.getsize(vlog)
        with open(vlog, "ab") as f:
            self.vm = subprocess.Popen(self.argv(gro, inner), stdin=subprocess.DEVNULL, stdout=f,
                                       stderr=subprocess.STDOUT)
        with open(vlog, "rb") as f:
            f.seek(pos)
            while True:
                done = self.vm.poll() is not None
                chunk = f.read()
                if chunk:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.flush()
                if done:
                    break
                time.sleep(0.2)
        rc = self.vm.returncode
        self.vm = None
        return 128 - rc if rc < 0 else rc

    def run(self):
        if self.o.dry:
            return self.dry()
        try:
            os.makedirs(self.out + "/.matrix", exist_ok=True)
            shutil.copyfile(self.c.mfile, "%s/.matrix/%s" % (self.out, self.c.mname))
        except OSError:
            die("cannot create '%s'" % self.out)
        os.chdir(self.top)
        self.aside("")
        say("bench/run: %s in QEMU on %s, results in %s" % (self.c.mname, self.vk, self.out))
        signal.signal(signal.SIGINT, _raise)
        signal.signal(signal.SIGTERM, _raise)
        rc = 0
        try:
            self.start_servers()
            vlog = self.out + "/vm.log"
            open(vlog, "w").close()
            for n, g in enumerate(self.gros, 1):
                inner = self.inner()
                if n > 1:  # the next boot resumes what the first left (its other GRO setting's points)
                    inner += "" if " --resume" in inner else " --resume"
                    say("bench/run: boot %d: tcp-nic points with GRO %s" % (n, g))
                    self.aside(".%d" % n)
                brc = self.boot(g, inner, vlog)
                rc = max(rc, brc)  # the worst status wins (1 a point failed; 2 and above: the run itself)
                if brc >= 2:
                    break
        except Interrupted as e:
            if self.vm is not None:
                kill(self.vm.pid, signal.SIGTERM)
                self.vm.wait()
            self.stop_servers()
            say("bench/run: interrupted; rerun with --resume --out %s to go on" % self.out)
            return e.rc
        self.stop_servers()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        pj = self.out + "/points.jsonl"
        if self.o.cost and os.path.isfile(pj) and os.path.getsize(pj) > 0:
            rc = self.cost_join(rc)
        return rc

    def write(self, name, text):
        t = "%s/%s.tmp.%d" % (self.out, name, os.getpid())
        with open(t, "w") as f:
            f.write(text)
        os.replace(t, "%s/%s" % (self.out, name))

    def cost_join(self, rc):
        """The windows joined to the points: a "cost" object per ok point; points.jsonl,
        points.csv and meta.json rewritten atomically (oldest file first: a later window of
        a label wins)."""
        out = self.out
        cfiles = sorted(glob.glob(out + "/cost.jsonl.*"), key=os.path.getmtime)
        cfiles += [out + "/cost.jsonl"] if os.path.isfile(out + "/cost.jsonl") else []
        if not cfiles:
            say("bench/run: --cost: no %s/cost.jsonl from the plugin" % out)
            return rc or 1
        try:
            win = read_windows(cfiles)
            pts = read_jsonl(out + "/points.jsonl")
            joined, missing = join(pts, win)
            self.write("points.jsonl", "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in pts))
            self.write("points.csv", set_csv(out + "/points.jsonl"))
            line = "sbstat cost-join: %d points with cost, %d ok points without windows, %d windows read" % (
                joined, missing, len(win))
            self.write("cost-join.log", line + "\n")
            say(line)
            meta = json.loads(read(out + "/meta.json"))
            meta["cost"] = dict(meta.get("cost") or {}, files="".join(os.path.basename(f) + " " for f in cfiles),
                                windows_complete=sum(read(f).count('"complete":true') for f in cfiles),
                                points_with_cost=sum(1 for p in pts if p.get("cost")), determinism=determinism(pts))
            self.write("meta.json", json.dumps(meta, indent=1) + "\n")
        except (OSError, ValueError, SystemExit) as e:
            say("bench/run: --cost: joining the windows failed: %s" % e)
            return rc or 1
        for p in pts:
            if p.get("cost"):
                c = p["cost"]
                say("  cost %s: %s B moved/B, instr/B kernel %s user %s" % (
                    p["point"], c.get("bytes_moved_per_byte"), c.get("instr_per_byte_kernel"),
                    c.get("instr_per_byte_user")))
        return rc


def determinism(pts):
    """Measured in this run: the largest spread between one point's repeats, (max - min) /
    max in %, per figure; None with fewer than 2 repeats."""
    ws = [p["cost_windows"] for p in pts if len(p.get("cost_windows") or []) >= 2]
    d = {"what": "largest spread between the repeats of one point in this run, (max - min) / max in %",
         "points": len(ws)}
    for f in FIGS:
        spreads = []
        for w in ws:
            v = [x.get(f) for x in w if isinstance(x.get(f), (int, float)) and not isinstance(x.get(f), bool)]
            if len(v) >= 2 and max(v) > 0:
                spreads.append((max(v) - min(v)) / max(v) * 100)
        d[f] = max(spreads) if spreads else None
    return d
