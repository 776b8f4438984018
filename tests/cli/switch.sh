#!/bin/sh
# vmdq switch with capture ports only (no root): forwarding as SPEC 2, every
# count exact.  Three VMs: vm1 and vm2 untagged, vm3 on access VLAN 100.
. "$(dirname "$0")/lib.sh"
cd "$T"
cat > up.txt <<'X'
02:00:00:00:00:01 02:ee:00:00:00:01 repeat 5            # to vm1: its queue
02:00:00:00:00:02 02:ee:00:00:00:01 repeat 3            # to vm2
02:00:00:00:00:03 02:ee:00:00:00:01 vlan 100 repeat 2   # to vm3 on VLAN 100: untagged to it
02:00:00:00:00:03 02:ee:00:00:00:01                     # vm3's MAC untagged: unknown -> flood untagged
ff:ff:ff:ff:ff:ff 02:ee:00:00:00:01 repeat 2            # broadcast: vm1, vm2
ff:ff:ff:ff:ff:ff 02:ee:00:00:00:02 vlan 100            # broadcast on VLAN 100: vm3 only
02:ee:00:00:00:01 02:ee:00:00:00:03                     # to a station learned on the wire: not local
02:00:00:00:00:02 02:ee:00:00:00:01 vlan 7              # vm2's MAC tagged: never to the untagged domain
X
cat > vm1.txt <<'X'
02:ee:00:00:00:01 02:00:00:00:00:01 repeat 4            # to the wire
ff:ff:ff:ff:ff:ff 02:00:00:00:00:01                     # broadcast: vm2 and the wire
02:00:00:00:00:02 02:00:00:00:00:01 repeat 2            # to vm2, locally
02:ee:00:00:00:01 02:00:00:00:00:66                     # spoofed source: dropped
02:ee:00:00:00:01 02:00:00:00:00:01 vlan 5              # tagged from a VM: dropped
X
printf '02:ee:00:00:00:02 02:00:00:00:00:03 repeat 3\n' > vm3.txt
: > empty.txt
for f in up vm1 vm3 empty; do "$MKPCAP" $f.txt $f.pcap; done
cat > sw.conf <<'X'
device profile 82576
uplink up pcap up.pcap wire.pcap
vif vm1 pcap vm1.pcap vm1-out.pcap mac 02:00:00:00:00:01
vif vm2 pcap empty.pcap vm2-out.pcap mac 02:00:00:00:00:02
vif vm3 pcap vm3.pcap vm3-out.pcap mac 02:00:00:00:00:03 vlan 100
X
"$VMDQ" switch -c sw.conf -s stats.json 2> log
eq "wire frames" "$(npkts wire.pcap)" 8
eq "vm1 frames" "$(npkts vm1-out.pcap)" 8
eq "vm2 frames" "$(npkts vm2-out.pcap)" 9
eq "vm3 frames" "$(npkts vm3-out.pcap)" 3
# isolation: no vif gets another vif's unicast from the wire
eq "vm1 never sees vm2 unicast" "$(tcpdump -r vm1-out.pcap -n -e 2>/dev/null | grep -c '> 02:00:00:00:00:02')" 0
eq "vm2 sees its own 3 + 2 from vm1" "$(tcpdump -r vm2-out.pcap -n -e 2>/dev/null | grep -c '> 02:00:00:00:00:02')" 5
# access VLAN: vm3 gets untagged frames, its frames leave tagged
eq "vm3 gets untagged" "$(tcpdump -r vm3-out.pcap -n -e 2>/dev/null | grep -c 802.1Q)" 0
eq "vm3 to wire tagged 100" "$(tcpdump -r wire.pcap -n -e 2>/dev/null | grep -c 'vlan 100')" 3
eq "untagged domain gets no tag" "$(tcpdump -r vm1-out.pcap -n -e 2>/dev/null | grep -c 802.1Q)" 0
eq "wire never sees spoofed" "$(tcpdump -r wire.pcap -n -e 2>/dev/null | grep -c 02:00:00:00:00:66)" 0
S=stats.json
eq "wire polled" "$(jq .wire.polled $S)" 16
eq "wire balance" "$(jq '.wire.delivered + ([.wire.drops[]] | add)' $S)" 16
eq "not local" "$(jq '.wire.drops["not-local"]' $S)" 1
eq "tagged to untagged" "$(jq '.wire.drops.tagged' $S)" 1
eq "flooded" "$(jq .wire.flooded $S)" 4
eq "device frames" "$(jq .device.frames $S)" 16
eq "vm1" "$(jq -c '.vifs[0] | [.from_vm, .to_vm, .to_wire, .drops.spoofed, .drops.tagged]' $S)" "[9,8,5,1,1]"
eq "vm3" "$(jq -c '.vifs[2] | [.from_vm, .to_vm, .to_wire]' $S)" "[3,3,3]"
eq "to wire" "$(jq .to_wire $S)" 8
# fairness on the wire: rr interleaves vm1 and vm3
eq "rr interleave" "$(tcpdump -r wire.pcap -n -e 2>/dev/null | head -4 | awk '{print $2}' | tr '\n' ' ')" \
	"02:00:00:00:00:01 02:00:00:00:00:03 02:00:00:00:00:01 02:00:00:00:00:03 "
# store-bad frames reach queues with error bits: counted as bad, not switched
printf '02:00:00:00:00:01 02:ee:00:00:00:01 len 200 caplen 100\n02:00:00:00:00:02 02:ee:00:00:00:01 len 10\n02:00:00:00:00:01 02:ee:00:00:00:01\n' > bad.txt
"$MKPCAP" bad.txt bad.pcap
cat > sb.conf <<'X'
device store-bad on
uplink up pcap bad.pcap wire2.pcap
vif vm1 pcap empty.pcap sb1.pcap mac 02:00:00:00:00:01
X
"$VMDQ" switch -c sb.conf -s sb.json 2> log
eq "store-bad: bad frames" "$(jq '.wire.drops.bad' sb.json)" 2
eq "store-bad: the good one delivered" "$(npkts sb1.pcap)" 1
eq "store-bad: balance" "$(jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)' sb.json)" 0

# config errors: line and reason, nothing started
printf 'device vmdq on\nvif a pcap empty.pcap x.pcap\n' > bad.conf
set +e
"$VMDQ" switch -c bad.conf 2> err; rc=$?
eq "bad vif exit" "$rc" 2
contains "missing mac" err "bad.conf:2: vif a: missing 'mac MAC'"
printf 'uplink u pcap up.pcap w.pcap\nvif a frob x mac 02:00:00:00:00:01\n' > bad2.conf
"$VMDQ" switch -c bad2.conf 2> err; rc=$?
contains "unknown backend" err "bad2.conf:2: vif a: unknown backend 'frob'"
printf 'vif a pcap empty.pcap x.pcap mac 02:00:00:00:00:01\nvif b pcap empty.pcap y.pcap mac 02:00:00:00:00:01\n' > bad3.conf
"$VMDQ" switch -c bad3.conf 2> err; rc=$?
contains "duplicate MAC" err "bad3.conf:2: vif b: vif a has that MAC on that VLAN already"
printf 'uplink u pcap up.pcap w.pcap txrate 0\n' > bad4.conf
"$VMDQ" switch -c bad4.conf 2> err; rc=$?
eq "bad txrate exit" "$rc" 2
contains "bad txrate" err "bad4.conf:1: uplink u: txrate: expected frames per second, 1..100000000"
printf 'queue 1 cpu 999\n' > bad5.conf
"$VMDQ" switch -c bad5.conf 2> err; rc=$?
eq "unusable CPU exit" "$rc" 2
contains "unusable CPU" err "bad5.conf:1: queue 1 cpu 999: the switch cannot run on CPU 999"
"$VMDQ" switch -c bad5.conf --cpu x 2> err; rc=$?
eq "bad --cpu exit" "$rc" 2
contains "bad --cpu" err "vmdq switch: --cpu: 'x' is not a CPU number"
printf 'vif a pcap empty.pcap x.pcap mac 02:00:00:00:00:01 queues 2\n' > bad6.conf
"$VMDQ" switch -c bad6.conf 2> err; rc=$?
eq "queues on a one-pair backend exit" "$rc" 2
contains "queues on a one-pair backend" err "bad6.conf:1: vif a: queues 2: a pcap vif has at most 1 queue pair"
printf 'vif a vhost-user v.sock mac 02:00:00:00:00:01 queue 15 queues 2\n' > bad7.conf
"$VMDQ" switch -c bad7.conf 2> err; rc=$?
eq "pairs past the last queue exit" "$rc" 2
contains "pairs past the last queue" err "bad7.conf:1: vif a: queue out of range"
set -e
# loop N replays the capture N times from memory; /dev/null discards
cat > loop.conf <<'X'
uplink up pcap up.pcap /dev/null loop 3
vif vm1 pcap empty.pcap vm1-loop.pcap mac 02:00:00:00:00:01
vif vm2 pcap vm1.pcap /dev/null mac 02:00:00:00:00:02
X
"$VMDQ" switch -c loop.conf -s loop.json 2> log
eq "loop 3: uplink frames" "$(jq .uplink.rx_frames loop.json)" 48
# vm1: its 5, 2 broadcasts, 1 unknown unicast flooded; vm2 likewise 3 + 2 + 1
eq "loop 3: vm1 got 8 frames three times" "$(npkts vm1-loop.pcap)" 24
tcpdump -r vm1-loop.pcap -n -e 2>/dev/null | awk '{print $2, $4}' > seq
eq "loop 3: each frame three times" "$(awk '{print $2}' seq | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" "15 3 6 "
eq "vif with /dev/null out: counted" "$(jq '.vifs[1].to_vm' loop.json)" 18
# a looping capture that has no frame to replay (SPEC 4: SIGTERM always stops
# the switch): loop 0 on it is refused with the line and the reason, loop N
# on it ends at once instead of reopening the file N times in one poll
set +e
printf 'device vmdq on\nuplink up pcap empty.pcap /dev/null loop 0\n' > loop0.conf
timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c loop0.conf 2> err; rc=$?
eq "loop 0 on an empty capture exit" "$rc" 2
contains "loop 0 on an empty capture" err "loop0.conf:2: pcap empty.pcap: loop 0 needs at least one frame; the capture has none"
printf 'vif a pcap empty.pcap /dev/null loop 0 mac 02:00:00:00:00:01\n' > loop0v.conf
timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c loop0v.conf 2> err; rc=$?
eq "loop 0 vif on an empty capture exit" "$rc" 2
contains "loop 0 vif on an empty capture" err "loop0v.conf:1: pcap empty.pcap: loop 0 needs at least one frame; the capture has none"
printf 'uplink up pcap empty.pcap /dev/null loop 1000000000\nvif vm1 pcap vm1.pcap /dev/null mac 02:00:00:00:00:01\n' > loopn.conf
timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c loopn.conf -s loopn.json 2> err; rc=$?
eq "loop N on an empty capture ends" "$rc" 0
eq "loop N on an empty capture: nothing from it" "$(jq .uplink.rx_frames loopn.json)" 0
eq "loop N on an empty capture: the vif's frames still forwarded" "$(jq .to_wire loopn.json)" 7
# a capture whose only record is malformed (a capture length past any
# snapshot length; a record cut short): refused at load with the line
python3 - <<'P'
import struct
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
open('badrec.pcap', 'wb').write(hdr + struct.pack('<IIII', 0, 0, 0x7fffffff, 60) + b'\0' * 60)
open('cutrec.pcap', 'wb').write(hdr + struct.pack('<IIII', 0, 0, 60, 60) + b'\0' * 20)
P
for f in badrec cutrec; do
	printf 'uplink up pcap %s.pcap /dev/null loop 0\n' $f > $f.conf
	timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c $f.conf 2> err; rc=$?
	eq "loop 0 on $f exit" "$rc" 2
	contains "loop 0 on $f" err "$f.conf:1: pcap: "
done
# a pipe as IN or OUT could block the worker for ever in a read or a write
mkfifo in.fifo out.fifo
printf 'uplink up pcap in.fifo /dev/null\n' > fifo1.conf
timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c fifo1.conf 2> err; rc=$?
eq "pipe as IN exit" "$rc" 2
contains "pipe as IN" err "fifo1.conf:1: pcap in.fifo: not a regular file (a pipe or a device could block the switch)"
printf 'vif a pcap vm1.pcap out.fifo mac 02:00:00:00:00:01\n' > fifo2.conf
timeout -k 1 5 "$VMDQ" switch --ctl "$T/l.sock" -c fifo2.conf 2> err; rc=$?
eq "pipe as OUT exit" "$rc" 2
contains "pipe as OUT" err "fifo2.conf:1: pcap out.fifo: not a regular file (a pipe or a device could block the switch)"
set -e
# loop 0 on frames that are all bad (runts, cut short): the switch replays
# them (and drops them) until told to stop; vmdq ctl answers and SIGTERM
# stops it within 2 s
printf '02:00:00:00:00:01 02:ee:00:00:00:01 len 10\n02:00:00:00:00:01 02:ee:00:00:00:01 len 200 caplen 0\n' > runts.txt
"$MKPCAP" runts.txt runts.pcap
printf 'uplink up pcap runts.pcap /dev/null loop 0\nvif vm1 pcap empty.pcap /dev/null mac 02:00:00:00:00:01\n' > runts.conf
"$VMDQ" switch -c runts.conf --ctl "$T/runts.sock" 2> log &
SW=$!
for _ in $(seq 50); do [ -S "$T/runts.sock" ] && break; sleep 0.1; done
set +e
timeout 2 "$VMDQ" ctl --ctl "$T/runts.sock" show vifs > out; eq "bad frames in a loop: ctl answers within 2 s" $? 0
kill -TERM $SW

for _ in $(seq 40); do kill -0 $SW 2>/dev/null || break; sleep 0.05; done
eq "bad frames in a loop: SIGTERM stops it within 2 s" "$(kill -0 $SW 2>/dev/null && echo running || echo stopped)" stopped
kill -KILL $SW 2>/dev/null
wait $SW; rc=$?
set -e
eq "bad frames in a loop: clean exit" "$rc" 0
finish
