#!/usr/bin/env bash
# gmemkit convert-bench: the conversion models as a dimension (issue 22).
# Every model asked has its rows (round trip in place and destructive, its
# bare kernel calls, a memcpy of the same bytes) in the JSON and the table,
# each naming its model; a model that cannot run here says why (huge: the
# sysctl and the number); the targets are judged from the run's own rows.
# Bad values of the options are refused, naming the value.  Numbers are not
# judged: speed belongs to the benchmark's own output.  Also
# tools/with-hugepages, which `make bench` runs the bench through.
set -u
CMD=convert-bench
. "$(dirname "$0")/cli.sh"

echo "1..29"
"$BIN" convert-bench --json --reps 3 --pages 1,512 >"$out/j" 2>"$out/e"
ok $? "--json --reps 3 --pages 1,512 exits 0 $(head -c 200 "$out/e")"

# check.pl JSON: every asked model measured or why; rows per model; targets
cat >"$out/check.pl" <<'PERL'
use strict; use warnings; use JSON::PP;
local $/; my $d = decode_json(<STDIN>); my @bad;
my ($want_models, $pages) = @ARGV;
my %asked = map { $_ => 1 } split /,/, $want_models;
my @pc = split /,/, $pages;
my $busy = $d->{busy_threads};
my %rows;
my %model_of = (baseline => 'lazy', bare_lazy => 'lazy', roundtrip => 'lazy',
	bare_eager => 'eager', roundtrip_eager => 'eager', bare_huge => 'eager',
	roundtrip_huge => 'eager', memcpy => 'copy');
for my $r (@{$d->{results}}) {
	next if $r->{op} =~ /^(guest_roundtrip|exit_roundtrip|queue_kick)$/;
	my $m = $model_of{$r->{op}};
	push @bad, "unknown op $r->{op}" unless $m;
	next unless $m;
	push @bad, "$r->{op}: model '$r->{model}', not $m" unless $r->{model} eq $m;
	my $ps = $r->{op} =~ /huge/ ? 2097152 : 4096;
	push @bad, "$r->{op}: page_size $r->{page_size}" unless $r->{page_size} == $ps;
	push @bad, "$r->{op}: no backing" unless $r->{backing};
	push @bad, "$r->{op}/$r->{pages}: ns_min <= ns_median <= ns_max, > 0"
		unless $r->{ns_min} > 0 && $r->{ns_min} <= $r->{ns_median} &&
		       $r->{ns_median} <= $r->{ns_max};
	$rows{"$r->{op}/$r->{mode}/$r->{pages}/$r->{threads}"}++;
}
my %ops = (lazy => [qw(baseline/none bare_lazy/none roundtrip/inplace roundtrip/destructive)],
	   eager => [qw(bare_eager/none roundtrip_eager/inplace roundtrip_eager/destructive)],
	   huge => [qw(bare_huge/none roundtrip_huge/inplace roundtrip_huge/destructive)]);
for my $m (qw(lazy eager huge)) {
	my $mo = $d->{models}{$m};
	push @bad, "models.$m missing" unless $mo;
	next unless $mo;
	push @bad, "models.$m.asked" unless ($mo->{asked} ? 1 : 0) == ($asked{$m} ? 1 : 0);
	push @bad, "models.$m: no meaning" unless $mo->{meaning};
	push @bad, "models.$m: not measured and no why" if $asked{$m} && !$mo->{measured} && !$mo->{why};
	push @bad, "models.$m measured though not asked" if !$asked{$m} && $mo->{measured};
	push @bad, "huge not measured, why names neither vm.nr_hugepages nor a missing feature: $mo->{why}"
		if $m eq 'huge' && $asked{$m} && !$mo->{measured} &&
		   $mo->{why} !~ /vm\.nr_hugepages .*\d|not offered|no 2 MiB|userfaultfd: /;
	push @bad, "eager not measured, why does not say what is missing: $mo->{why}"
		if $m eq 'eager' && $asked{$m} && !$mo->{measured} &&
		   $mo->{why} !~ /userfaultfd|not offered/;
	for my $t (0, $busy) {
		for my $p ($m eq 'huge' ? (512) : @pc) {
			for my $o (@{$ops{$m}}) {
				my $n = $rows{"$o/$p/$t"} // 0;
				my $want = $mo->{measured} ? 1 : 0;
				push @bad, "$o/$p/$t: $n rows, want $want" unless $n == $want;
			}
		}
	}
}
for my $t (0, $busy) {
	for my $p (@pc, $d->{models}{huge}{measured} ? (512) : ()) {
		push @bad, "memcpy/none/$p/$t: want 1 row" unless ($rows{"memcpy/none/$p/$t"} // 0) == 1;
	}
}
my %tg = map { ("$_->{name}/$_->{threads}" => $_) } @{$d->{targets}};
for my $t (0, $busy) {
	for my $name (qw(eager_1page_inplace_vs_bare eager_512page_inplace_vs_bare
			 huge_2mib_inplace_vs_memcpy)) {
		my $g = $tg{"$name/$t"};
		push @bad, "target $name/$t missing" unless $g;
		next unless $g;
		my $m = $name =~ /^huge/ ? 'huge' : 'eager';
		my $p = $name =~ /_1page/ ? 1 : 512;
		my $can = $d->{models}{$m}{measured} && ($m eq 'huge' || grep { $_ == $p } @pc);
		push @bad, "target $name/$t: measured is " . ($g->{measured} ? 'true' : 'false')
			unless ($g->{measured} ? 1 : 0) == ($can ? 1 : 0);
		if ($g->{measured}) {
			my $v = $g->{ns} / $g->{against_ns};
			push @bad, "target $name/$t: value $g->{value} is not ns/against_ns $v"
				unless abs($g->{value} - $v) < 1e-3 * $v + 1e-4;
			my $met = $g->{strict} ? $v < $g->{limit} : $v <= $g->{limit} + 1e-9;
			push @bad, "target $name/$t: met is " . ($g->{met} ? 'true' : 'false')
				unless ($g->{met} ? 1 : 0) == ($met ? 1 : 0);
			push @bad, "target $name/$t: limit $g->{limit}"
				unless $g->{limit} == ($m eq 'huge' ? 1 : 1.2);
			# against what the bench measured in this run
			my $want = $m eq 'huge' ? "memcpy/none/512/$t" :
				"bare_eager/none/$p/$t";
			push @bad, "target $name/$t: no row $want" unless $rows{$want};
		} else {
			push @bad, "target $name/$t: not measured, and no why or a verdict"
				unless $g->{why} && !defined $g->{met};
		}
	}
}
print join("\n", @bad), "\n" if @bad;
exit(@bad ? 1 : 0);
PERL
perl "$out/check.pl" lazy,eager,huge 1,512 <"$out/j" >"$out/why"
ok $? "JSON: every model's rows (round trips, bare calls, memcpy) with model, page size, backing; targets from the rows $(head -c 300 "$out/why")"
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	exit !($d->{huge_pages}{needed} == 3 && $d->{backing} =~ /^(guest_memfd|memfd)$/)' <"$out/j"
ok $? "JSON: huge_pages.needed is 3, backing names the lazy rows' file"
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	exit !(grep { $_->{op} eq "roundtrip" && $_->{model} eq "lazy" } @{$d->{results}}) ||
	       grep { $_->{op} eq "roundtrip" && $_->{model} ne "lazy" } @{$d->{results}}' <"$out/j"
ok $? "JSON: op roundtrip stays the lazy model (the report and --compare key on op)"

"$BIN" convert-bench --json --reps 3 --pages 16 --models eager >"$out/j2" 2>"$out/e"
ok $? "--models eager --pages 16 exits 0 $(head -c 200 "$out/e")"
perl "$out/check.pl" eager 16 <"$out/j2" >"$out/why"
ok $? "--models eager: only eager and memcpy rows, lazy and huge not asked $(head -c 300 "$out/why")"

"$BIN" convert-bench --reps 3 --pages 1,512 >"$out/t" 2>"$out/e"
ok $? "table run exits 0"
grep -q '^op  *model  *mode  *pages  *page  *threads ' "$out/t"
ok $? "table header has model and page columns"
if grep -q '"eager":{[^}]*"measured":true' "$out/j"; then
	grep -q '^roundtrip_eager  *eager  *inplace  *1  *4k  *0 ' "$out/t" &&
		grep -q '^bare_eager  *eager  *none  *512  *4k ' "$out/t"
	ok $? "table: eager round trip and its bare calls"
else
	grep -q '^  eager NOT measured: ' "$out/t"; ok $? "table: eager not measured, says why"
fi
if grep -q '"huge":{[^}]*"measured":true' "$out/j"; then
	grep -q '^roundtrip_huge  *eager  *inplace  *512  *2M  *0 ' "$out/t" &&
		grep -q '^bare_huge  *eager  *none  *512  *2M ' "$out/t" &&
		grep -q 'huge_2mib_inplace_vs_memcpy  *[0-9]* ns / [0-9]* ns = .*: \(met\|NOT met\)$' "$out/t"
	ok $? "table: huge round trip, its bare calls, and the target against memcpy"
else
	grep -q '^  huge  NOT measured: .*vm\.nr_hugepages' "$out/t" &&
		grep -q 'huge_2mib_inplace_vs_memcpy  *not measured: ' "$out/t"
	ok $? "table: huge not measured, names vm.nr_hugepages"
fi
grep -q '^roundtrip  *lazy  *inplace  *1  *4k ' "$out/t" && grep -q '^memcpy  *copy  *none  *512 ' "$out/t" &&
	grep -q '^  lazy  the host.s first touch faults each page in' "$out/t" &&
	grep -q '^  eager the run is mapped at share' "$out/t"
ok $? "table: lazy and memcpy rows; each model's meaning stated"
grep -q 'eager_1page_inplace_vs_bare .*(target <= 1.20x): \(met\|NOT met\)$' "$out/t" &&
	grep -q 'eager_512page_inplace_vs_bare .*(target <= 1.20x): \(met\|NOT met\)$' "$out/t"
ok $? "table: the eager targets at 1 and 512 pages, met or not"

# Unprivileged (where setpriv can drop root): userfaultfd is usually
# refused there (vm.unprivileged_userfaultfd 0): the models it needs are
# then not measured and say why, the rest is.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN" convert-bench --json --reps 3 --pages 1 >"$out/j3" 2>"$out/e"
	ok $? "unprivileged --json --pages 1 exits 0 $(head -c 200 "$out/e")"
	perl "$out/check.pl" lazy,eager,huge 1 <"$out/j3" >"$out/why"
	ok $? "unprivileged: each model measured, or not with why; rows to match $(head -c 300 "$out/why")"
else
	echo "ok $((n+1)) # SKIP not root or no setpriv"
	echo "ok $((n+2)) # SKIP not root or no setpriv"
	n=$((n+2))
fi

# --platform (issue 24): each profile's host round trips as its calls, its
# guest round trips over its own call path where KVM works; the default
# (ideal) adds nothing to the JSON.
perl -MJSON::PP -e 'local $/; exit !!exists decode_json(<STDIN>)->{platforms}' <"$out/j"
ok $? "default --platform ideal: no platforms key, the JSON as before"
"$BIN" convert-bench --json --reps 3 --pages 16,512 --models lazy --platform pkvm,tdx,snp \
	>"$out/p" 2>"$out/e"
ok $? "--platform pkvm,tdx,snp --pages 16,512 --json exits 0 $(head -c 200 "$out/e")"
perl "$out/check.pl" lazy 16,512 <"$out/p" >"$out/why"
ok $? "--platform: the results rows as without it $(head -c 300 "$out/why")"
cat >"$out/plat.pl" <<'PERL'
use strict; use warnings; use JSON::PP;
local $/; my $d = decode_json(<STDIN>); my @bad;
my ($kvm, $queue) = @ARGV;
# calls per direction: pkvm one per 4 KiB page, tdx one per <= 2 MiB,
# snp one per <= 64 pages
my %calls = (pkvm => { 16 => 16, 512 => 512 }, tdx => { 16 => 1, 512 => 1 },
	     snp => { 16 => 1, 512 => 8 });
my %mode = (pkvm => 'inplace', tdx => 'destructive', snp => 'destructive');
my @p = @{$d->{platforms} // []};
push @bad, "platforms: " . join(',', map { $_->{platform} } @p)
	unless join(',', map { $_->{platform} } @p) eq 'pkvm,tdx,snp';
for my $p (@p) {
	my $n = $p->{platform};
	push @bad, "$n: mode $p->{mode}" unless $p->{mode} eq $mode{$n};
	push @bad, "$n: contents $p->{contents}"
		unless $p->{contents} eq ($n eq 'pkvm' ? 'kept' : 'destroyed');
	push @bad, "$n: no not_modelled" unless length $p->{not_modelled} > 10;
	push @bad, "$n: host not measured" unless $p->{host}{measured};
	my %seen;
	for my $r (@{$p->{host}{rows}}) {
		my $w = $calls{$n}{$r->{pages}};
		push @bad, "$n host $r->{pages} pages: $r->{calls_per_direction} calls, want $w"
			unless $r->{calls_per_direction} == $w;
		push @bad, "$n host $r->{pages}: ns_min <= ns_median <= ns_max, > 0"
			unless $r->{ns_min} > 0 && $r->{ns_min} <= $r->{ns_median} &&
			       $r->{ns_median} <= $r->{ns_max};
		push @bad, "$n host $r->{pages}: no one-call figure" unless $r->{one_call_ns_median} > 0;
		$seen{"$r->{pages}/$r->{threads}"}++;
	}
	for my $t (0, $d->{busy_threads}) {
		push @bad, "$n host: no row $_/$t" for grep { !$seen{"$_/$t"} } (16, 512);
	}
	if ($kvm && $n eq 'pkvm' && !$queue) {
		push @bad, "$n guest: measured without the queue, or why does not say so"
			if $p->{guest}{measured} || $p->{guest}{why} !~ /queue transport/;
	} elsif ($kvm) {
		push @bad, "$n guest not measured: $p->{guest}{why}" unless $p->{guest}{measured};
		my @g = grep { $_->{pages} == 16 || $_->{pages} == 512 } @{$p->{guest}{rows}};
		push @bad, "$n guest: rows for 16 and 512 pages" unless @g == 2;
		for my $r (@g) {
			my $w = $calls{$n}{$r->{pages}};
			push @bad, "$n guest $r->{pages}: $r->{calls_per_direction} calls, want $w"
				unless $r->{calls_per_direction} == $w;
			# the VMM's count: one conversion per call, both ways
			push @bad, "$n guest $r->{pages}: $r->{conversions} conversions in " .
				"$r->{samples} round trips, want 2 x $w each"
				unless $r->{samples} > 0 && $r->{conversions} == 2 * $w * $r->{samples};
			push @bad, "$n guest: mode $r->{mode}" unless $r->{mode} eq $mode{$n};
			push @bad, "$n guest: transport $r->{transport}"
				unless $n eq 'pkvm' ? $r->{transport} eq 'queue' :
				       $r->{transport} =~ /^(hypercall|doorbell)$/;
		}
	} else {
		push @bad, "$n guest measured without KVM, or no why"
			if $p->{guest}{measured} || !$p->{guest}{why};
	}
}
print join("\n", @bad), "\n" if @bad;
exit(@bad ? 1 : 0);
PERL
kvm=0 queue=0
if tools/kvm-tests --native-usable >/dev/null 2>&1; then
	kvm=1
	"$BIN" probe --json 2>/dev/null | grep -q '"queue":true' && queue=1
fi
perl "$out/plat.pl" $kvm $queue <"$out/p" >"$out/why"
ok $? "--platform JSON: calls per direction pkvm 16/512, tdx 1/1, snp 1/8 (host, and guest with KVM: $kvm, queue $queue: each call one VMM conversion), modes, not_modelled $(head -c 300 "$out/why")"
"$BIN" convert-bench --reps 3 --pages 16 --models lazy --platform cca >"$out/t2" 2>"$out/e"
[ $? = 0 ] && grep -q '^cca  *destructive  *16  *0  *1 ' "$out/t2" &&
	grep -q '^  cca  *contents destroyed, exitless; not modelled: the RMM' "$out/t2" &&
	! grep -q '^pkvm ' "$out/t2"
ok $? "table --platform cca: its row (1 call for 16 pages) and what it leaves out"
refused "gmemkit convert-bench: --platform pkvm,sev: 'sev' is not one of ideal, pkvm, tdx, snp, cca" --platform pkvm,sev

refused "gmemkit convert-bench: --models lazy,fast: 'fast' is not one of lazy, eager, huge" --models lazy,fast
refused "gmemkit convert-bench: --models HUGE: not one of lazy, eager, huge" --models HUGE
refused "gmemkit convert-bench: --models needs a value" --reps 3 --models
refused "gmemkit convert-bench: --pages 1,600: '600' is out of range (1..512)" --pages 1,600
refused "gmemkit convert-bench: --backing hugetlb: not one of auto, memfd" --backing hugetlb

# tools/with-hugepages: bad N refused; enough pages: runs the command as is
tools/with-hugepages 1x true 2>"$out/e"; rc=$?
[ $rc = 2 ] && grep -q "'1x': not a number" "$out/e"
ok $? "with-hugepages 1x: exit $rc, names the value"
tools/with-hugepages 0 sh -c 'exit 7' 2>"$out/e"; rc=$?
[ $rc = 7 ] && [ ! -s "$out/e" ]
ok $? "with-hugepages 0: the command's exit status ($rc), nothing said"
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ ! -r $pool/free_hugepages ]; then
	echo "ok $((n+1)) # SKIP no 2 MiB huge pages on this kernel"
	echo "ok $((n+2)) # SKIP no 2 MiB huge pages on this kernel"
	n=$((n+2))
else
	free=$(cat $pool/free_hugepages) nr=$(cat /proc/sys/vm/nr_hugepages)
	if command -v setpriv >/dev/null; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			tools/with-hugepages $((free + 2)) sh -c 'exit 5' 2>"$out/e"; rc=$?
		[ $rc = 5 ] && grep -q "not root: .*sysctl vm.nr_hugepages=$((nr + 2)) " "$out/e"
		ok $? "with-hugepages, not root: runs the command (exit $rc) and names vm.nr_hugepages=$((nr + 2)): $(head -c 200 "$out/e")"
	else
		n=$((n+1)); echo "ok $n # SKIP no setpriv to drop root"
	fi
	if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		# one page more than is free: raised by 1 during, given back after
		inside=$(tools/with-hugepages $((free + 1)) cat /proc/sys/vm/nr_hugepages 2>"$out/e"); rc=$?
		after=$(cat /proc/sys/vm/nr_hugepages)
		[ $rc = 0 ] && [ "$inside" = $((nr + 1)) ] && [ "$after" = "$nr" ]
		ok $? "with-hugepages as root: vm.nr_hugepages $nr -> $inside during, $after after"
	else
		n=$((n+1)); echo "ok $n # SKIP not root: cannot reserve huge pages"
	fi
fi
exit $fail
