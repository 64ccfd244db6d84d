#!/usr/bin/env bash
# gmemkit run: bad input named and refused with exit 2; with /dev/kvm the
# guest's verdict is the exit status (0 passed, 1 failed or faulted) and its
# console comes out; without /dev/kvm a clear exit 2.
set -u
CMD=run
. "$(dirname "$0")/cli.sh"

echo "1..20"
refused "gmemkit run: --vcpus 0: out of range (1..64)" --vcpus 0
refused "gmemkit run: --mem 33M: not a multiple of 2M" --mem 33M
refused "gmemkit run: --mem 4G: out of range (32M..3G)" --mem 4G
refused "gmemkit run: --mem 0x4000000: not a size (e.g. 4096, 4k, 2M, 1G; range 32M..3G)" --mem 0x4000000
refused "gmemkit run: --test foo: not one of hello, convert," --test foo
refused "gmemkit run: --transport fast: not auto, hypercall, doorbell or queue" --transport fast
refused "gmemkit run: --mode sideways: not one of inplace, destructive" --mode sideways
refused "gmemkit run: unknown option '--bogus'" --bogus 1
refused "gmemkit run: --timeout needs a value" --timeout
refused "gmemkit run: --reps 12abc: not a non-negative base-10 integer" --reps 12abc
refused "gmemkit run: --timeout 99999999999999999999: out of range (1..3600000)" \
	--timeout 99999999999999999999
refused "gmemkit run: --platform sev: not ideal, pkvm, tdx, snp or cca" --platform sev
refused "gmemkit run: --mode inplace contradicts --platform tdx, which destroys contents" \
	--platform tdx --mode inplace
"$BIN" run --help >"$out/o"; rc=$?
# (--test's names, from its option table: a comma list, wrapped)
[ $rc = 0 ] && tr -s ' \n' ' ' <"$out/o" | grep -q 'one of hello, convert, badreq, smp,'
ok $? "--help lists the guest tests"

# The branch is chosen by whether KVM is usable, never by whether the guest
# works: a guest that fails where KVM works is a failure here.
if tools/kvm-tests --native-usable >/dev/null 2>&1; then
	"$BIN" run --test hello >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 0 ] && grep -q 'guest ran \(native\|emulated\)' "$out/e"
	ok $? "hello passes (exit $rc) and says where the guest ran: $(grep 'guest ran' "$out/e" | head -c 120)"
	"$BIN" run --test convert --transport doorbell >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 0 ] && grep -q '^convert (in place, doorbell, platform ideal)' "$out/o"
	ok $? "convert passes (exit $rc) and its console line arrives"
	# The VMM's count of the conversions it did (the stats line): pkvm
	# makes one call per 4 KiB page where ideal makes one per range; the
	# convert test's ranges are 1, 16 and 100 pages, shared and unshared:
	# 2 x (0 + 15 + 99) = 228 more.
	conv() { sed -n 's/.*, conversions \([0-9]*\),.*/\1/p' "$1"; }
	ideal=$(conv "$out/e")
	"$BIN" run --test convert --transport doorbell --platform pkvm >"$out/o" 2>"$out/e"; rc=$?
	pkvm=$(conv "$out/e")
	[ $rc = 0 ] && grep -q '^convert (in place, doorbell, platform pkvm)' "$out/o" &&
		[ -n "$ideal" ] && [ -n "$pkvm" ] && [ "$pkvm" = $((ideal + 228)) ]
	ok $? "convert --platform pkvm passes (exit $rc), one call per page: $pkvm conversions, ideal $ideal + 228"
	"$BIN" run --test convert --platform tdx >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 0 ] && grep -q '^convert (destructive, [a-z]*, platform tdx)' "$out/o" &&
		grep -q 'platform tdx (destructive)' "$out/e"
	ok $? "convert --platform tdx passes (exit $rc), destructive: $(grep '^convert' "$out/o")"
	"$BIN" run --test fault >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 1 ] && grep -q '#UD' "$out/e"; ok $? "a guest #UD: exit 1, named (exit $rc)"
	"$BIN" run --test smp --vcpus 1 >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 1 ] && grep -q 'smp needs 2' "$out/e"; ok $? "a failing guest test: exit 1 (exit $rc)"
else
	"$BIN" run >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 2 ] && grep -q 'no usable /dev/kvm' "$out/e"; ok $? "no KVM: exit 2, said so"
	for i in 1 2 3 4 5; do echo "ok $((n+i)) # SKIP no usable /dev/kvm"; done
fi
exit $fail
