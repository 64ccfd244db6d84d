#!/usr/bin/env bash
# TAP test of the test VM harness (tools/testvm), run by prove from
# `make check`.  Each "boot" below starts one VM (~8-15 s under TCG here).
#
#   - bad usage is refused before anything boots;
#   - a failing command fails the call with its own status; stdout (binary,
#     no final newline) and stderr come back intact and apart;
#   - the command runs in the caller's directory of the checkout, with the
#     caller's environment, and what it writes there comes back;
#   - /dev/kvm works inside: KVM_GET_API_VERSION == 12, KVM_CREATE_VM and
#     KVM_CREATE_VCPU succeed, KVM_CAP_EXIT_HYPERCALL is offered, and
#     300 VM create/destroy cycles beside a busy vCPU do not crash it;
#   - a hung command is killed at --timeout with a message (status 124);
#   - a guest kernel panic ends the call with a message (status 125).
set -u
cd "$(dirname "$0")/.." || exit 1
TESTVM=${TESTVM:-0}
O=${O:-build}

n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
is() { # is GOT WANT NAME
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', want '$2'"
}
diag_file() { sed 's/^/#   /' "$1"; }

if [ "$TESTVM" = 1 ]; then
	echo "1..0 # SKIP already inside the test VM (no nested QEMU under TCG)"
	exit 0
fi
if [ -n "${SAN:-}" ]; then
	# Nothing here is compiled: the sanitizer runs would only boot it again.
	echo "1..0 # SKIP harness test does not depend on SAN; plain make check runs it"
	exit 0
fi
if ! command -v qemu-system-x86_64 > /dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - qemu-system-x86_64 missing (CI=true: .ci/run installs qemu-system-x86)"
		exit 1
	fi
	echo "1..0 # SKIP qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	exit 0
fi

echo "1..26"
mkdir -p "$O" || exit 1
W=$(mktemp -d "$O/testvm-t.XXXXXX") || exit 1
W=$(cd "$W" && pwd -P)
TV=$(pwd -P)/tools/testvm
trap 'rm -rf "$W"' EXIT

# ---- usage, no boot ----------------------------------------------------------
tools/testvm > "$W/o" 2> "$W/e"
is $? 2 "no command: usage error, status 2"
tools/testvm --timeout 5x true > "$W/o" 2> "$W/e"
is $? 2 "bad --timeout: status 2"
grep -q "bad --timeout '5x'" "$W/e"
ok $? "bad --timeout: message names the value"

start=$SECONDS
TESTVM=1 tools/testvm sh -c 'echo here; exit 3' > "$W/o" 2> "$W/e"
is "$?/$(cat "$W/o")/$((SECONDS - start < 3))" "3/here/1" \
	"TESTVM=1 (inside the VM already): runs the command directly, status kept"

# assets prepared once; a second prepare reuses them
tools/testvm --prepare 2> "$W/e"
ok $? "assets prepared" || diag_file "$W/e"
start=$SECONDS
tools/testvm --prepare 2> "$W/e"
ok $? "second prepare succeeds"
[ $((SECONDS - start)) -lt 5 ] && ! grep -q fetching "$W/e"
ok $? "second prepare reuses the cache (no fetch, <5 s)"

# ---- boot 1: failing command, output intact -------------------------------------
printf 'line one\n\001\002\000\377binary\n\tlast-no-newline' > "$W/want.out"
printf 'to stderr 1\nto stderr 2\n' > "$W/want.err"
# shellcheck disable=SC2016
tools/testvm --timeout 300 bash -c 'cat "$1"; cat "$2" >&2; exit 7' _ \
	"$W/want.out" "$W/want.err" > "$W/o" 2> "$W/e"
is $? 7 "failing command: its status (7) comes back"
cmp -s "$W/want.out" "$W/o"
ok $? "stdout comes back byte for byte (binary, no final newline)"
grep -vq '^testvm: ' "$W/e" && [ "$(grep -v '^testvm: ' "$W/e")" = "$(cat "$W/want.err")" ]
ok $? "stderr comes back intact, apart from stdout" || diag_file "$W/e"

# ---- boot 2: directory, environment, writes, KVM -------------------------------
mkdir -p "$W/sub"
cat > "$W/sub/inside.sh" <<'EOF'
echo "pwd=$(pwd -P)"
echo "var=$TESTVM_T_VAR"
echo "testvm=$TESTVM"
echo "kernel=$(uname -r)"
echo written-inside > out.txt
[ -c /dev/kvm ] && echo "kvm=char"
perl -MFcntl -e '
	sysopen(my $k, "/dev/kvm", O_RDWR) or die "open /dev/kvm: $!\n";
	my $v = ioctl($k, 0xAE00, 0);                 # KVM_GET_API_VERSION
	print "api=", ($v // "error $!"), "\n";
	my $vm = ioctl($k, 0xAE01, 0);                # KVM_CREATE_VM
	print "vm=", (defined $vm ? "ok" : "error $!"), "\n";
	open(my $vmh, "+<&=", $vm) or die "fdopen vm: $!\n";
	my $vcpu = ioctl($vmh, 0xAE41, 0);            # KVM_CREATE_VCPU 0
	print "vcpu=", (defined $vcpu ? "ok" : "error $!"), "\n";
	my $hc = ioctl($k, 0xAE03, 201);              # KVM_CHECK_EXTENSION(EXIT_HYPERCALL)
	print "hypercall=", ($hc // 0) + 0, "\n";'
# 300 VMs created and destroyed while the other vCPU goes through the
# scheduler all the time (0.2 ms sleeps): with multi-threaded TCG and no KVM
# keeper this crashed the guest kernel 4 times in 4 (Oops: int3 in
# __schedule, KVM's static keys patched live under a stale translation).
perl -e 'select(undef, undef, undef, 0.0002) while 1' &
spin=$!
perl -MPOSIX -e '
	for my $i (1..300) {
		sysopen(my $k, "/dev/kvm", 2) or die "open /dev/kvm: $!\n";
		my $vm = ioctl($k, 0xAE01, 0);
		defined $vm or die "KVM_CREATE_VM: $!\n";
		open(my $v, "+<&=", $vm) or die "fdopen: $!\n";
		my $c = ioctl($v, 0xAE41, 0);
		defined $c or die "KVM_CREATE_VCPU: $!\n";
		POSIX::close($c);
		close($v);
		close($k);
	}
	print "churn=ok\n";'
kill $spin
exit 0
EOF
( cd "$W/sub" && TESTVM_T_VAR='two  words "quoted" $x' \
	"$TV" --timeout 300 bash inside.sh ) > "$W/o" 2> "$W/e"
is $? 0 "successful command: status 0" || diag_file "$W/e"
is "$(sed -n 's/^pwd=//p' "$W/o")" "$W/sub" "runs in the caller's directory of the checkout"
is "$(sed -n 's/^var=//p' "$W/o")" 'two  words "quoted" $x' "caller's environment passed intact"
is "$(sed -n 's/^testvm=//p' "$W/o")" 1 "TESTVM=1 inside"
grep -q '^kernel=6\.12\.' "$W/o"
ok $? "guest runs the 6.12 kernel"
is "$(cat "$W/sub/out.txt" 2>/dev/null)" written-inside "a file written inside comes back to the host"
grep -q '^kvm=char$' "$W/o"
ok $? "/dev/kvm is a character device inside"
is "$(sed -n 's/^api=//p' "$W/o")" 12 "KVM_GET_API_VERSION == 12 inside"
is "$(sed -n 's/^vm=//p' "$W/o")/$(sed -n 's/^vcpu=//p' "$W/o")" ok/ok \
	"KVM_CREATE_VM and KVM_CREATE_VCPU succeed inside"
h=$(sed -n 's/^hypercall=//p' "$W/o")
[ -n "$h" ] && [ $(((h >> 12) & 1)) = 1 ] 2>/dev/null  # bit KVM_HC_MAP_GPA_RANGE
ok $? "KVM_CAP_EXIT_HYPERCALL offers KVM_HC_MAP_GPA_RANGE inside (got '$h')"

is "$(sed -n 's/^churn=//p' "$W/o")" ok \
	"300 VMs created and destroyed beside a scheduling vCPU: the guest kernel survives"

# ---- boot 3: hung command is killed at the timeout -------------------------------
start=$SECONDS
tools/testvm --timeout 25 sleep 3600 > "$W/o" 2> "$W/e"
is $? 124 "hung command: status 124 at the timeout"
el=$((SECONDS - start))
[ $el -ge 25 ] && [ $el -lt 60 ]
ok $? "hung command: killed after 25 s, not later (took $el s)"
grep -q 'TIMEOUT: the guest did not finish within 25 s' "$W/e"
ok $? "hung command: clear timeout message" || diag_file "$W/e"

# ---- boot 4: guest kernel panic --------------------------------------------------
tools/testvm --timeout 300 sh -c 'echo c > /proc/sysrq-trigger; sleep 3600' \
	> "$W/o" 2> "$W/e"
is $? 125 "guest kernel panic: status 125, no hang"
grep -q 'the guest kernel panicked' "$W/e"
ok $? "guest kernel panic: clear message" || diag_file "$W/e"

[ $n = 26 ] || echo "# ran $n tests, planned 26"
exit $((failed > 0))
