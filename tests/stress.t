#!/usr/bin/env bash
# gmemkit stress: a short run is clean (exit 0, PASS, every check line with
# zeros where zeros belong, host threads said to run the guest's own
# workload); with injected errors every one is seen as IOERR by the
# workload; silent corruption makes it fail (exit 1) naming the sector; the
# ram backend runs with its data checked; bad
# options are refused with exit 2 and a message naming the value.
set -u
SECS=${STRESS_T_SECONDS:-5}
CMD=stress
. "$(dirname "$0")/cli.sh"
# field VALUE-AFTER-WORD FILE: the number after "WORD " in the summary
num() { grep -o -- "$1 [0-9]*" "$2" | head -1 | awk '{print $NF}'; }

echo "1..22"
"$BIN" stress --seconds "$SECS" >"$out/s" 2>"$out/e"; rc=$?
ok $rc "stress --seconds $SECS exits 0 (rc $rc): $(grep '^result' "$out/s")"
[ $rc != 0 ] && sed 's/^/# /' "$out/s" "$out/e"
grep -q '^result    PASS' "$out/s" &&
	grep -q "host threads run the guest's workload and driver (no KVM guest)" "$out/s"
ok $? "summary says PASS and that host threads run the guest's code"
[ "$(num 'mismatches' "$out/s")" = 0 ] && [ "$(num 'abandoned' "$out/s")" = 0 ] &&
	[ "$(num 'duplicated' "$out/s")" = 0 ] && [ "$(num 'gmem violations' "$out/s")" = 0 ] &&
	[ "$(num 'pins left' "$out/s")" = 0 ] && [ "$(num 'verified' "$out/s")" -gt 0 ] &&
	[ "$(num 'failed' "$out/s")" = 0 ]
ok $? "no mismatch, lost or duplicated completion, failed guest check, violation or pin; sectors verified"
grep '^paths' "$out/s" >"$out/m"
ops=$(num 'ops      ' "$out/s"); sh=$(num 'shared' "$out/m"); bo=$(num 'bounce' "$out/m")
ip=$(num 'inplace' "$out/m"); ib=$(num 'batches' "$out/m")
[ "${ops:-0}" -gt 0 ] && [ "${sh:-0}" -gt 0 ] && [ "${bo:-0}" -gt 0 ] && [ "${ip:-0}" -gt 0 ] && [ "${ib:-0}" -gt 0 ]
ok $? "I/O on every path (ops $ops: shared $sh, bounce $bo, inplace $ip, batches $ib)"
[ "$(num '-EBUSY' "$out/s")" -gt 0 ]
ok $? "unshares of buffers the device holds refused with -EBUSY: $(grep '^refusals' "$out/s")"

"$BIN" stress --seconds 2 --inject eio:0.02,enospc:0.02,short:0.02,submit:0.02 >"$out/f" 2>&1; rc=$?
inj=$(num 'injected' "$out/f"); seen=$(num 'IOERR seen by the workload' "$out/f")
[ $rc = 0 ] && [ "${inj:-0}" -gt 0 ] && [ "$inj" = "$seen" ]
ok $? "--inject: exit $rc, $inj injected = $seen IOERR seen by the workload"
[ $rc != 0 ] && sed 's/^/# /' "$out/f"

"$BIN" stress --seconds 1 --mode shared --inject corrupt:#5 >"$out/c" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^result    FAIL' "$out/c" && grep -q 'verify: sector [0-9]*' "$out/c"
ok $? "silent corruption is caught: exit $rc, $(grep -o 'first: .*' "$out/c" | head -c 160)"

"$BIN" stress --seconds 1 --mode inplace-scatter --threads 1 --qd 4 >"$out/x" 2>&1; rc=$?
ok $rc "another workload mode (inplace-scatter) is stressed too: $(grep '^result' "$out/x")"

"$BIN" stress --seconds 1 --backend ram --threads 1 --qd 4 >"$out/r" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(num 'verified' "$out/r")" -gt 0 ] && [ "$(num 'mismatches' "$out/r")" = 0 ] &&
	[ "$(num 'gmem violations' "$out/r")" = 0 ] && ! grep -q 'data not checked' "$out/r"
ok $? "the ram backend is stressed with data checked: exit $rc, $(grep '^result' "$out/r")"
[ $rc != 0 ] && sed 's/^/# /' "$out/r"

"$BIN" stress --seconds 2 --conv-model eager >"$out/g" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'eager model' "$out/g" && [ "$(num 'mismatches' "$out/g")" = 0 ] &&
	[ "$(num 'gmem violations' "$out/g")" = 0 ] && [ "$(num 'pins left' "$out/g")" = 0 ]
ok $? "--conv-model eager (one mapping, userfaultfd) under the mixed workload and churn: $(grep '^result' "$out/g")"
[ $rc != 0 ] && sed 's/^/# /' "$out/g"

refused "gmemkit stress: --conv-model huge: not one of lazy, eager" --conv-model huge

refused "gmemkit stress: --seconds 0: out of range (1..86400)" --seconds 0
refused "gmemkit stress: --mode fast: not shared, bounce, inplace, inplace-batch" --mode fast
refused "gmemkit stress: --pool-size 12x: not a size (e.g. 4096, 4k, 2M, 1G; range 256k..1G)" --pool-size 12x
refused "gmemkit stress: --pool-size 2T: out of range (256k..1G)" --pool-size 2T
refused "gmemkit stress: --pool-size 768k: with --bs 1M and 2 threads, a multiple of 512k of at least 3M" \
	--pool-size 768k --bs 1M
refused "gmemkit stress: --bs 6k: not a power of 2" --bs 6k
refused "gmemkit stress: --backend tape: not one of file, file-sync, ram, null" --backend tape
refused "gmemkit stress: --disk-size 1M: too small for 2 threads" --disk-size 1M --bs 1M
refused "gmemkit stress: --inject eio:2: not KIND:RATE or KIND:#N items" --inject eio:2
refused "gmemkit stress: --seed 0x10: not a non-negative base-10 integer" --seconds 1 --seed 0x10
refused "gmemkit stress: --seconds needs a value" --seconds
exit $fail
