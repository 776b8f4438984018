#!/bin/bash
# vhost-user vifs with real guests: DPDK's testpmd and its virtio-user driver
# (issue 4 point 4).  Topology:
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] vm1 vhost-user (targeted)
#                                                              vm2 vhost-user (targeted off)
#                                                              vm3 vhost-user vlan 100 (targeted)
#
# Checks, with exact counts: frames from the wire reach each guest (testpmd
# rxonly counts them, the switch agrees); a tagged VLAN's frames reach its
# guest untagged; broadcasts reach every guest of the domain; frames a guest
# sends (txonly) reach the wire and another guest, every one accounted for;
# a guest killed mid-traffic comes back on the same socket while the other
# guests lose nothing; in client mode the switch connects to a listening
# guest and connects again when it comes back.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/guests.sh"

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm1 vhost-user $T/vm1.sock mac 02:00:00:00:00:01
vif vm2 vhost-user $T/vm2.sock targeted off mac 02:00:00:00:00:02
vif vm3 vhost-user $T/vm3.sock mac 02:00:00:00:00:03 vlan 100
EOF
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
eq "vm1 waits for its guest" "$(vif_field vm1 .guest.state)" waiting
eq "vm1 targeted" "$(vif_field vm1 .targeted)" true
eq "vm2 not targeted" "$(vif_field vm2 .targeted)" false

guest vm1 02:00:00:00:00:01 rxonly
guest vm2 02:00:00:00:00:02 rxonly
guest vm3 02:00:00:00:00:03 rxonly

SRC=02ee00000001
F1=$(pad "020000000001${SRC}0800" 64)
F2=$(pad "020000000002${SRC}0800" 64)
F3=$(pad "020000000003${SRC}81000064" 64)   # tagged VLAN 100, 64 bytes
BC=$(pad "ffffffffffff${SRC}0806" 64)

wire_send "$F1" 400
wire_send "$F2" 300
wire_send "$F3" 200
wire_send "$BC" 10
sleep 0.5
eq "vm1 (targeted) received" "$(testpmd_stat vm1 RX-packets)" 410
eq "vm2 (copied) received" "$(testpmd_stat vm2 RX-packets)" 310
eq "vm3 (VLAN 100) received" "$(testpmd_stat vm3 RX-packets)" 200
eq "vm3 got them untagged" "$(testpmd_stat vm3 RX-bytes)" $((200 * 60))
eq "vm1 switch to_vm" "$(vif_field vm1 .to_vm)" 410
eq "vm1 guest errors" "$(vif_field vm1 '[.guest | to_entries[] | select(.key | test("bad|loop|wrap|chain|write|read|head")) | .value] | add')" 0

# a guest sends: vm2 txonly to vm1, then to the wire, about a second each
tx_to_vm vm2 02:00:00:00:00:02 vm1
tx_to_wire vm2 02:00:00:00:00:02

# disconnect mid-traffic: vm1's guest dies while the wire sends to vm1 and
# vm3; vm3 loses nothing, vm1 comes back on the same socket
guest_kill vm2
g3=$(testpmd_stat vm3 RX-packets)
( wire_send "$F1" 300 ) &
s1=$!
( wire_send "$F3" 300 ) &
s3=$!
sleep 0.1
guest_kill vm1
wait $s1 $s3
sleep 0.3
eq "vm3 lost nothing while vm1 went" "$(testpmd_stat vm3 RX-packets)" $((g3 + 300))
eq "vm1 waits again" "$(vif_field vm1 .guest.state)" waiting
guest vm1 02:00:00:00:00:01 rxonly
wire_send "$F1" 250
sleep 0.3
eq "vm1 back: received after reconnect" "$(testpmd_stat vm1 RX-packets)" 250
eq "vm1 reconnected once" "$(vif_field vm1 .guest.connects)" 2
grep -q "vif vm1: guest disconnected" "$T/switch.log" || fail "disconnect not logged"

# client mode: the guest listens (virtio-user server=1) and the switch
# connects, and connects again when the guest comes back
"$VMDQ" ctl --ctl "$T/ctl.sock" vif vm4 vhost-user "$T/vm4.sock" client mac 02:00:00:00:00:04
eq "vm4 is connecting" "$(vif_field vm4 .guest.state)" connecting
F4=$(pad "020000000004${SRC}0800" 64)
VDEV_EXTRA=,server=1 guest vm4 02:00:00:00:00:04 rxonly
wire_send "$F4" 100
sleep 0.3
eq "vm4 (client mode) received" "$(testpmd_stat vm4 RX-packets)" 100
guest_kill vm4
rm -f "$T/vm4.sock"
VDEV_EXTRA=,server=1 guest vm4 02:00:00:00:00:04 rxonly
wire_send "$F4" 50
sleep 0.3
eq "vm4 received after the switch connected again" "$(testpmd_stat vm4 RX-packets)" 50
eq "vm4 connected twice" "$(vif_field vm4 .guest.connects)" 2

if [ "$FAILS" -ne 0 ]; then
	"$VMDQ" ctl --ctl "$T/ctl.sock" show vifs
	"$VMDQ" ctl --ctl "$T/ctl.sock" show queues; grep disconnected "$T/switch.log"
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq -c "{wire, uplink, device}"
fi
stop_switch
finish
