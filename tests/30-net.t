#!/usr/bin/env bash
# The network side: sbserver (fuzzed, HELLO mismatch, send kinds, options),
# splicefs's TCP source read by fio with every byte verified on loopback and
# across a veth pair, the data server killed or stalled mid-read, and the
# iperf3 baseline.  Loopback and the test's own namespaces only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio-verify.sh"
T_NAME=net
_require_cmd jq timeout
SRV=$T_BUILD/sbserver
CLI=$T_BUILD/sbclient
SFS=$T_BUILD/splicefs
NETNS=$T_TOP/scripts/netns
NS=sbt$$ # this run's namespaces: $NS-srv, $NS-cli
NS=${NS:0:8}
# T_NET_PARTS selects parts (default all): server hello tcp kill iperf.  In the
# patched-kernel VM, `T_NET_PARTS=tcp tests/30-net.t` adds multipipe to the modes.
parts=" ${T_NET_PARTS:-server hello tcp kill iperf} "
has() { [[ "$parts" == *" $1 "* ]]; }

if [ ! -x "$SRV" ] || [ ! -x "$CLI" ]; then
	# daemons/sbserver/sbserver.mk builds them; build just these two if missing
	make -s -C "$T_TOP" build/sbserver build/sbclient \
		>/dev/null 2>&1
fi
[ -x "$SRV" ] && [ -x "$CLI" ] || _t_skip_all "build/sbserver or build/sbclient is not built (make)"

# alive PID: running (a zombie child, exited but not yet waited for, is not).
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st:0:1}" != Z ]
}

# srv_start NAME [WRAPPER... --] [sbserver options...]: start sbserver, wait (bounded) for
# its --port-file; sets PORT and SPID; the log is $T_TMP/NAME.log.
srv_start() {
	local name=$1 wrap=()
	shift
	if [ "${1:-}" = "--ns" ]; then
		wrap=("$NETNS" exec srv --name "$NS")
		shift
	fi
	rm -f "$T_TMP/$name.port"
	"${wrap[@]}" "$SRV" --port-file "$T_TMP/$name.port" --stats-file "$T_TMP/$name.stats" "$@" \
		>"$T_TMP/$name.log" 2>&1 &
	SPID=$!
	t_cleanup_pid $SPID
	for _ in $(seq 150); do
		[ -s "$T_TMP/$name.port" ] && break
		alive $SPID || break
		sleep 0.1
	done
	PORT=$(cat "$T_TMP/$name.port" 2>/dev/null)
	[ -n "$PORT" ]
}

# srv_stop: SIGTERM, bounded wait; true when it exited 0.
srv_stop() {
	local rc
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 100); do alive "$SPID" || break; sleep 0.1; done
	if alive "$SPID"; then
		kill -KILL "$SPID"
		wait "$SPID" 2>/dev/null
		return 1
	fi
	wait "$SPID"
	rc=$?
	return $rc
}

# ---- (a) the server: options, send kinds, fuzz ----

if has server; then
	out=$("$SRV" --frobnicate 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "unknown option '--frobnicate'" <<<"$out" &&
		t_pass server.bad-option || t_fail server.bad-option "rc=$rc out=$out"
	out=$("$SRV" --send splice 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && t_pass server.bad-send ||
		t_fail server.bad-send "rc=$rc out=$out"
	out=$("$SRV" --granule 12 2>&1)
	rc=$?
	[ $rc -eq 2 ] && grep -q granule <<<"$out" && t_pass server.bad-granule ||
		t_fail server.bad-granule "rc=$rc out=$out"
	"$SRV" --help | grep -q -- "--send HOW" && t_pass server.help || t_fail server.help "no --send in --help"

	for send in send sendfile zerocopy; do
		if ! srv_start "send-$send" --files 3 --file-size 48M --granule 4096 --seed 7 --send $send; then
			t_fail "server.$send.start" "$(tail -n1 "$T_TMP/send-$send.log")"
			continue
		fi
		t_check "server.$send.verified-reads" "$CLI" --connect "127.0.0.1:$PORT" --files 3 \
			--file-size 48M --granule 4096 --seed 7 --threads 2 --requests 300 --length 1M --random
		if srv_stop && jq -e '.requests >= 600 and .errors == 0 and .bytes > 0' \
			"$T_TMP/send-$send.stats" >/dev/null; then
			t_pass "server.$send.sigterm-stats"
		else
			t_fail "server.$send.sigterm-stats" "$(cat "$T_TMP/send-$send.stats" 2>/dev/null)"
		fi
	done

	if srv_start fuzz --files 2 --file-size 16M --max-len 1M; then
		t_check fuzz.answers-as-documented timeout 120 "$CLI" --connect "127.0.0.1:$PORT" --files 2 \
			--file-size 16M --fuzz 300 --fuzz-seed $$
		alive $SPID && t_pass fuzz.server-alive || t_fail fuzz.server-alive "sbserver died"
		t_check fuzz.then-good-clients "$CLI" --connect "127.0.0.1:$PORT" --files 2 --file-size 16M \
			--threads 4 --requests 200 --length 256k --random
		# the EOF rule: a request past the end is clamped (sbclient checks the short count)
		t_check fuzz.eof-clamp "$CLI" --connect "127.0.0.1:$PORT" --files 2 --file-size 16M \
			--requests 64 --length 1M
		n=$(grep -c "malformed request\|truncated frame\|HELLO" "$T_TMP/fuzz.log")
		[ "$n" -gt 100 ] && t_pass fuzz.logged || t_fail fuzz.logged "only $n log lines"
		srv_stop && jq -e '.errors > 0 and .hello_failures > 0' "$T_TMP/fuzz.stats" >/dev/null &&
			t_pass fuzz.clean-exit || t_fail fuzz.clean-exit "$(tail -n2 "$T_TMP/fuzz.log")"
	else
		t_fail fuzz.start "$(tail -n1 "$T_TMP/fuzz.log")"
	fi
fi

# ---- (b) HELLO mismatch fails loudly on both sides ----

if has hello; then
if srv_start hello --file-size 16M --granule 4096; then
		out=$("$CLI" --connect "127.0.0.1:$PORT" --file-size 32M --granule 4096 --hello-only 2>&1)
		rc=$?
		[ $rc -eq 3 ] && grep -q "file_size: ours 33554432, peer's 16777216" <<<"$out" &&
			grep -q "HELLO refused: file_size" "$T_TMP/hello.log" && t_pass hello.mismatch-client ||
			t_fail hello.mismatch-client "rc=$rc out=$out"
		"$CLI" --connect "127.0.0.1:$PORT" --file-size 16M --granule 4096 --hello-only >/dev/null &&
			t_pass hello.match || t_fail hello.match "matching HELLO refused"
		if [ -x "$SFS" ] && [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]; then
			mkdir -p "$T_TMP/hmnt"
			t_cleanup_mount "$T_TMP/hmnt"
			out=$(timeout 30 "$SFS" "$T_TMP/hmnt" --source "tcp://127.0.0.1:$PORT" --file-size 16M \
				--granule 8192 -f 2>&1)
			rc=$?
			[ $rc -ne 0 ] && grep -q "granule: ours 8192, peer's 4096" <<<"$out" &&
				t_no_mount "$T_TMP/hmnt" && t_pass hello.mismatch-splicefs ||
				t_fail hello.mismatch-splicefs "rc=$rc out=$out"
			out=$(timeout 30 "$SFS" "$T_TMP/hmnt" --source "tcp://127.0.0.1:1" --file-size 16M -f 2>&1)
			rc=$?
			[ $rc -ne 0 ] && grep -q "refused" <<<"$out" && t_no_mount "$T_TMP/hmnt" &&
				t_pass splicefs.no-server || t_fail splicefs.no-server "rc=$rc out=$out"
			out=$(timeout 30 "$SFS" "$T_TMP/hmnt" --source "tcp://127.0.0.1" -f 2>&1)
			rc=$?
			[ $rc -ne 0 ] && grep -q "expected tcp://HOST:PORT" <<<"$out" && t_no_mount "$T_TMP/hmnt" &&
				t_pass splicefs.bad-source || t_fail splicefs.bad-source "rc=$rc out=$out"
		fi
		srv_stop
	else
		t_fail hello.start "$(tail -n1 "$T_TMP/hello.log")"
	fi
fi

# ---- (c) splicefs over TCP, fio-verified, loopback and veth ----

MNT=$T_TMP/mnt
mkdir -p "$MNT"
t_cleanup_mount "$MNT"

# sfs_start NAME WRAP(-|ns) MODE SOURCE GRANULE [options...]: mount splicefs at $MNT (daemonized).
sfs_start() {
	local name=$1 wrap=() mode=$3 src=$4 g=$5
	[ "$2" = ns ] && wrap=("$NETNS" exec cli --name "$NS")
	shift 5
	rm -f "$T_TMP/$name.sfs.json" "$T_TMP/sfs.pid"
	"${wrap[@]}" "$SFS" "$MNT" --mode "$mode" --source "$src" --file-size 256M --granule "$g" \
		--stats-file "$T_TMP/$name.sfs.json" --pid-file "$T_TMP/sfs.pid" --log "$T_TMP/$name.sfs.log" "$@" \
		>"$T_TMP/$name.sfs.log" 2>&1 || return 1
	# the daemon writes its pid file after the parent has returned: wait (bounded)
	for _ in $(seq 100); do [ -s "$T_TMP/sfs.pid" ] && break; sleep 0.05; done
	[ -s "$T_TMP/sfs.pid" ] || return 1
	t_cleanup_pid "$(cat "$T_TMP/sfs.pid")"
	t_wait_mount "$MNT" 10
}

sfs_stop() {
	local pid
	pid=$(cat "$T_TMP/sfs.pid" 2>/dev/null) || return 1
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null && t_no_mount "$MNT"
}

sfs_ok=1
if [ ! -x "$SFS" ]; then
	t_skip splicefs.tcp "build/splicefs is not built"
	sfs_ok=0
elif [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v fio >/dev/null ||
	! command -v fusermount3 >/dev/null; then
	t_skip splicefs.tcp "needs root, /dev/fuse, fio and fusermount3"
	sfs_ok=0
fi

# netns_capability: true when this machine can make a network namespace and a
# veth pair (what scripts/netns needs); otherwise false, saying what is missing.
netns_capability() {
	local p=sbcap$$ err
	command -v ip >/dev/null 2>&1 || { echo "needs 'ip' (iproute2; run scripts/deps)"; return 1; }
	if ! err=$(ip netns add "$p" 2>&1); then
		echo "network namespaces not available: $err"
		return 1
	fi
	ip netns del "$p" 2>/dev/null
	if ! err=$(ip link add "${p}a" type veth peer name "${p}b" 2>&1); then
		echo "veth pairs not available: $err"
		return 1
	fi
	ip link del "${p}a" 2>/dev/null
	return 0
}

paths=(loopback)
veth_ok=0
if [ -z "${T_NET_NO_VETH:-}" ] && { has tcp || has iperf; } && [ "$(id -u)" = 0 ]; then
	t_cleanup_cmd "$NETNS" down --name "$NS"
	if out=$("$NETNS" up --name "$NS" 2>&1); then
		veth_ok=1
		paths+=(veth)
		t_pass netns.up
	elif ! why=$(netns_capability); then
		# a SKIP only for a missing capability; any other failure is scripts/netns's bug
		t_skip netns.up "$why"
	else
		t_fail netns.up "scripts/netns up failed although namespaces and veth work: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	fi
fi

# T_NET_MODES narrows the modes (the VM run below takes multipipe alone).
modes=()
vm_mp=0
if [ $sfs_ok = 1 ]; then
	for m in ${T_NET_MODES:-copy splice multipipe}; do
		if [ $m != multipipe ]; then
			modes+=("$m")
		elif "$SFS" "$MNT" --probe >/dev/null 2>&1; then
			modes+=(multipipe)
		elif [ -n "${SB_VM:-}" ]; then
			t_fail multipipe.tcp "the guest kernel lacks FUSE_OUT_SPLICES"
		else
			vm_mp=1 # run below in the patched-kernel VM
		fi
	done
fi

if [ $sfs_ok = 1 ] && has tcp && [ ${#modes[@]} -gt 0 ]; then
	for path in "${paths[@]}"; do
		for bs in 128k 1m; do
			g=$([ $bs = 128k ] && echo 131072 || echo 1048576)
			if [ $path = veth ]; then
				addr=10.99.0.1 wrap=ns
				srv_start "$path-$bs" --ns --bind $addr --file-size 256M --granule $g
			else
				addr=127.0.0.1 wrap=-
				srv_start "$path-$bs" --file-size 256M --granule $g
			fi
			# shellcheck disable=SC2181
			if [ $? -ne 0 ]; then
				t_fail "tcp.$path.$bs.server" "$(tail -n1 "$T_TMP/$path-$bs.log")"
				continue
			fi
			for mode in "${modes[@]}"; do
				name=tcp.$path.$mode.$bs
				if ! sfs_start "$name" $wrap "$mode" "tcp://$addr:$PORT" $g --threads 2 --direct-io; then
					t_fail "$name.mount" "$(tail -n1 "$T_TMP/$name.sfs.log")"
					continue
				fi
				if msg=$(t_fio_verify "$name" "$MNT/data0" $bs 256M 1); then
					t_pass "$name.fio-verify"
				else
					t_fail "$name.fio-verify" "$msg"
				fi
				if ! sfs_stop; then
					t_fail "$name.stop" "splicefs did not exit and unmount"
					continue
				fi
				j=$T_TMP/$name.sfs.json
				# copy copies; splice splices 128k replies; a 1m reply plus its header fits a
				# pipe only where pipe-max-size lets it grow past 1 MiB: otherwise, by
				# libfuse's rule, it is copied and counted as "could not grow"; multipipe splices
				case $mode.$bs in
				copy.*) want='.bytes_spliced == 0' ;;
				splice.1m)
					if [ "$(cat /proc/sys/fs/pipe-max-size)" -le 1048576 ]; then
						want='.fallback_grow > 0 and .fallbacks == .fallback_grow and .bytes_copied == .bytes'
					else
						want='.bytes_spliced > 0 or .fallback_full > 0'
					fi
					;;
				*) want='.bytes_spliced > 0' ;;
				esac
				if jq -e ".source_bytes >= 268435456 and .errors == 0 and .reconnects == 0 and
					.bytes_spliced + .bytes_copied == .bytes and $want" "$j" >/dev/null; then
					t_pass "$name.counters"
				else
					t_fail "$name.counters" "$(jq -c '{source_bytes,errors,reconnects,bytes,bytes_spliced,bytes_copied,fallbacks,fallback_grow,fallback_full,pipe_size_granted}' "$j" 2>&1)"
				fi
			done
			srv_stop || t_fail "tcp.$path.$bs.server-stop" "sbserver did not exit cleanly"
		done
	done
	# Four workers, each with its own connection and cloned fd, four readers at once.
	if srv_start mt --file-size 256M --granule 131072; then
		for mode in "${modes[@]}"; do
			name=tcp.loopback.$mode.threads4
			if ! sfs_start "$name" - "$mode" "tcp://127.0.0.1:$PORT" 131072 --threads 4 \
				--clone-fd --direct-io; then
				t_fail "$name.mount" "$(tail -n1 "$T_TMP/$name.sfs.log")"
				continue
			fi
			t_check "$name.fio-verify" t_fio_verify "$name" "$MNT/data0" 128k 64M 1 \
				--numjobs=4 --offset_increment=64M --group_reporting
			sfs_stop || t_fail "$name.stop" "splicefs did not exit and unmount"
			jq -e '.source_bytes >= 268435456 and .errors == 0' "$T_TMP/$name.sfs.json" >/dev/null &&
				t_pass "$name.counters" ||
				t_fail "$name.counters" "$(jq -c '{source_bytes,errors}' "$T_TMP/$name.sfs.json")"
		done
		# per mount: one HELLO check at start, then one connection per worker
		srv_stop && jq -e ".connections >= ${#modes[@]} * 5" "$T_TMP/mt.stats" >/dev/null &&
			t_pass tcp.loopback.threads4.connections ||
			t_fail tcp.loopback.threads4.connections "$(cat "$T_TMP/mt.stats")"
	else
		t_fail tcp.loopback.threads4.server "$(tail -n1 "$T_TMP/mt.log")"
	fi
fi

# multipipe over TCP needs the patched kernel: the tcp part of this script, run again
# in kernel/vm with multipipe alone (SPLICEBENCH_KERNEL=IMAGE, else the newest
# fixed-variant image kernel/build cached).
if [ $vm_mp = 1 ] && has tcp; then
	kernel=${SPLICEBENCH_KERNEL:-}
	if [ -z "$kernel" ] && [ -x "$T_TOP/kernel/build" ]; then
		kernel=$("$T_TOP/kernel/build" --base 6.12 --variant fixed 2>"$T_TMP/kbuild.log" | tail -n 1)
	fi
	if [ ! -x "$T_TOP/kernel/vm" ]; then
		t_skip vm.multipipe.tcp "host kernel lacks FUSE_OUT_SPLICES and kernel/vm is not there"
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		t_skip vm.multipipe.tcp "no qemu-system-x86_64 (scripts/deps installs it)"
	elif [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
		t_fail vm.multipipe.tcp "kernel/build --base 6.12 --variant fixed failed: $(tail -n 1 "$T_TMP/kbuild.log")"
	else
		t_log "multipipe over TCP in the VM: $kernel"
		# Both paths, loopback and the veth pair between two namespaces in the guest.
		(cd "$T_TOP" && timeout 1000 kernel/vm --timeout 900 --mem 2048 --env T_NET_PARTS=tcp \
			--env T_NET_MODES=multipipe "$kernel" -- tests/30-net.t) \
			>"$T_TMP/vm.out" 2>&1
		rc=$?
		sed -n 's/^\(PASS\|FAIL\|SKIP\|XFAIL\) /\1 vm./p' "$T_TMP/vm.out"
		nf=$(grep -c '^FAIL ' "$T_TMP/vm.out")
		T_FAILED=$((T_FAILED + nf))
		if [ $rc -ne 0 ] && [ "$nf" = 0 ]; then
			t_fail vm.multipipe.tcp "kernel/vm exited $rc: $(tail -n 3 "$T_TMP/vm.out" | tr '\n' ' ')"
		elif ! grep -q '^PASS tcp.loopback.multipipe.*fio-verify' "$T_TMP/vm.out"; then
			[ "$nf" = 0 ] && t_fail vm.multipipe.tcp "no multipipe run passed in the VM"
		fi
	fi
fi

# ---- (d) the data server killed, then stalled, mid-read ----

if [ $sfs_ok = 1 ] && has kill; then
	for mode in copy splice; do
		name=kill.$mode
		srv_start "$name" --file-size 256M --granule 131072 || { t_fail "$name.server" "no start"; continue; }
		port=$PORT
		if ! sfs_start "$name" - $mode "tcp://127.0.0.1:$port?timeout=3&retries=2" 131072 --direct-io; then
			t_fail "$name.mount" "$(tail -n1 "$T_TMP/$name.sfs.log")"
			srv_stop
			continue
		fi
		fio --name=k --filename="$MNT/data0" --rw=read --bs=128k --direct=1 --time_based \
			--runtime=60 --output-format=json --output="$T_TMP/$name.fio.json" >/dev/null 2>&1 &
		fpid=$!
		sleep 1
		kill -KILL $SPID
		wait $SPID 2>/dev/null
		for _ in $(seq 200); do alive $fpid || break; sleep 0.1; done
		if alive $fpid; then
			kill -KILL $fpid
			t_fail "$name.reader-returns" "fio still reading 20 s after the server died"
		else
			wait $fpid
			rc=$?
			err=$(jq '.jobs[0].error' "$T_TMP/$name.fio.json" 2>/dev/null)
			[ $rc -ne 0 ] && [ "$err" = 5 ] && t_pass "$name.reader-gets-EIO" ||
				t_fail "$name.reader-gets-EIO" "fio rc=$rc error=$err"
		fi
		# with no server a read fails at once (bounded retries), it does not hang
		start=$(date +%s)
		out=$(timeout 20 dd if="$MNT/data0" of=/dev/null bs=128k count=1 iflag=direct 2>&1)
		rc=$?
		[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "Input/output error" <<<"$out" &&
			[ $(($(date +%s) - start)) -lt 10 ] && t_pass "$name.no-server-EIO" ||
			t_fail "$name.no-server-EIO" "rc=$rc $out"
		# a new server on the same port: the next read reconnects
		if srv_start "$name-2" --port "$port" --file-size 256M --granule 131072 &&
			t_fio_verify "$name-2" "$MNT/data0" 128k 32M 1 >/dev/null; then
			t_pass "$name.reconnects"
		else
			t_fail "$name.reconnects" "reads failed after the server came back"
		fi
		# stalled server: SIGSTOP; the read must fail after the timeout (3 s), not hang
		kill -STOP $SPID
		start=$(date +%s)
		out=$(timeout 30 dd if="$MNT/data0" of=/dev/null bs=1M count=4 iflag=direct 2>&1)
		rc=$?
		el=$(($(date +%s) - start))
		kill -CONT $SPID
		[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $el -le 15 ] && t_pass "$name.stalled-server-times-out" ||
			t_fail "$name.stalled-server-times-out" "rc=$rc after $el s: $out"
		if sfs_stop; then
			t_pass "$name.clean-unmount"
			jq -e '.errors > 0 and .reconnects > 0' "$T_TMP/$name.sfs.json" >/dev/null &&
				t_pass "$name.counters" ||
				t_fail "$name.counters" "$(jq -c '{errors,reconnects}' "$T_TMP/$name.sfs.json")"
		else
			t_fail "$name.clean-unmount" "splicefs did not exit and unmount"
		fi
		srv_stop
	done
	t_no_mount "$MNT" && t_pass kill.no-stale-mount || t_fail kill.no-stale-mount "$MNT still mounted"
fi

# ---- (e) the iperf3 baseline ----

if has iperf; then
	if ! command -v iperf3 >/dev/null; then
		t_skip iperf-baseline "needs iperf3"
	else
		want=loopback
		[ $veth_ok = 1 ] && want=both
		ibport=$((5300 + $$ % 500))
		if IPERF_BASELINE_PORT=$ibport timeout 120 "$T_TOP/scripts/iperf-baseline" --path $want --seconds 1 --streams "1 2" \
			--netns-name "${NS:0:6}ib" \
			--out "$T_TMP/ib.jsonl" 2>"$T_TMP/ib.err"; then
			for p in loopback veth; do
				[ $p = veth ] && [ $veth_ok = 0 ] && continue
				n=$(jq -s --arg p $p '[.[] | select(.path == $p and .gbytes_per_s > 0 and
					(.streams == 1 or .streams == 2) and (.zerocopy | type) == "boolean" and
					.sender_cpu_pct >= 0 and .receiver_cpu_pct >= 0 and (.iperf3 | length) > 0)] | length' \
					"$T_TMP/ib.jsonl")
				[ "$n" = 4 ] && t_pass "iperf-baseline.$p" || t_fail "iperf-baseline.$p" "$n good records of 4"
			done
		else
			t_fail iperf-baseline "$(tail -n2 "$T_TMP/ib.err" | tr '\n' ' ')"
		fi
		pgrep -f "iperf3 -s -B [0-9.]* -p $ibport\$" >/dev/null &&
			t_fail iperf-baseline.no-leftover "its iperf3 server is still running" ||
			t_pass iperf-baseline.no-leftover
	fi
fi

t_finish
