#!/usr/bin/env bash
# multipipe end to end on the patched kernels, booted under QEMU (kernel/vm):
# tests/vm/multipipe.sh runs inside and reports; the seed variant must show
# its known bugs as XFAIL, the fixed variant must pass everything.
# SPLICEBENCH_KERNEL_FIXED / SPLICEBENCH_KERNEL_SEED override the images.
. "$(dirname "$0")/lib.sh"
T_NAME=multipipe
_require_root
_require_cmd qemu-system-x86_64 fio jq python3
[ -x "$T_BUILD/splicefs" ] || _t_skip_all "build/splicefs is not built (make)"

for variant in fixed seed; do
	var=SPLICEBENCH_KERNEL_${variant^^}
	img=${!var:-}
	if [ -z "$img" ]; then
		if ! img=$("$T_TOP/kernel/build" --base 6.12 --variant "$variant" 2>"$T_TMP/build-$variant.log" | tail -n 1) ||
			[ ! -f "$img" ]; then
			t_fail "multipipe.$variant.kernel-build" "$(tail -n 2 "$T_TMP/build-$variant.log" | tr '\n' ' ')"
			continue
		fi
	fi
	scope=$([ "$variant" = fixed ] && echo full || echo quick)
	"$T_TOP/kernel/vm" --mem 3072 --timeout "$([ "$variant" = fixed ] && echo 600 || echo 300)" "$img" -- \
		tests/vm/multipipe.sh "$variant" "$scope" >"$T_TMP/vm-$variant.out" 2>"$T_TMP/vm-$variant.err"
	rc=$?
	grep -E '^(PASS|FAIL|SKIP|XFAIL) ' "$T_TMP/vm-$variant.out"
	if [ $rc -ne 0 ]; then
		t_fail "multipipe.$variant.vm" "kernel/vm exit $rc: $(grep -v '^kernel/vm: booting' "$T_TMP/vm-$variant.err" | tail -n 3 | tr '\n' ' ')"
	elif ! grep -q '^PASS multipipe' "$T_TMP/vm-$variant.out"; then
		t_fail "multipipe.$variant.vm" "no result from the guest: $(tail -n 3 "$T_TMP/vm-$variant.err" | tr '\n' ' ')"
	fi
done
t_finish
