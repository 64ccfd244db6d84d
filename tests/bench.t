#!/usr/bin/env bash
# gmemkit bench end to end (quick sweep): the files it promises, valid JSON
# that --compare reads back, a verdict paragraph, and bad input rejected.
set -u
BIN=${O:-build}/gmemkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

echo "1..14"
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
"$BIN" bench --reps 0 2>"$out/err"; rc=$?
[ $rc = 2 ] && grep -q "'0'\|0 is out of range" "$out/err"; ok $? "bad --reps: exit 2, message names the value"
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
