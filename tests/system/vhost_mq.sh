#!/bin/bash
# vhost-user with several virtio queue pairs (virtio-net multiqueue): one
# vif queue pair per virtio queue pair.  Topology:
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] vm1 vhost-user queues 2 (targeted)
#                                                              vm2 vhost-user queues 2 (targeted off)
#
# The guests are testpmd with two queue pairs.  Checks, with exact counts:
# the switch offers two pairs and the device spreads each vif's frames
# over its two queues (RSS); each guest receive queue gets exactly the
# frames `vmdq sort` says the flow hash sends to it (same frames, same
# config offline); frames a guest sends on both of its transmit queues
# leave through both of the vif's TX queues and all reach the wire; a
# guest that enables only one pair gets everything on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guests.sh"

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm1 vhost-user $T/vm1.sock mac 02:00:00:00:00:01 queue 1 queues 2
vif vm2 vhost-user $T/vm2.sock targeted off mac 02:00:00:00:00:02 queue 3 queues 2
EOF
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"
eq "vm1 has two queue pairs" "$(vif_field vm1 .queues)" 2
eq "queue 2 belongs to vm1" "$(queue_field 2 owner)" vm1
eq "queue 4 belongs to vm2" "$(queue_field 4 owner)" vm2
# a bad queue count is refused with the reason
out=$("$VMDQ" ctl --ctl "$T/ctl.sock" vif vm9 vhost-user "$T/vm9.sock" mac 02:00:00:00:00:09 queues 9 2>&1 || true)
eq "queues 9 refused" "$out" "vmdq ctl: error: vif vm9: queues: '9' is not in 1..4"

QUEUES=2 guest vm1 02:00:00:00:00:01 rxonly --rxq=2 --txq=2
QUEUES=2 guest vm2 02:00:00:00:00:02 rxonly --rxq=2 --txq=2
eq "vm1: the device spreads over both pairs" "$(queue_field 1 rss)" 2
eq "vm2: the device spreads over both pairs" "$(queue_field 3 rss)" 2

# 32 UDP flows (source ports 5000..5031) x 10 frames to each guest, also
# written to a capture for the offline sorter
ip netns exec "$NS_EXT" /usr/bin/python3 - "$T/flows.pcap" <<'P'
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
pc = open(sys.argv[1], "wb")
pc.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for vm in (1, 2):
    for k in range(10):
        for flow in range(32):
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                             bytes([10, 9, 0, 1]), bytes([10, 9, 0, 10 + vm]))
            udp = struct.pack("!HHHH", 5000 + flow, 7, 8, 0)
            f = bytes([2, 0, 0, 0, 0, vm, 2, 0xee, 0, 0, 0, 1, 8, 0]) + ip + udp
            f += bytes(60 - len(f))
            s.send(f)
            pc.write(struct.pack("<IIII", 0, 0, len(f), len(f)) + f)
            time.sleep(0.0005)
P
sleep 0.5
cat > "$T/sort.conf" <<EOF
device vmdq on
filter add mac 02:00:00:00:00:01 queue 1
queue 1 rss 2
filter add mac 02:00:00:00:00:02 queue 3
queue 3 rss 2
EOF
"$VMDQ" sort -c "$T/sort.conf" -r "$T/flows.pcap" -w "$T/sorted" >/dev/null
want() { jq ".queues[] | select(.queue == $1) | .frames" "$T/sorted/stats.json"; }
w1=$(want 1); w2=$(want 2); w3=$(want 3); w4=$(want 4)
eq "the offline sort splits vm1's 320" $((w1 + w2)) 320
ok test "$w1" -gt 0 -a "$w2" -gt 0
eq "vm1 (targeted) pair 0 got what the hash says" "$(testpmd_xstat vm1 rx_q0_good_packets)" "$w1"
eq "vm1 (targeted) pair 1 got what the hash says" "$(testpmd_xstat vm1 rx_q1_good_packets)" "$w2"
eq "vm2 (copied) pair 0 got what the hash says" "$(testpmd_xstat vm2 rx_q0_good_packets)" "$w3"
eq "vm2 (copied) pair 1 got what the hash says" "$(testpmd_xstat vm2 rx_q1_good_packets)" "$w4"
eq "device queue 2 (vm1 pair 1)" "$(queue_field 2 frames)" "$w2"
eq "device queue 4 (vm2 pair 1)" "$(queue_field 4 frames)" "$w4"

# vm1 sends on both of its transmit queues to the wire
guest_kill vm1
from0=$(vif_field vm1 .from_vm); wire0=$(vif_field vm1 .to_wire)
drops0=$(vif_field vm1 '.drops | add'); ptx0=$(vif_field vm1 '.drops."port-tx"')
tx10=$(queue_field 1 tx_frames); tx20=$(queue_field 2 tx_frames)
rx0=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
QUEUES=2 guest vm1 02:00:00:00:00:01 txonly --rxq=2 --txq=2 --eth-peer=0,02:ee:00:00:00:01
sleep 1
testpmd_cmd vm1 stop
sleep 0.5
sent=$(testpmd_stat vm1 TX-packets)
q0=$(testpmd_xstat vm1 tx_q0_good_packets); q1=$(testpmd_xstat vm1 tx_q1_good_packets)
ok test "${sent:-0}" -gt 1000
ok test "${q0:-0}" -gt 0 -a "${q1:-0}" -gt 0
dfrom=$(( $(vif_field vm1 .from_vm) - from0 ))
dwire=$(( $(vif_field vm1 .to_wire) - wire0 ))
ddrops=$(( $(vif_field vm1 '.drops | add') - drops0 ))
dptx=$(( $(vif_field vm1 '.drops."port-tx"') - ptx0 ))
eq "vm1 -> wire: frames the switch read" "$dfrom" "$sent"
eq "vm1 -> wire: on the wire or counted" $((dwire + ddrops)) "$dfrom"
dq1=$(( $(queue_field 1 tx_frames) - tx10 )); dq2=$(( $(queue_field 2 tx_frames) - tx20 ))
eq "vm1 -> wire: the two TX queues carried what the arbiter took" $((dq1 + dq2)) $((dwire + dptx))
ok test "$dq1" -gt 0 -a "$dq2" -gt 0
rx1=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
eq "vm1 -> wire: the external host got them" $((rx1 - rx0)) "$dwire"

# a guest with one pair on a two-pair vif: everything on pair 0
guest_kill vm2
sleep 0.3
QUEUES=1 guest vm2 02:00:00:00:00:02 rxonly
eq "vm2 with one pair: no spread" "$(queue_field 3 rss)" 1
before=$(queue_field 3 frames)
ip netns exec "$NS_EXT" /usr/bin/python3 - <<'P'
import socket, struct, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for flow in range(100):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                     bytes([10, 9, 0, 1]), bytes([10, 9, 0, 12]))
    f = bytes([2, 0, 0, 0, 0, 2, 2, 0xee, 0, 0, 0, 1, 8, 0]) + ip + struct.pack("!HHHH", 6000 + flow, 7, 8, 0)
    s.send(f + bytes(60 - len(f)))
    time.sleep(0.0005)
P
sleep 0.5
eq "vm2 with one pair got all 100" "$(testpmd_stat vm2 RX-packets)" 100
eq "all on queue 3" $(( $(queue_field 3 frames) - before )) 100

guest_kill vm1
guest_kill vm2
kill -TERM "$SW_PID"; wait "$SW_PID" || true
SW_PID=
finish
