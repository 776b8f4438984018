#!/bin/sh
# make demo: vmdq at work.
#  0. the switch, live: an external host and three VMs in network
#     namespaces (needs root; skipped with a note otherwise);
#  1. sorting: a capture from a host's uplink through the device, per queue;
#  2. fairness: a greedy VM and a light VM share a 10 Gbit/s wire, FIFO
#     (one shared queue) against VMDq's round robin over per-VM queues;
#  3. head-of-line blocking, the white paper's claim, in numbers.
set -eu
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
V="$top/$B/vmdq"
out=$(mktemp -d /tmp/vmdq-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT

"$top/scripts/demo-switch.sh" "$V" || echo "(the live switch demo could not run here; the offline parts follow)"
echo
echo "== 1. Sorting: $B/demo.pcap through examples/demo.conf"
echo
grep -v '^#' "$top/examples/demo.conf" | sed 's/^/    /'
echo
"$V" sort -c "$top/examples/demo.conf" -r "$top/$B/demo.pcap" -w "$out/sort" --trace
S="$out/sort/stats.json"
printf '    %-6s %-34s %7s %7s %7s\n' queue "who" frames bytes missed
jq -r '.queues[] | select(.frames > 0 or .missed > 0) | [.queue, .frames, .bytes, .missed] | @tsv' "$S" |
while IFS="$(printf '\t')" read -r q f b m; do
	case $q in
	0) who="default (bcast, mcast, unknown)";;
	1) who="VM1 02:..:01 (+ group 33:33::1)";;
	2) who="VM2 02:..:02";;
	3) who="VM3 02:..:03 on VLAN 100";;
	*) who="";;
	esac
	printf '    %-6s %-34s %7s %7s %7s\n' "$q" "$who" "$f" "$b" "$m"
done
echo
echo "    dropped: $(jq -r '.drops | to_entries | map("\(.key) \(.value)") | join(", ")' "$S")"
echo "    $(jq .frames "$S") frames in = $(jq '[.queues[].frames] | add' "$S") queued + $(jq '[.drops[]] | add' "$S") dropped"
echo
echo "    The trace says what happened to every frame: VM1's frame matched filter"
echo "    1; VM3's frame on VLAN 100 matched its pair filter 3; the same MAC"
echo "    untagged matched nothing and went to the default queue; a jumbo frame"
echo "    was dropped as oversize:"
jq -c 'select(.frame == 0 or .frame == 65 or .frame == 80 or .frame == 100)' "$out/sort/trace.jsonl" | sed 's/^/      /'
echo

echo "== 2. Fairness: a greedy VM (queue 1: 200 full-size frames at once) and a"
echo "      light VM (queue 2: one small frame every 10 us) on a 10 Gbit/s wire"
printf '02:00:00:00:00:09 02:00:00:00:00:01 len 1518 repeat 200 gap 0\n' > "$out/g.txt"
printf '02:00:00:00:00:09 02:00:00:00:00:02 len 64 repeat 20 gap 10000\n' > "$out/l.txt"
"$top/$B/vmdq-mkpcap" "$out/g.txt" "$out/greedy.pcap"
"$top/$B/vmdq-mkpcap" "$out/l.txt" "$out/light.pcap"
echo
printf '    %-40s %12s %12s\n' "arbiter" "light p50 us" "light max us"
for a in fifo rr drr; do
	printf 'device arbiter %s\n' "$a" > "$out/$a.conf"
	"$V" transmit -c "$out/$a.conf" -w "$out/$a.pcap" -s "$out/$a.json" 1="$out/greedy.pcap" 2="$out/light.pcap"
	case $a in
	fifo) d="fifo (one shared queue, a plain NIC)";;
	rr) d="rr (per-VM queues, VMDq round robin)";;
	drr) d="drr (per-VM queues, deficit round robin)";;
	esac
	printf '    %-40s %12s %12s\n' "$d" "$(jq '.queues[1].latency_us.p50' "$out/$a.json")" \
		"$(jq '.queues[1].latency_us.max' "$out/$a.json")"
done
echo
echo "    Behind one shared queue the light VM waits for the greedy VM's whole"
echo "    burst; with a queue per VM it waits for at most one frame."
echo

echo "== 3. Head-of-line blocking (WP 1.4.3, 3.6): N x N switch, saturated"
"$V" bench hol --slots 100000 | sed -n '4,11p' | sed 's/^/    /'
echo
echo "demo done.  Next: 'build/vmdq --help', 'man ./doc/vmdq.1', README.md."
