#!/bin/sh
# Part 0 of `make demo`: the switch on real interfaces.  Builds the topology
#
#   [ext 10.99.0.100] --veth-- uplink | vmdq switch | tap -- [vm1 10.99.0.1]
#                                                   | tap -- [vm2 10.99.0.2]
#                                                   | tap -- [vm3, VLAN 100]
#
# runs ping, a TCP stream each way and a broadcast through it, shows the
# per-queue counters, and removes everything it made.
set -eu
V=$1
[ "$(id -u)" -eq 0 ] || { echo "== 0. The switch, live: skipped (needs root)"; exit 0; }
top=$(cd "$(dirname "$0")/.." && pwd)
ID=$$
T=$(mktemp -d /tmp/vmdq-demo-sw.XXXXXX)
SW=
cleanup() {
	[ -n "$SW" ] && kill -TERM "$SW" 2>/dev/null && wait "$SW" 2>/dev/null
	ip link del vqu$ID 2>/dev/null || true
	for n in vqe$ID vq1$ID vq2$ID vq3$ID; do
		ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del $n 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
for n in vqe$ID vq1$ID vq2$ID vq3$ID; do
	ip netns add $n 2>/dev/null || { echo "== 0. The switch, live: skipped (no network namespaces)"; exit 0; }
	ip -n $n link set lo up
done
ip link add vqu$ID type veth peer name eth0 netns vqe$ID
ip link set vqu$ID up
ip -n vqe$ID link set eth0 address 02:ee:00:00:00:01 up
ip -n vqe$ID addr add 10.99.0.100/24 dev eth0
sed "s/@ID@/$ID/g" "$top/examples/switch.conf.in" > "$T/switch.conf"
echo "== 0. The switch, live: examples/switch.conf.in"
echo
grep -v '^#' "$T/switch.conf" | sed 's/^/    /'
echo
"$V" switch -c "$T/switch.conf" --ctl "$T/ctl.sock" 2> "$T/switch.log" &
SW=$!
for _ in $(seq 50); do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done
[ -S "$T/ctl.sock" ] || { cat "$T/switch.log"; exit 1; }
for i in 1 2 3; do
	ip -n vq$i$ID link set vqt$i$ID address 02:00:00:00:00:0$i up
	ip -n vq$i$ID addr add 10.99.0.$i/24 dev vqt$i$ID
done
ctl() { "$V" ctl --ctl "$T/ctl.sock" "$@"; }
say() { printf '    %-44s ' "$1"; }
say "ping ext -> vm1:"
ip netns exec vqe$ID ping -c 3 -i 0.2 -W 2 -q 10.99.0.1 | grep -o '[0-9]* received'
say "ping vm1 -> vm2 (VM to VM, inside the switch):"
ip netns exec vq1$ID ping -c 3 -i 0.2 -W 2 -q 10.99.0.2 | grep -o '[0-9]* received'
say "ping vm3 -> ext (VLAN 100 vs untagged):"
ip netns exec vq3$ID ping -c 2 -i 0.2 -W 1 -q 10.99.0.100 2>/dev/null | grep -o '[0-9]* received' || echo "0 received (different VLANs, as it should be)"
if command -v iperf3 > /dev/null; then
	ip netns exec vq1$ID iperf3 -s -1 -p 5201 > /dev/null 2>&1 &
	sleep 0.4
	say "TCP ext -> vm1, 3 s:"
	ip netns exec vqe$ID iperf3 -c 10.99.0.1 -p 5201 -t 3 -J |
		jq -r '"\(.end.sum_received.bits_per_second / 1e9 * 100 | round / 100) Gbit/s"'
	ip netns exec vqe$ID iperf3 -s -1 -p 5202 > /dev/null 2>&1 &
	sleep 0.4
	say "TCP vm2 -> ext, 3 s:"
	ip netns exec vq2$ID iperf3 -c 10.99.0.100 -p 5202 -t 3 -J |
		jq -r '"\(.end.sum_received.bits_per_second / 1e9 * 100 | round / 100) Gbit/s"'
fi
say "broadcast from ext (arping, 3 frames):"
ip netns exec vqe$ID ping -b -c 3 -i 0.2 -W 1 -q 10.99.0.255 > /dev/null 2>&1 || true
echo "sent"
if command -v iperf3 > /dev/null; then
	echo
	echo "    Greedy vs light: the wire is slowed to 20 000 frames/s (vmdq ctl uplink"
	echo "    txrate 20000) so that it is the bottleneck; vm1 floods it with small"
	echo "    UDP frames while vm2 pings ext 100 times.  Each VM has its own TX"
	echo "    queue.  First with the arbiter in 'fifo' (one line in arrival order,"
	echo "    as without VMDq), then in 'rr' (round robin over the queues)."
	ctl uplink txrate 20000 > /dev/null
	ip netns exec vqe$ID iperf3 -s -p 5301 > /dev/null 2>&1 &
	IS=$!
	sleep 0.4
	for arb in fifo rr; do
		ctl device arbiter $arb > /dev/null
		ip netns exec vq1$ID iperf3 -c 10.99.0.100 -p 5301 -u -b 0 -l 64 -t 4 > /dev/null 2>&1 &
		G=$!
		sleep 1
		say "arbiter $arb: vm2's 100 pings under the flood:"
		ip netns exec vq2$ID ping -c 100 -i 0.01 -W 1 -q 10.99.0.100 |
			awk -F'[ /]' '/received/ { r = $4 } /rtt/ { printf "%s received, avg rtt %s ms\n", r, $8 }'
		wait $G 2>/dev/null || true
	done
	kill $IS 2>/dev/null || true
	ctl device arbiter rr > /dev/null
	ctl uplink txrate 0 > /dev/null
fi
echo
echo "    vmdq ctl show vifs"
ctl show vifs | sed 's/^/      /'
echo
echo "    vmdq ctl show queues"
ctl show queues | sed 's/^/      /'
echo
echo "    vmdq ctl show stats"
ctl show stats | sed 's/^/      /'
echo
echo "    Each VM's frames came out of its own queue in groups (one forwarding"
echo "    decision per group); broadcasts and ARP went through the default"
echo "    queue, frame by frame, to the VMs of their VLAN only.  vm3 on VLAN 100"
echo "    could not reach the untagged host: its frames left the uplink tagged."
echo "    Under 'fifo' vm2's pings waited behind vm1's backlog; under 'rr' the"
echo "    arbiter takes from each VM's queue in turn (WP 1.4.3), so vm2's frames"
echo "    wait for at most one of vm1's: vm1's surplus stays in vm1's own queue"
echo "    (and its TAP), not in front of vm2's."
kill -TERM "$SW"
wait "$SW" || true
SW=
echo "    (switch stopped; its TAPs, the namespaces and the veth are removed)"
