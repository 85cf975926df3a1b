"""The processes of a run: cgroups v2 (one set a point: daemon, server, fio, sampler),
the daemons and sbservers of a round mounted side by side, eviction where memory runs
short, the network namespace of tcp-veth, the kernel knobs a point turns (put back on
every exit path), and the cleanup that leaves no mount, process or cgroup."""
import glob
import os
import re
import signal
import subprocess
import sys
import time

NETNS = "sbrun"
GROUPS = ("daemon", "server", "fio", "sampler")


class Interrupted(BaseException):
    """SIGINT / SIGTERM: the run ends with 130 / 143 after its cleanup."""

    def __init__(self, rc):
        BaseException.__init__(self, rc)
        self.rc = rc


def say(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def running(pid):
    """True while PID runs (a zombie has ended: a detached daemon is PID 1's to reap)."""
    try:
        with open("/proc/%d/stat" % int(pid)) as f:
            line = f.read()
    except (OSError, ValueError, TypeError):
        return False
    return line.rsplit(") ", 1)[-1][:1] != "Z"


def alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, ValueError, TypeError):
        return False


def kill(pid, sig):
    try:
        if pid:
            os.kill(int(pid), sig)
    except (OSError, ValueError):
        pass


def mounted(mnt):
    try:
        with open("/proc/mounts") as f:
            return (" %s fuse" % mnt) in f.read()
    except OSError:
        return False


def tail1(path):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        return lines[-1] if lines else ""
    except OSError:
        return ""


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def quiet(argv, **kw):
    """ARGV run to its end, its output dropped; its exit status (127 when it cannot run)."""
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, **kw).returncode
    except OSError:
        return 127


def children_of(pid):
    out = []
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                if f.read().rsplit(") ", 1)[1].split()[1] == str(pid):
                    out.append(int(st.split("/")[2]))
        except (OSError, IndexError):
            pass
    return out


def descendants(pid):
    out = []
    for c in children_of(pid):
        out += [c] + descendants(c)
    return out


class Live:
    """A daemon mounted until its round's end: pid, its sbserver, source, file size."""

    def __init__(self, dpid, spid, src, fs):
        self.dpid, self.spid, self.src, self.fs = dpid, spid, src, fs


class Cur:
    """The current point: its state directory, mount point, cgroup set, log prefix."""
    idx = None
    st = mnt = logp = pcg = ""
    dpid = spid = None
    src = ""
    wrap_srv = wrap_cli = ()


class Procs:
    def __init__(self, c, tmp):
        self.c, self.tmp, self.top, self.b = c, tmp, c.top, c.build
        self.cg, self.cg_mounted, self.cpu_method = "", False, ""
        self.live, self.order, self.prep_slots = {}, [], {}
        self.knob_param = self.knob_orig = self.pms_orig = ""
        self.netns_up, self.fproc, self.remote, self.evicted = False, None, None, 0
        self.cur = Cur()
        self.cur.st, self.cur.mnt = tmp, os.path.join(tmp, "mnt")
        self._help = {}

    # ---------------------------------------------------------------- cgroups
    def spawn(self, group, argv, wait=False, **kw):
        """ARGV started in the current point's GROUP cgroup (the run's without a point; as
        it is without cgroups): the Popen, or its exit status with wait."""
        procs = os.path.join(self.cur.pcg or self.cg, group, "cgroup.procs") if self.cg else ""

        def join():
            if procs:
                fd = os.open(procs, os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
        kw.setdefault("stdin", subprocess.DEVNULL)
        try:
            p = subprocess.Popen(argv, preexec_fn=join, **kw)
        except (OSError, subprocess.SubprocessError) as e:
            say("bench/run: cannot start %s: %s" % (argv[0], e))
            return 127 if wait else None
        return p.wait() if wait else p

    def cg_sweep(self, root):
        """The groups of a run killed outright (no cleanup ran) removed, with a line each:
        only sbrun.PID groups whose PID is gone and that hold no process."""
        for g in glob.glob(os.path.join(root, "sbrun.*")):
            pid = g.rsplit(".", 1)[1]
            if not os.path.isdir(g) or not pid.isdigit() or alive(pid):
                continue
            if "populated 0" not in read(os.path.join(g, "cgroup.events")).splitlines():
                continue
            for n in sorted(glob.glob(g + "/*/*/")) + sorted(glob.glob(g + "/*/")):
                try:
                    os.rmdir(n)
                except OSError:
                    pass
            try:
                os.rmdir(g)
                say("bench/run: removed %s, left by a run that was killed outright" % g)
            except OSError:
                pass

    def cg_setup(self):
        root = next((ln.split()[1] for ln in read("/proc/mounts").splitlines()
                     if len(ln.split()) > 2 and ln.split()[2] == "cgroup2"), "")
        if not root:
            d = os.path.join(self.tmp, "cgroup2")
            os.makedirs(d, exist_ok=True)
            if quiet(["mount", "-t", "cgroup2", "cgroup2", d]) == 0:
                root, self.cg_mounted = d, True
        if not root:
            self.cpu_method = "ticks: no cgroup v2 here (none mounted; mounting one failed)"
            return
        self.cg_sweep(root)
        cg = os.path.join(root, "sbrun.%d" % os.getpid())
        try:
            os.mkdir(cg)
        except OSError:
            self.cpu_method = "ticks: cgroup v2 at %s is not writable" % root
            return
        self.cg = cg
        try:
            for n in GROUPS:
                os.mkdir(os.path.join(cg, n))
            ok = self.spawn("sampler", ["true"], wait=True) == 0 and os.access(cg + "/fio/cpu.stat", os.R_OK)
        except OSError:
            ok = False
        if not ok:
            self.cpu_method = "ticks: cannot move processes into cgroup v2 groups under %s" % root
            self.cg_teardown()
            return
        self.cpu_method = "cgroup2"

    @staticmethod
    def cg_rm(d):
        """The group removed; a process that has just exited leaves it a moment later (after
        cgroup.kill, up to 7 s more: fio's jobs killed in a FUSE read take a while)."""
        if not os.path.isdir(d):
            return True
        for i in range(1, 81):
            try:
                os.rmdir(d)
                return True
            except OSError:
                pass
            if i == 10 and read(d + "/cgroup.procs").strip() and os.path.exists(d + "/cgroup.kill"):
                try:
                    write(d + "/cgroup.kill", "1")  # only this run's own processes
                except OSError:
                    pass
            time.sleep(0.1)
        return False

    def cg_teardown(self):
        if not self.cg:
            return
        for d in sorted(glob.glob(self.cg + "/pt*/")) + [self.cg + "/"]:
            if not os.path.isdir(d):
                continue
            for n in GROUPS:
                self.cg_rm(d + n)
            if d != self.cg + "/":
                self.cg_rm(d.rstrip("/"))
        try:
            os.rmdir(self.cg)
        except OSError:
            say("bench/run: could not remove the cgroup %s" % self.cg)
        if self.cg_mounted:
            quiet(["umount", os.path.join(self.tmp, "cgroup2")])
        self.cg = ""

    # ---------------------------------------------------------------- the current point
    def use_point(self, idx, path):
        """The current point is IDX: its state directory, mount point, cgroup set, log
        prefix, and its running daemon if it has one."""
        c = self.cur
        c.idx, c.st = idx, os.path.join(self.tmp, "pt%d" % idx)
        c.mnt = os.path.join(c.st, "mnt")
        c.logp = os.path.join(self.c.out, "log", "%04d" % idx)
        lv = self.live.get(idx)
        c.dpid, c.spid, c.src = (lv.dpid, lv.spid, lv.src) if lv else (None, None, "")
        os.makedirs(c.mnt, exist_ok=True)
        c.pcg = ""
        if self.cg:
            c.pcg = os.path.join(self.cg, "pt%d" % idx)
            for n in ("",) + GROUPS:
                os.makedirs(os.path.join(c.pcg, n), exist_ok=True)
        write(os.path.join(c.st, "cg"), c.pcg + "\n")
        c.wrap_srv = c.wrap_cli = ()
        if path == "veth":
            c.wrap_srv = (self.top + "/scripts/netns", "exec", "srv", "--name", NETNS)
            c.wrap_cli = (self.top + "/scripts/netns", "exec", "cli", "--name", NETNS)

    def no_point(self):
        c = self.cur
        c.idx, c.st, c.pcg, c.dpid, c.spid = None, self.tmp, "", None, None

    def has_opt(self, program, opt):
        """The daemon's options this program knows (from its --help)."""
        if program not in self._help:
            try:
                r = subprocess.run([os.path.join(self.b, program), "--help"], capture_output=True,
                                   text=True, errors="replace")
                self._help[program] = r.stdout + r.stderr
            except OSError:
                self._help[program] = ""
        return re.search(r"--%s\b" % re.escape(opt), self._help[program]) is not None

    # ---------------------------------------------------------------- stopping
    def stop_daemon(self):
        c = self.cur
        if c.dpid:
            kill(c.dpid, signal.SIGTERM)
            for _ in range(200):
                if not running(c.dpid):
                    break
                time.sleep(0.05)
            if running(c.dpid):
                kill(c.dpid, signal.SIGKILL)
        if mounted(c.mnt):
            if quiet(["fusermount3", "-u", "-z", c.mnt]) != 0:
                quiet(["umount", "-l", c.mnt])
        c.dpid = None

    def stop_server(self):
        c = self.cur
        if isinstance(c.spid, str) and self.remote:  # tcp-remote: a name there
            self.remote.stop(c.spid)
            try:
                with open(c.st + "/rsrv.log", "rb") as f, open(c.logp + ".sbserver.log", "ab") as g:
                    g.write(f.read())
            except OSError:
                pass
            c.spid = None
        if c.spid is not None and not isinstance(c.spid, str):
            p = c.spid
            kill(p.pid, signal.SIGTERM)
            for _ in range(50):
                if p.poll() is not None:
                    break
                time.sleep(0.1)
            kill(p.pid, signal.SIGKILL) if p.poll() is None else None
            p.wait()
        c.spid = None

    def stop_fio(self):
        p = self.fproc
        if p is not None:
            every = descendants(p.pid)
            kill(p.pid, signal.SIGTERM)  # timeout passes it on to fio, which ends its jobs
            for _ in range(100):
                if p.poll() is not None:
                    break
                time.sleep(0.1)
            for q in [p.pid] + every:
                kill(q, signal.SIGKILL)
            p.wait()
        self.fproc = None

    def stop_point(self):
        """The current point's daemon and sbserver stopped."""
        self.stop_daemon()
        self.stop_server()
        self.live.pop(self.cur.idx, None)
        self.order = [i for i in self.order if i != self.cur.idx]

    def stop_points(self, path=""):
        """Every running daemon stopped (a round's start, the group's end, cleanup): SIGTERM to
        all first, so that they unmount and exit side by side; then each waited for (its
        zombie, not PID 1's reap)."""
        for i in self.order:
            kill(self.live[i].dpid, signal.SIGTERM)
            sp = self.live[i].spid
            if sp is not None and not isinstance(sp, str):
                kill(sp.pid, signal.SIGTERM)
        while self.order:
            self.use_point(self.order[0], path)
            self.stop_point()
        self.no_point()

    # ---------------------------------------------------------------- memory
    def mem_avail(self):
        for ln in read(os.environ.get("SB_MEMINFO") or "/proc/meminfo").splitlines():
            if ln.startswith("MemAvailable"):
                return int(ln.split()[1]) * 1024
        return 0

    def room_for(self, fs, path):
        """(True where no daemon runs or memory is not short, need, avail): the file in the
        daemon (mem) or in sbserver and the page cache, against a third of MemAvailable."""
        need = fs if path == "mem" else fs * 2
        if not self.order:
            return True, need, None
        avail = self.mem_avail()
        return avail >= need * 3, need, avail

    def make_room(self, fs, path):
        """Running daemons stopped, oldest first, while memory is short for the next one."""
        cur = self.cur.idx
        while True:
            ok, need, avail = self.room_for(fs, path)
            if ok:
                break
            self.use_point(self.order[0], path)
            say("    (memory: MemAvailable %d MiB, the next daemon needs %d MiB x 3: point %d's daemon "
                "stopped; it starts again at its measurement)" % (avail >> 20, need >> 20, self.cur.idx))
            self.stop_point()
            self.evicted += 1
        self.use_point(cur, path)

    # ---------------------------------------------------------------- knobs
    def restore_knobs(self):
        """The knobs points turned (a mode's kernel knob from --list, pipe-max-size) put back."""
        for attr, path in (("knob_orig", self.knob_param), ("pms_orig", "/proc/sys/fs/pipe-max-size")):
            v = getattr(self, attr)
            if v:
                try:
                    write(path, v + "\n")
                except OSError:
                    say("bench/run: could not put %s back to %s" % (path, v))
                setattr(self, attr, "")

    def netns_addr(self):
        """scripts/netns up once a run; the server's address, or (None, why)."""
        out = os.path.join(self.tmp, "netns.out")
        if not self.netns_up:
            with open(out, "w") as f:
                rc = subprocess.run([self.top + "/scripts/netns", "up", "--name", NETNS], stdin=subprocess.DEVNULL,
                                    stdout=f, stderr=subprocess.STDOUT).returncode
            if rc != 0:
                return None, "scripts/netns up failed: %s" % tail1(out)
            self.netns_up = True
        return tail1(out), ""

    # ---------------------------------------------------------------- cleanup
    def cleanup(self):
        """No fio, no daemon, no sbserver, no mount, no cgroup, no knob left turned."""
        self.stop_fio()
        c = self.cur
        if c.idx is not None:  # a signal during its start: a daemon not yet in the table
            if not c.dpid:
                pid = read(os.path.join(c.st, "pid")).strip()
                c.dpid = int(pid) if pid.isdigit() else None
            self.stop_point()
        self.stop_points()
        c.mnt, c.dpid, c.spid = os.path.join(self.tmp, "mnt"), None, None  # the probe's mount
        self.stop_daemon()
        for ln in read("/proc/mounts").splitlines():
            w = ln.split()
            if len(w) > 1 and w[1].startswith(self.tmp + "/"):
                quiet(["umount", "-l", w[1]])
        self.restore_knobs()
        self.cg_teardown()
        if self.remote:
            self.remote.close()
        if self.netns_up:
            quiet([self.top + "/scripts/netns", "down", "--name", NETNS])

    # ---------------------------------------------------------------- starting
    def start_server(self, pt, fs, m):
        """The daemon's source: mem, or the sbserver of a TCP path started (tcp-nic: the
        host's, bench/vm started it); None with m.status and m.reason where it failed."""
        c, path, b = self.cur, pt["path"], self.b
        pattern = ["--files", "1", "--file-size", str(fs), "--granule", str(pt["granule"]), "--seed", str(pt["seed"])]
        if path == "mem":
            return "mem"
        if path == "nic":  # sbserver on the host, outside this guest: its CPU is not counted here
            if os.environ.get("SB_VM_NET") != "1":
                return m.set("skipped", "tcp-nic: needs the guest's NIC (bench/run --vm with kernel/vm --net); "
                                        "not in such a guest")
            ports = read(os.path.join(os.environ.get("SB_VM_OUT", "/nonexistent"), ".nic-ports"))
            port = next((w[2] for w in (ln.split() for ln in ports.splitlines())
                         if len(w) > 2 and w[0] == pt["point"] and w[1] == str(fs)), "")
            if not port:
                return m.set("skipped", "tcp-nic: no sbserver on the host for this point and file size (bench/vm "
                                        "starts them; buffered points keep their size)")
            return "tcp://%s:%s" % (os.environ.get("SB_VM_HOST_ADDR", "10.0.2.2"), port)
        if path == "remote":  # on the server host, bound to the address we reach it by
            r, log = self.remote, os.path.join(c.st, "rsrv.log")
            write(log, "")
            c.spid = "srv%d" % c.idx
            r.start(c.spid, log, [r.dir + "/sbserver", "--bind", r.addr, "--port", "0"] + pattern)
            if not r.wait_log(log, "^sbserver: listening on ", 60):
                m.set("failed", "sbserver on %s did not start: %s" % (r.host, tail1(log)))
                return self.stop_server()
            port = re.findall(r"^sbserver: listening on [0-9.]*:([0-9]*)", read(log), re.M)
            return "tcp://%s:%s" % (r.addr, port[-1] if port else "")
        if not os.access(b + "/sbserver", os.X_OK):
            return m.set("skipped", "build/sbserver is not built")
        addr = "127.0.0.1"
        if path == "veth":
            if not os.access(self.top + "/scripts/netns", os.X_OK):
                return m.set("skipped", "scripts/netns is not there")
            addr, why = self.netns_addr()
            if addr is None:
                return m.set("skipped", why)
        pf, log = os.path.join(c.st, "port"), c.logp + ".sbserver.log"
        with open(log, "ab") as f:
            c.spid = self.spawn("server", list(c.wrap_srv) + [b + "/sbserver", "--bind", addr, "--port", "0",
                                                              "--port-file", pf] + pattern,
                                stdout=f, stderr=subprocess.STDOUT)
        for _ in range(300):
            if read(pf).strip() or c.spid is None or c.spid.poll() is not None:
                break
            time.sleep(0.1)
        if not read(pf).strip():
            m.set("failed", "sbserver did not start: %s" % tail1(log))
            return self.stop_server()
        return "tcp://%s:%s" % (addr, read(pf).strip())

    def daemon_argv(self, pt, fs, src):
        c, prog = self.cur, pt["program"]
        extra = []
        for axis, opt in (pt.get("own_axes") or {}).items():  # the mode's own, from its --list
            extra += ["--" + opt, str(pt[axis])]
        if self.has_opt(prog, "readahead"):
            extra += ["--readahead", str(pt["readahead"])]
        if self.has_opt(prog, "privilege"):
            extra += ["--privilege", pt["privilege"]]
        return list(c.wrap_cli) + [
            os.path.join(self.b, prog), c.mnt, "--mode", pt["mode"], "--source", src, "--threads",
            str(pt["threads"]), "--file-size", str(fs), "--files", "1", "--max-read", str(pt["max_read"]),
            "--granule", str(pt["granule"]), "--seed", str(pt["seed"])] + extra + \
            os.environ.get("SB_DAEMON_ARGS", "").split() + [
            "--stats-file", c.st + "/stats.json", "--stats-interval", "0", "--pid-file", c.st + "/pid",
            "--log", c.logp + ".daemon.log"]

    def start_point(self, pt, fs, m):
        """sbserver (TCP sources) and the daemon, mounted until the round's end; m.status and
        m.reason where that failed."""
        c = self.cur
        for f in ("stats.json", "pid", "port"):
            try:
                os.unlink(os.path.join(c.st, f))
            except OSError:
                pass
        src = self.start_server(pt, fs, m)
        if src is None:
            return
        c.src, log = src, c.logp + ".daemon.log"
        with open(log, "ab") as f:
            rc = self.spawn("daemon", self.daemon_argv(pt, fs, src), wait=True, stdout=f, stderr=subprocess.STDOUT)
        pidf = os.path.join(c.st, "pid")
        if rc != 0:
            # exit 3: the mode cannot run here (the kernel lacks it, or the source does not
            # fit it): skipped with the daemon's reason
            if rc == 3:
                first = [ln for ln in read(log).splitlines() if ln.startswith(pt["program"] + ": ")]
                m.set("skipped", first[0] if first else tail1(log))
            else:
                m.set("failed", "%s did not start (exit %d): %s" % (pt["program"], rc, tail1(log)))
            pid = read(pidf).strip()
            c.dpid = int(pid) if pid.isdigit() else None
            self.stop_daemon()
            self.stop_server()
            return
        for _ in range(100):  # the daemon's child writes --pid-file just after its parent returned
            if read(pidf).strip():
                break
            time.sleep(0.05)
        pid = read(pidf).strip()
        c.dpid = int(pid) if pid.isdigit() else None
        sp = c.spid.pid if hasattr(c.spid, "pid") else (self.remote.pid(c.spid) if c.spid else "")
        write(os.path.join(c.st, "pids"), "%s %s\n" % (c.dpid or "", sp or ""))
        for _ in range(100):
            if mounted(c.mnt):
                break
            time.sleep(0.1)
        if not mounted(c.mnt):
            m.set("failed", "%s did not mount" % pt["program"])
        self.live[c.idx] = Live(c.dpid, c.spid, c.src, fs)
        self.order.append(c.idx)

    def point_setup(self, pt, m):
        """What the point needs before its daemon starts; False with m.status skipped and
        m.reason where it cannot run."""
        if pt["unavailable"]:
            return m.set("skipped", pt["unavailable"]) or False
        if pt["privilege"] != "root" and not self.has_opt(pt["program"], "privilege"):
            return m.set("skipped", "privilege=%s: %s has no --privilege" % (pt["privilege"], pt["program"])) or False
        pms = "/proc/sys/fs/pipe-max-size"
        if pt["pipe_max_size"] != "":
            self.pms_orig = self.pms_orig or read(pms).strip()
            try:
                write(pms, "%s\n" % pt["pipe_max_size"])
            except OSError:
                return m.set("skipped", "pipe_max_size=%s: cannot write %s" % (pt["pipe_max_size"], pms)) or False
        # a kernel knob the mode's --list "needs" names (PATH = VALUE): set until the group's end
        knob, want = pt.get("knob") or "", pt.get("knob_value") or ""
        if knob and os.path.exists(knob):
            u = read(knob).strip()
            if u != want and u != "Y":
                self.knob_orig, self.knob_param = u, knob
                try:
                    write(knob, want + "\n")
                except OSError:
                    return m.set("skipped", "%s: cannot set %s to %s" % (pt["mode"], knob, want)) or False
        return True
