"""splicebench/why/project.py: a known linear model is recovered from fixed inputs; a model that
does not predict is refused with the reason; the join of native and counted points."""
import csv
import os
import sys
import tempfile
import unittest

from splicebench.why import project as sbproject

A, B = 2.5e-10 * 1e9, 0.04  # s/GB per instruction per byte, per byte moved per byte
POINTS = [  # mode, source, bs, instr/B, moved/B (fixed, made up, not collinear)
    ("copy", "mem", 131072, 0.30, 4.1), ("copy", "mem", 1048576, 0.21, 4.0),
    ("splice", "mem", 131072, 0.42, 2.2), ("splice", "mem", 1048576, 0.35, 2.1),
    ("libfuse-copy", "tcp-loopback", 131072, 0.95, 9.5), ("libfuse-copy", "tcp-loopback", 1048576, 0.80, 9.2),
    ("libfuse-splice", "tcp-loopback", 131072, 1.10, 6.0), ("libfuse-splice", "tcp-loopback", 1048576, 0.90, 5.8),
]


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def set_dirs(d):
    """A native and a cost result directory under d."""
    nat, cost = os.path.join(d, "n"), os.path.join(d, "c")
    os.mkdir(nat)
    os.mkdir(cost)
    return nat, cost


class Fit(unittest.TestCase):
    def cal(self, noise=()):
        out = []
        for i, (m, s, b, ins, mv) in enumerate(POINTS):
            y = A * ins + B * mv
            if noise:
                y *= 1 + noise[i % len(noise)]
            out.append({"mode": m, "source": s, "bs": b, "y": y, "x": {"instr": ins, "moved": mv}})
        return out

    def test_known_model_recovered(self):
        r = sbproject.fit(self.cal(), ("instr", "moved"))
        self.assertTrue(r["allowed"], r.get("reason"))
        self.assertAlmostEqual(r["coef"]["instr"], A, delta=A * 1e-9)
        self.assertAlmostEqual(r["coef"]["moved"], B, delta=B * 1e-9)
        self.assertLess(r["loo_rms_pct"], 1e-6)

    def test_with_intercept(self):
        cal = self.cal()
        for c in cal:
            c["y"] += 0.05
        r = sbproject.fit(cal, ("instr", "moved"), intercept=True)
        self.assertAlmostEqual(r["coef"]["intercept"], 0.05, delta=1e-9)
        self.assertAlmostEqual(r["coef"]["moved"], B, delta=B * 1e-6)

    def test_noise_gives_loo_error(self):
        r = sbproject.fit(self.cal(noise=(0.05, -0.05)), ("instr", "moved"))
        self.assertTrue(r["allowed"])
        self.assertGreater(r["loo_rms_pct"], 1)
        self.assertLess(r["loo_rms_pct"], 25)

    def test_refused_when_it_does_not_predict(self):
        r = sbproject.fit(self.cal(noise=(0.9, -0.6, 0.1, 1.5)), ("instr", "moved"))
        self.assertFalse(r["allowed"])
        self.assertIn("leave-one-out error", r["reason"])

    def test_refused_with_too_few_points(self):
        r = sbproject.fit(self.cal()[:3], ("instr", "moved"))
        self.assertFalse(r["allowed"])
        self.assertIn("at least 4", r["reason"])

    def test_join_and_projection(self):
        with tempfile.TemporaryDirectory() as d:
            nat, cost = set_dirs(d)
            write(os.path.join(nat, "points.csv"), ("point", "status", "env", "kernel", "mode", "source", "bs",
                                                    "cpu_parts_s_per_gb"),
                  [("p", "ok", "native", "6.18", m, s, b, A * i + B * v) for m, s, b, i, v in POINTS]
                  + [("q", "failed", "native", "6.18", "copy", "mem", 4096, 9)])
            rows = [("ok", "tcg", "6.12-sb-fixed", "fixed", m, s, b, i * 0.9, i * 0.1, v, 0.5)
                    for m, s, b, i, v in POINTS]
            rows.append(("ok", "tcg", "6.12-sb-fixed", "fixed", "multipipe", "tcp-loopback", 1048576, 0.5, 0.0, 3.0, 0.5))
            write(os.path.join(cost, "points.csv"), ("status", "env", "kernel", "variant", "mode", "source", "bs",
                                                     "cost_instr_per_byte_kernel", "cost_instr_per_byte_user",
                                                     "cost_bytes_moved_per_byte", "cost_rep_iters_per_byte"), rows)
            r = sbproject.run(nat, [cost])
            self.assertEqual(r["n"], 8)
            self.assertTrue(r["allowed"])
            mp = [p for p in r["projection"] if p["mode"] == "multipipe"]
            self.assertEqual(len(mp), 1)
            self.assertAlmostEqual(mp[0]["cpu_s_per_gb"], A * 0.5 + B * 3.0, places=9)
            self.assertAlmostEqual(mp[0]["cores_for_line"], 12.5 * (A * 0.5 + B * 3.0), places=9)
            self.assertEqual(r["kernels"]["native"], ["6.18"])
            self.assertIn("PROJECTION", r["label"])


    def test_point_on_another_reply_path_left_out(self):
        with tempfile.TemporaryDirectory() as d:
            nat, cost = set_dirs(d)
            write(os.path.join(nat, "points.csv"), ("status", "env", "kernel", "mode", "source", "bs",
                                                    "cpu_parts_s_per_gb", "spliced_share"),
                  [("ok", "native", "6.18", m, s, b, A * i + B * v, "0" if (m, b) == ("splice", 1048576) else "")
                   for m, s, b, i, v in POINTS])
            write(os.path.join(cost, "points.csv"), ("status", "mode", "source", "bs", "cost_instr_per_byte_kernel",
                                                     "cost_instr_per_byte_user", "cost_bytes_moved_per_byte",
                                                     "spliced_share"),
                  [("ok", m, s, b, i, 0, v, "1" if m == "splice" else "") for m, s, b, i, v in POINTS])
            r = sbproject.run(nat, [cost], exclude={("copy", "mem", 131072): "a reason"})
            out = {(c["mode"], c["bs"]): c["reason"] for c in r["left_out"]}
            self.assertEqual(r["n"], 6)
            self.assertIn("spliced 0 % natively, 100 % in the guest", out[("splice", 1048576)])
            self.assertEqual(out[("copy", 131072)], "a reason")
            self.assertEqual(len(r["projection"]), 8)  # left-out points are still projected


if __name__ == "__main__":
    unittest.main()
