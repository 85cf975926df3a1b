#!/usr/bin/env bash
# timeout: 3600
# The series on Linux 7.3 (kernel/patches/7.3-v3: FUSE_DEV_IOC_SPLICE_REPLY rebased onto
# 7.3's folio-only fs/fuse, provisional numbers: ioctl 4, INIT bit 44, protocol 7.47):
#  - kernel/build --base 7.3 --variant v3 fetches linux-source-7.3 from Debian's
#    trixie-backports (a private apt configuration, signatures checked) and builds; the
#    guest runs 7.3, the probe says "splice reply: v3" (and the write() form: no), the
#    selftest passes (relayed as v3/NAME; booted with init_on_free=1 so that
#    sparse_memfd runs)
#  - the series is checkpatch --strict clean (the 7.3 tree's own scripts/checkpatch.pl)
#  - its debug build (kernel/build --debug: KASAN, lockdep, DEBUG_VM, hung-task
#    detection): the probe and the selftest again (v3-debug/NAME; sparse_memfd runs
#    there without init_on_free, DEBUG_VM checks freed pages), and its console shows
#    KASAN initialized and no KASAN, lockdep, WARNING, BUG or hung-task report.
#    On by default; SPLICEBENCH_KERNEL_DEBUG=0 leaves it out.
#  - with SPLICEBENCH_KERNEL_EXTRA=1: v3 as a module (--module: fuse.ko loaded,
#    v3-module/NAME) and as a module under the debug config (--module --debug:
#    v3-module-debug/NAME, the same console checks)
. "$(dirname "$0")/lib.sh"
T_NAME=22-kernel-v3
cd "$T_TOP" || exit 1
_require_cmd qemu-system-x86_64 busybox gcc make bc flex bison apt-get dpkg-deb gpgv
t_kernel_progs # st, pr: the selftest and the probe (tests/lib.sh)

t_one_line build-7.3-only-v3 kernel/build --base 7.3 --variant fixed
t_one_line build-v3-only-7.3 kernel/build --base 6.12 --variant v3

start=$SECONDS
if v3=$(kernel/build --base 7.3 --variant v3 2>"$T_TMP/build-v3.err" | tail -n 1) && [ -f "$v3" ]; then
	t_pass build-7.3-v3
	t_log "kernel/build --base 7.3 --variant v3: $v3 ($((SECONDS - start)) s)"
else
	t_fail build-7.3-v3 "$(tail -n 3 "$T_TMP/build-v3.err" | tr '\n' ' ')"
	v3=
fi

# checkpatch --strict, from the 7.3 tree kernel/build extracted
cache=${SPLICEBENCH_CACHE:-/var/cache/splicebench}
cp=$(ls -d "$cache"/src/linux-source-7.3-*/scripts/checkpatch.pl 2>/dev/null | tail -n 1)
if [ -n "$cp" ]; then
	bad=
	for p in kernel/patches/7.3-v3/*.patch; do
		out=$(cd "$(dirname "$(dirname "$cp")")" && perl scripts/checkpatch.pl --strict "$T_TOP/$p" 2>&1)
		echo "$out" | grep -q '^total: 0 errors, 0 warnings, 0 checks' || bad="$bad ${p##*/}: $(echo "$out" | grep -m1 -E '^(ERROR|WARNING|CHECK)')"
	done
	[ -z "$bad" ] && t_pass checkpatch-strict-7.3-v3 || t_fail checkpatch-strict-7.3-v3 "$bad"
else
	t_fail checkpatch-strict-7.3-v3 "no extracted 7.3 tree in $cache/src (kernel/build --base 7.3 failed?)"
fi

timeout 20 qemu-system-x86_64 -machine none -accel tcg -nodefaults -display none -no-user-config \
	-monitor stdio <<<quit >/dev/null 2>&1 || _t_skip_all "qemu-system-x86_64 cannot run here"

v3_selftest() { # TAG IMAGE [VMOPTS...]: the probe and the selftest in a v3 guest (tests/lib.sh)
	local tag=$1
	SELFTEST_PRE=${V3_PRE:-} t_reply_selftest "$tag" "$2" v3 30 "${@:3}"
	grep -Eq '^7\.3\.[0-9]+-sb-v3' "$T_TMP/$tag.out" && t_pass "$tag/guest-is-7.3" ||
		t_fail "$tag/guest-is-7.3" "$(head -n 1 "$T_TMP/$tag.out")"
}
# A debug guest's console: the checkers were on, and said nothing.
quiet_console() { # TAG
	local con=$T_TMP/$1.console
	if grep -q 'KernelAddressSanitizer initialized' "$con" && ! grep -Eq \
		'BUG: KASAN|possible (recursive|circular) locking|WARNING: |BUG: |INFO: task .* blocked|hung_task' "$con"; then
		t_pass "$1/no-kasan-lockdep-warning-bug-hung-task"
	else
		t_fail "$1/no-kasan-lockdep-warning-bug-hung-task" "$(grep -m1 -E 'KASAN|locking|WARNING|BUG|blocked|hung' "$con" || echo 'KASAN did not say it was initialized')"
	fi
}
debug_config() { # TAG IMAGE
	local cfg missing
	cfg=$(dirname "$2")/config
	missing=$(for o in KASAN PROVE_LOCKING DEBUG_VM DETECT_HUNG_TASK; do grep -q "^CONFIG_$o=y" "$cfg" 2>/dev/null || echo "$o"; done)
	[ -z "$missing" ] && t_pass "$1/config-has-kasan-lockdep-debug-vm" ||
		t_fail "$1/config-has-kasan-lockdep-debug-vm" "not in $cfg: $missing"
}

if [ -n "$v3" ]; then
	v3_selftest v3 "$v3" --append init_on_free=1
else
	t_skip v3/selftest "no v3 kernel"
fi

if [ "${SPLICEBENCH_KERNEL_DEBUG:-1}" = 1 ]; then
	start=$SECONDS
	if v3dbg=$(kernel/build --base 7.3 --variant v3 --debug 2>"$T_TMP/build-debug.err" | tail -n 1) && [ -f "$v3dbg" ]; then
		t_pass build-7.3-v3-debug
		t_log "kernel/build --base 7.3 --variant v3 --debug: $v3dbg ($((SECONDS - start)) s)"
		debug_config v3-debug "$v3dbg"
		v3_selftest v3-debug "$v3dbg" --mem 3072
		quiet_console v3-debug
	else
		t_fail build-7.3-v3-debug "$(tail -n 3 "$T_TMP/build-debug.err" | tr '\n' ' ')"
	fi
else
	t_skip v3-debug/selftest "SPLICEBENCH_KERNEL_DEBUG=0: the KASAN+lockdep build left out"
fi

# fuse.ko: built against what 7.3 exports (get_pipe_info() and the splice helpers of
# 0001-0002), loaded in a guest that had no /dev/fuse, the same selftest.
module_case() { # TAG [--debug]
	local tag=$1 img ko start=$SECONDS
	shift
	if img=$(kernel/build --base 7.3 --variant v3 --module "$@" 2>"$T_TMP/build-$tag.err" | tail -n 1) &&
		[ -f "$img" ] && [ -f "$(dirname "$img")/fuse.ko" ]; then
		t_pass "build-7.3-$tag"
		t_log "kernel/build --base 7.3 --variant v3 --module $*: $img ($((SECONDS - start)) s)"
		ko=$(dirname "$img")/fuse.ko
		[ $# -gt 0 ] && debug_config "$tag" "$img"
		V3_PRE="[ ! -e /dev/fuse ] && echo no-fuse-before; insmod '$ko' && echo insmod-ok &&
			mount -t fusectl fusectl /sys/fs/fuse/connections; " v3_selftest "$tag" "$img" --mem 3072
		grep -q '^no-fuse-before$' "$T_TMP/$tag.out" && grep -q '^insmod-ok$' "$T_TMP/$tag.out" &&
			t_pass "$tag/fuse-is-the-module" || t_fail "$tag/fuse-is-the-module" "$(head -n 3 "$T_TMP/$tag.out" | tr '\n' ' ')"
		[ $# -gt 0 ] && quiet_console "$tag"
	else
		t_fail "build-7.3-$tag" "$(tail -n 3 "$T_TMP/build-$tag.err" | tr '\n' ' ')"
	fi
}
if [ "${SPLICEBENCH_KERNEL_EXTRA:-0}" = 1 ]; then
	module_case v3-module
	module_case v3-module-debug --debug
else
	t_skip v3-module/selftest "set SPLICEBENCH_KERNEL_EXTRA=1 to build and test v3 as a module, plain and under the debug config (two more cold builds)"
fi

t_finish
