"""meta.json: the run's state (bench/run's KEY=VALUE pairs), the plan's modes, the
programs' full --list (so that reading the set never asks a build), and what this machine
says about itself (versions, CPU, memory, git)."""
import glob
import hashlib
import math
import os
import subprocess


def _first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return ((r.stdout or r.stderr).splitlines() or [""])[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _num(v):
    try:
        x = float(v)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def machine():
    """(CPU model, MemTotal KiB) of this machine."""
    cpu_model, mem_kib = "", None
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
        with open("/proc/meminfo") as f:
            mem_kib = next((int(ln.split()[1]) for ln in f if ln.startswith("MemTotal")), None)
    except (OSError, ValueError):
        pass
    return cpu_model, mem_kib


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def memory_settings(root="/"):
    """What this kernel does to memory behind a run's back, each as the file says it (None
    where absent): transparent huge pages (anon and shmem: the mem source's memfds are shmem),
    KSM, NUMA balancing, swap, and DAMON's running kdamonds with their schemes' actions (a
    paddr 'pageout' scheme reclaims cold pages while a point runs)."""
    j = lambda *a: os.path.join(root, *a)
    thp = j("sys/kernel/mm/transparent_hugepage")
    m = {"thp_enabled": _read(j(thp, "enabled")), "thp_shmem_enabled": _read(j(thp, "shmem_enabled")),
         "ksm_run": _read(j("sys/kernel/mm/ksm/run")),
         "numa_balancing": _read(j("proc/sys/kernel/numa_balancing")),
         "swap_kib": None, "damon": []}
    mi = _read(j("proc/meminfo")) or ""
    m["swap_kib"] = next((int(ln.split()[1]) for ln in mi.splitlines() if ln.startswith("SwapTotal:")), None)
    kd = j("sys/kernel/mm/damon/admin/kdamonds")
    for k in sorted(d for d in (os.listdir(kd) if os.path.isdir(kd) else []) if d.isdigit()):
        if _read(os.path.join(kd, k, "state")) != "on":
            continue
        for c in sorted(glob.glob(os.path.join(kd, k, "contexts", "[0-9]*"))):
            acts = [_read(os.path.join(s, "action"))
                    for s in sorted(glob.glob(os.path.join(c, "schemes", "[0-9]*")))]
            m["damon"].append("kdamond %s: %s, schemes %s" % (
                k, _read(os.path.join(c, "operations")), " ".join(map(str, acts)) or "none"))
    return m


def git_state(top):
    """(commit, dirty) of the checkout."""
    git = lambda *a: subprocess.run(["git", "-C", top] + list(a), capture_output=True, text=True)
    try:
        return (git("rev-parse", "HEAD").stdout.strip() or "unknown",
                bool(git("status", "--porcelain").stdout.strip()))
    except OSError:
        return "unknown", False


def meta_of(state, plan, matrix_path, top, overrides, lists=()):
    """meta.json from the run's state (bench/run's KEY=VALUE pairs), the plan (the point
    records), the programs' --list JSON (lists) and what this machine says about itself."""
    with open(matrix_path, "rb") as f:
        mbytes = f.read()
    modes, programs = [], {}
    for p in plan:
        if p["mode"] not in modes:
            modes.append(p["mode"])
        if p.get("program") and p["mode"] not in programs.setdefault(p["program"], []):
            programs[p["program"]].append(p["mode"])
    cpu_model, mem_kib = machine()
    commit, dirty = git_state(top)
    st = state
    m = {"run_id": st.get("run_id", ""), "matrix": os.path.basename(matrix_path),
         "matrix_file": matrix_path, "matrix_sha256": hashlib.sha256(mbytes).hexdigest(),
         "matrix_text": mbytes.decode("utf-8", "replace"), "kernel": st.get("kernel", ""),
         "fuse_out_splices": st.get("fuse_out_splices", ""), "probe": st.get("probe", ""),
         "splice_reply": st.get("splice_reply", ""),
         "variant": st.get("variant", ""), "env": st.get("env", ""), "cpu_model": cpu_model,
         "cores": len(os.sched_getaffinity(0)), "mem_kib": mem_kib,
         "versions": {"libfuse": _first_line(["pkg-config", "--modversion", "fuse3"]),
                      "fio": _first_line(["fio", "--version"]),
                      "iperf3": _first_line(["iperf3", "--version"]),
                      "qemu": _first_line(["qemu-system-x86_64", "--version"]),
                      "gcc": _first_line(["gcc", "-dumpfullversion"])},
         "memory": memory_settings(),
         "git_commit": commit, "git_dirty": dirty, "start": st.get("start", ""),
         "end": st.get("end", ""), "complete": st.get("complete") == "true",
         "limits": {"tmpfs_read_gbps": _num(st.get("tmpfs_read_gbps")),
                    "dd_zero_null_gbps": _num(st.get("dd_zero_null_gbps"))},
         "clk_tck": int(st.get("clk_tck") or 100), "baseline": st.get("baseline", ""),
         "line_rate_gbps": 12.5, "daemon_args": st.get("daemon_args", ""),
         "cpu_method": st.get("cpu_method", ""),
         "cpu_softirq_in_parts": int(st.get("cpu_softirq_in_parts") or 0),
         "modes": modes, "programs": programs,
         "splicing_modes": [m for m in modes if any(p.get("splices") for p in plan if p["mode"] == m)],
         "rounds": plan[0]["rounds"] if plan else None,
         "round_order": plan[0].get("order", "") if plan else "", "overrides": list(overrides),
         # each program's whole --list: a set is read with its own modes, axes and counters
         "lists": list(lists)}
    if st.get("cost") == "1":
        # what was done, never a figure this run did not measure
        m["cost"] = {"plugin": "sbcost (kernel/cost), kernel/vm --cost: one vCPU, single-threaded TCG, icount",
                     "method": "per round two sbcost windows: the measured fio run (SIZE per job) and a short "
                               "one before it (SIZE/4 rounded down to bs, at least bs); each window opens in "
                               "the first job exec_prerun and closes in the last job exec_postrun; cost = "
                               "(big - small) / (io_bytes big - io_bytes small); median over rounds"}
    return m
