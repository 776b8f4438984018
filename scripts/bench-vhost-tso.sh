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
#   wire -> guest: a sender in a namespace (frames.py send, on CPU 1 with
#     guest B) writes the same TCP/IPv4 frames from a wire MAC to B as
#     super-frames (PACKET_VNET_HDR, GSO TCPV4) into its end of a veth;
#     the other end, with GRO on (see wire_up), is the uplink: vmdq's
#     AF_PACKET uplink (the super-frame received whole with its header,
#     into B's mergeable buffers), or DPDK's net_af_packet forwarded (io) to
#     net_vhost.  Rate: B's RX-bytes.
#
# Needs root, dpdk-testpmd, librte-net-vhost/virtio/pcap/af-packet, jq, python3,
# ethtool.
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
# frames.py pcap OUT PAY | send IFNAME PAY: the same 8 TCP/IPv4 flows of PAY
# bytes of payload each, as a capture for guest A (02:..:01 to B, 02:..:02,
# checksums complete), or sent for ever on IFNAME by a packet socket with
# PACKET_VNET_HDR as super-frames from the wire (02:ee:..:01 to B; GSO
# TCPV4, gso_size 1448, the TCP checksum partial)
cat > "$T/frames.py" <<'P'
import socket, struct, sys
mode, where, pay = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(k, src, partial):
    data = bytes((i * 7 + k) & 0xff for i in range(pay))
    saddr, daddr = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    ck = 0xffff & ~csum(saddr + daddr + struct.pack("!HH", 6, 20 + pay)) if partial else 0
    tcp = struct.pack("!HHIIBBHHH", 40000 + k, 5001, 1000 * k, 0, 5 << 4, 0x18, 65535, ck, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + pay, k, 0x4000, 64, 6, 0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return bytes.fromhex("020000000002" + src + "0800") + ip + tcp + data
if mode == "pcap":
    with open(where, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for k in range(8):
            fr = frame(k, "020000000001", False)
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
else:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # receives nothing
    s.setsockopt(263, 15, 1)  # SOL_PACKET, PACKET_VNET_HDR
    to = (where, 0x0800)  # ETH_P_IP
    # virtio_net_hdr: NEEDS_CSUM, GSO_TCPV4, hdr_len, gso_size, csum_start, csum_offset
    hdr = struct.pack("<BBHHHH", 1, 1, 54, 1448, 34, 16)
    frames = [hdr + frame(k, "02ee00000001", True) for k in range(8)]
    while True:
        for fr in frames:
            s.sendto(fr, to)
P
/usr/bin/python3 "$T/frames.py" pcap "$T/a.pcap" "$PAY"

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

# wire_up [gro]: the wire, a veth whose end vqtso$$ is the uplink (the
# switch's, or DPDK's net_af_packet), the other end eth0 in namespace $NS.
# gro: GRO on on the uplink's end (a veth has it off by default, a NIC on):
# the sender's super-frames are cut by eth0 (a packet socket's GSO is
# untrusted and a veth lacks GSO_ROBUST) and GRO makes them whole again on
# the way in, as a NIC's does with what comes off the wire.  No offload is
# turned off.
wire_up() {
	ip netns add "$NS"
	ip link add "vqtso$$" type veth peer name eth0 netns "$NS"
	if [ "${1:-}" = gro ]; then ethtool -K "vqtso$$" gro on > /dev/null; fi
	ip link set "vqtso$$" up
	ip -n "$NS" link set eth0 up
}
wire_down() {
	ip link del "vqtso$$"
	ip netns del "$NS"
}
# the wire's sender on CPU 1 (with guest B), super-frames to B
send_start() {
	ip netns exec "$NS" taskset -c 1 /usr/bin/python3 "$T/frames.py" send eth0 "$PAY" &
	echo $! >> "$T/pids"
	echo $! > "$T/send.pid"
}
send_stop() {
	local p
	p=$(cat "$T/send.pid")
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
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
	rm -f "$T/a.sock" "$T/b.sock" # a killed testpmd leaves them (net_vhost cannot bind)
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
		wire_up
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
	if [ "$1" = afpacket ]; then wire_down; fi
}
dpdk_g2w() {
	rm -f "$T/a.sock" "$T/b.sock" # a killed testpmd leaves them (net_vhost cannot bind)
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/a.sock,queues=1,tso=1" -- \
		-i --nb-cores=1 --mbuf-size=65535 --total-num-mbufs=4096 --max-pkt-len=65535 \
		--forward-mode=rxonly
	guest_a "$T/a.sock" 02:ee:00:00:00:01
	testpmd_cmd host start
	rate tstat a 1 TX-bytes
	tstop a
	tstop host
}

vmdq_w2g() {
	wire_up gro
	cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqtso$$
vif b vhost-user $T/b.sock targeted off mac 02:00:00:00:00:02
EOF
	start_switch "$T/sw.conf"
	guest_b "$T/b.sock"
	send_start
	rate tstat b 0 RX-bytes
	offload_seen
	send_stop
	tstop b
	stop_switch
	wire_down
}
# DPDK's: net_af_packet on the uplink's end (no virtio-net header in DPDK
# 22.11's: a super-frame comes as plain bytes, its checksum partial) and
# net_vhost, io forwarding.  Ring frames of 65280 bytes, so nothing is cut
# (a frame must fit one mbuf: 65535 bytes less the headroom); the PMD takes
# the frames as one array, so a block holds a whole number of them (16)
dpdk_w2g() {
	wire_up gro
	rm -f "$T/a.sock" "$T/b.sock" # a killed testpmd leaves them (net_vhost cannot bind)
	tp host -l 0,1 --main-lcore 1 \
		--vdev "net_af_packet0,iface=vqtso$$,blocksz=1044480,framesz=65280,framecnt=512" \
		--vdev "net_vhost0,iface=$T/b.sock,queues=1,tso=1" -- \
		-i --nb-cores=1 --mbuf-size=65535 --total-num-mbufs=4096 --forward-mode=io
	guest_b "$T/b.sock"
	testpmd_cmd host start
	send_start
	rate tstat b 0 RX-bytes
	send_stop
	[ -z "${LOGS:-}" ] || { testpmd_cmd host "show port stats all"; sleep 0.5; }
	tstop b
	tstop host
	wire_down
}

# ONE=PATH runs one path once (to try it): vmdq_g2g, dpdk_g2g, "vmdq_g2w afpacket",
# vmdq_w2g, dpdk_w2g, ...
if [ -n "${ONE:-}" ]; then
	$ONE
	cat "$T/offload.txt" 2>/dev/null || true
	[ -z "${LOGS:-}" ] || tail -n 60 "$T"/*.log
	exit 0
fi

echo "super-frames over vhost-user ($FRAME-byte TCP/IPv4 frames sent with TSO, gso_size 1448),"
echo "bytes/s; $secs s per figure, each the median of three, the runs of a path interleaved"
printf '%-44s %14s   %s\n' "path" "median" "runs"
A=() B=() C=() D=() E=() F=() G=()
for _ in 1 2 3; do
	A+=("$(vmdq_g2g)")
	B+=("$(dpdk_g2g)")
	C+=("$(vmdq_g2w afpacket)")
	D+=("$(vmdq_g2w pcap)")
	E+=("$(dpdk_g2w)")
	F+=("$(vmdq_w2g)")
	G+=("$(dpdk_w2g)")
done
r1=$(med "${A[@]}") r2=$(med "${B[@]}") r3=$(med "${C[@]}") r4=$(med "${D[@]}") r5=$(med "${E[@]}")
r6=$(med "${F[@]}") r7=$(med "${G[@]}")
printf '%-44s %14s   %s\n' "guest->guest vmdq" "$r1" "${A[*]}"
printf '%-44s %14s   %s\n' "guest->guest DPDK vhost (io fwd)" "$r2" "${B[*]}"
printf '%-44s %14s   %s\n' "guest->wire vmdq, afpacket veth (whole)" "$r3" "${C[*]}"
printf '%-44s %14s   %s\n' "guest->wire vmdq, pcap /dev/null (cut)" "$r4" "${D[*]}"
printf '%-44s %14s   %s\n' "guest->wire DPDK vhost rxonly" "$r5" "${E[*]}"
printf '%-44s %14s   %s\n' "wire->guest vmdq, afpacket veth (GRO)" "$r6" "${F[*]}"
printf '%-44s %14s   %s\n' "wire->guest DPDK af_packet + vhost (io fwd)" "$r7" "${G[*]}"
awk -v a="$r1" -v b="$r2" -v c="$r3" -v d="$r4" -v e="$r5" -v f="$r6" -v g="$r7" 'BEGIN {
	printf "vmdq/DPDK: guest->guest %.2fx, guest->wire %.2fx (afpacket), %.2fx (pcap, cut),",
		a / b, c / e, d / e
	printf " wire->guest %.2fx\n", f / g }'
echo "vmdq's offload counters after each run (cumulative per run):"
cat "$T/offload.txt"
