#!/bin/sh
# Every capture of tcpdump's test suite (real traffic and deliberately
# malformed files) through `vmdq sort`: no crash, and every frame read is
# accounted for (in a queue or under a drop reason), with store-bad off and on.
. "$(dirname "$0")/lib.sh"
C="$SRCDIR/../shared/corpus/tcpdump"
if [ ! -d "$C" ]; then
	echo "no corpus at $C: skipped"
	exit 77
fi
cat > "$T/a.conf" <<'X'
device vmdq on
device promisc on
device allmulti on
filter add mac 01:80:c2:00:00:00 queue 1
filter add vlan 100 queue 2
filter add mac 00:00:00:00:00:01 vlan 1 queue 3
X
cat > "$T/b.conf" <<'X'
device profile 82599
device vmdq on
device store-bad on
device fcs on
device max-frame 1000
device default-queue 5
filter add vlan 1 queue 4
X
n=0
refused=0
for f in "$C"/*; do
	for cfg in a b; do
		out="$T/out"
		rm -rf "$out"
		set +e
		"$VMDQ" sort -c "$T/$cfg.conf" -r "$f" -w "$out" --trace 2> "$T/err"
		rc=$?
		set -e
		if [ "$rc" -ge 128 ] || grep -q "Sanitizer\|runtime error" "$T/err"; then
			fail "$(basename "$f") ($cfg): crashed (status $rc): $(head -5 "$T/err")"
			continue
		fi
		if [ "$rc" -ne 0 ]; then
			# refused as a whole: must say why, and only for input problems
			if ! grep -q "not a pcap\|not Ethernet" "$T/err"; then
				fail "$(basename "$f") ($cfg): exit $rc: $(cat "$T/err")"
			fi
			refused=$((refused + 1))
			continue
		fi
		fr=$(jq .frames "$out/stats.json")
		acc=$(jq '[.queues[].frames, .queues[].missed, .drops[]] | add' "$out/stats.json")
		eq "$(basename "$f") ($cfg) conservation" "$acc" "$fr"
		eq "$(basename "$f") ($cfg) trace lines" "$(wc -l < "$out/trace.jsonl")" "$fr"
		n=$((n + fr))
	done
done
echo "corpus: $(ls "$C" | wc -l) captures x 2 configs, $n frames accounted for, $refused refusals"
finish
