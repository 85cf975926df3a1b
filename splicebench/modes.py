"""The reply modes of a result set, from the programs' --list that the set's meta.json
carries (never a build's: reading a set runs no program): which program serves a mode, its
own options (its axes), whether its replies may pass through a pipe, its counters; the
modes' own axes of every set read so far (MODE_OWN_AXES, AXES: they grow in place)."""
import json
import os

from .columns import BASE_AXES, CSV_COLUMNS, bs_label, copied_share, fallback_reasons, fell_back  # noqa: F401

# ---------------------------------------------------------------- modes

_LISTS = []  # the --list JSON of the programs of every set read so far (use_lists)
_OPTIONS = {}  # mode -> its option names (from a set's --list)
_SPLICES = {}  # mode -> its --list "splices" (its replies may pass through a pipe)
_SIZE_AXES = {"bs", "pipe_max_size"}  # axes whose values are sizes: the base ones, and every
#                                     own option whose --list arg is SIZE (use_lists adds them)


# The --list of splicefs and libfuse-ref as they were when meta.json began to carry its
# own (committed data, never a build's output at read time): a set made before is read
# with it, as it was read with the build's then.
_LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run", "lists-legacy.json")
_LEGACY_LISTS = None


def _legacy_lists():
    global _LEGACY_LISTS
    if _LEGACY_LISTS is None:
        try:
            with open(_LEGACY, encoding="utf-8") as f:
                _LEGACY_LISTS = [j for j in json.load(f) if isinstance(j, dict)]
        except (OSError, ValueError, TypeError):
            _LEGACY_LISTS = []
    return _LEGACY_LISTS


def _lists_of(meta):
    """The --list JSON objects a set's meta.json carries ("lists": bench/run since the
    counters came from --list); a set made before: the lists of that time (_LEGACY)."""
    ls = meta.get("lists") if isinstance(meta, dict) else None
    if isinstance(ls, list):
        return [j for j in ls if isinstance(j, dict)]
    return _legacy_lists() if isinstance(meta, dict) else []


def mode_lists(meta=None):
    """[(program, [mode names in list order])] from a set's meta.json ("lists", else its
    "programs"), or, without META, from every set read so far; never from a build."""
    if meta is None:
        out = []
        for j in _LISTS:
            out += [p for p in _pairs(j) if p not in out]
        return out
    out = [p for j in _lists_of(meta) for p in _pairs(j)]
    if not out and isinstance(meta.get("programs"), dict):
        out = [(p, [m for m in ms if isinstance(m, str)]) for p, ms in meta["programs"].items()
               if isinstance(ms, list)]
    return out


def _pairs(j):
    names = [m.get("name") if isinstance(m, dict) else m for m in j.get("modes") or []]
    names = [n for n in names if isinstance(n, str) and n]
    return [(j.get("file") or j.get("program") or "?", names)] if names else []


def use_lists(meta, rows=()):
    """A set's own --list (its meta.json) known from now on: its modes' options and
    "splices", and its modes' own axes added to MODE_OWN_AXES and AXES (in place)."""
    ls = _lists_of(meta)
    for j in ls:
        if j not in _LISTS:
            _LISTS.append(j)
        for m in j.get("modes") or []:
            if isinstance(m, dict) and m.get("name"):
                _OPTIONS.setdefault(m["name"], [o.get("name") for o in m.get("options") or []
                                                if isinstance(o, dict)])
                for o in m.get("options") or []:
                    if isinstance(o, dict) and str(o.get("arg", "")).upper() == "SIZE" and o.get("name"):
                        _SIZE_AXES.add(o["name"].replace("-", "_"))
                if isinstance(m.get("splices"), bool):
                    _SPLICES.setdefault(m["name"], m["splices"])
    if not ls:  # a set made before meta.json carried --list: its "programs"
        for p, ms in mode_lists(meta):
            j = {"program": p, "modes": ms}
            if j not in _LISTS:
                _LISTS.append(j)
    for k in _own_from_lists(meta, rows):
        if k not in MODE_OWN_AXES:
            MODE_OWN_AXES.append(k)
            AXES.insert(AXES.index("privilege"), k)


def counters(meta):
    """The daemon counters a set's --list declares (meta.json "lists"): [{name, combine,
    help, num, den, mode}], in list order; [] for a set made before."""
    out, seen = [], set()
    for j in _lists_of(meta):
        for c in j.get("counters") or []:
            if isinstance(c, dict) and c.get("name") and c["name"] not in seen:
                seen.add(c["name"])
                out.append(c)
    return out


def mode_options(mode):
    """The option names a mode declares in the --list of the sets read ([] when unknown)."""
    return _OPTIONS.get(mode, [])


def mode_programs(rows, meta):
    """mode -> program (splicefs, libfuse-ref, ...): a `program` column, meta.json's lists
    ({"programs": {"libfuse-ref": ["..."]}} or {"lists": [{"program": .., "modes": [..]}]}),
    else those of the sets read so far; unknown modes are splicefs's."""
    prog = {}
    for r in rows:
        if r.get("program") and r.get("mode"):
            prog.setdefault(r["mode"], r["program"])
    pm = meta.get("programs")
    if isinstance(pm, dict):
        for p, ms in pm.items():
            for m in ms if isinstance(ms, list) else []:
                prog.setdefault(m if isinstance(m, str) else m.get("name", ""), p)
    lists = meta.get("lists") or meta.get("mode_lists")
    if isinstance(lists, list):
        for j in lists:
            if isinstance(j, dict):
                for m in j.get("modes", []):
                    prog.setdefault(m if isinstance(m, str) else m.get("name", ""), j.get("program", "?"))
    for p, ms in mode_lists(meta) + mode_lists():
        for m in ms:
            prog.setdefault(m, p)
    return prog


def ordered_modes(rows, programs, meta=None):
    """Modes in the data: in meta.json's `modes` order (bench/run records the run's modes
    in matrix order); without it splicefs's first, then by program, each in list/first-seen
    order."""
    listed = (meta or {}).get("modes")
    if isinstance(listed, list) and all(isinstance(m, str) for m in listed):
        seen = []
        for r in rows:
            if r.get("mode") and r["mode"] not in seen:
                seen.append(r["mode"])
        return sorted(seen, key=lambda m: (listed.index(m) if m in listed else len(listed) + seen.index(m)))
    order = {}
    for _, ms in mode_lists(meta or {}) + mode_lists():
        for m in ms:
            order.setdefault(m, len(order))
    seen = []
    for r in rows:
        if r.get("mode") and r["mode"] not in seen:
            seen.append(r["mode"])
    return sorted(seen, key=lambda m: (programs.get(m, "splicefs") != "splicefs", programs.get(m, "splicefs"),
                                       order.get(m, 1000 + seen.index(m))))


def fallbacks_hidden(r):
    """The daemon cannot see its own fallbacks (libfuse-ref: libfuse copies silently)."""
    v = r.get("fallbacks_visible")
    return v is not None and v != "" and str(v).lower() in ("false", "0")


def copy_like_modes(rows, programs, meta=None):
    """Modes that never splice (a copy mode): no ok point of theirs spliced a byte and at
    least one copied.  Learnt from the data, so no mode name is spelt out; but a mode whose
    daemon cannot see its fallbacks (0 spliced says nothing) is a copy mode only where its
    --list says it never splices (meta.json's splicing_modes, else the built program's)."""
    spl, cop, hidden = set(), set(), set()
    for r in rows:
        if r.get("status") != "ok":
            continue
        if fallbacks_hidden(r):
            hidden.add(r["mode"])
        if (r.get("bytes_spliced") or 0) > 0 or (r.get("fallbacks") or 0) > 0:
            spl.add(r["mode"])
        elif (r.get("bytes_copied") or 0) > 0:
            cop.add(r["mode"])
    listed = (meta or {}).get("splicing_modes")
    if isinstance(listed, list):
        known = {m: m in listed for m in (meta or {}).get("modes") or []}
    else:
        known = dict(_SPLICES)
    return {m for m in cop - spl if m not in hidden or known.get(m) is False}


def reference_pairs(programs, modes):
    """[(splicefs mode, reference mode)]: a mode of another program pairs with the splicefs
    mode its name ends in ('-' + name), e.g. PROGPREFIX-copy with copy."""
    ours = [m for m in modes if programs.get(m, "splicefs") == "splicefs"]
    out = []
    for ref in modes:
        if programs.get(ref, "splicefs") == "splicefs":
            continue
        for m in sorted(ours, key=len, reverse=True):
            if ref.endswith("-" + m):
                out.append((m, ref))
                break
    return out



def _own_from_lists(meta=None, rows=()):
    """The matrix keys of a set's modes' own options (an option's '-' is '_'), in list
    order: from its meta.json's --list ("lists"), else its points' own_axes, else (a set
    made before either) the fixed points.csv columns between the base axes and the figures."""
    names = []
    for j in _lists_of(meta or {}):
        for m in j.get("modes") or []:
            for o in (m.get("options") or []) if isinstance(m, dict) else []:
                k = (o.get("name") or "").replace("-", "_") if isinstance(o, dict) else ""
                if k and k not in names:
                    names.append(k)
    if not names:  # in the order of the set's columns (points.jsonl sorts its keys)
        own = {k for r in rows for k in ((r.get("_json") or {}).get("own_axes") or {})}
        names = [k for k in (rows[0] if rows else {}) if k in own] + \
            sorted(own - set(rows[0] if rows else {}))
    if not names and not _lists_of(meta or {}):
        names = CSV_COLUMNS[CSV_COLUMNS.index("threads") + 1:CSV_COLUMNS.index("repeats")]
    return names


# ---------------------------------------------------------------- axes (from --list)

# The modes' own axes of the sets read so far (use_lists, from their meta.json: never a
# build's --list); both lists grow in place as sets are read.
MODE_OWN_AXES = []
AXES = (["mode", "source", "path", "bs", "numjobs", "ioengine", "iodepth", "direct", "threads"]
        + MODE_OWN_AXES + ["privilege", "pipe_max_size", "verify", "gro", "replica"])

def mode_label(r, copy_modes=()):
    """'splice', 'splice (copied 98 %, pipe could not grow)', or 'libfuse-splice (fallbacks
    not visible)' where the daemon cannot see them."""
    m = r.get("mode", "?")
    if m not in copy_modes and fallbacks_hidden(r):
        return f"{m} (fallbacks not visible)"
    if not fell_back(r, copy_modes):
        return m
    why = fallback_reasons(r)
    return f"{m} (copied {copied_share(r):.0f} %" + (f", {why})" if why else ")")


def axes_words(r, skip=()):
    """The axes of a point in words: 'mem, bs=1M, numjobs=1, direct=1, psync qd=1, threads=1'."""
    out = []
    for k in AXES:
        if k in skip or k == "path":
            continue
        v = r.get(k)
        if v in (None, ""):
            continue
        if is_size_axis(k):
            v = bs_label(v)
        out.append(str(v) if k in ("mode", "source", "ioengine") else f"{k}={v}")
    return ", ".join(out)


def is_size_axis(name):
    """Whether an axis's values are sizes (shown as 4K, 1M): bs, pipe_max_size, and a mode's
    own option whose --list arg is SIZE (from the sets read so far)."""
    return name in _SIZE_AXES or (name == "pipe_size" and not _LISTS)  # a set made before --list had args


def axis_label(name, v):
    """An axis value as the report and sentences show it: sizes as 4K/1M, the rest as is."""
    if v in (None, ""):
        return "" if v is None else v
    try:
        return bs_label(v) if is_size_axis(name) else v
    except (TypeError, ValueError):
        return v  # e.g. pipes=auto
