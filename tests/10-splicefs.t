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
[ -x "$SFS" ] || _t_skip_all "build/splicefs is not built (make)"

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

# try_mode MODE: add MODE to $modes if this kernel can run it, else SKIP with why.
modes="copy splice"
try_mode() {
	local out
	if out=$("$SFS" "$MNT" --mode "$1" --file-size 1M --pid-file "$T_TMP/try.pid" 2>&1 </dev/null); then
		t_cleanup_pid "$(cat "$T_TMP/try.pid")"
		kill "$(cat "$T_TMP/try.pid")"
		for _ in $(seq 50); do t_no_mount "$MNT" && break; sleep 0.1; done
		modes="$modes $1"
	else
		t_skip "$1" "$out"
	fi
}
try_mode passthrough

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
			t_pass "$mode.$bs.counters" ;;
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
fi

# multipipe on a kernel without FUSE_OUT_SPLICES: a clear refusal, no mount left.
if "$SFS" "$MNT" --probe >"$T_TMP/probe" 2>&1; then
	t_skip multipipe.refused "this kernel accepts FUSE_OUT_SPLICES (tests/25-multipipe.t covers it)"
else
	out=$("$SFS" "$MNT" --mode multipipe --file-size 16M 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q "kernel lacks FUSE_OUT_SPLICES" <<<"$out" && t_no_mount "$MNT" &&
		[ "$(wc -l <<<"$out")" = 1 ]; then
		t_pass multipipe.refused
	else
		t_fail multipipe.refused "rc=$rc out=$out"
	fi
	grep -q "FUSE_OUT_SPLICES: no" "$T_TMP/probe" && t_pass probe.host-says-no ||
		t_fail probe.host-says-no "$(cat "$T_TMP/probe")"
fi

# Bad input: one line naming the problem, exit != 0, no mount left behind.
bad() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q -- "$want" <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ] &&
		t_no_mount "$MNT"; then
		t_pass "bad-input.$name"
	else
		t_fail "bad-input.$name" "rc=$rc out=$out"
	fi
}
bad unknown-mode "unknown mode 'zero'" "$SFS" "$MNT" --mode zero
bad bad-size "not a size" "$SFS" "$MNT" --file-size 1X
bad zero-threads "out of range" "$SFS" "$MNT" --threads 0
bad missing-mountpoint "create it first" "$SFS" "$T_TMP/nope"
bad no-mountpoint-arg "no mount point" "$SFS"
bad unknown-option "unknown option '--frobnicate'" "$SFS" "$MNT" --frobnicate
touch "$T_TMP/file"
bad not-a-directory "not a directory" "$SFS" "$T_TMP/file"
mkdir -p "$T_TMP/busy"
mount -t tmpfs none "$T_TMP/busy" && t_cleanup_cmd umount -l "$T_TMP/busy"
bad busy-mountpoint "is busy" "$SFS" "$T_TMP/busy"
if command -v unshare >/dev/null; then
	bad no-dev-fuse "cannot open /dev/fuse" unshare -m sh -c \
		"mount -t tmpfs none /dev && exec $SFS $MNT"
fi
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$SFS" "$MNT" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && t_no_mount "$MNT" && t_pass bad-input.not-permitted ||
		t_fail bad-input.not-permitted "rc=$rc out=$out"
fi

# SIGKILL during a read: the test's cleanup path must leave no mount behind.
if start copy 131072; then
	pid=$(cat "$T_TMP/sfs.pid")
	fio --name=k --filename="$MNT/data0" --rw=read --bs=128k --size=1G --direct=1 \
		--output=/dev/null >/dev/null 2>&1 &
	fpid=$!
	sleep 0.5
	kill -KILL "$pid"
	for _ in $(seq 50); do kill -0 $fpid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $fpid 2>/dev/null; then
		kill -KILL $fpid
		t_fail sigkill.reader-returns "fio hung after the daemon died"
	else
		t_pass sigkill.reader-returns
	fi
	wait $fpid 2>/dev/null
	grep -q " $MNT fuse" /proc/mounts && t_pass sigkill.mount-is-dead-until-cleanup
	# what the EXIT trap does, done here so it can be checked:
	fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	t_no_mount "$MNT" && t_pass sigkill.cleanup-unmounts || t_fail sigkill.cleanup-unmounts "still mounted"
fi
t_finish
