#!/bin/sh
# AF_XDP uplink and VLAN tags the kernel holds out of band.  The external
# host's end of the uplink veth pushes VLAN 200 with a tc action on egress:
# the tag travels as metadata (skb->vlan_tci), never in the frame, as a NIC
# with rx VLAN offload hands it over.  Five broadcasts tagged so must reach
# the VLAN-200 VM (untagged, an access port) and not the untagged VM; the
# untagged broadcasts after them reach the untagged VM only: native mode,
# where the port's XDP program reads the tag with bpf_xdp_metadata_rx_vlan_tag
# and puts it back.  Where that program cannot run (generic mode; a kernel
# before 6.8, played with VMDQ_AFXDP_NO_KFUNC=1) the port on a veth refuses
# to open, naming the interface; with tx-vlan-offload off on the peer (the
# tag then in the frame) and no-vlan-meta it opens and isolation holds.
. "$(dirname "$0")/lib.sh"
ext_host 10.97.0.100
NS_V0=vqv$ID
NS_V2=vqw$ID
netns "$NS_V0"
netns "$NS_V2"
command -v clang > /dev/null || { echo "no clang: skipped"; exit 77; }
cat > "$T/push.c" <<'C'
static long (*skb_vlan_push)(void *skb, unsigned short proto, unsigned short tci) = (void *)18;
__attribute__((section("tc"), used)) int push200(void *skb)
{
	skb_vlan_push(skb, __builtin_bswap16(0x8100), 200);
	return 0; /* TC_ACT_OK */
}
char lic[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -target bpf -c "$T/push.c" -o "$T/push.o"

run() { # MODE [PORT-OPTION]
	cat > "$T/sw.conf" <<X
uplink wire afxdp vqu$ID mode $1 ${2:-}
vif vm0 tap vqt$ID mac 02:00:00:00:00:01 netns $NS_V0
vif vm2 tap vqx$ID mac 02:00:00:00:00:02 vlan 200 netns $NS_V2
X
	start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
	[ "$1" = auto ] && [ -z "${VMDQ_AFXDP_NO_KFUNC:-}" ] &&
		eq "tags put back, logged" "$(grep -c "uplink wire: afxdp vqu$ID queue 0, native mode, copy, VLAN tags from metadata put back" "$T/switch.log")" 1
	vm_up "$NS_V0" vqt$ID 02:00:00:00:00:01 10.97.0.1
	vm_up "$NS_V2" vqx$ID 02:00:00:00:00:02 10.97.2.1
	capture "$NS_V0" vqt$ID "$T/v0.pcap" 'ether proto 0x88b5'
	C0=$CAP_PID
	capture "$NS_V2" vqx$ID "$T/v2.pcap" 'ether proto 0x88b5'
	C2=$CAP_PID
	# the tag as metadata: bpf_skb_vlan_push puts it in skb->vlan_tci, and
	# the veth (tx-vlan-hw-insert on) passes it to its peer as is
	ip netns exec "$NS_EXT" tc qdisc add dev eth0 clsact
	ip netns exec "$NS_EXT" tc filter add dev eth0 egress bpf da obj "$T/push.o" sec tc
	send_raw "$NS_EXT" eth0 "ffffffffffff02ee0000000188b5$(printf '%092d' 2)" 5
	ip netns exec "$NS_EXT" tc qdisc del dev eth0 clsact
	send_raw "$NS_EXT" eth0 "ffffffffffff02ee0000000188b5$(printf '%092d' 0)" 3
	sleep 1
	kill -INT $C0 $C2 2>/dev/null || true
	wait $C0 $C2 2>/dev/null || true
	# 3, not 8: none of the five VLAN-200 broadcasts
	eq "$1: untagged VM got the untagged broadcasts only" "$(npkts "$T/v0.pcap" ethertype)" 3
	eq "$1: VLAN-200 VM got the VLAN-200 broadcasts" "$(npkts "$T/v2.pcap" ethertype)" 5
	eq "$1: VLAN-200 VM got them untagged" "$(npkts "$T/v2.pcap" 802.1Q)" 0
	stop_switch
	eq "$1: XDP program removed from the uplink" "$(ip link show vqu$ID | grep -c 'prog/xdp')" 0
}
refused() { # MODE: the port will not open on the veth
	cat > "$T/sw.conf" <<X
uplink wire afxdp vqu$ID mode $1
vif vm0 tap vqt$ID mac 02:00:00:00:00:01 netns $NS_V0
X
	set +e
	timeout 20 "$VMDQ" switch -c "$T/sw.conf" --ctl "$T/ctl.sock" -s "$T/stats.json" \
		2> "$T/refused.log"
	rc=$?
	set -e
	eq "$1: switch refused to start" "$rc" 2
	eq "$1: the reason names the interface" \
		"$(grep -c "afxdp vqu$ID: refused: VLAN tags the veth peer sends as metadata would be lost" "$T/refused.log")" 1
	cat "$T/refused.log"
	eq "$1: XDP program not left on the uplink" "$(ip link show vqu$ID | grep -c 'prog/xdp')" 0
}

run auto
refused generic
VMDQ_AFXDP_NO_KFUNC=1 refused auto
# the tag in the frame: the peer's kernel puts it there (validate_xmit_vlan)
ip netns exec "$NS_EXT" ethtool -K eth0 txvlan off > /dev/null
run generic no-vlan-meta
VMDQ_AFXDP_NO_KFUNC=1 run auto no-vlan-meta
finish
