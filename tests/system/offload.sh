#!/bin/sh
# Offloads end to end (issue 14) with the kernel's default offloads on every
# interface (no ethtool anywhere): TCP (20 MiB, exact bytes) and UDP (300
# datagrams, exact count) both ways between the external host (AF_PACKET
# uplink) and a TAP vif, an AF_PACKET vif (a container's veth) and a TAP vif
# on access VLAN 100 (the external host tags and untags VLAN 100 with tc
# BPF: this kernel may have no 8021q), and VM to VM (TAP to TAP, AF_PACKET
# to TAP, AF_PACKET to AF_PACKET).  Every transfer must cross as
# super-frames (the switch's gso-super counter grows by at least the
# transfer's bytes over 64 KiB: a fallback to 1500-byte frames fails),
# nothing is segmented or completed in software (every hop here takes TSO
# and partial checksums), no port refused a frame the kernel gave it, and no
# receiving stack counted a checksum error.
#
# Then a second switch with AF_XDP vifs on containers' veths (XDP carries no
# offload state: the port makes each TCP/UDP frame from the veth's peer
# partial, the switch completes it for a next hop that cannot): TCP and UDP
# both ways between the external host and an AF_XDP container, and AF_XDP
# to AF_XDP, where every TCP/UDP frame's checksum is completed in software
# (counted exactly against the senders' own counts); and a hostile
# container's odd frames (headers cut short, bad IHL, fragments, lengths
# that lie, other protocols, tags) through the same make-partial path: each
# one arrives at a sink container as it was sent or with its checksum made
# right (byte by byte), while an honest neighbour's transfers lose nothing.
. "$(dirname "$0")/lib.sh"
command -v iperf3 > /dev/null || { echo "no iperf3: skipped"; exit 77; }
command -v clang > /dev/null || { echo "no clang: skipped"; exit 77; }
ext_host_defaults 10.98.0.100
ip -n "$NS_EXT" addr add 10.98.1.100/24 dev eth0
for v in a b c d f; do netns vq$v$ID; done
cat > "$T/sw.conf" <<X
uplink up afpacket vqu$ID
vif vm1 tap vqa$ID mac 02:00:00:00:00:01 netns vqa$ID
vif vm2 tap vqb$ID mac 02:00:00:00:00:02 netns vqb$ID
vif vm3 afpacket vqc$ID mac 02:00:00:00:00:03
vif vm4 tap vqd$ID mac 02:00:00:00:00:04 vlan 100 netns vqd$ID
vif vm5 afpacket vqf$ID mac 02:00:00:00:00:05
X
veth_vm vqc$ID vqc$ID 02:00:00:00:00:03 10.98.0.3
veth_vm vqf$ID vqf$ID 02:00:00:00:00:05 10.98.0.5
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
vm_up_defaults vqa$ID vqa$ID 02:00:00:00:00:01 10.98.0.1
vm_up_defaults vqb$ID vqb$ID 02:00:00:00:00:02 10.98.0.2
vm_up_defaults vqd$ID vqd$ID 02:00:00:00:00:04 10.98.1.4

# VLAN 100 on the external host: frames to 10.98.1.0/24 leave tagged (tc
# egress push, the tag as metadata as a NIC would take it), tagged frames
# come in untagged (tc ingress pop); no ARP across it: static neighbours
cat > "$T/push.c" <<'C'
static long (*skb_vlan_push)(void *skb, unsigned short proto, unsigned short tci) = (void *)18;
static long (*skb_load_bytes)(const void *skb, unsigned off, void *to, unsigned len) = (void *)26;
__attribute__((section("tc"), used)) int push100(void *skb)
{
	unsigned char b[20];
	if (skb_load_bytes(skb, 12, b, 20) == 0 && b[0] == 8 && b[1] == 0 &&
	    b[18] == 10 && b[19] == 98)
		if (skb_load_bytes(skb, 32, b, 1) == 0 && b[0] == 1)
			skb_vlan_push(skb, __builtin_bswap16(0x8100), 100);
	return 0; /* TC_ACT_OK */
}
char lic[] __attribute__((section("license"), used)) = "GPL";
C
cat > "$T/pop.c" <<'C'
static long (*skb_vlan_pop)(void *skb) = (void *)19;
__attribute__((section("tc"), used)) int pop(void *skb)
{
	skb_vlan_pop(skb);
	return 0; /* TC_ACT_OK */
}
char lic[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -target bpf -c "$T/push.c" -o "$T/push.o"
clang -O2 -target bpf -c "$T/pop.c" -o "$T/pop.o"
ip netns exec "$NS_EXT" tc qdisc add dev eth0 clsact
ip netns exec "$NS_EXT" tc filter add dev eth0 egress bpf da obj "$T/push.o" sec tc
ip netns exec "$NS_EXT" tc filter add dev eth0 ingress bpf da obj "$T/pop.o" sec tc
ip -n "$NS_EXT" neigh add 10.98.1.4 lladdr 02:00:00:00:00:04 dev eth0
ip -n vqd$ID neigh add 10.98.1.100 lladdr 02:ee:00:00:00:01 dev vqd$ID

ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.98.0.1 > /dev/null
ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.98.0.2 > /dev/null
ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.98.0.3 > /dev/null
ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.98.1.4 > /dev/null
ok ip netns exec vqc$ID ping -c 2 -i 0.2 -W 2 -q 10.98.0.5 > /dev/null

stat() { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq -r ".offload[\"$1\"]"; }
BYTES=20971520
WANT=$(tcp_xfer_want $BYTES)
# super-frames at 64 KiB would need BYTES / 64 KiB; the kernel makes them
# smaller at times (TSO autosizing): half that, where 1500-byte frames
# would make 0
MIN_SUPER=$((BYTES / 131072))
port=5400
# xfer NAME NS_SERVER IP NS_CLIENT: 20 MiB over TCP, exact, as super-frames
xfer() {
	port=$((port + 1))
	s0=$(stat gso-super)
	eq "$1: TCP bytes" "$(tcp_xfer "$2" "$3" "$4" "$BYTES" "$port")" "$WANT"
	s1=$(stat gso-super)
	echo "$1: $((s1 - s0)) super-frames"
	ok test "$((s1 - s0))" -ge "$MIN_SUPER"
}
xfer "ext -> tap" vqa$ID 10.98.0.1 "$NS_EXT"
xfer "tap -> ext" "$NS_EXT" 10.98.0.100 vqa$ID
xfer "ext -> afpacket vif" vqc$ID 10.98.0.3 "$NS_EXT"
xfer "afpacket vif -> ext" "$NS_EXT" 10.98.0.100 vqc$ID
xfer "tap -> tap" vqb$ID 10.98.0.2 vqa$ID
xfer "afpacket vif -> tap" vqa$ID 10.98.0.1 vqc$ID
xfer "tap -> afpacket vif" vqc$ID 10.98.0.3 vqb$ID
xfer "afpacket vif -> afpacket vif" vqf$ID 10.98.0.5 vqc$ID
xfer "ext -> tap on VLAN 100" vqd$ID 10.98.1.4 "$NS_EXT"
xfer "tap on VLAN 100 -> ext" "$NS_EXT" 10.98.1.100 vqd$ID

N=300
eq "UDP ext -> tap" "$(udp_count vqa$ID 10.98.0.1 "$NS_EXT" $N 5501)" $N
eq "UDP tap -> ext" "$(udp_count "$NS_EXT" 10.98.0.100 vqa$ID $N 5502)" $N
eq "UDP ext -> afpacket vif" "$(udp_count vqc$ID 10.98.0.3 "$NS_EXT" $N 5503)" $N
eq "UDP afpacket vif -> ext" "$(udp_count "$NS_EXT" 10.98.0.100 vqc$ID $N 5504)" $N
eq "UDP tap -> tap" "$(udp_count vqb$ID 10.98.0.2 vqa$ID $N 5505)" $N
eq "UDP afpacket vif -> tap" "$(udp_count vqa$ID 10.98.0.1 vqc$ID $N 5506)" $N
eq "UDP afpacket vif -> afpacket vif" "$(udp_count vqf$ID 10.98.0.5 vqc$ID $N 5509)" $N
eq "UDP tap on VLAN 100 -> ext" "$(udp_count "$NS_EXT" 10.98.1.100 vqd$ID $N 5507)" $N
eq "UDP ext -> tap on VLAN 100" "$(udp_count vqd$ID 10.98.1.4 "$NS_EXT" $N 5508)" $N

# every hop took super-frames and partial checksums whole
eq "segments made in software" "$(stat gso-segments)" 0
eq "checksums completed in software" "$(stat csum-completed)" 0
for v in vm1 vm2 vm3 vm4 vm5; do
	eq "$v: frames the port refused" \
		"$(vif_field $v '[.guest | to_entries[] | select(.value | type == "number") | select(.key | test("^(rx|tx)-") | not) | .value] | add')" 0
done
for n in "$NS_EXT" vqa$ID vqb$ID vqc$ID vqd$ID vqf$ID; do
	eq "$n: checksum errors" "$(csum_errors "$n")" 0
done
stop_switch

# ---- AF_XDP vifs on containers' veths ------------------------------------
# x1 and x2 honest containers, h a hostile one, s the sink of h's frames
# (no addresses on h and s: their stacks answer nothing)
for v in x y h s; do netns vq$v$ID; done
veth_vm vqx$ID vqx$ID 02:00:00:00:00:11 10.98.0.11
veth_vm vqy$ID vqy$ID 02:00:00:00:00:12 10.98.0.12
for v in h s; do
	ip link add vq$v$ID type veth peer name eth0 netns vq$v$ID
	LINKS="$LINKS vq$v$ID"
	sysctl -qw "net.ipv6.conf.vq$v$ID.disable_ipv6=1" 2>/dev/null || true
	ip link set vq$v$ID up
done
ip -n vqh$ID link set eth0 address 02:00:00:00:00:13 up
ip -n vqs$ID link set eth0 address 02:00:00:00:00:14 up
cat > "$T/sw2.conf" <<X
uplink up afpacket vqu$ID
vif x1 afxdp vqx$ID mac 02:00:00:00:00:11
vif x2 afxdp vqy$ID mac 02:00:00:00:00:12
vif h afxdp vqh$ID mac 02:00:00:00:00:13
vif s afxdp vqs$ID mac 02:00:00:00:00:14
X
start_switch "$T/sw2.conf" --ctl "$T/ctl.sock"
ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.98.0.11 > /dev/null
ok ip netns exec vqx$ID ping -c 2 -i 0.2 -W 2 -q 10.98.0.12 > /dev/null
# no ARP broadcast from here on (the sink counts what reaches it)
ip -n "$NS_EXT" neigh replace 10.98.0.11 lladdr 02:00:00:00:00:11 dev eth0 nud permanent
ip -n vqx$ID neigh replace 10.98.0.100 lladdr 02:ee:00:00:00:01 dev eth0 nud permanent
ip -n vqx$ID neigh replace 10.98.0.12 lladdr 02:00:00:00:00:12 dev eth0 nud permanent
ip -n vqy$ID neigh replace 10.98.0.11 lladdr 02:00:00:00:00:11 dev eth0 nud permanent

# snmp NS GROUP FIELD: one counter of the namespace's /proc/net/snmp
snmp() {
	ip netns exec "$1" awk -v g="$2:" -v f="$3" '
		$1 == g { if (!(g in h)) { for (i = 2; i <= NF; i++) h[i] = $i; h[g] = 1; next }
			for (i = 2; i <= NF; i++) if (h[i] == f) print $i }' /proc/net/snmp
}
ctrs() { echo "$(stat gso-super) $(stat gso-segments) $(stat csum-completed)"; }
# segs NS: TCP segments the namespace's stack sent: OutSegs leaves out
# those holding only retransmitted bytes (RFC 2012); RetransSegs has them
segs() { echo $(( $(snmp "$1" Tcp OutSegs) + $(snmp "$1" Tcp RetransSegs) )); }
kdrops() { # the kernel's drops before the switch: the uplink's, then x1's and x2's
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq -r '.uplink.kernel_drops'
	echo $(( $(vif_field x1 .kernel_drops) + $(vif_field x2 .kernel_drops) ))
}
# xdp_xfer NAME NS_SERVER IP NS_CLIENT: 20 MiB over TCP, exact; sets
# D_SUPER D_SEGS D_CSUM (the switch's counters), O_SRV and O_CLI (the TCP
# segments each end sent, retransmissions included), D_KD_UP and D_KD_XDP
# (frames the kernel dropped before the switch read them: on the uplink,
# on x1's and x2's veths) for the transfer
xdp_xfer() {
	port=$((port + 1))
	set -- "$@" $(ctrs) $(segs "$2") $(segs "$4") $(kdrops)
	eq "$1: TCP bytes" "$(tcp_xfer "$2" "$3" "$4" "$BYTES" "$port")" "$WANT"
	D_SUPER=$(($(stat gso-super) - $5)) D_SEGS=$(($(stat gso-segments) - $6))
	D_CSUM=$(($(stat csum-completed) - $7))
	O_SRV=$(($(segs "$2") - $8)) O_CLI=$(($(segs "$4") - $9))
	set -- "$@" $(kdrops)
	D_KD_UP=$((${12} - ${10})) D_KD_XDP=$((${13} - ${11}))
	echo "$1: super-frames $D_SUPER, segments made $D_SEGS, checksums completed $D_CSUM;" \
		"TCP segments sent $O_CLI and $O_SRV; kernel drops $D_KD_UP (uplink), $D_KD_XDP (AF_XDP)"
}
# xdp_udp NAME NS_SERVER IP NS_CLIENT PORT: N datagrams, exact; sets D_CSUM
xdp_udp() {
	c0=$(stat csum-completed)
	eq "$1" "$(udp_count "$2" "$3" "$4" $N "$5")" $N
	D_CSUM=$(( $(stat csum-completed) - c0 ))
	echo "$1: checksums completed $D_CSUM"
}

# ext -> x1: the uplink's super-frames cut in software for the AF_XDP vif;
# every TCP segment the external host sent is either one of those segments
# or a frame whose partial checksum the switch completed, but for the one
# ACK the external host's kernel may send with its checksum complete (from
# a TIME-WAIT socket, when the server's FIN comes after its own FIN was
# acknowledged), as long as the kernel dropped none before the switch
xdp_xfer "ext -> afxdp vif" vqx$ID 10.98.0.11 "$NS_EXT"
ok test "$D_SUPER" -ge "$MIN_SUPER"
if [ $((D_KD_UP + D_KD_XDP)) -eq 0 ]; then
	left=$((O_CLI - D_SEGS - D_CSUM))
	[ "$left" -eq 1 ] && left=0
	eq "ext -> afxdp vif: segments sent, less segments made and checksums completed" "$left" 0
fi
# x1 -> ext: x1's frames made partial, taken as they are by the uplink; the
# external host's ACKs completed for x1
xdp_xfer "afxdp vif -> ext" "$NS_EXT" 10.98.0.100 vqx$ID
eq "afxdp vif -> ext: super-frames" "$D_SUPER" 0
eq "afxdp vif -> ext: segments made" "$D_SEGS" 0
eq "afxdp vif -> ext: checksums completed" "$D_CSUM" "$((O_SRV - D_KD_UP))"
# x1 -> x2: every TCP segment either end sent was made partial by its port
# and completed by the switch for the other
xdp_xfer "afxdp vif -> afxdp vif" vqy$ID 10.98.0.12 vqx$ID
eq "afxdp vif -> afxdp vif: super-frames" "$D_SUPER" 0
eq "afxdp vif -> afxdp vif: checksums completed" "$D_CSUM" "$((O_SRV + O_CLI - D_KD_XDP))"
xdp_udp "UDP ext -> afxdp vif" vqx$ID 10.98.0.11 "$NS_EXT" 5601
eq "UDP ext -> afxdp vif: checksums completed" "$D_CSUM" $N
xdp_udp "UDP afxdp vif -> ext" "$NS_EXT" 10.98.0.100 vqx$ID 5602
eq "UDP afxdp vif -> ext: checksums completed" "$D_CSUM" 0
xdp_udp "UDP afxdp vif -> afxdp vif" vqy$ID 10.98.0.12 vqx$ID 5603
eq "UDP afxdp vif -> afxdp vif: checksums completed" "$D_CSUM" $N

# the hostile container's frames (built by hand, each with what must come
# of it at the sink)
cat > "$T/hostile.py" <<'P'
# hostile.py build|send R GAP|check PCAP: a hostile container's frames
import os, socket, struct, sys, time
DST = bytes.fromhex("020000000014")  # the sink
SRC = bytes.fromhex("020000000013")  # the hostile container
A4, B4 = bytes([10, 98, 0, 13]), bytes([10, 98, 0, 14])
A6 = bytes.fromhex("fd00000000000000000000000000000d")
B6 = bytes.fromhex("fd00000000000000000000000000000e")

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

def ip4(proto, l4, ihl=5, tot=None, frag=0x4000, ver=4, opt=b""):
    opt = opt or b"\x01" * (ihl * 4 - 20 if ihl > 5 else 0)
    h = struct.pack("!BBHHHBBH4s4s", ver << 4 | ihl, 0, 20 + len(opt) + len(l4) if tot is None else tot,
                    0x1234, frag, 64, proto, 0, A4, B4) + opt
    h = h[:10] + struct.pack("!H", 0xffff - csum(h)) + h[12:]
    return h + l4

def ip6(nh, l4, plen=None, ver=6):
    return struct.pack("!IHBB16s16s", ver << 28, len(l4) if plen is None else plen, nh, 64,
                       A6, B6) + l4

def tcp(n=40, ck=0xdead):
    return struct.pack("!HHIIBBHHH", 4000, 5000, 1, 0, 5 << 4, 0x18, 1000, ck, 0) + \
        bytes((i * 13) & 0xff for i in range(n))

def udp(n=40, ck=0xbeef, ln=None):
    return struct.pack("!HHHH", 4000, 5001, 8 + n if ln is None else ln, ck) + bytes(range(n))

def eth(et, body, tags=()):
    h = DST + SRC
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", et) + body

# (name, frame, expected: "partial" = the switch completes its TCP/UDP
# checksum (at L4 offset, IP version), "as-is" = arrives unchanged,
# "dropped" = never arrives)
F = [
    ("ethernet header only", eth(0x0800, b""), "as-is"),
    ("IPv4 cut in its header", eth(0x0800, ip4(6, tcp())[:10]), "as-is"),
    ("IPv4 IHL 4", eth(0x0800, ip4(6, tcp(), ihl=4)[:16] + ip4(6, tcp())[20:]), "as-is"),
    ("IPv4 IHL 0", eth(0x0800, b"\x40" + ip4(6, tcp())[1:]), "as-is"),
    ("IPv4 IHL 15, TCP cut", eth(0x0800, ip4(6, tcp(0)[:10], ihl=15)), "as-is"),
    ("IPv4 IHL 15 beyond the frame", eth(0x0800, ip4(6, b"", ihl=15)[:30]), "as-is"),
    ("IPv4 IHL 15, options, TCP", eth(0x0800, ip4(6, tcp(), ihl=15)), ("partial", 14 + 60 + 16, 4)),
    ("IPv4 fragment MF", eth(0x0800, ip4(6, tcp(), frag=0x2000)), "as-is"),
    ("IPv4 fragment offset", eth(0x0800, ip4(17, udp(), frag=0x0010)), "as-is"),
    ("IPv4 length beyond the frame", eth(0x0800, ip4(6, tcp(), tot=200)), "as-is"),
    ("IPv4 length short of the frame", eth(0x0800, ip4(6, tcp(), tot=70)), "as-is"),
    ("IPv4 length 0", eth(0x0800, ip4(6, tcp(), tot=0)), "as-is"),
    ("IPv4 version 6", eth(0x0800, ip4(6, tcp(), ver=6)), "as-is"),
    ("IPv4 ICMP", eth(0x0800, ip4(1, b"\x08\x00\x00\x00" + bytes(40))), "as-is"),
    ("IPv4 GRE", eth(0x0800, ip4(47, bytes(40))), "as-is"),
    ("IPv4 proto 255", eth(0x0800, ip4(255, bytes(40))), "as-is"),
    ("IPv4 TCP header cut", eth(0x0800, ip4(6, tcp(0)[:19])), "as-is"),
    ("IPv4 TCP checksum field only", eth(0x0800, ip4(6, tcp(0)[:18])), "as-is"),
    ("IPv4 UDP header cut", eth(0x0800, ip4(17, udp(0)[:7])), "as-is"),
    ("IPv4 UDP checksum 0", eth(0x0800, ip4(17, udp(ck=0))), "as-is"),
    ("IPv4 UDP length lies", eth(0x0800, ip4(17, udp(ln=9000))), ("partial", 14 + 20 + 6, 4)),
    ("IPv4 UDP", eth(0x0800, ip4(17, udp())), ("partial", 14 + 20 + 6, 4)),
    ("IPv4 TCP", eth(0x0800, ip4(6, tcp())), ("partial", 14 + 20 + 16, 4)),
    ("IPv4 TCP, no payload", eth(0x0800, ip4(6, tcp(0))), ("partial", 14 + 20 + 16, 4)),
    ("IPv4 TCP, 1500 bytes", eth(0x0800, ip4(6, tcp(1460))), ("partial", 14 + 20 + 16, 4)),
    ("IPv4 TCP, bad IP header checksum", eth(0x0800, ip4(6, tcp())[:10] + b"\0\0" + ip4(6, tcp())[12:]),
     ("partial", 14 + 20 + 16, 4)),
    ("IPv6 cut in its header", eth(0x86dd, ip6(6, tcp())[:30]), "as-is"),
    ("IPv6 version 4", eth(0x86dd, ip6(6, tcp(), ver=4)), "as-is"),
    ("IPv6 length beyond the frame", eth(0x86dd, ip6(6, tcp(), plen=300)), "as-is"),
    ("IPv6 length short of the frame", eth(0x86dd, ip6(6, tcp(), plen=20)), "as-is"),
    ("IPv6 hop-by-hop, TCP", eth(0x86dd, ip6(0, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp())), "as-is"),
    ("IPv6 fragment header", eth(0x86dd, ip6(44, bytes([17, 0, 0, 1, 0, 0, 0, 1]) + udp())), "as-is"),
    ("IPv6 ICMPv6", eth(0x86dd, ip6(58, b"\x80\x00\x00\x00" + bytes(20))), "as-is"),
    ("IPv6 TCP header cut", eth(0x86dd, ip6(6, tcp(0)[:12])), "as-is"),
    ("IPv6 UDP header cut", eth(0x86dd, ip6(17, udp(0)[:6])), "as-is"),
    ("IPv6 TCP", eth(0x86dd, ip6(6, tcp())), ("partial", 14 + 40 + 16, 6)),
    ("IPv6 UDP", eth(0x86dd, ip6(17, udp())), ("partial", 14 + 40 + 6, 6)),
    ("IPv6 UDP checksum 0", eth(0x86dd, ip6(17, udp(ck=0))), ("partial", 14 + 40 + 6, 6)),
    ("ARP-typed garbage", eth(0x0806, bytes(28)), "as-is"),
    ("unknown ethertype", eth(0x88b5, bytes(46)), "as-is"),
    ("ethertype 0x8100, cut", DST + SRC + b"\x81\x00\x00", "dropped"),
    ("VLAN 5, TCP", eth(0x0800, ip4(6, tcp()), tags=[(0x8100, 5)]), "dropped"),
    ("QinQ, TCP", eth(0x0800, ip4(6, tcp()), tags=[(0x88a8, 5), (0x8100, 6)]), "dropped"),
]

def sink():
    # the frames from the hostile container that reach eth0, until as many
    # as should came and then 0.5 s of nothing more (or 5 s of nothing)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind(("eth0", 0))
    print("ready", flush=True)
    want = [f for f in F if f[2] != "dropped"]
    got = []
    s.settimeout(5)
    try:
        while True:
            d, a = s.recvfrom(65536)
            if a[2] != socket.PACKET_OUTGOING and d[6:12] == SRC:
                got.append(d)
                if len(got) >= len(want):
                    s.settimeout(0.5)
    except socket.timeout:
        pass
    check(got, want)

def check(got, want):
    bad = 0
    if len(got) != len(want):
        print("sink got %d frames, want %d" % (len(got), len(want)))
        bad += 1
    for (name, sent, how), g in zip(want, got):
        if how == "as-is":
            if g != sent:
                print("%s: changed: %s" % (name, g.hex()))
                bad += 1
            continue
        at, ver = how[1], how[2]
        # the L4 header starts where the IP header ends
        l3 = 14
        l4 = l3 + ((sent[l3] & 15) * 4 if ver == 4 else 40)
        ph = (sent[l3 + 12:l3 + 20] if ver == 4 else sent[l3 + 8:l3 + 40]) + \
            struct.pack("!HH", sent[l3 + 9] if ver == 4 else sent[l3 + 6], len(g) - l4)
        if g[:at] + g[at + 2:] != sent[:at] + sent[at + 2:]:
            print("%s: changed outside the checksum field" % name)
            bad += 1
        elif csum(ph + g[l4:]) != 0xffff:
            print("%s: checksum %s does not verify" % (name, g[at:at + 2].hex()))
            bad += 1
    print("bad", bad)

if sys.argv[1] == "partial":
    print(sum(1 for f in F if isinstance(f[2], tuple)))
elif sys.argv[1] == "delivered":
    print(sum(1 for f in F if f[2] != "dropped"))
elif sys.argv[1] == "all":
    print(len(F))
elif sys.argv[1] == "send":
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("eth0", 0))
    for _ in range(int(sys.argv[2])):
        for f in F:
            s.send(f[1])
        time.sleep(float(sys.argv[3]))
elif sys.argv[1] == "flood":
    # rounds of every frame until the file argv[2] exists; prints the rounds
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("eth0", 0))
    n = 0
    while not os.path.exists(sys.argv[2]):
        for f in F:
            s.send(f[1])
        n += 1
        time.sleep(0.005)
    print(n)
elif sys.argv[1] == "show":
    for f in F:
        print(f[0], len(f[1]), f[2])
elif sys.argv[1] == "sink":
    sink()
P

# one round alone: every frame at the sink as it was sent, or (a TCP/UDP
# frame make_partial took) with only its checksum changed, and right
c0=$(stat csum-completed)
ip netns exec vqs$ID /usr/bin/python3 "$T/hostile.py" sink > "$T/sink" &
SINK=$!
for _ in $(seq 100); do grep -q ready "$T/sink" 2>/dev/null && break; sleep 0.05; done
ip netns exec vqh$ID /usr/bin/python3 "$T/hostile.py" send 1 0
wait "$SINK"
eq "hostile frames at the sink" "$(tail -n +2 "$T/sink")" "bad 0"
eq "hostile frames made partial and completed" "$(( $(stat csum-completed) - c0 ))" \
	"$(/usr/bin/python3 "$T/hostile.py" partial)"
eq "hostile frames read" "$(vif_field h .from_vm)" "$(/usr/bin/python3 "$T/hostile.py" all)"
eq "hostile tagged frames dropped" "$(vif_field h '.drops.tagged')" 3

# then rounds of them while the honest container moves 20 MiB both ways and
# its datagrams: it loses nothing, the sink gets every round
rx0=$(ip netns exec vqs$ID cat /sys/class/net/eth0/statistics/rx_packets)
ip netns exec vqh$ID /usr/bin/python3 "$T/hostile.py" flood "$T/stop" > "$T/flood" &
FLOOD=$!
xdp_xfer "ext -> afxdp vif, hostile neighbour" vqx$ID 10.98.0.11 "$NS_EXT"
xdp_xfer "afxdp vif -> ext, hostile neighbour" "$NS_EXT" 10.98.0.100 vqx$ID
xdp_udp "UDP ext -> afxdp vif, hostile neighbour" vqx$ID 10.98.0.11 "$NS_EXT" 5604
xdp_udp "UDP afxdp vif -> ext, hostile neighbour" "$NS_EXT" 10.98.0.100 vqx$ID 5605
touch "$T/stop"
wait "$FLOOD"
sleep 0.5
rounds=$(cat "$T/flood")
echo "hostile rounds: $rounds"
eq "hostile frames at the sink under load" \
	"$(( $(ip netns exec vqs$ID cat /sys/class/net/eth0/statistics/rx_packets) - rx0 ))" \
	"$(( rounds * $(/usr/bin/python3 "$T/hostile.py" delivered) ))"
eq "hostile frames read under load" "$(vif_field h .from_vm)" \
	"$(( (rounds + 1) * $(/usr/bin/python3 "$T/hostile.py" all) ))"
eq "hostile tagged frames dropped under load" "$(vif_field h '.drops.tagged')" $(( (rounds + 1) * 3 ))
eq "hostile frames the kernel dropped" "$(vif_field h .kernel_drops)" 0
for n in "$NS_EXT" vqx$ID vqy$ID; do
	eq "$n: checksum errors" "$(csum_errors "$n")" 0
done
stop_switch
finish
