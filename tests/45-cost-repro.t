#!/usr/bin/env bash
# Cost counts repeat (issue 12, item 7): two boots of one small kernel/cost/bench-cost
# point give every cost_* figure within 1 % (memory source, copy and multipipe, 1 MiB
# reads, 8 and 16 MiB windows, each figure the median of three pairs; the guest's root
# an initramfs, so that no 9p reply lands at a host-timed point), user instructions per
# byte within 0.0002 and copy's user side exactly equal.  Then the NIC path
# as issue 12 asks for it (sbserver on the host, splicefs in the guest behind
# virtio-net, an unprivileged daemon, pipe-max-size 4 MiB, each figure the median of
# five pairs of windows): two boots within 2 % for the modes and the network's own
# row, splice copying its bytes because its pipe fills with 1440-byte fragments
# ("pipe full of fragments", not "could not grow"), multipipe splicing every byte,
# and bytes moved per byte delivered (mean of the boots): multipipe <= 0.9x copy's
# and <= 1.2x the network's own (a plain TCP reader in the guest), copy >= 1.25x it.
# Four boots, about 3.5 minutes.
#   SPLICEBENCH_KERNEL=IMAGE  the guest kernel (default: kernel/build's cached 6.12 fixed)
#   T_COST_REPRO_NIC=0        leave out the NIC path (two boots)
. "$(dirname "$0")/lib.sh"
T_NAME=cost-repro
_require_cmd qemu-system-x86_64 jq busybox cpio
cd "$T_TOP" || exit 1
for f in splicefs sbmark sbcheck sbclient sbserver kernel/sbcost.so; do
	[ -e "$T_BUILD/$f" ] || _t_skip_all "build/$f is not built (make)"
done
t_guest_kernel

all_cols="cost_bytes_moved_per_byte cost_loads_per_byte cost_stores_per_byte cost_instr_per_byte_kernel cost_instr_per_byte_user"
# compare NAME TOLERANCE CSV1 CSV2 [COLUMNS]: every cost_* figure (or COLUMNS) of every row
# within TOLERANCE (a fraction of the larger value).
compare() {
	local name=$1 tol=$2 worst
	worst=$(python3 - "$3" "$4" "${5:-$all_cols}" "$tol" 2>"$T_TMP/compare.err" <<'P'
import csv, sys
a = {(r["mode"], r["bs"]): r for r in csv.DictReader(open(sys.argv[1]))}
b = {(r["mode"], r["bs"]): r for r in csv.DictReader(open(sys.argv[2]))}
cols, tol = sys.argv[3].split(), float(sys.argv[4])
if not a or a.keys() != b.keys():
    print("rows differ: %s vs %s" % (sorted(a), sorted(b))); sys.exit(0)
worst, where = 0.0, ""
for k in a:
    for c in cols:
        x, y = float(a[k][c]), float(b[k][c])
        d = abs(x - y) / max(abs(x), abs(y)) if max(abs(x), abs(y)) > 0 else 0.0
        if d >= worst:
            worst, where = d, "%s/%s %s: %s vs %s" % (k[0], k[1], c, a[k][c], b[k][c])
print("%s%.3f %% (%s)" % ("BAD " if worst > tol else "", worst * 100, where))
for c in cols:
    w = max(abs(float(a[k][c]) - float(b[k][c])) / max(abs(float(a[k][c])), abs(float(b[k][c])), 1e-12) for k in a)
    print("  %s: %.3f %%" % (c, w * 100), file=sys.stderr)
P
)
	t_log "$name: largest difference between the boots: $worst"
	sed 's/^/# /' "$T_TMP/compare.err"
	case $worst in
	[0-9]*) t_pass "$name" ;;
	*) t_fail "$name" "$worst" ;;
	esac
}

# user_instr_within NAME BOUND CSV1 CSV2: every row's user instructions per byte within
# BOUND (absolute) between the two boots.
user_instr_within() {
	local bad
	bad=$(python3 - "$3" "$4" "$2" <<'P'
import csv, sys
a = {r["mode"]: float(r["cost_instr_per_byte_user"]) for r in csv.DictReader(open(sys.argv[1]))}
b = {r["mode"]: float(r["cost_instr_per_byte_user"]) for r in csv.DictReader(open(sys.argv[2]))}
bound = float(sys.argv[3])
print(" ".join("%s %g vs %g" % (m, a[m], b.get(m, -1)) for m in a if abs(a[m] - b.get(m, -1)) > bound))
P
)
	[ -z "$bad" ] && t_pass "$1" || t_fail "$1" "$bad"
}

# --- memory source: within 1 %, the user side identical.  Three pairs of windows, the
# median of each figure: one pair can be off.  In CI (2026-12-05) one boot's single pair
# gave multipipe 0.294384 kernel instructions per byte against 0.290426 in the other
# (1.35 %); here the three pairs of a boot gave 0.290463, 0.290885 and 0.290618, and two
# quiet boots and one beside two busy loops gave the same windows to the instruction.
for i in 1 2; do
	start=$(date +%s)
	if ! kernel/cost/bench-cost "$kernel" --modes "copy multipipe" --bs 1m --size 8 --repeats 3 --timeout 400 --syms none \
		--out "$T_TMP/mem$i" >"$T_TMP/mem$i.log" 2>&1; then
		t_fail "mem.boot-$i" "$(tail -n 3 "$T_TMP/mem$i.log" | tr '\n' ' ')"
		exit 1
	fi
	t_log "mem boot $i: $(($(date +%s) - start)) s"
done
sed 's/^/# /' "$T_TMP/mem1/cost.csv"
# User instructions per byte are tiny here (0.0005-0.0008: a few thousand per 8 MiB
# window against some 2.4 million in the kernel), so they are held to an absolute
# bound like the NIC path's: on a quiet host both boots are identical, but with the host
# loaded (CI; a kernel build beside the test) multipipe's 8 MiB window ran about 740
# more user instructions in one boot of two (0.000795 against 0.000706 per byte, 0.03 %
# of the window's instructions; the cause is not found: no timer of the daemon's wakes
# in the window).  Everything else stays within 1 %, and copy's user side identical.
mem_cols="cost_bytes_moved_per_byte cost_loads_per_byte cost_stores_per_byte cost_instr_per_byte_kernel"
compare mem.every-cost-figure-within-1pct 0.01 "$T_TMP/mem1/cost.csv" "$T_TMP/mem2/cost.csv" "$mem_cols"
user_instr_within mem.user-instr-per-byte-within-0.0002 0.0002 "$T_TMP/mem1/cost.csv" "$T_TMP/mem2/cost.csv"
# System calls per reply (the plugin's syscalls_user, an exact count like the instructions):
# the same in both boots, every mode (dd's read and the daemon's calls per 1 MiB reply).
sc1=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } { print $1, $h["cost_syscalls_per_reply"] }' "$T_TMP/mem1/cost.csv")
sc2=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } { print $1, $h["cost_syscalls_per_reply"] }' "$T_TMP/mem2/cost.csv")
t_log "system calls per reply: $(echo $sc1) | $(echo $sc2)"
if [ -n "$sc1" ] && [ "$sc1" = "$sc2" ] && ! grep -qE ' (null)?$' <<<"$sc1"; then
	t_pass mem.syscalls-per-reply-identical
else
	t_fail mem.syscalls-per-reply-identical "boot 1: $(echo $sc1); boot 2: $(echo $sc2)"
fi
same='.[] | select(.label | startswith("copy/")) | [.label, .insns_user, .load_bytes_user, .store_bytes_user, .kernel_store_user_bytes, .syscalls_user]'
if [ "$(jq -cs "$same" "$T_TMP/mem1/cost.jsonl")" = "$(jq -cs "$same" "$T_TMP/mem2/cost.jsonl")" ] &&
	[ "$(jq -s length "$T_TMP/mem1/cost.jsonl")" = 12 ]; then
	t_pass mem.copy-user-counts-identical
else
	t_fail mem.copy-user-counts-identical "$(diff <(jq -cs "$same" "$T_TMP/mem1/cost.jsonl") <(jq -cs "$same" "$T_TMP/mem2/cost.jsonl") | tail -n 2 | tr '\n' ' ')"
fi

if [ "${T_COST_REPRO_NIC:-1}" = 0 ]; then
	t_skip nic "T_COST_REPRO_NIC=0"
	t_finish
	exit
fi
# --- the NIC path: copy, splice, multipipe and the network's own cost, 1 MiB reads,
# the daemon unprivileged (its pipes obey pipe-max-size, raised to 4 MiB so that
# splice's pipe may grow as libfuse asks: to 1 MiB + 3 pages, 2 MiB = 512 slots).
for i in 1 2; do
	start=$(date +%s)
	if ! kernel/cost/bench-cost "$kernel" --source tcp-nic --modes "copy splice multipipe" --bs 1m --size 8 \
		--privilege user --pipe-max-size 4M --repeats 5 --syms none \
		--timeout 400 --out "$T_TMP/nic$i" >"$T_TMP/nic$i.log" 2>&1; then
		t_fail "nic.boot-$i" "$(tail -n 3 "$T_TMP/nic$i.log" | tr '\n' ' ')"
		exit 1
	fi
	t_log "nic boot $i: $(($(date +%s) - start)) s"
done
sed 's/^/# /' "$T_TMP/nic1/cost.csv"
grep 'bytes spliced' "$T_TMP/nic1.log" | sed 's/^/# /'
# Every row within 2 % (issue 12).  One pair of windows varies by up to ~1.5 % on this
# path (the NAPI polls follow the host's pacing of the packets; kernel/cost/README.md);
# the median of three pairs: within 0.43 % over three boots beside a busy guest, the
# network's own row within 0.2 %; on a quiet host 1.18-1.37 % (splice's kernel
# instructions per byte), the network's own 0.25-0.91 %.  With one pair the modes were within 0.4-2.3 %, the network's row 6.4 %.
# Three pairs failed once in CI from a clone on a quiet host (2026-12-08: multipipe's stores
# per byte 2.06 % apart; two reruns 0.51 and 1.33 %), so the NIC boots take five pairs.
head -n 1 "$T_TMP/nic1/cost.csv" >"$T_TMP/modes1.csv"
grep -v '^network,' "$T_TMP/nic1/cost.csv" | tail -n +2 >>"$T_TMP/modes1.csv"
head -n 1 "$T_TMP/nic2/cost.csv" >"$T_TMP/modes2.csv"
grep -v '^network,' "$T_TMP/nic2/cost.csv" | tail -n +2 >>"$T_TMP/modes2.csv"
head -n 1 "$T_TMP/nic1/cost.csv" | tee "$T_TMP/net1.csv" >"$T_TMP/net2.csv"
grep '^network,' "$T_TMP/nic1/cost.csv" >>"$T_TMP/net1.csv"
grep '^network,' "$T_TMP/nic2/cost.csv" >>"$T_TMP/net2.csv"
nic_cols="cost_bytes_moved_per_byte cost_loads_per_byte cost_stores_per_byte cost_instr_per_byte_kernel"
compare nic.modes-cost-figures-within-2pct 0.02 "$T_TMP/modes1.csv" "$T_TMP/modes2.csv" "$nic_cols"
compare nic.network-cost-figures-within-2pct 0.02 "$T_TMP/net1.csv" "$T_TMP/net2.csv" "$nic_cols"
# User instructions per byte are 0.001-0.003 here (a few thousand per window): how many
# recv/splice calls a reply takes depends on how the packets arrive, so they are held
# to an absolute bound instead: within 0.002 instructions per byte.
user_instr_within nic.user-instr-per-byte-within-0.002 0.002 "$T_TMP/nic1/cost.csv" "$T_TMP/nic2/cost.csv"
# System calls per reply follow the packets' arrival too (how many recv/splice calls a
# reply takes): logged, not bounded.
t_log "nic system calls per reply: $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } { printf "%s %s; ", $1, $h["cost_syscalls_per_reply"] }' "$T_TMP/nic1/cost.csv") | $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } { printf "%s %s; ", $1, $h["cost_syscalls_per_reply"] }' "$T_TMP/nic2/cost.csv")"
# The ratios from the mean of the two boots.
fig() { awk -F, -v m="$1" -v c="$2" 'FNR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$1 == m { s += $h[c]; n++ } END { if (n == 2) print s / 2 }' "$T_TMP/nic1/cost.csv" "$T_TMP/nic2/cost.csv"; }
net=$(fig network cost_bytes_moved_per_byte) copy=$(fig copy cost_bytes_moved_per_byte)
mp=$(fig multipipe cost_bytes_moved_per_byte)
t_log "bytes moved per byte: network $net, copy $copy, multipipe $mp"
ratio_ok() { awk -v a="$1" -v b="$2" -v op="$3" -v r="$4" 'BEGIN { if (a == "" || b == "" || b <= 0) exit 1;
	x = a / b; exit !((op == "le" && x <= r) || (op == "ge" && x >= r)) }'; }
ratio_ok "$mp" "$copy" le 0.9 && t_pass nic.multipipe-at-most-0.9x-copy ||
	t_fail nic.multipipe-at-most-0.9x-copy "multipipe $mp, copy $copy"
ratio_ok "$mp" "$net" le 1.2 && t_pass nic.multipipe-at-most-1.2x-network ||
	t_fail nic.multipipe-at-most-1.2x-network "multipipe $mp, network $net"
# (measured 1.31x, multipipe 1.145x and 0.87x copy's)
ratio_ok "$copy" "$net" ge 1.25 && t_pass nic.copy-at-least-1.25x-network ||
	t_fail nic.copy-at-least-1.25x-network "copy $copy, network $net"
sp() { jq -r '"\(.bytes_spliced // 0) \(.bytes // 0)"' "$T_TMP/nic1/stats-$1.json" 2>/dev/null; }
read -r mps mpb <<<"$(sp multipipe)"
[ -n "$mpb" ] && [ "$mpb" -gt 0 ] && [ "$mps" = "$mpb" ] && t_pass nic.multipipe-splices-every-byte ||
	t_fail nic.multipipe-splices-every-byte "spliced $mps of $mpb"
# splice: its pipe grows to 2 MiB (512 slots), which 1440-byte fragments fill at
# about 737 KB, so a 1 MiB reply does not fit and is copied: "pipe full of
# fragments", never "could not grow" (that is pipe-max-size 1 MiB's reason).
read -r sps spb <<<"$(sp splice)"
full=$(jq -r '"\(.fallback_full // 0) \(.fallback_grow // 0) \(.pipe_size_granted // 0) \(.privilege // "") \(.cap_sys_resource)"' "$T_TMP/nic1/stats-splice.json" 2>/dev/null)
read -r ffull fgrow fgranted fpriv fcap <<<"$full"
[ -n "$spb" ] && [ "$spb" -gt 0 ] && [ $((sps * 2)) -lt "$spb" ] && [ "${ffull:-0}" -gt 0 ] &&
	[ "$fgrow" = 0 ] && [ "$fgranted" = 2097152 ] && [ "$fpriv" = user ] && [ "$fcap" = false ] &&
	t_pass nic.user-splice-copies-most-bytes-pipe-full ||
	t_fail nic.user-splice-copies-most-bytes-pipe-full "spliced $sps of $spb; full $ffull, grow $fgrow, granted $fgranted, privilege $fpriv, CAP_SYS_RESOURCE $fcap"
t_finish
