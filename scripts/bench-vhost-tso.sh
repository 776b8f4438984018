#!/bin/bash
# bench-vhost-tso.sh BUILD [SECONDS]: super-frames over vhost-user (issue
# 14), vmdq's vhost-user back-end against DPDK's (testpmd net_vhost), with
# testpmd virtio-user guests that negotiate checksum offload and TSO.
# Bytes/s, each figure the median of three, the runs of each path
# interleaved; the back-end on CPU 0, the guests' forwarding lcores on
# CPU 1 (two guests share it).
#
#   guest A (sender): testpmd, port 0 net_pcap replaying from memory TCP/IPv4
#     frames of 44 * 1448 bytes of payload (infinite_rx), port 1 virtio-user
#     with TCP checksum and TSO offloads (`csum set tcp hw`, `tso set 1448`:
#     CSUM and HOST_TSO4/6 negotiated; virtio has no IPv4 header checksum
#     offload, the engine computes it); the csum engine hands each frame to
#     port 1 as one super-frame (GSO TCPV4, gso_size 1448).
#   guest B (receiver): testpmd virtio-user with rx offloads TCP/UDP
#     checksum and LRO (GUEST_CSUM, GUEST_TSO4/6 negotiated), rxonly.
#
#   guest -> guest: vmdq, two vhost-user vifs (targeted off: a super-frame
#     goes whole into B's mergeable buffers); DPDK, testpmd with net_vhost0
#     and net_vhost1, io forwarding.  Rate: B's RX-bytes.
#   guest -> wire: vmdq with an AF_PACKET uplink on a veth (the kernel takes
#     the super-frame whole, PACKET_VNET_HDR), and with a pcap uplink to
#     /dev/null (it cannot take TSO: the switch cuts each super-frame into 44
#     segments); DPDK, testpmd net_vhost rxonly (no wire behind it).  Rate:
#     the bytes guest A's port 1 sent (TX-bytes: what the back-end took).
#
# Needs root, dpdk-testpmd, librte-net-vhost/virtio/pcap, jq, python3.
set -eu
build=${1:-build}
secs=${2:-5}
VMDQ=$(cd "$build" && pwd)/vmdq
T=$(mktemp -d /tmp/vmdq-bench-tso.XXXXXX)
NS=vqtso$$
# every process started is listed in $T/pids (the runs are subshells: a
# variable would not reach cleanup, and a leftover fifo holder would keep
# the heavy lock's descriptor open)
cleanup() {
	for p in $(cat "$T/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip link del "vqtso$$" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing (apt-get install dpdk-dev)"; exit 1; }
. "$(dirname "$0")/testpmd.sh"
TP_PREFIX=vqt
. "$(dirname "$0")/bench-lib.sh"

PAY=$((44 * 1448))
FRAME=$((14 + 20 + 20 + PAY))
# the sender's frames: A (02:..:01) to B (02:..:02), TCP/IPv4, 8 flows
/usr/bin/python3 - "$T/a.pcap" "$PAY" <<'P'
import struct, sys
out, pay = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    for k in range(8):
        data = bytes((i * 7 + k) & 0xff for i in range(pay))
        tcp = struct.pack("!HHIIBBHHH", 40000 + k, 5001, 1000 * k, 0, 5 << 4, 0x18, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + pay, k, 0x4000, 64, 6, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = bytes.fromhex("020000000002" "020000000001" "0800")
        fr = eth + ip + tcp + data
        f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
P

# wait_log NAME PATTERN: until testpmd NAME's log has PATTERN (10 s)
wait_log() {
	for _ in $(seq 100); do grep -q "$2" "$T/$1.log" && return 0; sleep 0.1; done
	echo "testpmd $1: no '$2':" >&2; tail -20 "$T/$1.log" >&2; exit 1
}
# the guests (their forwarding lcores on CPU 1)
guest_a() { # SOCK PEER_MAC (the csum engine writes the peer's MAC as destination)
	tp a -l 0,1 --main-lcore 0 \
		--vdev "net_pcap0,rx_pcap=$T/a.pcap,tx_pcap=/dev/null,infinite_rx=1" \
		--vdev "net_virtio_user1,mac=02:00:00:00:00:01,path=$1,queues=1" -- \
		-i --nb-cores=1 --total-num-mbufs=2048 --mbuf-size=65535 --txd=1024 \
		--forward-mode=csum --eth-peer="1,$2"
	testpmd_cmd a "port stop all"
	testpmd_cmd a "csum set tcp hw 1"
	testpmd_cmd a "tso set 1448 1"
	testpmd_cmd a "port start all"
	testpmd_cmd a "start"
	wait_log a "csum packet forwarding"
}
guest_b() { # SOCK
	tp b -l 0,1 --main-lcore 0 \
		--vdev "net_virtio_user0,mac=02:00:00:00:00:02,path=$1,queues=1" -- \
		-i --nb-cores=1 --total-num-mbufs=4096 --mbuf-size=65535 --rxd=1024 \
		--rx-offloads=0x201c --forward-mode=rxonly
	testpmd_cmd b "start"
	wait_log b "rxonly packet forwarding"
}
# a port's counter: testpmd_show's block for port P
tstat() { # NAME PORT FIELD
	testpmd_show "$1" "show port stats $2" "NIC statistics for port $2" '^  #\+$' "$3"
}
# after a vmdq run: what crossed as super-frames and what was cut
offload_seen() {
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats |
		jq -r '"gso-super \(.offload["gso-super"]) gso-segments \(.offload["gso-segments"]) csum-completed \(.offload["csum-completed"])"' \
		>> "$T/offload.txt"
	[ -z "${LOGS:-}" ] || "$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs | jq -c '.[] | {name, to_vm, from_vm,
		drops: (.drops | with_entries(select(.value != 0))),
		guest: (.guest | with_entries(select(.value != 0)))}' >> "$T/offload.txt"
}

vmdq_g2g() {
	: > "$T/e.txt"
	"$(dirname "$VMDQ")/vmdq-mkpcap" "$T/e.txt" "$T/e.pcap"
	cat > "$T/sw.conf" <<EOF
uplink wire pcap $T/e.pcap /dev/null
vif a vhost-user $T/a.sock targeted off mac 02:00:00:00:00:01
vif b vhost-user $T/b.sock targeted off mac 02:00:00:00:00:02
EOF
	start_switch "$T/sw.conf"
	guest_b "$T/b.sock"
	guest_a "$T/a.sock" 02:00:00:00:00:02
	rate tstat b 0 RX-bytes
	offload_seen
	tstop a
	tstop b
	stop_switch
}
dpdk_g2g() {
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/a.sock,queues=1,tso=1" \
		--vdev "net_vhost1,iface=$T/b.sock,queues=1,tso=1" -- \
		-i --nb-cores=1 --total-num-mbufs=32768 --mbuf-size=65535 --total-num-mbufs=4096 \
		--max-pkt-len=65535 --forward-mode=io
	guest_b "$T/b.sock"
	guest_a "$T/a.sock" 02:00:00:00:00:02
	testpmd_cmd host start
	rate tstat b 0 RX-bytes
	tstop a
	tstop b
	tstop host
}
vmdq_g2w() { # afpacket|pcap
	if [ "$1" = afpacket ]; then
		ip netns add "$NS"
		ip link add "vqtso$$" type veth peer name eth0 netns "$NS"
		ip link set "vqtso$$" up
		ip -n "$NS" link set eth0 up
		echo "uplink wire afpacket vqtso$$" > "$T/sw.conf"
	else
		: > "$T/e.txt"
		"$(dirname "$VMDQ")/vmdq-mkpcap" "$T/e.txt" "$T/e.pcap"
		echo "uplink wire pcap $T/e.pcap /dev/null" > "$T/sw.conf"
	fi
	echo "vif a vhost-user $T/a.sock targeted off mac 02:00:00:00:00:01" >> "$T/sw.conf"
	start_switch "$T/sw.conf"
	guest_a "$T/a.sock" 02:ee:00:00:00:01
	rate tstat a 1 TX-bytes
	offload_seen
	tstop a
	stop_switch
	if [ "$1" = afpacket ]; then
		ip link del "vqtso$$"
		ip netns del "$NS"
	fi
}
dpdk_g2w() {
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/a.sock,queues=1,tso=1" -- \
		-i --nb-cores=1 --mbuf-size=65535 --total-num-mbufs=4096 --max-pkt-len=65535 \
		--forward-mode=rxonly
	guest_a "$T/a.sock" 02:ee:00:00:00:01
	testpmd_cmd host start
	rate tstat a 1 TX-bytes
	tstop a
	tstop host
}

# ONE=PATH runs one path once (to try it): vmdq_g2g, dpdk_g2g, "vmdq_g2w afpacket", ...
if [ -n "${ONE:-}" ]; then
	$ONE
	cat "$T/offload.txt" 2>/dev/null || true
	[ -z "${LOGS:-}" ] || tail -n 60 "$T"/*.log
	exit 0
fi

echo "super-frames over vhost-user ($FRAME-byte TCP/IPv4 frames sent with TSO, gso_size 1448),"
echo "bytes/s; $secs s per figure, each the median of three, the runs of a path interleaved"
printf '%-44s %14s   %s\n' "path" "median" "runs"
A=() B=() C=() D=() E=()
for _ in 1 2 3; do
	A+=("$(vmdq_g2g)")
	B+=("$(dpdk_g2g)")
	C+=("$(vmdq_g2w afpacket)")
	D+=("$(vmdq_g2w pcap)")
	E+=("$(dpdk_g2w)")
done
r1=$(med "${A[@]}") r2=$(med "${B[@]}") r3=$(med "${C[@]}") r4=$(med "${D[@]}") r5=$(med "${E[@]}")
printf '%-44s %14s   %s\n' "guest->guest vmdq" "$r1" "${A[*]}"
printf '%-44s %14s   %s\n' "guest->guest DPDK vhost (io fwd)" "$r2" "${B[*]}"
printf '%-44s %14s   %s\n' "guest->wire vmdq, afpacket veth (whole)" "$r3" "${C[*]}"
printf '%-44s %14s   %s\n' "guest->wire vmdq, pcap /dev/null (cut)" "$r4" "${D[*]}"
printf '%-44s %14s   %s\n' "guest->wire DPDK vhost rxonly" "$r5" "${E[*]}"
awk -v a="$r1" -v b="$r2" -v c="$r3" -v d="$r4" -v e="$r5" 'BEGIN {
	printf "vmdq/DPDK: guest->guest %.2fx, guest->wire %.2fx (afpacket), %.2fx (pcap, cut)\n",
		a / b, c / e, d / e }'
echo "vmdq's offload counters after each run (cumulative per run):"
cat "$T/offload.txt"
