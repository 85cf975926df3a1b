#!/usr/bin/env bash
# The report's section "FUSE_OUT_SPLICES against upstream's io_uring zero-copy"
# (splicebench/report/upstream.py, issue 29) from a small fixture cut from the 7.3 guest's
# upstream cost pass (plots/testdata/upstream: its tcp-nic, 1 MiB, root points; cut.py):
# the chart (gnuplot, every point inside its axes), the table (every mode, its multiple of
# the network's own, instructions, system calls per reply, share zero-copied or spliced)
# and the judged sentence; and no such section where a set lacks one of the two modes.
. "$(dirname "$0")/lib.sh"
T_NAME=upstream-report
_require_cmd gnuplot python3 jq
cd "$T_TOP" || exit 1

F=plots/testdata/upstream
R=$T_TMP/up
TITLE="FUSE_OUT_SPLICES against upstream's io_uring zero-copy"
sec() { sed -n "/^## $TITLE/,/^## [A-Z]/p" "$1"; }

if out=$(plots/report "$F" --out "$R" 2>&1); then t_pass "report renders the fixture"; else
	t_fail "report renders the fixture" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
	t_finish
	exit
fi
S=$(sec "$R/report.md")
[ -n "$S" ] && t_pass section-present || t_fail section-present "no '## $TITLE' in report.md"
t_check "chart drawn, PNG and SVG" test -s "$R/cost-upstream.png" -a -s "$R/cost-upstream.svg"
t_check "chart shown in the section" grep -q "(cost-upstream.png)" <<<"$S"
t_check "chart shown once" test "$(grep -c '(cost-upstream.png)' "$R/report.md")" = 1
t_check "chart names every mode and the network's own reader" bash -c \
	"for m in copy splice multipipe uring uring-zc libfuse-copy libfuse-splice \"network's own reader\"; do grep -qF \"\$m\" '$R/cost-upstream.svg' || exit 1; done"
if out=$(python3 . check "$R" 2>&1); then t_pass "chart check: every point inside its axes"; else
	t_fail "chart check: every point inside its axes" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi

# The table: one row a mode and the network's own; the figures are the points'.
row() { grep -F "| $1 |" <<<"$S" | head -n 1; }
cell() { row "$1" | awk -F' *[|] *' -v c="$2" '{ print $(c + 1) }'; }
want=$(python3 - "$F/points.csv" <<'P'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["status"] == "ok":
        print(r["mode"], r["cost_bytes_moved_per_byte"], r["cost_syscalls_per_reply"])
P
)
bad=
while read -r m mv sc; do
	got_mv=$(cell "$m" 4) got_sc=$(cell "$m" 7)
	awk -v a="$got_mv" -v b="$mv" 'BEGIN { exit !(a != "" && (a - b) ^ 2 <= (0.006 * b) ^ 2) }' || bad+=" $m moved $got_mv vs $mv;"
	awk -v a="$got_sc" -v b="$sc" 'BEGIN { exit !(a != "" && (a - b) ^ 2 <= (0.006 * b + 0.01) ^ 2) }' || bad+=" $m syscalls $got_sc vs $sc;"
done <<<"$want"
[ -z "$bad" ] && [ -n "$want" ] && t_pass "table: every mode's bytes moved and syscalls per reply" || t_fail "table: every mode's bytes moved and syscalls per reply" "$bad"
t_check "table: uring-zc zero-copied 100 %" grep -q "100 % zero-copied" <<<"$(row uring-zc)"
t_check "table: multipipe spliced 100 %" grep -q "100 % spliced" <<<"$(row multipipe)"
t_check "table: the network's own reader's row, 1x" grep -q "| 1x |" <<<"$(row "network's own reader")"

# The sentence: the network's own, copy, multipipe and uring-zc with their multiples and
# the judge's verdicts; the cheapest named with its ratios and intervals.
line=$(grep '^At TCP nic, 1M, root' <<<"$S")
t_check "sentence: the network's own reader" grep -q "the network's own reader [0-9.]* (median" <<<"$line"
t_check "sentence: copy, multipipe, uring-zc with their judged multiples" bash -c \
	"for m in copy multipipe uring-zc; do grep -qE \"\$m [0-9.]+ = [0-9.]+x the network's own \\(judged: [0-9.]+x \\([0-9.]+-[0-9.]+, [a-z ]+\\)\\)\" <<<\"\$1\" || exit 1; done" _ "$line"
t_check "sentence: the cheapest, judged against the other two" grep -qE \
	"(Cheapest|Lowest by the median[^:]*): uring-zc, at [0-9.]+x \([0-9.]+-[0-9.]+, [a-z ]+\) copy's and [0-9.]+x \([0-9.]+-[0-9.]+, [a-z ]+\) multipipe's" <<<"$line"
t_check "report.html has the section" grep -qF "FUSE_OUT_SPLICES against upstream" "$R/report.html"

# Not drawn where a set lacks a mode it needs: the sample TCG set (no zero-copy mode), and
# the fixture without uring-zc.
plots/report plots/testdata/sample-tcg --out "$T_TMP/tcg" >/dev/null 2>&1
t_check "no section without a zero-copy mode (sample-tcg)" test -z "$(sec "$T_TMP/tcg/report.md")"
mkdir -p "$T_TMP/nozc"
cp "$F/meta.json" "$T_TMP/nozc/"
grep -v '"mode":"uring-zc"' "$F/points.jsonl" >"$T_TMP/nozc/points.jsonl"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "mode") c = i; print; next } $c != "uring-zc"' "$F/points.csv" >"$T_TMP/nozc/points.csv"
if plots/report "$T_TMP/nozc" --out "$T_TMP/nozc/report" >/dev/null 2>&1; then
	t_check "no section without uring-zc's points" test -z "$(sec "$T_TMP/nozc/report/report.md")"
	t_check "no upstream chart without uring-zc's points" test ! -e "$T_TMP/nozc/report/cost-upstream.png"
else
	t_fail "report renders the fixture without uring-zc" "plots/report failed"
fi
t_finish
