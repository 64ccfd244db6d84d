#!/usr/bin/env bash
# gmemkit bench end to end (quick sweep): the files it promises, valid JSON
# that --compare reads back, a verdict paragraph, and bad input rejected.
set -u
CMD=bench
. "$(dirname "$0")/cli.sh"

echo "1..37"
"$BIN" bench --quick --out "$out/r" >"$out/stdout" 2>"$out/stderr"
ok $? "bench --quick exits 0"
for f in results.json results.csv report.md cost_vs_size.dat; do
	test -s "$out/r/$f"; ok $? "writes $f"
done
"$BIN" bench --compare "$out/r/results.json" "$out/r/results.json" >"$out/cmp"
ok $? "--compare reads results.json back"
grep -q '^convert .* 1.00x$' "$out/cmp"; ok $? "--compare of a file with itself gives 1.00x"
grep -q '^VERDICT' "$out/stdout" && grep -q '^## Verdict' "$out/r/report.md"
ok $? "verdict on the terminal and in report.md"
refused "gmemkit bench: --reps 0: out of range (1..100)" --reps 0
refused "gmemkit bench: --reps needs a value" --quick --reps
refused "gmemkit bench: --pool-size 1T: out of range (2M..1G)" --pool-size 1T
refused "gmemkit bench: --pool-size 3M: not a multiple of 2M" --pool-size 3M
refused "gmemkit bench: --qd 1,99: '99' is out of range (1..64)" --qd 1,99
refused "gmemkit bench: --modes shared,fast: 'fast' is not one of shared, bounce," --modes shared,fast
refused "gmemkit bench: --bs 4k,3k: '3k' is not one of 4k, 16k, 64k, 256k, 1M" --bs 4k,3k
refused "gmemkit bench: --io-runtime 1e3: not a number of seconds" --io-runtime 1e3
refused "gmemkit bench: --compare needs two values" --compare a.json
refused "gmemkit bench: unknown option '--bogus'" --bogus
# Every command: an unknown option is one line with that command's prefix;
# before a command is known the prefix is "gmemkit: ".
for c in probe bench bounce-bench convert-bench io-bench run stress; do
	"$BIN" $c --bogus >"$out/o" 2>"$out/err"; rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$out/err")" = 1 ] &&
		grep -q "^gmemkit $c: unknown option '--bogus'" "$out/err"
	ok $? "$c --bogus: exit $rc, one line: $(head -c 100 "$out/err")"
done
# An option given last without its value: "needs a value", one line.
for cv in bench:--reps bounce-bench:--pool-size convert-bench:--pages io-bench:--qd \
	  run:--mem stress:--max-io; do
	c=${cv%%:*} v=${cv#*:}
	"$BIN" $c $v >"$out/o" 2>"$out/err"; rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$out/err")" = 1 ] &&
		grep -q -- "^gmemkit $c: $v needs a value\$" "$out/err"
	ok $? "$c $v (no value): exit $rc, one line: $(head -c 100 "$out/err")"
done
"$BIN" nosuch >"$out/o" 2>"$out/err"; rc=$?
[ $rc = 2 ] && grep -q "^gmemkit: unknown command 'nosuch'" "$out/err"
ok $? "unknown command: exit 2, prefix 'gmemkit: ' (no command yet)"
"$BIN" bench --compare "$out/r/report.md" "$out/r/results.json" 2>"$out/err"; rc=$?
[ $rc = 2 ] && grep -q 'report.md' "$out/err"; ok $? "--compare of a non-JSON file: exit 2, names it"

# A guest point that fails is named once, with its reason, in the terminal
# and under "Skipped or failed"; where KVM works and no guest point
# succeeded, bench exits non-zero saying why.
real=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
printf '#!/usr/bin/env bash\nif [ "$1" = io-bench ]; then echo "gmemkit io-bench: simulated failure 42" >&2; exit 1; fi\nexec "%s" "$@"\n' \
	"$real" > "$out/fake"
chmod +x "$out/fake"
GMEMKIT_BENCH_EXEC="$out/fake" "$BIN" bench --quick --modes shared,bounce --bs 4k --qd 1 \
	--vcpus 1 --out "$out/f" >"$out/fstdout" 2>"$out/fstderr"; rc=$?
grep -q '^## Skipped or failed' "$out/f/report.md"; ok $? "report.md has a 'Skipped or failed' section"
if tools/kvm-tests --native-usable >/dev/null 2>&1 && grep -q '"guest_native":true' "$out/f/results.json"; then
	[ $rc = 1 ] && grep -q 'none of the 2 guest I/O points succeeded' "$out/fstderr"
	ok $? "KVM usable, every guest point failed: exit 1 and why (exit $rc)"
	c=$(grep -c 'simulated failure 42' "$out/fstderr")
	[ "$c" = 2 ]; ok $? "each failed point named once in the terminal ($c lines for 2 points)"
	grep -q 'io-bench bounce bs=4k qd=1 vcpus=1 backend=null: exited with 1: gmemkit io-bench: simulated failure 42' \
		"$out/f/report.md"; ok $? "the report names the point and its reason"
else
	[ $rc = 0 ] && grep -q 'io-bench: .*not usable\|does not run natively' "$out/f/report.md"
	ok $? "no native guest here: exit 0, the report says why the guest sweep was skipped"
	echo "ok $((n+1)) # SKIP no native KVM guest here: no guest point to fail"
	echo "ok $((n+2)) # SKIP no native KVM guest here: no guest point to fail"
	n=$((n+2))
fi
exit $fail
