#!/bin/bash
# vhost-user vifs with packed virtqueues (virtio 1.1): testpmd guests whose
# virtio-user driver asks for VIRTIO_F_RING_PACKED.  Topology:
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] vm1 vhost-user (targeted)
#                                                              vm2 vhost-user (targeted off)
#
# Checks, with exact counts: both guests negotiate packed rings; frames
# from the wire (64 and 1514 bytes) reach each guest, byte for byte; a
# guest that stops and starts its port (GET_VRING_BASE, then the rings set
# up afresh) receives again; frames a guest sends (txonly) reach the other
# guest and the wire, every one accounted for; a guest that comes back on
# the same socket carries on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guests.sh"

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm1 vhost-user $T/vm1.sock mac 02:00:00:00:00:01
vif vm2 vhost-user $T/vm2.sock targeted off mac 02:00:00:00:00:02
EOF
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
eq "vm1 no ring before a guest" "$(vif_field vm1 .guest.ring)" null

export VDEV_EXTRA=,packed_vq=1
guest vm1 02:00:00:00:00:01 rxonly
guest vm2 02:00:00:00:00:02 rxonly
eq "vm1 negotiated packed rings" "$(vif_field vm1 .guest.ring)" packed
eq "vm2 negotiated packed rings" "$(vif_field vm2 .guest.ring)" packed

SRC=02ee00000001
F1=$(pad "020000000001${SRC}0800" 64)
F2=$(pad "020000000002${SRC}0800" 64)
B1=$(pad "020000000001${SRC}0800" 1514)
B2=$(pad "020000000002${SRC}0800" 1514)
BC=$(pad "ffffffffffff${SRC}0806" 64)

# more frames than either ring holds (256): the rings go round several laps
wire_send "$F1" 700
wire_send "$F2" 600
wire_send "$BC" 10
sleep 0.5
eq "vm1 (targeted, packed) received" "$(testpmd_stat vm1 RX-packets)" 710
eq "vm2 (copied, packed) received" "$(testpmd_stat vm2 RX-packets)" 610
eq "vm1 switch to_vm" "$(vif_field vm1 .to_vm)" 710
eq "vm2 switch to_vm" "$(vif_field vm2 .to_vm)" 610
wire_send "$B1" 150
wire_send "$B2" 150
sleep 0.5
eq "vm1 1514-byte frames, byte for byte" "$(testpmd_stat vm1 RX-bytes)" $((710 * 64 + 150 * 1514))
eq "vm2 1514-byte frames, byte for byte" "$(testpmd_stat vm2 RX-bytes)" $((610 * 64 + 150 * 1514))
eq "vm1 guest errors" "$(vif_field vm1 '[.guest | to_entries[] | select(.key | test("bad|loop|wrap|chain|write|read|head")) | .value] | add')" 0

# the guest stops and starts its port: the rings stop (GET_VRING_BASE) and
# are set up afresh
testpmd_cmd vm1 stop
testpmd_cmd vm1 "port stop 0"
sleep 0.5
testpmd_cmd vm1 "port start 0"
testpmd_cmd vm1 start
for _ in $(seq 50); do
	[ "$(vif_field vm1 .guest.state)" = running ] && break
	sleep 0.1
done
sleep 0.3
base=$(vif_field vm1 .to_vm)
rx0=$(testpmd_stat vm1 RX-packets)
wire_send "$F1" 300
sleep 0.5
eq "vm1 after port stop/start received" $(( $(testpmd_stat vm1 RX-packets) - rx0 )) 300
eq "vm1 switch to_vm after restart" $(( $(vif_field vm1 .to_vm) - base )) 300

# vm2 (packed) sends to vm1, then to the wire: every frame accounted for
tx_to_vm vm2 02:00:00:00:00:02 vm1
tx_to_wire vm2 02:00:00:00:00:02

# vm1's guest goes and comes back on the same socket
guest_kill vm1
guest vm1 02:00:00:00:00:01 rxonly
wire_send "$F1" 200
sleep 0.3
eq "vm1 back: received after reconnect" "$(testpmd_stat vm1 RX-packets)" 200
eq "vm1 still packed" "$(vif_field vm1 .guest.ring)" packed
eq "no vif broke" "$(grep -c broken "$T/switch.log")" 0
stop_switch
finish
