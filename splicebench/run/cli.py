"""bench/run's command line: the options (one table: parsing and --help), the checks
of the input (bad input: one line on stderr, exit 2, nothing created), the plan.

Everything here runs before the run creates anything: the matrix expanded and
checked (with the --set-tcg lines too, so that a bad one fails before a VM boots),
--out checked, the VM hand-off (bench/vm) and --dry-run."""
import os
import re
import shutil
import stat
import sys
import time

from .. import TOP
from . import lists as L
from .matrix import Bad, expand, schedule

# (option, its argument or None, what it does); --opt VALUE and --opt=VALUE alike
OPTIONS = (
    ("--native", None, "run on the running kernel (default)"),
    ("--vm", "KERNEL", "run the same matrix inside KERNEL (a bzImage, e.g. from kernel/build) under "
                       "QEMU (kernel/vm), all modes on that kernel; results in DIR"),
    ("--out", "DIR", "results directory (default results/MATRIX-ENV-KERNEL-TIME); it must not hold "
                     "results already unless --resume is given"),
    ("--resume", None, "skip the points DIR/points.jsonl already holds (and the measurements "
                       "DIR/measurements.jsonl holds)"),
    ("--dry-run", None, "check the input, print the points and what would run; create nothing"),
    ("--variant", "NAME", "the kernel patch variant recorded in meta.json (default $SB_VARIANT, else "
                          "\"unknown\" where the kernel accepts FUSE_OUT_SPLICES, \"none\" where not)"),
    ("--no-baseline", None, "do not run scripts/iperf-baseline for the TCP paths"),
    ("--set", "KEY=VALUE", "override one line of the matrix (e.g. --set size=32m --set mode=copy), "
                           "recorded in meta.json (\"overrides\"); repeatable"),
    ("--set-tcg", "KEY=VALUE", "the same, only where the run is in a QEMU guest without KVM (TCG is "
                               "10-100x slower: a lighter matrix keeps the time bounded)"),
    ("--cost", None, "with --vm: a deterministic one-vCPU TCG boot with the sbcost plugin (kernel/vm "
                     "--cost DIR/cost.jsonl); each repeat's reads in a window, and those of a short fio "
                     "run of SIZE/4 before it in another; per point a \"cost\" object, cost_* columns"),
    ("--server-host", "[USER@]HOST", "the tcp-remote points' server host: sbserver (and iperf3 -s for "
                                     "the baseline) run there over one ssh connection (scripts/remote); "
                                     "both hosts recorded in meta.json (\"hosts\")"),
    ("--ssh-opt", "OPT", "an ssh_config option for every ssh/scp to HOST (-o OPT), repeatable"),
    ("--programs", "NAMES", "the daemons whose --list gives the modes (names in $SB_BUILD, default "
                            "build/; separated by spaces or commas; default $SB_PROGRAMS, else "
                            "splicefs libfuse-ref); the first one probes the kernel"),
)
REPEATED = {"--set": "sets", "--set-tcg": "tcg_sets", "--ssh-opt": "ssh_opts"}
NEEDS = {"--vm": "a kernel image", "--out": "a directory", "--variant": "a name",
         "--server-host": "[USER@]HOST", "--ssh-opt": "an ssh option (e.g. IdentityFile=KEY)",
         "--programs": "program names", "--set": "KEY=VALUE", "--set-tcg": "KEY=VALUE"}
ABOUT = """\
Run a benchmark matrix: one verified fio measurement per point, JSON + CSV results.

MATRIX is a file, or a name in bench/matrices/ (quick, full, net, scaling, seed).

Rounds: the points that differ only in mode, the modes' own options (from --list) and
replica form a group; a group is measured for the matrix's `rounds` rounds, each point
once a round, the order turning by one place each round.  A round's start phase starts,
for every point of the round, sbserver (tcp sources) and the daemon of the mode's
program with a seed derived from the point's name and granule 8, and warms it up; the
daemons stay mounted side by side until the round's end.  A measurement: one timed
repeat of fio WITHOUT verification (drop_caches first), then the verification pass:
build/sbcheck over every job's region, same mount, bs, direct flag and job count; the
daemon's counters read (SIGUSR1).  verify=inline: fio's verify_pattern=%o inside the
timed repeat instead (labelled opt-in).  The daemon, sbserver and fio each run in their
own cgroup v2 group (cpu.stat at the window's edges, taken by fio's jobs: bench/sample).
Exit status: 0 every point ok or skipped, 1 a point failed (or a result could not be
written), 2 bad input (one line, nothing created), 130/143 on SIGINT/SIGTERM; the last
line counts ok / failed / skipped.
Output: DIR/measurements.jsonl (one line a measurement: round, position),
DIR/points.jsonl (one line per point, after its group's last round, appended
atomically), DIR/points.csv, DIR/meta.json, DIR/baseline.jsonl, DIR/log/ (fio JSON and
daemon logs per point).  Fields: bench/README.md.  An interrupt (Ctrl-C, SIGTERM) leaves
no mount, no process and no partial line; --resume picks up.
Environment: SB_BUILD (the build directory), SB_PROGRAMS, SB_VARIANT, SB_DAEMON_ARGS
(extra daemon options: a test hook), SB_MEMINFO (MemAvailable read there: a test hook).
"""


def die(msg):
    sys.stderr.write("bench/run: %s\n" % msg)
    sys.exit(2)


def usage():
    out = ["usage: bench/run MATRIX [OPTION]...", "", ABOUT, "options:"]
    for opt, arg, what in OPTIONS:
        out.append("  %s%s" % (opt, " " + arg if arg else ""))
        words, line = what.split(), "      "
        for w in words:
            if len(line) + len(w) > 88:
                out.append(line.rstrip())
                line = "      "
            line += w + " "
        out.append(line.rstrip())
    out.append("  -h, --help\n      this text")
    return "\n".join(out) + "\n"


class Opts:
    def __init__(self):
        self.matrix = self.vm_kernel = self.out = self.server_host = ""
        self.mode_env, self.resume, self.dry, self.baseline, self.cost = "native", False, False, True, False
        self.variant = os.environ.get("SB_VARIANT", "")
        self.sets, self.tcg_sets, self.ssh_opts = [], [], []


def parse(argv):
    o, args = Opts(), list(argv)
    takes = {opt: arg for opt, arg, _ in OPTIONS}
    while args:
        a = args.pop(0)
        name, eq, val = a.partition("=")
        if a in ("-h", "--help"):
            sys.stdout.write(usage())
            sys.exit(0)
        if name in takes and takes[name]:
            if not eq:
                if not args:
                    die("%s needs %s" % (name, NEEDS[name]))
                val = args.pop(0)
            if name in REPEATED:
                getattr(o, REPEATED[name]).append(val)
            elif name == "--vm":
                o.vm_kernel, o.mode_env = val, "vm"
            elif name == "--programs":
                os.environ["SB_PROGRAMS"] = val
            else:
                setattr(o, {"--out": "out", "--variant": "variant",
                            "--server-host": "server_host"}[name], val)
        elif a in takes:
            if a == "--native":
                o.mode_env = "native"
            else:
                setattr(o, {"--resume": "resume", "--dry-run": "dry", "--cost": "cost"}.get(a, "baseline"),
                        a != "--no-baseline")
        elif a.startswith("-"):
            die("unknown option '%s' (see --help)" % a)
        elif o.matrix:
            die("one matrix only ('%s' and '%s')" % (o.matrix, a))
        else:
            o.matrix = a
    return o


def matrix_file(m):
    if not m:
        die("no matrix given (usage: bench/run MATRIX [--native|--vm KERNEL] [--out DIR] [--resume] [--dry-run])")
    if os.path.isfile(m):
        return os.path.join(os.path.realpath(os.path.dirname(m) or "."), os.path.basename(m))
    mdir = os.path.join(TOP, "bench", "matrices")
    if "/" not in m and os.path.isfile(os.path.join(mdir, m)):
        return os.path.join(mdir, m)
    die("unknown matrix '%s' (a file, or one of: %s)" % (m, " ".join(sorted(os.listdir(mdir)))))


def check_out(d, resume):
    """--out: writable, created later (nothing is created on bad input)."""
    if os.path.exists(d):
        if not os.path.isdir(d):
            die("--out '%s' is not a directory" % d)
        if not os.access(d, os.W_OK):
            die("--out '%s' is not writable" % d)
        pj = os.path.join(d, "points.jsonl")
        if not resume and os.path.isfile(pj) and os.path.getsize(pj) > 0:
            die("--out '%s' already holds results (use --resume, or another --out)" % d)
        return
    p = os.path.dirname(d) or "."
    while not os.path.exists(p):
        p = os.path.dirname(p) or "."
    if not (os.path.isdir(p) and os.access(p, os.W_OK)):
        die("--out '%s' cannot be created ('%s' is not a writable directory)" % (d, p))


def plan_of(o, mfile, build):
    """(the point records, the schedule), checked with the --set-tcg lines as well."""
    ls = L.load(build)
    if not ls.modes:
        die("%s: no modes to run" % "; ".join(ls.missing.values()))
    try:
        expand(mfile, o.sets + o.tcg_sets, ls)
        _, plan = expand(mfile, o.sets, ls)
    except Bad as e:
        die(str(e))
    return ls, plan, schedule(plan)


class Config:
    """The checked input: options, matrix, plan, environment, results directory."""


def check(argv):
    o = parse(argv)
    c = Config()
    c.o, c.top = o, TOP
    c.build = os.environ.get("SB_BUILD") or os.path.join(TOP, "build")
    c.mfile = matrix_file(o.matrix)
    c.mname = os.path.basename(c.mfile)
    if re.search(r"[^A-Za-z0-9._+-]", o.variant):
        die("--variant '%s': letters, digits and ._+- only" % o.variant)
    c.kernel = os.uname().release
    env = os.environ.get("SB_VM_ACCEL", "native")
    c.env = "vm" if o.mode_env == "vm" else (env if env in ("native", "kvm", "tcg") else "unknown")
    c.sets = o.sets + (o.tcg_sets if c.env == "tcg" else [])
    if o.cost and o.mode_env == "native" and os.environ.get("SB_VM_COST") != "1":
        die("--cost needs --vm KERNEL (the sbcost plugin counts in a QEMU TCG guest)")
    o_sets = o.sets
    o.sets = c.sets
    c.lists, c.plan, c.sched = plan_of(o, c.mfile, c.build)
    o.sets = o_sets
    if any(p["path"] == "remote" for p in c.plan):
        if not o.server_host:
            die("source tcp-remote needs --server-host [USER@]HOST (the host sbserver runs on)")
        if o.mode_env != "native":
            die("--server-host: native runs only (not with --vm)")
    if o.ssh_opts and not o.server_host:
        die("--ssh-opt without --server-host")
    c.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    if not o.out and o.mode_env == "vm":
        o.out = os.path.join(TOP, "results", "%s-vm-%s-%s" % (
            c.mname, os.path.basename(os.path.dirname(o.vm_kernel)), c.stamp))
    c.out = o.out or os.path.join(TOP, "results", "%s-%s-%s-%s" % (c.mname, c.env, c.kernel, c.stamp))
    if o.resume and not os.path.isdir(c.out):
        die("--resume: '%s' does not exist" % c.out)
    check_out(c.out, o.resume)
    return c


def native_checks(c):
    if os.geteuid() != 0:
        die("needs root (drop_caches, FUSE mounts, cgroups)")
    for cmd in ("fio", "fusermount3"):
        if not shutil.which(cmd):
            die("needs '%s' (scripts/deps)" % cmd)
    c.progs = L.programs()
    c.prober = c.progs[0]
    for f in (c.prober, "sbcheck"):
        if not os.access(os.path.join(c.build, f), os.X_OK):
            die("%s/%s is not built (make)" % (c.build, f))
    try:
        if not stat.S_ISCHR(os.stat("/dev/fuse").st_mode):
            raise OSError
    except OSError:
        die("no /dev/fuse")
    if c.o.cost and not os.access(os.path.join(c.build, "sbmark"), os.X_OK):
        die("--cost: %s/sbmark is not built (make)" % c.build)


def dry_run(c):
    print("bench/run: %s natively on %s (%s), results would go to %s" % (c.mname, c.kernel, c.env, c.out))
    for p in c.plan:
        print("  [%d/%d] %s  (%s, size %d/job, %d rounds (group %s), verify %s%s)" % (
            p["index"], p["total"], p["point"], p["program"] or "no program", p["size"], p["rounds"],
            p["group"], p["verify"], "; skipped: " + p["unavailable"] if p["unavailable"] else ""))
    sys.exit(0)
