#!/usr/bin/env bash
# The Python unit tests (tests/py/test_*.py, python3 -m unittest) on known inputs: the
# verdict rule (splicebench/verdict.py: n < 3, high CV, drift that follows the run order,
# A/A, the interval's determinism), the runner's planning (splicebench/plan.py: a mode
# invented in a fake --list, with options, through expansion, rounds and aggregation),
# the results module's paired verdicts and pick_row.  One PASS/FAIL/SKIP line a test.
. "$(dirname "$0")/lib.sh"
T_NAME=py
_require_cmd python3
export PYTHONDONTWRITEBYTECODE=1
out=$(cd "$T_TOP" && python3 - tests/py <<'PY' 2>&1
import sys
import unittest


class Lines(unittest.TestResult):
    def name(self, t):
        return t.id().replace("test_", "", 1)

    def addSuccess(self, t):
        print("PASS py.%s" % self.name(t))

    def addFailure(self, t, err):
        super().addFailure(t, err)
        print("FAIL py.%s: %s" % (self.name(t), str(err[1]).replace("\n", " ")[:300]))

    def addError(self, t, err):
        super().addError(t, err)
        print("FAIL py.%s: %s: %s" % (self.name(t), err[0].__name__, str(err[1]).replace("\n", " ")[:300]))

    def addSkip(self, t, why):
        print("SKIP py.%s: %s" % (self.name(t), why))


suite = unittest.defaultTestLoader.discover(sys.argv[1], pattern="test_*.py", top_level_dir=sys.argv[1])
if suite.countTestCases() == 0:
    print("FAIL py.discover: no test found under %s" % sys.argv[1])
r = Lines()
suite.run(r)
sys.exit(1 if r.failures or r.errors or not suite.countTestCases() else 0)
PY
)
rc=$?
printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) '
# an import error (a module that does not load) shows as no PASS at all
printf '%s\n' "$out" | grep -vE '^(PASS|FAIL|SKIP) ' | grep -q . && t_log "$(printf '%s\n' "$out" | grep -vE '^(PASS|FAIL|SKIP) ' | tail -n 3)"
[ $rc = 0 ] || [ -n "$(printf '%s\n' "$out" | grep '^FAIL ')" ] || t_fail py.runner "python3 exited $rc"
