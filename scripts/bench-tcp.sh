#!/bin/sh
# TCP benchmark (issue 14): iperf3 TCP, 1 and 4 streams (STREAMS), between an
# external host and a VM/container both ways and between two VMs/containers,
# with the kernel's default offloads on every interface (no ethtool -K
# anywhere), through the Linux bridge and through the vmdq switch, on the same
# namespaces, interleaved, ROUNDS rounds, medians, ratios to the bridge:
#
#   [ext] eth0 --veth-- up | br0 or switch | vh  --veth-- eth0 [ct]   (bridge,
#                          |               | vh2 --veth-- eth0 [ct2]   AF_PACKET
#                          |               |                vif, AF_XDP vif)
#                          |      switch   | TAP  ---------- tap [vm]  (TAP vifs,
#                          |               | TAP2 ---------- tap [vm2]  each TAP
#                                                        in its VM's namespace)
#
# VM -> VM is ct -> ct2 (bridge, AF_PACKET, AF_XDP) or vm -> vm2 (TAP), on
# one switch.  The switch's uplink is AF_PACKET on up (UPLINK=afxdp for
# AF_XDP) and runs pinned to CPU 1 (--cpu 1); iperf3 and the bridge's
# softirqs are not pinned.  Each switch run prints the switch's offload
# counters (super-frames, segments made, checksums completed) and its drops;
# each run the sender's retransmits.  A path with no connection is reported
# as such.  Needs root and iperf3.
# Usage: scripts/bench-tcp.sh [BUILD] [SECONDS] [ROUNDS]
#   env: KINDS="bridge tap afpacket afxdp" (the paths, in round order),
#        STREAMS="1 4" (iperf3 -P), DIRS="ext-to-vm vm-to-ext vm-to-vm",
#        UPLINK=afpacket|afxdp, PERF=DIR (perf record -g of the switch during
#        each switch run, DIR/KIND-DIR-STREAMS.data),
#        AB=OLD_VMDQ (the vmdq kinds also with an older build's binary,
#        interleaved: rows "old:KIND")
set -eu
B=${1:-build}
SECS=${2:-5}
ROUNDS=${3:-3}
KINDS=${KINDS:-bridge tap afpacket afxdp}
STREAMS=${STREAMS:-1 4}
DIRS=${DIRS:-ext-to-vm vm-to-ext vm-to-vm}
UPLINK=${UPLINK:-afpacket}
top=$(cd "$(dirname "$0")/.." && pwd)
V="$top/$B/vmdq"
NEW=$V
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 1; }
command -v iperf3 > /dev/null || { echo "needs iperf3"; exit 1; }
ID=$$
T=$(mktemp -d /tmp/vmdq-btcp.XXXXXX)
SW=
E=te$ID   # the external host
C=tc$ID   # the container (veth)
D=td$ID   # the second container (veth)
M=tm$ID   # the VM (TAP)
N=tn$ID   # the second VM (TAP)
cleanup() {
	[ -n "$SW" ] && kill -TERM "$SW" 2>/dev/null && wait "$SW" 2>/dev/null
	ip link del br$ID 2>/dev/null || true
	ip link del up$ID 2>/dev/null || true
	ip link del vh$ID 2>/dev/null || true
	ip link del vi$ID 2>/dev/null || true
	for n in $E $C $D $M $N; do
		ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del $n 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
for n in $E $C $D $M $N; do ip netns add $n; ip -n $n link set lo up; done
ip link add up$ID type veth peer name eth0 netns $E
ip link add vh$ID type veth peer name eth0 netns $C
ip link add vi$ID type veth peer name eth0 netns $D
ip -n $E link set eth0 address 02:ee:00:00:00:01 up
ip -n $E addr add 10.98.0.100/24 dev eth0
ip -n $C link set eth0 address 02:00:00:00:00:01 up
ip -n $C addr add 10.98.0.1/24 dev eth0
ip -n $D link set eth0 address 02:00:00:00:00:03 up
ip -n $D addr add 10.98.0.3/24 dev eth0
ip link set up$ID up
ip link set vh$ID up
ip link set vi$ID up
# an iperf3 server in each end (the sender is always the client, so its
# retransmits are its own)
for n in $E $C $D $M $N; do ip netns exec $n iperf3 -s -D -I "$T/iperf-$n.pid"; done

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

# iperf NAME DIR STREAMS FROMNS TOADDR: STREAMS streams for SECS; appends
# "NAME DIR STREAMS Gbit/s retransmits" to $T/res (0 and - without a
# connection)
iperf() {
	pp=
	if [ -n "${PERF:-}" ] && [ -n "$SW" ]; then
		perf record -q -g -p "$SW" -o "$PERF/$1-$2-$3.data" -- sleep "$SECS" \
			> /dev/null 2>&1 &
		pp=$!
	fi
	if timeout $((SECS + 15)) ip netns exec "$4" iperf3 -c "$5" -t "$SECS" -P "$3" \
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
	echo "$1 $2 $3 $r" >> "$T/res"
	set -- "$1" "$2" "$3" $r
	if [ "$4" = 0 ]; then
		printf '  %-12s %-10s %sx  no connection\n' "$1" "$2" "$3"
	else
		printf '  %-12s %-10s %sx %6s Gbit/s  %6s retransmits\n' "$1" "$2" "$3" "$4" "$5"
	fi
}
# each direction and stream count: NAME FROM_EXT_NS ADDR VM_NS VM_ADDR VM2_ADDR
# (ext -> ADDR in VM_NS, VM_NS -> ext, VM_NS -> VM2_ADDR); CTRS=1 prints the
# switch's counters after each
runs() {
	for d in $DIRS; do
		for p in $STREAMS; do
			case $d in
			ext-to-vm) iperf "$1" $d $p $E "$2" ;;
			vm-to-ext) iperf "$1" $d $p "$3" 10.98.0.100 ;;
			vm-to-vm) iperf "$1" $d $p "$3" "$4" ;;
			esac
			[ -z "$SW" ] || counters
		done
	done
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

# one path, every direction
bridge() {
	ip link add br$ID type bridge
	ip link set br$ID type bridge stp_state 0
	for l in up$ID vh$ID vi$ID; do ip link set $l master br$ID; done
	ip link set br$ID up
	ip netns exec $E ping -c 1 -W 2 10.98.0.1 > /dev/null 2>&1 || true
	ip netns exec $D ping -c 1 -W 2 10.98.0.1 > /dev/null 2>&1 || true
	runs bridge 10.98.0.1 $C 10.98.0.3
	for l in up$ID vh$ID vi$ID; do ip link set $l nomaster; done
	ip link del br$ID
}
vmdq() { # KIND [NAME]
	echo "uplink up $UPLINK up$ID" > "$T/sw.conf"
	case $1 in
	tap)
		echo "vif vm tap tap$ID mac 02:00:00:00:00:02 netns $M" >> "$T/sw.conf"
		echo "vif vm2 tap tbp$ID mac 02:00:00:00:00:04 netns $N" >> "$T/sw.conf"
		ns=$M; a=10.98.0.2; a2=10.98.0.4 ;;
	afpacket|afxdp)
		echo "vif ct $1 vh$ID mac 02:00:00:00:00:01" >> "$T/sw.conf"
		echo "vif ct2 $1 vi$ID mac 02:00:00:00:00:03" >> "$T/sw.conf"
		ns=$C; a=10.98.0.1; a2=10.98.0.3 ;;
	esac
	start_sw "$T/sw.conf"
	if [ "$1" = tap ]; then
		ip -n $M link set tap$ID address 02:00:00:00:00:02 up
		ip -n $M addr add $a/24 dev tap$ID
		ip -n $N link set tbp$ID address 02:00:00:00:00:04 up
		ip -n $N addr add $a2/24 dev tbp$ID
	fi
	ip netns exec $E ping -c 1 -W 2 $a > /dev/null 2>&1 || true
	ip netns exec $ns ping -c 1 -W 2 $a2 > /dev/null 2>&1 || true
	runs "${2:-$1}" $a $ns $a2
	stop_sw
}

echo "TCP, streams: $STREAMS, ${SECS}s, $ROUNDS rounds, uplink $UPLINK, switch on CPU 1"
[ -z "${AB:-}" ] || echo "old build (rows old:KIND): $AB"
ROWS=
for k in $KINDS; do
	[ -n "${AB:-}" ] && [ "$k" != bridge ] && ROWS="$ROWS old:$k"
	ROWS="$ROWS $k"
done
round=1
while [ $round -le "$ROUNDS" ]; do
	echo "round $round"
	for k in $KINDS; do
		if [ "$k" = bridge ]; then
			bridge
			continue
		fi
		if [ -n "${AB:-}" ]; then
			V=$AB
			vmdq "$k" "old:$k"
			V=$NEW
		fi
		vmdq "$k"
	done
	round=$((round + 1))
done
echo
python3 - "$T/res" "$ROWS" "$DIRS" "$STREAMS" <<'P'
import sys, statistics
res = {}
for line in open(sys.argv[1]):
    k, d, p, g, rt = line.split()
    res.setdefault((k, d, p), []).append((float(g), rt))
rows, dirs, streams = sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
names = {"bridge": "Linux bridge (veths)", "tap": "vmdq, TAP vifs",
         "afpacket": "vmdq, AF_PACKET vifs", "afxdp": "vmdq, AF_XDP vifs"}
dname = {"ext-to-vm": "ext → VM", "vm-to-ext": "VM → ext", "vm-to-vm": "VM → VM"}
def med(k, d, p):
    v = res.get((k, d, p), [])
    if not v:
        return None, None
    g = statistics.median(x[0] for x in v)
    rts = [int(x[1]) for x in v if x[1] != "-"]
    return g, (statistics.median(rts) if rts else None)
print("medians of %d rounds: Gbit/s (the sender's retransmits), ratio to the bridge"
      % max(len(v) for v in res.values()))
cols = [(d, p) for d in dirs for p in streams]
print("| path | " + " | ".join("%s, %s stream%s" % (dname.get(d, d), p, "" if p == "1" else "s")
                            for d, p in cols) + " |")
print("|---|" + "---|" * len(cols))
for k in rows:
    cells = []
    for d, p in cols:
        g, rt = med(k, d, p)
        b, _ = med("bridge", d, p)
        if g is None:
            cells.append("-")
        elif g == 0:
            cells.append("no connection")
        else:
            c = "%.2f (%s)" % (g, "%d" % rt if rt is not None else "-")
            if k != "bridge" and b:
                c += " **%.2fx**" % (g / b)
            cells.append(c)
    base = k.split(":")[-1]
    name = names.get(base, base) + (" (old build)" if k.startswith("old:") else "")
    print("| %s | %s |" % (name, " | ".join(cells)))
print()
print("every round (Gbit/s):")
for k in rows:
    for d, p in cols:
        v = res.get((k, d, p), [])
        if v:
            print("  %-14s %-10s %s: %s" % (k, d, p, " ".join("%.2f" % x[0] for x in v)))
P
