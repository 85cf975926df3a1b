#!/usr/bin/env bash
# Issue 14, fault-table row 11: a checkout under /tmp runs the VM tests.  The guest
# mounts tmpfs on /tmp, /var/tmp, /run and /dev/shm; kernel/vm shares a checkout (and
# a current directory, and an --out directory) that lives below one of them over its
# own 9p tag, mounted at its own path.  A copy of this working tree (tracked and
# untracked files, and build/) under /tmp boots one short command that reads a file
# only that copy has, runs a program from its build/, and writes into an --out
# directory under /tmp through its host path.  About 10 s (one boot).
#   SPLICEBENCH_KERNEL=IMAGE  the guest kernel (default: kernel/build's cached 6.12 fixed)
. "$(dirname "$0")/lib.sh"
T_NAME=vm-anywhere
_require_cmd qemu-system-x86_64 busybox git cpio
cd "$T_TOP" || exit 1
[ -x "$T_BUILD/sbcheck" ] || _t_skip_all "build/sbcheck is not built (make)"
t_guest_kernel

co=$T_TMP/checkout
mkdir -p "$co"
# The working tree as it is (so that uncommitted changes of kernel/vm are what runs).
git ls-files -z -co --exclude-standard | cpio -0pdm --quiet "$co" 2>"$T_TMP/cpio.err" &&
	cp -a "$T_BUILD" "$co/build" || {
	t_fail copy-checkout "$(tail -n 2 "$T_TMP/cpio.err" | tr '\n' ' ')"
	exit 1
}
marker=$RANDOM$RANDOM
echo "$marker" >"$co/marker-only-here"
out=$T_TMP/results
mkdir -p "$out" "$co/sub"

# From the checkout's root, and from a directory below it.
for where in . sub; do
	(cd "$co/$where" && "$co/kernel/vm" --timeout 120 --out "$out" "$kernel" -- sh -c '
		pwd -P; cat '"$co"'/marker-only-here
		'"$co"'/build/sbcheck --help >/dev/null 2>&1; echo "sbcheck $?"
		echo written >'"$out"'/from-guest-$(basename "$PWD")') >"$T_TMP/vm.out" 2>"$T_TMP/vm.err"
	rc=$?
	got=$(tr '\n' ' ' <"$T_TMP/vm.out")
	want="$(cd "$co/$where" && pwd -P) $marker sbcheck 0 "
	name=checkout-in-tmp
	[ "$where" = sub ] && name=checkout-in-tmp.subdir
	if [ $rc -eq 0 ] && [ "$got" = "$want" ] && [ -s "$out/from-guest-$(basename "$(cd "$co/$where" && pwd)")" ]; then
		t_pass "$name"
	else
		t_fail "$name" "exit $rc, guest printed '$got' (wanted '$want'): $(grep -v '^kernel/vm: booting' "$T_TMP/vm.err" | tail -n 2 | tr '\n' ' ')"
	fi
	[ "$where" = . ] && [ $rc -ne 0 ] && break
done
t_finish
