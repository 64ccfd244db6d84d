#!/usr/bin/env bash
# gmemkit bench end to end (quick sweep): the files it promises, valid JSON
# that --compare reads back, a verdict paragraph, and bad input rejected.
set -u
BIN=${O:-build}/gmemkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

echo "1..10"
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
exit $fail
