#!/bin/sh
# AF_XDP: the uplink on a veth through AF_XDP, a container (the far end of a
# second veth pair, in its own namespace) attached as a vif through AF_XDP,
# and a VM on a TAP.  Native mode first, then generic mode on the same
# topology; the XDP program is gone from both interfaces after each stop.
# (Generic mode on a veth cannot see tags the peer sends as metadata: the
# port refuses it unless told no-vlan-meta; afxdp_vlan.sh tests that.)
. "$(dirname "$0")/lib.sh"
ext_host 10.98.0.100
NS_CT=vqc$ID
NS_VM=vqv$ID
netns "$NS_CT"
netns "$NS_VM"
ip link add vqh$ID type veth peer name eth0 netns "$NS_CT"
LINKS="$LINKS vqh$ID"
ip link set vqh$ID up
: # the kernel's default offloads
vm_up "$NS_CT" eth0 02:00:00:00:00:02 10.98.0.2

run() { # MODE [PORT-OPTION]
	cat > "$T/sw.conf" <<X
uplink wire afxdp vqu$ID mode $1 ${2:-}
vif vm1 tap vqt$ID mac 02:00:00:00:00:01 netns $NS_VM
vif ct1 afxdp vqh$ID mac 02:00:00:00:00:02 mode $1 ${2:-}
X
	start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
	vm_up "$NS_VM" vqt$ID 02:00:00:00:00:01 10.98.0.1
	want=$1
	[ "$1" = auto ] && want=native # veth has native XDP
	eq "$1: uplink mode logged" "$(grep -c "uplink wire: afxdp vqu$ID queue 0, $want mode" "$T/switch.log")" 1
	eq "$1: vif mode logged" "$(grep -c "vif ct1: afxdp vqh$ID queue 0, $want mode" "$T/switch.log")" 1
	eq "$1: XDP program on the uplink" "$(ip link show vqu$ID | grep -c 'prog/xdp')" 1
	eq "$1: uplink promiscuous" "$(ip -d link show vqu$ID | grep -o 'promiscuity [0-9]*')" "promiscuity 1"

	ok ip netns exec "$NS_EXT" ping -c 3 -i 0.2 -W 2 -q 10.98.0.1 > /dev/null
	ok ip netns exec "$NS_EXT" ping -c 3 -i 0.2 -W 2 -q 10.98.0.2 > /dev/null
	ok ip netns exec "$NS_VM" ping -c 3 -i 0.2 -W 2 -q 10.98.0.2 > /dev/null
	bps=$(tcp "$NS_CT" 10.98.0.2 "$NS_EXT" 2 5201)
	ok test -n "$bps"
	echo "$1: TCP ext -> container ${bps%.*} bit/s"
	bps=$(tcp "$NS_EXT" 10.98.0.100 "$NS_CT" 2 5202)
	ok test -n "$bps"
	echo "$1: TCP container -> ext ${bps%.*} bit/s"

	# a broadcast from the wire reaches the VM and the container, each copy once
	capture "$NS_VM" vqt$ID "$T/b1.pcap" 'ether proto 0x88b5'
	C1=$CAP_PID
	capture "$NS_CT" eth0 "$T/b2.pcap" 'ether proto 0x88b5'
	C2=$CAP_PID
	send_raw "$NS_EXT" eth0 "ffffffffffff02ee0000000188b5$(printf '%092d' 0)" 7
	# and the container's own broadcast reaches the wire and the VM
	send_raw "$NS_CT" eth0 "ffffffffffff02000000000288b5$(printf '%092d' 0)" 5
	capture "$NS_EXT" eth0 "$T/b3.pcap" 'ether proto 0x88b5'
	C3=$CAP_PID
	send_raw "$NS_CT" eth0 "ffffffffffff02000000000288b5$(printf '%092d' 1)" 4
	sleep 1
	kill -INT $C1 $C2 $C3 2>/dev/null || true
	wait $C1 $C2 $C3 2>/dev/null || true
	eq "$1: VM got the wire's and the container's broadcasts" "$(npkts "$T/b1.pcap" ethertype)" 16
	eq "$1: container got the wire's broadcasts only" \
		"$(npkts "$T/b2.pcap" 02:ee:00:00:00:01)" 7
	eq "$1: the wire got the container's broadcasts" "$(npkts "$T/b3.pcap" ethertype)" 4

	stop_switch
	eq "$1: uplink frames all went to the device" \
		"$(jq '.uplink.rx_frames' "$T/stats.json")" "$(jq '.device.frames' "$T/stats.json")"
	# (under the TCP streams the kernel may drop when the switch falls
	# behind: counted, and TCP recovers; the exact counts above had none)
	echo "$1: uplink kernel drops $(jq '.uplink.kernel_drops' "$T/stats.json")"
	eq "$1: wire balance" \
		"$(jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)' "$T/stats.json")" 0
	eq "$1: XDP program removed from the uplink" "$(ip link show vqu$ID | grep -c 'prog/xdp')" 0
	eq "$1: uplink no longer promiscuous" \
		"$(ip -d link show vqu$ID | grep -o 'promiscuity [0-9]*')" "promiscuity 0"
	eq "$1: XDP program removed from the container's veth" \
		"$(ip link show vqh$ID | grep -c 'prog/xdp')" 0
}
run auto
run generic no-vlan-meta
finish
