#!/usr/bin/env bash
# gmemkit bench end to end (quick sweep): the files it promises, valid JSON
# that --compare reads back, a verdict paragraph, and bad input rejected.
set -u
CMD=bench
. "$(dirname "$0")/cli.sh"

echo "1..75"
"$BIN" bench --quick --bs 4k,64k --out "$out/r" >"$out/stdout" 2>"$out/stderr"
ok $? "bench --quick --bs 4k,64k exits 0"
for f in results.json results.csv report.md cost_vs_size.dat; do
	test -s "$out/r/$f"; ok $? "writes $f"
done
"$BIN" bench --compare "$out/r/results.json" "$out/r/results.json" >"$out/cmp"
ok $? "--compare reads results.json back"
grep -q '^convert .* 1.00x$' "$out/cmp"; ok $? "--compare of a file with itself gives 1.00x"
grep -q '^VERDICT' "$out/stdout" && grep -q '^## Verdict' "$out/r/report.md"
ok $? "verdict on the terminal and in report.md"
# Where the guest ran natively: the platform profiles and conversion models
# answered (report_platform.c), each platform with its line under the verdict.
if grep -q '"guest_native":true' "$out/r/results.json"; then
	plat=0
	grep -q '^## Per platform' "$out/r/report.md" || plat=1
	for p in ideal pkvm tdx snp cca; do
		grep -q "^- \*\*$p\*\*: in place beats bouncing" "$out/r/report.md" || plat=1
	done
	grep -q '^| pkvm | 2.0 / ' "$out/r/report.md" || plat=1
	ok $plat "report.md answers per platform (a line each, pkvm 2 calls per 4 KiB I/O)"
	# adaptive ran on every profile: its ratio to the best path at both
	# sizes, and a plot per profile, referenced
	plat=0
	for p in ideal pkvm tdx snp cca; do
		grep -Eq "^  Adaptive over the best path $p allows .*: 4 KiB \([0-9.]+x\), 64 KiB \([0-9.]+x\); (adaptive below 0.9x of the best at: [0-9]|at least 0.9x of the best at every size measured)" \
			"$out/r/report.md" &&
			grep -Eq "^\| $p \| [0-9]+ / [0-9]+ [a-z-]+ \((\*\*)?[0-9.]+x(\*\*)?\) \| - \| [0-9]+ / " \
				"$out/r/report.md" &&
			grep -q "^!\[$p\](platform_$p.svg)\$" "$out/r/report.md" &&
			test -s "$out/r/platform_$p.dat" || plat=1
		if command -v gnuplot >/dev/null; then
			grep -q "$p profile: each protected path" "$out/r/platform_$p.svg" || plat=1
		fi
	done
	ok $plat "adaptive against the best path per profile and size, a plot per profile referenced"
	grep -q '^## Conversion models' "$out/r/report.md" && grep -q '^| eager |' "$out/r/report.md"
	ok $? "report.md compares the conversion models (eager measured)"
else
	n=$((n+1)); echo "ok $n # SKIP the guest did not run natively: no per-platform answer"
	n=$((n+1)); echo "ok $n # SKIP the guest did not run natively: no model comparison"
	n=$((n+1)); echo "ok $n # SKIP the guest did not run natively: no adaptive per platform"
fi
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
! ls "$out/rf"/platform_* >/dev/null 2>&1 && ! grep -q 'platform_' "$out/rf/report.md"
ok $? "--report-from a run without platform points: no platform plot, none referenced"

# Adaptive per platform profile, from a run from before adaptive ran on
# them (results/vm-2026-12-03: in place only) with adaptive points added:
# on pkvm at every size, 0.5x the best path at 64 KiB and as fast as it
# elsewhere, run by run; on tdx at 4 KiB only; on snp and cca nowhere.
plat_saved=results/vm-2026-12-03
"$BIN" bench --report-from "$plat_saved/results.json" --out "$out/pold" >"$out/poldout" 2>&1 &&
	grep -q '^  Adaptive: not measured on pkvm (no adaptive point of this profile in the run)\.$' \
		"$out/pold/report.md" && grep -q '^| pkvm | - | - | - | - | - |$' "$out/pold/report.md" &&
	grep -q '^!\[pkvm\](platform_pkvm.svg)$' "$out/pold/report.md" &&
	grep -q "^\*pkvm: .*; adaptive not measured on this profile\.\*$" "$out/pold/report.md"
ok $? "--report-from a run without adaptive per platform: said plainly, the plot still drawn"
perl -MJSON::PP -e '
	sub slurp { local $/; open(my $f, "<", $_[0]) or die "$_[0]: $!"; <$f> }
	my $j = decode_json(slurp($ARGV[0]));
	my (%pt, @add);
	for my $r (@{$j->{io}}) {
		my $k = join " ", $r->{mode}, $r->{bs}, $r->{platform} // "ideal",
			$r->{conv_model} // "lazy";
		$pt{$k} //= $r;		# the first: the default transport
	}
	for my $p ("pkvm", "tdx") {
		for my $bs (4096, 16384, 65536, 262144, 1048576) {
			next if $p eq "tdx" && $bs != 4096;
			my %a = %{$pt{"adaptive $bs ideal lazy"}};
			my @of = map { $pt{$_} } "bounce $bs ideal lazy", "persistent $bs ideal lazy",
				"inplace $bs $p lazy", "inplace-batch $bs $p lazy";
			my $f = $p eq "pkvm" && $bs == 65536 ? 0.5 : 1;
			$a{iops_runs} = [ map { my $i = $_; my $m = 0;
				for (@of) { $m = $_->{iops_runs}[$i] if $_->{iops_runs}[$i] > $m }
				$f * $m } 0..$#{$a{iops_runs}} ];
			$a{iops} = (sort { $a <=> $b } @{$a{iops_runs}})[@{$a{iops_runs}} / 2];
			$a{platform} = $p;
			delete @a{qw(remeasured_runs ceiling_runs)};
			push @add, \%a;
		}
	}
	push @{$j->{io}}, @add;
	print JSON::PP->new->canonical->encode($j);' "$plat_saved/results.json" >"$out/plat.json" &&
	"$BIN" bench --report-from "$out/plat.json" --out "$out/plat" >"$out/platout" 2>&1
ok $? "--report-from a run with adaptive on the platform profiles"
grep -q '^  Adaptive over the best path pkvm allows (bounce, persistent, in place, in place batched; median of the per-run ratios): 4 KiB (1.00x), 16 KiB (1.00x), 64 KiB (0.50x), 256 KiB (1.00x), 1024 KiB (1.00x); adaptive below 0.9x of the best at: 64 KiB (0.50x)\.$' \
	"$out/plat/report.md" &&
	grep -Eq '^\| pkvm \| [0-9]+ / [0-9]+ persistent \(1\.00x\) \| [0-9]+ / [0-9]+ persistent \(1\.00x\) \| [0-9]+ / [0-9]+ persistent \(\*\*0\.50x\*\*\) \|' \
		"$out/plat/report.md" &&
	grep -q '^  Adaptive over the best path pkvm allows' "$out/platout"
ok $? "pkvm: adaptive over the best path per size, under 0.9x flagged (report and terminal)"
grep -q '^  Adaptive over the best path tdx allows .*: 4 KiB (1.00x); at least 0.9x of the best at every size measured; adaptive not measured at: 16 KiB, 64 KiB, 256 KiB, 1024 KiB\.$' \
	"$out/plat/report.md" &&
	grep -q '^  Adaptive: not measured on snp (no adaptive point of this profile in the run)\.$' \
		"$out/plat/report.md"
ok $? "tdx: the sizes adaptive was not measured at named; snp: adaptive not measured, said plainly"
pl=0
for p in ideal pkvm tdx snp cca; do
	[ "$(grep -c "^!\[$p\](platform_$p.svg)\$" "$out/plat/report.md")" = 1 ] &&
		[ "$(grep -c '^[0-9]' "$out/plat/platform_$p.dat")" = 5 ] || pl=1
done
grep -q '^64 [0-9.]* [0-9.]* [0-9.]* [0-9.]* [0-9.]* 0.500$' "$out/plat/platform_pkvm.dat" &&
	grep -q '^16 [0-9.]* [0-9.]* [0-9.]* [0-9.]* - -$' "$out/plat/platform_tdx.dat" || pl=1
if command -v gnuplot >/dev/null; then
	for p in ideal pkvm tdx snp cca; do
		grep -q "$p profile: each protected path's share of the shared ceiling" \
			"$out/plat/platform_$p.svg" || pl=1
	done
	grep -q 'adaptive / best path' "$out/plat/platform_pkvm.svg" &&
		grep -q 'not measured' "$out/plat/platform_snp.svg" || pl=1
fi
ok $pl "a plot per profile, referenced once each: its shares, adaptive over the best path"

# The sweep: by default the verdict's (one backend, qd 32, 1 vCPU, every
# mode and size), --full everything else too, each configuration once.
refused "gmemkit bench: --quick and --full: one or the other" --quick --full
"$BIN" bench --plan >"$out/plan" 2>&1; rc1=$?
"$BIN" bench --plan --full >"$out/planf" 2>&1; rc2=$?
"$BIN" bench --plan --qd 32,32 --vcpus 1,1 >"$out/plan2" 2>&1; rc3=$?
if grep -q '^point ' "$out/plan"; then
	np=$(grep -c '^point ' "$out/plan")
	[ $rc1 = 0 ] && ! grep '^point ' "$out/plan" | grep -qv ' qd=32 vcpus=1 ' &&
		[ "$(grep '^point ' "$out/plan" | sed 's/.*backend=\([^ ]*\).*/\1/' | sort -u | wc -l)" = 1 ] &&
		[ "$(grep -c '^point shared ' "$out/plan")" = 5 ] &&
		[ "$(grep '^point ' "$out/plan" | awk '{print $2}' | sort -u | wc -l)" = 7 ] &&
		nv=$(grep '^point .*\(platform=\|conv-model=\)' "$out/plan" | grep -vc '^point adaptive ') &&
		grep -q "^verdict sweep: $np io-bench points x 5 runs (in-place variants and points off the verdict's configuration 3) = $(((np - nv) * 5 + nv * 3)) runs of 0.5 s" "$out/plan"
	ok $? "--plan: the verdict's sweep, $np points: one backend, qd 32, 1 vCPU, 7 modes x 5 sizes, 5 runs (adaptive on every platform too; in-place variants 3)"
	"$BIN" bench --plan --no-variants >"$out/planv" 2>&1
	pa=0
	for p in pkvm tdx snp cca; do
		[ "$(grep -c "^point adaptive .* platform=$p\$" "$out/plan")" = 5 ] || pa=1
	done
	[ $pa = 0 ] && [ "$(grep -c '^point adaptive .* conv-model=' "$out/plan")" = 0 ] &&
		! grep -q 'platform=\|conv-model=' "$out/planv" &&
		[ "$(grep -c 'platform=\|conv-model=' "$out/plan")" = $((np - $(grep -c '^point ' "$out/planv"))) ]
	ok $? "--plan: adaptive on each platform profile at each size, not on the models; --no-variants: none"
	est=$(sed -n 's/^verdict sweep: .*estimated \([0-9]*\) min.*/\1/p' "$out/plan")
	[ -n "$est" ] && [ "$est" -lt 15 ]
	ok $? "--plan: the verdict's sweep is estimated under 15 minutes (${est:-?} min)"
	nf=$(grep -c '^point ' "$out/planf")
	[ $rc2 = 0 ] && [ "$nf" -gt "$np" ] &&
		for w in backend=null backend=file backend=file-direct backend=ram ' qd=1 ' ' vcpus=2 '; do
			grep -q "^point .*$w" "$out/planf" || exit 1
		done &&
		[ "$(grep '^point ' "$out/planf" | sort | uniq -d | wc -l)" = 0 ] &&
		n5=$(grep '^point .* qd=32 vcpus=1 backend=ram\( \|$\)' "$out/planf" |
		     grep -v 'conv-model=' | grep -vc '^point inplace[^ ]* .*platform=') &&
		grep -q "^full sweep: $nf io-bench points x 5 runs (in-place variants and points off the verdict's configuration 3) = $((n5 * 5 + (nf - n5) * 3)) runs of 1 s" "$out/planf"
	ok $? "--plan --full: $nf points, every backend, qd 1, 2 vCPUs, runs of 1 s, none twice; the verdict's $n5 (adaptive on every platform too) run 5 times, the others 3"
	[ $rc3 = 0 ] && [ "$(grep -c '^point ' "$out/plan2")" = "$np" ] &&
		grep -q 'configurations asked for twice run once' "$out/plan2"
	ok $? "--plan --qd 32,32 --vcpus 1,1: the same $np points, each once"
else
	grep -q 'no guest sweep here' "$out/plan"; ok $? "--plan without a native guest: says so"
	for i in 1 2 3 4; do n=$((n+1)); echo "ok $n # SKIP no native KVM guest here: no sweep to plan"; done
fi

# The ratios from a saved run, crafted: runs of a protected mode above
# the ceiling are noise (never a share above 100%); a run measured again
# is taken against the ceiling measured beside it.
perl -MJSON::PP -e '
	sub slurp { local $/; open(my $f, "<", $_[0]) or die "$_[0]: $!"; <$f> }
	my $j = decode_json(slurp($ARGV[0]));
	for my $r (@{$j->{io}}) {
		next unless $r->{backend} eq "null" && $r->{qd} == 32 && $r->{vcpus} == 1;
		if ($r->{mode} eq "persistent") {
			# 4 KiB: every run above shared; 16 KiB: two of five above,
			# run 0 measured again beside a ceiling run of 4x its IOPS
			$r->{iops_runs} = [ map { 3e6 } 1..5 ] if $r->{bs} == 4096;
			if ($r->{bs} == 16384) {
				$r->{iops_runs} = [ 1e6, 3e6, 3e6, 400000, 400000 ];
				$r->{remeasured_runs} = [ 0 ];
				$r->{ceiling_runs} = [ 4e6, undef, undef, undef, undef ];
			}
		}
	}
	print JSON::PP->new->canonical->encode($j);' results/vm-2026-12-01/results.json \
	>"$out/noise.json" &&
	"$BIN" bench --report-from "$out/noise.json" --out "$out/noise" >"$out/noiseout" 2>&1
ok $? "--report-from a run with runs above their ceiling"
sed -n '/^## Verdict/,/^## Conversion/p;/^Share of the/,/^Runs measured above/p' "$out/noise/report.md" \
	>"$out/shares"
! grep -Eq '(^|[^0-9.])(10[1-9]|1[1-9][0-9]|[2-9][0-9][0-9]|[0-9]{4,})%' "$out/shares"
ok $? "no share above 100% in the verdict or the share table"
grep -q '^| 4 KiB | [^|]* | [^|]* | [^|]* | [^|]* | [^|]* | 100%\* |' "$out/shares" &&
	grep -q '4 KiB: persistent at the shared ceiling (every run measured above it: noise);' "$out/shares"
ok $? "every run above the ceiling: shown at the ceiling, flagged"
grep -q '^| 16 KiB | [^|]* | [^|]* | [^|]* | [^|]* | [^|]* | 59% (25-67%)\* |' "$out/shares" &&
	grep -q '16 KiB: persistent at 59% (25-67%) of the shared ceiling (2 of 5 runs measured above the ceiling: noise, left out;' "$out/shares"
ok $? "a run measured again is taken against the ceiling run beside it (1M / 4M: 25%), two above left out"
grep -q 'Runs measured above their ceiling: 8 left out as noise' "$out/shares"
ok $? "the runs left out as noise are counted"

# A memory-backed (ram) backend, crafted from the null points with the
# device's side added (in place: 200 us and a fault per page per I/O on the
# device, the rest 10 us) and in place at 1000 IOPS: the verdict is taken
# from it, says that in place wins nowhere and why, with the figure.

perl -MJSON::PP -e '
	sub slurp { local $/; open(my $f, "<", $_[0]) or die "$_[0]: $!"; <$f> }
	my $j = decode_json(slurp($ARGV[0]));
	my @ram;
	for my $r (@{$j->{io}}) {
		next unless $r->{backend} eq "null" && $r->{qd} == 32 && $r->{vcpus} == 1;
		my %c = %$r;
		$c{backend} = "ram";
		my $ip = $c{mode} =~ /^inplace/;
		$c{dev_ns_per_io} = $ip ? 200000 : 10000;
		$c{dev_faults_per_io} = $ip ? $c{bs} / 4096 : 0;
		$c{dev_copy_bytes_per_io} = $c{bs};
		if ($ip) { $c{iops} = 1000; $c{iops_runs} = [ map { 1000 } 1..5 ]; }
		push @ram, \%c;
	}
	push @{$j->{io}}, @ram;
	print JSON::PP->new->canonical->encode($j);' results/vm-2026-12-01/results.json \
	>"$out/ram.json" &&
	"$BIN" bench --report-from "$out/ram.json" --out "$out/ram" >"$out/ramout" 2>&1
ok $? "--report-from a run with a ram backend and the device's side"
v=$(sed -n '/^## Verdict/,/^## Conversion/p' "$out/ram/report.md")
echo "$v" | grep -q 'End to end (virtio-blk from the guest, ram backend (memory-backed' &&
	! echo "$v" | grep -q 'End to end (virtio-blk from the guest, null'
ok $? "the verdict is taken from ram"
echo "$v" | grep -q 'In place beats bouncing at no size measured on the ram backend' &&
	echo "$v" | grep -q "The cost that decides it: the device's extra time on the freshly shared pages, 190.0 us per I/O at 1024 KiB (inplace), against 375.4 us of bounce copies per I/O (256.0 device faults per I/O in place, 0.0 bouncing)"
ok $? "in place nowhere ahead on ram: said plainly, with the cost that decides it and its figure"
grep -q '^| 4 KiB | .* | 190.0 us | 253.8 us |' "$out/ram/report.md" &&
	grep -q "plus the device's touch of the converted pages" "$out/ram/report.md"
ok $? "the host model's in place includes the device's touch (63.8 + 190.0 us at 4 KiB)"
sed -n '/^### Host model against end to end/,/^## End to end/p' "$out/ram/report.md" >"$out/mve"
grep -q '^| 1024 KiB | 255.4 us | ' "$out/mve" && grep -q '^Gaps over 25%:.*in place at' "$out/mve"
ok $? "host model and end to end side by side, gaps over 25% named"
grep -q '^### null backend (device never touches the data: in place pays no device-side mapping)' \
	"$out/ram/report.md" && grep -q '^### file backend (real storage' "$out/ram/report.md"
ok $? "null and file stay, as labelled sections"
grep -q '^| 4 KiB | inplace | .* | 200.0 us | 1.00 |$' "$out/ram/report.md"
ok $? "the split shows the device's time and faults per I/O"
grep -q 'device thread (copy, faults on in-place pages)' "$out/ram/cost_split.svg" &&
	grep -q 'ram backend (memory-backed' "$out/ram/throughput.svg" &&
	grep -q 'Host model' "$out/ram/cost_vs_size.svg"
ok $? "the plots: the device's side in the split, the backend in the titles, the host model titled"

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

# Without --out, a run never overwrites one already there (a committed
# results/<host>-<date>/, say): it takes the next free -2, -3, ...
day="results/$(hostname)-$(date +%F)-quick"
mkdir -p "$out/wd/$day" && echo '{"kept":1}' > "$out/wd/$day/results.json"
(cd "$out/wd" && GMEMKIT_BENCH_EXEC="$out/fake" "$real" bench --quick --modes shared --bs 4k \
	--qd 1 --vcpus 1 >/dev/null 2>&1)
[ "$(cat "$out/wd/$day/results.json")" = '{"kept":1}' ] && [ -s "$out/wd/$day-2/report.md" ] &&
	[ ! -e "$out/wd/$day/report.md" ]
ok $? "a run already in $day is kept; this one went to $day-2"
if tools/kvm-tests --native-usable >/dev/null 2>&1 && grep -q '"guest_native":true' "$out/f/results.json"; then
	[ $rc = 1 ] && grep -q 'none of the 2 guest I/O points succeeded' "$out/fstderr"
	ok $? "KVM usable, every guest point failed: exit 1 and why (exit $rc)"
	c=$(grep -c 'simulated failure 42' "$out/fstderr")
	[ "$c" = 2 ]; ok $? "each failed point named once in the terminal ($c lines for 2 points)"
	grep -q 'io-bench bounce bs=4k qd=1 vcpus=1 backend=ram: exited with 1: gmemkit io-bench: simulated failure 42' \
		"$out/f/report.md"; ok $? "the report names the point and its reason"
	# A backend that fails every point of its first group is not tried
	# again, and the verdict comes from the backend that was measured.
	printf '#!/usr/bin/env bash\ncase " $* " in *" --backend file "*) echo "gmemkit io-bench: simulated failure 43" >&2; exit 1;; esac\nexec "%s" "$@"\n' \
		"$real" > "$out/fake2"
	chmod +x "$out/fake2"
	GMEMKIT_BENCH_EXEC="$out/fake2" "$BIN" bench --quick --backends null,file --modes shared,bounce \
		--bs 4k,16k --transport default --reps 1 --out "$out/g" >"$out/gstdout" 2>"$out/gstderr"; rc=$?
	[ $rc = 0 ] && [ "$(grep -c 'simulated failure 43' "$out/gstderr")" = 2 ] &&
		grep -q 'io-bench backend file: every point of its first group failed (above); its other 2 points not run' \
			"$out/g/report.md" &&
		grep -q 'End to end (virtio-blk from the guest, null backend' "$out/g/report.md"
	ok $? "a backend whose first group failed: its other points not run, said once (exit $rc)"
else
	[ $rc = 0 ] && grep -q 'io-bench: .*not usable\|does not run natively' "$out/f/report.md"
	ok $? "no native guest here: exit 0, the report says why the guest sweep was skipped"
	echo "ok $((n+1)) # SKIP no native KVM guest here: no guest point to fail"
	echo "ok $((n+2)) # SKIP no native KVM guest here: no guest point to fail"
	echo "ok $((n+3)) # SKIP no native KVM guest here: no guest point to fail"
	n=$((n+3))
fi
exit $fail
