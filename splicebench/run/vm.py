"""--vm: the same matrix in a kernel under QEMU, handed to bench/vm (kernel/vm); and the
guest's side of --cost: the sbcost windows fio's jobs open and close (costmark), and the
network's own cost next to each TCP point (sbclient in windows of its own)."""
import os
import shutil
import sys

from .procs import quiet, say
from .vmboot import Boot

COSTMARK = """#!/bin/sh
case $1 in
begin) mkdir "$2.cw" 2>/dev/null && "%(sbmark)s" begin "$3" ;;
end) echo >>"$2.cn"; [ "$(wc -l <"$2.cn")" -ge "$4" ] && mkdir "$2.ce" 2>/dev/null && "%(sbmark)s" end ;;
esac
exit 0
"""


def hand_off(c):
    """--vm: the same matrix in KERNEL under QEMU (kernel/vm, one boot per GRO setting of the
    tcp-nic points); the guest runs bench/run MATRIX --native --out $SB_VM_OUT with the same
    --set/--set-tcg (the matrix travels in DIR/.matrix/); --cost: one vCPU, the plugin's
    windows joined to the points afterwards.  Exit status: the guest's bench/run's (the
    worst of its boots), 1 when the cost join fails, 130/143 on SIGINT/SIGTERM."""
    sys.exit(Boot(c).run())


def cost_setup(r):
    """--cost in the guest: sbmark on the guest's tmpfs (opening a window reads nothing from
    the 9p root) and costmark begin|end PREFIX LABEL NUMJOBS, called by fio's jobs: the first
    job to start opens the window, the last to end closes it (the marker is a toggle)."""
    r.sbmark = os.path.join(r.tmp, "sbmark")
    try:
        shutil.copy2(os.path.join(r.b, "sbmark"), r.sbmark)
        with open(os.path.join(r.tmp, "costmark"), "w") as f:
            f.write(COSTMARK % {"sbmark": r.sbmark})
        os.chmod(os.path.join(r.tmp, "costmark"), 0o755)
    except OSError:
        sys.stderr.write("bench/run: cannot copy %s/sbmark\n" % r.b)
        sys.exit(2)


def cost_edges(tmp, prefix, label, nj, pre, post):
    """fio's exec_prerun / exec_postrun with the cost window inside the timed window's edges."""
    for s in (".cw", ".cn", ".ce"):
        p = prefix + s
        shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.unlink(p))
    return ("%s && %s/costmark begin %s %s %d" % (pre, tmp, prefix, label, nj),
            "%s/costmark end %s %s %d && %s" % (tmp, prefix, label, nj, post))


def net_cost(r, pt, m, fs):
    """The network's own cost next to the mode's, in the same boot, from the same server at
    the same bs: a plain TCP reader (sbclient, one connection, no check inside the windows)
    takes as many bytes as the repeat's two windows did, each in a window of its own."""
    sbclient = os.path.join(r.b, "sbclient")
    if not os.access(sbclient, os.X_OK):
        return
    bs, nj, idx = pt["bs"], pt["numjobs"], pt["index"]
    src = r.procs.cur.src
    cli = list(r.procs.cur.wrap_cli) + [
        sbclient, "--connect", src[len("tcp://"):] if src.startswith("tcp://") else src, "--files", "1",
        "--file-size", str(fs), "--granule", str(pt["granule"]), "--seed", str(pt["seed"]), "--threads", "1",
        "--length", str(bs), "--no-check"]
    small = max(m.psize // 4 // bs * bs, bs)
    nb, ns = m.psize * nj // bs, small * nj // bs
    if quiet(cli + ["--requests", "4"]) == 0 and \
            quiet([r.sbmark, "run", "p%dns" % idx, "--"] + cli + ["--requests", str(ns)]) == 0 and \
            quiet([r.sbmark, "run", "p%dn" % idx, "--"] + cli + ["--requests", str(nb)]) == 0:
        m.netwin = [{"repeat": 1, "label": "p%dn" % idx, "label_small": "p%dns" % idx,
                     "io_bytes": nb * bs, "io_bytes_small": ns * bs}]
    else:
        say("bench/run: %s: the network's own cost (sbclient) failed; no baseline for this point" % pt["point"])
