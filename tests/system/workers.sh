#!/bin/sh
# Worker threads: vm1's queue is bound to CPU 1 (`queue 1 cpu 1`), so a
# second worker pinned there serves it; vm2 stays on the main worker (CPU
# 0).  Wire <-> VM and VM <-> VM across workers (the inbox hand-over), exact
# broadcast counts, a TCP stream each way, then vm2 moved to worker 1 at
# runtime under a stream, an unusable CPU refused with nothing changed,
# counters that balance, and an idle switch with two workers at ~0% CPU.
. "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || { echo "one CPU: skipped"; exit 77; }
ext_host 10.97.0.100
for i in 1 2; do netns vq$i$ID; done
S="$T/ctl.sock"
cat > "$T/sw.conf" <<X
uplink up afpacket vqu$ID
vif vm1 tap vqt1$ID mac 02:00:00:00:00:01 queue 1 netns vq1$ID
vif vm2 tap vqt2$ID mac 02:00:00:00:00:02 queue 2 netns vq2$ID
queue 1 cpu 1
X
"$VMDQ" switch -c "$T/sw.conf" --cpu 0 --ctl "$S" -s "$T/stats.json" 2> "$T/switch.log" &
SW_PID=$!
for _ in $(seq 50); do grep -q "main worker on" "$T/switch.log" && break; sleep 0.1; done
ctl() { "$VMDQ" ctl --ctl "$S" "$@"; }
vm_up vq1$ID vqt1$ID 02:00:00:00:00:01 10.97.0.1
vm_up vq2$ID vqt2$ID 02:00:00:00:00:02 10.97.0.2
eq "worker 1 started on CPU 1" "$(grep -c 'worker 1 on CPU 1' "$T/switch.log")" 1
eq "workers" "$(ctl -j show stats | jq .workers)" 2
eq "vm1 on worker 1, vm2 on worker 0" "$(ctl -j show vifs | jq -r '[.[].worker] | join(",")')" 1,0
# (the control thread inherits the main worker's CPU)
eq "threads pinned to one CPU each" \
	"$(grep -h Cpus_allowed_list /proc/$SW_PID/task/*/status | grep -vc '	[01]$')" 0
eq "one thread on CPU 1" "$(grep -h Cpus_allowed_list /proc/$SW_PID/task/*/status | grep -c '	1$')" 1

ok ip netns exec "$NS_EXT" ping -c 3 -i 0.2 -W 2 -q 10.97.0.1 > /dev/null
ok ip netns exec "$NS_EXT" ping -c 3 -i 0.2 -W 2 -q 10.97.0.2 > /dev/null
ok ip netns exec vq1$ID ping -c 3 -i 0.2 -W 2 -q 10.97.0.2 > /dev/null
ok ip netns exec vq2$ID ping -c 3 -i 0.2 -W 2 -q 10.97.0.1 > /dev/null

# broadcasts: from the wire to both, from vm1 (worker 1) to vm2 and the
# wire, from vm2 (worker 0) to vm1
# (a capture sees its own interface's outgoing frames: those are left out)
capture vq1$ID vqt1$ID "$T/b1.pcap" 'ether proto 0x88b5 and not ether src 02:00:00:00:00:01'
C1=$CAP_PID
capture vq2$ID vqt2$ID "$T/b2.pcap" 'ether proto 0x88b5 and not ether src 02:00:00:00:00:02'
C2=$CAP_PID
capture "$NS_EXT" eth0 "$T/b3.pcap" 'ether proto 0x88b5 and not ether src 02:ee:00:00:00:01'
C3=$CAP_PID
send_raw "$NS_EXT" eth0 "ffffffffffff02ee0000000188b5$(printf '%092d' 0)" 5
send_raw vq1$ID vqt1$ID "ffffffffffff02000000000188b5$(printf '%092d' 0)" 6
send_raw vq2$ID vqt2$ID "ffffffffffff02000000000288b5$(printf '%092d' 0)" 7
sleep 1
kill -INT $C1 $C2 $C3 2>/dev/null || true
wait $C1 $C2 $C3 2>/dev/null || true
eq "vm1: the wire's and vm2's" "$(npkts "$T/b1.pcap" ethertype)" 12
eq "vm2: the wire's and vm1's" "$(npkts "$T/b2.pcap" ethertype)" 11
eq "wire: vm1's and vm2's" "$(npkts "$T/b3.pcap" ethertype)" 13

bps=$(tcp vq1$ID 10.97.0.1 "$NS_EXT" 2 5201)
ok test -n "$bps"
echo "TCP ext -> vm1 (worker 1): ${bps%.*} bit/s"
bps=$(tcp "$NS_EXT" 10.97.0.100 vq1$ID 2 5202)
ok test -n "$bps"
echo "TCP vm1 (worker 1) -> ext: ${bps%.*} bit/s"
bps=$(tcp vq2$ID 10.97.0.2 vq1$ID 2 5203)
ok test -n "$bps"
echo "TCP vm1 (worker 1) -> vm2 (worker 0): ${bps%.*} bit/s"

# an unusable CPU is refused and changes nothing
out=$(ctl queue 2 cpu 999 2>&1 || true)
eq "bad CPU refused" "$out" "vmdq ctl: error: queue 2 cpu 999: the switch cannot run on CPU 999"
eq "nothing moved" "$(ctl -j show vifs | jq -r '[.[].worker] | join(",")')" 1,0

# vm2 moves to worker 1 while a stream runs to it
tcp vq2$ID 10.97.0.2 "$NS_EXT" 3 5204 > "$T/bps2" &
TCP2=$!
sleep 1
ok ctl queue 2 cpu 1
eq "vm2 moved to worker 1" "$(ctl -j show vifs | jq -r '[.[].worker] | join(",")')" 1,1
wait $TCP2 || true
ok test -n "$(cat "$T/bps2")"
ok ip netns exec vq2$ID ping -c 2 -i 0.2 -W 2 -q 10.97.0.1 > /dev/null

# idle: two workers asleep
sleep 1
a=$(awk '{print $14 + $15}' /proc/$SW_PID/stat)
sleep 3
b=$(awk '{print $14 + $15}' /proc/$SW_PID/stat)
ok test $((b - a)) -le 3 # clock ticks of 10 ms in 3 s: ~0% CPU
echo "idle: $((b - a)) ticks in 3 s"

stop_switch
eq "wire balance" "$(jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)' "$T/stats.json")" 0
eq "every frame read from the uplink went to the device" \
	"$(jq '.uplink.rx_frames' "$T/stats.json")" "$(jq '.device.frames' "$T/stats.json")"
eq "no hand-over overflowed" "$(jq '[.vifs[].drops["handoff-full"]] | add' "$T/stats.json")" 0
finish
