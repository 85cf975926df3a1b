#!/usr/bin/env bash
# plots/: every chart and the report from the fixed sample result sets
# (plots/testdata), checked against figures this test computes itself with awk;
# a malformed points.csv fails cleanly and leaves no half-written report.
. "$(dirname "$0")/lib.sh"
T_NAME=plots
_require_cmd gnuplot python3 awk od jq

P=$T_TOP/plots
S=$P/testdata/sample
SB=$P/testdata/sample-b
ST=$P/testdata/sample-tcg
R=$T_TMP/report
TCG=$T_TMP/tcg

# col FILE NAME: the 1-based index of column NAME in FILE's header.
col() { head -n1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }

# png_ok FILE: a PNG of a few KB at least, with sane dimensions.
png_ok() {
	local f=$1 size w h b
	[ -f "$f" ] || { echo "$f: missing"; return 1; }
	size=$(stat -c %s "$f")
	[ "$size" -gt 8000 ] || { echo "$f: only $size bytes"; return 1; }
	[ "$(od -An -tx1 -N8 "$f" | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$f: not a PNG"; return 1; }
	read -r -a b <<<"$(od -An -tu1 -j16 -N8 "$f")"
	w=$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]))
	h=$(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]))
	[ "$w" -ge 800 ] && [ "$w" -le 5000 ] && [ "$h" -ge 500 ] && [ "$h" -le 3000 ] ||
		{ echo "$f: ${w}x${h}"; return 1; }
}

# svg_has FILE TEXT...: the SVG exists and carries every TEXT (series names, reference lines).
svg_has() {
	local f=$1 t
	shift
	[ -s "$f" ] && grep -q '<svg' "$f" || { echo "$f: missing or not SVG"; return 1; }
	for t; do grep -qF -- "$t" "$f" || { echo "$f: no '$t'"; return 1; }; done
}

# md_has FILE TEXT: report.md carries TEXT (printed on failure).
md_has() { grep -qF -- "$2" "$1" || { echo "$1: no sentence '$2'"; return 1; }; }

# --- render
if out=$("$P/report" "$S" --compare "$SB" --out "$R" 2>&1); then t_pass "report renders sample with --compare sample-b"; else
	t_fail "report renders sample with --compare sample-b" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi
t_check "gnuplot said nothing (no warnings)" test -z "$(echo "$out" | grep -v '^plots: [0-9]* charts')"
if out=$("$P/report" "$ST" --out "$TCG" 2>&1); then t_pass "report renders sample-tcg"; else
	t_fail "report renders sample-tcg" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi
t_check "plot writes DIR/plots by default" bash -c "cp -r '$ST' '$T_TMP/st' && '$P/plot' '$T_TMP/st' >/dev/null && ls '$T_TMP/st/plots/'cost-*.png >/dev/null"

# --- the expected charts, from the sample CSV's groups
csv=$S/points.csv
c_status=$(col "$csv" status) c_src=$(col "$csv" source) c_path=$(col "$csv" path) c_dir=$(col "$csv" direct)
c_nj=$(col "$csv" numjobs) c_bs=$(col "$csv" bs) c_mode=$(col "$csv" mode) c_g=$(col "$csv" gbps_median)
c_base=$(col "$csv" baseline_gbps) c_cp=$(col "$csv" bytes_copied)
slugs=$(awk -F, -v s="$c_status" -v a="$c_src" -v p="$c_path" -v d="$c_dir" 'NR > 1 && $s == "ok" {
	g = ($p == "mem" || $p == "" || substr($a, length($a) - length($p) + 1) == $p) ? $a : $a "-" $p
	if ($d == 0) g = g "-buffered"; print g }' "$csv" | sort -u)
njs=$(awk -F, -v s="$c_status" -v n="$c_nj" 'NR > 1 && $s == "ok" { print $n }' "$csv" | sort -n -u)
nj1=$(echo "$njs" | head -n1)
expect=()
for g in $slugs; do
	for n in $njs; do expect+=("gbps-bs-$g-j$n"); done
	expect+=("cpu-$g-j$nj1" "scaling-$g" "latency-$g-j$nj1" "compare-$g-j$nj1")
done
t_log "expecting ${#expect[@]} charts: ${expect[*]}"
[ "${#expect[@]}" -ge 10 ] && t_pass "sample has the groups this test expects" || t_fail "sample groups" "${#expect[@]} charts"
bad=
for e in "${expect[@]}"; do
	m=$(png_ok "$R/$e.png") || bad="$bad $m;"
	[ -s "$R/$e.svg" ] || bad="$bad $e.svg missing;"
	[ -s "$R/src/$e.gp" ] && [ -s "$R/src/$e.dat" ] || bad="$bad $e.gp/.dat missing;"
done
[ -z "$bad" ] && t_pass "every chart exists as PNG (> 8 KB, sane size) and SVG, with its script" || t_fail "charts" "$bad"
n_png=$(ls "$R"/*.png | wc -l)
[ "$n_png" -eq "${#expect[@]}" ] && t_pass "no unexpected chart ($n_png)" || t_fail "chart count" "$n_png PNGs, expected ${#expect[@]}"
t_check "no cost chart without cost_* columns" test -z "$(ls "$R"/cost-* 2>/dev/null)"
t_check "report says why the cost chart is missing" md_has "$R/report.md" "no cost_* columns"

# --- SVG content: series and reference lines
modes=$(awk -F, -v s="$c_status" -v m="$c_mode" 'NR > 1 && $s == "ok" { print $m }' "$csv" | sort -u)
for g in $slugs; do
	# shellcheck disable=SC2086
	t_check "SVG gbps-bs-$g-j$nj1 names every mode and 100G line" svg_has "$R/gbps-bs-$g-j$nj1.svg" $modes "100G Ethernet line rate"
done
t_check "SVG of TCP loopback carries the iperf3 baseline line" svg_has "$R/gbps-bs-tcp-loopback-j$nj1.svg" "iperf3 TCP loopback"
t_check "SVG GB/s chart marks the splice fallback" svg_has "$R/gbps-bs-mem-j$nj1.svg" "fell back to copying"
t_check "SVG CPU chart names the parts, rest of machine apart" svg_has "$R/cpu-mem-j$nj1.svg" "daemon" "fio" "kernel threads" \
	"rest = rest of machine (s/GB), never part of a mode's cost"
t_check "SVG titles name kernel, variant, env" svg_has "$R/latency-mem-j$nj1.svg" "$(jq -r .kernel "$S/meta.json")" "variant fixed" "native"
t_check "SVG comparison names both sets" svg_has "$R/compare-mem-j$nj1.svg" "A (sample)" "B (sample-b)"
# shellcheck disable=SC2046
t_check "SVG comparison labels each mode's group" svg_has "$R/compare-mem-j$nj1.svg" $(for m in $modes; do echo ">$m<"; done)

# --- headline tables, computed independently
md=$R/report.md
miss=
for e in "${expect[@]}"; do grep -qF "\"$e.png\"" "$R/report.html" && grep -qF "($e.png)" "$md" || miss="$miss $e"; done
[ -z "$miss" ] && t_pass "report.md and report.html show or link every chart" || t_fail "report charts" "missing:$miss"
t_check "report.md links the charts, embeds none (pastes into a post as is)" bash -c "! grep -q '!\[' '$md' && ! grep -qi '<img\|<br\|<table' '$md'"

# hl_row FILE SECTION BS MODE: the cells of MODE's row in block size BS of the headline
# table under '### SECTION', '|'-separated and trimmed ('' when there is none).
hl_row() {
	awk -v sec="### $2" -v bs="$3" -v mode="$4" '
		$0 == sec { on = 1; next }
		on && /^##/ { exit }
		on && /^\| / && !/^\| bs \|/ && !/^\|---/ {
			n = split($0, c, "|"); for (i = 2; i < n; i++) gsub(/^ +| +$/, "", c[i])
			if (c[2] != "") cur = c[2]
			if (cur == bs && c[3] == mode) { out = c[3]; for (i = 4; i < n; i++) out = out "|" c[i]; print out; exit }
		}' "$1"
}
# share X: "35 %" / "4.4 %" as the report writes a share of 100.
share() { awk -v x="$1" 'BEGIN { if (x >= 9.95 || x == 0) printf "%.0f %%", x; else printf "%.1f %%", x }'; }
# fig3 X: 3 significant digits, no exponent.
fig3() { awk -v x="$1" 'BEGIN { a = x < 0 ? -x : x; d = 2 - int(log(a) / log(10) + (a < 1 ? -0.999999 : 0)); if (d < 0) d = 0; printf "%." d "f", x }'; }
# jcell DIR KIND BASE MODE SOURCE BS NJ: the cell the judge gives MODE against BASE at those
# axes ('1.23x ▲ (1.10-1.35)': its estimate, mark and interval; KIND gbps, cpu or cost), asked
# of splicebench.verdict through results.py, never re-derived here.
jcell() {
	(cd "$T_TOP" && python3 - "$@" <<'PY'
import sys
from splicebench import results as R
from splicebench.report import judge
d, kind, base, mode, src, bs, nj = sys.argv[1:]
rs = R.load_set(d)
pick = lambda m: next(r for r in rs.rows if r["status"] == "ok" and r["mode"] == m and r["source"] == src
                      and int(r["bs"]) == int(bs) and int(r["numjobs"]) == int(nj))
a, b = pick(base), pick(mode)
name, get = R.COST_METRICS[0]
v = judge.verdict(a, b, kind, metric=name, get=get)
print(f"{v['estimate']:.2f}x {v['mark']}" + (f" ({v['lo']:.2f}-{v['hi']:.2f})" if v["lo"] is not None else ""))
PY
	)
}
gb() { # gb SOURCE MODE BS NJ: gbps_median of that point
	awk -F, -v s="$c_status" -v a="$c_src" -v mo="$c_mode" -v b="$c_bs" -v n="$c_nj" -v g="$c_g" \
		-v A="$1" -v M="$2" -v B="$3" -v N="$4" 'NR > 1 && $s == "ok" && $a == A && $mo == M && $b == B && $n == N { print $g }' "$csv"
}
bsmax=$(awk -F, -v s="$c_status" -v b="$c_bs" 'NR > 1 && $s == "ok" && $b > m { m = $b } END { print m }' "$csv")
bsl=$(awk -v t="$bsmax" 'BEGIN { if (t >= 1048576) print t / 1048576 "M"; else print t / 1024 "K" }')
base=$(awk -F, -v a="$c_src" -v bb="$c_base" 'NR > 1 && $a ~ /^tcp/ && $bb != "" { print $bb; exit }' "$csv")
gc=$(gb tcp-loopback copy "$bsmax" "$nj1") gm=$(gb tcp-loopback multipipe "$bsmax" "$nj1") gs=$(gb tcp-loopback splice "$bsmax" "$nj1")
t_log "expect at tcp-loopback, bs=$bsl, $nj1 job(s): copy $gc, splice $gs, multipipe $gm GB/s; iperf3 $base"
want_c="copy|$(fig3 "$gc")|base|$(share "$(awk -v g="$gc" -v b="$base" 'BEGIN { print 100 * g / b }')")|$(share "$(awk -v g="$gc" 'BEGIN { print 100 * g / 12.5 }')")|"
t_check "headline table: copy's row (GB/s, base, share of iperf3 and of 12.5 GB/s)" test "$(hl_row "$md" "TCP loopback" "$bsl" copy)" = "$want_c"
row=$(hl_row "$md" "TCP loopback" "$bsl" multipipe)
jm=$(jcell "$S" gbps copy multipipe tcp-loopback "$bsmax" "$nj1")
t_check "headline table: multipipe's row (GB/s, the judged x copy: better, with its interval; shares, spliced 100 %)" test "$row" = \
	"multipipe|$(fig3 "$gm")|$jm|$(share "$(awk -v g="$gm" -v b="$base" 'BEGIN { print 100 * g / b }')")|$(share "$(awk -v g="$gm" 'BEGIN { print 100 * g / 12.5 }')")|100 %"
row=$(hl_row "$md" "TCP loopback" "$bsl" splice)
nref=$(echo "$row" | sed -n 's/.*|0 %\[\([0-9]*\)\]$/\1/p')
t_log "splice row: $row"
t_check "headline table: the fallen-back point's cell says it spliced 0 %, with a note" test -n "$nref"
t_check "headline table: the note gives the fallback's reason" md_has "$md" "[$nref] splice fell back to copying the rest: pipe could not grow"
t_check "headline table: libfuse-splice's fallbacks are 'not visible'" bash -c "echo '$(hl_row "$md" "TCP loopback" "$bsl" libfuse-splice)' | grep -q '|not visible\[[0-9]*\]$'"
t_check "headline table: constant axes stated once, not in the rows" md_has "$md" "Every row: numjobs=$nj1 (numjobs 2, 4: the medians table and the scaling chart), psync, iodepth=1, threads=1, privilege=root"
t_check "headline table: no row label repeats a constant axis" bash -c "! sed -n '/^## Headlines/,/^## [^#]/p' '$md' | grep '^| ' | grep -q 'psync\|iodepth\|privilege'"
rule=$(cd "$T_TOP" && python3 -c 'from splicebench import results as R; print(R.RULE)')
t_check "headline table: the marks' legend" md_has "$md" "▲ better, ▼ worse (the whole interval beyond the band), ≈ equivalent (the whole interval inside it), ? unresolved (can't tell: the interval straddles the band), – too few rounds"
t_check "headline table: the judged multipipe ratio is better ('▲')" bash -c '[[ "$1" == *" ▲ ("* ]]' _ "$jm"
t_check "the family of verdicts stated at the front, its count from the judge's door" bash -c \
	"sed -n '1,6p' '$md' | grep -q '^Verdicts: [0-9]* verdicts: each call (better, worse or equivalent) is wrong at most 5 %'"
t_check "headline table: the noise rule's text, as bench/ writes it" bash -c '[ -n "$1" ] && grep -qF -- "$1" "$2"' _ "$rule" "$md"
# unresolved: the reason in a note and on hover; "≈" only where the interval lies inside the band
UN=$T_TMP/unresolved
mkdir -p "$UN" && cp "$S/meta.json" "$S/baseline.jsonl" "$S/points.csv" "$UN/"
python3 - "$S/points.jsonl" "$UN/points.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for line in f:
        p = json.loads(line)
        if p["point"].startswith("libfuse-copy/tcp-loopback/bs=1048576/nj=1/"):  # rounds all over the place
            for run, k in zip(p["runs"], (0.7, 1.3, 0.9, 1.25, 1.0)):
                run["gbps"] *= k
        o.write(json.dumps(p) + "\n")
PY
"$P/report" "$UN" >/dev/null 2>&1
t_check "headline table: an unresolved verdict is marked '?' with its interval" bash -c \
	"grep -q '^|  *| libfuse-copy | [0-9.]* | [0-9.]*x ? ([0-9.]*-[0-9.]*)\[[0-9]*\] |' '$UN/report/report.md'"
t_check "headline table: an unresolved verdict has its reason in a note" bash -c \
	"grep -q '^\[[0-9]*\] libfuse-copy against copy: unresolved (90 % interval [0-9.]*-[0-9.]* straddles the band 0.952-1.050; .*rounds' '$UN/report/report.md'"
t_check "headline table: report.html shows the reason on hover" grep -q '<td title="unresolved: [^"]' "$UN/report/report.html"
t_check "'≈' stands only beside an interval inside the band (every headline cell)" bash -c "
	grep -o '[0-9.]*x ≈ ([0-9.]*-[0-9.]*)' '$md' '$UN/report/report.md' | sed 's/.*(\(.*\)-\(.*\))/\1 \2/' |
		awk '{ if (\$1 < 0.95 || \$2 > 1.05) { print; bad = 1 } } END { exit bad }'"
# No absolute headline figure below n = 3 repeats.
N2=$T_TMP/n2
mkdir -p "$N2" && cp "$S/meta.json" "$S/baseline.jsonl" "$N2/"
awk -F, -v OFS=, -v s="$c_status" -v a="$c_src" -v mo="$c_mode" -v b="$c_bs" -v n="$c_nj" -v rp="$(col "$csv" repeats)" -v B="$bsmax" -v N="$nj1" \
	'NR > 1 && $s == "ok" && $a == "tcp-loopback" && $mo == "multipipe" && $b == B && $n == N { $rp = 2 } { print }' "$csv" >"$N2/points.csv"
"$P/report" "$N2" >/dev/null 2>&1
row=$(hl_row "$N2/report/report.md" "TCP loopback" "$bsl" multipipe)
t_log "n=2 row: $row"
t_check "n < 3: no GB/s, no share of iperf3 or 100G in the headline, the ratio 'too few rounds'" bash -c \
	"echo '$row' | grep -q '^multipipe|n=2\[[0-9]*\]|[0-9.]*x –\[[0-9]*\]|-|-|100 %$'"
# Mode order from meta.json's modes (the run order), not from a list in plots/.
MO=$T_TMP/modeorder
mkdir -p "$MO" && cp "$S/points.csv" "$S/baseline.jsonl" "$MO/"
jq '.modes = ["libfuse-splice", "multipipe", "copy", "splice", "libfuse-copy"]' "$S/meta.json" >"$MO/meta.json"
"$P/report" "$MO" >/dev/null 2>&1
order=$(awk '/^### mem/ { on = 1; next } on && /^\| / && !/^\| bs/ && !/^\|---/ { split($0, c, "|"); gsub(/ /, "", c[3]); printf "%s ", c[3]; if (++k == 5) exit }' "$MO/report/report.md")
t_check "mode order follows meta.json's modes" test "$order" = "libfuse-splice multipipe copy splice libfuse-copy "
read -r nfb nall thr < <(awk -F, -v s="$c_status" -v mo="$c_mode" -v b="$c_bs" -v cp="$c_cp" '
	NR > 1 && $s == "ok" && $mo == "splice" { bs[NR] = $b; if ($cp > 0) { f++; if (t == "" || $b < t) t = $b } }
	END { for (i in bs) if (bs[i] >= t) m++; print f, m, t }' "$csv")
thr_l=$(awk -v t="$thr" 'BEGIN { if (t >= 1048576) print t / 1048576 "M"; else print t / 1024 "K" }')
t_check "headline: splice fallbacks counted" md_has "$md" "splice fell back to copying at $nfb of $nall splice points with bs >= $thr_l"
while IFS= read -r reason; do
	t_check "skipped/failed reason in the report: ${reason:0:40}" md_has "$md" "$reason"
done < <(awk -F, -v s="$c_status" -v r="$(col "$csv" reason)" 'NR > 1 && $s != "ok" { print $r }' "$csv")
# the expected counts from the judge (splicebench.verdict through results.py), not a copy of a rule
read -r matched nsig < <(cd "$T_TOP" && python3 - "$S" "$SB" <<'PY'
import sys
from splicebench import results as R, verdict as V
ra, rb = R.load_set(sys.argv[1]), R.load_set(sys.argv[2])
ctl = R.default_control(ra, rb)
pairs = [(a, b) for a, b in R.match_sets(ra, rb) if a["status"] == "ok" and b["status"] == "ok"]
sig = sum(R.between(ra, rb, a, b, ctl)["outcome"] in (V.BETTER, V.WORSE) for a, b in pairs)
print(len(pairs), sig)
PY
)
t_log "expect $matched matched points, $nsig significant"
t_check "comparison: matched point count" md_has "$md" "Of $matched matched points"
t_check "comparison: significant point count" md_has "$md" "$nsig differ significantly"
t_check "comparison CSV for bench/compare" bash -c "head -n1 '$R/compare.csv' | grep -q '^point,label,gbps_a,gbps_b,gbps_delta_pct,gbps_verdict,significant' && [ \$(( \$(wc -l < '$R/compare.csv') - 1 )) -eq $matched ]"

# --- TCG: the loud note and the cost chart
t_check "TCG report carries the emulation warning" md_has "$TCG/report.md" \
	"emulated: absolute speeds are meaningless, only ratios within this run compare"
t_check "TCG report.html shows the warning" grep -q 'class="warn"' "$TCG/report.html"
t_check "TCG cost chart" png_ok "$TCG/cost-mem-j1.png"
t_check "TCG: no chart ranks by time (no GB/s, scaling, latency, CPU or compare chart)" \
	test -z "$(ls "$TCG" | grep -E '^(gbps-bs|scaling|latency|cpu|compare)-')"
t_check "TCG: timings only in a table labelled emulated" md_has "$TCG/report.md" "## Emulated timings (TCG)"
hl=$(sed -n '/^## Headlines/,/^## [^#]/p' "$TCG/report.md" | sed '$d')
if echo "$hl" | grep -q '^| ' && ! echo "$hl" | grep -qiE 'GB/s|line rate|latency|s/GB'; then
	t_pass "TCG: no time-ranked headline (no GB/s, line rate, latency or s/GB in the headlines)"
else
	t_fail "TCG: no time-ranked headline" "$(echo "$hl" | grep -iE 'GB/s|line rate|latency|s/GB' | head -n1)"
fi
t_check "TCG cost chart SVG: bytes moved and instructions per byte, the network's own line" svg_has "$TCG/cost-tcp-nic-j1.svg" \
	"bytes moved per byte delivered" "instructions per byte delivered" "network's own" "fell back to copying"
read -r cc cs cmp nb < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["status"] == "ok" && $c["bs"] > bs { bs = $c["bs"] }
	$c["source"] == "tcp-nic" { v[$c["mode"] "/" $c["bs"]] = $c["cost_bytes_moved_per_byte"]; nb = $c["cost_baseline_bytes_moved_per_byte"] }
	END { print v["copy/" bs], v["splice/" bs], v["multipipe/" bs], nb }' "$ST/points.csv")
row=$(hl_row "$TCG/report.md" "TCP nic" 1M multipipe)
t_log "TCG multipipe row: $row (copy $cc, multipipe $cmp, network $nb)"
jt=$(jcell "$ST" cost copy multipipe tcp-nic 1048576 1)
t_check "TCG headline table: multipipe's bytes moved per byte, the judged x copy (better, from its cost windows), x the network's own" bash -c \
	"[[ '$jt' == *' ▲ ('* ]] && echo '$row' | grep -qF 'multipipe|$(fig3 "$cmp")|$jt|$(awk -v a="$cmp" -v b="$nb" 'BEGIN { printf "%.2fx", a / b }')|'"
t_check "TCG headline table: splice (fell back) equivalent to copy: the windows' interval inside the band" bash -c \
	"echo '$(hl_row "$TCG/report.md" "TCP nic" 1M splice)' | grep -q '^splice|$(fig3 "$cs")|1.00x ≈ (0.98-1.02)|'"
t_check "TCG: the 'where one pipe is not enough' chart" png_ok "$TCG/pipe-cost.png"
t_check "TCG: that chart has the bytes per pipe slot and the network's own line" svg_has "$TCG/pipe-cost.svg" \
	"1440 B per pipe slot" "network's own cost = 1x" "tcp-nic, root" "copy" "splice" "multipipe"
# Never compared by time: a TCG set against a copy with GB/s x 1.5
TB=$T_TMP/tcg-b
mkdir -p "$TB" && cp "$ST/meta.json" "$ST/baseline.jsonl" "$TB/"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
	{ for (k in c) if (k ~ /^gbps_(median|min|max|stdev)$/ && $c[k] != "") $c[k] = $c[k] * 1.5; print }' "$ST/points.csv" >"$TB/points.csv"
"$P/report" "$ST" --compare "$TB" --out "$T_TMP/tcgcmp" >/dev/null 2>&1
t_check "TCG --compare: nothing compared by time (0 differ, no GB/s change, no GB/s in compare.csv)" bash -c "
	grep -q ' 0 differ significantly in bytes moved per byte delivered' '$T_TMP/tcgcmp/report.md' &&
	! grep -q '+50' '$T_TMP/tcgcmp/report.md' && ! sed '/^## Emulated timings/,/^## [^#]/d' '$T_TMP/tcgcmp/report.md' | grep -q 'GB/s [0-9]\|[0-9] GB/s' &&
	! cut -d, -f3-5 '$T_TMP/tcgcmp/compare.csv' | grep -q '[0-9]'"
# "Where one pipe is not enough" on the NIC path, against the network's own cost
read -r slot nb cpm mpm < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["source"] == "tcp-nic" && $c["bs"] == 1048576 { v[$c["mode"]] = $c["cost_bytes_moved_per_byte"]; nb = $c["cost_baseline_bytes_moved_per_byte"]
		if ($c["mode"] == "multipipe") s = $c["bytes_per_slot"] }
	END { printf "%d %.3g %.2f %.2f\n", s, nb, v["copy"] / nb, v["multipipe"] / nb }' "$ST/points.csv")
t_check "pipe section: bytes per slot on the NIC path" md_has "$TCG/report.md" "On tcp-nic: $slot bytes per pipe slot"
prow=$(grep -F "| tcp-nic | root | 1M | $slot B |" "$TCG/report.md")
t_log "pipe table row: $prow"
pn=$(echo "$prow" | sed -n 's/.*| [0-9.]*x, spliced 0 %\[\([0-9]*\)\] |.*/\1/p')
t_check "pipe table: splice's share, its reason in a note" bash -c "[ -n '$pn' ] && grep -qF '[$pn] splice fell back to copying the rest: pipe full of fragments' '$TCG/report.md'"
t_check "pipe table: bytes moved as a multiple of the network's own (copy, multipipe all spliced, the network's own)" test "$prow" = \
	"| tcp-nic | root | 1M | $slot B | ${cpm}x | $(echo "$prow" | awk -F' [|] ' '{ print $6 }') | ${mpm}x, all spliced | $(fig3 "$nb") |"
t_log "NIC at 1M: $slot B/slot, network's own $nb, copy ${cpm}x, multipipe ${mpm}x"
# root without CAP_SYS_RESOURCE (a container): the pipe section says so
t_check "pipe section: nothing about CAP_SYS_RESOURCE when the data does not say" bash -c \
	"! grep -q CAP_SYS_RESOURCE '$TCG/report.md'"
NOCAP=$T_TMP/nocap
mkdir -p "$NOCAP" && cp "$ST/meta.json" "$NOCAP/" && cp "$ST/baseline.jsonl" "$NOCAP/" 2>/dev/null
awk -F, -v OFS=, 'NR == 1 { print $0, "cap_sys_resource"; next } { print $0, "0" }' "$ST/points.csv" >"$NOCAP/points.csv"
"$P/report" "$NOCAP" >/dev/null 2>"$T_TMP/nocap.err"
t_check "pipe section: root without CAP_SYS_RESOURCE is named" md_has "$NOCAP/report/report.md" \
	"the daemon ran as root without CAP_SYS_RESOURCE"

# --- malformed input: one clear line, exit != 0, nothing half-written
BAD=$T_TMP/bad
mkdir -p "$BAD"
cp "$S/meta.json" "$S/baseline.jsonl" "$BAD/"
cut -d, -f"$c_g" --complement "$S/points.csv" >"$BAD/points.csv"
"$P/report" "$BAD" 2>"$T_TMP/err" >/dev/null
rc=$?
[ "$rc" -ne 0 ] && t_pass "missing column: exit $rc" || t_fail "missing column" "exit 0"
lines=$(grep -c . "$T_TMP/err")
[ "$lines" -eq 1 ] && grep -q 'missing column.*gbps_median' "$T_TMP/err" && t_pass "missing column: one clear error line" ||
	t_fail "missing column: error" "$lines lines: $(head -c 300 "$T_TMP/err")"
t_check "missing column: no report directory" test ! -e "$BAD/report"
t_check "missing column: no staging leftovers" test -z "$(ls -A "$BAD" | grep -v -e points.csv -e meta.json -e baseline.jsonl)"
# An earlier report in --out stays whole when a later run fails.
cp "$R/report.md" "$T_TMP/before.md"
"$P/report" "$BAD" --out "$R" >/dev/null 2>&1
t_check "failed run leaves the earlier report untouched" cmp -s "$R/report.md" "$T_TMP/before.md"
printf 'status,mode\nok,copy,extra\n' >"$BAD/points.csv"
"$P/report" "$BAD" >/dev/null 2>"$T_TMP/err"
[ $? -ne 0 ] && [ "$(grep -c . "$T_TMP/err")" -eq 1 ] && t_pass "short header: one error line, exit != 0" ||
	t_fail "short header" "$(cat "$T_TMP/err")"
# A run where nothing was measured still gets a report that says why.
mkdir -p "$T_TMP/allfail"
awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) if ($i == "reason") r = i; print; next }
	NR <= 4 { $3 = "failed"; $r = "daemon died: test reason " NR; print }' \
	"$S/points.csv" >"$T_TMP/allfail/points.csv"
"$P/report" "$T_TMP/allfail" >/dev/null 2>&1 && md_has "$T_TMP/allfail/report/report.md" "daemon died: test reason 4" >/dev/null &&
	t_pass "nothing measured: report lists the reasons" || t_fail "nothing measured" "no report or no reasons"
"$P/plot" "$T_TMP/allfail" >/dev/null 2>&1
[ $? -eq 1 ] && t_pass "nothing measured: plot exits 1" || t_fail "nothing measured: plot" "exit not 1"
"$P/report" >/dev/null 2>&1
[ $? -eq 2 ] && t_pass "no DIR: usage, exit 2" || t_fail "no DIR" "exit not 2"
# --- splicefs against libfuse-ref: ratios per bs, under the noise rule
rc1=$(jcell "$S" gbps libfuse-splice splice mem 262144 1)
sed -n '/^## splicefs against the reference daemons/,$p' "$md" >"$T_TMP/ref.md"
row=$(hl_row "$T_TMP/ref.md" mem 256K "splice / libfuse-splice")
t_log "reference row at mem, 256K: $row"
t_check "reference table: splice against libfuse-splice at 256K, its ratio, verdict and how much each spliced" bash -c \
	"echo '$row' | grep -qF 'splice / libfuse-splice|${rc1}|' && echo '$row' | grep -q '|[0-9.]*|[0-9.]*|100 %|not visible\[[0-9]*\]$'"
row=$(hl_row "$T_TMP/ref.md" mem 1M "splice / libfuse-splice")
t_check "reference table: two copying daemons are shown as such (splice 0 % spliced, libfuse-splice not visible)" bash -c \
	"echo '$row' | grep -q '|0 %\[[0-9]*\]|not visible\[[0-9]*\]$'"
t_check "libfuse-splice: its unseen fallbacks are said, not reported as spliced" md_has "$md" \
	"libfuse-splice: whether it fell back to copying cannot be seen"
t_check "reference modes on the same GB/s chart" svg_has "$R/gbps-bs-mem-j$nj1.svg" "libfuse-copy" "libfuse-splice" "multipipe"

# --- any mode name: an invented one goes through plots and sbstat (colours from the data)
NEW=$T_TMP/newmode
mkdir -p "$NEW"
cp "$S/meta.json" "$S/baseline.jsonl" "$NEW/"
sed 's/multipipe/zz-invented-mode/g' "$S/points.csv" >"$NEW/points.csv"
if "$P/report" "$NEW" >/dev/null 2>"$T_TMP/err"; then
	t_check "invented mode: on the GB/s chart" svg_has "$NEW/report/gbps-bs-mem-j$nj1.svg" "zz-invented-mode"
	t_check "invented mode: in the headlines" md_has "$NEW/report/report.md" "zz-invented-mode"
else
	t_fail "invented mode: report" "$(head -c 300 "$T_TMP/err")"
fi
out=$(python3 "$T_TOP" stats compare "$NEW" --by mode --base copy --csv "$T_TMP/new.csv" 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "zz-invented-mode against copy at mem" && t_pass "invented mode: sbstat compare accepts it" ||
	t_fail "invented mode: sbstat compare" "$(echo "$out" | tail -n 2)"
t_check "invented mode: sbstat summary accepts it" bash -c "python3 '$T_TOP' stats summary '$NEW' | grep -q zz-invented-mode"

# --- CPU: parts <= cores x wall, flagged loudly when violated
CV=$T_TMP/cpuviol
mkdir -p "$CV"
cp "$S/meta.json" "$S/baseline.jsonl" "$CV/"
awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
	NR == 2 { $c["cpu_capacity_s_per_gb"] = 0.1 } { print }' "$S/points.csv" >"$CV/points.csv"
"$P/report" "$CV" >/dev/null 2>&1
t_check "CPU: parts above cores x wall flagged loudly in the report" bash -c \
	"grep -q 'class=\"warn\".*CPU parts exceed cores x wall time' '$CV/report/report.html' && grep -q 'VIOLATED' '$CV/report/report.md'"
t_check "CPU: the sample (parts within cores x wall) has no such warning" bash -c "! grep -q 'VIOLATED' '$md'"
# parts within cores x wall, but parts + rest of machine above it: flagged too
awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
	NR == 2 { $c["cpu_capacity_s_per_gb"] = $c["cpu_parts_s_per_gb"] + $c["cpu_rest_s_per_gb"] / 2 } { print }' "$S/points.csv" >"$CV/points.csv"
"$P/report" "$CV" >/dev/null 2>&1
t_check "CPU: parts + rest of machine above cores x wall flagged" grep -q 'VIOLATED: CPU parts plus rest of machine' "$CV/report/report.md"
t_check "CPU: sbstat summary flags it too" bash -c "python3 '$T_TOP' stats summary '$CV' | grep -q 'CPU CHECK FAILED'"
# --- a section added by another part of the project (the sections hook), right after the headlines
(cd "$T_TOP" && python3 -c 'import sys; from splicebench.report import main as P
P.SECTIONS.append(lambda d, rs, ch: (d.h(2, "Why (hook)"), d.p("added by a hook: " + rs.name)))
sys.exit(P.main("report", [sys.argv[1], "--out", sys.argv[2]]))' "$S" "$T_TMP/hook") >/dev/null 2>&1
t_check "sections hook: its section follows the headline tables" bash -c "
	grep -q '^added by a hook: sample$' '$T_TMP/hook/report.md' &&
	[ \$(grep -n '^## Why (hook)' '$T_TMP/hook/report.md' | cut -d: -f1) -gt \$(grep -n '^## Headlines' '$T_TMP/hook/report.md' | cut -d: -f1) ] &&
	[ \$(grep -n '^## Why (hook)' '$T_TMP/hook/report.md' | cut -d: -f1) -lt \$(grep -n '^## splicefs against' '$T_TMP/hook/report.md' | cut -d: -f1) ]"

# --- CPU: short row labels, 3 significant digits
t_check "CPU table: 3 significant digits at most, short row labels" bash -c '
	sed -n "/^## CPU per point/,/^## [^#]/p" "$1" | grep "^| " | tail -n +2 | awk -F"|" "
		{ if (length(\$2) > 24) { print \"long label: \" \$2; bad = 1 }
		  for (i = 2; i < NF; i++) { v = \$i; gsub(/ /, \"\", v); if (v !~ /^[0-9.]+$/) continue
			d = v; sub(/^[0.]*/, \"\", d); gsub(/\\./, \"\", d); if (length(d) > 3) { print \"more than 3 digits: \" v; bad = 1 } } }
		END { exit bad }"' _ "$md"

# --- the charts' data against their axes (gnuplot's own ranges, printed while drawing)
t_check "cost chart is one readable figure (not stacked panels)" bash -c "h=\$(od -An -tu1 -j20 -N4 '$TCG/cost-tcp-nic-j1.png' | awk '{ print \$1 * 16777216 + \$2 * 65536 + \$3 * 256 + \$4 }'); [ \"\$h\" -le 1000 ]"
for d in "$R" "$TCG"; do
	t_check "chart check: every point inside its axes, none squashed ($(basename "$d"))" python3 "$T_TOP" check "$d"
done
CC=$T_TMP/chk
cp -r "$TCG" "$CC"
python3 - "$CC/src/cost-tcp-nic-j1.check.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["panels"][0]["ys"].append(c["panels"][0]["axis"]["ymax"] * 2)  # a value the axis does not reach
json.dump(c, open(sys.argv[1], "w"))
PY
out=$(python3 "$T_TOP" check "$CC" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'cost-tcp-nic-j1 \[moved\]: 1 value(s) outside the y axis' &&
	t_pass "chart check fails on a value outside its axis" || t_fail "chart check: value outside" "$(echo "$out" | tail -n 2)"
cp "$TCG/src/cost-tcp-nic-j1.check.json" "$CC/src/"
python3 - "$CC/src/cost-tcp-nic-j1.check.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["panels"][0]
p["ys"] = [p["axis"]["ymax"] * 0.05, p["axis"]["ymax"] * 0.06]  # bars a twentieth of the plot tall
json.dump(c, open(sys.argv[1], "w"))
PY
out=$(python3 "$T_TOP" check "$CC" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'cost-tcp-nic-j1 \[moved\]: the data span .* squashed' &&
	t_pass "chart check fails on data squashed into a tenth of the plot" || t_fail "chart check: squashed" "$(echo "$out" | tail -n 2)"
rm -f "$CC/src/pipe-cost.check.json"
out=$(python3 "$T_TOP" check "$CC" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'pipe-cost: no readable check file' &&
	t_pass "chart check fails on a chart drawn without its ranges" || t_fail "chart check: no ranges" "$(echo "$out" | tail -n 2)"

# --- a real browser: report.html renders, images load, links resolve, fits a laptop's width
RES=${SB_TEST_RESULTS:-$T_TOP/build/test-results}/60-plots
if command -v chromium >/dev/null 2>&1; then
	mkdir -p "$RES"
	# each report against its set (--set; $UN/report by default: the set is REPORT_DIR/..): its
	# tables' figures and marks as rendered, checked against points.csv and the judge
	for d in "report:$R:$S" "tcg:$TCG:$ST" "unresolved:$UN/report:"; do
		IFS=: read -r n d sd <<<"$d"
		out=$("$P/browsercheck" "$d" ${sd:+--set "$sd"} --screenshot "$RES/report-$n.png" 2>&1)
		[ $? -eq 0 ] && echo "$out" | grep -q ', [1-9][0-9]* table cells against ' &&
			t_pass "browser: report.html of $n, its tables against the set and the judge (${out##*browsercheck: })" ||
			t_fail "browser: report.html of $n" "$(echo "$out" | head -n 3 | tr '\n' ' ')"
	done
	# a copy where one GB/s figure is changed, another where one mark is (▲ to ≈): each fails,
	# the one line naming the cell, what it shows and what the set and the judge say
	BT=$T_TMP/badtable
	cell=$(grep -o 'data-point="[^"]*" data-metric="gbps" data-kind="figure">[0-9.]*<' "$R/report.html" | head -n1)
	pt=${cell#data-point=\"} pt=${pt%%\"*} was=${cell##*>} was=${was%<}
	rm -rf "$BT" && cp -r "$R" "$BT"
	sed -i "0,/data-kind=\"figure\">$was</s//data-kind=\"figure\">9.99</" "$BT/report.html"
	out=$("$P/browsercheck" "$BT" --set "$S" 2>&1)
	rc=$?
	[ -n "$cell" ] && [ $rc -eq 1 ] && [ "$(echo "$out" | grep -c 'the set and the judge say')" -eq 1 ] &&
		echo "$out" | grep -qF "column GB/s: shows 9.99, the set and the judge say $was ($pt)" &&
		echo "$out" | grep -q '^browsercheck: Headlines / [^,]*, row [0-9]*[KM]* [a-z]' &&
		t_pass "browser: fails where one GB/s cell is changed ($was to 9.99: $(echo "$out" | grep -o 'Headlines / [^:]*' | head -n1))" ||
		t_fail "browser: a changed GB/s cell" "$(echo "$out" | head -n 2 | tr '\n' ' ')"
	cell=$(grep -o 'data-kind="ratio">[0-9.]*x ▲ ([0-9.-]*)' "$R/report.html" | head -n1)
	was=${cell#*>}
	rm -rf "$BT" && cp -r "$R" "$BT"
	sed -i "0,/data-kind=\"ratio\">${was% ▲*} ▲/s//data-kind=\"ratio\">${was% ▲*} ≈/" "$BT/report.html"
	out=$("$P/browsercheck" "$BT" --set "$S" 2>&1)
	rc=$?
	[ -n "$cell" ] && [ $rc -eq 1 ] && [ "$(echo "$out" | grep -c 'the set and the judge say')" -eq 1 ] &&
		echo "$out" | grep -qF "column x copy: shows ${was/▲/≈}, the set and the judge say $was (" &&
		t_pass "browser: fails where one mark is changed (▲ to ≈: $(echo "$out" | grep -o 'Headlines / [^:]*' | head -n1))" ||
		t_fail "browser: a changed mark" "$(echo "$out" | head -n 2 | tr '\n' ' ')"
	BR=$T_TMP/broken
	cp -r "$R" "$BR"
	gone=$(ls "$BR"/gbps-bs-*.png | head -n1)
	rm -f "$gone"
	out=$("$P/browsercheck" "$BR" 2>&1)
	[ $? -eq 1 ] && echo "$out" | grep -qF "image does not load: $(basename "$gone")" &&
		t_pass "browser: fails when an image is removed ($(basename "$gone"))" ||
		t_fail "browser: removed image" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
	cp "$R/$(basename "$gone")" "$BR/"
	gone=$(ls "$BR"/cpu-*.svg | head -n1)
	rm -f "$gone"
	out=$("$P/browsercheck" "$BR" 2>&1)
	[ $? -eq 1 ] && echo "$out" | grep -qF "broken link: $(basename "$gone")" &&
		t_pass "browser: fails on a broken link ($(basename "$gone"))" ||
		t_fail "browser: broken link" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
else
	t_skip "browser: report.html in headless Chromium" "needs 'chromium' (scripts/deps test installs it)"
fi

# Two hosts in meta.json (bench/run --server-host): the report's Hosts table, one row
# each, with the NIC's MTU and offloads and whether the kernel has FUSE_OUT_SPLICES.
HS=$T_TMP/hosts
mkdir -p "$HS" && cp "$S"/points.jsonl "$S"/points.csv "$S"/baseline.jsonl "$HS/"
jq '. + {hosts: {client: {hostname: "cli1", kernel: "6.12.118-sb-fixed", cpu_model: "EPYC 9654", cores: "16",
	iface: "ens1", driver: "mlx5_core", firmware: "28.39", mtu: "9000", offload: {tso: "on", gso: "on", gro: "off"},
	fuse_out_splices: "FUSE_OUT_SPLICES: yes"},
	server: {hostname: "srv1", kernel: "6.1.0-27", cpu_model: "Xeon 8480", cores: "56", iface: "ens2",
	driver: "ice", mtu: "9000", offload: {tso: "on", gso: "on", gro: "on"}, fuse_out_splices: "FUSE_OUT_SPLICES: no (kernel answers EINVAL)"}}}' \
	"$S/meta.json" >"$HS/meta.json"
"$P/report" "$HS" --out "$T_TMP/hosts-report" >/dev/null 2>&1
t_check "Hosts table: client and server rows with kernel, NIC, MTU, offloads, FUSE_OUT_SPLICES" bash -c "
	grep -qF '| client | cli1 | 6.12.118-sb-fixed | EPYC 9654, 16 cores | ens1 mlx5_core 28.39 | 9000 | on/on/off | yes |' '$T_TMP/hosts-report/report.md' &&
	grep -qF '| server | srv1 | 6.1.0-27 | Xeon 8480, 56 cores | ens2 ice | 9000 | on/on/on | no |' '$T_TMP/hosts-report/report.md'"
t_check "no Hosts table when meta.json has none" bash -c "! grep -q '^## Hosts' '$R/report.md'"
exit $((T_FAILED > 0))
