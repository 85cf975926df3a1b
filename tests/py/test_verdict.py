"""splicebench/verdict.py on known inputs: the one judge (paired rounds or two samples, an
interval for the ratio, one band, five outcomes)."""
import os
import random
import sys
import unittest

from splicebench import verdict as V
from splicebench import plan as sbrun


class Interval(unittest.TestCase):
    def test_known_order_statistics(self):
        # n = 5: only min..max reaches 90 % (1 - 2/32 = 0.9375)
        self.assertEqual(V.median_interval([5, 1, 4, 2, 3]), (1, 5, 1 - 2 / 32))
        # n = 20: x(6)..x(15), coverage 1 - 2 P(Bin(20, 1/2) <= 5) = 0.9586...
        lo, hi, cov = V.median_interval(list(range(20)))
        self.assertEqual((lo, hi), (5, 14))
        self.assertAlmostEqual(cov, 1 - 2 * 21700 / 2 ** 20, places=12)
        # n = 4 cannot reach 90 % (min..max covers 0.875)
        self.assertIsNone(V.median_interval([1, 2, 3, 4]))
        self.assertEqual(V.rounds_needed(), 5)

    def test_signrank_known(self):
        # n = 6 Walsh averages (21); P(T+ <= 2) = 3/64, so the 90 % interval is w(3)..w(19)
        logs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        est, lo, hi, cov = V.signrank_interval(logs)
        w = sorted((logs[i] + logs[j]) / 2 for i in range(6) for j in range(i, 6))
        self.assertEqual((est, lo, hi), (2.5, w[2], w[18]))
        self.assertAlmostEqual(cov, 1 - 2 * 3 / 64, places=12)
        self.assertIsNone(V.signrank_interval([0.0, 1.0, 2.0, 3.0]))  # n = 4: 1 - 2/16 < 90 %

    def test_deterministic(self):
        xs = [random.Random(7).uniform(0.8, 1.2) for _ in range(9)]
        self.assertEqual(V.paired_verdict(xs), V.paired_verdict(list(xs)))
        self.assertEqual(V.paired_verdict(xs), V.paired_verdict(list(reversed(xs))))


class Verdicts(unittest.TestCase):
    def test_too_few_rounds(self):
        d = V.paired_verdict([1.5, 1.6])
        self.assertEqual(d["outcome"], V.TOO_FEW)
        self.assertIn("n = 2 < 3", d["reason"])
        d = V.paired_verdict([1.5, 1.6, 1.7, 1.55])
        self.assertEqual(d["outcome"], V.TOO_FEW)
        self.assertEqual(d["mark"], "–")
        self.assertIn("too few rounds", d["reason"])

    def test_better_worse_and_direction(self):
        up = [1.20, 1.25, 1.18, 1.22, 1.30]
        self.assertEqual(V.paired_verdict(up)["verdict"], "better")
        self.assertEqual(V.paired_verdict(up, higher_is_better=False)["verdict"], "worse")
        down = [1 / x for x in up]
        self.assertEqual(V.paired_verdict(down)["verdict"], "worse")
        self.assertEqual(V.paired_verdict(down, higher_is_better=False)["verdict"], "better")

    def test_threshold(self):
        # every ratio 3-4 % up: consistent, but inside the +-5 % band
        d = V.paired_verdict([1.03, 1.04, 1.035, 1.03, 1.04])
        self.assertEqual(d["outcome"], V.EQUIVALENT)
        self.assertEqual(d["mark"], "≈")
        self.assertEqual(V.paired_verdict([1.03, 1.04, 1.035, 1.03, 1.04], threshold=0.02)["verdict"], "better")
        # straddling the band's edge: unresolved, never "≈", with rounds to resolve it
        d = V.paired_verdict([1.0, 1.09, 1.06, 1.02, 1.08, 1.03])
        self.assertEqual(d["outcome"], V.UNRESOLVED)
        self.assertEqual(d["mark"], "?")
        self.assertIn("straddles the band", d["reason"])
        self.assertGreater(d["rounds_to_resolve"], 6)

    def test_equivalent_only_inside(self):
        """'≈' (equivalent) stands only where the whole interval lies inside the band."""
        rng = random.Random(3)
        for _ in range(300):
            rs = [rng.lognormvariate(rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.2)) for _ in range(rng.randint(1, 12))]
            d = V.paired_verdict(rs)
            if d["mark"] == "≈":
                self.assertTrue(1 / 1.05 <= d["lo"] and d["hi"] <= 1.05, d)
            if d["outcome"] in (V.BETTER, V.WORSE):
                self.assertTrue(d["lo"] > 1.05 or d["hi"] < 1 / 1.05, d)

    def test_estimate_is_the_one_judged(self):
        """The ratio printed is the judged estimate, inside its own interval."""
        d = V.paired_verdict([1.1, 1.3, 1.2, 1.25, 1.15, 1.4, 1.22])
        self.assertTrue(d["lo"] <= d["estimate"] <= d["hi"])
        self.assertTrue(V.short(d).startswith("%.2fx ▲ (" % d["estimate"]), V.short(d))

    def test_power_on_a_known_slowdown(self):
        """15 % slower, per-round spread 0.08 (log): called worse in nearly every run of 8
        rounds; the same spread with no difference: nothing called, mostly equivalent."""
        rng = random.Random(11)
        worse = sum(V.paired_verdict([0.85 * rng.lognormvariate(0, 0.08) for _ in range(8)])["outcome"] == V.WORSE
                    for _ in range(200))
        self.assertGreaterEqual(worse, 180)
        out = [V.paired_verdict([rng.lognormvariate(0, 0.03) for _ in range(8)])["outcome"] for _ in range(200)]
        self.assertLessEqual(out.count(V.BETTER) + out.count(V.WORSE), 4)
        self.assertGreaterEqual(out.count(V.EQUIVALENT), 150)

    def test_high_cv(self):
        # a 20 % median gain, but rounds from 0.7x to 1.9x: the interval spans the band
        d = V.paired_verdict([0.7, 1.9, 1.2, 1.25, 1.1, 0.9, 1.6])
        self.assertEqual(d["outcome"], V.UNRESOLVED)
        self.assertLess(d["lo"], 1.05)

    def test_a_a(self):
        """The same configuration twice, 20 comparisons of 5 rounds each, with 30 % noise
        and a first-position bonus: at most 1 of 20 called better or worse."""
        rng = random.Random(19)
        calls = 0
        for _ in range(20):
            ratios = []
            for r in range(5):
                a = rng.lognormvariate(0, 0.3) * (1.25 if r % 2 == 0 else 1.0)
                b = rng.lognormvariate(0, 0.3) * (1.25 if r % 2 == 1 else 1.0)
                ratios.append(b / a)
            calls += V.paired_verdict(ratios)["outcome"] in (V.BETTER, V.WORSE)
        self.assertLessEqual(calls, 1)

    def test_rule_text_from_parameters(self):
        t = V.rule_text()
        self.assertIn("+-5 %", t)
        self.assertIn("90 %", t)
        self.assertIn("an interval needs 5", t)
        t = V.rule_text(threshold=0.1, confidence=0.95)
        self.assertIn("+-10 %", t)
        self.assertIn("95 %", t)
        self.assertIn("an interval needs 6", t)

    def test_family_text(self):
        t = V.family_text(36)
        self.assertIn("36 verdicts", t)
        self.assertIn("at most 1.8 false calls", t)

    def test_paired_ratios(self):
        self.assertEqual(V.paired_ratios({1: 2.0, 2: 4.0, 3: 1.0}, {1: 3.0, 3: 2.0, 4: 9.0}), [1.5, 2.0])


class Drift(unittest.TestCase):
    """A and B equally fast on a machine that slows down linearly over the run: the
    rounds bench/run plans (expand --schedule: a group's points interleaved, the order
    turning) cancel the drift in the per-round ratios; the mode-blocked order of the
    old runner (all of A's repeats, then all of B's) calls B worse."""

    def measure(self, order):
        # order: [(point, round)] in run order; speed falls 4 % per measurement
        return {(p, r): 10.0 * (1 - 0.04 * t) for t, (p, r) in enumerate(order)}

    def test_rounds_cancel_drift(self):
        pts = [{"point": "A", "group": "g", "rounds": 6, "order": "rotate"},
               {"point": "B", "group": "g", "rounds": 6, "order": "rotate"}]
        order = [(m["point"], m["round"]) for m in sbrun.schedule(pts)]
        v = self.measure(order)
        ratios = [v[("B", r)] / v[("A", r)] for r in range(1, 7)]
        d = V.paired_verdict(ratios)
        self.assertNotIn(d["verdict"], (V.BETTER, V.WORSE), d)
        self.assertAlmostEqual(d["median"], 1.0, delta=0.01)

    def test_blocked_order_is_fooled(self):
        order = [("A", r) for r in range(1, 7)] + [("B", r) for r in range(1, 7)]
        v = self.measure(order)
        d = V.paired_verdict([v[("B", r)] / v[("A", r)] for r in range(1, 7)])
        self.assertEqual(d["verdict"], "worse")


class BetweenRuns(unittest.TestCase):
    """Two runs compared through a control measured in the same rounds of each run
    (sbverdict.between_verdict): the machine's change between the runs cancels."""

    def test_known_interval(self):
        # n = m = 5: P(U <= 4) = 12/252, so the 90 % interval is d(5)..d(21) of the 25
        est, lo, hi, cov = V.shift_interval([0, 1, 2, 3, 4], [10, 11, 12, 13, 14])
        self.assertEqual((est, lo, hi), (10, 8, 12))
        self.assertAlmostEqual(cov, 1 - 2 * 12 / 252, places=12)
        # 2 and 2 values cannot reach 90 % (min..max covers 1 - 2/6)
        self.assertIsNone(V.shift_interval([1, 2], [3, 4]))
        self.assertEqual(V.runs_needed(), 3)

    def test_too_few(self):
        d = V.between_verdict([1.0, 1.1], [1.5, 1.6, 1.4])
        self.assertEqual(d["verdict"], V.TOO_FEW)
        self.assertIn("n = 2 < 3", d["reason"])

    def runs(self, rng, effect=1.0, sigma=0.1, first=1.25):
        """Per-round (point, control) of one run: the run's machine speed (x0.5-2, the
        same for every point of the run), per-round drift shared by a round's points,
        each measurement's own noise and a first-position bonus for whichever came first."""
        machine = rng.uniform(0.5, 2.0)
        out = []
        for r in range(5):
            drift = rng.uniform(0.7, 1.3)
            x = machine * drift * effect * rng.lognormvariate(0, sigma) * (first if r % 2 == 0 else 1.0)
            c = machine * drift * rng.lognormvariate(0, sigma) * (first if r % 2 == 1 else 1.0)
            out.append((x, c))
        return out

    def test_a_a_through_the_control(self):
        """20 identical configurations compared between two runs: at most 1 called; the
        same data judged on the raw values (no control) calls far more."""
        rng = random.Random(23)
        calls = raw_calls = 0
        for _ in range(20):
            a, b = self.runs(rng), self.runs(rng)
            d = V.between_verdict([x / c for x, c in a], [x / c for x, c in b])
            calls += d["verdict"] in (V.BETTER, V.WORSE)
            raw = V.between_verdict([x for x, _ in a], [x for x, _ in b])
            raw_calls += raw["verdict"] in (V.BETTER, V.WORSE)
        self.assertLessEqual(calls, 1)
        self.assertGreaterEqual(raw_calls, 5)

    def test_a_real_change_is_seen(self):
        rng = random.Random(5)
        seen = 0
        for _ in range(10):
            a, b = self.runs(rng, sigma=0.03, first=1.05), self.runs(rng, effect=1.3, sigma=0.03, first=1.05)
            seen += V.between_verdict([x / c for x, c in a], [x / c for x, c in b])["verdict"] == "better"
        self.assertGreaterEqual(seen, 9)

    def test_between_text_from_parameters(self):
        t = V.between_text()
        self.assertIn("+-5 %", t)
        self.assertIn("90 %", t)
        self.assertIn("too few below 3 rounds in each run", t)
        self.assertIn("a control that changed makes every comparison through it unresolved", t)

    def test_blocked(self):
        d = V.blocked(V.between_verdict([1, 1.01, 0.99], [1.5, 1.52, 1.49]), "the control changed")
        self.assertEqual(d["outcome"], V.UNRESOLVED)
        self.assertTrue(d["reason"].startswith("the control changed"))
        self.assertIn("+-10 %", V.between_text(threshold=0.1))


if __name__ == "__main__":
    unittest.main()


class StolenRounds(unittest.TestCase):
    """A round whose window (either side's) had host steal at or above the mark is counted
    and named in the reason, on both sides alike; the outcome is the same as without it."""

    def test_marked_not_dropped(self):
        from splicebench import matching as M

        def pt(vals, steal):
            return {"_json": {"runs": [{"round": i, "gbps": v, "steal_share": s}
                                       for i, (v, s) in enumerate(zip(vals, steal), 1)]}}
        a = pt([2.0, 2.1, 1.9, 2.0, 2.05, 1.95, 2.0, 2.02], [0, 0.02, 0, 0, 0, 0, 0, 0.0049])
        b = pt([1.6, 1.7, 1.5, 1.6, 1.64, 1.56, 1.6, 1.61], [0, 0, 0, 0.5, 0, 0, 0, 0])
        d = M.paired(a, b)
        self.assertEqual(d["stolen"], 2)
        self.assertIn("2 of 8 paired rounds", d["reason"])
        self.assertEqual(d["outcome"], V.WORSE)
        clean = M.paired(pt([2.0] * 3 + [2.1] * 3, [0] * 6), pt([2.0] * 3 + [2.1] * 3, [0] * 6))
        self.assertEqual(clean["stolen"], 0)
        self.assertNotIn("stole", clean["reason"])
