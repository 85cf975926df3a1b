#!/usr/bin/env bash
# bench/compare verdicts on known inputs, by splicebench/verdict.py's rules (two runs through a
# control, one run paired by round): better, worse, too few rounds (n < 3), unresolved (high
# CV, an interval straddling the band), a control that itself changed between the runs
# (unresolved, named), nothing called without a control, A/A (nothing better or worse, the
# tight points equivalent), a fallen-back point labelled with its reason,
# every sentence naming the axes, and TCG sets never compared by time (cost only).
. "$(dirname "$0")/lib.sh"
T_NAME=compare
_require_cmd python3 awk

CMP=$T_TOP/bench/compare
A=$T_TMP/a B=$T_TMP/b TA=$T_TMP/tcg-a TB=$T_TMP/tcg-b
mkdir -p "$A" "$B" "$TA" "$TB"
export PYTHONDONTWRITEBYTECODE=1

# mkset DIR: points.jsonl (per-round GB/s and CPU, as bench/run writes them) from lines
# "MODE BS GBPS,GBPS,... [SPLICED COPIED FALLBACKS GROW]" on stdin, then points.csv by
# splicebench/stats.py csv.  CPU s/GB of a round = 1 / GB/s (so a faster round costs less).
mkset() {
	python3 -c '
import json, statistics, sys
out = []
for i, line in enumerate(sys.stdin.read().strip().splitlines(), 1):
    w = line.split()
    mode, bs, vals = w[0], int(w[1]), [float(x) for x in w[2].split(",")]
    spl, cop, fb, grow = [int(x) for x in w[3:7]] if len(w) > 3 else (0, 100, 0, 0)
    runs = [{"round": r, "position": 1 + (r + i) % 2, "gbps": g, "io_bytes": int(g * 1e9),
             "cpu_s": {"parts": 1.0, "cores": 2}} for r, g in enumerate(vals, 1)]
    m = statistics.median(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    out.append({"point": "%s/mem/bs=%d/nj=1/psync/qd=1/direct=1/t=1" % (mode, bs), "status": "ok",
                "env": "native", "mode": mode, "source": "mem", "path": "mem", "bs": bs, "numjobs": 1,
                "ioengine": "psync", "iodepth": 1, "direct": 1, "threads": 1, "privilege": "root",
                "repeats": len(vals), "runs": runs, "gbps_median": m, "gbps_min": min(vals),
                "gbps_max": max(vals), "gbps_stdev": sd, "gbps_cv": sd / statistics.mean(vals),
                "cpu_parts_s_per_gb": statistics.median(1 / g for g in vals), "cpu_daemon_usr_s_per_gb": 0.5, "cpu_daemon_sys_s_per_gb": 0.1,
                "bytes_spliced": spl, "bytes_copied": cop, "fallbacks": fb, "fallback_grow": grow, "reason": ""})
with open(sys.argv[1] + "/points.jsonl", "w") as f:
    for p in out:
        f.write(json.dumps(p) + "\n")
' "$1" || return 1
	python3 "$T_TOP" stats csv "$1/points.jsonl" >"$1/points.csv"
}
# Two runs, B against A, five rounds each, judged through the control "ctl" (a mode of the
# reference program, measured in the same rounds of each run), bs names the case:
#   4K 1.5x better against the control in every round, but the control itself ran 20 % slower
#   in B: unresolved, 8K worse, 16K ratios straddling 1, 32K n=2 on B, 64K high CV (0.6x-2.0x),
#   128K B's machine 50 % faster on every point (control included): unresolved, 256K a drift inside
#   each run that point and control share, B 10 % better against it, 1M splice fell back
#   on B (and is slower: worse)
printf '%s\n' "ctl 4096 1.0,1.0,1.0,1.0,1.0" "copy 4096 1.0,1.02,0.98,1.0,1.01" \
	"ctl 8192 2.0,2.0,2.0,2.0,2.0" "copy 8192 2.0,2.03,1.97,2.0,2.01" \
	"ctl 16384 3.0,3.0,3.0,3.0,3.0" "copy 16384 3.0,3.0,3.0,3.0,3.0" \
	"ctl 32768 3.0,3.0,3.0,3.0,3.0" "copy 32768 3.0,3.0,3.0,3.0,3.0" \
	"ctl 65536 3.0,3.0,3.0,3.0,3.0" "copy 65536 3.0,3.0,3.0,3.0,3.0" \
	"ctl 131072 2.0,2.1,1.9,2.0,2.05" "copy 131072 3.0,3.1,2.9,3.05,3.0" \
	"ctl 262144 5,4,3,2,1" "copy 262144 5,4,3,2,1" \
	"ctl 1048576 2.0,2.0,2.0,2.0,2.0" "splice 1048576 4.0,4.02,3.98,4.0,4.01 1000 0 0 0" |
	mkset "$A" || t_fail mkset.A
printf '%s\n' "ctl 4096 0.8,0.8,0.8,0.8,0.8" "copy 4096 1.2,1.22,1.18,1.2,1.21" \
	"ctl 8192 2.0,2.0,2.0,2.0,2.0" "copy 8192 1.5,1.52,1.48,1.5,1.51" \
	"ctl 16384 3.0,3.0,3.0,3.0,3.0" "copy 16384 2.7,3.3,3.0,3.6,2.85" \
	"ctl 32768 3.0,3.0" "copy 32768 4.0,4.01" \
	"ctl 65536 3.0,3.0,3.0,3.0,3.0" "copy 65536 1.8,6.0,3.9,4.2,5.1" \
	"ctl 131072 3.0,3.15,2.85,3.0,3.08" "copy 131072 4.5,4.65,4.35,4.58,4.5" \
	"ctl 262144 5,4,3,2,1" "copy 262144 5.5,4.4,3.3,2.2,1.1" \
	"ctl 1048576 2.0,2.0,2.0,2.0,2.0" "splice 1048576 3.0,3.02,2.98,3.0,3.01 20 980 9 9" |
	mkset "$B" || t_fail mkset.B
echo '{"env":"native","programs":{"libfuse-ref":["ctl"]}}' >"$A/meta.json"
cp "$A/meta.json" "$B/meta.json"

out=$("$CMP" "$A" "$B" --csv "$T_TMP/ab.csv" 2>&1)
rc=$?
[ $rc -eq 0 ] && t_pass "compare A B: exit 0" || t_fail "compare A B" "exit $rc: $(echo "$out" | tail -n1)"
t_log "$(echo "$out" | grep -v '^copy\|^splice\|^ctl' | head -n 4)"
# verdict BS [CSV]: the gbps_verdict of the CSV row of the non-control mode at that bs.
verdict() {
	awk -F, -v bs="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["point"] ~ ("bs=" bs "/") && $c["point"] !~ /^ctl/ { print $c["gbps_verdict"] "|" $c["gbps_why"] }' "${2:-$T_TMP/ab.csv}"
}
check() { # NAME BS EXPECTED-VERDICT [WHY-SUBSTRING [CSV]]
	local got
	got=$(verdict "$2" "${5:-}")
	[ "${got%%|*}" = "$3" ] && [[ "${got#*|}" == *"${4:-}"* ]] && t_pass "$1" || t_fail "$1" "got '$got', want '$3' ${4:+($4)}"
}
check "B better against a control that itself changed 20 % between the runs: unresolved, said why" 4096 unresolved "the control mode=ctl itself changed between the runs (0.80x"
check "B worse in every round: worse" 8192 worse
check "ratios straddling 1: unresolved, the interval straddles the band, rounds to resolve it" 16384 unresolved "straddles the band 0.952-1.050; about"
check "n=2 on one side: too few rounds, says n" 32768 "too few rounds" "n = 2 < 3"
check "high CV (0.6x-2.0x): unresolved" 65536 unresolved "interval"
check "B's machine 50 % faster on every point, the control too: unresolved, never better" 131072 unresolved "itself changed between the runs (1.50x"
check "10 % better against the control under a drift inside each run: better" 262144 better
check "fallen-back point still ranked by its figures" 1048576 worse
t_check "the control's own row: no verdict, says so" bash -c \
	"awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } \$c[\"point\"] ~ /^ctl/ && \$c[\"gbps_why\"] != \"the control itself\" { bad = 1 } END { exit bad }' '$T_TMP/ab.csv'"
sent=$(echo "$out" | grep -F "splice (copied 98 %, pipe could not grow) against splice at")
[ -n "$sent" ] && t_pass "the fallen-back point says so in the sentence, with its reason" ||
	t_fail "fallback label" "$(echo "$out" | grep '^splice' | head -n1)"
t_check "every sentence names the axes (source, bs, numjobs, direct)" bash -c \
	"[ \$(echo \"\$1\" | sed -n '/^# Verdicts/,\$p' | grep -c ' at mem, bs=[0-9]*[KM], numjobs=1, psync, iodepth=1, direct=1') -eq 16 ]" _ "$out"
t_check "every sentence gives the ratio through the control and its interval" bash -c \
	"echo \"\$1\" | grep -F 'copy against copy at mem, bs=4K' | grep -qF 'ratio 1.50x through the control mode=ctl, 5 rounds in each run, interval 1.47-1.52'" _ "$out"
rule=$(cd "$T_TOP" && python3 -c 'from splicebench import verdict; print(verdict.between_text())')
t_check "the between-runs rule is printed, the text generated by splicebench/verdict.py" bash -c \
	"echo \"\$1\" | grep -qF \"# rule (two runs): \$2\" && echo \"\$2\" | grep -q '+-5 %' && echo \"\$2\" | grep -q '90 %'" _ "$out" "$rule"
t_check "the header names the control" bash -c "echo \"\$1\" | grep -q '^# control: mode=ctl, measured in the same rounds'" _ "$out"
help=$("$CMP" --help | tr '\n' ' ' | tr -s ' ')
rule1=$(cd "$T_TOP" && python3 -c 'from splicebench import verdict; print(verdict.rule_text())')
t_check "--help states both rules from splicebench/verdict.py, not a hand copy" bash -c \
	"echo \"\$1\" | grep -qF -- \"\$(echo \"\$2\" | tr -s ' ')\" && echo \"\$1\" | grep -qF -- \"\$(echo \"\$3\" | tr -s ' ')\"" _ "$help" "$rule1" "$rule"
t_check "CPU judged by the same rule (lower is better: B's faster rounds cost less)" bash -c \
	"awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } \$c[\"point\"] ~ /^copy.*bs=8192\\// { print \$c[\"cpu_verdict\"] }' '$T_TMP/ab.csv' | grep -qx worse"

# without a control nothing is called between two runs, however large the change
"$CMP" "$A" "$B" --control none --csv "$T_TMP/none.csv" >"$T_TMP/none.out" 2>&1
check "--control none: B better in every round is not called" 4096 unresolved "no control" "$T_TMP/none.csv"
t_check "--control none: the header says nothing is called" grep -q '^# control: none: nothing is called' "$T_TMP/none.out"
"$CMP" "$A" "$B" --control mode=nosuch >/dev/null 2>"$T_TMP/err"
[ $? -eq 2 ] && [ "$(grep -c . "$T_TMP/err")" -eq 1 ] && grep -q "no point with mode=nosuch" "$T_TMP/err" &&
	t_pass "--control naming no point: one line, exit 2" || t_fail "--control bad" "$(cat "$T_TMP/err")"

# A/A: a set against itself: nothing better or worse; a point whose ratio to the control is
# steady round to round (4K, 8K, 1M) is equivalent, the drifting one (256K) cannot be told
"$CMP" "$A" "$A" --csv "$T_TMP/aa.csv" >/dev/null 2>&1
n=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["gbps_verdict"] ~ /better|worse/ { n++ } END { print n + 0 }' "$T_TMP/aa.csv")
[ "$n" = 0 ] && t_pass "A/A: no comparison of a set with itself is better or worse" || t_fail "A/A" "$n verdicts"
n=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["point"] !~ /^ctl/ && $c["gbps_verdict"] != "equivalent" { n++ } END { print n + 0 }' "$T_TMP/aa.csv")
[ "$n" = 0 ] && t_pass "A/A: every point steady against its control is equivalent (the interval inside the band)" || t_fail "A/A equivalent" "$n not equivalent"

# a set run under TCG is never compared by time, even when its rounds would say so
cp -r "$B" "$T_TMP/b-tcg"
echo '{"env":"tcg"}' >"$T_TMP/b-tcg/meta.json"
"$CMP" "$A" "$T_TMP/b-tcg" --csv "$T_TMP/atcg.csv" >/dev/null 2>&1
t_check "a TCG side: no GB/s or CPU verdict at all" bash -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } \$c[\"gbps_verdict\"] != \"\" || \$c[\"cpu_verdict\"] != \"\" { bad = 1 } END { exit bad }' '$T_TMP/atcg.csv'"

# --by mode within one set: verdicts against the base mode, axes named
printf '%s\n' "copy 1048576 3.0,3.02,2.98,3.0,3.01" "splice 1048576 4.0,4.02,3.98,4.0,4.01 1000 0 0 0" | mkset "$A"
out=$("$CMP" "$A" --by mode --base copy --csv "$T_TMP/by.csv" 2>&1)
echo "$out" | grep -qF "splice against copy at mem, bs=1M, numjobs=1, psync, iodepth=1, direct=1, threads=1, privilege=root: 4.000 vs 3.000 GB/s (ratio 1.33x over 5 paired rounds, interval 1.33-1.34): better" &&
	t_pass "--by mode: splice against copy, better, axes named" || t_fail "--by mode" "$(echo "$out" | tail -n 3)"

# TCG: verdicts are cost ratios, never timings
H=point,status,env,mode,source,path,bs,numjobs,direct,repeats,gbps_median,gbps_min,gbps_max,gbps_stdev,gbps_cv,bytes_spliced,bytes_copied,fallbacks,fallback_grow,reason
HT=$H,cost_bytes_moved_per_byte,cost_instr_per_byte_kernel,cost_repeats
cat >"$TA/points.csv" <<EOF
$HT
mp,ok,tcg,multipipe,mem,mem,1048576,1,1,1,0.02,0.02,0.02,0,0,1000,0,0,0,,3.0,0.60,3
cp,ok,tcg,copy,mem,mem,131072,1,1,1,0.02,0.02,0.02,0,0,0,1000,0,,,3.0,0.60,1
EOF
cat >"$TB/points.csv" <<EOF
$HT
mp,ok,tcg,multipipe,mem,mem,1048576,1,1,1,0.05,0.05,0.05,0,0,1000,0,0,0,,1.5,0.30,3
cp,ok,tcg,copy,mem,mem,131072,1,1,1,0.09,0.09,0.09,0,0,0,1000,0,,,1.5,0.30,3
EOF
# the cost windows the verdicts are judged on (points.jsonl, as bench/run --cost writes them)
win() { # POINT MOVED... -> a points.jsonl line with one cost window per value
	python3 -c 'import json, sys; print(json.dumps({"point": sys.argv[1], "cost_windows": [
	    {"round": i, "bytes_moved_per_byte": float(v), "instr_per_byte_kernel": float(v) / 5}
	    for i, v in enumerate(sys.argv[2:], 1)]}))' "$@"
}
{ win mp 3.0 3.05 2.95; win cp 3.0; } >"$TA/points.jsonl"
{ win mp 1.5 1.52 1.48; win cp 1.5 1.5 1.5; } >"$TB/points.jsonl"
echo '{"env":"tcg"}' >"$TA/meta.json"
cp "$TA/meta.json" "$TB/meta.json"
out=$("$CMP" "$TA" "$TB" --csv "$T_TMP/tcg.csv" 2>&1)
t_check "TCG: no GB/s verdict at all" bash -c "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } \$c[\"gbps_verdict\"] != \"\" { bad = 1 } END { exit bad }' '$T_TMP/tcg.csv'"
t_check "TCG: cost verdict 'better' on bytes moved (3 windows each, 0.50x)" bash -c \
	"echo \"\$1\" | grep -qF 'multipipe against multipipe at mem, bs=1M, numjobs=1, direct=1: bytes moved per byte delivered 1.5 vs 3 (0.500x, interval 0.485-0.515): better'" _ "$out"
t_check "TCG: one cost window on a side is too few" bash -c \
	"echo \"\$1\" | grep -F 'copy against copy at mem, bs=128K' | grep -qF 'too few rounds (n = 1 < 3 cost windows in A)'" _ "$out"
t_check "TCG: the sentence carries no GB/s" bash -c "! echo \"\$1\" | sed -n '/^# Verdicts/,\$p' | grep -q 'GB/s'" _ "$out"

# bad input: one line, exit 2
"$CMP" "$T_TMP/nowhere" "$B" >/dev/null 2>"$T_TMP/err"
rc=$?
[ $rc -eq 2 ] && [ "$(grep -c . "$T_TMP/err")" -eq 1 ] && t_pass "missing result set: one line, exit 2" ||
	t_fail "missing result set" "exit $rc: $(cat "$T_TMP/err")"
"$CMP" "$A" --by nosuchaxis --base x >/dev/null 2>"$T_TMP/err"
[ $? -eq 2 ] && grep -q "not an axis" "$T_TMP/err" && t_pass "unknown axis: exit 2" || t_fail "unknown axis" "$(cat "$T_TMP/err")"
exit $((T_FAILED > 0))
