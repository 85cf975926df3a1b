# Sourced by tests/vm/multipipe.sh on the fixed kernel (not run on its own).
# multipipe never fails a read because its pipes filled (issue 12 item 5):
#  - random unaligned reads and lengths (up to 4 MiB, EOF included), direct and
#    buffered, every byte compared with copy mode, on the mem and tcp sources;
#  - slot counting and the growing pool, seen in the counters;
#  - the pool's bound named in the message when it is reached;
#  - --fault-swap: the right bytes in the wrong place, which the checker catches.
RR=$(dirname "$0")/random-reads.py
SEED=77
FSIZE=$((24 * 1048576 + 100)) # an odd size: reads end at an unaligned EOF

rr() { # rr NAME REF_TAG TEST_TAG COUNT MAX_LEN
	local out
	if out=$(python3 "$RR" "$T_TMP/$2/data0" "$T_TMP/$3/data0" $FSIZE $SEED "$4" "$5" "$SEED$4" 2>&1); then
		return 0
	fi
	t_fail "$1" "$(echo "$out" | tail -n 1)"
	return 1
}

# stats_ok NAME TAG JQ-CONDITION: after the daemon stopped, its counters must satisfy the condition.
stats_ok() {
	if jq -e "$3" "$T_TMP/$2.json" >/dev/null 2>&1; then
		t_pass "$1"
	else
		t_fail "$1" "$(jq -c '{bytes,bytes_spliced,bytes_copied,replies_spliced,replies_failed,pipe_slots,bytes_per_slot,pipes_per_reply,pool_grows,pipe_size_granted}' "$T_TMP/$2.json" 2>&1)"
	fi
}

common=(--file-size $FSIZE --seed $SEED --granule 8)
for src in mem tcp; do
	spec=mem
	if [ $src = tcp ]; then
		"$T_BUILD/sbserver" --file-size $FSIZE --seed $SEED --port-file "$T_TMP/port" \
			>"$T_TMP/sbserver.log" 2>&1 &
		t_cleanup_pid $!
		for _ in $(seq 50); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
		if ! [ -s "$T_TMP/port" ]; then
			t_fail "$T_NAME.random.tcp.sbserver" "$(tail -n 1 "$T_TMP/sbserver.log")"
			continue
		fi
		spec=tcp://127.0.0.1:$(cat "$T_TMP/port")
	fi
	name=$T_NAME.random.$src
	if ! sfs_start ref-$src --mode copy --direct-io --source "$spec" "${common[@]}" ||
		! sfs_start mpd-$src --mode multipipe --direct-io --pipes 4 --pipe-size 256K --source "$spec" "${common[@]}" ||
		! sfs_start mpb-$src --mode multipipe --pipes 1 --pipe-size 1M --source "$spec" "${common[@]}"; then
		t_fail "$name.mount" "$(cat "$T_TMP"/*-$src.log | tail -n 2 | tr '\n' ' ')"
		continue
	fi
	rr "$name.direct" ref-$src mpd-$src 30 $((4 << 20)) && t_pass "$name.direct.same-as-copy"
	rr "$name.buffered" ref-$src mpb-$src 30 $((4 << 20)) && t_pass "$name.buffered.same-as-copy"
	if [ $src = mem ]; then
		# The pool, as in issue 12: --pipes 4 x 256K cannot hold an unaligned 1 MiB
		# (257 slots): it grows once; then pipes of 4 slots grow it to 65 pipes.
		sfs_start pool --mode multipipe --direct-io --pipes 1 --pipe-size 16K "${common[@]}" &&
			rr "$T_NAME.pool.small-pipes" ref-mem pool 10 $((2 << 20)) &&
			t_pass "$T_NAME.pool.small-pipes.same-as-copy"
		sfs_stop pool || t_fail "$T_NAME.pool.stop" "daemon did not exit and unmount"
		stats_ok "$T_NAME.pool.grows-to-fit" pool \
			'.replies_failed == 0 and .bytes_copied == 0 and .pool_grows >= 60 and .pipes_per_reply > 1'
		# The bound: a reply that needs more pipes than --pipes-max fails, and says which bound.
		if sfs_start bound --mode multipipe --direct-io --pipes 1 --pipe-size 16K --pipes-max 8 "${common[@]}"; then
			got=$(python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
b = mmap.mmap(-1, 1 << 20)
try:
    print(os.preadv(fd, [b], 4095))
except OSError as e:
    print(e.strerror)' "$T_TMP/bound/data0")
			sfs_stop bound
			if [ "$got" = "Input/output error" ] && grep -q -- "--pipes-max 8" "$T_TMP/bound.log" &&
				[ "$(jst bound replies_failed)" -ge 1 ]; then
				t_pass "$T_NAME.pool.bound-named"
			else
				t_fail "$T_NAME.pool.bound-named" "read: $got; log: $(grep -m1 multipipe "$T_TMP/bound.log")"
			fi
		else
			t_fail "$T_NAME.pool.bound-named.mount" "$(tail -n 1 "$T_TMP/bound.log")"
		fi
		# --fault-swap: pages 0 and 1 of every reply trade places; granule 8 catches it.
		if sfs_start swap --mode multipipe --direct-io --fault-swap "${common[@]}"; then
			out=$("$T_BUILD/sbcheck" --bs 1M --seed $SEED --length 8M "$T_TMP/swap/data0" 2>&1)
			rc=$?
			sfs_stop swap
			if [ $rc -ne 0 ] && grep -q MISMATCH <<<"$out" && [ "$(jst swap faults_injected)" -gt 0 ]; then
				t_pass "$T_NAME.fault-swap.caught"
			else
				t_fail "$T_NAME.fault-swap.caught" "sbcheck rc=$rc: $(tail -n 1 <<<"$out")"
			fi
		else
			t_fail "$T_NAME.fault-swap.mount" "daemon did not start: $(tail -n 1 "$T_TMP/swap.log")"
		fi
	fi
	for tag in ref-$src mpd-$src mpb-$src; do
		sfs_stop $tag || t_fail "$name.stop" "$tag did not exit and unmount"
	done
	stats_ok "$name.direct.counters" mpd-$src \
		'.replies_failed == 0 and .bytes_copied == 0 and .replies_spliced > 0 and .pipe_slots >= .replies_spliced and .pipe_size_granted == 262144'
	stats_ok "$name.buffered.counters" mpb-$src '.replies_failed == 0 and .bytes_copied == 0 and .pipe_slots > 0'
	if [ $src = mem ]; then
		# a memfd gives one slot per page piece: at most 4096 bytes a slot, and the
		# unaligned 1 MiB replies made the 4 x 256K pool grow
		stats_ok "$name.direct.slots-and-growth" mpd-mem '.bytes_per_slot <= 4096 and .bytes_per_slot > 2048 and .pool_grows >= 1'
	fi
done

# --privilege user: root in the guest may grow pipes past pipe-max-size
# (CAP_SYS_RESOURCE); workers that dropped it get at most pipe-max-size, and
# splice at 1 MiB then falls back for that reason.
pmax=$(cat /proc/sys/fs/pipe-max-size)
for priv in root user; do
	name=$T_NAME.privilege.$priv
	if sfs_start mp-$priv --mode multipipe --direct-io --pipes 1 --pipe-size $((4 * pmax)) --privilege $priv "${common[@]}" &&
		sfs_start sp-$priv --mode splice --direct-io --privilege $priv "${common[@]}"; then
		"$T_BUILD/sbcheck" --bs 1M --seed $SEED --length 4M "$T_TMP/mp-$priv/data0" >/dev/null 2>&1 &&
			"$T_BUILD/sbcheck" --bs 1M --seed $SEED --length 4M "$T_TMP/sp-$priv/data0" >/dev/null 2>&1 ||
			t_fail "$name.sbcheck" "a read through mp-$priv or sp-$priv was wrong"
	else
		t_fail "$name.mount" "$(tail -q -n 1 "$T_TMP/mp-$priv.log" "$T_TMP/sp-$priv.log" | tr '\n' ' ')"
	fi
	sfs_stop mp-$priv
	sfs_stop sp-$priv
	if [ $priv = root ]; then
		stats_ok "$name.pipes-past-pipe-max-size" mp-root ".privilege == \"root\" and .pipe_size_granted == $((4 * pmax)) and .replies_failed == 0"
		stats_ok "$name.splice-grows" sp-root '.fallback_grow == 0 and .bytes_copied == 0 and .bytes_spliced > 0'
	else
		stats_ok "$name.pipes-within-pipe-max-size" mp-user ".privilege == \"user\" and .pipe_size_granted == $pmax and .replies_failed == 0 and .bytes_copied == 0"
		stats_ok "$name.splice-cannot-grow" sp-user ".fallback_grow > 0 and .bytes_spliced == 0 and .pipe_size_granted == $pmax"
	fi
done
