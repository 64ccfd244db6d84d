#!/usr/bin/env bash
# gmemkit bounce-bench: the JSON contract (every op x size x threads, with
# ns_min <= ns_median, and the targets judged from the run), the table, and
# bad input refused with exit 2 and a message naming the value.  Numbers are
# not judged here: speed targets belong to the benchmark's own output.
set -u
BIN=${O:-build}/gmemkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
refused() {	# refused WANT-IN-MESSAGE ARGS...
	local want=$1; shift
	"$BIN" bounce-bench "$@" >"$out/o" 2>"$out/e"; local rc=$?
	[ $rc = 2 ] && grep -qF -- "$want" "$out/e"
	ok $? "bounce-bench $* refused (exit $rc): $(head -c 120 "$out/e")"
}

echo "1..9"
"$BIN" bounce-bench --json --reps 5 --pool-size 1M >"$out/j" 2>"$out/e"
ok $? "--json --reps 5 --pool-size 1M exits 0"
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
refused "1 is out of range" --reps 1
refused "'12x'" --pool-size 12x
refused "100k is not a multiple" --pool-size 100k
refused "2G is not a multiple" --pool-size 2G
refused "--reps needs a value" --reps
refused "'--bogus'" --bogus
exit $fail
