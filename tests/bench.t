#!/usr/bin/env bash
# gmemkit bench end to end (quick sweep): the files it promises, valid JSON
# that --compare reads back, a verdict paragraph, and bad input rejected.
set -u
CMD=bench
. "$(dirname "$0")/cli.sh"

echo "1..45"
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
	  run:--mem stress:--bs; do
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

# --report-from: the committed run's report files written again from its
# results.json.  That file keeps 6 significant digits of each figure (the
# original report used the sub-benchmarks' full ones), so a file with a
# figure derived from a rounded one may differ in its last digits: those
# are compared line by line, text equal and numbers within 1e-5 of the
# line's largest (cost_split.dat's parts are differences of such figures).
# Written again from what it wrote, a report is the same to the byte.
saved=results/vm-2026-12-01
"$BIN" bench --report-from "$saved/results.json" --out "$out/rf" >"$out/rfout" 2>"$out/rferr"
ok $? "--report-from $saved/results.json exits 0"
grep -q '^VERDICT' "$out/rfout"; ok $? "--report-from prints the verdict"
cmp "$saved/results.csv" "$out/rf/results.csv" && cmp "$saved/cost_vs_size.dat" "$out/rf/cost_vs_size.dat"
ok $? "--report-from: results.csv, cost_vs_size.dat as committed, to the byte"
perl -MJSON::PP -e '
	sub slurp { local $/; open(my $f, "<", $_[0]) or die "$_[0]: $!"; <$f> }
	sub same { my ($x, $y) = @_;
		return 0 if ref $x ne ref $y;
		return @$x == @$y && !grep { !same($x->[$_], $y->[$_]) } 0..$#$x if ref $x eq "ARRAY";
		return join(",", sort keys %$x) eq join(",", sort keys %$y) &&
		       !grep { !same($x->{$_}, $y->{$_}) } keys %$x if ref $x eq "HASH";
		return !defined $x ? !defined $y : defined $y && ($x eq $y || $x == $y) }
	exit !same(map { decode_json(slurp($_)) } @ARGV)' \
	"$saved/results.json" "$out/rf/results.json" 2>/dev/null
ok $? "--report-from: results.json the same JSON as committed"
perl -e '
	sub slurp { open(my $f, "<", $_[0]) or die "$_[0]: $!"; my @l = <$f>; @l }
	my $num = qr/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/;
	for my $name (@ARGV[2..$#ARGV]) {
		my @a = slurp("$ARGV[0]/$name"), @b = slurp("$ARGV[1]/$name");
		die "$name: line count\n" if @a != @b;
		for my $i (0..$#a) {
			next if $a[$i] eq $b[$i];
			my @na = $a[$i] =~ /$num/g, @nb = $b[$i] =~ /$num/g;
			(my $ta = $a[$i]) =~ s/$num/#/g; (my $tb = $b[$i]) =~ s/$num/#/g;
			die "$name:", $i + 1, ": text differs\n" if $ta ne $tb;
			my $max = 0; $max = abs($_) > $max ? abs($_) : $max for @na, @nb;
			for my $k (0..$#na) {
				die "$name:", $i + 1, ": $na[$k] against $nb[$k]\n"
					if abs($na[$k] - $nb[$k]) > 1e-5 * $max + 0.0011;
			}
		}
	}' "$saved" "$out/rf" report.md io_by_size.dat cost_split.dat 2>"$out/rfdiff"
ok $? "--report-from: report.md and the plots' .dat files as committed, figures to 6 digits $(head -c 200 "$out/rfdiff")"
drew=$(grep -ho 'Produced by GNUPLOT [^<]*' "$saved/cost_vs_size.svg" | sed 's/Produced by GNUPLOT //; s/ *$//')
if command -v gnuplot >/dev/null && [ "$(gnuplot --version)" = "gnuplot $drew" ]; then
	for f in "$saved"/*.svg; do cmp "$f" "$out/rf/$(basename "$f")" || break; done
	ok $? "--report-from: the SVG plots as committed, to the byte"
else
	n=$((n+1)); echo "ok $n # SKIP the committed plots were drawn by gnuplot $drew, not this one"
fi
"$BIN" bench --report-from "$out/rf/results.json" --out "$out/rf2" >"$out/rfout2" 2>&1 &&
	diff -r "$out/rf" "$out/rf2" >/dev/null &&
	grep -v '^written: ' "$out/rfout" >"$out/rfout.a" &&
	grep -v '^written: ' "$out/rfout2" >"$out/rfout.b" &&
	diff "$out/rfout.a" "$out/rfout.b" >/dev/null
ok $? "--report-from its own results.json: every file and the terminal output the same"
"$BIN" bench --report-from "$saved/report.md" --out "$out/rf3" 2>"$out/err"; rc=$?
[ $rc = 1 ] && grep -q 'report.md' "$out/err" && [ ! -e "$out/rf3" ]
ok $? "--report-from of a non-JSON file: exit 1, names it, writes nothing"

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
