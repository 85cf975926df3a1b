"""One timed repeat's figures: GB/s over the jobs' span (bench/sample's stamps) and the
CPU parts over the window (cgroup v2 cpu.stat, /proc/stat, the kernel threads' schedstat,
at the window's edges: bench/sample's .pre and .post files)."""
import json
import statistics


class RepeatError(Exception):
    pass


def read_sample(path):
    """bench/sample's file: t, cpu, ctxt, cg NAME usage user system, kthreads NS, proc NAME
    utime stime, loadavg."""
    s = {"t": None, "cpu": None, "ctxt": 0, "cg": {}, "kthreads": None, "procs": {},
         "loadavg": None, "kthread": {}}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            try:
                if w[0] == "t":
                    s["t"] = float(w[1])
                elif w[0] == "cpu":
                    s["cpu"] = [int(x) for x in w[1:]]
                elif w[0] == "ctxt":
                    s["ctxt"] = int(w[1])
                elif w[0] == "cg" and len(w) == 5:
                    s["cg"][w[1]] = tuple(int(x) for x in w[2:5])
                elif w[0] == "kthread" and len(w) == 3:
                    s["kthread"][w[1]] = int(w[2])
                elif w[0] == "kthreads":
                    s["kthreads"] = int(w[1])
                elif w[0] == "proc" and len(w) == 4:
                    s["procs"][w[1]] = (int(w[2]), int(w[3]))
                elif w[0] == "loadavg":
                    s["loadavg"] = float(w[1])
            except (IndexError, ValueError):
                pass
    return s


def read_stamps(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(float(line.split()[0]))
                except (IndexError, ValueError):
                    pass
    except OSError:
        pass
    return out


def read_fio(path):
    with open(path) as f:
        txt = f.read()
    return json.loads(txt[txt.index("{"):])



def fio_figures(jobs, starts, ends, loadavg):
    """GB/s over the jobs' span, fio's own sums and latency percentiles."""
    err = sum(int(j.get("error", 0)) for j in jobs)
    io_bytes = sum(int(j["read"]["io_bytes"]) for j in jobs)
    bw_sum = sum(float(j["read"]["bw_bytes"]) for j in jobs)
    rec = {"io_bytes": io_bytes, "fio_error": err, "fio_bw_sum_gbps": bw_sum / 1e9,
           "runtime_ms": max((j.get("job_runtime", 0) for j in jobs), default=0),
           "loadavg_1m": loadavg, "jobs_stamped": [len(starts), len(ends)]}
    if starts and ends and len(starts) == len(jobs) and len(ends) == len(jobs) \
            and max(ends) > min(starts):
        rec["span_s"] = max(ends) - min(starts)
        rec["gbps"] = io_bytes / rec["span_s"] / 1e9
    else:
        raise RepeatError("the jobs' start/end stamps are missing (%d starts, %d ends, %d jobs)"
                          % (len(starts), len(ends), len(jobs)))
    p50s, p99s = [], []
    for j in jobs:
        pc = j["read"].get("clat_ns", {}).get("percentile", {})
        if "50.000000" in pc:
            p50s.append(pc["50.000000"] / 1000.0)
        if "99.000000" in pc:
            p99s.append(pc["99.000000"] / 1000.0)
    rec["lat_p50_us"] = statistics.median(p50s) if p50s else None
    rec["lat_p99_us"] = max(p99s) if p99s else None
    return rec


def task_parts(cpu, a, b, jobs, hz):
    """The daemon's, the server's and fio's usr/sys seconds: their cgroups' cpu.stat, else
    their /proc ticks, else (fio) fio's own accounting."""
    for name in ("daemon", "server", "fio"):
        if name in a["cg"] and name in b["cg"]:
            cpu[name + "_usr"] = (a["cg"][name][1] - b["cg"][name][1]) / 1e6
            cpu[name + "_sys"] = (a["cg"][name][2] - b["cg"][name][2]) / 1e6
            cpu[name + "_usage"] = (a["cg"][name][0] - b["cg"][name][0]) / 1e6
        elif name in a["procs"] and name in b["procs"]:
            cpu[name + "_usr"] = (a["procs"][name][0] - b["procs"][name][0]) / hz
            cpu[name + "_sys"] = (a["procs"][name][1] - b["procs"][name][1]) / hz
        elif name == "fio":  # ticks fallback: fio's own accounting, whole jobs
            cpu["fio_usr"] = sum(j.get("usr_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0
                                 for j in jobs)
            cpu["fio_sys"] = sum(j.get("sys_cpu", 0) / 100.0 * j.get("job_runtime", 0) / 1000.0
                                 for j in jobs)
        else:
            cpu[name + "_usr"] = cpu[name + "_sys"] = 0.0


def kernel_parts(cpu, a, b, hz):
    """Kernel threads (schedstat), softirq and the whole machine's busy time (/proc/stat)."""
    if a["kthread"] and b["kthread"]:
        # the threads present at both edges: a kworker that exits (or starts) inside the
        # window would otherwise subtract its whole run time (a negative part)
        cpu["kthreads"] = sum(max(0, a["kthread"][p] - b["kthread"][p])
                              for p in a["kthread"] if p in b["kthread"]) / 1e9
    else:
        cpu["kthreads"] = (max(0.0, (a["kthreads"] - b["kthreads"]) / 1e9)
                           if a["kthreads"] is not None and b["kthreads"] is not None else 0.0)
    busy = 0.0
    cpu["softirq"] = 0.0
    if a["cpu"] and b["cpu"]:
        d = [x - y for x, y in zip(a["cpu"], b["cpu"])]
        d += [0] * (8 - len(d))
        # user nice system idle iowait irq softirq steal
        cpu["softirq"] = d[6] / hz
        cpu["steal"] = d[7] / hz  # the host ran something else on our vCPUs: it explains a slow window
        busy = (d[0] + d[1] + d[2] + d[5] + d[6] + d[7]) / hz
    cpu["busy_all"] = busy


def figures(fio, b, a, starts, ends, hz=100.0, cores=1, sirq_in=False):
    """One repeat's record from fio's JSON, the window's two samples (read_sample) and the
    jobs' stamps; RepeatError when the stamps are missing."""
    jobs = fio.get("jobs", [])
    rec = fio_figures(jobs, starts, ends, b["loadavg"])
    wall = (a["t"] - b["t"]) if a["t"] is not None and b["t"] is not None else rec["span_s"]
    cpu = {"wall": wall, "cores": cores, "capacity": cores * wall}
    task_parts(cpu, a, b, jobs, hz)
    kernel_parts(cpu, a, b, hz)
    parts = sum(cpu[n + s] for n in ("daemon", "server", "fio") for s in ("_usr", "_sys"))
    parts += cpu["kthreads"] + (cpu["softirq"] if sirq_in else 0.0)
    cpu["parts"] = parts
    cpu["rest"] = max(0.0, cpu["busy_all"] - parts)
    cpu["ctxt"] = a["ctxt"] - b["ctxt"]
    # a window in which the host stole more than 2 % of its capacity is marked (shown with
    # the round: both sides of a round were measured alike, so neither is dropped)
    rec["steal_share"] = round(cpu.get("steal", 0.0) / cpu["capacity"], 4) if cpu["capacity"] else 0.0
    # cgroup and schedstat times lag a running task by up to a tick at each edge;
    # /proc/stat's softirq is in ticks: a tick per core of slack, no more.
    slack = cores * (2.0 / 250 + (1.0 / hz if sirq_in else 0.0))
    if parts > cpu["capacity"] + slack:
        rec["cpu_over"] = "CPU parts %.4f s exceed cores x wall %d x %.4f = %.4f s" % (
            parts, cores, wall, cpu["capacity"])
    rec["cpu_s"] = cpu
    return rec


def from_files(fio_path, prefix, hz=100.0, cores=1, sirq_in=False):
    """figures() from the repeat's files: fio's JSON and bench/sample's PREFIX.{pre,post,
    starts,ends}; RepeatError when they cannot be read."""
    try:
        fio = read_fio(fio_path)
        b, a = read_sample(prefix + ".pre"), read_sample(prefix + ".post")
    except (OSError, ValueError, KeyError) as e:
        raise RepeatError("cannot read the repeat's files: %s" % e)
    return figures(fio, b, a, read_stamps(prefix + ".starts"), read_stamps(prefix + ".ends"),
                   hz, cores, sirq_in)
