#!/usr/bin/env bash
# The layers stay apart: the product library (libgmemkit.a: guest memory,
# bounce pool, VMM, virtio device, backends) defines no symbol of the test
# support (libgmemkit-harness.a: stress harness, fault injector, self-test
# services, violation probe), installs no signal handler (safe_copy's
# recovery point is for the program's handler to use), and no product
# source includes a harness header; the bench's report (report/, report_)
# is the command's: neither library defines a report_ symbol or includes a
# report header, and its internal header stays inside report/; the build
# tree keeps its dependency files apart from the test programs (prove
# build/tests/t_* works).  The checks are first shown to fail on an archive
# that breaks the rule.
set -u
O=${O:-build}
LIB=$O/libgmemkit.a
HLIB=$O/libgmemkit-harness.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

defined() { nm -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u; }
# Harness symbols an archive defines (those of $HLIB, or named like them).
defined "$HLIB" >"$tmp/harness.syms"
[ -s "$tmp/harness.syms" ] || { echo "Bail out! no symbols in $HLIB"; exit 1; }
leaks() {
	{ defined "$1" | grep -Fx -f "$tmp/harness.syms"; \
	  defined "$1" | grep -E '^(stress_|blk_fault_|blk_jitter_|violation_|guest_host_|harness_)'; } | sort -u
}
# Objects that handle signals: only the vCPU kick signal (vcpu.o) may;
# safe_copy.o holds a recovery point (sigsetjmp/siglongjmp) that a
# program's handler may use, and installs nothing.
uses_signals() {
	nm -A -u "$1" 2>/dev/null | grep -Ew 'sigaction|signal|__sigsetjmp|siglongjmp' |
		grep -v '^[^:]*:vcpu\.o:.* sigaction$' |
		grep -Ev '^[^:]*:safe_copy\.o:.* (__sigsetjmp|siglongjmp)$'
}

# Report symbols an archive defines.
report_syms() { defined "$1" | grep '^report_'; }

echo "1..8"
# The checks catch a product archive with a harness and a report object in it.
cp "$LIB" "$tmp/bad.a"
ar q "$tmp/bad.a" $O/harness/violation.o $O/report/report.o 2>/dev/null
ok $([ -n "$(leaks "$tmp/bad.a")" ] && [ -n "$(uses_signals "$tmp/bad.a")" ] &&
     [ -n "$(report_syms "$tmp/bad.a")" ]; echo $?) \
	"the checks find harness symbols, signal handling and report symbols in a bad archive"
l=$(leaks "$LIB")
[ -z "$l" ] || echo "# product defines: $(echo $l | head -c 300)"
ok $([ -z "$l" ]; echo $?) "libgmemkit.a defines no test-support symbol"
s=$(uses_signals "$LIB")
[ -z "$s" ] || echo "# product uses: $s"
ok $([ -z "$s" ]; echo $?) "libgmemkit.a handles no signal but the vCPU kick (no SIGSEGV handler, no probe)"
ok $([ -n "$(defined "$HLIB" | grep -x stress_run)" ]; echo $?) \
	"the stress harness is in libgmemkit-harness.a"
inc=$(grep -l '"harness/' lib/*.c lib/*.h vmm/*.c vmm/*.h include/gmemkit/*.h guest/*.c guest/*.h 2>/dev/null)
ok $([ -z "$inc" ]; echo $?) "no product source includes a harness header${inc:+: $inc}"
r=$({ report_syms "$LIB"; report_syms "$HLIB"; } | head -5)
inc=$(grep -lE '#include +"(report/)?report(_internal)?\.h"' lib/*.[ch] vmm/*.[ch] include/gmemkit/*.h \
	guest/*.[ch] harness/*.[ch] 2>/dev/null)
[ -z "$r" ] || echo "# libraries define: $(echo $r)"
ok $([ -z "$r" ] && [ -z "$inc" ]; echo $?) \
	"neither library defines a report_ symbol or includes a report header${inc:+: $inc}"
inc=$(grep -lE '#include +"[^"]*report_internal\.h"' cli/*.[ch] lib/*.[ch] vmm/*.[ch] include/gmemkit/*.h \
	guest/*.[ch] harness/*.[ch] tests/*.[ch] fuzz/*.[ch] 2>/dev/null)
ok $([ -z "$inc" ] && [ -n "$(grep -lE '#include +"report/report\.h"' cli/*.c)" ]; echo $?) \
	"report_internal.h stays inside report/; the commands include report/report.h${inc:+: $inc}"
d=$(find $O/tests -name '*.d' 2>/dev/null)
ok $([ -z "$d" ] && [ -n "$(find $O/deps -name '*.d' | head -1)" ]; echo $?) \
	"dependency files under $O/deps/, none beside the test programs"
exit $fail
