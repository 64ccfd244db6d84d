#!/usr/bin/env bash
# gmemkit run: bad input named and refused with exit 2; with /dev/kvm the
# guest's verdict is the exit status (0 passed, 1 failed or faulted) and its
# console comes out; without /dev/kvm a clear exit 2.
set -u
BIN=${O:-build}/gmemkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
refused() {	# refused WANT-IN-MESSAGE ARGS...
	local want=$1; shift
	"$BIN" run "$@" >"$out/o" 2>"$out/e"; local rc=$?
	[ $rc = 2 ] && grep -qF -- "$want" "$out/e"
	ok $? "run $* refused (exit $rc): $(head -c 120 "$out/e")"
}

echo "1..11"
refused "0 is out of range" --vcpus 0
refused "'33M'" --mem 33M
refused "'foo'" --test foo
refused "'fast'" --transport fast
refused "'sideways'" --mode sideways
refused "--bogus" --bogus 1
"$BIN" run --help >"$out/o"; rc=$?
[ $rc = 0 ] && grep -q 'convert badreq smp' "$out/o"; ok $? "--help lists the guest tests"

# The branch is chosen by whether KVM is usable, never by whether the guest
# works: a guest that fails where KVM works is a failure here.
if tools/kvm-tests --native-usable >/dev/null 2>&1; then
	"$BIN" run --test hello >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 0 ] && grep -q 'guest ran \(native\|emulated\)' "$out/e"
	ok $? "hello passes (exit $rc) and says where the guest ran: $(grep 'guest ran' "$out/e" | head -c 120)"
	"$BIN" run --test convert --transport doorbell >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 0 ] && grep -q '^convert (in place, doorbell)' "$out/o"
	ok $? "convert passes (exit $rc) and its console line arrives"
	"$BIN" run --test fault >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 1 ] && grep -q '#UD' "$out/e"; ok $? "a guest #UD: exit 1, named (exit $rc)"
	"$BIN" run --test smp --vcpus 1 >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 1 ] && grep -q 'smp needs 2' "$out/e"; ok $? "a failing guest test: exit 1 (exit $rc)"
else
	"$BIN" run >"$out/o" 2>"$out/e"; rc=$?
	[ $rc = 2 ] && grep -q 'no usable /dev/kvm' "$out/e"; ok $? "no KVM: exit 2, said so"
	for i in 1 2 3; do echo "ok $((n+i)) # SKIP no usable /dev/kvm"; done
fi
exit $fail
