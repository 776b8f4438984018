#!/bin/sh
# --help for every command, usage errors, exit statuses.
. "$(dirname "$0")/lib.sh"
for c in "" "sort" "transmit" "switch" "ctl" "bench" "bench sort" "bench hol" "bench fdb" "bench switch"; do
	# shellcheck disable=SC2086
	"$VMDQ" $c --help > "$T/h" 2>&1 || fail "vmdq $c --help failed"
	contains "vmdq $c --help" "$T/h" "usage: vmdq"
done
"$VMDQ" --version > "$T/v"
contains version "$T/v" "vmdq "
set +e
"$VMDQ" > /dev/null 2>&1; eq "no command" $? 2
"$VMDQ" frob 2> "$T/e"; eq "unknown command" $? 2
contains "unknown command" "$T/e" "unknown command 'frob'"
"$VMDQ" sort 2> "$T/e"; eq "sort without args" $? 2
contains "sort args" "$T/e" "-c, -r and -w are required"
"$VMDQ" sort -c a -r b -w c extra 2> "$T/e"; eq "sort extra arg" $? 2
"$VMDQ" bench frob 2> "$T/e"; eq "unknown bench" $? 2
"$VMDQ" sort -c /nonexistent.conf -r x -w y 2> "$T/e"; eq "missing config" $? 2
contains "missing config" "$T/e" "/nonexistent.conf: No such file or directory"
set -e
# the man page is well-formed and names every command
MANWIDTH=80 man -l "$SRCDIR/doc/vmdq.1" 2>"$T/manerr" | tr -s ' ' > "$T/man"
eq "man page renders" "$(test -s "$T/man" && echo yes)" yes
eq "man page warnings" "$(cat "$T/manerr")" ""
if [ -s "$T/man" ]; then
	for w in "vmdq sort" "vmdq transmit" "vmdq switch" "vmdq ctl" "vmdq bench" "filter add" "at K" "uplink NAME afpacket IFNAME"; do
		contains "man page: $w" "$T/man" "$w"
	done
fi
finish
