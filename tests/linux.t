#!/usr/bin/env bash
# TAP test of `gmemkit run --kernel`: a stock Linux kernel (Debian's 6.12,
# the one tools/testvm boots) with Linux's own virtio_mmio and virtio_blk
# drivers against gmemkit's device, the initramfs of tools/linux-initramfs
# (tools/linux-check-init): write a known pattern, drop caches, read it back
# O_DIRECT, compare, report swiotlb's high-water mark, power off.
#
#   - bad input (not a bzImage, command line too long, an initrd that does
#     not fit, a bad disk) is refused with exit 2 and a message naming it,
#     before anything starts;
#   - one boot per configuration: ram and file backends, each with and
#     without swiotlb=force: the device is probed, the check passes (data
#     compared on ram and file), the device counted the
#     requests and no violation, swiotlb=force made swiotlb bounce (high
#     water > 0);
#   - a failing check resets the guest: exit 1, the reset named.
#
# Where: natively where KVM runs a stock kernel; on a PVM-variant KVM
# (profile K: gmemkit's probe says a stock kernel cannot run there) or
# without KVM, inside the test VM with one vCPU (TESTVM_SMP=1; nested
# interrupt delivery hung L2 guests at 2 vCPUs); inside the test VM already
# (a 1-vCPU one), right there; in a test VM of more vCPUs (make check-vm's
# own boot) SKIP: make check-vm runs this from the host.  7-12 s per boot
# under TCG on profile K (35-60 s on slower hosts); a boot that hangs is
# tried once more, and so is a test VM that times out (run_boot(), below).
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
BIN=$O/gmemkit
TESTVM=${TESTVM:-0}

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
	return "$1"
}
diag_file() { sed 's/^/#   /' "$1"; }

W=$(mktemp -d "${TMPDIR:-/tmp}/linux-t.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

# ---- where to boot -------------------------------------------------------------
if [ -n "${SAN:-}" ]; then
	echo "1..0 # SKIP the Linux guest boots only in the plain make check (SAN=$SAN)"
	exit 0
fi
# The kernel and initramfs: prepared here on the host (network), found
# read-only in the host's cache from inside the test VM.
ki=${LINUX_T_KI:-}
[ -n "$ki" ] || ki=$(tools/linux-initramfs 2> "$W/e") || {
	echo "1..0 # SKIP cannot prepare the kernel and initramfs: $(tail -n 1 "$W/e")"
	exit 0
}
read -r K I <<< "$ki"
[ -f "$K" ] && [ -f "$I" ] || { echo "1..0 # SKIP kernel or initramfs missing: $ki"; exit 0; }

where=native
if [ "$TESTVM" != 1 ]; then
	if ! tools/kvm-tests --native-usable > /dev/null 2>&1; then
		echo "# natively: no usable /dev/kvm"
		where=vm
	else
		# gmemkit's own probe decides, never a guess: on a PVM-variant
		# KVM it refuses a stock kernel before booting it (exit 2).
		"$BIN" run --kernel "$K" --timeout 1 > /dev/null 2> "$W/e"
		if [ $? = 2 ] && grep -q 'PVM variant' "$W/e"; then
			echo "# natively: SKIP: $(sed 's/^gmemkit run: //' "$W/e" | head -n 1)"
			where=vm
		fi
	fi
fi
if [ "$where" = vm ]; then
	if ! command -v qemu-system-x86_64 > /dev/null; then
		echo "1..0 # SKIP no native KVM for a stock kernel and no qemu-system-x86_64 for the test VM"
		exit 0
	fi
	echo "# running in the test VM (QEMU TCG, 1 vCPU; functional only)"
	# A boot in the test VM hung once in CI (no output for 8 minutes, its
	# watchdog never reported: gmemkit or the emulated kernel under it
	# stuck): a test VM that times out is started once more, its first
	# output shown as comments.  Its time: 5 boots of 7-12 s here
	# (35-60 s on slower hosts), each allowed two tries of BOOT_LIMIT.
	for try in 1 2; do
		TESTVM_SMP=1 tools/testvm --timeout 900 env LINUX_T_KI="$ki" \
			LINUX_T_WATCHDOG_MS="${LINUX_T_WATCHDOG_MS:-150000}" \
			tests/linux.t > "$W/vm.out" 2> "$W/vm.err"
		rc=$?
		[ $rc = 124 ] && [ $try = 1 ] || break
		echo "# the test VM timed out (attempt 1); its output, then attempt 2:"
		sed 's/^/#   /' "$W/vm.out" "$W/vm.err"
	done
	cat "$W/vm.out"
	cat "$W/vm.err" >&2
	exit $rc
fi

# Inside a test VM of more than one vCPU (make check-vm's own boot): L2
# kernels hang there during boot (2 of 2 boots, gmemkit's vCPU thread
# pinned or not; 13 of 14 under QEMU microvm), and with the other vCPUs
# taken offline they panicked in 3 boots of 8 ("Fatal exception in
# interrupt", never seen in a 1-vCPU test VM).  make check-vm runs this
# test again from the host, which boots a 1-vCPU test VM for it.
if [ "$TESTVM" = 1 ] && [ "$(cat /sys/devices/system/cpu/online)" != 0 ]; then
	echo "1..0 # SKIP in a test VM with vCPUs $(cat /sys/devices/system/cpu/online): L2 kernels hang or panic beside another vCPU (make check-vm runs tests/linux.t from the host in a 1-vCPU test VM)"
	exit 0
fi

echo "1..21"

# ---- bad input: exit 2, the value named, nothing started -----------------------
refused() { # refused WANT-IN-MESSAGE NAME ARGS...
	local want=$1 name=$2; shift 2
	"$BIN" run "$@" > "$W/o" 2> "$W/e"
	local rc=$?
	[ $rc = 2 ] && grep -qF -- "$want" "$W/e" && ! grep -q 'linux guest:' "$W/e"
	ok $? "$name: exit $rc, named, nothing started: $(head -c 160 "$W/e")"
}
refused "kernel $BIN: not a bzImage" "not a bzImage" --kernel "$BIN"
long=$(head -c 3000 /dev/zero | tr '\0' x)
refused "command line of 3000 bytes is too long: this kernel takes at most" \
	"command line too long" --kernel "$K" --append "$long"
head -c $((70 << 20)) /dev/zero > "$W/big.img"
refused "initrd $W/big.img" "initrd that does not fit" --kernel "$K" --initrd "$W/big.img" --mem 64M
refused "disk nowhere:x: not null" "bad disk spec" --kernel "$K" --disk nowhere:x

# ---- one boot per configuration ---------------------------------------------------
APPEND="console=ttyS0 quiet panic=-1 pci=off 8250.nr_uarts=1 reboot=a lcheck.mib=4"
truncate -s 64M "$W/disk" || exit 1
# One boot's limits: gmemkit's own watchdog (ms), and the kill beside it
# in case gmemkit itself does not come back from a hung guest (s).
# (LINUX_T_WATCHDOG_MS: a shorter watchdog, to see the retry at work.)
BOOT_WATCHDOG_MS=${LINUX_T_WATCHDOG_MS:-150000}
BOOT_LIMIT=$((BOOT_WATCHDOG_MS / 1000 + 30))
# hung NAME: did boot NAME hang (killed, or gmemkit's watchdog fired)?
hung() {
	[ "$2" = 124 ] || [ "$2" = 137 ] ||
		grep -q 'did not power off or reset within' "$W/$1.err"
}
# run_boot NAME DISK EXTRA-APPEND...: one boot; its exit status.  A boot
# that hangs (an L2 guest under emulated KVM, now and then: see the header)
# is tried once more, said so; a second hang is the result.
run_boot() {
	local name=$1 disk=$2 try rc; shift 2
	for try in 1 2; do
		timeout -k 10 $BOOT_LIMIT "$BIN" run --kernel "$K" --initrd "$I" \
			--disk "$disk" --timeout $BOOT_WATCHDOG_MS \
			--append "$APPEND $*" > "$W/$name.out" 2> "$W/$name.err"
		rc=$?
		hung "$name" $rc && [ $try = 1 ] || return $rc
		echo "# $name: hung (exit $rc: $(grep -o 'linux guest: .*' "$W/$name.err" | tail -n 1 | cut -c1-120)); its console's end, then once more:"
		tail -n 5 "$W/$name.out" > "$W/tail"
		diag_file "$W/tail"
	done
}
# boot NAME DISK EXTRA-APPEND...
boot() {
	local name=$1 disk=$2 start=$SECONDS rc
	run_boot "$@"
	rc=$?
	echo "# $name: exit $rc in $((SECONDS - start)) s"
	grep -q '^linux-check: status 0 pass' "$W/$name.out" && [ $rc = 0 ] &&
		grep -q 'linux guest: power-off' "$W/$name.err"
	ok $? "$name: the stock kernel probed the device, the check passed, power-off (exit $rc)" || {
		tail -n 25 "$W/$name.out" > "$W/tail"
		diag_file "$W/tail"
		diag_file "$W/$name.err"
	}
	# the device's own count: requests in both directions, no refusal
	local dev
	dev=$(grep 'gmemkit run: disk ' "$W/$name.err")
	[[ $dev =~ reads\ ([1-9][0-9]*),\ writes\ ([1-9][0-9]*) ]] &&
		[[ $dev =~ ioerr\ 0, ]] && [[ $dev =~ violations\ 0, ]] &&
		[[ $dev =~ broken\ 0, ]] && [[ $dev =~ interrupts\ [1-9] ]]
	ok $? "$name: device counted reads and writes, interrupts, 0 errors, 0 violations: ${dev#gmemkit run: }"
}
swiotlb_hiwater() { sed -n 's/^linux-check: swiotlb hiwater \([0-9]*\) of.*/\1/p' "$W/$1.out"; }

boot ram ram:64M
grep -q '^linux-check: virtio features .\{33\}1' "$W/ram.out" &&
	grep -q '^linux-check: data check ok' "$W/ram.out"
ok $? "ram: VIRTIO_F_ACCESS_PLATFORM negotiated (Linux uses the DMA API), the O_DIRECT read-back equals the pattern"
h=$(swiotlb_hiwater ram)
[ -z "$h" ] || [ "$h" = 0 ]
ok $? "ram: without swiotlb=force nothing bounces (high water '${h:-no pool}')"

boot ram-swiotlb ram:64M swiotlb=force
h=$(swiotlb_hiwater ram-swiotlb)
[ -n "$h" ] && [ "$h" -gt 0 ] && grep -q '^linux-check: data check ok' "$W/ram-swiotlb.out"
ok $? "ram, swiotlb=force: swiotlb bounced (high water ${h:-none} slabs), the read-back is right"

boot file "file:$W/disk"
grep -q '^linux-check: data check ok' "$W/file.out"
ok $? "file: the O_DIRECT read-back equals the pattern written"
printf '%016x gmemkit linux-check: a known pattern. %08x\n' 0 0 > "$W/line0"
head -c 64 "$W/disk" | cmp -s - "$W/line0"
ok $? "file: the pattern is on the disk image as the guest wrote it"

boot file-swiotlb "file:$W/disk" swiotlb=force
grep -q '^linux-check: data check ok' "$W/file-swiotlb.out"
ok $? "file, swiotlb=force: the read-back through swiotlb equals the pattern"
h=$(swiotlb_hiwater file-swiotlb)
[ -n "$h" ] && [ "$h" -gt 0 ]
ok $? "file, swiotlb=force: swiotlb bounced (high water ${h:-none} slabs)"
grep -q 'all shared: a stock kernel never converts' "$W/file-swiotlb.err"
ok $? "the report says all guest RAM is shared"

# A failing check resets the guest (reboot -f): exit 1, said so.
start=$SECONDS
run_boot reboot null:64M lcheck.mib=x
rc=$?
echo "# reboot: exit $rc in $((SECONDS - start)) s"
[ $rc = 1 ] && grep -q "^linux-check: status 2 FAIL: bad lcheck.mib 'x'" "$W/reboot.out" &&
	grep -q 'linux guest: reboot: the guest reset itself' "$W/reboot.err"
ok $? "a failing guest check: reboot, exit $rc, named: $(grep 'linux guest: ' "$W/reboot.err" | tail -n 1 | cut -c1-100)" || {
	tail -n 25 "$W/reboot.out" > "$W/tail"
	diag_file "$W/tail"
	diag_file "$W/reboot.err"
}

[ $n = 21 ] || echo "# planned 21, ran $n"
exit $((failed > 0))
