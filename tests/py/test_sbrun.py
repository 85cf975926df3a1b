"""splicebench/plan.py: a mode invented here, with options, only in a fake --list, goes through
matrix expansion, the round planner and the point aggregation untouched; and
splicebench/results.py judges its points by the paired rule."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from splicebench import plan as sbrun
from splicebench import results as R

FAKE_LIST = json.dumps({"program": "fakefs", "modes": [
    {"name": "copy", "needs": "", "options": []},
    {"name": "frob", "needs": "a knob: /sys/module/fakefs/parameters/frob = 1",
     "options": [{"name": "frob-level", "arg": "N|max", "default": "3", "help": "how hard"},
                 {"name": "frob-size", "arg": "SIZE", "default": "64K", "help": "per frob"}]}],
    "counters": [{"name": "bytes", "combine": "sum"}, {"name": "bytes_spliced", "combine": "sum"},
                 {"name": "bytes_copied", "combine": "sum"}, {"name": "fallbacks", "combine": "sum"},
                 {"name": "pipe_slots", "combine": "sum"}, {"name": "slot_bytes", "combine": "sum"},
                 {"name": "frobs", "combine": "sum", "mode": "frob"},
                 {"name": "frob_peak", "combine": "max", "mode": "frob"},
                 {"name": "pipe_size_granted", "combine": "last"},
                 {"name": "bytes_per_slot", "combine": "ratio", "num": "slot_bytes", "den": "pipe_slots"},
                 {"name": "frobs_per_byte", "combine": "ratio", "num": "frobs", "den": "bytes",
                  "mode": "frob"}]})


def lists():
    return sbrun.Lists([dict(json.loads(FAKE_LIST), file="fakefs")])


def counters():
    return lists().counters()


class InventedMode(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sbrun-test.")
        self.matrix = os.path.join(self.dir, "m")
        with open(self.matrix, "w") as f:
            f.write("mode=copy frob\nsource=mem\nbs=128k\nfrob_level=1 max\nfrob_size=default\nrounds=4\n")

    def expand(self, *sets):
        return sbrun.expand(self.matrix, sets, lists())[1]

    def test_expansion(self):
        pts = self.expand()
        names = [p["point"] for p in pts]
        self.assertEqual(names, ["copy/mem/bs=131072/nj=1/psync/qd=1/direct=1/t=1",
                                 "frob/mem/bs=131072/nj=1/psync/qd=1/direct=1/t=1/frob_level=1/frob_size=65536",
                                 "frob/mem/bs=131072/nj=1/psync/qd=1/direct=1/t=1/frob_level=max/frob_size=65536"])
        copy, frob = pts[0], pts[1]
        self.assertEqual(copy["frob_level"], "")  # not copy's option
        self.assertEqual(copy["own_axes"], {})
        self.assertEqual(frob["own_axes"], {"frob_level": "frob-level", "frob_size": "frob-size"})
        self.assertEqual(frob["program"], "fakefs")
        self.assertEqual((frob["knob"], frob["knob_value"]), ("/sys/module/fakefs/parameters/frob", "1"))
        self.assertEqual(len({p["group"] for p in pts}), 1)  # one comparison group

    def test_bad_value_from_list_arg(self):
        with self.assertRaises(sbrun.Bad) as e:
            self.expand("frob_level=lots")
        self.assertIn("--frob-level N|max", str(e.exception))
        with self.assertRaises(sbrun.Bad):
            self.expand("frob_size=12q")

    def test_unknown_key_without_the_option(self):
        with open(self.matrix, "a") as f:
            f.write("pipes=4\n")  # no mode of the fake list has --pipes
        with self.assertRaises(sbrun.Bad):
            self.expand()

    def test_schedule_turns(self):
        pts = self.expand()
        sched = sbrun.schedule(pts)
        self.assertEqual(len(sched), 3 * 4)
        pos = {}
        for m in sched:
            pos.setdefault(m["point"], []).append(m["position"])
        for p, ps in pos.items():  # every point takes each of the 3 places over 4 rounds
            self.assertEqual(set(ps), {1, 2, 3}, p)
        self.assertEqual([m["round"] for m in sched], sorted(m["round"] for m in sched))
        self.assertEqual([m["last"] for m in sched].count(True), 1)
        self.assertTrue(sched[-1]["last"])

    def test_old_repeats(self):
        with open(self.matrix, "w") as f:
            f.write("mode=copy\nrepeats=3/5\n")
        with self.assertRaises(sbrun.Bad) as e:
            self.expand()
        self.assertIn("rounds=N", str(e.exception))
        with open(self.matrix, "w") as f:
            f.write("mode=copy\nrepeats=3\n")
        self.assertEqual(self.expand()[0]["rounds"], 3)

    def measurements(self, pt, gbps):
        out = []
        for r, g in enumerate(gbps, 1):
            cpu = {"daemon_usr": 0.1, "daemon_sys": 0.1, "server_usr": 0, "server_sys": 0,
                   "fio_usr": 0.05, "fio_sys": 0.05, "kthreads": 0, "softirq": 0, "parts": 0.3,
                   "rest": 0, "capacity": 2, "wall": 1, "busy_all": 0.3, "ctxt": 10, "cores": 2}
            out.append({"point": pt["point"], "round": r, "position": 1 + r % 2, "status": "ok",
                        "reason": "", "started": "t%d" % r, "ended": "e%d" % r, "psize": pt["size"],
                        "size_scale": 1, "rep": {"gbps": g, "io_bytes": int(g * 1e9), "cpu_s": cpu,
                                                 "lat_p50_us": 10, "lat_p99_us": 20},
                        "verify": {"verify_status": "ok", "verify_bytes": 100, "verify_s": 0.1},
                        "stats": {"bytes": 1000, "bytes_spliced": 600, "bytes_copied": 400,
                                  "fallbacks": 1, "pipe_slots": 6, "pipe_size_granted": 65536,
                                  "frobs": 10 * r, "frob_peak": 7 - r},
                        "costwin": [], "netwin": []})
        return out

    def test_merge_stats_as_the_list_says(self):
        # each measurement's counters (one daemon a measurement), combined as the fake
        # --list says: sums add up, max is the largest, ratios are recomputed from the sums,
        # "last" (and what --list does not name) is the last one's
        a = {"bytes": 100, "frobs": 12, "frob_peak": 9, "frobs_per_byte": 0.12, "pipe_slots": 10,
             "slot_bytes": 1000, "pipe_size_granted": 4096, "splice_protocol": "v2"}
        b = {"bytes": 300, "frobs": 4, "frob_peak": 3, "frobs_per_byte": 4 / 300, "pipe_slots": 0,
             "slot_bytes": 0, "pipe_size_granted": 8192, "splice_protocol": "write"}
        m = sbrun.merge_stats([a, b], counters())
        self.assertEqual((m["bytes"], m["frobs"], m["frob_peak"]), (400, 16, 9))
        self.assertAlmostEqual(m["frobs_per_byte"], 16 / 400)
        self.assertAlmostEqual(m["bytes_per_slot"], 100.0)
        self.assertEqual((m["pipe_size_granted"], m["splice_protocol"]), (8192, "write"))

    def test_invented_counter_is_a_point_field(self):
        pts = self.expand()
        run = {"run_id": "x", "env": "native", "kernel": "k", "variant": "none"}
        b = sbrun.aggregate(pts[1], run, self.measurements(pts[1], [1.5, 1.6, 1.4]), counters())
        self.assertEqual((b["frobs"], b["frob_peak"]), (60, 6))
        self.assertAlmostEqual(b["frobs_per_byte"], 60 / 3000)

    def test_aggregate_and_verdict(self):
        pts = self.expand()
        run = {"run_id": "x", "env": "native", "kernel": "k", "variant": "none"}
        a = sbrun.aggregate(pts[0], run, self.measurements(pts[0], [1.0, 1.1, 0.9, 1.0, 1.05]), counters())
        b = sbrun.aggregate(pts[1], run, self.measurements(pts[1], [1.5, 1.6, 1.4, 1.5, 1.55]), counters())
        self.assertEqual(b["status"], "ok")
        self.assertEqual(b["frob_level"], 1)
        self.assertEqual(b["repeats"], 5)
        self.assertEqual([x["round"] for x in b["runs"]], [1, 2, 3, 4, 5])
        self.assertEqual(b["bytes_spliced"], 3000)  # counters add up over the measurements
        self.assertEqual(b["pipe_size_granted"], 65536)  # sizes do not
        self.assertEqual(b["verify_status"], "ok")
        self.assertEqual(b["verify_detail"]["passes"], 5)
        self.assertAlmostEqual(b["gbps_median"], 1.5)
        ra, rb = dict(a, _json=a), dict(b, _json=b)
        self.assertEqual(R.verdict(ra, rb), ("better", ""))
        self.assertIn(R.verdict(ra, ra)[0], ("within noise", "equivalent"))  # A/A (the verdict names it)
        # a failed round fails the point, named
        ms = self.measurements(pts[1], [1.5, 1.6, 1.4])
        ms[1].update(status="failed", reason="verification: first bad offset 700000")
        f = sbrun.aggregate(pts[1], run, ms, counters())
        self.assertEqual(f["status"], "failed")
        self.assertIn("round 2: verification", f["reason"])

    def test_point_says_protocol_and_slot_pass(self):
        pts = self.expand()
        run = {"run_id": "x", "env": "native", "kernel": "k", "variant": "none"}
        ms = self.measurements(pts[1], [1.0, 1.1, 1.2])
        for m in ms:
            m["stats"]["splice_protocol"] = "v2-ioctl"
            m["stats"]["slot_bytes"] = 144  # the probe saw 144 of the 600 bytes spliced
            m["verify"]["slots_pass"] = "warm-up"
        b = sbrun.aggregate(pts[1], run, ms, counters())
        self.assertEqual(b["splice_protocol"], "v2-ioctl")
        self.assertEqual(b["slots_pass"], "warm-up")
        # over the probed replies only: 3 x 144 bytes in 3 x 6 slots, not 3 x 600 in them
        self.assertAlmostEqual(b["bytes_per_slot"], 24.0)
        # no slot counted: no pass named
        for m in ms:
            m["stats"]["pipe_slots"] = 0
        self.assertEqual(sbrun.aggregate(pts[1], run, ms, counters())["slots_pass"], "")

    def test_pick_row_sets_rounds_apart(self):
        def row(vals, pipes):
            runs = [{"round": i, "gbps": v} for i, v in enumerate(vals, 1)]
            return {"pipes": pipes, "gbps_median": max(vals), "repeats": len(vals), "_json": {"runs": runs}}
        # setting 8 is best on the odd rounds; setting 4's lucky round 2 does not pick it
        r4, r8 = row([1.0, 9.0, 1.0, 1.0, 1.0], 4), row([2.0, 1.5, 2.0, 1.5, 2.0], 8)
        kept, note = R.pick_row([r4, r8])
        self.assertEqual(kept["pipes"], 8)
        self.assertEqual([x["round"] for x in kept["_json"]["runs"]], [2, 4])
        self.assertEqual(kept["repeats"], 2)
        self.assertIn("rounds 1,3,5", note)

    def test_modes_in_meta_order(self):
        rows = [{"mode": m} for m in ("copy", "frob", "libfuse-copy")]
        progs = {"copy": "splicefs", "frob": "fakefs", "libfuse-copy": "libfuse-ref"}
        self.assertEqual(R.ordered_modes(rows, progs, {"modes": ["libfuse-copy", "frob", "copy"]}),
                         ["libfuse-copy", "frob", "copy"])


class Repeat(unittest.TestCase):
    def test_kthread_that_exits_is_no_negative_part(self):
        """A kworker that runs 0.4 s before the window and exits inside it: the sum over
        the threads would fall by 0.4 s; per thread it adds nothing (measured: a point with
        kthreads -0.437 s, parts < 0, on this host)."""
        d = tempfile.mkdtemp(prefix="sbrun-rep.")
        with open(d + "/fio.json", "w") as f:
            json.dump({"jobs": [{"error": 0, "job_runtime": 1000,
                                 "read": {"io_bytes": 10 ** 9, "bw_bytes": 10 ** 9}}]}, f)
        with open(d + "/w.starts", "w") as f:
            f.write("100.0\n")
        with open(d + "/w.ends", "w") as f:
            f.write("101.0\n")
        with open(d + "/w.pre", "w") as f:
            f.write("t 99.9\ncpu 0 0 0 0 0 0 0 0\ncg daemon 0 0 0\ncg fio 0 0 0\n"
                    "kthread 10 400000000\nkthread 11 1000\nkthreads 400001000\n")
        with open(d + "/w.post", "w") as f:
            f.write("cpu 100 0 100 0 0 0 0 0\ncg daemon 200000 100000 100000\ncg fio 100000 50000 50000\n"
                    "kthread 11 2001000\nkthreads 2001000\nt 101.1\n")
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        r = subprocess.run([sys.executable, top, "plan", "repeat", "--fio", d + "/fio.json",
                            "--prefix", d + "/w", "--cores", "2"], capture_output=True, text=True)
        rec = json.loads(r.stdout)
        self.assertAlmostEqual(rec["cpu_s"]["kthreads"], 0.002)
        self.assertAlmostEqual(rec["cpu_s"]["parts"], 0.302)


if __name__ == "__main__":
    unittest.main()


class RunnerCommandLine(unittest.TestCase):
    """bench/run's options (splicebench/run/cli.py): one table parses them and writes --help;
    bad input is one line and exit status 2."""

    def parse(self, *argv):
        from splicebench.run import cli
        return cli.parse(list(argv))

    def test_options_both_spellings_and_repeated(self):
        o = self.parse("quick", "--set", "size=8m", "--set=rounds=2", "--out=/x", "--resume", "--vm", "K",
                       "--no-baseline", "--ssh-opt", "Port=22", "--set-tcg", "size=4m")
        self.assertEqual((o.matrix, o.out, o.resume, o.vm_kernel, o.mode_env, o.baseline),
                         ("quick", "/x", True, "K", "vm", False))
        self.assertEqual((o.sets, o.tcg_sets, o.ssh_opts), (["size=8m", "rounds=2"], ["size=4m"], ["Port=22"]))

    def test_bad_input_exits_2(self):
        import io
        from contextlib import redirect_stderr
        for argv in (["quick", "--fast"], ["a", "b"], ["quick", "--out"]):
            err = io.StringIO()
            with redirect_stderr(err), self.assertRaises(SystemExit) as e:
                self.parse(*argv)
            self.assertEqual(e.exception.code, 2)
            self.assertEqual(len(err.getvalue().splitlines()), 1, err.getvalue())

    def test_help_names_every_option(self):
        from splicebench.run import cli
        text = cli.usage()
        for opt, arg, _ in cli.OPTIONS:
            self.assertIn("  %s%s\n" % (opt, " " + arg if arg else ""), text)


class MemorySettings(unittest.TestCase):
    """meta.json's memory settings read from a fake /sys and /proc: a running kdamond's
    scheme is named, a stopped one is not, and an absent file is None, not an error."""

    def test_from_a_fake_root(self):
        from splicebench.run.meta import memory_settings
        with tempfile.TemporaryDirectory() as root:
            def put(rel, text):
                p = os.path.join(root, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(text + "\n")
            put("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never")
            put("proc/meminfo", "MemTotal: 100 kB\nSwapTotal:       2048 kB")
            kd = "sys/kernel/mm/damon/admin/kdamonds/"
            put(kd + "0/state", "on")
            put(kd + "0/contexts/0/operations", "paddr")
            put(kd + "0/contexts/0/schemes/0/action", "pageout")
            put(kd + "1/state", "off")
            put(kd + "1/contexts/0/schemes/0/action", "lru_prio")
            m = memory_settings(root)
        self.assertEqual(m["thp_enabled"], "always [madvise] never")
        self.assertIsNone(m["thp_shmem_enabled"])
        self.assertEqual(m["swap_kib"], 2048)
        self.assertEqual(m["damon"], ["kdamond 0: paddr, schemes pageout"])
