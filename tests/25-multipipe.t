#!/usr/bin/env bash
# multipipe end to end on the patched kernels, booted under QEMU (kernel/vm):
# tests/vm/multipipe.sh runs inside and reports; the seed variant (opt-in:
# SPLICEBENCH_KERNEL_EXTRA=1, or SPLICEBENCH_KERNEL_SEED=IMAGE) must show
# its known bugs as XFAIL, the fixed variant must pass everything; v2 (the
# FUSE_DEV_IOC_SPLICE_REPLY series) runs the quick scope and must pass it, its
# stats naming splice_protocol v2-ioctl.
# Then, where kernel/vm offers --net, the NIC path: sbserver on the host,
# tests/vm/multipipe-nic.sh in the fixed guest reading it through virtio-net.
# SPLICEBENCH_KERNEL_FIXED / _SEED / _V2 override the images,
# SPLICEBENCH_VM the kernel/vm script.
. "$(dirname "$0")/lib.sh"
T_NAME=multipipe
_require_root
_require_cmd qemu-system-x86_64 fio jq python3
[ -x "$T_BUILD/splicefs" ] || _t_skip_all "build/splicefs is not built (make)"

vm=${SPLICEBENCH_VM:-$T_TOP/kernel/vm}
fixed_img=
# The seed's own build is opt-in (SPLICEBENCH_KERNEL_EXTRA=1, as in 20-kernel.t), unless
# SPLICEBENCH_KERNEL_SEED names an image.
variants="fixed v2"
[ "${SPLICEBENCH_KERNEL_EXTRA:-0}" = 1 ] || [ -n "${SPLICEBENCH_KERNEL_SEED:-}" ] && variants="fixed seed v2"
case $variants in *seed*) ;; *) t_skip multipipe.seed "set SPLICEBENCH_KERNEL_EXTRA=1 to build the seed kernel and run multipipe on it" ;; esac
for variant in $variants; do
	var=SPLICEBENCH_KERNEL_${variant^^}
	img=${!var:-}
	if [ -z "$img" ]; then
		if ! img=$("$T_TOP/kernel/build" --base 6.12 --variant "$variant" 2>"$T_TMP/build-$variant.log" | tail -n 1) ||
			[ ! -f "$img" ]; then
			t_fail "multipipe.$variant.kernel-build" "$(tail -n 2 "$T_TMP/build-$variant.log" | tr '\n' ' ')"
			continue
		fi
	fi
	[ "$variant" = fixed ] && fixed_img=$img
	scope=$([ "$variant" = fixed ] && echo full || echo quick)
	"$vm" --mem 3072 --timeout "$([ "$variant" = fixed ] && echo 600 || echo 300)" "$img" -- \
		tests/vm/multipipe.sh "$variant" "$scope" >"$T_TMP/vm-$variant.out" 2>"$T_TMP/vm-$variant.err"
	rc=$?
	grep -E '^(PASS|FAIL|SKIP|XFAIL) ' "$T_TMP/vm-$variant.out"
	if [ $rc -ne 0 ]; then
		t_fail "multipipe.$variant.vm" "kernel/vm exit $rc: $(grep -v '^kernel/vm: booting' "$T_TMP/vm-$variant.err" | tail -n 3 | tr '\n' ' ')"
	elif ! grep -q '^PASS multipipe' "$T_TMP/vm-$variant.out"; then
		t_fail "multipipe.$variant.vm" "no result from the guest: $(tail -n 3 "$T_TMP/vm-$variant.err" | tr '\n' ' ')"
	fi
done

if [ -z "$fixed_img" ]; then
	t_fail multipipe.nic "no fixed kernel image (see the kernel-build failure above)"
elif ! "$vm" --help 2>/dev/null | grep -q -- '--net'; then
	t_skip multipipe.nic "kernel/vm has no --net (a virtio-net NIC for the guest)"
else
	size=$((64 * 1048576 + 100))
	"$T_BUILD/sbserver" --bind 127.0.0.1 --file-size $size --seed 5 --port-file "$T_TMP/nic.port" \
		>"$T_TMP/nic-sbserver.log" 2>&1 &
	t_cleanup_pid $!
	for _ in $(seq 50); do [ -s "$T_TMP/nic.port" ] && break; sleep 0.1; done
	if ! [ -s "$T_TMP/nic.port" ]; then
		t_fail multipipe.nic.sbserver "$(tail -n 1 "$T_TMP/nic-sbserver.log")"
	else
		"$vm" --net --mem 2048 --timeout 300 "$fixed_img" -- \
			tests/vm/multipipe-nic.sh "$(cat "$T_TMP/nic.port")" 5 $size >"$T_TMP/vm-nic.out" 2>"$T_TMP/vm-nic.err"
		rc=$?
		grep -E '^(PASS|FAIL|SKIP|XFAIL|#) ' "$T_TMP/vm-nic.out"
		if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$T_TMP/vm-nic.out"; then
			t_fail multipipe.nic.vm "kernel/vm exit $rc: $(grep -v '^kernel/vm: booting' "$T_TMP/vm-nic.err" | tail -n 3 | tr '\n' ' ')"
		elif ! grep -q '^PASS multipipe.nic' "$T_TMP/vm-nic.out"; then
			t_fail multipipe.nic.vm "no result from the guest: $(tail -n 3 "$T_TMP/vm-nic.err" | tr '\n' ' ')"
		fi
	fi
fi
t_finish
