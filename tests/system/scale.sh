#!/bin/bash
# The switch at scale (issue 13): as many vifs as the device has queues for
# (4096 less the default queue: SCALE_VIFS, default 4095), 256 of them TAP
# vifs (VLAN 10, in one namespace) and the rest vhost-user vifs in server
# mode, three of them with a testpmd guest.  Where the switch takes fewer
# vifs, the test says so and runs with what it takes (a quarter of them
# TAPs).  Topology:
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] t0..t255 TAP, VLAN 10
#                                                              v0..vN vhost-user (g0, g1, g2 guests)
#
# Checks, with exact counts: frames from the wire reach a sample of TAPs
# and the three guests; a VLAN 10 broadcast reaches every TAP and no guest,
# an untagged one every guest and no TAP; the idle switch's CPU over 5 s
# (under 5% of one core); startup, `ctl show vifs`, `vif del` and `vif add`
# at runtime (one `vmdq ctl` each, and a thousand in one `vmdq ctl -f`
# batch), and stop, within generous bounds.  The figures are printed for
# BENCHMARKS.md: startup, show, add and del per vif, stop, idle CPU,
# resident memory of the switch per idle and per connected vif.
#
# The vhost-user sockets live on a tmpfs (/dev/shm, as /run is on a usual
# host): on an ext4 without a journal (this machine's /tmp and /run) a new
# inode skips every one deleted in the last minutes, so after another run
# binding 4000 sockets costs seconds that are the filesystem's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guests.sh"

WANT=${SCALE_VIFS:-4095}
# An ASan build (make asan runs this test too) pays for its shadow memory on
# every mapping and free: startup and stop take several times as long
# (stop at 4095 vifs: 1.4 s here, 6.2-7.6 s under ASan); its time bounds are
# three times as generous.  The release build's figures are the measure.
SLOW=1
grep -qa __asan_init "$VMDQ" && SLOW=3
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # a descriptor or two per vif
HZ=$(getconf CLK_TCK)
NS_TAP=vqs$ID
netns "$NS_TAP"
VU=$T
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	VU=$(mktemp -d /dev/shm/vmdq-scale.XXXXXX)
	trap 'rm -rf "$VU"; cleanup' EXIT INT TERM
fi
vhost_uplink

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T_START=$(now_ms)
phase() { echo "[$(( ($(now_ms) - T_START) / 1000 )) s] $*"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# mac_of 10|20 I: MAC (TAP t$I, vhost-user v$I) into $MAC, no fork
mac_of() { printf -v MAC '02:%s:00:00:%02x:%02x' "$1" $(($2 >> 8)) $(($2 & 255)); }

# conf N TAPS: N vifs, TAPS of them TAP vifs (one awk: a fork per line
# would take minutes here)
conf() {
	awk -v n="$1" -v taps="$2" -v id="$ID" -v ns="$NS_TAP" -v t="$VU" -v up="vqu$ID" 'BEGIN {
		print "device queues 4096"
		print "uplink wire afpacket " up
		for (i = 0; i < taps; i++)
			printf "vif t%d tap vqs%d%s mac 02:10:00:00:%02x:%02x vlan 10 netns %s\n",
				i, i, id, int(i / 256), i % 256, ns
		for (i = 0; i < n - taps; i++)
			printf "vif v%d vhost-user %s/v%d.sock mac 02:20:00:00:%02x:%02x\n",
				i, t, i, int(i / 256), i % 256
	}' > "$T/sw.conf"
}

# start CONF: the switch in the background; STARTUP_MS once it runs; 1 if
# it exited instead (its log says why)
start() {
	local t0
	t0=$(now_ms)
	"$VMDQ" switch -c "$1" -s "$T/stats.json" --ctl "$T/ctl.sock" 2> "$T/switch.log" &
	SW_PID=$!
	for _ in $(seq 1200); do
		if grep -q "switch running" "$T/switch.log" 2>/dev/null; then
			STARTUP_MS=$(($(now_ms) - t0))
			return 0
		fi
		kill -0 "$SW_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$SW_PID" 2>/dev/null || true
	SW_PID=
	return 1
}

phase "the empty switch"
# the empty switch's memory: the baseline of the per-vif figures
echo "device queues 4096" > "$T/base.conf"
echo "uplink wire afpacket vqu$ID" >> "$T/base.conf"
start "$T/base.conf" || { cat "$T/switch.log"; exit 1; }
sleep 0.5
RSS_BASE=$(rss_kb "$SW_PID")
stop_switch

N=$WANT
TAPS=$((N >= 1024 ? 256 : N / 4))
conf "$N" "$TAPS"
if ! start "$T/sw.conf"; then
	lim=$(grep -o "the switch has [0-9]* vifs, its limit" "$T/switch.log" | grep -o "[0-9]*" | head -1)
	[ -n "$lim" ] || { echo "switch did not start:"; tail -5 "$T/switch.log"; exit 1; }
	echo "the switch takes $lim vifs at most: running with $lim instead of $WANT"
	N=$lim
	TAPS=$((N >= 1024 ? 256 : N / 4))
	conf "$N" "$TAPS"
	start "$T/sw.conf" || { echo "switch did not start:"; tail -5 "$T/switch.log"; exit 1; }
fi
VUS=$((N - TAPS))
echo "scale: $N vifs ($TAPS TAP, $VUS vhost-user), startup $STARTUP_MS ms"
ok test "$STARTUP_MS" -lt $(((5000 + 2 * N) * SLOW))  # generous: the target is well under 1 s / 1000 vifs
sleep 0.5
RSS_IDLE=$(rss_kb "$SW_PID")

phase "the TAPs up"
# the TAPs up (their namespace has no IPv6: no chatter)
for i in $(seq 0 $((TAPS - 1))); do echo "link set vqs$i$ID up"; done | ip -n "$NS_TAP" -batch -
tap_rx() { # every TAP's frames received, "NAME COUNT" a line
	ip -n "$NS_TAP" -s -j link show | jq -r '.[] | select(.ifname | startswith("vqs")) |
		"\(.ifname) \(.stats64.rx.packets)"' | sort
}
tap_rx > "$T/tap0"
eq "TAPs in their namespace" "$(wc -l < "$T/tap0")" "$TAPS"

# show vifs: every vif, timed
t0=$(now_ms)
"$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs > "$T/vifs.json"
SHOW_MS=$(($(now_ms) - t0))
eq "show vifs lists every vif" "$(jq length "$T/vifs.json")" "$N"
eq "vhost-user vifs wait for their guests" \
	"$(jq '[.[] | select(.guest.state == "waiting")] | length' "$T/vifs.json")" "$VUS"
ok test "$SHOW_MS" -lt $(((3000 + N) * SLOW))

phase "guests"
# three guests, first middle last of the vhost-user vifs
G="v0 v$((VUS / 2)) v$((VUS - 1))"
for g in $G; do
	mac_of 20 "${g#v}"
	[ "$VU" = "$T" ] || ln -s "$VU/$g.sock" "$T/$g.sock" # where guest looks
	guest "$g" "$MAC" rxonly
done
sleep 0.5
RSS_CONN=$(rss_kb "$SW_PID")

phase "idle CPU"
# the idle switch: CPU over 5 s (the guests' polling paused meanwhile: they
# share the machine's two cores)
for g in $G; do testpmd_cmd "$g" stop; done
sleep 1
c0=$(cpu_ticks "$SW_PID")
sleep 5
c1=$(cpu_ticks "$SW_PID")
for g in $G; do testpmd_cmd "$g" start; done
IDLE_PCT=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.1f", d * 100 / hz / 5 }')
echo "scale: idle CPU over 5 s: $((c1 - c0)) ticks ($IDLE_PCT% of one core)"
ok test $((c1 - c0)) -lt $((HZ / 4))  # < 5% of one core

phase "frames"
# frames from the wire: 100 to each guest, 20 to each of 8 TAPs, 3
# broadcasts in VLAN 10 (every TAP), 2 untagged (every guest)
SRC=02ee00000001
args=()
for g in $G; do
	mac_of 20 "${g#v}"
	args+=("$(pad "${MAC//:/}${SRC}0800" 64)" 100)
done
SAMPLE=""
for k in 0 1 2 3 4 5 6 7; do
	i=$(( (k * 37) % TAPS ))
	SAMPLE="$SAMPLE $i"
	mac_of 10 "$i"
	args+=("$(pad "${MAC//:/}${SRC}8100000a0800" 64)" 20)
done
args+=("$(pad "ffffffffffff${SRC}8100000a0806" 64)" 3)
args+=("$(pad "ffffffffffff${SRC}0806" 64)" 2)
ip netns exec "$NS_EXT" /usr/bin/python3 - "${args[@]}" <<'P'
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
a = sys.argv[1:]
for i in range(0, len(a), 2):
    f = bytes.fromhex(a[i])
    for _ in range(int(a[i + 1])):
        s.send(f)
        time.sleep(0.001)
P
sleep 1
for g in $G; do
	eq "guest $g received" "$(testpmd_stat "$g" RX-packets)" 102
	eq "switch's to_vm of $g" "$(vif_field "$g" .to_vm)" 102
done
tap_rx > "$T/tap1"
# each TAP's frames: 3 broadcasts, 20 more for the sample
bad=$(awk -v id="$ID" -v sample="$SAMPLE" 'BEGIN { split(sample, a, " "); for (k in a) s["vqs" a[k] id] = 1 }
	NR == FNR { n0[$1] = $2; next }
	{ want = ($1 in s) ? 23 : 3; if ($2 - n0[$1] != want) { print "TAP " $1 ": " $2 - n0[$1] " frames, want " want > "/dev/stderr"; b++ } }
	END { print b + 0 }' "$T/tap0" "$T/tap1")
eq "TAPs that got exactly their frames" $((TAPS - bad)) "$TAPS"
eq "vhost-user vifs without a guest: the broadcasts counted port-tx" \
	"$("$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs |
	   jq '[.[] | select(.guest.state == "waiting") | .drops."port-tx" // 0] | add')" $(( (VUS - 3) * 2 ))

phase "vif del, vif add"
# the guests go (they poll: the machine's two cores are for the switch now)
for g in $G; do guest_kill "$g"; done
# vif del and vif add at runtime: 100 vhost-user vifs without guests
K=$((VUS / 4 < 100 ? VUS / 4 : 100))
t0=$(now_ms)
for i in $(seq 1 "$K"); do
	"$VMDQ" ctl --ctl "$T/ctl.sock" vif del "v$i" || fail "vif del v$i"
done
DEL_MS=$(($(now_ms) - t0))
eq "show vifs after $K vif del" "$("$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs | jq length)" $((N - K))
t0=$(now_ms)
for i in $(seq 1 "$K"); do
	mac_of 20 "$i"
	"$VMDQ" ctl --ctl "$T/ctl.sock" vif "v$i" vhost-user "$VU/v$i.sock" mac "$MAC" ||
		fail "vif add v$i"
done
ADD_MS=$(($(now_ms) - t0))
eq "show vifs after $K vif add" "$("$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs | jq length)" "$N"
ok test "$DEL_MS" -lt $((K * 200 * SLOW))
ok test "$ADD_MS" -lt $((K * 200 * SLOW))
# a thousand of each (or half the vhost-user vifs) in one batch: what the
# switch costs per vif without a process per command
B=$((VUS / 2 < 1000 ? VUS / 2 : 1000))
for i in $(seq 1 "$B"); do echo "vif del v$i"; done > "$T/bdel"
for i in $(seq 1 "$B"); do
	mac_of 20 "$i"
	echo "vif v$i vhost-user $VU/v$i.sock mac $MAC"
done > "$T/badd"
t0=$(now_ms)
"$VMDQ" ctl --ctl "$T/ctl.sock" -f "$T/bdel" || fail "batch of $B vif del"
BDEL_MS=$(($(now_ms) - t0))
eq "show vifs after a batch of $B vif del" "$("$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs | jq length)" $((N - B))
t0=$(now_ms)
"$VMDQ" ctl --ctl "$T/ctl.sock" -f "$T/badd" || fail "batch of $B vif add"
BADD_MS=$(($(now_ms) - t0))
eq "show vifs after a batch of $B vif add" "$("$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs | jq length)" "$N"
ok test "$BDEL_MS" -lt $(((1000 + 2 * B) * SLOW))
ok test "$BADD_MS" -lt $(((1000 + 2 * B) * SLOW))
t0=$(now_ms)
stop_switch
STOP_MS=$(($(now_ms) - t0))
ok test "$STOP_MS" -lt $(((3000 + N) * SLOW))

awk -v n="$N" -v taps="$TAPS" -v vus="$VUS" -v st="$STARTUP_MS" -v sh="$SHOW_MS" \
	-v k="$K" -v del="$DEL_MS" -v add="$ADD_MS" -v stop="$STOP_MS" -v cpu="$IDLE_PCT" \
	-v b="$B" -v bdel="$BDEL_MS" -v badd="$BADD_MS" \
	-v base="$RSS_BASE" -v idle="$RSS_IDLE" -v conn="$RSS_CONN" 'BEGIN {
	printf "scale: %d vifs (%d TAP, %d vhost-user): startup %d ms (%.0f ms per 1000 vifs), show vifs %d ms, stop %d ms\n", n, taps, vus, st, st * 1000 / n, sh, stop
	printf "scale: vif del %.1f ms, vif add %.1f ms each (%d of each, one vmdq ctl each)\n", del / k, add / k, k
	printf "scale: in one vmdq ctl -f batch: %d vif del %d ms, %d vif add %d ms (%.0f and %.0f ms per 1000 vifs)\n", b, bdel, b, badd, bdel * 1000 / b, badd * 1000 / b
	printf "scale: idle CPU %s%% of one core over 5 s\n", cpu
	printf "scale: resident memory: empty switch %d KiB, %.1f KiB per idle vif, %.1f KiB per connected vhost-user vif\n", base, (idle - base) / n, (conn - idle) / 3
}'
finish
