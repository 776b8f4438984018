#!/bin/sh
# Changes under traffic: while vm2 receives a TCP stream from the external
# host, filters are added and removed and vm1 (with a stream of its own) is
# deleted.  vm2's stream completes and the switch drops none of its frames;
# every counter balances.
. "$(dirname "$0")/lib.sh"
ext_host 10.99.0.100
for i in 1 2; do netns vq$i$ID; done
cat > "$T/sw.conf" <<X
uplink up afpacket vqu$ID
vif vm1 tap vqt1$ID mac 02:00:00:00:00:01 netns vq1$ID
vif vm2 tap vqt2$ID mac 02:00:00:00:00:02 netns vq2$ID
X
S="$T/ctl.sock"
"$VMDQ" switch -c "$T/sw.conf" --ctl "$S" -s "$T/stats.json" 2> "$T/switch.log" &
SW_PID=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
vm_up vq1$ID vqt1$ID 02:00:00:00:00:01 10.99.0.1
vm_up vq2$ID vqt2$ID 02:00:00:00:00:02 10.99.0.2
ctl() { "$VMDQ" ctl --ctl "$S" "$@"; }
ok ip netns exec "$NS_EXT" ping -c 2 -i 0.2 -W 2 -q 10.99.0.2 > /dev/null
# (frames flooded before the guests brought their links up were dropped
# and counted as port-tx: compare from here on)
before=$(ctl -j show vifs | jq '.[1] | [.drops[]] | add')

ip netns exec vq1$ID iperf3 -s -1 -p 5301 > /dev/null 2>&1 &
tcp vq2$ID 10.99.0.2 "$NS_EXT" 4 5302 > "$T/bps2" &
TCP2=$!
for _ in $(seq 100); do
	ip netns exec vq1$ID ss -ltn 2>/dev/null | grep -q ":5301 " && break
	sleep 0.05
done
ip netns exec "$NS_EXT" iperf3 -c 10.99.0.1 -p 5301 -t 4 > /dev/null 2>&1 &
sleep 1
for i in $(seq 20); do
	id=$(ctl filter add mac 02:00:00:00:10:$(printf %02x "$i") queue 9)
	ctl filter del "$id"
done
ok ctl vif del vm1
eq "vm1 gone" "$(ctl -j show vifs | jq -r '[.[].name] | join(",")')" vm2
wait $TCP2 || true
ok test -n "$(cat "$T/bps2")"
ctl -j show stats > "$T/live.json"
stop_switch
eq "vm2 lost nothing in the switch" "$(jq '.vifs[0] | [.drops[]] | add' "$T/stats.json")" "$before"
ok test "$(jq '.vifs[0].to_vm' "$T/stats.json")" -gt 10000
eq "no frame missed by a queue" "$(jq '.device.drops.missed' "$T/stats.json")" 0
eq "wire balance" "$(jq '.wire.polled - .wire.delivered - ([.wire.drops[]] | add)' "$T/stats.json")" 0
eq "device balance" "$(jq '.device.frames' "$T/stats.json")" \
	"$(jq '.wire.polled + ([.device.drops[]] | add)' "$T/stats.json")"
finish
