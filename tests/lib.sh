# Shared helpers for splicebench's shell tests (sourced, never run).
#
# A test script reports each case on its own line:
#   PASS name | FAIL name: why | SKIP name: why | XFAIL name: why (a known bug, as expected)
#   | XPASS name: why (a case marked as a known bug that passed: the mark is stale)
# tests/run totals these lines over all scripts.  Everything a script starts is
# registered with t_cleanup_* so that the EXIT trap undoes it on every path
# (failure, SIGINT, SIGTERM, a killed daemon).

set -u
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_BUILD=${T_BUILD:-$T_TOP/build}
T_TMP=$(mktemp -d /tmp/splicebench-test.XXXXXX)
T_FAILED=0
_t_mounts=()
_t_pids=()
_t_cmds=()

t_pass() { echo "PASS $1"; }
t_fail() { echo "FAIL $1: ${2:-failed}"; T_FAILED=$((T_FAILED + 1)); }
# A missing build is a failure, never a skip (issue 19 item 6): a SKIP whose reason says
# "not built" (the wording every test uses for a build/ file) is reported as a FAIL.
t_skip() {
	case "$2" in
	*"not built"*) t_fail "$1" "$2 (a missing build fails: run make)" ;;
	*) echo "SKIP $1: $2" ;;
	esac
}
t_xfail() { echo "XFAIL $1: $2"; }
# A known bug that no longer shows: counted apart by tests/run, and it fails the run until
# the case's expected-failure mark is removed (a mark that cannot fail hides a regression).
t_xpass() { echo "XPASS $1: $2"; T_FAILED=$((T_FAILED + 1)); }
t_log() { echo "# $*"; }

# t_check NAME CMD...: PASS when CMD succeeds, FAIL with its last output line otherwise.
t_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_pass "$name"
	else
		t_fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# _require_* : skip the whole script (exit 0) with a reason when the machine lacks something.
_t_skip_all() {
	t_skip "${T_NAME:-$(basename "$0")}" "$1"
	t_finish
	exit
}
# t_require_built FILE...: every FILE (build/ programs) must exist and be executable; a
# missing one FAILs (NAME.built) and ends the script: CI must build, never skip.
t_require_built() {
	local f missing=()
	for f; do [ -x "$f" ] || missing+=("${f#"$T_TOP"/}"); done
	[ ${#missing[@]} = 0 ] && return 0
	t_fail "${T_NAME:-$(basename "$0")}.built" "${missing[*]} not built (run make)"
	exit 1
}
_require_root() { [ "$(id -u)" -eq 0 ] || _t_skip_all "needs root"; }
_require_fuse() { [ -c /dev/fuse ] || _t_skip_all "no /dev/fuse on this machine"; }
_require_cmd() {
	local c
	for c; do command -v "$c" >/dev/null 2>&1 || _t_skip_all "needs '$c' (run scripts/deps)"; done
}
_require_netns() { ip netns add sbtest-probe.$$ 2>/dev/null && ip netns del sbtest-probe.$$ || _t_skip_all "network namespaces not available"; }

# t_mnt_esc PATH: PATH as /proc/mounts writes it (space, tab, newline, backslash escaped).
t_mnt_esc() {
	local p=${1//\\/\\134}
	p=${p// /\\040}
	p=${p//$'\t'/\\011}
	printf '%s' "${p//$'\n'/\\012}"
}

t_cleanup_mount() { _t_mounts+=("$1"); }
t_cleanup_pid() { _t_pids+=("$1"); }
t_cleanup_cmd() { _t_cmds+=("$*"); }

# t_alive PID: the process exists and is not a zombie waiting to be reaped.
t_alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

_t_cleanup() {
	local rc=$? m p i
	trap - EXIT INT TERM
	for p in "${_t_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for m in "${_t_mounts[@]}"; do
		if mountpoint -q "$m" 2>/dev/null || grep -qF " $(t_mnt_esc "$m") fuse" /proc/mounts; then
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	for p in "${_t_pids[@]}"; do
		for i in $(seq 50); do t_alive "$p" || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	for ((i = ${#_t_cmds[@]} - 1; i >= 0; i--)); do eval "${_t_cmds[$i]}" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
	exit $rc
}
trap _t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# t_wait_mount DIR [SECONDS]: bounded wait until DIR is a FUSE mount.
t_wait_mount() {
	local dir=$1 n=$((${2:-10} * 10))
	while [ $n -gt 0 ]; do
		grep -qF " $(t_mnt_esc "$dir") fuse" /proc/mounts && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# t_no_mount DIR: true when nothing is mounted at DIR.
t_no_mount() { ! grep -qF " $(t_mnt_esc "$1") " /proc/mounts; }

# t_daemon_start TAG MNT [options...]: splicefs (or $T_DAEMON, a daemon with the same
# command line: build/libfuse-ref) at MNT, in the background; its counters go to
# $T_TMP/TAG.json, its pid to $T_TMP/TAG.pid, its messages to $T_TMP/TAG.log; the
# cleanup trap knows the daemon.  Fails when it does not start or mount in 10 s.
# splicefs gets --slot-probe (a test is not a timed window: the pipe-slot counts of
# socket-fed replies are checked, e.g. tests/vm/multipipe-nic.sh); T_SLOT_PROBE=0 leaves
# it at its default (off).
t_daemon_start() {
	local tag=$1 mnt=$2 d=${T_DAEMON:-$T_BUILD/splicefs} probe=()
	shift 2
	rm -f "$T_TMP/$tag.json" "$T_TMP/$tag.pid"
	[ "${d##*/}" = splicefs ] && [ "${T_SLOT_PROBE:-1}" = 1 ] && probe=(--slot-probe)
	"$d" "$mnt" --stats-file "$T_TMP/$tag.json" --pid-file "$T_TMP/$tag.pid" \
		--log "$T_TMP/$tag.log" "${probe[@]}" "$@" >"$T_TMP/$tag.log" 2>&1 </dev/null || return 1
	t_cleanup_pid "$(cat "$T_TMP/$tag.pid")"
	t_wait_mount "$mnt" 10
}

# t_daemon_stop TAG MNT: SIGTERM, then a bounded wait for the exit and the unmount.
t_daemon_stop() {
	local pid
	pid=$(cat "$T_TMP/$1.pid" 2>/dev/null) || return 1
	kill -TERM "$pid"
	for _ in $(seq 200); do t_alive "$pid" || break; sleep 0.1; done
	! t_alive "$pid" && t_no_mount "$2"
}

# t_sfs_start MNT [options...] / t_sfs_stop MNT: the same, tag "sfs".
t_sfs_start() { t_daemon_start sfs "$@"; }
t_sfs_stop() { t_daemon_stop sfs "$1"; }

# t_sfs_stat FIELD: a counter from the last daemon's stats file.
t_sfs_stat() { jq -r ".$1" "$T_TMP/sfs.json"; }

# t_guest_kernel: $kernel = the guest kernel image: SPLICEBENCH_KERNEL, else kernel/build's
# fixed 6.12 image (cached: instant; not the newest file in the cache, which may be
# another variant from another run).  A build that fails is a FAIL (kernel-build) and
# ends the script: CI must boot the patched kernel, never skip it.
t_guest_kernel() {
	kernel=${SPLICEBENCH_KERNEL:-}
	if [ -z "$kernel" ]; then
		kernel=$(cd "$T_TOP" && kernel/build --base 6.12 --variant fixed 2>"$T_TMP/build.log" | tail -n 1) || kernel=
	fi
	[ -n "$kernel" ] && [ -f "$kernel" ] && return 0
	t_fail kernel-build "${SPLICEBENCH_KERNEL:+SPLICEBENCH_KERNEL=$SPLICEBENCH_KERNEL: no such image; }$(tail -n 2 "$T_TMP/build.log" 2>/dev/null | tr '\n' ' ')"
	exit 1
}

# t_one_line NAME CMD...: CMD fails with exactly one line on stderr and nothing on stdout.
t_one_line() {
	local name=$1 rc err
	shift
	"$@" >"$T_TMP/ol.out" 2>"$T_TMP/ol.err"
	rc=$?
	err=$(wc -l <"$T_TMP/ol.err")
	if [ $rc -ne 0 ] && [ "$err" -eq 1 ] && [ ! -s "$T_TMP/ol.out" ]; then
		t_pass "$name"
	else
		t_fail "$name" "rc $rc, $err stderr lines: $(head -c 300 "$T_TMP/ol.err" | tr '\n' ' ')"
	fi
}

# t_vm_run NAME KERNEL VMOPTS... -- CMD: kernel/vm (KERNEL names the image, for the
# reader; VMOPTS carry it), stdout to $T_TMP/NAME.out, stderr to NAME.err, console NAME.console.
t_vm_run() {
	local name=$1
	shift 2
	kernel/vm --console "$T_TMP/$name.console" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" </dev/null
}

# t_relay PREFIX FILE: a selftest's PASS/FAIL/SKIP/XFAIL lines as this script's checks,
# case names prefixed; other lines logged; $t_relayed counts the cases.
t_relay() {
	local prefix=$1 file=$2 verdict name rest line n=0
	while IFS= read -r line; do
		case $line in
		PASS\ * | FAIL\ * | SKIP\ * | XFAIL\ * | XPASS\ *)
			verdict=${line%% *}
			rest=${line#* }
			name=${rest%%:*}
			name=${name%% *}
			rest=${rest#"$name"}
			rest=${rest#: }
			case $verdict in
			PASS) t_pass "$prefix/$name" ;;
			FAIL) t_fail "$prefix/$name" "$rest" ;;
			SKIP) t_skip "$prefix/$name" "$rest" ;;
			XFAIL) t_xfail "$prefix/$name" "$rest" ;;
			XPASS) t_xpass "$prefix/$name" "$rest" ;;
			esac
			n=$((n + 1))
			;;
		*) t_log "$prefix: $line" ;;
		esac
	done <"$file"
	t_relayed=$n
}

t_finish() {
	[ "$T_FAILED" -eq 0 ]
}

# t_reply_selftest TAG IMAGE VARIANT MIN [VMOPTS...]: the probe and the selftest
# ($st --variant VARIANT, $pr: set by the caller) in a guest of IMAGE, after $SELFTEST_PRE
# (shell run first in the guest, e.g. an insmod); checks the probe says "splice reply:
# VARIANT", relays the selftest's cases as TAG/NAME, and passes TAG/vm-run when kernel/vm
# ended well with at least MIN cases.  The guest's `uname -r` is the first line of
# $T_TMP/TAG.out.
t_reply_selftest() {
	local tag=$1 img=$2 variant=$3 min=$4 rc
	shift 4
	t_vm_run "$tag" "$img" --timeout 600 "$@" "$img" -- \
		sh -c "uname -r; ${SELFTEST_PRE:-}'$pr'; echo probe-rc=\$?; '$st' --variant $variant"
	rc=$?
	grep -q "^splice reply: $variant\$" "$T_TMP/$tag.out" && grep -q '^probe-rc=0$' "$T_TMP/$tag.out" &&
		grep -q '^FUSE_OUT_SPLICES: no' "$T_TMP/$tag.out" &&
		t_pass "$tag/probe-$variant" || t_fail "$tag/probe-$variant" "$(head -n 3 "$T_TMP/$tag.out" | tr '\n' ' ')"
	t_relay "$tag" "$T_TMP/$tag.out"
	if [ $rc -eq 0 ] && [ "$t_relayed" -ge "$min" ]; then
		t_pass "$tag/vm-run"
	else
		t_fail "$tag/vm-run" "kernel/vm rc $rc, $t_relayed cases: $(grep kernel/vm: "$T_TMP/$tag.err" | tail -n 2 | tr '\n' ' ')"
	fi
	grep 'kernel/vm: QEMU ran' "$T_TMP/$tag.err" | sed "s/^/# $tag: /"
}

# t_kernel_progs: st and pr, the guest's selftest and probe (built here when missing);
# a failed build fails the script.
t_kernel_progs() {
	st=$T_BUILD/kernel/fuse_splices_test
	pr=$T_BUILD/kernel/fuse_probe
	if [ ! -x "$st" ] || [ ! -x "$pr" ]; then
		make -s "$st" "$pr" >/dev/null 2>&1 || {
			t_fail kernel-progs "make $st $pr failed"
			exit 1
		}
	fi
}
