#!/usr/bin/env bash
# multipipe end to end, run INSIDE a patched kernel (tests/25-multipipe.t boots
# it with kernel/vm).  Usage: tests/vm/multipipe.sh fixed|seed|v2 [quick]
# On v2 the reply is the FUSE_DEV_IOC_SPLICE_REPLY ioctl (stats: splice_protocol).
# Prints PASS/FAIL/SKIP/XFAIL lines like every test here.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../fio-verify.sh"
VARIANT=${1:-fixed}
SCOPE=${2:-full}
T_NAME=multipipe.$VARIANT
SFS=$T_BUILD/splicefs
MNT=$T_TMP/mnt
mkdir -p "$MNT"
t_cleanup_mount "$MNT"

start() { # start GRANULE FILE_SIZE [options...]
	local g=$1 size=$2
	shift 2
	t_sfs_start "$MNT" --mode multipipe --file-size "$size" --granule "$g" "$@"
}
stop() { t_sfs_stop "$MNT"; }
st() { t_sfs_stat "$1"; }

# More than one daemon at a time: sfs_start TAG [options...] mounts $T_TMP/TAG
# (counters in $T_TMP/TAG.json, messages in $T_TMP/TAG.log); sfs_stop TAG.
sfs_start() {
	local tag=$1
	shift
	mkdir -p "$T_TMP/$tag"
	t_cleanup_mount "$T_TMP/$tag"
	t_daemon_start "$tag" "$T_TMP/$tag" "$@"
}
sfs_stop() { t_daemon_stop "$1" "$T_TMP/$1"; }
jst() { jq -r ".$2" "$T_TMP/$1.json"; }

if ! out=$("$SFS" "$MNT" --probe 2>&1); then
	_t_skip_all "kernel $(uname -r) lacks FUSE_OUT_SPLICES: $out"
fi
t_pass "$T_NAME.probe"

# PIPES:THREADS pairs (TCG is slow: a few mounts, a few MiB each)
if [ "$SCOPE" = full ]; then
	combos="1:1 4:4"
else
	combos="4:1"
fi

for bs in 4k 128k 1m; do
	g=$(numfmt --from=iec "${bs^^}")
	rsize=32M
	[ $bs = 4k ] && rsize=8M
	for combo in $combos; do
		np=${combo%:*} th=${combo#*:}
		{
			name=$T_NAME.$bs.pipes$np.threads$th
			if ! start "$g" 64M --pipes "$np" --pipe-size $((1048576 / np)) --threads "$th"; then
				t_fail "$name.mount" "$(tail -n 1 "$T_TMP/sfs.log")"
				continue
			fi
			extra=()
			[ "$th" -gt 1 ] && extra=(--ioengine=libaio --iodepth=4)
			ok=1
			for direct in 0 1; do
				kind=$([ $direct = 1 ] && echo direct || echo buffered)
				if ! msg=$(t_fio_verify "mp-$bs-$np-$th-$kind" "$MNT/data0" "$bs" $rsize $direct \
					$([ $direct = 1 ] && echo "${extra[@]}")); then
					t_fail "$name.$kind.fio-verify" "$msg"
					ok=0
				fi
			done
			if ! stop; then
				t_fail "$name.stop" "daemon did not exit and unmount"
				continue
			fi
			copied=$(st bytes_copied) spliced=$(st bytes_spliced) failed=$(st replies_failed)
			if [ $ok = 1 ] && [ "$copied" = 0 ] && [ "$spliced" -ge $((2 * $(numfmt --from=iec $rsize))) ] && [ "$failed" = 0 ]; then
				t_pass "$name.fio-verify+no-copy"
			elif [ $ok = 1 ]; then
				t_fail "$name.counters" "copied=$copied spliced=$spliced replies_failed=$failed"
			fi
		}
	done
done

# 64 MiB read in multipipe mode, every byte verified, not one byte copied.
if [ "$SCOPE" = full ]; then
	if start 1048576 64M --pipes 4 --pipe-size 256K --direct-io; then
		if msg=$(t_fio_verify mp-64m "$MNT/data0" 1m 64M 0); then
			stop
			if [ "$(st bytes_copied)" = 0 ] && [ "$(st bytes_spliced)" -ge $((64 << 20)) ]; then
				t_pass "$T_NAME.64MiB.verified+no-copy"
			else
				t_fail "$T_NAME.64MiB.counters" "$(jq -c '{bytes,bytes_spliced,bytes_copied}' "$T_TMP/sfs.json")"
			fi
		else
			t_fail "$T_NAME.64MiB.fio-verify" "$msg"
			stop
		fi
	else
		t_fail "$T_NAME.64MiB.mount" "$(tail -n 1 "$T_TMP/sfs.log")"
	fi
fi

# Replies the kernel refuses at run time (fault table row 10), in the middle of
# a run: a non-pipe fd (EBADF) and one byte more than the request asked for
# (EMSGSIZE).  Each is drained, counted and answered with an error; the reader
# gets EIO for that read only, every other read gets correct data, and the
# daemon exits and unmounts cleanly afterwards.
kinds="ebadf"
[ "$VARIANT" != seed ] && kinds="ebadf emsgsize"
for kind in $kinds; do
	name=$T_NAME.refused-reply.$kind
	if ! start 1048576 16M --direct-io --fault-every 4 --fault-kind "$kind"; then
		t_fail "$name.mount" "daemon did not start: $(tail -n 1 "$T_TMP/sfs.log")"
		continue
	fi
	got=$(python3 - "$MNT/data0" <<'PY'
import errno, mmap, os, struct, sys
# A page-aligned buffer: one 1 MiB pread is then exactly one FUSE_READ (an
# unaligned one is split in two, and an error in the second part only
# shortens the read).
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = mmap.mmap(-1, 1 << 20)
eio = good = bad = 0
for i in range(8):
    try:
        n = os.preadv(fd, [buf], i << 20)
        ok = n == 1 << 20 and all(struct.unpack_from('<Q', buf, j)[0] == i << 20
                                  for j in range(0, n, 4096))
        good += ok
        bad += not ok
    except OSError as e:
        eio += e.errno == errno.EIO
print(eio, good, bad)
PY
)
	if ! stop; then
		t_fail "$name" "daemon did not exit and unmount after the refused replies"
		continue
	fi
	failed=$(st replies_failed) faults=$(st faults_injected)
	if [ "$got" = "2 6 0" ] && [ "$failed" = 2 ] && [ "$faults" = 2 ]; then
		t_pass "$name.counted-and-eio"
	else
		t_fail "$name.counted-and-eio" "eio/good/bad=$got replies_failed=$failed faults_injected=$faults"
	fi
done

# A short read at EOF must report the short length (seed bug 1: the reply
# length is never stored, so a direct_io pread past EOF returns the full size).
size=$((4 * 1048576 + 100))
if start 8 $size --direct-io; then
	got=$(python3 - "$MNT/data0" $size <<'PY'
import os, struct, sys
p, size = sys.argv[1], int(sys.argv[2])
fd = os.open(p, os.O_RDONLY)
off = size - 100
data = os.pread(fd, 8192, off)
# Granule 8: the word at each 8-aligned offset w holds w (little-endian).
first = off & ~7
words = b''.join(struct.pack('<Q', w) for w in range(first, size + 8, 8))
want = words[off - first:size - first]
print(len(data), 'ok' if data[:len(want)] == want else 'bad')
PY
)
	stop
	if [ "$got" = "100 ok" ]; then
		t_pass "$T_NAME.short-read-at-eof"
	elif [ "$VARIANT" = seed ] && [ "$got" = "8192 ok" ]; then
		# Only the known bug's signature: the full 8192 bytes, the 100 real ones right.
		t_xfail "$T_NAME.short-read-at-eof" "seed bug 1 (reply length not stored): pread of 8192 bytes 100 before EOF returned 8192"
	else
		t_fail "$T_NAME.short-read-at-eof" "pread of 8192 bytes 100 before EOF returned '$got'"
	fi
else
	t_fail "$T_NAME.short-read-at-eof.mount" "$(tail -n 1 "$T_TMP/sfs.log")"
fi
# Which protocol ran: v2-ioctl on v2 (INIT offers it), write on seed and fixed.
want=$([ "$VARIANT" = v2 ] && echo v2-ioctl || echo write)
if start 1048576 4M --direct-io; then
	t_fio_verify mp-proto "$MNT/data0" 1m 4M 0 >/dev/null
	stop
	got=$(st splice_protocol)
	[ "$got" = "$want" ] && [ "$(st bytes_copied)" = 0 ] && [ "$(st bytes_spliced)" -ge $((4 << 20)) ] &&
		t_pass "$T_NAME.splice-protocol.$want" ||
		t_fail "$T_NAME.splice-protocol" "splice_protocol=$got (expected $want), copied=$(st bytes_copied)"
else
	t_fail "$T_NAME.splice-protocol.mount" "$(tail -n 1 "$T_TMP/sfs.log")"
fi
if [ "$VARIANT" = v2 ]; then # the write() form asked for on v2: refused at start, exit 3
	"$SFS" "$MNT" --mode multipipe --splice-protocol write --file-size 1M >/dev/null 2>"$T_TMP/v2w.err"
	rc=$?
	[ $rc -eq 3 ] && grep -q 'refuses the write() form' "$T_TMP/v2w.err" && ! grep -q " $MNT " /proc/mounts &&
		t_pass "$T_NAME.write-form-refused-at-start" ||
		t_fail "$T_NAME.write-form-refused-at-start" "rc $rc: $(head -n 1 "$T_TMP/v2w.err")"
fi
[ "$VARIANT" = fixed ] && . "$(dirname "$0")/multipipe-pool.sh"
t_finish
