# Sourced by the tests/*.t scripts of the gmemkit commands (CMD=<command>
# first): BIN, a scratch directory $out removed at exit, TAP's ok(), and
# refused().
BIN=${O:-build}/gmemkit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

# refused WANT-IN-MESSAGE ARGS...: `gmemkit $CMD ARGS...` exits 2, its
# stderr holds the message, and every line of it starts "gmemkit $CMD: "
# (one message prefix per command).
refused() {
	local want=$1; shift
	"$BIN" "$CMD" "$@" >"$out/o" 2>"$out/e"; local rc=$?
	[ $rc = 2 ] && grep -qF -- "$want" "$out/e" && ! grep -qv "^gmemkit $CMD: " "$out/e"
	ok $? "$CMD $* refused (exit $rc): $(head -c 120 "$out/e")"
}
