#!/bin/sh
# The switch on real interfaces: an external host behind a veth uplink
# (AF_PACKET), three VMs on TAP vifs in their own namespaces, vm3 on access
# VLAN 100.  Ping across, isolation, VLAN tagging on the wire, anti-spoofing,
# clean shutdown.
. "$(dirname "$0")/lib.sh"
ext_host 10.99.0.100
for i in 1 2 3; do netns vq$i$ID; done
cat > "$T/sw.conf" <<X
device profile 82599
uplink up afpacket vqu$ID
vif vm1 tap vqt1$ID mac 02:00:00:00:00:01 netns vq1$ID
vif vm2 tap vqt2$ID mac 02:00:00:00:00:02 netns vq2$ID
vif vm3 tap vqt3$ID mac 02:00:00:00:00:03 vlan 100 netns vq3$ID
X
start_switch "$T/sw.conf"
vm_up vq1$ID vqt1$ID 02:00:00:00:00:01 10.99.0.1
vm_up vq2$ID vqt2$ID 02:00:00:00:00:02 10.99.0.2
vm_up vq3$ID vqt3$ID 02:00:00:00:00:03 10.99.0.3

ok ip netns exec "$NS_EXT" ping -c 3 -i 0.2 -W 2 -q 10.99.0.1 > /dev/null
ok ip netns exec vq1$ID ping -c 3 -i 0.2 -W 2 -q 10.99.0.2 > /dev/null
ok ip netns exec vq2$ID ping -c 3 -i 0.2 -W 2 -q 10.99.0.100 > /dev/null

# TCP each way (iperf3)
bps=$(tcp vq1$ID 10.99.0.1 "$NS_EXT" 2 5201)
ok test -n "$bps"
bps=$(tcp "$NS_EXT" 10.99.0.100 vq2$ID 2 5202)
ok test -n "$bps"

# broadcast from the wire reaches exactly the VMs of its VLAN
for i in 1 2 3; do
	capture vq$i$ID vqt$i$ID "$T/b$i.pcap" 'ether broadcast'
	eval "CAP$i=\$CAP_PID"
done
BC=ffffffffffff02ee00000001
send_raw "$NS_EXT" eth0 "${BC}88b5$(printf '%092d' 0)" 3                  # untagged
send_raw "$NS_EXT" eth0 "${BC}8100006488b5$(printf '%088d' 0)" 2          # VLAN 100
send_raw "$NS_EXT" eth0 "${BC}8100000788b5$(printf '%088d' 0)" 4          # VLAN 7: nobody
sleep 1 # let the switch deliver everything before the captures stop
for p in $CAP1 $CAP2 $CAP3; do kill -INT $p 2>/dev/null || true; done
wait $CAP1 $CAP2 $CAP3 2>/dev/null || true
eq "untagged broadcast to vm1" "$(npkts "$T/b1.pcap" 0x88b5)" 3
eq "untagged broadcast to vm2" "$(npkts "$T/b2.pcap" 0x88b5)" 3
eq "VLAN 100 broadcast to vm3 only, untagged" "$(npkts "$T/b3.pcap" 0x88b5)" 2
eq "vm3 gets it without the tag" "$(npkts "$T/b3.pcap" 802.1Q)" 0

# isolation: vm2 sees none of the unicast between ext and vm1
capture vq2$ID vqt2$ID "$T/vm2.pcap"
TD=$CAP_PID
ip netns exec "$NS_EXT" ping -c 5 -i 0.1 -W 2 -q 10.99.0.1 > /dev/null || fail "ping vm1 (isolation run)"
stop_capture $TD
eq "vm2 sees no vm1 unicast" \
	"$(tcpdump -r "$T/vm2.pcap" -n -e 2>/dev/null | grep -c 'ICMP echo')" 0

# vm3 is on VLAN 100: untagged hosts cannot reach it, and what it sends
# leaves the uplink tagged 100
capture "$NS_EXT" eth0 "$T/ext.pcap"
TD=$CAP_PID
if ip netns exec vq3$ID ping -c 2 -i 0.2 -W 1 -q 10.99.0.100 > /dev/null 2>&1; then
	fail "vm3 on VLAN 100 reached the untagged host"
fi
send_raw vq3$ID vqt3$ID "ffffffffffff02000000000388b5$(printf '%092d' 0)" 3
stop_capture $TD
eq "vm3's frames leave tagged" \
	"$(tcpdump -r "$T/ext.pcap" -n -e 2>/dev/null | grep -c 'vlan 100.*02:00:00:00:00:03\|02:00:00:00:00:03.*vlan 100')" \
	"$(tcpdump -r "$T/ext.pcap" -n -e 2>/dev/null | grep -c '02:00:00:00:00:03')"
eq "vm3's broadcasts on the wire, tagged 100" \
	"$(tcpdump -r "$T/ext.pcap" -n -e 2>/dev/null | grep -c 'vlan 100, p 0, ethertype Unknown')" 3

# anti-spoofing: frames from vm1 with another source MAC are dropped and
# counted, and do not reach the wire
capture "$NS_EXT" eth0 "$T/spoof.pcap" 'ether src 02:00:00:00:00:66'
TD=$CAP_PID
send_raw vq1$ID vqt1$ID "ffffffffffff02000000006688b5$(printf '%092d' 0)" 5
stop_capture $TD
eq "spoofed frames on the wire" "$(npkts "$T/spoof.pcap" ethertype)" 0

stop_switch
eq "spoofed frames counted" "$(jq '.vifs[0].drops.spoofed' "$T/stats.json")" 5
eq "VLAN 7 broadcasts counted as no-vif" "$(jq '.wire.drops["no-vif"]' "$T/stats.json")" 4
eq "every frame read from the uplink went to the device" \
	"$(jq '.uplink.rx_frames' "$T/stats.json")" "$(jq '.device.frames' "$T/stats.json")"
echo "uplink kernel drops (TCP phase): $(jq '.uplink.kernel_drops' "$T/stats.json")"
eq "wire balance" "$(jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)' "$T/stats.json")" 0
eq "TAPs removed" "$(ip -n vq1$ID link show vqt1$ID 2>/dev/null | wc -l)" 0
finish
