#!/usr/bin/env bash
# libfuse-ref (the stock-libfuse reference daemon) end to end: both modes from
# memory at 128k and 1m, direct and buffered, every byte checked by sbcheck
# (granule 8, a non-zero seed); 4 libfuse threads; the tcp source over
# loopback; bad input; SIGTERM unmounts.
. "$(dirname "$0")/lib.sh"
T_NAME=libfuse-ref
_require_root
_require_fuse
_require_cmd jq fusermount3
REF=$T_BUILD/libfuse-ref
CHECK=$T_BUILD/sbcheck
t_require_built "$REF" "$CHECK" "$T_BUILD/splicefs" "$T_BUILD/sbserver"

MNT=$T_TMP/mnt
mkdir -p "$MNT"
t_cleanup_mount "$MNT"
SEED=0x5eed1234
# Not a multiple of any block size: the last read is short and checked too.
SIZE=$((64 * 1024 * 1024 + 12344))

# start [options...]: libfuse-ref at $MNT, daemonized (lib.sh's t_sfs_start with
# T_DAEMON); stats in $T_TMP/sfs.json, messages in $T_TMP/sfs.log.
T_DAEMON=$REF
start() { t_sfs_start "$MNT" --seed $SEED --file-size $SIZE "$@"; }
# stop: SIGTERM; the daemon must exit and leave no mount.
stop() { t_sfs_stop "$MNT"; }
stat() { t_sfs_stat "$1"; }
# check NAME BS [sbcheck options...]: every byte of data0 (from the start).
check() {
	local name=$1 bs=$2
	shift 2
	t_check "$name" "$CHECK" --seed $SEED --granule 8 --bs "$bs" "$@" "$MNT/data0"
}

# --list: the shape of splicefs --list, both modes.
if out=$("$REF" --list) && jq -e '.program == "libfuse-ref" and
	([.modes[].name] | index("libfuse-copy") != null and index("libfuse-splice") != null) and
	([.sources[].name] == ["mem", "tcp"]) and all(.modes[]; has("help") and has("needs") and has("options"))' \
	<<<"$out" >/dev/null; then
	t_pass list.json
else
	t_fail list.json "$out"
fi
# which modes splice (a mode whose fallbacks libfuse hides is told apart from a copy mode by
# this alone): libfuse-splice and splicefs's splice and multipipe, no other
sp=$({ "$REF" --list; "$T_BUILD/splicefs" --list; } | jq -r '.modes[] | select(.splices == true) | .name' | sort | tr '\n' ' ')
nb=$({ "$REF" --list; "$T_BUILD/splicefs" --list; } | jq -r '.modes[] | select(.splices | type != "boolean") | .name')
[ "$sp" = "libfuse-splice multipipe splice " ] && [ -z "$nb" ] && t_pass list.splices ||
	t_fail list.splices "splicing: '$sp'; without the field: '$nb'"

modes=$(jq -r '.modes[].name' <<<"$out")
for mode in $modes; do
	for bs in 128k 1m; do
		if ! start --mode "$mode" --max-read 1M; then
			t_fail "$mode.$bs.mount" "$(tail -n 2 "$T_TMP/sfs.log")"
			continue
		fi
		check "$mode.$bs.direct.sbcheck" $bs --direct
		check "$mode.$bs.buffered.sbcheck" $bs
		# The check can fail: another seed is caught at the first word.
		if "$CHECK" --seed 1 --granule 8 --bs $bs --direct --length 1M "$MNT/data0" >/dev/null 2>&1; then
			t_fail "$mode.$bs.wrong-seed-caught" "sbcheck accepted data of another seed"
		else
			t_pass "$mode.$bs.wrong-seed-caught"
		fi
		stop && t_pass "$mode.$bs.sigterm-unmounts" || t_fail "$mode.$bs.sigterm-unmounts" "still running or mounted"
		bytes=$(stat bytes) spliced=$(stat bytes_spliced) copied=$(stat bytes_copied)
		if [ "$(stat fallbacks_visible)" != false ] || [ "$(stat fallbacks)" != null ] ||
			[ "$bytes" -lt $((2 * SIZE)) ] || [ $((spliced + copied)) -ne "$bytes" ]; then
			t_fail "$mode.$bs.counters" "$(cat "$T_TMP/sfs.json")"
		elif [ "$mode" = libfuse-copy ] && [ "$spliced" != 0 ]; then
			t_fail "$mode.$bs.counters" "copy handed $spliced bytes to fuse_reply_data"
		elif [ "$mode" = libfuse-splice ] && [ "$copied" != 0 ]; then
			t_fail "$mode.$bs.counters" "mem source: $copied bytes not handed over as an fd buffer"
		else
			t_pass "$mode.$bs.counters"
		fi
	done
done

# 4 libfuse threads (fuse_session_loop_mt), 4 readers at once, each on its own quarter.
if start --mode libfuse-splice --threads 4 --direct-io; then
	q=$((SIZE / 4 / 1048576 * 1048576))
	pids=()
	for i in 0 1 2 3; do
		len=$([ $i = 3 ] && echo $((SIZE - 3 * q)) || echo $q)
		"$CHECK" --seed $SEED --granule 8 --bs 128k --offset $((i * q)) --length $len \
			--expect-size $len "$MNT/data0" >"$T_TMP/mt$i.out" 2>&1 &
		pids+=($!)
	done
	ok=1
	for i in 0 1 2 3; do wait "${pids[$i]}" || { ok=0; t_fail threads4.sbcheck "$(cat "$T_TMP/mt$i.out")"; }; done
	[ $ok = 1 ] && t_pass threads4.sbcheck
	stop || t_fail threads4.stop "still running or mounted"
	n=$(stat threads_started)
	[ "$n" -ge 2 ] && [ "$n" -le 4 ] && [ "$(stat bytes)" -ge "$SIZE" ] && t_pass threads4.counters ||
		t_fail threads4.counters "threads_started=$n bytes=$(stat bytes)"
else
	t_fail threads4.mount "$(tail -n 2 "$T_TMP/sfs.log")"
fi

# A fair reference (issue 19 item 5): what the kernel took from each daemon's INIT reply,
# read from fusectl while it is mounted, must be the same (splicefs: 64 and 48).
# fusectl DIR: "max_background congestion_threshold" of the FUSE connection mounted at DIR.
fusectl() {
	local c=/sys/fs/fuse/connections/$(command stat -c %d "$1")
	[ -r "$c/max_background" ] && echo "$(cat "$c/max_background") $(cat "$c/congestion_threshold")"
}
if ! grep -q '^fusectl /sys/fs/fuse/connections ' /proc/mounts; then
	mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null &&
		t_cleanup_cmd umount -l /sys/fs/fuse/connections
fi
if grep -q '^fusectl /sys/fs/fuse/connections ' /proc/mounts; then
	sfs_bg= ref_bg=
	if T_DAEMON=$T_BUILD/splicefs start --mode copy; then
		sfs_bg=$(fusectl "$MNT")
		stop || t_fail fusectl.splicefs-stop "still running or mounted"
	fi
	for mode in $modes; do
		ref_bg=
		if start --mode "$mode"; then
			ref_bg=$(fusectl "$MNT")
			stop || t_fail "fusectl.$mode-stop" "still running or mounted"
		fi
		if [ -n "$sfs_bg" ] && [ "$ref_bg" = "$sfs_bg" ] && [ "$sfs_bg" = "64 48" ]; then
			t_pass "$mode.fusectl-same-as-splicefs"
		else
			t_fail "$mode.fusectl-same-as-splicefs" "max_background congestion_threshold: libfuse-ref '$ref_bg', splicefs '$sfs_bg' (want 64 48 for both)"
		fi
	done
else
	t_skip fusectl "fusectl is not mounted and cannot be (mount -t fusectl fusectl /sys/fs/fuse/connections)"
fi

# The tcp source over loopback, through sbserver.
if [ -x "$T_BUILD/sbserver" ]; then
	"$T_BUILD/sbserver" --bind 127.0.0.1 --port 0 --port-file "$T_TMP/port" --file-size $SIZE \
		--granule 8 --seed $SEED >"$T_TMP/srv.log" 2>&1 &
	t_cleanup_pid $!
	for _ in $(seq 100); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
	for mode in $modes; do
		if ! start --mode "$mode" --source "tcp://127.0.0.1:$(cat "$T_TMP/port")" --threads 2; then
			t_fail "$mode.tcp.mount" "$(tail -n 2 "$T_TMP/sfs.log")"
			continue
		fi
		check "$mode.tcp.1m.direct.sbcheck" 1m --direct
		check "$mode.tcp.128k.buffered.sbcheck" 128k
		stop || t_fail "$mode.tcp.stop" "still running or mounted"
		bytes=$(stat bytes) spliced=$(stat bytes_spliced) copied=$(stat bytes_copied)
		[ "$bytes" -ge $((2 * SIZE)) ] && [ $((spliced + copied)) = "$bytes" ] &&
			[ "$(stat source_bytes)" = "$bytes" ] && [ "$(stat errors)" = 0 ] &&
			{ [ "$mode" != libfuse-splice ] || [ "$spliced" -gt 0 ]; } &&
			t_pass "$mode.tcp.counters" || t_fail "$mode.tcp.counters" "$(cat "$T_TMP/sfs.json")"
	done
else
	t_skip tcp "build/sbserver is not built"
fi

# Bad input: one line naming the problem, exit 2, no mount left behind.
bad() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ] &&
		t_no_mount "$MNT" && ! pgrep -f "^$REF $MNT" >/dev/null; then
		t_pass "bad-input.$name"
	else
		t_fail "bad-input.$name" "rc=$rc out=$out"
	fi
}
bad unknown-mode "unknown mode 'zero': use one of libfuse-copy, libfuse-splice" "$REF" "$MNT" --mode zero
bad unknown-option "unknown option '--frobnicate'" "$REF" "$MNT" --frobnicate
bad bad-size "not a size" "$REF" "$MNT" --file-size 1X
bad max-read "out of range" "$REF" "$MNT" --max-read 2M
bad unknown-source "unknown source 'udp://x:1'" "$REF" "$MNT" --source udp://x:1
bad no-mountpoint "create it first" "$REF" "$T_TMP/nope"
mkdir -p "$T_TMP/busy"
if mount -t tmpfs none "$T_TMP/busy"; then
	t_cleanup_cmd umount -l "$T_TMP/busy"
	bad busy-mountpoint "is busy" "$REF" "$T_TMP/busy"
	grep -c " $T_TMP/busy " /proc/mounts | grep -qx 1 && t_pass bad-input.busy-mountpoint-untouched ||
		t_fail bad-input.busy-mountpoint-untouched "$(grep " $T_TMP/busy " /proc/mounts)"
fi
t_finish
