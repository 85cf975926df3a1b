#!/usr/bin/env bash
# bench/run on a tiny matrix: rounds (each point once a round, the order turning), points,
# the two passes (timed without verification, then every byte checked at its own offset),
# fio's byte count against the daemon's, GB/s against fio's own clock, the CPU parts
# against /proc/stat's busy time and cores x wall, exit statuses,
# modes from --list, and the fault table's runner rows (issue 14 rows 3, 4, 6, 7):
# SIGINT and SIGTERM at a random moment then --resume, bad matrices (one line, exit 2,
# nothing created), a results directory on a tmpfs that fills up, two runs on one
# results directory.
# timeout: 2400
. "$(dirname "$0")/lib.sh"
T_NAME=bench
_require_root
_require_fuse
_require_cmd fio jq fusermount3 python3
[ -x "$T_BUILD/splicefs" ] || _t_skip_all "build/splicefs is not built (make)"
[ -x "$T_BUILD/sbcheck" ] || _t_skip_all "build/sbcheck is not built (make)"
RUN=${SB_RUNNER:-$T_TOP/bench/run} # SB_RUNNER: another runner to test (a port, an old one)
export TMPDIR=$T_TMP/rt # bench/run's own temporary directory (mount point inside)
mkdir -p "$TMPDIR"
t_cleanup_cmd "for m in \$(awk '\$2 ~ \"^$TMPDIR/\" {print \$2}' /proc/mounts); do umount -l \$m; done"
PMS0=$(cat /proc/sys/fs/pipe-max-size)
t_cleanup_cmd "echo $PMS0 >/proc/sys/fs/pipe-max-size"

# min_seconds=0: no minimum window (a test is not a measurement; bench/run's own
# scaling is checked once below).
M=$T_TMP/tiny
cat >"$M" <<'M'
# tiny: the test matrix
mode=copy splice multipipe
source=mem
bs=64k 128k
direct=1
size=8m
rounds=2
warmup=1m
min_seconds=0
M
NPOINTS=6
NMEAS=12 # 6 points x 2 rounds

# leftovers DIR: what bench/run may have left (mounts, processes, cgroups, half-written files).
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
	[ "$(cat /proc/sys/fs/pipe-max-size)" = "$PMS0" ] || echo "pipe-max-size $(cat /proc/sys/fs/pipe-max-size), was $PMS0"
	# a cgroup of a bench/run that still runs (another session's, on a shared machine) is
	# not left over: only those whose run (sbrun.PID) is gone, and that were not there
	# before this test began (a run killed outright earlier: bench/run sweeps those)
	for c in /sys/fs/cgroup/sbrun.* /sys/fs/cgroup/*/sbrun.*; do
		[ -d "$c" ] && ! kill -0 "${c##*.}" 2>/dev/null && ! grep -qxF "$c" "$T_TMP/cg0" && echo "cgroup $c"
	done
}
stale_cgroups() { for c in /sys/fs/cgroup/sbrun.* /sys/fs/cgroup/*/sbrun.*; do [ -d "$c" ] && echo "$c"; done; }
stale_cgroups >"$T_TMP/cg0"
[ -s "$T_TMP/cg0" ] && t_log "cgroups there before this test: $(tr '\n' ' ' <"$T_TMP/cg0")"

# valid_lines FILE: every line parses as JSON (no torn line)
valid_lines() { [ "$(jq -c . "$1" 2>/dev/null | wc -l)" = "$(wc -l <"$1")" ]; }

# --- bad input: one line, exit 2, nothing created
bad() {
	local name=$1 out=$T_TMP/bad-$1
	shift
	local msg rc
	msg=$("$RUN" "$@" --out "$out" 2>&1)
	rc=$?
	if [ $rc = 2 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && [ ! -e "$out" ] &&
		[ -z "$(ls "$TMPDIR")" ]; then
		t_pass "bad-input.$name"
	else
		t_fail "bad-input.$name" "rc=$rc out=$([ -e "$out" ] && echo created) msg=$msg"
	fi
	LAST_MSG=$msg
}
bad unknown-matrix no-such-matrix
printf 'mode=copy teleport\n' >"$T_TMP/m-mode"
bad bad-mode "$T_TMP/m-mode"
# the valid names come from the programs' --list
want=$(python3 "$T_TOP" plan modes "$T_BUILD" 2>/dev/null | jq -r 'keys[]' | sort | tr '\n' ' ')
got=$(echo "$LAST_MSG" | sed -n "s/.*valid: \([a-z0-9 -]*\).*/\1/p" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
[ -n "$want" ] && [ "$want" = "$got" ] && t_pass bad-input.mode-lists-valid-names ||
	t_fail bad-input.mode-lists-valid-names "want '$want' got '$got' ($LAST_MSG)"
printf 'bs=5000\n' >"$T_TMP/m-bs"
bad bad-value "$T_TMP/m-bs"
printf 'ioengine=psync\nfrobnicate=1\n' >"$T_TMP/m-key"
bad unknown-axis "$T_TMP/m-key"
printf 'mode=copy\nbs=\n' >"$T_TMP/m-empty"
bad empty-axis "$T_TMP/m-empty"
printf 'mode=copy\nbs=4k\nmode=splice\n' >"$T_TMP/m-dup"
bad duplicate-key "$T_TMP/m-dup"
bad bad-set "$M" --set direct=2
bad bad-set-mode "$M" --set mode=nosuchmode
bad bad-privilege "$M" --set privilege=admin
bad bad-verify "$M" --set verify=never
bad bad-option "$M" --fast
touch "$T_TMP/afile"
msg=$("$RUN" "$M" --out "$T_TMP/afile/sub" 2>&1)
rc=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && [ ! -e "$T_TMP/afile/sub" ] &&
	t_pass bad-input.unwritable-out || t_fail bad-input.unwritable-out "rc=$rc msg=$msg"
msg=$("$RUN" "$M" --dry-run --out "$T_TMP/dry" 2>&1)
rc=$?
[ $rc = 0 ] && [ ! -e "$T_TMP/dry" ] && [ "$(printf '%s\n' "$msg" | grep -c '^  \[')" = $NPOINTS ] &&
	t_pass dry-run || t_fail dry-run "rc=$rc: $msg"
# every mode --list names is accepted (issue 13)
all=$(python3 "$T_TOP" plan modes "$T_BUILD" 2>/dev/null | jq -r 'keys | join(" ")')
n=$(echo "$all" | wc -w)
msg=$("$RUN" "$M" --dry-run --set mode="$all" --set bs=128k --out "$T_TMP/dry" 2>&1)
rc=$?
[ $rc = 0 ] && [ "$(printf '%s\n' "$msg" | grep -c '^  \[')" = "$n" ] && t_pass modes.every-listed-mode-accepted ||
	t_fail modes.every-listed-mode-accepted "rc=$rc n=$n: $(echo "$msg" | tail -n2)"

# pipe_max_size bounds an unprivileged daemon only: root points leave it (one point
# each), user points take every value; "default" leaves the sysctl as it is (issue 12)
msg=$("$RUN" "$M" --dry-run --set mode=splice --set bs=128k --set privilege="root user" \
	--set pipe_max_size="default 4m" --out "$T_TMP/dry" 2>&1)
rc=$?
pts=$(printf '%s\n' "$msg" | grep '^  \[' | awk '{print $2}' | sed 's|.*/t=1||' | sort | tr '\n' ' ')
[ $rc = 0 ] && [ "$pts" = " /priv=user /priv=user/pms=4194304 " ] &&
	t_pass matrix.pipe-max-size-user-only || t_fail matrix.pipe-max-size-user-only "rc=$rc: $pts"

# --- SIGINT / SIGTERM at a random moment: exit 130 / 143, nothing left behind, whole
# lines; then --resume finishes the set, each point once.
interrupt() { # SIGNAL WANT_RC DIR
	local sig=$1 want=$2 R=$3 rpid n1 delay
	# (job control: a background command of a script ignores SIGINT otherwise)
	set -m
	"$RUN" "$M" --out "$R" --no-baseline --set privilege=user --set pipe_max_size=2m >"$T_TMP/$sig.log" 2>&1 &
	rpid=$!
	set +m
	t_cleanup_pid $rpid
	for _ in $(seq 600); do
		[ -s "$R/points.jsonl" ] && break
		kill -0 $rpid 2>/dev/null || break
		sleep 0.1
	done
	delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.1 + r / 32768 * 1.5 }')
	t_log "$sig after the first point + $delay s"
	sleep "$delay"
	kill -"$sig" $rpid
	for _ in $(seq 150); do kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $rpid 2>/dev/null; then
		t_fail "$sig.exits" "bench/run still running 15 s after SIG$sig"
	else
		wait $rpid
		rc=$?
		[ $rc = "$want" ] && t_pass "$sig.exit-$want" || t_fail "$sig.exit-$want" "exit status $rc (finished before the signal?)"
	fi
	left=$(leftovers "$R")
	[ -z "$left" ] && t_pass "$sig.nothing-left" || t_fail "$sig.nothing-left" "$(echo "$left" | head -3 | tr '\n' ';')"
	n1=$(wc -l <"$R/points.jsonl")
	m1=$(wc -l <"$R/measurements.jsonl")
	valid_lines "$R/points.jsonl" && [ "$n1" -ge 1 ] && [ "$n1" -lt $NPOINTS ] &&
		t_pass "$sig.whole-lines" || t_fail "$sig.whole-lines" "$n1 lines, valid=$(valid_lines "$R/points.jsonl" && echo yes)"
	"$RUN" "$M" --out "$R" --no-baseline --set privilege=user --set pipe_max_size=2m >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] && t_pass "$sig.refuses-overwrite" || t_fail "$sig.refuses-overwrite" "exit $rc"
	"$RUN" "$M" --out "$R" --resume --no-baseline --set privilege=user --set pipe_max_size=2m >"$T_TMP/$sig-resume.log" 2>&1
	rc=$?
	n=$(jq -r .point "$R/points.jsonl" | sort -u | wc -l)
	all=$(wc -l <"$R/points.jsonl")
	[ $rc = 0 ] && [ "$n" = $NPOINTS ] && [ "$all" = $NPOINTS ] && valid_lines "$R/points.jsonl" &&
		t_pass "$sig.resume-complete-once" || t_fail "$sig.resume-complete-once" "exit $rc, $all lines, $n distinct points: $(tail -n1 "$T_TMP/$sig-resume.log")"
	ran=$(grep -c ' \.\.\. ETA' "$T_TMP/$sig-resume.log")
	m2=$(wc -l <"$R/measurements.jsonl")
	# each (point, round) measured once over both runs; a point skipped in round 1 (multipipe
	# on a kernel without FUSE_OUT_SPLICES) is not measured again
	dup=$(jq -r '"\(.point) \(.round)"' "$R/measurements.jsonl" | sort | uniq -d | head -n1)
	[ "$ran" = $((m2 - m1)) ] && [ -z "$dup" ] && [ "$m2" -le $NMEAS ] && valid_lines "$R/measurements.jsonl" &&
		t_pass "$sig.resume-skips-done" || t_fail "$sig.resume-skips-done" "ran $ran measurements, $m1 were done, $m2 in all; twice: '$dup'"
	tail -n1 "$T_TMP/$sig-resume.log" | grep -Eq '^bench/run: done: [0-9]+ ok, 0 failed, [0-9]+ skipped' &&
		t_pass "$sig.last-line-counts" || t_fail "$sig.last-line-counts" "$(tail -n1 "$T_TMP/$sig-resume.log")"
	left=$(leftovers "$R")
	[ -z "$left" ] && t_pass "$sig.resume-nothing-left" || t_fail "$sig.resume-nothing-left" "$(echo "$left" | head -3 | tr '\n' ';')"
}
R=$T_TMP/res
interrupt TERM 143 "$R"
interrupt INT 130 "$T_TMP/res-int"

# --- the results of the resumed set
for mode in copy splice; do
	ok=$(jq -s --arg m "$mode" '[.[] | select(.mode == $m and .status == "ok" and .gbps_median > 0
		and .repeats == 2 and ([.runs[].round] == [1, 2]) and .bytes_spliced + .bytes_copied > 0
		and .daemon_stats.errors == 0 and .verify == "post" and .verify_status == "ok" and .verify_granule == 8
		and .verify_seed > 0 and .verify_detail.passes == 2 and .verify_bytes == 2 * .settings.file_size
		and .pipe_max_size == 2097152)] | length' "$R/points.jsonl")
	[ "$ok" = 2 ] && t_pass "points.$mode.ok-and-verified" || t_fail "points.$mode.ok-and-verified" "$ok of 2 points ok, verified"
done
# seeds differ from point to point; fio ran without verification in the timed repeats
[ "$(jq -r .verify_seed "$R/points.jsonl" | sort -u | wc -l)" = $NPOINTS ] && t_pass verify.seed-per-point ||
	t_fail verify.seed-per-point "$(jq -r .verify_seed "$R/points.jsonl" | tr '\n' ' ')"
# rounds: in each group (one bs) the order turns: the point first in round 1 is not first in round 2
jq -s -e 'group_by(.point | capture("bs=(?<b>[0-9]+)").b) | length == 2 and all(.[];
	(map(select(.round == 1 and .position == 1)) | .[0].point) as $f1 |
	(map(select(.round == 2 and .position == 1)) | .[0].point) as $f2 |
	$f1 != null and $f2 != null and $f1 != $f2)' "$R/measurements.jsonl" >/dev/null &&
	t_pass rounds.order-turns || t_fail rounds.order-turns "$(jq -c '[.round, .position, .point]' "$R/measurements.jsonl" | head -6 | tr '\n' ' ')"
f=$(ls "$R"/log/*.fio-r1.json | head -n1)
jq -e '[.jobs[]."job options".verify // .["global options"].verify] | all(. == "0")' "$f" >/dev/null 2>&1 ||
	jq -e '.["global options"].verify == "0"' "$f" >/dev/null 2>&1 && t_pass verify.timed-without-fio-verify ||
	t_fail verify.timed-without-fio-verify "$(jq -c '.["global options"]' "$f" 2>&1 | cut -c1-200)"
if "$T_BUILD/splicefs" "$T_TMP/rt" --probe >/dev/null 2>&1; then
	ok=$(jq -s '[.[] | select(.mode == "multipipe" and .status == "ok")] | length' "$R/points.jsonl")
	[ "$ok" = 2 ] && t_pass points.multipipe.ok || t_fail points.multipipe.ok "$ok of 2 ok"
else
	sk=$(jq -s '[.[] | select(.mode == "multipipe" and .status == "skipped" and
		(.reason | test("FUSE_OUT_SPLICES")) and .gbps_median == "")] | length' "$R/points.jsonl")
	[ "$sk" = 2 ] && t_pass points.multipipe.skipped-with-reason ||
		t_fail points.multipipe.skipped-with-reason "$sk of 2 skipped with the reason"
fi
# CPU: each part >= 0; the parts (cgroup v2 cpu.stat, schedstat) within what /proc/stat says
# the whole machine was busy in the same window (two tick edges of slack a core), and within
# cores x wall: a part counted twice, or a window taken wrong, fails here.
jq -s -e 'map(select(.status == "ok")) | length > 0 and all(.[];
	.cpu_method == "cgroup2" and
	([.cpu_daemon_usr_s_per_gb, .cpu_daemon_sys_s_per_gb, .cpu_fio_usr_s_per_gb, .cpu_fio_sys_s_per_gb,
	  .cpu_server_usr_s_per_gb, .cpu_server_sys_s_per_gb, .cpu_kthreads_s_per_gb, .cpu_softirq_s_per_gb,
	  .cpu_rest_s_per_gb] | all(. >= 0)) and
	(.cpu_daemon_usr_s_per_gb + .cpu_daemon_sys_s_per_gb > 0) and (.cpu_fio_usr_s_per_gb + .cpu_fio_sys_s_per_gb > 0) and
	.cpu_parts_s_per_gb <= .cpu_capacity_s_per_gb and
	all(.runs[]; .cpu_s.parts <= .cpu_s.busy_all + 0.03 * .cpu_s.cores and
		.cpu_s.parts <= .cpu_s.capacity + 0.02 * .cpu_s.cores and .cpu_s.capacity > 0 and
		.cpu_s.wall >= .span_s))' "$R/points.jsonl" >/dev/null &&
	t_pass cpu.parts-within-proc-stat-busy-and-cores-x-wall ||
	t_fail cpu.parts-within-proc-stat-busy-and-cores-x-wall "$(jq -c 'select(.status == "ok") | .runs[] | .cpu_s | {parts, busy_all, capacity}' "$R/points.jsonl" | head -2 | tr '\n' ' ')"
# Bytes: what fio says its jobs read (timed rounds), plus the verification passes and the
# warm-ups (one a daemon start: one a round, more after a size scaling), is what the
# daemon says it served (its own counter): direct I/O, every read a FUSE_READ.  And GB/s
# against fio's own clock: the jobs' span holds fio's runtime, so the runner's GB/s is
# never above fio's bandwidth.
jq -s -e 'map(select(.status == "ok")) | length > 0 and all(.[];
	.bs as $bs | (((if .settings.warmup > .settings.size_per_job then .settings.size_per_job else .settings.warmup end) / $bs | floor) * $bs) as $w |
	.settings.daemon_starts >= 1 and
	.daemon_stats.bytes == ([.runs[].io_bytes] | add) + .verify_bytes + .settings.daemon_starts * $w)' "$R/points.jsonl" >/dev/null &&
	t_pass bytes.fio-count-equals-daemon-count ||
	t_fail bytes.fio-count-equals-daemon-count "$(jq -c 'select(.status == "ok") | {daemon: .daemon_stats.bytes, fio: ([.runs[].io_bytes] | add), verify: .verify_bytes, rounds: .repeats, warmup: .settings.warmup}' "$R/points.jsonl" | head -2 | tr '\n' ' ')"
jq -s -e 'map(select(.status == "ok")) | length > 0 and all(.[]; all(.runs[];
	.span_s >= .runtime_ms / 1000 - 0.002 and .gbps <= .fio_bw_sum_gbps * 1.01 + 1e-6 and .gbps > 0))' \
	"$R/points.jsonl" >/dev/null && t_pass gbps.within-fio-own-bandwidth ||
	t_fail gbps.within-fio-own-bandwidth "$(jq -c '.runs[0] | {gbps, fio_bw_sum_gbps, span_s, runtime_ms}' "$R/points.jsonl" | head -1)"
jq -e '.complete == true and (.kernel | length > 0) and (.fuse_out_splices | test("yes|no"))
	and .env == "native" and (.limits.dd_zero_null_gbps > 0) and (.matrix_sha256 | length == 64)
	and (.versions.fio | length > 0) and .modes == ["copy", "splice", "multipipe"]
	and (.programs.splicefs | index("copy")) != null and .rounds == 2 and .round_order == "rotate"
	and (.cost | not)' "$R/meta.json" >/dev/null &&
	t_pass meta || t_fail meta "$(jq -c '{complete, kernel, env, limits, modes}' "$R/meta.json" 2>&1)"
head -n1 "$R/points.csv" | tr ',' '\n' | grep -qx cpu_total_s_per_gb && [ "$(($(wc -l <"$R/points.csv") - 1))" = $NPOINTS ] &&
	t_pass csv.rows || t_fail csv.rows "$(wc -l <"$R/points.csv") lines"

# --- Each round starts the group's daemons side by side before its first timed repeat
# (the start phase) and stops them at its end: four replicas of copy, two rounds (round
# 2's order 2 3 4 1).  Every measurement is "round-start", and its counters (differences
# of the daemon's running totals, read by SIGUSR1) are what its own timed repeat and
# verification read plus its warm-up.  Replica 1's daemon, killed in round 2 after the
# start phase (when round 2's first measurement is recorded), fails that point with the
# reason; the others are measured; exit 1; nothing left behind.
K=$T_TMP/kept
k1=$("$RUN" "$M" --dry-run --set mode=copy --set bs=128k --set replicas=4 --out "$K" 2>/dev/null |
	sed -n 's|^  \[\([0-9]*\)/[0-9]*\] .*replica=1 .*|\1|p')
"$RUN" "$M" --set mode=copy --set bs=128k --set replicas=4 --set rounds=2 --out "$K" --no-baseline >"$T_TMP/kept.log" 2>&1 &
kpid=$!
t_cleanup_pid $kpid
killed=
for _ in $(seq 1200); do
	if [ "$({ wc -l <"$K/measurements.jsonl"; } 2>/dev/null)" = 5 ]; then
		f=$(ls "$TMPDIR"/sbrun.*/pt"$k1"/pid 2>/dev/null | head -n1)
		[ -n "$f" ] && killed=$(cat "$f") && kill -KILL "$killed"
		break
	fi
	kill -0 $kpid 2>/dev/null || break
	sleep 0.05
done
wait $kpid
rc=$?
t_log "rounds: replica 1 is point $k1; its daemon ${killed:-(not found)} killed in round 2"
jq -s -e 'length == 8 and all(.[] | select(.round == 1); .daemon == "round-start" and .status == "ok") and
	([.[] | select(.round == 2 and .status == "ok") | .daemon] == ["round-start", "round-start", "round-start"]) and
	([.[] | select(.round == 2 and .status == "failed")] | length == 1 and (.[0].point | test("replica=1$")) and
		(.[0].reason | test("exited or lost its mount before this measurement")))' "$K/measurements.jsonl" >/dev/null &&
	[ "$rc" = 1 ] && [ "$(grep -c 'daemons started and warmed up side by side' "$T_TMP/kept.log")" = 2 ] &&
	t_pass rounds.start-phase-and-a-dead-daemon-fails ||
	t_fail rounds.start-phase-and-a-dead-daemon-fails "exit $rc: $(jq -c '[.round, .daemon, .status, .reason[0:60]]' "$K/measurements.jsonl" 2>&1 | tr '\n' ' ')"
jq -s -e 'map(select(.status == "ok")) | length == 7 and all(.[]; .stats.bytes == .rep.io_bytes + .verify.verify_bytes + 1048576)' \
	"$K/measurements.jsonl" >/dev/null && t_pass rounds.counters-per-measurement ||
	t_fail rounds.counters-per-measurement "$(jq -c 'select(.status == "ok") | [.daemon, .stats.bytes, .rep.io_bytes, .verify.verify_bytes]' "$K/measurements.jsonl" | head -3 | tr '\n' ' ')"
left=$(leftovers "$K")
[ -z "$left" ] && t_pass rounds.nothing-left || t_fail rounds.nothing-left "$(echo "$left" | head -3 | tr '\n' ';')"

# --- memory short (SB_MEMINFO: MemAvailable 20 MiB, under 3 x an 8 MiB file): the start
# phase starts no daemon beside another; the point left out starts at its measurement,
# the running one stopped first.  Round 1: copy started in the start phase, splice at
# its measurement (copy stopped); round 2 (splice, copy) the same way round: two
# "memory:" lines, every point ok, every measurement's counters what it read.
E=$T_TMP/evict
printf 'MemAvailable:      20480 kB\n' >"$T_TMP/meminfo"
SB_MEMINFO=$T_TMP/meminfo "$RUN" "$M" --set mode="copy splice" --set bs=128k --out "$E" --no-baseline >"$T_TMP/evict.log" 2>&1
rc=$?
jq -s -e '[.[] | [.round, (.point | split("/")[0]), .daemon]] == [[1, "copy", "round-start"], [1, "splice", "own-start"],
	[2, "splice", "round-start"], [2, "copy", "own-start"]] and all(.[]; .status == "ok" and
	.stats.bytes == .rep.io_bytes + .verify.verify_bytes + 1048576)' "$E/measurements.jsonl" >/dev/null &&
	[ "$rc" = 0 ] && [ "$(grep -c 'memory: MemAvailable 20 MiB' "$T_TMP/evict.log")" = 2 ] &&
	[ -z "$(leftovers "$E")" ] && t_pass rounds.memory-short-one-daemon-at-a-time ||
	t_fail rounds.memory-short-one-daemon-at-a-time "exit $rc: $(jq -c '[.round, .daemon, .status]' "$E/measurements.jsonl" 2>&1 | tr '\n' ' ') $(grep -c memory: "$T_TMP/evict.log") memory lines"

# --- two runs on one results directory: the second refuses (exit 2), the first is untouched
L=$T_TMP/lock
"$RUN" "$M" --set mode=copy --out "$L" --no-baseline >"$T_TMP/lock1.log" 2>&1 &
lpid=$!
t_cleanup_pid $lpid
for _ in $(seq 100); do [ -e "$L/.lock" ] && break; sleep 0.05; done
sleep 0.3
msg=$("$RUN" "$M" --set mode=copy --out "$L" --resume --no-baseline 2>&1)
rc=$?
wait $lpid
rc1=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && echo "$msg" | grep -q 'another bench/run' &&
	[ $rc1 = 0 ] && [ "$(wc -l <"$L/points.jsonl")" = 2 ] && valid_lines "$L/points.jsonl" &&
	t_pass lock.second-run-refuses || t_fail lock.second-run-refuses "second: rc=$rc '$msg'; first: rc=$rc1, $(wc -l <"$L/points.jsonl") lines"

# --- results on a small tmpfs that fills up: one clear line, exit 1, points.jsonl whole;
# after making room, --resume finishes.
F=$T_TMP/full
mkdir -p "$F"
if mount -t tmpfs -o size=40k sbtest-full "$F" 2>/dev/null; then
	t_cleanup_cmd "umount -l $F"
	"$RUN" "$M" --set mode=copy --out "$F/r" --no-baseline >"$T_TMP/full.log" 2>&1
	rc=$?
	last=$(tail -n1 "$T_TMP/full.log")
	[ $rc = 1 ] && echo "$last" | grep -q 'cannot write' && echo "$last" | grep -q -- '--resume' &&
		{ [ ! -s "$F/r/points.jsonl" ] || valid_lines "$F/r/points.jsonl"; } && [ -z "$(leftovers "$F/r")" ] &&
		t_pass disk-full.clear-line-whole-file || t_fail disk-full.clear-line-whole-file "rc=$rc: $last; $(leftovers "$F/r" | head -2)"
	mount -o remount,size=16m "$F"
	"$RUN" "$M" --set mode=copy --out "$F/r" --resume --no-baseline >"$T_TMP/full2.log" 2>&1
	rc=$?
	[ $rc = 0 ] && [ "$(jq -r .point "$F/r/points.jsonl" | sort -u | wc -l)" = 2 ] && valid_lines "$F/r/points.jsonl" &&
		t_pass disk-full.resume-finishes || t_fail disk-full.resume-finishes "rc=$rc: $(tail -n1 "$T_TMP/full2.log")"
else
	t_skip disk-full "cannot mount a tmpfs here"
fi

# --- a wrong byte fails the point and bench/run exits 1: splicefs serving another seed,
# and (where splicefs has it) a daemon placing the right bytes in the wrong place
# inside one reply (--fault-swap).
wrong() { # NAME MODE DAEMON_ARGS
	local W=$T_TMP/wrong-$1 rc
	SB_DAEMON_ARGS="$3" "$RUN" "$M" --set mode="$2" --set bs=128k --set warmup=0 --set rounds=1 --out "$W" \
		--no-baseline >"$T_TMP/wrong-$1.log" 2>&1
	rc=$?
	if [ $rc = 1 ] && jq -e 'select(.status == "failed" and .gbps_median == "" and .verify_status == "failed"
		and (.verify_first_bad_offset | type == "number") and (.reason | test("first bad offset [0-9]+")))' \
		"$W/points.jsonl" >/dev/null && tail -n1 "$T_TMP/wrong-$1.log" | grep -q ' 1 failed'; then
		t_pass "verify.$1-fails-point-exit-1"
	else
		t_fail "verify.$1-fails-point-exit-1" "rc=$rc $(jq -c '{status, reason, verify_status}' "$W/points.jsonl" 2>&1 | head -1)"
	fi
}
wrong wrong-seed copy "--seed 7"
if "$T_BUILD/splicefs" --help 2>&1 | grep -q -- --fault-swap; then
	wrong swap-copy copy --fault-swap
	if "$T_BUILD/splicefs" "$T_TMP/rt" --probe >/dev/null 2>&1; then
		wrong swap-multipipe multipipe --fault-swap
	else
		t_skip verify.swap-multipipe "the kernel lacks FUSE_OUT_SPLICES"
	fi
else
	t_skip verify.swap "splicefs has no --fault-swap (h-daemon)"
fi

# --- verify=inline (labelled opt-in): fio's own check, granule = bs, seed 0
I=$T_TMP/inline
"$RUN" "$M" --set mode=copy --set bs=128k --set verify=inline --set rounds=1 --out "$I" --no-baseline >"$T_TMP/inline.log" 2>&1
rc=$?
[ $rc = 0 ] && jq -e 'select(.status == "ok" and .verify == "inline" and .verify_seed == 0 and
	.verify_granule == 131072 and (.point | test("verify=inline")))' "$I/points.jsonl" >/dev/null &&
	t_pass verify.inline-opt-in || t_fail verify.inline-opt-in "rc=$rc $(tail -n1 "$T_TMP/inline.log")"

# --- a buffered point shorter than min_seconds gets more bytes
S=$T_TMP/scale
"$RUN" "$M" --set mode=copy --set bs=128k --set direct=0 --set min_seconds=0.3 --set rounds=1 --out "$S" --no-baseline >"$T_TMP/scale.log" 2>&1
rc=$?
[ $rc = 0 ] && jq -e 'select(.status == "ok" and .size_scale > 1 and .settings.size_per_job == .size_scale * 8388608
	and .verify_bytes == .verify_detail.passes * .settings.file_size and (.window_s >= 0.3 or (.reason | test("min_seconds"))))' "$S/points.jsonl" >/dev/null &&
	t_pass min-seconds.scales-size || t_fail min-seconds.scales-size "rc=$rc $(jq -c '{status, size_scale, window_s, reason}' "$S/points.jsonl" 2>&1)"

# --- uring: enable_uring switched on for the point and put back
UP=/sys/module/fuse/parameters/enable_uring
if [ -w "$UP" ]; then
	u0=$(cat "$UP")
	"$RUN" "$M" --set mode=uring --set bs=128k --set rounds=1 --out "$T_TMP/uring" --no-baseline >"$T_TMP/uring.log" 2>&1
	rc=$?
	st=$(jq -r .status "$T_TMP/uring/points.jsonl" 2>/dev/null)
	[ "$(cat "$UP")" = "$u0" ] && { [ $rc = 0 ] || [ "$st" = failed ]; } && [ -n "$st" ] &&
		t_pass uring.enable_uring-restored || t_fail uring.enable_uring-restored "rc=$rc status=$st, enable_uring $(cat "$UP") (was $u0)"
	[ "$st" = ok ] || [ "$st" = skipped ] && t_pass "uring.point-$st" ||
		t_fail uring.point "$(jq -r .reason "$T_TMP/uring/points.jsonl" 2>&1)"
else
	t_skip uring "no writable $UP"
fi

# --- sbrun.py repeat on made-up windows: GB/s over the jobs' span (2 jobs), and the
# cores x wall check firing when the parts exceed it
U=$T_TMP/unit
mkdir -p "$U"
cat >"$U/fio.json" <<'J'
{"jobs": [{"error": 0, "job_runtime": 1000, "read": {"io_bytes": 1000000000, "bw_bytes": 1000000000}},
          {"error": 0, "job_runtime": 1500, "read": {"io_bytes": 1000000000, "bw_bytes": 666666666}}]}
J
printf '100.0\n100.5\n' >"$U/w.starts"
printf '101.0\n102.0\n' >"$U/w.ends"
printf 't 99.9\ncpu 0 0 0 0 0 0 0 0\ncg daemon 0 0 0\ncg server 0 0 0\ncg fio 0 0 0\nkthreads 0\n' >"$U/w.pre"
printf 'cpu 100 0 100 0 0 0 0 0\ncg daemon 1500000 500000 1000000\ncg server 0 0 0\ncg fio 1000000 400000 600000\nkthreads 100000000\nt 102.1\n' >"$U/w.post"
r=$(python3 "$T_TOP" plan repeat --fio "$U/fio.json" --prefix "$U/w" --hz 100 --cores 2 --softirq-in-parts 0)
echo "$r" | jq -e '(.gbps - 1.0 | fabs) < 1e-9 and (.span_s - 2.0 | fabs) < 1e-9 and (.fio_bw_sum_gbps > 1.6)
	and (.cpu_s.parts - 2.6 | fabs) < 1e-9 and (.cpu_s.capacity - 4.4 | fabs) < 1e-9 and (.cpu_over | not)' >/dev/null &&
	t_pass repeat.gbps-span-and-parts || t_fail repeat.gbps-span-and-parts "$r"
printf 'cpu 100 0 100 0 0 0 0 0\ncg daemon 4500000 500000 4000000\ncg server 0 0 0\ncg fio 1000000 400000 600000\nkthreads 0\nt 102.1\n' >"$U/w.post"
r=$(python3 "$T_TOP" plan repeat --fio "$U/fio.json" --prefix "$U/w" --hz 100 --cores 2 --softirq-in-parts 0)
echo "$r" | jq -e '.cpu_over | test("exceed cores x wall")' >/dev/null &&
	t_pass repeat.parts-over-capacity-flagged || t_fail repeat.parts-over-capacity-flagged "$r"

# --- two jobs: each its own region, GB/s over both, the check with two readers
J=$T_TMP/jobs2
# a run killed outright (SIGKILL: no trap) leaves its cgroup; the next run removes it, and
# leaves a live run's group alone
cgroot=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
sleep 600 &
live=$!
t_cleanup_pid $live
dead=$(sh -c 'echo $$')
if [ -n "$cgroot" ] && ! kill -0 "$dead" 2>/dev/null && mkdir -p "$cgroot/sbrun.$dead/daemon" "$cgroot/sbrun.$dead/fio" &&
	mkdir -p "$cgroot/sbrun.$live/daemon"; then
	t_cleanup_cmd "rmdir $cgroot/sbrun.$dead/* $cgroot/sbrun.$dead $cgroot/sbrun.$live/daemon $cgroot/sbrun.$live 2>/dev/null"
else
	dead=
fi
"$RUN" "$M" --set mode=copy --set bs=128k --set numjobs=2 --set rounds=1 --out "$J" --no-baseline >"$T_TMP/jobs2.log" 2>&1
rc=$?
if [ -n "$dead" ]; then
	[ ! -e "$cgroot/sbrun.$dead" ] && [ -d "$cgroot/sbrun.$live/daemon" ] &&
		grep -q "removed $cgroot/sbrun.$dead, left by a run that was killed" "$T_TMP/jobs2.log" &&
		t_pass cgroup.killed-run-swept || t_fail cgroup.killed-run-swept "$(ls -d "$cgroot"/sbrun.* | tr '\n' ' ')"
	rmdir "$cgroot/sbrun.$live/daemon" "$cgroot/sbrun.$live"
else
	t_skip cgroup.killed-run-swept "no writable cgroup v2 here"
fi
kill $live 2>/dev/null
[ $rc = 0 ] && jq -e 'select(.status == "ok" and .numjobs == 2 and .verify_bytes == .verify_detail.passes * 16777216 and
	(.verify_detail.tool | test("--jobs 2")) and .runs[0].io_bytes == 16777216 and .runs[0].jobs_stamped == [2, 2])' \
	"$J/points.jsonl" >/dev/null && t_pass jobs2.point || t_fail jobs2.point "rc=$rc $(tail -n1 "$T_TMP/jobs2.log")"

# --- a TCP source, where sbserver is built
if [ -x "$T_BUILD/sbserver" ]; then
	T=$T_TMP/tcp
	"$RUN" "$M" --set mode=copy --set source=tcp-loopback --set bs=128k --set rounds=1 --out "$T" --no-baseline \
		>"$T_TMP/run4.log" 2>&1
	rc=$?
	[ $rc = 0 ] && jq -e 'select(.status == "ok" and .path == "loopback" and .gbps_median > 0
		and .daemon_stats.source_bytes > 0 and .verify_status == "ok" and
		(.cpu_server_usr_s_per_gb + .cpu_server_sys_s_per_gb) > 0)' "$T/points.jsonl" >/dev/null &&
		t_pass tcp-loopback.point || t_fail tcp-loopback.point "rc=$rc $(tail -n2 "$T_TMP/run4.log" | tr '\n' ' ')"
	left=$(leftovers "$T")
	[ -z "$left" ] && t_pass tcp-loopback.nothing-left || t_fail tcp-loopback.nothing-left "$left"
	# tcp-nic outside a --net guest: skipped with its reason, not failed
	"$RUN" "$M" --set mode=copy --set source=tcp-nic --set bs=128k --set rounds=1 --out "$T_TMP/nic" --no-baseline >/dev/null 2>&1
	rc=$?
	[ $rc = 0 ] && jq -e 'select(.status == "skipped" and (.reason | test("tcp-nic")))' "$T_TMP/nic/points.jsonl" >/dev/null &&
		t_pass tcp-nic.skipped-natively || t_fail tcp-nic.skipped-natively "rc=$rc"
else
	t_skip tcp-loopback.point "build/sbserver is not built"
fi
# --- an invented mode, known from its --list alone (build/splicefs-testmode: mode testmode,
# its option --test-delay-ns, its counters test_spins and test_ns_per_spin, a ratio), through
# the runner to a report: its option an axis, its counters point fields combined as --list
# says, the whole --list in meta.json; nothing under bench/, plots/ or splicebench/ knows it
if [ -x "$T_BUILD/splicefs-testmode" ]; then
	X=$T_TMP/testmode
	"$RUN" "$M" --programs "splicefs-testmode libfuse-ref" --set mode="copy testmode" --set test_delay_ns="0 20000" \
		--set bs=128k --set rounds=2 --out "$X" --no-baseline >"$T_TMP/testmode.log" 2>&1
	rc=$?
	[ $rc = 0 ] && jq -se 'length == 3 and all(.[]; .status == "ok" and .program == "splicefs-testmode")
		and any(.[]; .mode == "testmode" and .test_delay_ns == 20000 and (.point | test("/test_delay_ns=20000$"))
			and .test_spins > 0 and .daemon_stats.test_spins == .test_spins and .test_ns_per_spin >= 20000)
		and any(.[]; .mode == "testmode" and .test_delay_ns == 0 and .test_spins == 0)' "$X/points.jsonl" >/dev/null &&
		t_pass testmode.runs-from-its-list || t_fail testmode.runs-from-its-list "rc=$rc $(tail -n1 "$T_TMP/testmode.log")"
	jq -e '[.lists[] | select(.file == "splicefs-testmode") | .counters[] | select(.mode == "testmode") | .name]
		| index("test_spins") != null' "$X/meta.json" >/dev/null &&
		t_pass testmode.list-in-meta || t_fail testmode.list-in-meta "$(jq -c '[.lists[]?.file]' "$X/meta.json" 2>&1)"
	python3 "$T_TOP" report "$X" --out "$T_TMP/testmode-report" >"$T_TMP/testmode-report.log" 2>&1 &&
		grep -q testmode "$T_TMP/testmode-report/report.md" && t_pass testmode.report ||
		t_fail testmode.report "$(tail -n1 "$T_TMP/testmode-report.log")"
else
	t_skip testmode "build/splicefs-testmode is not built (make)"
fi
t_finish
