#!/usr/bin/env bash
# bench/compare verdicts on known inputs: better, worse, within noise (overlapping
# ranges, n < 3, CV over the matrix's cv_target), a fallen-back point labelled with
# its reason, every sentence naming the axes, and TCG sets ranked by cost only.
. "$(dirname "$0")/lib.sh"
T_NAME=compare
_require_cmd python3 awk

CMP=$T_TOP/bench/compare
A=$T_TMP/a B=$T_TMP/b TA=$T_TMP/tcg-a TB=$T_TMP/tcg-b
mkdir -p "$A" "$B" "$TA" "$TB"
H=status,env,mode,source,path,bs,numjobs,direct,repeats,gbps_median,gbps_min,gbps_max,gbps_stdev,gbps_cv,bytes_spliced,bytes_copied,fallbacks,fallback_grow,reason

# A and B: the same five points; bs names the case.
#   4K better, 8K worse, 16K overlapping, 32K n=2 on B, 64K CV 0.2 on B, 1M splice fell back on B.
cat >"$A/points.csv" <<EOF
$H
ok,native,copy,mem,mem,4096,1,1,5,1.00,0.98,1.02,0.01,0.01,0,100,0,,
ok,native,copy,mem,mem,8192,1,1,5,2.00,1.97,2.03,0.02,0.01,0,100,0,,
ok,native,copy,mem,mem,16384,1,1,5,3.00,2.90,3.10,0.05,0.017,0,100,0,,
ok,native,copy,mem,mem,32768,1,1,5,3.00,2.97,3.03,0.02,0.007,0,100,0,,
ok,native,copy,mem,mem,65536,1,1,5,3.00,2.97,3.03,0.02,0.007,0,100,0,,
ok,native,splice,mem,mem,1048576,1,1,5,4.00,3.96,4.04,0.02,0.005,1000,0,0,0,
EOF
cat >"$B/points.csv" <<EOF
$H
ok,native,copy,mem,mem,4096,1,1,5,1.50,1.48,1.52,0.01,0.007,0,100,0,,
ok,native,copy,mem,mem,8192,1,1,5,1.50,1.48,1.52,0.01,0.007,0,100,0,,
ok,native,copy,mem,mem,16384,1,1,5,3.05,2.95,3.15,0.05,0.016,0,100,0,,
ok,native,copy,mem,mem,32768,1,1,2,4.00,3.99,4.01,0.01,0.003,0,100,0,,
ok,native,copy,mem,mem,65536,1,1,5,4.50,4.00,5.00,0.9,0.2,0,100,0,,
ok,native,splice,mem,mem,1048576,1,1,5,3.00,2.97,3.03,0.01,0.003,20,980,9,9,
EOF
echo '{"env":"native","matrix_text":"cv_target = 0.05\n"}' >"$A/meta.json"
cp "$A/meta.json" "$B/meta.json"

out=$("$CMP" "$A" "$B" --csv "$T_TMP/ab.csv" 2>&1)
rc=$?
[ $rc -eq 0 ] && t_pass "compare A B: exit 0" || t_fail "compare A B" "exit $rc: $(echo "$out" | tail -n1)"
t_log "$(echo "$out" | grep -v '^copy\|^splice' | head -n 3)"
# verdict BS: the gbps_verdict of the CSV row at that bs (columns by name).
verdict() {
	awk -F, -v bs="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["point"] ~ ("bs=" bs) && $c["point"] !~ ("bs=" bs "[0-9]") { print $c["gbps_verdict"] "|" $c["gbps_why"] }' "$T_TMP/ab.csv"
}
check() { # NAME BS EXPECTED-VERDICT [WHY-SUBSTRING]
	local got
	got=$(verdict "$2")
	[ "${got%%|*}" = "$3" ] && [[ "${got#*|}" == *"${4:-}"* ]] && t_pass "$1" || t_fail "$1" "got '$got', want '$3' ${4:+($4)}"
}
check "B better: ranges apart, > 2 stdev, n >= 3, CV under target" 4K better
check "B worse" 8K worse
check "overlapping ranges: within noise" 16K "within noise" "ranges overlap"
check "n=2 on one side: within noise, says n" 32K "within noise" "n=2 < 3"
check "CV 0.2 over cv_target 0.05: within noise, says CV" 64K "within noise" "CV 0.200 >= target 0.05"
check "fallen-back point still ranked by its figures" 1M worse
sent=$(echo "$out" | grep -F "splice (copied 98 %, pipe could not grow) against splice at")
[ -n "$sent" ] && t_pass "the fallen-back point says so in the sentence, with its reason" ||
	t_fail "fallback label" "$(echo "$out" | grep '^splice' | head -n1)"
t_check "every sentence names the axes (source, bs, numjobs, direct)" bash -c \
	"[ \$(echo \"\$1\" | sed -n '/^# Verdicts/,\$p' | grep -c ' at mem, bs=[0-9]*[KM], numjobs=1, direct=1') -eq 6 ]" _ "$out"
t_check "the rule is printed (n >= 3, cv_target from the matrix)" bash -c \
	"echo \"\$1\" | grep -q 'n >= 3 repeats and CV under the matrix.s cv_target' && echo \"\$1\" | grep -q 'cv_target 0.05'" _ "$out"
# a stricter target from the matrix text turns 'better' into 'within noise'
echo '{"env":"native","matrix_text":"cv_target = 0.005\n"}' >"$B/meta.json"
"$CMP" "$A" "$B" --csv "$T_TMP/ab.csv" >/dev/null 2>&1
check "cv_target read from the matrix (0.005): the 4K point is within noise" 4K "within noise" "CV"
cp "$A/meta.json" "$B/meta.json"

# --by mode within one set: verdicts against the base mode, axes named
cat >>"$A/points.csv" <<EOF
ok,native,copy,mem,mem,1048576,1,1,5,3.00,2.97,3.03,0.02,0.007,0,100,0,,
EOF
out=$("$CMP" "$A" --by mode --base copy --csv "$T_TMP/by.csv" 2>&1)
echo "$out" | grep -qF "splice against copy at mem, bs=1M, numjobs=1, direct=1: 4.000 vs 3.000 GB/s (1.33x, +33.3 %): better" &&
	t_pass "--by mode: splice against copy, better, axes named" || t_fail "--by mode" "$(echo "$out" | tail -n 3)"

# TCG: verdicts are cost ratios, never timings
HT=$H,cost_bytes_moved_per_byte,cost_instr_per_byte_kernel,cost_repeats
cat >"$TA/points.csv" <<EOF
$HT
ok,tcg,multipipe,mem,mem,1048576,1,1,1,0.02,0.02,0.02,0,0,1000,0,0,0,,3.0,0.60,3
ok,tcg,copy,mem,mem,131072,1,1,1,0.02,0.02,0.02,0,0,0,1000,0,,,3.0,0.60,1
EOF
cat >"$TB/points.csv" <<EOF
$HT
ok,tcg,multipipe,mem,mem,1048576,1,1,1,0.05,0.05,0.05,0,0,1000,0,0,0,,1.5,0.30,3
ok,tcg,copy,mem,mem,131072,1,1,1,0.09,0.09,0.09,0,0,0,1000,0,,,1.5,0.30,3
EOF
echo '{"env":"tcg"}' >"$TA/meta.json"
cp "$TA/meta.json" "$TB/meta.json"
out=$("$CMP" "$TA" "$TB" --csv "$T_TMP/tcg.csv" 2>&1)
t_check "TCG: no GB/s verdict at all" bash -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } \$c[\"gbps_verdict\"] != \"\" { bad = 1 } END { exit bad }' '$T_TMP/tcg.csv'"
t_check "TCG: cost verdict 'better' on bytes moved (3 windows each, 0.50x)" bash -c \
	"echo \"\$1\" | grep -qF 'multipipe against multipipe at mem, bs=1M, numjobs=1, direct=1: bytes moved per byte delivered 1.5 vs 3 (0.50x): better'" _ "$out"
t_check "TCG: one cost window on a side is within noise" bash -c \
	"echo \"\$1\" | grep -F 'copy against copy at mem, bs=128K' | grep -qF 'within noise (A: 1 cost window(s) < 3)'" _ "$out"
t_check "TCG: the sentence carries no GB/s" bash -c "! echo \"\$1\" | sed -n '/^# Verdicts/,\$p' | grep -q 'GB/s'" _ "$out"

# bad input: one line, exit 2
"$CMP" "$T_TMP/nowhere" "$B" >/dev/null 2>"$T_TMP/err"
rc=$?
[ $rc -eq 2 ] && [ "$(grep -c . "$T_TMP/err")" -eq 1 ] && t_pass "missing result set: one line, exit 2" ||
	t_fail "missing result set" "exit $rc: $(cat "$T_TMP/err")"
"$CMP" "$A" --by nosuchaxis --base x >/dev/null 2>"$T_TMP/err"
[ $? -eq 2 ] && grep -q "not an axis" "$T_TMP/err" && t_pass "unknown axis: exit 2" || t_fail "unknown axis" "$(cat "$T_TMP/err")"
exit $((T_FAILED > 0))
