#!/usr/bin/env bash
# The sbcost QEMU plugin (kernel/cost): it loads and refuses what it cannot count;
# under the deterministic settings a workload's counts are identical boot after boot;
# dd from /dev/zero stores exactly the bytes read into user memory; twice the bytes,
# twice the counts.
#   SPLICEBENCH_KERNEL=IMAGE  the guest kernel (default: the newest cached bzImage)
. "$(dirname "$0")/lib.sh"
T_NAME=cost
_require_cmd qemu-system-x86_64 jq busybox
PLUGIN=$T_BUILD/kernel/sbcost.so
SBMARK=$T_BUILD/sbmark
[ -f "$PLUGIN" ] && [ -x "$SBMARK" ] || _t_skip_all "build/kernel/sbcost.so or build/sbmark is not built (make)"
cd "$T_TOP" || exit 1

# The plugin alone (no guest kernel needed): it refuses several vCPUs and unknown
# arguments, and loads with one vCPU.
qemu_plugin() { # SMP PLUGIN-ARGS: run QEMU's firmware for a moment under the plugin
	timeout -s INT 3 qemu-system-x86_64 -nodefaults -display none -no-reboot -accel tcg \
		-smp "$1" -plugin "$PLUGIN$2" 2>&1
}
out=$(qemu_plugin 2 ",out=$T_TMP/x.jsonl")
case $out in
*"use -smp 1"*) t_pass plugin-refuses-smp2 ;;
*) t_fail plugin-refuses-smp2 "QEMU said: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
esac
out=$(qemu_plugin 1 ",bogus=1")
case $out in
*"unknown argument 'bogus=1'"*) t_pass plugin-refuses-unknown-argument ;;
*) t_fail plugin-refuses-unknown-argument "QEMU said: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
esac
rm -f "$T_TMP/x.jsonl"
out=$(qemu_plugin 1 ",out=$T_TMP/x.jsonl")
if [ -f "$T_TMP/x.jsonl" ] && ! [ -s "$T_TMP/x.jsonl" ] && ! grep -q sbcost: <<<"$out"; then
	t_pass plugin-loads
else
	t_fail plugin-loads "no empty $T_TMP/x.jsonl, or QEMU said: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi

kernel=${SPLICEBENCH_KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=$(ls -t /var/cache/splicebench/kernels/*/bzImage 2>/dev/null | head -n 1 || true)
fi
[ -n "$kernel" ] && [ -f "$kernel" ] || _t_skip_all "no guest kernel image (kernel/build, or SPLICEBENCH_KERNEL=IMAGE)"
t_log "guest kernel: $kernel"

# Boot: kernel/vm --cost when kernel/vm has it, else kernel/cost/cost-vm (same settings).
cost_boot() { # JSONL COMMAND...
	local f=$1
	shift
	if [ -x kernel/vm ] && kernel/vm --help 2>&1 | grep -q -- --cost; then
		kernel/vm --timeout 180 --cost "$f" "$kernel" -- "$@"
	else
		kernel/cost/cost-vm "$kernel" --timeout 180 --cost "$f" -- "$@"
	fi
}

# The workload: busybox (static) copied to the guest's tmpfs /tmp so that no window
# reads the 9p root; its dd warmed up once outside any window; then 1, 9 and 17 MiB
# of /dev/zero, each in its own window (the 1 MiB window holds the fixed costs:
# exec, the 1 MiB buffer's page faults, exit).  Given inline: the host's /tmp is not
# the guest's.
job="cp /usr/bin/busybox /tmp/busybox && /tmp/busybox dd if=/dev/zero of=/dev/null bs=1M count=1 2>/dev/null || exit 1
for n in 1 9 17; do
	$SBMARK run dd-\$n -- /tmp/busybox dd if=/dev/zero of=/dev/null bs=1M count=\$n 2>/dev/null || exit 1
done"
ok=1
for i in 1 2; do
	start=$(date +%s)
	if ! cost_boot "$T_TMP/run$i.jsonl" sh -c "$job" >"$T_TMP/boot$i.log" 2>&1; then
		t_fail "boot-$i" "$(tail -n 5 "$T_TMP/boot$i.log" | tr '\n' ' ')"
		ok=0
		break
	fi
	t_log "boot $i: $(($(date +%s) - start)) s, $(wc -l <"$T_TMP/run$i.jsonl") windows"
done
[ $ok -eq 1 ] || exit 1
sed 's/^/# /' "$T_TMP/run1.jsonl" "$T_TMP/run2.jsonl"

n=$(jq -s 'map(select(.complete)) | length' "$T_TMP/run1.jsonl" 2>/dev/null || echo 0)
if [ "$n" -eq 3 ]; then t_pass windows-written; else t_fail windows-written "expected 3 complete windows, got $n"; fi

# Determinism.  Everything user space does, and every byte the kernel moves to or
# from user memory, is identical boot after boot.  The kernel's own totals vary by
# by up to a few % (3.6 % seen): the 9p root's I/O completes at host-dependent points, so the
# kernel's state (jiffies, timers due, RCU callbacks) differs when a window opens.
same='.[] | [.label, .insns_user, .load_bytes_user, .store_bytes_user, .kernel_load_user_bytes, .kernel_store_user_bytes]'
s1=$(jq -cs "$same" "$T_TMP/run1.jsonl") s2=$(jq -cs "$same" "$T_TMP/run2.jsonl")
if [ -n "$s1" ] && [ "$s1" = "$s2" ]; then
	t_pass deterministic-user-and-user-copy-counts
else
	t_fail deterministic-user-and-user-copy-counts "$(diff <(jq -cs "$same" "$T_TMP/run1.jsonl") <(jq -cs "$same" "$T_TMP/run2.jsonl") | tail -n 2 | tr '\n' ' ')"
fi
worst=$(jq -rs --slurpfile b "$T_TMP/run2.jsonl" '[range(length) as $i | .[$i] as $x | $b[$i] as $y |
	(["insns_kernel","load_bytes_kernel","store_bytes_kernel"][] | (($x[.] - $y[.]) | fabs) / $x[.])] | max * 100' "$T_TMP/run1.jsonl")
t_log "largest kernel-count difference between the boots: $worst %"
if [ -n "$worst" ] && awk -v w="$worst" 'BEGIN { exit !(w <= 5) }'; then
	t_pass kernel-counts-within-5pct
else
	t_fail kernel-counts-within-5pct "kernel counts differ by $worst % between two boots (allowed: 5 %)"
fi

get() { jq -r --arg l "$1" "select(.label == \$l) | .$2" "$T_TMP/run1.jsonl"; }
MiB=1048576
# dd's N MiB reach user memory through the kernel's clear_user: kernel stores to user
# addresses = N MiB, plus what exec, the loader and exit write there (a few KiB).
ks1=$(get dd-1 kernel_store_user_bytes) ks9=$(get dd-9 kernel_store_user_bytes)
t_log "dd 9 MiB: kernel stores to user memory $ks9 bytes = 9 MiB + $((ks9 - 9 * MiB))"
if [ -n "$ks9" ] && [ "$ks9" -ge $((9 * MiB)) ] && [ "$ks9" -le $((9 * MiB + 65536)) ]; then
	t_pass dd-zero-kernel-stores-to-user
else
	t_fail dd-zero-kernel-stores-to-user "$ks9 bytes, expected 9 MiB .. 9 MiB + 64 KiB"
fi
# Net of the fixed part (the 1 MiB window): exactly the 8 MiB more.
if [ -n "$ks1" ] && [ $((ks9 - ks1)) -eq $((8 * MiB)) ]; then
	t_pass dd-zero-8MiB-more-is-8MiB-more
else
	t_fail dd-zero-8MiB-more-is-8MiB-more "$((ks9 - ks1)) bytes, expected $((8 * MiB))"
fi

# Twice the bytes, twice the counts: (x17 - x1) / (x9 - x1) within 1.9 .. 2.1.
# (Not the kernel's loads: reading /dev/zero loads almost nothing per byte, so they
# are per-call costs and noise.)
for c in kernel_store_user_bytes store_bytes_kernel insns_kernel; do
	x1=$(get dd-1 $c) x9=$(get dd-9 $c) x17=$(get dd-17 $c)
	r=$(awk -v a="$x1" -v b="$x9" -v c="$x17" 'BEGIN { if (b - a <= 0) print "nan"; else printf "%.3f", (c - a) / (b - a) }')
	t_log "$c: 1/9/17 MiB: $x1 $x9 $x17, ratio of the increments $r"
	if awk -v r="$r" 'BEGIN { exit !(r != "nan" && r >= 1.9 && r <= 2.1) }'; then
		t_pass "doubling-$c"
	else
		t_fail "doubling-$c" "ratio $r (1/9/17 MiB: $x1 $x9 $x17), expected 1.9 .. 2.1"
	fi
done
t_finish
