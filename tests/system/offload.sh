#!/bin/sh
# Offloads end to end (issue 14) with the kernel's default offloads on every
# interface (no ethtool anywhere): TCP (20 MiB, exact bytes) and UDP (300
# datagrams, exact count) both ways between the external host (AF_PACKET
# uplink) and a TAP vif, an AF_PACKET vif (a container's veth) and a TAP vif
# on access VLAN 100 (the external host tags and untags VLAN 100 with tc
# BPF: this kernel may have no 8021q), and VM to VM (TAP to TAP, AF_PACKET
# to TAP).  Every transfer must cross as super-frames (the switch's
# gso-super counter grows by at least the transfer's bytes over 64 KiB: a
# fallback to 1500-byte frames fails), nothing is segmented or completed in
# software (every hop here takes TSO and partial checksums), no port
# refused a frame the kernel gave it, and no receiving stack counted a
# checksum error.
. "$(dirname "$0")/lib.sh"
command -v iperf3 > /dev/null || { echo "no iperf3: skipped"; exit 77; }
command -v clang > /dev/null || { echo "no clang: skipped"; exit 77; }
ext_host_defaults 10.98.0.100
ip -n "$NS_EXT" addr add 10.98.1.100/24 dev eth0
for v in a b c d; do netns vq$v$ID; done
cat > "$T/sw.conf" <<X
uplink up afpacket vqu$ID
vif vm1 tap vqa$ID mac 02:00:00:00:00:01 netns vqa$ID
vif vm2 tap vqb$ID mac 02:00:00:00:00:02 netns vqb$ID
vif vm3 afpacket vqc$ID mac 02:00:00:00:00:03
vif vm4 tap vqd$ID mac 02:00:00:00:00:04 vlan 100 netns vqd$ID
X
veth_vm vqc$ID vqc$ID 02:00:00:00:00:03 10.98.0.3
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
xfer "ext -> tap on VLAN 100" vqd$ID 10.98.1.4 "$NS_EXT"
xfer "tap on VLAN 100 -> ext" "$NS_EXT" 10.98.1.100 vqd$ID

N=300
eq "UDP ext -> tap" "$(udp_count vqa$ID 10.98.0.1 "$NS_EXT" $N 5501)" $N
eq "UDP tap -> ext" "$(udp_count "$NS_EXT" 10.98.0.100 vqa$ID $N 5502)" $N
eq "UDP ext -> afpacket vif" "$(udp_count vqc$ID 10.98.0.3 "$NS_EXT" $N 5503)" $N
eq "UDP afpacket vif -> ext" "$(udp_count "$NS_EXT" 10.98.0.100 vqc$ID $N 5504)" $N
eq "UDP tap -> tap" "$(udp_count vqb$ID 10.98.0.2 vqa$ID $N 5505)" $N
eq "UDP afpacket vif -> tap" "$(udp_count vqa$ID 10.98.0.1 vqc$ID $N 5506)" $N
eq "UDP tap on VLAN 100 -> ext" "$(udp_count "$NS_EXT" 10.98.1.100 vqd$ID $N 5507)" $N
eq "UDP ext -> tap on VLAN 100" "$(udp_count vqd$ID 10.98.1.4 "$NS_EXT" $N 5508)" $N

# every hop took super-frames and partial checksums whole
eq "segments made in software" "$(stat gso-segments)" 0
eq "checksums completed in software" "$(stat csum-completed)" 0
for v in vm1 vm2 vm3 vm4; do
	eq "$v: frames the port refused" \
		"$(vif_field $v '[.guest | to_entries[] | select(.value | type == "number") | select(.key | test("^(rx|tx)-") | not) | .value] | add')" 0
done
for n in "$NS_EXT" vqa$ID vqb$ID vqc$ID vqd$ID; do
	eq "$n: checksum errors" "$(csum_errors "$n")" 0
done
stop_switch
finish
