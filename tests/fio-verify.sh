# fio with every byte verified against the splicebench pattern (sourced).
#
# t_fio_verify NAME FILE BS SIZE DIRECT [extra fio args...]
# Reads SIZE bytes of FILE sequentially with block size BS.  The file must
# come from a splicefs (or sbserver) started with --granule BS and seed 0:
# then fio's verify_pattern=%o (each block holds its own offset) matches
# every byte.  Leaves fio's JSON in $T_TMP/NAME.json; returns fio's status
# and fails when fio reports an error or read fewer bytes than asked.
t_fio_verify() {
	local name=$1 file=$2 bs=$3 size=$4 direct=$5 out
	shift 5
	out=$T_TMP/$name.json
	fio --name="$name" --filename="$file" --rw=read --bs="$bs" --size="$size" \
		--direct="$direct" --ioengine=psync --verify=pattern --verify_pattern=%o \
		--verify_fatal=1 --output-format=json --output="$out" "$@" >/dev/null 2>"$T_TMP/$name.err" ||
		{ echo "fio failed: $(grep -m1 -i 'verify\|error\|bad' "$T_TMP/$name.err" "$out" 2>/dev/null | head -1)"; return 1; }
	local err bytes
	err=$(jq '[.jobs[].error] | add' "$out")
	bytes=$(jq '[.jobs[].read.io_bytes] | add' "$out")
	[ "$err" = 0 ] || { echo "fio job error $err"; return 1; }
	[ "$bytes" -ge "$(numfmt --from=iec "$size")" ] || { echo "fio read $bytes bytes, wanted $size"; return 1; }
	return 0
}
