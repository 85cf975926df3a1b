#!/usr/bin/env bash
# bench/run on a tiny matrix: points, CSV contract, skipped multipipe, SIGTERM midway
# and --resume, bad input, a corrupted read failing its point, compare, CSV extras.
. "$(dirname "$0")/lib.sh"
T_NAME=bench
_require_root
_require_fuse
_require_cmd fio jq fusermount3 python3
[ -x "$T_BUILD/splicefs" ] || _t_skip_all "build/splicefs is not built (make)"
RUN=$T_TOP/bench/run
export TMPDIR=$T_TMP/rt # bench/run's own temporary directory (mount point inside)
mkdir -p "$TMPDIR"
t_cleanup_cmd "for m in \$(awk '\$2 ~ \"^$TMPDIR/\" {print \$2}' /proc/mounts); do umount -l \$m; done"

M=$T_TMP/tiny
cat >"$M" <<'M'
# tiny: the test matrix
mode=copy splice multipipe
source=mem
bs=64k 128k
direct=1
size=8m
repeats=1
warmup=1m
M
NPOINTS=6
HEADER="run_id,point,status,env,kernel,variant,mode,source,path,bs,numjobs,ioengine,iodepth,direct,threads,pipes,pipe_size,repeats,gbps_median,gbps_min,gbps_max,gbps_stdev,gbps_cv,lat_p50_us,lat_p99_us,cpu_daemon_usr_s_per_gb,cpu_daemon_sys_s_per_gb,cpu_server_usr_s_per_gb,cpu_server_sys_s_per_gb,cpu_fio_usr_s_per_gb,cpu_fio_sys_s_per_gb,cpu_softirq_s_per_gb,cpu_other_s_per_gb,cpu_total_s_per_gb,bytes_spliced,bytes_copied,fallbacks,baseline_gbps,reason"

# leftovers DIR: what bench/run may have left (mounts, processes, half-written files).
leftovers() {
	local p c
	awk -v d="$TMPDIR/" 'index($2, d) == 1 {print "mount " $2}' /proc/mounts
	for p in /proc/[0-9]*; do
		c=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $c in "$TMPDIR"/*) echo "process ${p#/proc/} in $c" ;; esac
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$TMPDIR/sbrun" && echo "process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline")"
	done
	ls "$TMPDIR" | sed 's/^/tmp /'
	ls "$1" 2>/dev/null | grep '\.tmp\.' | sed 's/^/file /'
}

# valid_lines FILE: every line parses as JSON (no torn line)
valid_lines() { [ "$(jq -c . "$1" 2>/dev/null | wc -l)" = "$(wc -l <"$1")" ]; }

# --- bad input: one line, exit != 0, nothing created
bad() {
	local name=$1 out=$T_TMP/bad-$1
	shift
	local msg rc
	msg=$("$RUN" "$@" --out "$out" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && [ ! -e "$out" ] &&
		[ -z "$(ls "$TMPDIR")" ]; then
		t_pass "bad-input.$name"
	else
		t_fail "bad-input.$name" "rc=$rc out=$([ -e "$out" ] && echo created) msg=$msg"
	fi
}
bad unknown-matrix no-such-matrix
printf 'mode=copy teleport\n' >"$T_TMP/m-mode"
bad bad-mode "$T_TMP/m-mode"
printf 'bs=5000\n' >"$T_TMP/m-bs"
bad bad-bs "$T_TMP/m-bs"
printf 'ioengine=psync\nfrobnicate=1\n' >"$T_TMP/m-key"
bad unknown-key "$T_TMP/m-key"
bad bad-set "$M" --set direct=2
bad bad-option "$M" --fast
touch "$T_TMP/afile"
msg=$("$RUN" "$M" --out "$T_TMP/afile/sub" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && [ ! -e "$T_TMP/afile/sub" ] &&
	t_pass bad-input.unwritable-out || t_fail bad-input.unwritable-out "rc=$rc msg=$msg"
msg=$("$RUN" "$M" --dry-run --out "$T_TMP/dry" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ ! -e "$T_TMP/dry" ] && [ "$(printf '%s\n' "$msg" | grep -c '^  \[')" = $NPOINTS ] &&
	t_pass dry-run || t_fail dry-run "rc=$rc: $msg"

# --- SIGTERM midway: nothing left behind, no partial line
R=$T_TMP/res
"$RUN" "$M" --out "$R" --no-baseline >"$T_TMP/run1.log" 2>&1 &
rpid=$!
t_cleanup_pid $rpid
for _ in $(seq 600); do
	[ -s "$R/points.jsonl" ] && break
	kill -0 $rpid 2>/dev/null || break
	sleep 0.1
done
sleep 0.7 # into the next point
kill -TERM $rpid
for _ in $(seq 150); do kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $rpid 2>/dev/null; then
	t_fail sigterm.exits "bench/run still running 15 s after SIGTERM"
else
	wait $rpid
	rc=$?
	[ $rc -ne 0 ] && t_pass sigterm.exits || t_fail sigterm.exits "exit status 0 (finished before the signal?)"
fi
left=$(leftovers "$R")
[ -z "$left" ] && t_pass sigterm.nothing-left || t_fail sigterm.nothing-left "$(echo "$left" | head -3 | tr '\n' ';')"
n1=$(wc -l <"$R/points.jsonl")
valid_lines "$R/points.jsonl" && [ "$n1" -ge 1 ] && [ "$n1" -lt $NPOINTS ] &&
	t_pass sigterm.whole-lines || t_fail sigterm.whole-lines "$n1 lines, valid=$(valid_lines "$R/points.jsonl" && echo yes)"

# --- without --resume an existing result set is refused; with it the set completes
"$RUN" "$M" --out "$R" --no-baseline >/dev/null 2>&1 && t_fail resume.refuses-overwrite "ran over existing results" ||
	t_pass resume.refuses-overwrite
if "$RUN" "$M" --out "$R" --resume --no-baseline >"$T_TMP/run2.log" 2>&1; then
	n=$(jq -r .point "$R/points.jsonl" | sort | uniq | wc -l)
	all=$(wc -l <"$R/points.jsonl")
	[ "$n" = $NPOINTS ] && [ "$all" = $NPOINTS ] && valid_lines "$R/points.jsonl" &&
		t_pass resume.complete-once || t_fail resume.complete-once "$all lines, $n distinct points"
	ran=$(grep -c ' \.\.\. ETA' "$T_TMP/run2.log")
	[ "$ran" = $((NPOINTS - n1)) ] && t_pass resume.skips-done || t_fail resume.skips-done "ran $ran points, $n1 were done"
else
	t_fail resume.complete-once "bench/run --resume failed: $(tail -n1 "$T_TMP/run2.log")"
fi
left=$(leftovers "$R")
[ -z "$left" ] && t_pass run.nothing-left || t_fail run.nothing-left "$(echo "$left" | head -3 | tr '\n' ';')"

# --- the results
[ "$(head -n1 "$R/points.csv")" = "$HEADER" ] && t_pass csv.header || t_fail csv.header "$(head -n1 "$R/points.csv")"
[ "$(($(wc -l <"$R/points.csv") - 1))" = $NPOINTS ] && t_pass csv.rows || t_fail csv.rows "$(wc -l <"$R/points.csv") lines"
awk -F, -v n="$(echo "$HEADER" | tr ',' '\n' | wc -l)" 'NF != n {bad = 1} END {exit bad}' "$R/points.csv" &&
	t_pass csv.fields || t_fail csv.fields "a row with another number of fields"
for mode in copy splice; do
	ok=$(jq -s --arg m "$mode" '[.[] | select(.mode == $m and .status == "ok" and .gbps_median > 0
		and .repeats == 1 and .bytes_spliced + .bytes_copied > 0 and .daemon_stats.errors == 0)] | length' "$R/points.jsonl")
	[ "$ok" = 2 ] && t_pass "points.$mode.ok" || t_fail "points.$mode.ok" "$ok of 2 points ok with numbers"
done
if "$T_BUILD/splicefs" "$T_TMP/rt" --probe >/dev/null 2>&1; then
	ok=$(jq -s '[.[] | select(.mode == "multipipe" and .status == "ok")] | length' "$R/points.jsonl")
	[ "$ok" = 2 ] && t_pass points.multipipe.ok || t_fail points.multipipe.ok "$ok of 2 ok"
else
	sk=$(jq -s '[.[] | select(.mode == "multipipe" and .status == "skipped" and
		(.reason | test("FUSE_OUT_SPLICES")) and .gbps_median == "")] | length' "$R/points.jsonl")
	[ "$sk" = 2 ] && t_pass points.multipipe.skipped-with-reason ||
		t_fail points.multipipe.skipped-with-reason "$sk of 2 skipped with the reason"
fi
jq -e '.complete == true and (.kernel | length > 0) and (.fuse_out_splices | test("yes|no"))
	and .env == "native" and (.limits.dd_zero_null_gbps > 0) and (.matrix_sha256 | length == 64)
	and (.versions.fio | length > 0)' "$R/meta.json" >/dev/null &&
	t_pass meta || t_fail meta "$(jq -c '{complete, kernel, env, limits}' "$R/meta.json" 2>&1)"
"$T_TOP/bench/compare" "$R" --by mode --base copy >"$T_TMP/cmp.txt" 2>&1 &&
	[ "$(grep -c '| mode=splice vs copy' "$T_TMP/cmp.txt")" = 2 ] && [ -s "$R/compare-mode-copy.csv" ] &&
	t_pass compare.by-mode || t_fail compare.by-mode "$(tail -n2 "$T_TMP/cmp.txt")"
"$T_TOP/bench/compare" "$R" "$R" --csv "$T_TMP/cmp.csv" >"$T_TMP/cmp2.txt" 2>&1 &&
	[ "$(($(wc -l <"$T_TMP/cmp.csv") - 1))" = $NPOINTS ] && grep -q 'beyond noise' "$T_TMP/cmp2.txt" &&
	t_pass compare.two-sets || t_fail compare.two-sets "$(tail -n2 "$T_TMP/cmp2.txt")"

# CSV extras: a "cost" object in a point becomes cost_* columns at the end.
jq -c 'if .index == 1 then . + {cost: {instr_per_byte: 1.5, bytes_moved_per_byte: 2}} else . end' \
	"$R/points.jsonl" >"$T_TMP/cost.jsonl"
python3 "$T_TOP/bench/sbstat.py" csv "$T_TMP/cost.jsonl" >"$T_TMP/cost.csv"
[ "$(head -n1 "$T_TMP/cost.csv")" = "$HEADER,cost_instr_per_byte,cost_bytes_moved_per_byte" ] &&
	grep -q ',1.5,2$' "$T_TMP/cost.csv" && t_pass csv.extra-cost-columns ||
	t_fail csv.extra-cost-columns "$(head -n1 "$T_TMP/cost.csv" | tr ',' '\n' | tail -n2 | tr '\n' ' ')"

# --- a wrong byte fails the point: splicefs serving another seed
W=$T_TMP/wrong
SB_DAEMON_ARGS="--seed 7" "$RUN" "$M" --set mode=copy --set bs=128k --set warmup=0 --out "$W" \
	--no-baseline >"$T_TMP/run3.log" 2>&1
jq -e 'select(.status == "failed" and .gbps_median == "" and (.reason | test("verify|pattern|error")))' \
	"$W/points.jsonl" >/dev/null && grep -q ',failed,' "$W/points.csv" &&
	t_pass verify.wrong-data-fails-point ||
	t_fail verify.wrong-data-fails-point "$(jq -c '{status, reason, gbps_median}' "$W/points.jsonl" 2>&1 | head -2)"

# --- a TCP source, where sbserver is built
if [ -x "$T_BUILD/sbserver" ]; then
	T=$T_TMP/tcp
	"$RUN" "$M" --set mode=copy --set source=tcp-loopback --set bs=128k --out "$T" --no-baseline \
		>"$T_TMP/run4.log" 2>&1
	jq -e 'select(.status == "ok" and .path == "loopback" and .gbps_median > 0
		and .daemon_stats.source_bytes > 0)' "$T/points.jsonl" >/dev/null &&
		t_pass tcp-loopback.point || t_fail tcp-loopback.point "$(tail -n2 "$T_TMP/run4.log" | tr '\n' ' ')"
	left=$(leftovers "$T")
	[ -z "$left" ] && t_pass tcp-loopback.nothing-left || t_fail tcp-loopback.nothing-left "$left"
else
	t_skip tcp-loopback.point "build/sbserver is not built"
fi
t_finish
