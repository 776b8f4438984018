#!/bin/sh
# Switch benchmark (issue 3): 64-byte UDP frames from an external host to three
# VMs, through vmdq switch and through the Linux bridge, on the identical
# topology, in the same run; then the switch again with sorting off (every
# frame through the default queue, frame by frame), and the switch with
# AF_XDP ports instead of AF_PACKET:
#
#   [ext] eth0 --veth-- up  | switch or br0 |  vmNh --veth-- eth0 [vmN]  N = 1..3
#
# trafgen (netsniff-ng) sends for SECONDS (default 5) pinned to CPU 0; the
# switch runs pinned to CPU 1.  Frames delivered = the VMs' eth0 rx_packets.
# Every interface keeps the kernel's default offloads (issue 14).
# Needs root.  Usage: scripts/bench-switch.sh [BUILD] [SECONDS]
#   AB=OLD_VMDQ: instead, an older build's switch (the binary OLD_VMDQ)
#   against this one, AF_PACKET ports then AF_XDP ports, old and new
#   interleaved, ROUNDS (default 3) rounds, medians and new/old ratios, of
#   frames/s and (where perf is installed) of the switch's CPU time per frame;
#   AB_KINDS="afpacket" (or "afxdp"): those ports only
#   PERF=DIR: perf record -g of the switch during each switch run,
#   DIR/NAME.data (NAME the row's, spaces as dashes)
set -eu
B=${1:-build}
SECS=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
V="$top/$B/vmdq"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 1; }
command -v trafgen > /dev/null || { echo "needs trafgen (netsniff-ng)"; exit 1; }
ID=$$
T=$(mktemp -d /tmp/vmdq-bench.XXXXXX)
SW=
cleanup() {
	[ -n "$SW" ] && kill -TERM "$SW" 2>/dev/null && wait "$SW" 2>/dev/null
	ip link del br$ID 2>/dev/null || true
	ip link del up$ID 2>/dev/null || true
	for i in 1 2 3; do ip link del vm${i}h$ID 2>/dev/null || true; done
	for n in be$ID b1$ID b2$ID b3$ID; do
		ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del $n 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
ip netns add be$ID
ip link add up$ID type veth peer name eth0 netns be$ID
ip -n be$ID link set eth0 address 02:ee:00:00:00:01 up
ip link set up$ID up
for i in 1 2 3; do
	ip netns add b$i$ID
	ip link add vm${i}h$ID type veth peer name eth0 netns b$i$ID
	ip -n b$i$ID link set eth0 address 02:00:00:00:00:0$i up
	ip link set vm${i}h$ID up
done

# 64-byte UDP frames (60 + FCS) to each VM in turn, with valid IPv4 headers
# (where br_netfilter is loaded, the bridge hands IPv4 to iptables, which
# drops bad headers)
cat > "$T/tg.cfg" <<X
$(for i in 1 2 3; do cat <<P
{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x0$i, 0x02, 0xee, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 99, 0, 100, 10, 99, 0, $i, 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x1a, 0x00, 0x00,
  fill(0x55, 18) }
P
done)
X
delivered() {
	t=0
	for i in 1 2 3; do
		t=$((t + $(ip netns exec b$i$ID cat /sys/class/net/eth0/statistics/rx_packets)))
	done
	echo $t
}
sent() { ip netns exec be$ID cat /sys/class/net/eth0/statistics/tx_packets; }
# run NAME: trafgen for SECS, prints "NAME sent delivered fps"
# start_sw CONFIG: starts the switch on CPU 1, returns once its socket is up
start_sw() {
	rm -f "$T/ctl.sock"
	taskset -c 1 "$V" switch -c "$1" --ctl "$T/ctl.sock" -s "$T/stats.json" 2> "$T/sw.log" &
	SW=$!
	for _ in $(seq 50); do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done
}
# (CPUSTAT=1: also the switch's CPU time per frame delivered, ns, from perf
# stat's task-clock over the run: less at the mercy of a busy machine than
# frames/s)
run() {
	d0=$(delivered); s0=$(sent)
	pp=
	if [ -n "${CPUSTAT:-}" ] && [ -n "$SW" ]; then
		perf stat -e task-clock -x, -o "$T/ps" -p "$SW" -- sleep "$SECS" > /dev/null 2>&1 &
		pp=$!
	fi
	pr=
	if [ -n "${PERF:-}" ] && [ -n "$SW" ]; then
		perf record -q -g -p "$SW" -o "$PERF/$(echo "$1" | tr ' ' -).data" -- sleep "$SECS" \
			> /dev/null 2>&1 &
		pr=$!
	fi
	# one trafgen process (it forks one per CPU otherwise), stopped by time
	ip netns exec be$ID timeout -s INT "$SECS" taskset -c 0 \
		trafgen --dev eth0 --conf "$T/tg.cfg" --cpus 1 > /dev/null 2>&1 || true
	sleep 0.5
	d=$(( $(delivered) - d0 )); s=$(( $(sent) - s0 ))
	[ -z "$pr" ] || wait "$pr" || true
	ns=
	if [ -n "$pp" ]; then
		wait "$pp" || true
		ms=$(awk -F, '/task-clock/ { print $1 }' "$T/ps")
		ns=$(awk -v ms="$ms" -v d="$d" 'BEGIN { if (d) printf "%.0f", ms * 1e6 / d }')
	fi
	printf '%-14s %12s %12s %12s %6s%% %s\n' "$1" "$s" "$d" "$((d / SECS))" \
		"$((100 * d / (s ? s : 1)))" "$ns"
}

conf() { # afpacket|afxdp: the switch's config, every port of that kind
	cat > "$T/sw.conf" <<X
uplink up $1 up$ID
vif vm1 $1 vm1h$ID mac 02:00:00:00:00:01
vif vm2 $1 vm2h$ID mac 02:00:00:00:00:02
vif vm3 $1 vm3h$ID mac 02:00:00:00:00:03
X
}

if [ -n "${AB:-}" ]; then
	NEW=$V
	ROUNDS=${ROUNDS:-3}
	CPUSTAT=1
	printf '%-14s %12s %12s %12s %7s %s\n' "" "sent" "delivered" "frames/s" "share" "ns/frame"
	for r in $(seq "$ROUNDS"); do
		for kind in ${AB_KINDS:-afpacket afxdp}; do
			conf $kind
			for b in old new; do
				if [ $b = old ]; then V=$AB; else V=$NEW; fi
				start_sw "$T/sw.conf"
				run "$b $kind" | tee -a "$T/ab"
				kill -TERM $SW; wait $SW || true; SW=
			done
		done
	done
	echo
	echo "medians of $ROUNDS rounds (old: $AB): frames/s delivered; the switch's"
	echo "CPU time per frame delivered"
	m() { grep "^$1 $2 " "$T/ab" | awk "{ print \$$3 }" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }
	for kind in ${AB_KINDS:-afpacket afxdp}; do
		awk -v k=$kind -v o="$(m old $kind 5)" -v n="$(m new $kind 5)" \
			-v oc="$(m old $kind 7)" -v nc="$(m new $kind 7)" 'BEGIN {
			printf "%-9s frames/s old %9d new %9d new/old %.2fx;", k, o, n, o ? n / o : 0
			printf "  ns/frame old %5d new %5d new/old %.2fx\n", oc, nc, oc ? nc / oc : 0 }'
	done
	exit 0
fi

printf '%-14s %12s %12s %12s %7s\n' "" "sent" "delivered" "frames/s" "share"
# 1. the Linux bridge
ip link add br$ID type bridge
ip link set br$ID type bridge ageing_time 30000 stp_state 0
for l in up$ID vm1h$ID vm2h$ID vm3h$ID; do ip link set $l master br$ID; done
ip link set br$ID up
# let it learn the VMs' addresses (else it floods to all three)
for i in 1 2 3; do ip netns exec b$i$ID sh -c "ip addr add 10.99.0.$i/24 dev eth0"; done
ip netns exec be$ID ip addr add 10.99.0.100/24 dev eth0
for i in 1 2 3; do ip netns exec b$i$ID ping -c 1 -W 1 10.99.0.100 > /dev/null 2>&1 || true; done
# then take the VMs' addresses away: frames are counted on arrival at the
# VM's interface and dropped before its IP stack (otherwise each VM's stack,
# answering with ICMP port unreachable, runs on the forwarding CPU)
for i in 1 2 3; do ip -n b$i$ID addr flush dev eth0; done
run "linux bridge"
for l in up$ID vm1h$ID vm2h$ID vm3h$ID; do ip link set $l nomaster; done
ip link del br$ID
# 2. vmdq switch
conf afpacket
start_sw "$T/sw.conf"
run "vmdq switch"
"$V" ctl --ctl "$T/ctl.sock" show stats | sed 's/^/  /'
# 3. the same switch with sorting off: every frame through the default queue,
#    one FDB lookup and one hand-over per frame (WP 1.4.1's software bridge)
"$V" ctl --ctl "$T/ctl.sock" device vmdq off
run "vmdq per-frame"
kill -TERM $SW; wait $SW || true; SW=
# 4. the switch with AF_XDP ports (native XDP on the veths)
conf afxdp
start_sw "$T/sw.conf"
run "vmdq AF_XDP"
"$V" ctl --ctl "$T/ctl.sock" show stats | sed 's/^/  /'
kill -TERM $SW; wait $SW || true; SW=
