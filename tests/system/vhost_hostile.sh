#!/bin/bash
# Hostile guests on a running switch (issue 4 point 3), end to end:
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] vm1 vhost-user: testpmd rxonly
#                                                              vm2 vhost-user: vu_guest.py (targeted)
#                                                              vm3 vhost-user: vu_guest.py (targeted off)
#
# vu_guest.py is a front-end the test drives line by line; it lies where told
# to: a receive buffer outside guest memory, a descriptor loop, a read-only
# receive buffer, a transmit length past guest memory, malformed messages.
# Each time: the frames meant for the liar are dropped and counted, the vif
# says broken and why (GET_STATUS says DEVICE_NEEDS_RESET), no byte of the
# guest's memory that no descriptor points at changes, and the well-behaved
# guest next to it receives every frame sent to it meanwhile.  The liar that
# sets its rings up afresh works again, frame for frame.  With the offloads
# negotiated, hostile virtio-net headers (issue 14 point 4): each such frame
# dropped and counted under its reason, the vif stays up, nothing of them
# leaves, and vm1 loses nothing meanwhile.  Live migration's dirty log
# (issue 15): with logging on, every page the switch writes for a frame it
# places (targeted into vm2, copied into vm3) is marked in the guest's log
# and no other; a log too small for the guest's memory, or a pipe or a socket
# as its fd, is answered, refused and counted (bad-log), breaks that vif
# only, and vm1 loses nothing meanwhile.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/guests.sh"

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm1 vhost-user $T/vm1.sock mac 02:00:00:00:00:01
vif vm2 vhost-user $T/vm2.sock mac 02:00:00:00:00:02
vif vm3 vhost-user $T/vm3.sock targeted off offloads on mac 02:00:00:00:00:03
EOF
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"

# what a vif lost: the switch's drops and its queues' missed frames
drops() { vif_field "$1" '(.drops | add) + .missed'; }
balance() {
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats |
		jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)'
}

guest vm1 02:00:00:00:00:01 rxonly
vg_start vm2 02:00:00:00:00:02
vg_start vm3 02:00:00:00:00:03

SRC=02ee00000001
F1=$(pad "020000000001${SRC}0800" 64)
F2=$(pad "020000000002${SRC}0800" 64)
F3=$(pad "020000000003${SRC}0800" 64)
TOWIRE=$(pad "02ee00000001020000000003080045" 64)

# honest first: both Python guests receive exactly what is sent, byte for byte
eq "vm2 setup" "$(vg vm2 setup)" ok
eq "vm3 setup" "$(vg vm3 setup)" ok
eq "vm2 running" "$(vif_field vm2 .guest.state)" running
wire_send "$F2" 40
wire_send "$F3" 30
eq "vm2 (targeted) got its frames intact" "$(vg vm2 recv 40 "$F2")" "got 40 bad 0"
eq "vm3 (copied) got its frames intact" "$(vg vm3 recv 30 "$F3")" "got 30 bad 0"
eq "vm2 memory untouched elsewhere" "$(vg vm2 canary)" intact

# the dirty log, honest: turned on as QEMU turns it on, the frames placed
# while it is on marked page for page; turned off again
for vm in vm2 vm3; do
	F=$F2
	[ $vm = vm3 ] && F=$F3
	eq "$vm: log taken" "$(vg $vm log ok)" "log taken"
	eq "$vm: logging on" "$(vif_field $vm .guest.migration.logging)" true
	eq "$vm: log size (2 MiB at 1 GiB: 32832 bytes)" "$(vif_field $vm .guest.migration.log_size)" 32832
	eq "$vm: log cleared" "$(vg $vm dirty clear)" cleared
	wire_send "$F" 40
	eq "$vm logging: frames intact" "$(vg $vm recv 40 "$F")" "got 40 bad 0"
	eq "$vm logging: every page written marked, no other" "$(vg $vm dirty)" "dirty missing 0 extra 0"
	eq "$vm: logging off" "$(vg $vm log off)" "nack 0"
	eq "$vm: logging off (show vifs)" "$(vif_field $vm .guest.migration.logging)" false
	wire_send "$F" 10
	eq "$vm logging off: frames intact" "$(vg $vm recv 10 "$F")" "got 10 bad 0"
done

# the dirty log, hostile: refused and answered, that vif broken, the others
# lose nothing; set up afresh, it works again
loglie() {
	local vm=$1 kind=$2 F=$3 other=$4 g1 n0
	n0=$(vif_field "$vm" '.guest."bad-log"')
	g1=$(testpmd_stat vm1 RX-packets)
	( wire_send "$F1" 200 ) &
	local s1=$!
	eq "log $kind: answered and refused" "$(vg "$vm" log "$kind")" "log refused 1"
	wait $s1
	sleep 0.3
	eq "log $kind: $vm broken" "$(vif_field "$vm" .guest.state)" "broken: bad-log"
	eq "log $kind: counted once" "$(vif_field "$vm" '.guest."bad-log"')" $((n0 + 1))
	eq "log $kind: logging off" "$(vif_field "$vm" .guest.migration.logging)" false
	eq "log $kind: vm1 lost nothing" "$(testpmd_stat vm1 RX-packets)" $((g1 + 200))
	eq "log $kind: $other still running" "$(vif_field "$other" .guest.state)" running
	eq "log $kind: $vm memory untouched elsewhere" "$(vg "$vm" canary)" intact
	vg "$vm" stop > /dev/null
	eq "log $kind: $vm sets up again" "$(vg "$vm" setup)" ok
	wire_send "$F" 20
	eq "log $kind: $vm frames intact again" "$(vg "$vm" recv 20 "$F")" "got 20 bad 0"
}
loglie vm2 small "$F2" vm3
loglie vm2 pipe "$F2" vm3
loglie vm3 socket "$F3" vm2

# hostile (name fault state-reason): a lie in the receive ring; meanwhile
# the wire sends to the liar and to vm1
lie() {
	local vm=$1 fault=$2 why=$3 F=$4 d0 g1 n0
	eq "$vm stops its rings" "$(vg "$vm" stop | cut -d' ' -f1)" bases
	n0=$(vif_field "$vm" ".guest.\"$why\"")
	eq "$vm sets up with a $fault" "$(vg "$vm" setup "$fault")" ok
	d0=$(drops "$vm")
	g1=$(testpmd_stat vm1 RX-packets)
	( wire_send "$F1" 200 ) &
	local s1=$!
	wire_send "$F" 25
	wait $s1
	sleep 0.3
	eq "$fault: $vm broken" "$(vif_field "$vm" .guest.state)" "broken: $why"
	eq "$fault: counted once" "$(vif_field "$vm" ".guest.\"$why\"")" $((n0 + 1))
	eq "$fault: the liar's frames dropped and counted" $(($(drops "$vm") - d0)) 25
	eq "$fault: $vm got nothing" "$(vg "$vm" recv 1 "$F" 0.3)" "got 0 bad 0"
	eq "$fault: DEVICE_NEEDS_RESET" "$(vg "$vm" status)" "status 0x40"
	eq "$fault: $vm memory untouched elsewhere" "$(vg "$vm" canary)" intact
	eq "$fault: vm1 lost nothing" "$(testpmd_stat vm1 RX-packets)" $((g1 + 200))
	eq "$fault: every wire frame delivered or counted" "$(balance)" 0
	# set up afresh: it works again
	vg "$vm" stop > /dev/null
	eq "$vm sets up again" "$(vg "$vm" setup)" ok
	eq "$vm running again" "$(vif_field "$vm" .guest.state)" running
	wire_send "$F" 20
	eq "$vm after reset: frames intact" "$(vg "$vm" recv 20 "$F")" "got 20 bad 0"
}
lie vm2 address bad-address "$F2"
# (a loop shows as a chain longer than the walker follows: 64 pieces, in a
# ring of 256)
lie vm2 loop chain-too-long "$F2"
lie vm3 address bad-address "$F3"
lie vm3 readonly write-to-read-only "$F3"

# a transmit chain whose length runs past guest memory: nothing of it leaves
rx0=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
from0=$(vif_field vm3 .from_vm)
vg vm3 send 5 "$TOWIRE" lie > /dev/null
eq "tx lie: vm3 broken" "$(vif_field vm3 .guest.state | cut -d: -f1)" broken
eq "tx lie: nothing read from it" "$(vif_field vm3 .from_vm)" "$from0"
vg vm3 stop > /dev/null
eq "vm3 sets up after the tx lie" "$(vg vm3 setup)" ok
eq "vm3 sends honestly" "$(vg vm3 send 30 "$TOWIRE")" "used 30"
sleep 0.3
rx1=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
eq "vm3 -> wire: the external host got them" $((rx1 - rx0)) 30
eq "vm3 from_vm" $(($(vif_field vm3 .from_vm) - from0)) 30

# hostile virtio-net headers from a guest that negotiated CSUM and TSO
vg vm3 stop > /dev/null
eq "vm3 sets up with offloads" "$(vg vm3 setup offloads)" ok
from0=$(vif_field vm3 .from_vm)
for kw in gso0:gso-size csumrange:csum-range csumoff:csum-range gsotype:gso-type \
	  ufo:gso-type nocsum:gso-csum ecn:off-not-negotiated superlong:super-long; do
	kind=${kw%%:*} why=${kw#*:}
	n0=$(vif_field vm3 ".guest.\"$why\" // 0")
	g1=$(testpmd_stat vm1 RX-packets)
	( wire_send "$F1" 100 ) &
	s1=$!
	eq "vnet $kind: every chain back to the guest" "$(vg vm3 sendvnet 10 $kind "$TOWIRE")" "used 10"
	wait $s1
	sleep 0.2
	eq "vnet $kind: counted as $why" $(($(vif_field vm3 ".guest.\"$why\"") - n0)) 10
	eq "vnet $kind: vm3 still running" "$(vif_field vm3 .guest.state)" running
	eq "vnet $kind: vm1 lost nothing" "$(testpmd_stat vm1 RX-packets)" $((g1 + 100))
done
eq "hostile headers: nothing read from them" "$(vif_field vm3 .from_vm)" "$from0"
rx0=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
eq "vm3 sends honestly after hostile headers" "$(vg vm3 send 30 "$TOWIRE")" "used 30"
sleep 0.3
rx1=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
eq "vm3 -> wire after hostile headers" $((rx1 - rx0)) 30
eq "vm3 from_vm after hostile headers" $(($(vif_field vm3 .from_vm) - from0)) 30

# malformed messages: a payload of the wrong size is refused (REPLY_ACK 1)
# and breaks the device; a header that lies about its size is a hang-up
eq "bad message refused" "$(vg vm2 badmsg)" "nack 1"
eq "bad message: vm2 broken" "$(vif_field vm2 .guest.state)" "broken: bad-message"
eq "bad message counted" "$(vif_field vm2 '.guest."bad-message"')" 1
vg vm2 stop > /dev/null
eq "vm2 sets up after a bad message" "$(vg vm2 setup)" ok
wire_send "$F2" 10
eq "vm2 receives again" "$(vg vm2 recv 10 "$F2")" "got 10 bad 0"
c0=$(vif_field vm2 .guest.connects)
g1=$(testpmd_stat vm1 RX-packets)
eq "oversized message: hung up" "$(vg vm2 hugemsg)" "hung up"
grep -q "vif vm2: guest disconnected" "$T/switch.log" || fail "hang-up not logged"
eq "vm2 waits for a guest" "$(vif_field vm2 .guest.state)" waiting
wire_send "$F1" 100
sleep 0.3
eq "vm1 lost nothing meanwhile" "$(testpmd_stat vm1 RX-packets)" $((g1 + 100))
eq "vm2 reconnects" "$(vg vm2 reconnect)" ok
eq "vm2 sets up on the new connection" "$(vg vm2 setup)" ok
eq "vm2 connected again" "$(vif_field vm2 .guest.connects)" $((c0 + 1))
wire_send "$F2" 15
eq "vm2 receives on the new connection" "$(vg vm2 recv 15 "$F2")" "got 15 bad 0"
eq "every wire frame delivered or counted, at the end" "$(balance)" 0

if [ "$FAILS" -ne 0 ]; then
	"$VMDQ" ctl --ctl "$T/ctl.sock" show vifs
	tail -20 "$T/switch.log"
	tail -n 5 "$T/vm2.out" "$T/vm3.out"
fi
stop_switch
finish
