#!/usr/bin/env python3
"""The runner's bookkeeping for bench/run (Python 3 standard library only); the work is
done in splicebench/run/ (lists, matrix, repeat, point, meta), this is its command line.

    python3 -m splicebench plan modes BUILD_DIR   the valid modes: JSON {mode: program}, from the
                                             programs' --list (notes on stderr)
    python3 -m splicebench plan lists BUILD_DIR   the programs' --list, one JSON array (for
                                             meta.json and `point`)
    python3 -m splicebench plan knob BUILD_DIR MODE   the kernel knob MODE's --list needs
    python3 -m splicebench plan expand MATRIX --build DIR [--schedule] [KEY=VALUE...]
                                             validate a matrix (+ overrides); one JSON record
                                             per point on stdout (named fields; a mode's own
                                             axes from its --list options); --schedule: one
                                             per measurement instead, in run order (group by
                                             group, round by round, the order turning)
    python3 -m splicebench plan repeat --fio F --prefix P [--hz N] [--cores N] [--softirq-in-parts 0|1]
                                             one timed repeat -> JSON line (GB/s over the
                                             jobs' span, CPU parts over the window)
    python3 -m splicebench plan point RECORD.json MEASUREMENTS.jsonl RUN.json [LISTS.json]
                                             a point from its measurements (one per round)
                                             -> JSON line; its counters combined as LISTS.json
                                             (`plan lists`) says
    python3 -m splicebench plan meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]
                                             meta.json (the run's state, the plan's modes,
                                             lists=FILE: the programs' --list, this machine's
                                             versions, CPU, memory, git)

The programs asked: $SB_PROGRAMS (names in BUILD_DIR), else splicefs and libfuse-ref.
Fields: bench/README.md.  Errors: one line on stderr, exit status 2.
"""
import json
import os
import sys

from .results import read_jsonl
from .run import lists as L
from .run.lists import Lists, knob_of, merge_stats, own_axes, parse_list  # noqa: F401 (tests)
from .run.matrix import Bad, expand, schedule  # noqa: F401
from .run.meta import meta_of
from .run.point import aggregate, latest
from .run.repeat import RepeatError, from_files


def die(msg):
    sys.stderr.write("splicebench plan: %s\n" % msg)
    sys.exit(2)


def cmd_modes(args):
    if len(args) != 1:
        die("usage: python3 -m splicebench plan modes BUILD_DIR")
    ls = L.load(args[0])
    for p, why in ls.missing.items():
        sys.stderr.write("splicebench plan: %s: its modes are unknown here\n" % why)
    print(json.dumps(ls.modes, sort_keys=True))


def cmd_lists(args):
    if len(args) != 1:
        die("usage: python3 -m splicebench plan lists BUILD_DIR")
    print(json.dumps(L.read_lists(args[0])[0]))


def cmd_knob(args):
    """knob BUILD_DIR MODE: the kernel knob MODE's --list "needs" names, as 'PATH VALUE'
    (nothing where it names none), for bench/profile."""
    if len(args) != 2:
        die("usage: python3 -m splicebench plan knob BUILD_DIR MODE")
    path, value = L.load(args[0]).knob(args[1])
    if path:
        print(path, value)


def cmd_expand(args):
    if len(args) < 3 or args[1] != "--build":
        die("usage: python3 -m splicebench plan expand MATRIX --build DIR [--schedule] [KEY=VALUE...]")
    sched = "--schedule" in args[3:]
    ls = L.load(args[2])
    if not ls.modes:
        die("%s: no modes to run" % "; ".join(ls.missing.values()))
    try:
        _, pts = expand(args[0], [a for a in args[3:] if a != "--schedule"], ls)
    except Bad as e:
        die(str(e))
    for p in (schedule(pts) if sched else pts):
        print(json.dumps(p, sort_keys=True))


def kv_opts(args, names, flags=()):
    o = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and a[2:] in flags:
            o[a[2:]] = True
            i += 1
        elif a.startswith("--") and a[2:] in names and i + 1 < len(args):
            o[a[2:]] = args[i + 1]
            i += 2
        else:
            die("unexpected argument '%s'" % a)
    return o


def cmd_repeat(args):
    o = kv_opts(args, ("fio", "prefix", "hz", "cores", "softirq-in-parts"))
    try:
        rec = from_files(o["fio"], o["prefix"], float(o.get("hz", 100)),
                         int(o.get("cores", os.cpu_count() or 1)), o.get("softirq-in-parts", "0") == "1")
    except (RepeatError, KeyError) as e:
        die(str(e))
    print(json.dumps(rec, sort_keys=True))


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read %s: %s" % (path, e))


def cmd_point(args):
    if len(args) not in (3, 4):
        die("usage: python3 -m splicebench plan point RECORD.json MEASUREMENTS.jsonl RUN.json [LISTS.json]")
    rec, run = read_json(args[0]), read_json(args[2])
    counters = L.counters_of(read_json(args[3])) if len(args) == 4 else []
    ms = latest(m for m in read_jsonl(args[1]) if m.get("point") == rec["point"])
    print(json.dumps(aggregate(rec, run, ms, counters), sort_keys=True))


def cmd_meta(args):
    """meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]"""
    if len(args) < 3:
        die("usage: python3 -m splicebench plan meta PLAN.jsonl MATRIX TOP KEY=VALUE... [-- OVERRIDE...]")
    rest = args[3:]
    over = rest[rest.index("--") + 1:] if "--" in rest else []
    kv = rest[:rest.index("--")] if "--" in rest else rest
    state = {}
    for a in kv:
        k, sep, v = a.partition("=")
        if not sep:
            die("meta: '%s' is not KEY=VALUE" % a)
        state[k] = v
    lists = read_json(state["lists"]) if state.get("lists") else []
    print(json.dumps(meta_of(state, read_jsonl(args[0]), args[1], args[2], over, lists), indent=1))


def main(argv=None):
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        sys.exit(0 if argv else 2)
    cmds = {"modes": cmd_modes, "lists": cmd_lists, "expand": cmd_expand, "repeat": cmd_repeat,
            "point": cmd_point, "meta": cmd_meta, "knob": cmd_knob}
    if argv[0] not in cmds:
        die("unknown subcommand '%s' (see --help)" % argv[0])
    cmds[argv[0]](argv[1:])
