#!/usr/bin/env bash
# gmemkit bounce-bench: the JSON contract (every op x size x threads, with
# ns_min <= ns_median, and the targets judged from the run), the table, and
# bad input refused with exit 2 and a message naming the value.  Numbers are
# not judged here: speed targets belong to the benchmark's own output.
set -u
CMD=bounce-bench
. "$(dirname "$0")/cli.sh"

echo "1..18"
# --reps 010 is ten (base 10, not octal 8): the JSON says how many it took
"$BIN" bounce-bench --json --reps 010 --pool-size 1M >"$out/j" 2>"$out/e"
ok $? "--json --reps 010 --pool-size 1M exits 0"
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>); exit($d->{reps} == 10 ? 0 : 1)' <"$out/j"
ok $? "--reps 010 is 10 reps, not 8: $(grep -o '"reps":[0-9]*' "$out/j")"
perl -MJSON::PP -e '
	local $/; my $d = decode_json(<STDIN>); my %seen; my $bad = 0;
	for my $r (@{$d->{results}}) {
		$bad++ unless $r->{ns_min} =~ /^\d+$/ && $r->{ns_median} =~ /^\d+$/ &&
			      $r->{ns_min} <= $r->{ns_median};
		$seen{"$r->{op}/$r->{bytes}/$r->{threads}"} = 1;
		# latency is per operation of one thread; mbps counts every thread
		my $want = $r->{bytes} * $r->{threads} * 1000 / ($r->{ns_median} || 1);
		$bad++ unless $r->{ns_median} > 0 && abs($r->{mbps} - $want) <= 0.01 * $want + 0.1;
	}
	for my $op (qw(map_unmap bounce_to_device bounce_from_device memcpy memcpy_spread)) {
		for my $b (512, 4096, 65536, 262144) {
			for my $t (1, 2) { $bad++ unless $seen{"$op/$b/$t"}; }
		}
	}
	$bad++ unless $d->{pool_bytes} == 1048576 && @{$d->{targets}} == 4 && $d->{latency} =~ /one thread/;
	exit($bad ? 1 : 0);' <"$out/j"
ok $? "JSON: every op x size x threads, ns_min <= ns_median, per-thread latency and all-thread MB/s, 4 targets"
"$BIN" bounce-bench --reps 5 --pool-size 1M >"$out/t" 2>"$out/e"
[ $? = 0 ] && grep -q '^map_unmap  *4096  *1 ' "$out/t" && grep -q 'targets (this run)' "$out/t" &&
	grep -q 'lat_ns_med' "$out/t" && grep -q '^bounce_from_device  *4096  *2 ' "$out/t"
ok $? "table with rows and the targets"
refused "gmemkit bounce-bench: --reps 1: out of range (5..100000)" --reps 1
refused "gmemkit bounce-bench: --reps 0x10: not a non-negative base-10 integer (range 5..100000)" --reps 0x10
refused "gmemkit bounce-bench: --reps 1e3: not a non-negative base-10 integer" --reps 1e3
refused "gmemkit bounce-bench: --reps -7: not a non-negative base-10 integer" --reps -7
refused "gmemkit bounce-bench: --reps 18446744073709551616: out of range (5..100000)" \
	--reps 18446744073709551616
refused "gmemkit bounce-bench: --pool-size 12x: not a size (e.g. 4096, 4k, 2M, 1G; range 512k..1G)" --pool-size 12x
refused "gmemkit bounce-bench: --pool-size 0x100000: not a size" --pool-size 0x100000
refused "gmemkit bounce-bench: --pool-size 100k: out of range (512k..1G)" --pool-size 100k
refused "gmemkit bounce-bench: --pool-size 600k: not a multiple of 512k" --pool-size 600k
refused "gmemkit bounce-bench: --pool-size 2G: out of range (512k..1G)" --pool-size 2G
refused "gmemkit bounce-bench: --pool-size 1T: out of range (512k..1G)" --pool-size 1T
refused "gmemkit bounce-bench: --reps needs a value" --reps
refused "gmemkit bounce-bench: --pool-size needs a value" --json --pool-size
refused "gmemkit bounce-bench: unknown option '--bogus'" --bogus
exit $fail
