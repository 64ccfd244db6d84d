#!/usr/bin/env bash
# The guest image uses no SSE, x87, MMX or AVX instruction anywhere (built
# like the kernel: -mgeneral-regs-only): any x86 CPU, emulator or hypervisor
# can run it.  A PVM-variant host's instruction emulator, for one, ends the
# run on the first SSE instruction.  The scanner is first shown to catch
# such instructions in a file that has them.
set -u
O=${O:-build}
ELF=$O/guest/guest.elf
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

# Lines of objdump -d output that use a vector/x87 register or mnemonic.
scan() {
	objdump -d --no-show-raw-insn "$1" |
	awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
		insn = $2
		split(insn, w, " ")
		m = w[1]
		if (m ~ /^(rep|repz|repnz|lock|data16|addr32|notrack|bnd)$/) m = w[2]
		if (insn ~ /%(x|y|z)mm[0-9]/ || insn ~ /%mm[0-7]/ || insn ~ /%st(\(|\b|$)/ ||
		    insn ~ /%k[0-7]/ || m ~ /^f/ || (m ~ /^v/ && m !~ /^(vm|ver)/) ||
		    m ~ /^(emms|femms|ldmxcsr|stmxcsr|movnti|movntq|maskmovq|pause_never)$/)
			print $1 "\t" insn
	}'
}

echo "1..3"
cat > "$out/bad.S" <<'ASM'
	.text
	.globl f
f:	movaps %xmm0, %xmm1
	fld1
	vzeroupper
	ldmxcsr (%rax)
	ret
ASM
cc -c -o "$out/bad.o" "$out/bad.S"
bad=$(scan "$out/bad.o" | wc -l)
[ "$bad" = 4 ]; ok $? "the scanner finds the 4 SSE/x87/AVX instructions of a file that has them (found $bad)"

[ -f "$ELF" ]; ok $? "guest image $ELF built"
scan "$ELF" > "$out/found"
found=$(wc -l < "$out/found")
[ -f "$ELF" ] && [ "$found" = 0 ]
ok $? "no SSE, x87, MMX or AVX instruction in the guest image ($found found$( [ "$found" != 0 ] && printf ': %s' "$(head -3 "$out/found" | tr '\n\t' '; ')"))"
exit $fail
