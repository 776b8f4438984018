#!/bin/sh
# TCP benchmark (issue 14): one iperf3 TCP stream between an external host and
# a VM/container, both ways, with the kernel's default offloads on every
# interface (no ethtool -K anywhere), through the Linux bridge and through the
# vmdq switch, on the same namespaces, interleaved, ROUNDS rounds, medians:
#
#   [ext] eth0 --veth-- up | br0 or switch | vh --veth-- eth0 [ct]   (bridge,
#                                                 AF_PACKET vif, AF_XDP vif)
#                          |      switch   | TAP ---------- tap [vm]  (TAP vif,
#                                                 the TAP in the VM's namespace)
#
# The switch's uplink is AF_PACKET on up (UPLINK=afxdp for AF_XDP) and runs
# pinned to CPU 1 (--cpu 1); iperf3 and the bridge's softirqs are not pinned.
# Each switch run prints the switch's offload counters (super-frames,
# segments made, checksums completed) and its drops; each run the sender's
# retransmits.  A path with no connection is reported as such.
# Needs root and iperf3.
# Usage: scripts/bench-tcp.sh [BUILD] [SECONDS] [ROUNDS]
#   env: KINDS="bridge tap afpacket afxdp" (the paths, in round order),
#        UPLINK=afpacket|afxdp, PERF=DIR (perf record -g of the switch during
#        each switch run, DIR/KIND-DIR.data)
set -eu
B=${1:-build}
SECS=${2:-5}
ROUNDS=${3:-3}
KINDS=${KINDS:-bridge tap afpacket afxdp}
UPLINK=${UPLINK:-afpacket}
top=$(cd "$(dirname "$0")/.." && pwd)
V="$top/$B/vmdq"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 1; }
command -v iperf3 > /dev/null || { echo "needs iperf3"; exit 1; }
ID=$$
T=$(mktemp -d /tmp/vmdq-btcp.XXXXXX)
SW=
E=te$ID   # the external host
C=tc$ID   # the container (veth)
M=tm$ID   # the VM (TAP)
cleanup() {
	[ -n "$SW" ] && kill -TERM "$SW" 2>/dev/null && wait "$SW" 2>/dev/null
	ip link del br$ID 2>/dev/null || true
	ip link del up$ID 2>/dev/null || true
	ip link del vh$ID 2>/dev/null || true
	for n in $E $C $M; do
		ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del $n 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
for n in $E $C $M; do ip netns add $n; ip -n $n link set lo up; done
ip link add up$ID type veth peer name eth0 netns $E
ip link add vh$ID type veth peer name eth0 netns $C
ip -n $E link set eth0 address 02:ee:00:00:00:01 up
ip -n $E addr add 10.98.0.100/24 dev eth0
ip -n $C link set eth0 address 02:00:00:00:00:01 up
ip -n $C addr add 10.98.0.1/24 dev eth0
ip link set up$ID up
ip link set vh$ID up
# an iperf3 server in each end (the sender is always the client, so its
# retransmits are its own)
for n in $E $C $M; do ip netns exec $n iperf3 -s -D -I "$T/iperf-$n.pid"; done

start_sw() {
	rm -f "$T/ctl.sock" "$T/st0.json"
	"$V" switch -c "$1" --ctl "$T/ctl.sock" --cpu 1 2> "$T/sw.log" &
	SW=$!
	for _ in $(seq 50); do
		grep -q "switch running" "$T/sw.log" 2>/dev/null && return 0
		kill -0 "$SW" 2>/dev/null || break
		sleep 0.1
	done
	echo "switch did not start:"; cat "$T/sw.log"; exit 1
}
stop_sw() { kill -TERM "$SW"; wait "$SW" || true; SW=; }

# iperf NAME DIR FROMNS TOADDR: one stream for SECS; appends
# "NAME DIR Gbit/s retransmits" to $T/res (0 and - without a connection)
iperf() {
	pp=
	if [ -n "${PERF:-}" ] && [ -n "$SW" ]; then
		perf record -q -g -p "$SW" -o "$PERF/$1-$2.data" -- sleep "$SECS" \
			> /dev/null 2>&1 &
		pp=$!
	fi
	if timeout $((SECS + 15)) ip netns exec "$3" iperf3 -c "$4" -t "$SECS" \
		--connect-timeout 3000 -J > "$T/j" 2> /dev/null; then
		r=$(python3 -c 'import json,sys
try:
    j = json.load(open(sys.argv[1]))["end"]
    print("%.2f %d" % (j["sum_received"]["bits_per_second"] / 1e9,
                       j["sum_sent"].get("retransmits", 0)))
except (KeyError, ValueError):
    print("0 -")' "$T/j")
	else
		r="0 -"
	fi
	[ -n "$pp" ] && { wait "$pp" || true; }
	echo "$1 $2 $r" >> "$T/res"
	set -- "$1" "$2" $r
	if [ "$3" = 0 ]; then
		printf '  %-9s %-10s no connection\n' "$1" "$2"
	else
		printf '  %-9s %-10s %6s Gbit/s  %6s retransmits\n' "$1" "$2" "$3" "$4"
	fi
}
# counters: the switch's offload counters for the run just made, and its
# drops since it started (non-zero counters with "drop" in their name)
counters() {
	"$V" ctl --ctl "$T/ctl.sock" -j show stats > "$T/st.json" 2>/dev/null || return 0
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
o = s.get("offload", {})
try:
    p = json.load(open(sys.argv[2])).get("offload", {})
except (OSError, ValueError):
    p = {}
print("    offload (this run): " + " ".join("%s=%s" % (k, v - p.get(k, 0))
                                          for k, v in o.items()))
def walk(x, p=""):
    if isinstance(x, dict):
        for k, v in x.items():
            walk(v, p + "." + k if p else k)
    elif isinstance(x, (int, float)) and x and "drop" in p:
        print("    %s=%s" % (p, x))
walk(s)' "$T/st.json" "$T/st0.json"
	mv "$T/st.json" "$T/st0.json"
}

# one path both ways
bridge() {
	ip link add br$ID type bridge
	ip link set br$ID type bridge stp_state 0
	ip link set up$ID master br$ID
	ip link set vh$ID master br$ID
	ip link set br$ID up
	ip netns exec $E ping -c 1 -W 2 10.98.0.1 > /dev/null 2>&1 || true
	iperf bridge ext-to-vm $E 10.98.0.1
	iperf bridge vm-to-ext $C 10.98.0.100
	ip link set up$ID nomaster
	ip link set vh$ID nomaster
	ip link del br$ID
}
vmdq() {
	echo "uplink up $UPLINK up$ID" > "$T/sw.conf"
	case $1 in
	tap)
		echo "vif vm tap tap$ID mac 02:00:00:00:00:02 netns $M" >> "$T/sw.conf"
		ns=$M; a=10.98.0.2 ;;
	afpacket|afxdp)
		echo "vif ct $1 vh$ID mac 02:00:00:00:00:01" >> "$T/sw.conf"
		ns=$C; a=10.98.0.1 ;;
	esac
	start_sw "$T/sw.conf"
	if [ "$1" = tap ]; then
		ip -n $M link set tap$ID address 02:00:00:00:00:02 up
		ip -n $M addr add $a/24 dev tap$ID
	fi
	ip netns exec $E ping -c 1 -W 2 $a > /dev/null 2>&1 || true
	iperf "$1" ext-to-vm $E $a
	counters
	iperf "$1" vm-to-ext $ns 10.98.0.100
	counters
	stop_sw
}

echo "TCP, one stream, ${SECS}s, $ROUNDS rounds, uplink $UPLINK, switch on CPU 1"
round=1
while [ $round -le "$ROUNDS" ]; do
	echo "round $round"
	for k in $KINDS; do
		if [ "$k" = bridge ]; then bridge; else vmdq "$k"; fi
	done
	round=$((round + 1))
done
echo
python3 - "$T/res" "$KINDS" <<'P'
import sys, statistics
res = {}
for line in open(sys.argv[1]):
    k, d, g, rt = line.split()
    res.setdefault((k, d), []).append((float(g), rt))
kinds = sys.argv[2].split()
names = {"bridge": "Linux bridge (veth)", "tap": "vmdq, TAP vif",
         "afpacket": "vmdq, AF_PACKET vif", "afxdp": "vmdq, AF_XDP vif"}
def med(k, d):
    v = res.get((k, d), [])
    if not v:
        return None, ""
    g = statistics.median(x[0] for x in v)
    rts = [x[1] for x in v if x[1] != "-"]
    rt = statistics.median(int(x) for x in rts) if rts else None
    return g, rt
print("medians of %d rounds, Gbit/s (sender's retransmits), ratio to the bridge"
      % max(len(v) for v in res.values()))
print("%-22s %-26s %-26s" % ("path", "ext -> VM", "VM -> ext"))
for k in kinds:
    cells = []
    for d in ("ext-to-vm", "vm-to-ext"):
        g, rt = med(k, d)
        b, _ = med("bridge", d)
        if g is None:
            cells.append("-")
        elif g == 0:
            cells.append("no connection")
        else:
            c = "%.2f (%s)" % (g, "%d" % rt if rt is not None else "-")
            if k != "bridge" and b:
                c += " %.2fx" % (g / b)
            cells.append(c)
    print("%-22s %-26s %-26s" % (names.get(k, k), cells[0], cells[1]))
P
