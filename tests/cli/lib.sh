# Shared helpers for the CLI tests (sourced).  Each test gets a scratch
# directory that is removed on exit, whatever happens.
set -eu
: "${VMDQ:?}" "${MKPCAP:?}" "${SRCDIR:?}"
T=$(mktemp -d /tmp/vmdq-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0
CHECKS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# eq WHAT GOT WANT
eq() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" != "$3" ]; then fail "$1: got '$2', want '$3'"; fi
}
# contains WHAT FILE TEXT
contains() {
	CHECKS=$((CHECKS + 1))
	if ! grep -qF -- "$3" "$2"; then fail "$1: '$3' not in $(cat "$2")"; fi
}
# frames in a capture
npkts() { tcpdump -r "$1" -n 2>/dev/null | wc -l; }
finish() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}
