#!/usr/bin/env bash
# timeout: 3600
# The v2 series (kernel/patches/6.12-v2: the FUSE_DEV_IOC_SPLICE_REPLY ioctl) and
# its debug build (lockdep, KASAN, DEBUG_VM: kernel/build --debug):
#  - kernel/build --variant v2 builds; in the guest the probe says "splice reply: v2"
#    (and the write() form: no), the selftest passes (relayed as v2/NAME)
#  - with SPLICEBENCH_KERNEL_EXTRA=1 (opt-in since issue 29: 7.3's v3 and its debug
#    build in tests/22-kernel-v3.t run the same checkers on the series' current form):
#    the same in the debug build (v2-debug/NAME); its console must show KASAN
#    initialized and no lockdep, KASAN, DEBUG_VM or hung-task report (kernel/vm also
#    fails the run on WARNING:/BUG:).  On by default: its cold build took 18.5 min
#    beside a whole make test at nice 19 (16.6 CPU minutes: about 9 min alone on 2
#    cores), its guest run 16 s (2026-12-05); SPLICEBENCH_KERNEL_DEBUG=0 leaves it out.
#  - with SPLICEBENCH_KERNEL_EXTRA=1: v2 as a module (kernel/build --variant v2 --module: 443 s cold, before ccache):
#    fuse.ko loaded in the guest, the probe and the selftest relayed as v2-module/NAME
#  - with SPLICEBENCH_KERNEL_61=1 (as in 20-kernel.t) the 6.1 port too
#    (kernel/patches/6.1-v2: kernel/build --base 6.1 --variant v2): the guest runs 6.1
#    and the probe and the selftest pass there (relayed as 6.1-v2/NAME); the same as a
#    module (--module: fuse.ko loaded, 6.1-v2-module/NAME)
# Its own script (and time limit): a cold v2 build plus a cold debug build do not fit
# beside 20-kernel.t's three in 30 minutes on a loaded 2-core machine.
. "$(dirname "$0")/lib.sh"
T_NAME=21-kernel-v2
cd "$T_TOP" || exit 1
_require_cmd qemu-system-x86_64 busybox gcc make bc flex bison
t_kernel_progs # st, pr: the selftest and the probe (tests/lib.sh)



t_one_line build-module-and-debug kernel/build --variant v2 --module --debug # 7.3 only

start=$SECONDS
if v2=$(kernel/build --variant v2 2>"$T_TMP/build-v2.err" | tail -n 1) && [ -f "$v2" ]; then
	t_pass build-6.12-v2
	t_log "kernel/build --variant v2: $v2 ($((SECONDS - start)) s)"
else
	t_fail build-6.12-v2 "$(tail -n 3 "$T_TMP/build-v2.err" | tr '\n' ' ')"
	v2=
fi
timeout 20 qemu-system-x86_64 -machine none -accel tcg -nodefaults -display none -no-user-config \
	-monitor stdio <<<quit >/dev/null 2>&1 || _t_skip_all "qemu-system-x86_64 cannot run here"

v2_selftest() { # TAG IMAGE [VMOPTS...]: the probe and the selftest in a v2 guest (tests/lib.sh)
	SELFTEST_PRE=${V2_PRE:-} t_reply_selftest "$1" "$2" v2 20 "${@:3}"
}
if [ -n "$v2" ]; then
	v2_selftest v2 "$v2"
else
	t_skip v2/selftest "no v2 kernel"
fi
# v2 as a module (CONFIG_FUSE_FS=m): 0002 must link against what the kernel exports
# (0001's get_pipe_info() included), and the loaded fuse.ko must pass the same selftest.
# module_case BASE TAG: build v2 as a module on BASE, load its fuse.ko in a guest that
# had no /dev/fuse before, and run the probe and the selftest there (relayed as TAG/NAME).
module_case() {
	local base=$1 tag=$2 img ko start=$SECONDS
	if img=$(kernel/build --base "$base" --variant v2 --module 2>"$T_TMP/build-$tag.err" | tail -n 1) &&
		[ -f "$img" ] && [ -f "$(dirname "$img")/fuse.ko" ]; then
		t_pass "build-$base-v2-module"
		t_log "kernel/build --base $base --variant v2 --module: $img ($((SECONDS - start)) s)"
		ko=$(dirname "$img")/fuse.ko
		V2_PRE="[ ! -e /dev/fuse ] && echo no-fuse-before; insmod '$ko' && echo insmod-ok &&
			mount -t fusectl fusectl /sys/fs/fuse/connections; " v2_selftest "$tag" "$img"
		grep -q '^no-fuse-before$' "$T_TMP/$tag.out" && grep -q '^insmod-ok$' "$T_TMP/$tag.out" &&
			t_pass "$tag/fuse-is-the-module" || t_fail "$tag/fuse-is-the-module" "$(head -n 3 "$T_TMP/$tag.out" | tr '\n' ' ')"
	else
		t_fail "build-$base-v2-module" "$(tail -n 3 "$T_TMP/build-$tag.err" | tr '\n' ' ')"
	fi
}
extra=${SPLICEBENCH_KERNEL_EXTRA:-0}
if [ "$extra" = 1 ]; then
	module_case 6.12 v2-module
else
	t_skip v2-module/selftest "set SPLICEBENCH_KERNEL_EXTRA=1 to build and test v2 as a module (7.3's v3 module: tests/22-kernel-v3.t)"
fi
if [ "$extra" != 1 ]; then
	t_skip v2-debug/selftest "set SPLICEBENCH_KERNEL_EXTRA=1 for v2's debug build (7.3's v3 debug build runs by default: tests/22-kernel-v3.t)"
elif [ "${SPLICEBENCH_KERNEL_DEBUG:-1}" = 1 ]; then
	start=$SECONDS
	if v2dbg=$(kernel/build --variant v2 --debug 2>"$T_TMP/build-debug.err" | tail -n 1) && [ -f "$v2dbg" ]; then
		t_pass build-6.12-v2-debug
		t_log "kernel/build --variant v2 --debug: $v2dbg ($((SECONDS - start)) s)"
		cfg=$(dirname "$v2dbg")/config
		missing=$(for o in KASAN PROVE_LOCKING DEBUG_VM; do grep -q "^CONFIG_$o=y" "$cfg" 2>/dev/null || echo "$o"; done)
		[ -z "$missing" ] && t_pass v2-debug/config-has-kasan-lockdep-debug-vm ||
			t_fail v2-debug/config-has-kasan-lockdep-debug-vm "not in $cfg: $missing"
		v2_selftest v2-debug "$v2dbg" --mem 3072
		# The checkers must have been on, and said nothing (kernel/vm fails on WARNING:/BUG:).
		con=$T_TMP/v2-debug.console
		if grep -q 'KernelAddressSanitizer initialized' "$con" && ! grep -Eq \
			'BUG: KASAN|possible (recursive|circular) locking|WARNING: |BUG: |INFO: task .* blocked' "$con"; then
			t_pass v2-debug/no-lockdep-kasan-vm-report
		else
			t_fail v2-debug/no-lockdep-kasan-vm-report "$(grep -m1 -E 'KASAN|locking|WARNING|BUG|blocked' "$con" || echo 'KASAN did not say it was initialized')"
		fi
	else
		t_fail build-6.12-v2-debug "$(tail -n 3 "$T_TMP/build-debug.err" | tr '\n' ' ')"
	fi
else
	t_skip v2-debug/selftest "SPLICEBENCH_KERNEL_DEBUG=0: the KASAN+lockdep build left out"
fi

# ---- 6.1 (opt-in) -----------------------------------------------------------
# The same series ported to 6.1 (same ioctl number and INIT bit, protocol 7.39):
# the same selftest and probe must pass in a 6.1 guest.
if [ "${SPLICEBENCH_KERNEL_61:-0}" = 1 ]; then
	start=$SECONDS
	if v261=$(kernel/build --base 6.1 --variant v2 2>"$T_TMP/build-v2-61.err" | tail -n 1) && [ -f "$v261" ]; then
		t_pass build-6.1-v2
		t_log "kernel/build --base 6.1 --variant v2: $v261 ($((SECONDS - start)) s)"
		v2_selftest 6.1-v2 "$v261"
		grep -Eq '^6\.1\.[0-9]+-sb-v2$' "$T_TMP/6.1-v2.out" && t_pass 6.1-v2/guest-is-6.1 ||
			t_fail 6.1-v2/guest-is-6.1 "$(head -n 1 "$T_TMP/6.1-v2.out")"
	else
		t_fail build-6.1-v2 "$(tail -n 3 "$T_TMP/build-v2-61.err" | tr '\n' ' ')"
	fi
	module_case 6.1 6.1-v2-module
else
	t_skip build-6.1-v2 "set SPLICEBENCH_KERNEL_61=1 to build and test the 6.1 port of v2 (one more cold build)"
fi

t_finish
