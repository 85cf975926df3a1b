#!/usr/bin/env bash
# uring-zc, FUSE over io_uring zero-copy (Linux 7.3, FUSE 7.46), end to end.
# On the host (no zero-copy before 7.3) it must refuse with exit 3 and one line:
# with enable_uring as it is, and, where the parameter is writable, with it on
# (no buffer pools).  Then it boots the 7.3 guest (kernel/build --base 7.3
# --variant v3, kernel/vm --net) and runs this script inside it (--guest):
#   - it refuses, exit 3 and one line, with enable_uring off, with --privilege user and
#     in a user namespace (where the guest kernel has them);
#   - uring (by copy) still reads every byte right on 7.3;
#   - uring-zc from the memfd, from sbserver on loopback in the guest, and from
#     sbserver on the host through the guest's NIC, at 128k and 1M: every byte
#     checked by build/sbcheck, buffered, direct (two readers) and direct at an
#     unaligned offset; the counters must say 100 % zero-copied (zc_fraction 1,
#     zc_copied 0, zc_bytes = bytes), nothing failed;
#   - sbserver killed during reads: EIO for the reader, the daemon lives on, counts
#     them, and reads right again once a server is back (reconnect);
#   - fio's own verify (libaio, depth 8, direct and buffered) on the memfd at 1M.
# SPLICEBENCH_KERNEL_V73 names a 7.3 image instead of building one (its debug build:
# SB_ZC_MIB=8 makes the files 8 MiB, for KASAN and lockdep under TCG).
# timeout: 3600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio-verify.sh"
T_NAME=uring-zc
SFS=$T_BUILD/splicefs
UR=/sys/module/fuse/parameters/enable_uring
SEED=7
# An odd tail: the last read is short.  SB_ZC_MIB=N: files of N MiB (a debug kernel under TCG).
FSIZE=$((${SB_ZC_MIB:-64} * 1048576 + 100))
ULEN=$((FSIZE - 4095 < 8388608 ? FSIZE - 4095 : 8388608)) # the unaligned direct read's length
WRAP=()                       # refuse runs splicefs under this (unshare ...)

# refuse NAME REGEX [splicefs options...]: exit 3, one line on stderr matching REGEX,
# nothing on stdout, nothing left mounted.
refuse() {
	local name=$1 re=$2 mnt=$T_TMP/refuse rc lines
	shift 2
	mkdir -p "$mnt"
	"${WRAP[@]}" "$SFS" "$mnt" --mode uring-zc --file-size 1M "$@" >"$T_TMP/ref.out" 2>"$T_TMP/ref.err" </dev/null
	rc=$?
	lines=$(wc -l <"$T_TMP/ref.err")
	if [ $rc = 3 ] && [ "$lines" = 1 ] && [ ! -s "$T_TMP/ref.out" ] && grep -Eq "$re" "$T_TMP/ref.err" &&
		t_no_mount "$mnt"; then
		t_pass "$name"
		t_log "$name: $(cat "$T_TMP/ref.err")"
	else
		[ $rc = 0 ] && fusermount3 -u "$mnt" 2>/dev/null
		t_fail "$name" "exit $rc, $lines lines (want 3, one line matching '$re'): $(head -c 300 "$T_TMP/ref.err" | tr '\n' ' ')"
	fi
}

# --- inside the 7.3 guest -----------------------------------------------------------

start() { # start TAG [splicefs options...]
	local tag=$1
	shift
	mkdir -p "$T_TMP/$tag"
	t_cleanup_mount "$T_TMP/$tag"
	t_daemon_start "$tag" "$T_TMP/$tag" --file-size "$FSIZE" "$@"
}
stop() { t_daemon_stop "$1" "$T_TMP/$1"; }
want() { # want NAME TAG JQ-CONDITION
	if jq -e "$3" "$T_TMP/$2.json" >/dev/null 2>&1; then
		t_pass "$1"
	else
		t_fail "$1" "$(jq -c "$4" "$T_TMP/$2.json" 2>&1)"
	fi
}
ZC='{reads,bytes,bytes_copied,zc_bytes,zc_replies,zc_copied,zc_copied_unflagged,zc_copied_classic,zc_copied_source,zc_resumed,zc_fraction,ring_requests,replies_failed,errors,reconnects}'

# zc_point NAME SRC BS THREADS: mount, read every byte three ways, stop, counters.
zc_point() {
	local name=$1 src=$2 bs=$3 th=$4 tag=zc
	if ! start $tag --mode uring-zc --source "$src" --granule 8 --seed $SEED --threads "$th"; then
		t_fail "$name.mount" "$(tail -n 1 "$T_TMP/$tag.log")"
		return
	fi
	t_check "$name.buffered.sbcheck" "$T_BUILD/sbcheck" --bs "$bs" --seed $SEED "$T_TMP/$tag/data0"
	t_check "$name.direct.sbcheck" "$T_BUILD/sbcheck" --bs "$bs" --direct --jobs 2 --seed $SEED "$T_TMP/$tag/data0"
	t_check "$name.direct-unaligned.sbcheck" "$T_BUILD/sbcheck" --bs "$bs" --direct --offset 4095 \
		--length $ULEN --seed $SEED "$T_TMP/$tag/data0"
	if ! stop $tag; then
		t_fail "$name.stop" "did not exit and unmount"
		return
	fi
	t_log "$name: $(jq -c "$ZC" "$T_TMP/$tag.json")"
	want "$name.all-zero-copied" $tag \
		".zc_fraction == 1 and .zc_copied == 0 and .bytes_copied == 0 and .zc_bytes == .bytes and .bytes >= $((2 * FSIZE)) and .replies_failed == 0 and .errors == 0" "$ZC"
}

# server_gone PORT: sbserver (on loopback at PORT) killed while READs are being received
# into the reader's pages: the read fails with EIO, the daemon lives on, counts the failed
# replies, and reads right again once a server is back on the port (reconnect).
server_gone() {
	local port=$1 spid tag=gone rc name=uring-zc.tcp-loopback.server-gone
	spid=$(cat "$T_TMP/lo.pid")
	if ! start $tag --mode uring-zc --source "tcp://127.0.0.1:$port?timeout=2&retries=1" --granule 8 \
		--seed $SEED --threads 2; then
		t_fail "$name.mount" "$(tail -n 1 "$T_TMP/$tag.log")"
		return
	fi
	(while "$T_BUILD/sbcheck" --bs 128k --direct --jobs 2 --seed $SEED "$T_TMP/$tag/data0" >/dev/null 2>&1; do :; done) &
	local rpid=$!
	sleep 0.5
	kill -KILL "$spid"
	for _ in $(seq 300); do t_alive $rpid || break; sleep 0.1; done
	if t_alive $rpid; then
		kill $rpid
		t_fail "$name.read-fails" "the reads went on without the server"
	else
		t_pass "$name.read-fails"
	fi
	wait $rpid 2>/dev/null
	"$T_BUILD/sbserver" --bind 127.0.0.1 --port "$port" --file-size $FSIZE --seed $SEED \
		--port-file "$T_TMP/lo2.port" >"$T_TMP/lo2-sbserver.log" 2>&1 &
	t_cleanup_pid $!
	for _ in $(seq 50); do [ -s "$T_TMP/lo2.port" ] && break; sleep 0.1; done
	t_check "$name.reads-again" "$T_BUILD/sbcheck" --bs 1M --direct --length 8M --seed $SEED "$T_TMP/$tag/data0"
	if ! stop $tag; then
		t_fail "$name.stop" "did not exit and unmount"
		return
	fi
	t_log "$name: $(jq -c "$ZC" "$T_TMP/$tag.json")"
	want "$name.counted" $tag '.replies_failed >= 1 and .errors >= 1 and .reconnects >= 1 and .zc_copied == 0' "$ZC"
}

guest() { # guest HOST-SBSERVER-PORT
	local hport=${1:-} lport=
	t_log "guest kernel $(uname -r)"
	# splicefs --probe is what bench/run records in meta.json (splice_reply, variant)
	mkdir -p "$T_TMP/probe"
	"$T_BUILD/splicefs" "$T_TMP/probe" --probe >"$T_TMP/probe.out" 2>&1
	grep -qx 'splice reply: v3' "$T_TMP/probe.out" && t_pass guest.splicefs-probe-says-v3 ||
		t_fail guest.splicefs-probe-says-v3 "$(tr '\n' ' ' <"$T_TMP/probe.out")"
	if [ ! -w $UR ]; then
		t_fail guest.enable_uring "no writable $UR in $(uname -r): no FUSE over io_uring"
		return
	fi
	t_cleanup_cmd "echo $(cat $UR) > $UR"
	echo 0 >$UR
	refuse guest.refuses.enable_uring-off 'enable_uring = N'
	echo 1 >$UR
	refuse guest.refuses.privilege-user 'CAP_SYS_ADMIN' --privilege user
	# root of a user namespace holds CAP_SYS_ADMIN there, not where the kernel checks it
	if unshare -Urm true 2>/dev/null; then
		WRAP=(unshare -Urm)
		refuse guest.refuses.user-namespace 'user namespace'
		WRAP=()
	else
		t_skip guest.refuses.user-namespace "kernel $(uname -r) has no user namespaces (CONFIG_USER_NS)"
	fi

	# uring, by copy, still right on 7.3
	if start u --mode uring --granule 8 --seed $SEED; then
		t_check uring.1m.buffered.sbcheck "$T_BUILD/sbcheck" --bs 1M --seed $SEED "$T_TMP/u/data0"
		t_check uring.128k.direct.sbcheck "$T_BUILD/sbcheck" --bs 128k --direct --seed $SEED "$T_TMP/u/data0"
		stop u || t_fail uring.stop "did not exit and unmount"
		want uring.through-ring u '.ring_requests >= .reads and .bytes_copied == .bytes and .replies_failed == 0' "$ZC"
	else
		t_fail uring.mount "$(tail -n 1 "$T_TMP/u.log")"
	fi

	# uring-zc: the memfd (threads 1: one worker serves both queues; 2: a queue each)
	zc_point uring-zc.mem.128k mem 128k 1
	zc_point uring-zc.mem.1m mem 1M 2
	# sbserver on loopback in the guest
	"$T_BUILD/sbserver" --bind 127.0.0.1 --file-size $FSIZE --seed $SEED --port-file "$T_TMP/lo.port" \
		>"$T_TMP/lo-sbserver.log" 2>&1 &
	echo $! >"$T_TMP/lo.pid"
	t_cleanup_pid $!
	for _ in $(seq 50); do [ -s "$T_TMP/lo.port" ] && break; sleep 0.1; done
	lport=$(cat "$T_TMP/lo.port" 2>/dev/null)
	if [ -n "$lport" ]; then
		zc_point uring-zc.tcp-loopback.128k "tcp://127.0.0.1:$lport" 128k 1
		zc_point uring-zc.tcp-loopback.1m "tcp://127.0.0.1:$lport" 1M 2
		server_gone "$lport"
	else
		t_fail uring-zc.tcp-loopback.sbserver "$(tail -n 1 "$T_TMP/lo-sbserver.log")"
	fi
	# sbserver on the host, through the guest's virtio-net NIC
	if [ -n "$hport" ] && [ -n "${SB_VM_HOST_ADDR:-}" ]; then
		zc_point uring-zc.tcp-nic.128k "tcp://$SB_VM_HOST_ADDR:$hport" 128k 1
		zc_point uring-zc.tcp-nic.1m "tcp://$SB_VM_HOST_ADDR:$hport" 1M 2
	fi

	# fio's own verify (granule = bs, seed 0), many reads in flight
	if start fio --mode uring-zc --granule 1M --threads 2; then
		for direct in 1 0; do
			kind=$([ $direct = 1 ] && echo direct || echo buffered)
			if msg=$(t_fio_verify "zc-fio-$kind" "$T_TMP/fio/data0" 1M "${SB_ZC_MIB:-64}M" $direct --ioengine=libaio --iodepth=8); then
				t_pass "uring-zc.mem.1m.$kind.fio-verify"
			else
				t_fail "uring-zc.mem.1m.$kind.fio-verify" "$msg"
			fi
		done
		stop fio || t_fail uring-zc.fio.stop "did not exit and unmount"
		t_log "uring-zc.fio: $(jq -c "$ZC" "$T_TMP/fio.json")"
		want uring-zc.mem.1m.fio.all-zero-copied fio '.zc_fraction == 1 and .zc_copied == 0 and .replies_failed == 0' "$ZC"
	else
		t_fail uring-zc.fio.mount "$(tail -n 1 "$T_TMP/fio.log")"
	fi
}

if [ "${1:-}" = --guest ]; then
	guest "${2:-}"
	t_finish
	exit
fi

# --- on the host ----------------------------------------------------------------------
_require_root
_require_fuse
t_require_built "$SFS" "$T_BUILD/sbcheck" "$T_BUILD/sbserver"

# The host's kernel (6.18 here) has no zero-copy: exit 3, one line.
mkdir -p "$T_TMP/probe"
if "$SFS" "$T_TMP/probe" --mode uring-zc --file-size 1M --pid-file "$T_TMP/probe.pid" >/dev/null 2>&1; then
	t_daemon_stop probe "$T_TMP/probe" 2>/dev/null || fusermount3 -u "$T_TMP/probe"
	t_skip host.refuses "the host's kernel $(uname -r) runs uring-zc: nothing to refuse"
else
	refuse host.refuses "."
	if [ -w $UR ] && [ "$(cat $UR)" != Y ]; then
		t_cleanup_cmd "echo $(cat $UR) > $UR"
		echo 1 >$UR
		refuse host.refuses.enable_uring-on 'buffer pools'
		echo N >$UR
	fi
fi

# The 7.3 guest.
if ! kernel/vm --help 2>/dev/null | grep -q -- '--net'; then
	_t_skip_all "kernel/vm has no --net"
fi
img=${SPLICEBENCH_KERNEL_V73:-}
if [ -z "$img" ]; then
	img=$(cd "$T_TOP" && kernel/build --base 7.3 --variant v3 2>"$T_TMP/build.log" | tail -n 1) || img=
fi
if [ -z "$img" ] || [ ! -f "$img" ]; then
	t_skip guest "no 7.3 image could be built: ${SPLICEBENCH_KERNEL_V73:+SPLICEBENCH_KERNEL_V73=$SPLICEBENCH_KERNEL_V73: no such image}$(tail -n 2 "$T_TMP/build.log" 2>/dev/null | tr '\n' ' ')"
	t_finish
	exit
fi
t_log "7.3 image: $img"
"$T_BUILD/sbserver" --bind 127.0.0.1 --file-size $FSIZE --seed $SEED --port-file "$T_TMP/nic.port" \
	>"$T_TMP/nic-sbserver.log" 2>&1 &
t_cleanup_pid $!
for _ in $(seq 50); do [ -s "$T_TMP/nic.port" ] && break; sleep 0.1; done
if ! [ -s "$T_TMP/nic.port" ]; then
	t_fail host.sbserver "$(tail -n 1 "$T_TMP/nic-sbserver.log")"
	t_finish
	exit
fi
cd "$T_TOP" || exit 1
t_vm_run guest "$img" --net --mem 2048 --smp 2 --timeout 900 --env SB_ZC_MIB="${SB_ZC_MIB:-64}" "$img" -- \
	tests/27-uring-zc.t --guest "$(cat "$T_TMP/nic.port")"
rc=$?
t_relay guest "$T_TMP/guest.out"
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$T_TMP/guest.out"; then
	t_fail guest.vm "kernel/vm exit $rc: $(grep -v '^kernel/vm: booting' "$T_TMP/guest.err" | tail -n 3 | tr '\n' ' ')"
elif [ "${t_relayed:-0}" -lt 10 ]; then
	t_fail guest.vm "only ${t_relayed:-0} results from the guest: $(tail -n 3 "$T_TMP/guest.err" | tr '\n' ' ')"
fi
t_finish
