"""The programs' --list: the one place bench/ learns modes, their own options (matrix
axes), the kernel knob a mode needs, and the daemon's counters with how each adds up
across measurements (daemons/common/counters.h: sum, max, last, ratio num/den).

The programs: $SB_PROGRAMS (names in the build directory, separated by spaces or commas)
or PROGRAMS; the build directory: --build, $SB_BUILD or the checkout's build/.  Nothing
here names a mode, an option or a counter.
"""
import json
import os
import re
import subprocess

PROGRAMS = ("splicefs", "libfuse-ref")  # the daemons whose --list a run asks


def programs(names=None):
    """The program names a run asks for their --list: NAMES, $SB_PROGRAMS, else PROGRAMS."""
    if names:
        return list(names)
    env = os.environ.get("SB_PROGRAMS", "").replace(",", " ").split()
    return env or list(PROGRAMS)


def build_dir(build=None):
    from .. import TOP
    return build or os.environ.get("SB_BUILD") or os.path.join(TOP, "build")


def help_modes(text):
    """Fallback for a program without --list: the names under 'modes:' in --help."""
    names, inside = [], False
    for line in text.splitlines():
        if line.strip() == "modes:":
            inside = True
            continue
        if inside:
            m = re.match(r"  ([a-z][a-z0-9-]*)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def parse_list(prog, text):
    """One program's --list JSON -> [(mode name, [option dicts], needs, splices)] (ValueError
    when bad); splices: the mode's replies may pass through a pipe (so it can fall back)."""
    j = json.loads(text)
    out = []
    for m in j["modes"]:
        opts = [o for o in (m.get("options") or []) if isinstance(o, dict) and o.get("name")]
        out.append((m["name"], opts, m.get("needs") or "", m.get("splices") is True))
    return out


def knob_of(needs):
    """A kernel knob a mode's --list "needs" names as 'PATH = VALUE' (a /sys or /proc file):
    (path, value) that bench/run sets around the mode's points, else ("", "")."""
    m = re.search(r"(/(?:sys|proc)/\S+)\s*=\s*(\S+)", needs or "")
    return (m.group(1), m.group(2)) if m else ("", "")


def _run(path, arg):
    try:
        r = subprocess.run([path, arg], capture_output=True, text=True, timeout=20)
        return r.returncode, r.stdout
    except (OSError, subprocess.TimeoutExpired):
        return -1, ""


def read_list(path, prog):
    """(the program's --list JSON with "file": PROG, or one made from --help's modes, or None)."""
    rc, out = _run(path, "--list")
    if rc == 0:
        try:
            parse_list(prog, out)
            return dict(json.loads(out), file=prog)
        except (ValueError, KeyError, TypeError):
            pass
    rc, out = _run(path, "--help")
    names = help_modes(out)
    if not names:
        return None
    return {"program": prog, "file": prog, "modes": [{"name": n} for n in names], "from_help": True}


def read_lists(build=None, names=None):
    """([--list JSON of each built program], {program: why its modes are unknown})."""
    lists, missing = [], {}
    for prog in programs(names):
        path = os.path.join(build_dir(build), prog)
        if not os.access(path, os.X_OK):
            missing[prog] = "build/%s is not built" % prog
            continue
        j = read_list(path, prog)
        if j is None:
            missing[prog] = "build/%s --list gave no modes" % prog
        else:
            lists.append(j)
    return lists, missing


class Lists:
    """What the programs' --list say, looked up by mode."""

    def __init__(self, lists, missing=None):
        self.lists, self.missing = lists, dict(missing or {})
        self.modes, self.options, self.needs, self.splices = {}, {}, {}, {}
        for j in lists:
            prog = j.get("file") or j.get("program")
            for m in j.get("modes") or []:
                if not isinstance(m, dict) or not m.get("name"):
                    continue
                n = m["name"]
                self.modes.setdefault(n, prog)
                self.options.setdefault(n, [o for o in (m.get("options") or [])
                                            if isinstance(o, dict) and o.get("name")])
                self.needs.setdefault(n, m.get("needs") or "")
                self.splices.setdefault(n, m.get("splices") is True if "splices" in m else None)

    def counters(self):
        return counters_of(self.lists)

    def knob(self, mode):
        return knob_of(self.needs.get(mode, ""))

    def prefixes(self):
        """Mode-name prefixes of the programs that are not built (their modes are accepted
        and skipped): a program 'NAME-REST' names its modes 'NAME-...'."""
        return ["%s-" % p.split("-", 1)[0] for p in self.missing if "-" in p]


def load(build=None, names=None):
    return Lists(*read_lists(build, names))


def counters_of(lists):
    """The counters of every list, in list order, once each: {name, combine, num, den, ...}."""
    out, seen = [], set()
    for j in lists or []:
        for c in (j.get("counters") or []) if isinstance(j, dict) else []:
            if isinstance(c, dict) and c.get("name") and c["name"] not in seen:
                seen.add(c["name"])
                out.append(c)
    return out


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def merge_stats(all_stats, counters):
    """A point's counters from its measurements' (one daemon a measurement): each as its
    --list "combine" says: sum, max, last, or a ratio recomputed from the sums of num and
    den.  A key --list does not name (a flag, a protocol name) is the last one's."""
    how = {c["name"]: c for c in counters}
    out = {}
    for s in all_stats:
        for k, v in (s or {}).items():
            c = how.get(k, {}).get("combine", "last")
            if c == "sum" and _is_num(v):
                out[k] = out.get(k, 0) + v
            elif c == "max" and _is_num(v):
                out[k] = max(out[k], v) if _is_num(out.get(k)) else v
            else:
                out[k] = v
    for k, c in how.items():
        if c.get("combine") == "ratio":
            num, den = out.get(c.get("num")), out.get(c.get("den"))
            if _is_num(num) and _is_num(den) and den:
                out[k] = num / den
    return out


def own_axes(options):
    """{matrix key: {"option": --name, "arg": spec, "default": str, "modes": [...]}} from the
    modes' --list options (an option's '-' is '_' in its key), in list order."""
    out = {}
    for mode, opts in options.items():
        for o in opts:
            k = o["name"].replace("-", "_")
            a = out.setdefault(k, {"option": o["name"], "arg": o.get("arg", ""),
                                   "default": str(o.get("default", "")), "modes": []})
            a["modes"].append(mode)
    return out
