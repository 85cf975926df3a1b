#!/usr/bin/env bash
# The NIC path, run INSIDE the fixed kernel booted with kernel/vm --net
# (tests/25-multipipe.t): splicefs in the guest reads sbserver on the host
# (SB_VM_HOST_ADDR, port $1) through the guest's virtio-net driver, where each
# packet lands in a receive buffer of its own: about 1440 bytes a pipe slot.
#   - splice at 1 MiB copies every reply: "pipe full of fragments" as root
#     (fallback_full), "pipe could not grow" as user (fallback_grow);
#   - multipipe splices every byte: its pool grows to fit, bytes_per_slot < 4096;
#   - random unaligned reads through multipipe, direct and buffered, equal copy's.
. "$(dirname "$0")/../lib.sh"
PORT=$1 SEED=${2:-5} FSIZE=${3:-67108964}
T_NAME=multipipe.nic
RR=$(dirname "$0")/random-reads.py
SPEC=tcp://${SB_VM_HOST_ADDR:-10.0.2.2}:$PORT

start() { # start TAG [options...]
	local tag=$1
	shift
	mkdir -p "$T_TMP/$tag"
	t_cleanup_mount "$T_TMP/$tag"
	t_daemon_start "$tag" "$T_TMP/$tag" --source "$SPEC" --file-size "$FSIZE" --seed "$SEED" "$@"
}
stop() { t_daemon_stop "$1" "$T_TMP/$1"; }
want() { # want NAME TAG JQ-CONDITION
	if jq -e "$3" "$T_TMP/$2.json" >/dev/null 2>&1; then
		t_pass "$1"
	else
		t_fail "$1" "$(jq -c '{bytes,bytes_spliced,bytes_copied,replies_spliced,pipe_slots,bytes_per_slot,fallback_grow,fallback_full,fallback_error,pipes_per_reply,pool_grows,pipe_size_granted,replies_failed}' "$T_TMP/$2.json" 2>&1)"
	fi
}
read8m() { "$T_BUILD/sbcheck" --bs 1M --seed "$SEED" --offset 4095 --length 8M "$T_TMP/$1/data0" >/dev/null 2>&1; }

for priv in root user; do
	if start splice-$priv --mode splice --direct-io --privilege $priv && read8m splice-$priv && stop splice-$priv; then
		if [ $priv = root ]; then
			want "$T_NAME.splice.root.pipe-full-of-fragments" splice-root \
				'.fallback_full > 0 and .fallback_full + .fallback_small == .reads and .bytes_spliced == 0'
		else
			want "$T_NAME.splice.user.pipe-cannot-grow" splice-user \
				'.fallback_grow > 0 and .bytes_spliced == 0 and .privilege == "user"'
		fi
	else
		t_fail "$T_NAME.splice.$priv" "start, read or stop failed: $(tail -n 1 "$T_TMP/splice-$priv.log")"
	fi
done

if start ref --mode copy --direct-io &&
	start mpd --mode multipipe --direct-io --pipes auto --privilege user &&
	start mpb --mode multipipe --pipes 1 --pipe-size 1M; then
	for m in mpd mpb; do
		if out=$(python3 "$RR" "$T_TMP/ref/data0" "$T_TMP/$m/data0" "$FSIZE" "$SEED" 10 $((3 << 20)) 11 2>&1); then
			t_pass "$T_NAME.random.$m.same-as-copy"
		else
			t_fail "$T_NAME.random.$m.same-as-copy" "$(tail -n 1 <<<"$out")"
		fi
	done
	for m in ref mpd mpb; do stop $m || t_fail "$T_NAME.stop.$m" "did not exit and unmount"; done
	want "$T_NAME.multipipe.spliced-all-pool-grew" mpd \
		'.bytes_copied == 0 and .replies_failed == 0 and .bytes_per_slot > 0 and .bytes_per_slot < 4096 and .pool_grows >= 1 and .pipes_per_reply > 1'
	want "$T_NAME.multipipe.buffered.spliced-all" mpb '.bytes_copied == 0 and .replies_failed == 0 and .pipe_slots > 0'
	t_log "NIC path: $(jq -c '{bytes_per_slot,pipes_per_reply,pool_grows}' "$T_TMP/mpd.json")"
else
	t_fail "$T_NAME.random.mount" "$(tail -q -n 1 "$T_TMP"/ref.log "$T_TMP"/mpd.log "$T_TMP"/mpb.log 2>/dev/null | tr '\n' ' ')"
fi
t_finish
