#!/usr/bin/env bash
# A server host over OpenSSH (issue 20), on this machine: a network namespace with its
# own sshd (Debian's openssh-server; a throwaway host key and client key in the test's
# temporary directory, listening on the veth address only), reached from a second
# namespace over a veth pair (scripts/netns).  bench/run --server-host root@ADDR runs
# copy and splice points over tcp-remote, every byte verified, both hosts in
# meta.json, the baseline over the same link; bad input and an unreachable host or
# one without iperf3: one line, exit 2, nothing created; after a SIGINT mid-point and
# after the link is cut mid-point, nothing of the suite runs in the server namespace
# and its temporary directory there is gone.
# timeout: 1500
. "$(dirname "$0")/lib.sh"
T_NAME=remote
_require_root
_require_fuse
_require_cmd jq ip fio fusermount3 ssh scp ssh-keygen iperf3
[ -x /usr/sbin/sshd ] || _t_skip_all "needs /usr/sbin/sshd (openssh-server: scripts/deps test)"
for p in sbserver sbclient splicefs sbcheck sbslots; do
	[ -x "$T_BUILD/$p" ] || _t_skip_all "build/$p is not built (make)"
done
cd "$T_TOP" || exit 1
NS=sr$$
NS=${NS:0:8}
SRV_NS=$NS-srv
export TMPDIR=$T_TMP/tmp # bench/run's and scripts/remote's local files: checked below
mkdir -p "$TMPDIR"
t_cleanup_cmd scripts/netns down --name "$NS"
# last out (cleanup runs backwards): whatever still runs in the server namespace (sshd's
# session processes of a run this script's time limit cut short)
t_cleanup_cmd 'for p in $(ip netns pids '"$NS-srv"' 2>/dev/null); do kill -KILL $p; done'
if ! ADDR=$(scripts/netns up --name "$NS" 2>&1); then
	ip netns add "sbcap$$" 2>/dev/null && ip netns del "sbcap$$" && t_fail netns.up "$ADDR"
	_t_skip_all "network namespaces not available here: $ADDR"
fi

# ---- the server host: sshd in $SRV_NS on $ADDR:22
K=$T_TMP/ssh
mkdir -p "$K" && chmod 700 "$K"
ssh-keygen -q -t ed25519 -N '' -f "$K/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$K/key" &&
	cp "$K/key.pub" "$K/authorized_keys" || { t_fail sshd.keys "ssh-keygen failed"; exit 1; }
# a key that gets a PATH without iperf3 (the "host lacks iperf3" case): the usual tools only
mkdir -p "$K/bin"
for c in sh bash mktemp uname cat cut sha256sum rm kill sleep seq chmod awk sed grep ls ip env; do
	ln -s "$(command -v $c)" "$K/bin/$c"
done
ssh-keygen -q -t ed25519 -N '' -f "$K/key2"
echo "environment=\"PATH=$K/bin\" $(cat "$K/key2.pub")" >>"$K/authorized_keys"
chmod 600 "$K/authorized_keys"
cat >"$K/sshd_config" <<EOF
ListenAddress $ADDR
Port 22
HostKey $K/hostkey
AuthorizedKeysFile $K/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitUserEnvironment PATH
UsePAM no
StrictModes no
PidFile $K/sshd.pid
ClientAliveInterval 1
ClientAliveCountMax 3
MaxSessions 64
MaxStartups 64
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
[ -d /run/sshd ] || { mkdir -p /run/sshd && t_cleanup_cmd rmdir /run/sshd; } # privilege separation
# (its output to a file: a session process that outlived us must not hold tests/run's pipe)
ip netns exec "$SRV_NS" /usr/sbin/sshd -D -f "$K/sshd_config" -E "$K/sshd.log" </dev/null >"$K/sshd.out" 2>&1 &
SSHD=$!
t_cleanup_pid $SSHD
for _ in $(seq 100); do
	ip netns exec "$SRV_NS" ss -Hltn "sport = :22" 2>/dev/null | grep -q . && break
	t_alive $SSHD || break
	sleep 0.1
done
ip netns exec "$SRV_NS" ss -Hltn "sport = :22" 2>/dev/null | grep -q . && t_pass sshd.listens ||
	{ t_fail sshd.listens "$(tail -n 2 "$K/sshd.log")"; exit 1; }
SO=(--ssh-opt "IdentityFile=$K/key" --ssh-opt IdentitiesOnly=yes --ssh-opt StrictHostKeyChecking=no
	--ssh-opt UserKnownHostsFile=/dev/null)
cli() { scripts/netns exec cli --name "$NS" "$@"; } # the client host
# T_REMOTE_PARTS selects parts (default all): bad run int scripts
parts=" ${T_REMOTE_PARTS:-bad run int scripts} "
has() { [[ "$parts" == *" $1 "* ]]; }

# suite_in_ns: the server namespace's processes other than sshd (empty: nothing of ours).
suite_in_ns() {
	local p
	for p in $(ip netns pids "$SRV_NS" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && continue
		[ -e "/proc/$p" ] && echo "$p:$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80)"
	done
}
# gone_within SECONDS: true once suite_in_ns is empty
gone_within() {
	local i
	for i in $(seq $(($1 * 5))); do [ -z "$(suite_in_ns)" ] && return 0; sleep 0.2; done
	return 1
}
rdir_of() { sed -n 's/.*programs in \(\/[^ ]*\) there.*/\1/p' "$1" | head -n 1; }
local_left() { # local leftovers of bench/run and scripts/remote
	ls "$TMPDIR"
	pgrep -af -- "ControlPath=$TMPDIR/" | cut -c1-100
	grep " $TMPDIR/" /proc/mounts
}

M=$T_TMP/remote.matrix
cat >"$M" <<'EOF'
# copy and splice from a server host at 128k (a 1 MiB pipe holds the reply)
mode=copy splice
source=tcp-remote
bs=128k
size=16m
repeats=1
warmup=1m
min_seconds=0
EOF

# ---- bad input: one line, exit 2, no result directory
if has bad; then
bad() { # NAME WANT ARGS...
	local name=$1 want=$2 out rc
	shift 2
	out=$(cli bench/run "$@" 2>&1)
	rc=$?
	[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ $out == *"$want"* ]] &&
		[ ! -e "$T_TMP/bad" ] && [ -z "$(local_left)" ] && t_pass "$name" ||
		t_fail "$name" "rc=$rc: $out $(local_left | head -n 2 | tr '\n' ' ')"
}
bad bad.no-server-host "source tcp-remote needs --server-host" "$M" --out "$T_TMP/bad"
bad bad.host-syntax "expected [USER@]HOST" "$M" --out "$T_TMP/bad" --server-host 'root@-oProxyCommand=x'
bad bad.ssh-opt-alone "--ssh-opt without --server-host" "$M" --out "$T_TMP/bad" --set source=mem --ssh-opt Port=22
bad bad.ssh-opt-syntax "--ssh-opt '-v'" "$M" --out "$T_TMP/bad" --server-host "root@$ADDR" --ssh-opt -v
bad bad.unreachable "cannot connect over ssh" "$M" --out "$T_TMP/bad" --server-host "root@${ADDR%.*}.3" "${SO[@]}"
bad bad.no-key "cannot connect over ssh" "$M" --out "$T_TMP/bad" --server-host "root@$ADDR" \
	--ssh-opt "IdentityFile=$K/nokey" --ssh-opt IdentitiesOnly=yes --ssh-opt StrictHostKeyChecking=no \
	--ssh-opt UserKnownHostsFile=/dev/null
bad bad.no-iperf3 "no iperf3 there" "$M" --out "$T_TMP/bad" --server-host "root@$ADDR" \
	--ssh-opt "IdentityFile=$K/key2" --ssh-opt IdentitiesOnly=yes --ssh-opt StrictHostKeyChecking=no \
	--ssh-opt UserKnownHostsFile=/dev/null
[ -z "$(suite_in_ns)" ] || gone_within 10 && t_pass bad.nothing-on-server || t_fail bad.nothing-on-server "$(suite_in_ns)"

fi

# ---- copy and splice over tcp-remote, every byte verified, both hosts recorded
if has run; then
R=$T_TMP/res
cli bench/run "$M" --out "$R" --server-host "root@$ADDR" "${SO[@]}" >"$T_TMP/run.log" 2>&1
rc=$?
t_log "$(tail -n 1 "$T_TMP/run.log")"
n=$(jq -s '[.[] | select(.status == "ok" and .verify_status == "ok" and .verify_bytes == 16777216
	and .source == "tcp-remote" and .path == "remote")] | length' "$R/points.jsonl" 2>/dev/null)
[ $rc = 0 ] && [ "$n" = 2 ] && t_pass run.copy-splice-verified ||
	t_fail run.copy-splice-verified "exit $rc, $n of 2 points ok and verified: $(tail -n 2 "$T_TMP/run.log" | tr '\n' ' ')"
# splice spliced what came from the server host's socket (at least at 128k), copy copied
jq -e -s 'map(select(.mode == "copy")) | all(.bytes_spliced == 0 and .bytes_copied > 0)' "$R/points.jsonl" >/dev/null &&
	jq -e -s 'map(select(.mode == "splice" and .bs == 131072)) | all(.bytes_spliced > 0)' "$R/points.jsonl" >/dev/null &&
	t_pass run.counters || t_fail run.counters "$(jq -c '{point, bytes_spliced, bytes_copied}' "$R/points.jsonl" 2>&1 | tr '\n' ' ')"
# every sbserver log says where it listened: the server namespace's address
n=$(cat "$R"/log/*.sbserver.log 2>/dev/null | grep -c "^sbserver: listening on $ADDR:")
[ "$n" = 2 ] && t_pass run.server-bound-to-the-address-reached || t_fail run.server-bound-to-the-address-reached "$n of 2 logs"
jq -e --arg a "$ADDR" '.hosts.server.iface == "'"$NS"'-vs" and (.hosts.server.iface_addr | startswith($a + "/"))
	and .hosts.client.iface == "'"$NS"'-vc" and .hosts.server.mtu == "1500" and .hosts.client.mtu == "1500"
	and (.hosts.server.kernel | length > 0) and (.hosts.client.offload.gro | length > 0)
	and (.hosts.server.offload | has("tso") and has("gso") and has("gro") and has("lro") and has("rx-gro-hw"))
	and (.hosts.client.fuse_out_splices | startswith("FUSE_OUT_SPLICES:"))' "$R/meta.json" >/dev/null &&
	t_pass run.meta-both-hosts || t_fail run.meta-both-hosts "$(jq -c .hosts "$R/meta.json" 2>&1 | cut -c1-300)"
jq -e -s 'any(.[]; .path == "remote" and .streams == 1 and .gbytes_per_s > 0 and .mtu == 1500)' "$R/baseline.jsonl" >/dev/null &&
	t_pass run.baseline-over-the-link || t_fail run.baseline-over-the-link "$(cat "$R/baseline.jsonl" 2>&1 | head -n 2)"
rd=$(rdir_of "$T_TMP/run.log")
gone_within 10 && [ -n "$rd" ] && [ ! -e "$rd" ] && [ -z "$(local_left)" ] && t_pass run.nothing-left ||
	t_fail run.nothing-left "server: $(suite_in_ns | tr '\n' ' ') dir '$rd' $([ -e "$rd" ] && echo exists); here: $(local_left | tr '\n' ' ')"

fi

# ---- interrupted mid-point: SIGINT (Ctrl-C) and a cut link
if has int; then
BIG=$T_TMP/big.matrix
sed 's/^size=.*/size=64m/; s/^bs=.*/bs=128k/; s/^mode=.*/mode=copy/' "$M" >"$BIG"
echo "runtime=60" >>"$BIG" # time-based: the point lasts a minute
# mid_point NAME: bench/run in the background (its own process group, as from a shell),
# waits until its first point's sbserver runs in the server namespace and fio reads.
mid_point() {
	set -m
	scripts/netns exec cli --name "$NS" bench/run "$BIG" --out "$T_TMP/$1" --no-baseline --server-host "root@$ADDR" "${SO[@]}" \
		>"$T_TMP/$1.log" 2>&1 &
	RPID=$!
	set +m
	t_cleanup_pid $RPID
	for _ in $(seq 600); do
		pgrep -f "fio .*$TMPDIR/sbrun" >/dev/null && [ -n "$(suite_in_ns | grep sbserver)" ] && return 0
		t_alive $RPID || return 1
		sleep 0.1
	done
	return 1
}
t0=$(date +%s)
if mid_point int; then
	sleep 1
	t_log "SIGINT $(($(date +%s) - t0)) s into the part"
	kill -INT -- -$RPID # Ctrl-C: the whole foreground job (ssh clients too)
	for _ in $(seq 600); do t_alive $RPID || break; sleep 0.1; done
	wait $RPID
	rc=$?
	rd=$(rdir_of "$T_TMP/int.log")
	[ $rc = 130 ] && t_pass sigint.exit-130 || t_fail sigint.exit-130 "exit $rc: $(tail -n 1 "$T_TMP/int.log")"
	gone_within 10 && t_pass sigint.nothing-in-server-ns || t_fail sigint.nothing-in-server-ns "$(suite_in_ns | tr '\n' ' ')"
	[ -n "$rd" ] && [ ! -e "$rd" ] && t_pass sigint.server-temp-dir-gone || t_fail sigint.server-temp-dir-gone "'$rd'"
	left=$(local_left)
	[ -z "$left" ] && t_pass sigint.nothing-left-here || t_fail sigint.nothing-left-here "$(echo "$left" | head -n 3 | tr '\n' ' ')"
else
	t_fail sigint.mid-point "the run never reached a point: $(tail -n 2 "$T_TMP/int.log" | tr '\n' ' ')"
fi

# The link cut mid-point (no FIN, no RST: the server's sshd notices by ClientAlive):
# the remote wrappers and the guard see EOF and clean up there, with no help from here.
if mid_point cut; then
	rd=$(rdir_of "$T_TMP/cut.log")
	t_log "link cut $(($(date +%s) - t0)) s into the part"
	ip -n "$SRV_NS" link set "$NS-vs" down
	if gone_within 20 && [ -n "$rd" ] && [ ! -e "$rd" ]; then
		t_pass lost-link.server-cleans-up
	else
		t_fail lost-link.server-cleans-up "after 20 s: $(suite_in_ns | tr '\n' ' ') dir '$rd' $([ -e "$rd" ] && echo exists)"
	fi
	ip -n "$SRV_NS" link set "$NS-vs" up
	kill -TERM -- -$RPID
	for _ in $(seq 600); do t_alive $RPID || break; sleep 0.1; done
	t_alive $RPID && t_fail lost-link.run-ends "bench/run still running 60 s after SIGTERM" || t_pass lost-link.run-ends
	t_log "run ended $(($(date +%s) - t0)) s into the part"
	wait $RPID 2>/dev/null
	left=$(local_left)
	[ -z "$left" ] && t_pass lost-link.nothing-left-here || t_fail lost-link.nothing-left-here "$(echo "$left" | head -n 3 | tr '\n' ' ')"
else
	t_fail lost-link.mid-point "the run never reached a point: $(tail -n 2 "$T_TMP/cut.log" | tr '\n' ' ')"
fi

fi

# ---- scripts/pipe-slots and scripts/iperf-baseline against the same host
if has scripts; then
out=$(cli scripts/pipe-slots --path remote --server-host "root@$ADDR" "${SO[@]}" 2>"$T_TMP/slots.err")
rc=$?
t_log "pipe-slots: $out"
jq -e '.path == "remote" and .full and .bytes_per_slot > 0 and .mtu == 1500' <<<"$out" >/dev/null && [ $rc = 0 ] &&
	t_pass pipe-slots.remote || t_fail pipe-slots.remote "exit $rc: $out $(tail -n 1 "$T_TMP/slots.err")"
out=$(cli scripts/iperf-baseline --path remote --server-host "root@$ADDR" --ssh-opt "IdentityFile=$K/key2" \
	--ssh-opt IdentitiesOnly=yes --ssh-opt StrictHostKeyChecking=no --ssh-opt UserKnownHostsFile=/dev/null \
	--out "$T_TMP/ib.jsonl" 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"no iperf3 there"* ]] && [ "$(wc -l <<<"$out")" = 1 ] && [ ! -e "$T_TMP/ib.jsonl" ] &&
	t_pass iperf-baseline.no-iperf3-there || t_fail iperf-baseline.no-iperf3-there "exit $rc: $out"
gone_within 10 && [ -z "$(local_left)" ] && [ -z "$(ls -d /tmp/sbremote.* 2>/dev/null)" ] && t_pass scripts.nothing-left ||
	t_fail scripts.nothing-left "$(suite_in_ns) $(local_left) $(ls -d /tmp/sbremote.* 2>/dev/null)"
fi
t_finish
