#!/usr/bin/env bash
# splicefs end to end on this host: every mode the kernel supports, read by fio
# with every byte verified, counters checked; bad input; a killed daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio-verify.sh"
T_NAME=splicefs
_require_root
_require_fuse
_require_cmd fio jq fusermount3 numfmt
SFS=$T_BUILD/splicefs
t_require_built "$SFS" "$T_BUILD/sbserver"

MNT=$T_TMP/mnt
mkdir -p "$MNT"
t_cleanup_mount "$MNT"

# start MODE GRANULE [options...]: mount splicefs at $MNT, daemonized.
start() { # start MODE GRANULE [options...]
	local mode=$1 granule=$2
	shift 2
	t_sfs_start "$MNT" --mode "$mode" --file-size 1G --granule "$granule" "$@"
}
stop() { t_sfs_stop "$MNT"; }
stat() { t_sfs_stat "$1"; }

# Sizes per block size: >= 1 GiB verified per mode over the six runs.
declare -A SIZE=([4k]=64M [128k]=256M [1m]=512M)

# try_mode MODE: add MODE to $modes if this kernel can run it.  Only exit 3
# ("this mode cannot run here", with its reason) is a SKIP; any other failure
# (a crash, a bad option, exit 1) is a FAIL.
modes="copy splice"
try_mode() {
	local out rc
	out=$("$SFS" "$MNT" --mode "$1" --file-size 1M --pid-file "$T_TMP/try.pid" 2>&1 </dev/null)
	rc=$?
	if [ $rc = 0 ]; then
		t_cleanup_pid "$(cat "$T_TMP/try.pid")"
		kill "$(cat "$T_TMP/try.pid")"
		for _ in $(seq 50); do t_no_mount "$MNT" && break; sleep 0.1; done
		modes="$modes $1"
	elif [ $rc = 3 ] && [ -n "$out" ] && t_no_mount "$MNT"; then
		t_skip "$1" "$out"
	else
		t_fail "$1.start" "exit $rc (only 3 means 'cannot run here'): $out"
	fi
}
try_mode passthrough
# Passthrough as --privilege user: the kernel registers backing files for
# CAP_SYS_ADMIN only, so an unprivileged daemon cannot run it; splicefs must
# refuse (exit 3, one line naming CAP_SYS_ADMIN, nothing mounted) rather than
# register while its main thread still holds the capability.
case " $modes " in *" passthrough "*)
	out=$("$SFS" "$MNT" --mode passthrough --privilege user --file-size 1M \
		--pid-file "$T_TMP/try.pid" 2>&1 </dev/null)
	rc=$?
	if [ $rc = 3 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		[[ $out == *CAP_SYS_ADMIN* ]] && t_no_mount "$MNT"; then
		t_pass passthrough.privilege-user-refused
	else
		[ $rc = 0 ] && { kill "$(cat "$T_TMP/try.pid")"; for _ in $(seq 50); do t_no_mount "$MNT" && break; sleep 0.1; done; }
		t_fail passthrough.privilege-user-refused "exit $rc: $out"
	fi ;;
esac

# FUSE over io_uring: switched on for this test only (the module parameter
# is global), put back as it was on every exit path.
ur=/sys/module/fuse/parameters/enable_uring
if [ -w $ur ]; then
	t_cleanup_cmd "echo $(cat $ur) > $ur"
	echo 1 >$ur
	try_mode uring
else
	t_skip uring "no writable $ur: this kernel has no FUSE over io_uring"
fi

for mode in $modes; do
	total=0
	for bs in 4k 128k 1m; do
		g=$(numfmt --from=iec "${bs^^}")
		if ! start "$mode" "$g"; then
			t_fail "$mode.$bs.mount" "splicefs did not mount"
			continue
		fi
		for direct in 0 1; do
			kind=$([ $direct = 1 ] && echo direct || echo buffered)
			if msg=$(t_fio_verify "$mode-$bs-$kind" "$MNT/data0" "$bs" "${SIZE[$bs]}" $direct); then
				t_pass "$mode.$bs.$kind.fio-verify"
				total=$((total + $(numfmt --from=iec "${SIZE[$bs]}")))
			else
				t_fail "$mode.$bs.$kind.fio-verify" "$msg"
			fi
		done
		# A last check with our own checker: the whole tail, short final read included.
		t_check "$mode.$bs.sbcheck-tail" "$T_BUILD/sbcheck" --granule "$g" --bs 1M --direct \
			--offset $((1024 * 1024 * 1024 - 3 * 1024 * 1024 - 100)) "$MNT/data0"
		if ! stop; then
			t_fail "$mode.$bs.stop" "daemon did not exit and unmount on SIGTERM"
			continue
		fi
		bytes=$(stat bytes) spliced=$(stat bytes_spliced) copied=$(stat bytes_copied)
		fallbacks=$(stat fallbacks)
		if [ "$mode" != passthrough ] && [ "$bytes" -lt $((2 * $(numfmt --from=iec "${SIZE[$bs]}"))) ] ||
			[ $((spliced + copied)) -ne "$bytes" ]; then
			t_fail "$mode.$bs.counters" "bytes=$bytes spliced=$spliced copied=$copied"
			continue
		fi
		case $mode.$bs in
		copy.*)
			[ "$spliced" = 0 ] && [ "$copied" = "$bytes" ] &&
				t_pass "$mode.$bs.counters" ||
				t_fail "$mode.$bs.counters" "copy spliced $spliced bytes" ;;
		splice.128k)
			# Buffered reads come in 1 MiB readahead requests (fall back),
			# direct 128 KiB ones fit a grown pipe: both must show.
			[ "$spliced" -gt 0 ] && t_pass "$mode.$bs.counters.spliced" ||
				t_fail "$mode.$bs.counters.spliced" "no byte was spliced" ;;
		splice.1m)
			# A 1 MiB reply + header does not fit a 1 MiB pipe: libfuse's rule
			# copies, and the counters must say so.
			[ "$fallbacks" -gt 0 ] && [ "$copied" -gt 0 ] &&
				t_pass "$mode.$bs.counters.fallback-counted" ||
				t_fail "$mode.$bs.counters.fallback-counted" "fallbacks=$fallbacks copied=$copied" ;;
		splice.4k)
			# Direct 4 KiB reads are replies under two pages: libfuse's rule
			# copies them, one counted fallback each (at least 64 MiB / 4 KiB).
			n4k=$(($(numfmt --from=iec "${SIZE[$bs]}") / 4096))
			[ "$fallbacks" -ge "$n4k" ] && [ "$copied" -ge $((n4k * 4096)) ] &&
				t_pass "$mode.$bs.counters.small-replies-copied" ||
				t_fail "$mode.$bs.counters.small-replies-copied" "fallbacks=$fallbacks copied=$copied, want >= $n4k and >= $((n4k * 4096))" ;;
		uring.*)
			# Every READ came through a ring entry, by copy into its payload.
			[ "$(stat ring_requests)" -ge "$(stat reads)" ] && [ "$copied" = "$bytes" ] &&
				t_pass "$mode.$bs.counters.through-ring" ||
				t_fail "$mode.$bs.counters.through-ring" "ring_requests=$(stat ring_requests) reads=$(stat reads)" ;;
		passthrough.*)
			# The kernel read the backing file itself: no READ reached us.
			[ "$(stat reads)" = 0 ] && t_pass "$mode.$bs.counters.no-read-reached-daemon" ||
				t_fail "$mode.$bs.counters.no-read-reached-daemon" "reads=$(stat reads)" ;;
		esac
	done
	[ $total -ge $((1024 * 1024 * 1024)) ] && t_pass "$mode.verified-1GiB" ||
		t_fail "$mode.verified-1GiB" "only $total bytes verified"
done

# Several workers with cloned fds, page cache bypassed by FOPEN_DIRECT_IO.
if start copy 131072 --threads 4 --clone-fd --direct-io; then
	t_check "copy.threads4.clone-fd.fio-verify" t_fio_verify mt "$MNT/data0" 128k 256M 0 \
		--numjobs=4 --offset_increment=256M --group_reporting
	stop || t_fail copy.threads4.stop "daemon did not exit"
	[ "$(stat reads)" -gt 0 ] && t_pass copy.threads4.counters || t_fail copy.threads4.counters "no reads"
else
	t_fail copy.threads4.mount "splicefs did not mount"
fi

# A wrong pattern must fail verification: the check can fail.
if start copy 131072 --seed 99; then
	if t_fio_verify wrongseed "$MNT/data0" 128k 16M 1 >/dev/null; then
		t_fail verify.detects-wrong-data "fio accepted data of another seed"
	else
		t_pass verify.detects-wrong-data
	fi
	stop
else
	t_fail verify.detects-wrong-data "splicefs --seed 99 did not start: $(tail -n 2 "$T_TMP/sfs.log")"
fi

# multipipe on a kernel without FUSE_OUT_SPLICES: a clear refusal, no mount left.
if "$SFS" "$MNT" --probe >"$T_TMP/probe" 2>&1; then
	t_skip multipipe.refused "this kernel accepts FUSE_OUT_SPLICES (tests/25-multipipe.t covers it)"
else
	out=$("$SFS" "$MNT" --mode multipipe --file-size 16M 2>&1)
	rc=$?
	if [ $rc = 3 ] && grep -q "kernel lacks FUSE_OUT_SPLICES" <<<"$out" && t_no_mount "$MNT" &&
		[ "$(wc -l <<<"$out")" = 1 ]; then
		t_pass multipipe.refused
	else
		t_fail multipipe.refused "rc=$rc out=$out"
	fi
	grep -q "FUSE_OUT_SPLICES: no" "$T_TMP/probe" && t_pass probe.host-says-no ||
		t_fail probe.host-says-no "$(cat "$T_TMP/probe")"
fi

# Bad input: one line naming the problem, the exit status meant for it
# (2 bad input, 1 this machine cannot), no mount left behind.
bad() {
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = "$want_rc" ] && grep -q -- "$want" <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ] &&
		t_no_mount "$MNT"; then
		t_pass "bad-input.$name"
	else
		t_fail "bad-input.$name" "rc=$rc (want $want_rc) out=$out"
	fi
}
bad unknown-mode 2 "unknown mode 'zero'" "$SFS" "$MNT" --mode zero
bad bad-size 2 "not a size" "$SFS" "$MNT" --file-size 1X
bad zero-threads 2 "out of range" "$SFS" "$MNT" --threads 0
bad missing-mountpoint 2 "create it first" "$SFS" "$T_TMP/nope"
bad no-mountpoint-arg 2 "no mount point" "$SFS"
bad unknown-option 2 "unknown option '--frobnicate'" "$SFS" "$MNT" --frobnicate
touch "$T_TMP/file"
bad not-a-directory 2 "not a directory" "$SFS" "$T_TMP/file"
mkdir -p "$T_TMP/busy"
mount -t tmpfs none "$T_TMP/busy" && t_cleanup_cmd umount -l "$T_TMP/busy"
bad busy-mountpoint 2 "is busy" "$SFS" "$T_TMP/busy"
if command -v unshare >/dev/null; then
	bad no-dev-fuse 1 "cannot open /dev/fuse" unshare -m sh -c \
		"mount -t tmpfs none /dev && exec $SFS $MNT"
fi
if command -v setpriv >/dev/null; then
	# $T_TMP is mode 0700: nobody cannot even reach the mount point.
	bad not-permitted 2 "Permission denied" \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$SFS" "$MNT"
fi

# cap_sys_resource in the stats: what the workers hold, not what --privilege asked.
# Root keeps CAP_SYS_RESOURCE where this shell has it (bit 24 of CapEff; not in a
# container that took it away: then pipe-max-size binds root as well);
# --privilege user drops it.
capeff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
cap=$(( (0x${capeff:-0} >> 24) & 1 ))
cap=$([ "$cap" = 1 ] && echo true || echo false)
for priv in root user; do
	want=$([ $priv = root ] && echo "$cap" || echo false)
	if start copy 4096 --file-size 16M --privilege $priv; then
		dd if="$MNT/data0" of=/dev/null bs=128k count=1 iflag=direct 2>/dev/null
		stop
		got=$(stat cap_sys_resource)
		[ "$got" = "$want" ] && [ "$(stat privilege)" = $priv ] && t_pass "stats.cap-sys-resource.$priv" ||
			t_fail "stats.cap-sys-resource.$priv" "got $got, want $want (CapEff here: $cap)"
	else
		t_fail "stats.cap-sys-resource.$priv" "splicefs did not start"
	fi
done

# The pipe-slot probe (tee + vmsplice + drain, issue 19 item 5) is off by default, so
# timed reads pay nothing for it; SIGUSR2 from another process toggles it (bench/run:
# around its untimed sbcheck pass).  A socket-fed reply's slots are known only through
# the probe: pipe_slots grows only while it is on.
"$T_BUILD/sbserver" --bind 127.0.0.1 --port 0 --port-file "$T_TMP/port" --file-size 16M \
	--granule 8 >"$T_TMP/srv.log" 2>&1 &
t_cleanup_pid $!
for _ in $(seq 100); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
# probe_round SKIP: 4 direct reads of 256 KiB from block SKIP; then the counters (SIGUSR1).
probe_round() {
	dd if="$MNT/data0" of=/dev/null bs=256k count=4 skip="$1" iflag=direct 2>/dev/null
	rm -f "$T_TMP/sfs.json"
	kill -USR1 "$(cat "$T_TMP/sfs.pid")"
	for _ in $(seq 50); do [ -s "$T_TMP/sfs.json" ] && break; sleep 0.1; done
	jq -r '"\(.slot_probe) \(.replies_spliced) \(.pipe_slots)"' "$T_TMP/sfs.json"
}
if T_SLOT_PROBE=0 t_sfs_start "$MNT" --mode splice --source "tcp://127.0.0.1:$(cat "$T_TMP/port")" \
	--file-size 16M --granule 8; then
	pid=$(cat "$T_TMP/sfs.pid")
	read -r on0 sp0 sl0 <<<"$(probe_round 0)"
	kill -USR2 "$pid"
	sleep 0.2
	read -r on1 sp1 sl1 <<<"$(probe_round 8)"
	kill -USR2 "$pid"
	sleep 0.2
	read -r on2 sp2 sl2 <<<"$(probe_round 16)"
	t_log "slot probe: off: $sp0 spliced, $sl0 slots; on: $sp1, $sl1; off again: $sp2, $sl2"
	if [ "$on0 $on1 $on2" = "false true false" ] && [ "$sp0" -ge 4 ] && [ "$sl0" = 0 ] &&
		[ "$sp1" -ge 8 ] && [ "$sl1" -gt 0 ] && [ "$sp2" -ge 12 ] && [ "$sl2" = "$sl1" ] && t_alive "$pid"; then
		t_pass slot-probe.off-by-default-sigusr2-toggles
	else
		t_fail slot-probe.off-by-default-sigusr2-toggles "probe, replies spliced, slots: off: $on0 $sp0 $sl0; after SIGUSR2: $on1 $sp1 $sl1; after another: $on2 $sp2 $sl2"
	fi
	stop || t_fail slot-probe.stop "still running or mounted"
else
	t_fail slot-probe.mount "$(tail -n 2 "$T_TMP/sfs.log")"
fi

# A mode of the test build (build/splicefs-testmode, issue 28): its option and counters come
# from its own file through the registry hook, and --list and the stats file name them;
# build/splicefs has none of it.
TM=$T_BUILD/splicefs-testmode
if [ ! -x "$TM" ]; then
	t_fail testmode "$TM not built (make all)"
elif "$SFS" --list | jq -e '[.modes[].name, .counters[].name] | any(test("test"))' >/dev/null; then
	t_fail testmode.not-in-production "build/splicefs --list names the test mode or its counters"
elif T_DAEMON=$TM t_sfs_start "$MNT" --mode testmode --test-delay-ns 200000 --file-size 16M --direct-io; then
	dd if="$MNT/data0" of=/dev/null bs=128k count=8 iflag=direct 2>/dev/null
	stop
	# the counters the stats file has, in --list's order (the daemon's, then the mode's own)
	want=$("$TM" --list | jq -c '[.counters[] | select(.mode == null or .mode == "testmode") | .name]')
	got=$(jq -c --argjson w "$want" '[keys_unsorted[] | select(. as $k | $w | index($k))]' "$T_TMP/sfs.json")
	read -r reads spins ns delay <<<"$(jq -r '"\(.reads) \(.test_spins) \(.test_spin_ns) \(.test_delay_ns)"' "$T_TMP/sfs.json")"
	t_log "testmode: $reads reads, $spins spun, $ns ns; counters $got"
	if [ "$got" = "$want" ] && [ "$delay" = 200000 ] && [ "$reads" -ge 8 ] && [ "$spins" = "$reads" ] &&
		[ "$ns" -ge $((spins * 200000)) ]; then
		t_pass testmode.own-option-and-counters
	else
		t_fail testmode.own-option-and-counters "reads $reads, test_spins $spins, test_spin_ns $ns, test_delay_ns $delay; counters $got, --list $want"
	fi
	"$SFS" "$MNT" --mode copy --test-delay-ns 5 >/dev/null 2>&1
	[ $? = 2 ] && t_pass testmode.option-unknown-to-splicefs || t_fail testmode.option-unknown-to-splicefs "build/splicefs took --test-delay-ns"
else
	t_fail testmode.mount "$(tail -n 2 "$T_TMP/sfs.log")"
fi

# SIGKILL during a read, the dead mount and the restart that clears it:
# tests/70-faults.t (row 1).
t_finish
