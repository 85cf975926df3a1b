#!/usr/bin/env bash
# The NIC path (issue 12): kernel/vm --net gives the guest a virtio-net NIC on QEMU
# user networking (eth0 10.0.2.15/24, GRO on, the host's 127.0.0.1 as 10.0.2.2);
# sbserver on the host serves verified reads to sbclient in the guest; --gro off turns
# GRO off; scripts/pipe-slots measures bytes per pipe slot: coalesced fragments on
# loopback (and veth as root), one packet per slot behind the NIC; the iperf3 baseline
# runs one process per stream, on the NIC too; a tap NIC at MTU 1500 and 9000 (kernel/vm
# --tap).  Six short boots (about 60 s).
#   SPLICEBENCH_KERNEL=IMAGE  the guest kernel (default: kernel/build's cached 6.12 fixed)
. "$(dirname "$0")/lib.sh"
T_NAME=nic
_require_cmd qemu-system-x86_64 busybox jq
cd "$T_TOP" || exit 1
for p in sbserver sbclient sbslots; do
	[ -x "$T_BUILD/$p" ] || _t_skip_all "build/$p is not built (make)"
done

# Bad arguments: one line, exit 2, before any boot.
vm_bad() { # NAME EXPECTED-TEXT ARGS...
	local name=$1 want=$2 out rc
	shift 2
	out=$(kernel/vm "$@" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && [[ $out == *"$want"* ]]; then
		t_pass "$name"
	else
		t_fail "$name" "exit $rc: $out"
	fi
}
vm_bad vm.gro-needs-net "--gro needs --net" --gro off /dev/null -- true
vm_bad vm.gro-bad-value "--gro must be on or off" --net --gro maybe /dev/null -- true
vm_bad vm.with-needs-initramfs "--with needs --initramfs" --with /etc/hostname /dev/null -- true
vm_bad vm.mtu-needs-tap "--mtu needs --tap" --mtu 9000 /dev/null -- true
vm_bad vm.tap-bad-value "--tap wants NETNS/IFNAME" --tap eth0 /dev/null -- true
vm_bad vm.tap-no-netns "--tap: no network namespace" --tap sbnone$$/t0 /dev/null -- true
# bench-cost's bad input: one line, exit 2, no result directory
cost_bad() { # NAME MESSAGE ARGS...
	local name=$1 msg=$2 out rc
	shift 2
	out=$(kernel/cost/bench-cost /dev/null --out "$T_TMP/costbad" "$@" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"$msg"* ]] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		[ ! -e "$T_TMP/costbad" ] && t_pass "$name" || t_fail "$name" "rc=$rc: $out"
}
cost_bad bench-cost.bad-source "--source must be mem or tcp-nic" --source ethernet
cost_bad bench-cost.bad-repeats "--repeats wants a whole number from 1 to 99" --repeats 0
cost_bad bench-cost.bad-pipe-max-size "--pipe-max-size wants a size from 4K to 1G" --pipe-max-size 1k
out=$(scripts/pipe-slots --path ethernet 2>&1)
[ $? -eq 2 ] && [[ $out == *"loopback, veth, nic and/or remote"* ]] && t_pass pipe-slots.bad-path ||
	t_fail pipe-slots.bad-path "$out"
out=$(scripts/pipe-slots --path nic --mtu 9000 2>&1)
[ $? -eq 2 ] && [[ $out == *"--mtu needs --nic tap"* ]] && t_pass pipe-slots.mtu-needs-tap ||
	t_fail pipe-slots.mtu-needs-tap "$out"

t_guest_kernel

# sbserver on the host's loopback; the guest reaches it as 10.0.2.2.
"$T_BUILD/sbserver" --bind 127.0.0.1 --port 0 --port-file "$T_TMP/port" --file-size 64M \
	--granule 1M >"$T_TMP/sbserver.log" 2>&1 &
t_cleanup_pid $!
for _ in $(seq 100); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
port=$(cat "$T_TMP/port" 2>/dev/null)
[ -n "$port" ] || { t_fail sbserver-start "$(tail -n 1 "$T_TMP/sbserver.log")"; exit 1; }

kernel/vm --net --timeout 180 "$kernel" -- sh -c '
	echo "env $SB_VM_NET $SB_VM_HOST_ADDR"
	ip -4 -o addr show dev eth0 | awk "{print \"addr\", \$4}"
	ip -o link show dev eth0 | grep -q "state UP" && echo "link up"
	ethtool -k eth0 | sed -n "s/^generic-receive-offload: \([a-z]*\).*/gro \1/p"
	build/sbclient --connect "$SB_VM_HOST_ADDR:$1" --file-size 64M --granule 1M --length 1M \
		--requests 32 --threads 2 >/dev/null 2>&1; echo "sbclient $?"' sh "$port" \
	>"$T_TMP/net.out" 2>"$T_TMP/net.err"
rc=$?
got=$(tr '\n' ' ' <"$T_TMP/net.out")
t_log "guest: $got"
[ $rc -eq 0 ] || t_fail vm-net.boots "exit $rc: $(grep -v '^kernel/vm: booting' "$T_TMP/net.err" | tail -n 2 | tr '\n' ' ')"
[[ $got == *"env 1 10.0.2.2 "* ]] && t_pass vm-net.env || t_fail vm-net.env "$got"
[[ $got == *"addr 10.0.2.15/24 link up "* ]] && t_pass vm-net.eth0-10.0.2.15-up || t_fail vm-net.eth0-10.0.2.15-up "$got"
[[ $got == *"gro on "* ]] && t_pass vm-net.gro-on-by-default || t_fail vm-net.gro-on-by-default "$got"
# 32 verified 1 MiB reads from the host's sbserver through the NIC.
[[ $got == *"sbclient 0 "* ]] && t_pass vm-net.sbclient-verified-reads-from-host ||
	t_fail vm-net.sbclient-verified-reads-from-host "$got"

out=$(kernel/vm --net --gro off --timeout 120 "$kernel" -- sh -c 'ethtool -k eth0 | grep "^generic-receive-offload:"' 2>"$T_TMP/gro.err")
[[ $out == "generic-receive-offload: off"* ]] && t_pass vm-net.gro-off ||
	t_fail vm-net.gro-off "'$out' $(tail -n 1 "$T_TMP/gro.err")"

# Bytes per pipe slot.  Loopback (and veth): the sender's page fragments coalesce,
# thousands of bytes per slot (13-25 KB measured).  NIC: one packet per receive
# buffer, at most one MSS (1460) per slot (1440 measured with timestamps).
paths="loopback nic"
[ "$(id -u)" -eq 0 ] && ip netns add sbtest-probe.$$ 2>/dev/null && ip netns del sbtest-probe.$$ && paths="loopback veth nic"
scripts/pipe-slots --path "$paths" --kernel "$kernel" >"$T_TMP/slots.jsonl" 2>"$T_TMP/slots.err"
rc=$?
sed 's/^/# /' "$T_TMP/slots.jsonl"
[ $rc -eq 0 ] || t_fail pipe-slots.runs "exit $rc: $(tail -n 2 "$T_TMP/slots.err" | tr '\n' ' ')"
for p in $paths; do
	bps=$(jq -r --arg p "$p" 'select(.path == $p and .full) | .bytes_per_slot' "$T_TMP/slots.jsonl")
	case $p in nic) lo=1000 hi=1460 ;; *) lo=8192 hi=65536 ;; esac
	if [ -n "$bps" ] && awk -v b="$bps" -v lo=$lo -v hi=$hi 'BEGIN { exit !(b >= lo && b <= hi) }'; then
		t_pass "pipe-slots.$p-$lo-to-$hi-bytes-per-slot"
	else
		t_fail "pipe-slots.$p-$lo-to-$hi-bytes-per-slot" "got '${bps:-no full pipe}'"
	fi
done
# The NIC's peer another kernel's network stack (kernel/vm --tap: a tap device in a
# namespace of this host, scripts/netns tap-up), at MTU 1500 and 9000: the sender's
# TSO/GSO segments reach the guest as MTU-sized frames.  At 1500 a slot holds at most
# one MSS (1448 with timestamps); at 9000 a slot must hold more than any 1500 frame
# could (else the MTU did not reach the wire).
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && command -v nsenter >/dev/null; then
	for mtu in 1500 9000; do
		line=$(scripts/pipe-slots --path nic --nic tap --mtu $mtu --kernel "$kernel" 2>"$T_TMP/tap$mtu.err")
		rc=$?
		t_log "tap mtu $mtu: $line"
		case $mtu in 1500) lo=1000 hi=1460 ;; *) lo=1461 hi=8948 ;; esac
		if [ $rc -eq 0 ] && jq -e --argjson m $mtu --argjson lo $lo --argjson hi $hi '.nic == "tap" and .mtu == $m and .full
			and .bytes_per_slot >= $lo and .bytes_per_slot <= $hi' <<<"$line" >/dev/null; then
			t_pass "pipe-slots.tap-mtu$mtu-$lo-to-$hi-bytes-per-slot"
		else
			t_fail "pipe-slots.tap-mtu$mtu-$lo-to-$hi-bytes-per-slot" "exit $rc: $line $(tail -n 2 "$T_TMP/tap$mtu.err" | tr '\n' ' ')"
		fi
	done
	ip netns list | grep -q '^sbps-tap' && t_fail pipe-slots.tap-down "namespace sbps-tap left" || t_pass pipe-slots.tap-down
else
	t_skip pipe-slots.tap "needs root, /dev/net/tun and nsenter"
fi
# The iperf3 baseline, one client process per stream: loopback (host) and the NIC
# (clients in the guest with -R, servers on the host), 2 streams, 1 s.
if command -v iperf3 >/dev/null; then
	ibport=$((6300 + $$ % 500))
	IPERF_BASELINE_PORT=$ibport scripts/iperf-baseline --path "loopback nic" --kernel "$kernel" --seconds 1 \
		--streams 2 --zerocopy 0 --out "$T_TMP/ib.jsonl" >/dev/null 2>"$T_TMP/ib.err"
	rc=$?
	sed 's/^/# /' "$T_TMP/ib.jsonl" 2>/dev/null
	for p in loopback nic; do
		n=$(jq -s --arg p $p '[.[] | select(.path == $p and .streams == 2 and .processes == 2
			and .gbytes_per_s > 0 and .emulated == ($p == "nic"))] | length' "$T_TMP/ib.jsonl" 2>/dev/null)
		[ $rc -eq 0 ] && [ "$n" = 1 ] && t_pass "iperf-baseline.$p.one-process-per-stream" ||
			t_fail "iperf-baseline.$p.one-process-per-stream" "exit $rc, $n good records: $(tail -n 1 "$T_TMP/ib.err")"
	done
	pgrep -f "iperf3 -s -B 127.0.0.1 -p $((ibport + 1))\$" >/dev/null &&
		t_fail iperf-baseline.no-leftover "an iperf3 server is still running" || t_pass iperf-baseline.no-leftover
else
	t_skip iperf-baseline "needs iperf3 (scripts/deps test)"
fi
t_finish
