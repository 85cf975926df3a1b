"""Unit tests of splicebench/results.py: which modes are copy modes, and how a mode is labelled."""
import os
import sys
import unittest

from splicebench import results as R


def row(mode, spliced, copied, visible=True, fallbacks=0):
    return {"status": "ok", "mode": mode, "bytes_spliced": spliced, "bytes_copied": copied,
            "fallbacks": fallbacks, "fallbacks_visible": visible}


# a TCG set: every mode copied every byte; libfuse's daemon cannot see its fallbacks
ROWS = [row("copy", 0, 100), row("splice", 0, 100, fallbacks=3), row("libfuse-copy", 0, 100, False),
        row("libfuse-splice", 0, 100, False)]
META = {"modes": ["copy", "splice", "libfuse-copy", "libfuse-splice"], "splicing_modes": ["splice", "libfuse-splice"]}


class CopyModes(unittest.TestCase):
    def test_hidden_fallbacks_of_a_splicing_mode(self):
        # libfuse-splice spliced nothing that its daemon could see: it is not a copy mode
        self.assertEqual(R.copy_like_modes(ROWS, {}, META), {"copy", "libfuse-copy"})

    def test_hidden_fallbacks_unknown_mode(self):
        # neither meta.json nor a --list says: not taken for a copy mode
        meta = {"modes": ["copy"], "splicing_modes": []}
        self.assertEqual(R.copy_like_modes(ROWS, {}, meta), {"copy"})

    def test_visible_counters_decide(self):
        self.assertEqual(R.copy_like_modes([row("a", 0, 5), row("b", 5, 0)], {}, {"splicing_modes": []}), {"a"})

    def test_labels(self):
        cm = R.copy_like_modes(ROWS, {}, META)
        self.assertEqual(R.mode_label(ROWS[3], cm), "libfuse-splice (fallbacks not visible)")
        self.assertEqual(R.mode_label(ROWS[2], cm), "libfuse-copy")
        self.assertEqual(R.mode_label(ROWS[1], cm), "splice (copied 100 %)")
        self.assertEqual(R.mode_label(ROWS[0], cm), "copy")
        self.assertTrue(R.fallbacks_hidden({"fallbacks_visible": "false"}))
        self.assertFalse(R.fallbacks_hidden({"fallbacks_visible": ""}))


if __name__ == "__main__":
    unittest.main()
