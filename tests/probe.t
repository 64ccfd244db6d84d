#!/usr/bin/env bash
# gmemkit probe: the conversion models (issue 22).  userfaultfd minor-fault
# support (shmem, hugetlbfs, SIGBUS mode), the 2 MiB huge pages, and which
# models gmemkit can use, in --json and in the text, consistent with each
# other; a model that cannot be used says why.  Where setpriv can drop
# root, also as an unprivileged user (userfaultfd is then usually refused:
# vm.unprivileged_userfaultfd).
set -u
CMD=probe
. "$(dirname "$0")/cli.sh"

echo "1..7"
cat >"$out/check.pl" <<'PERL'
use strict; use warnings; use JSON::PP;
local $/; my $d = decode_json(<STDIN>); my @bad;
for my $k (qw(uffd uffd_sigbus uffd_minor_shmem uffd_minor_hugetlbfs model_lazy model_eager
	      model_huge model_huge_tried)) {
	push @bad, "$k: not a boolean" unless JSON::PP::is_bool($d->{$k});
}
for my $k (qw(uffd_features huge_page_default_kb nr_hugepages huge_2m_total huge_2m_free
	      huge_2m_resv)) {
	push @bad, "$k: not an integer" unless defined $d->{$k} && $d->{$k} =~ /^-?\d+$/;
}
for my $k (qw(uffd_error model_lazy_why model_eager_why model_huge_why models)) {
	push @bad, "$k: missing" unless defined $d->{$k};
}
exit(print(join("\n", @bad), "\n") && 1) if @bad;
my @m = grep { $d->{"model_$_"} } qw(lazy eager huge);
push @bad, "models '$d->{models}' but usable: @m"
	unless $d->{models} eq (@m ? join(",", @m) : "none");
for my $m (qw(lazy eager huge)) {
	my $why = $d->{"model_${m}_why"};
	push @bad, "model_$m: usable but why '$why'" if $d->{"model_$m"} && $why ne "";
	push @bad, "model_$m: unusable and no why" if !$d->{"model_$m"} && $why eq "";
}
push @bad, "eager usable without userfaultfd minor faults on shmem in SIGBUS mode"
	if $d->{model_eager} && !($d->{uffd} && $d->{uffd_sigbus} && $d->{uffd_minor_shmem});
push @bad, "huge usable without userfaultfd minor faults on hugetlbfs or a free page"
	if $d->{model_huge} && !($d->{uffd_minor_hugetlbfs} && $d->{model_huge_tried});
push @bad, "uffd refused but no uffd_error" if !$d->{uffd} && $d->{uffd_error} eq "";
push @bad, "huge tried ($d->{model_huge_tried}) iff a page was free ($d->{huge_2m_free})"
	unless ($d->{model_huge_tried} ? 1 : 0) == ($d->{huge_2m_free} > 0 ? 1 : 0);
push @bad, "free $d->{huge_2m_free} > total $d->{huge_2m_total}"
	if $d->{huge_2m_free} > $d->{huge_2m_total};
push @bad, "huge unusable with a page free and no reason naming it: $d->{model_huge_why}"
	if !$d->{model_huge} && !$d->{model_huge_tried} && $d->{huge_2m_total} >= 0 &&
	   $d->{uffd} && $d->{uffd_minor_hugetlbfs} && $d->{model_huge_why} !~ /vm\.nr_hugepages/;
print join("\n", @bad), "\n" if @bad;
exit(@bad ? 1 : 0);
PERL

"$BIN" probe --json >"$out/j" 2>"$out/e"
ok $? "probe --json exits 0 $(head -c 200 "$out/e")"
perl "$out/check.pl" <"$out/j" >"$out/why" 2>&1
ok $? "JSON: userfaultfd, huge-page and model keys, consistent $(head -c 300 "$out/why")"
"$BIN" probe >"$out/t" 2>"$out/e"
ok $? "probe (text) exits 0"
grep -q '^conversion models (each tried' "$out/t" && grep -q '^  userfaultfd  ' "$out/t" &&
	grep -q '^  2 MiB huge pages  .*vm\.nr_hugepages = ' "$out/t" &&
	grep -q '^  lazy  *\(yes\|no\) ' "$out/t" && grep -q '^  eager  *\(yes\|no\) ' "$out/t" &&
	grep -q '^  huge  *\(yes\|no\) ' "$out/t" && grep -q '^  conversion models    ' "$out/t"
ok $? "text: userfaultfd, huge pages, each model, the models gmemkit will use"
models=$(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{models}' <"$out/j")
grep -q "^  conversion models    $models " "$out/t"
ok $? "text and JSON name the same usable models ($models)"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" probe --json >"$out/j2" 2>"$out/e"
	ok $? "probe --json as an unprivileged user exits 0"
	perl "$out/check.pl" <"$out/j2" >"$out/why" 2>&1
	ok $? "unprivileged: keys consistent, an unusable model says why $(head -c 300 "$out/why")"
else
	echo "ok $((n+1)) # SKIP not root or no setpriv"
	echo "ok $((n+2)) # SKIP not root or no setpriv"
	n=$((n+2))
fi
exit $fail
