# Shared helpers for the system tests (sourced): real topologies in network
# namespaces, removed on exit whatever happens.  Needs root; a test exits 77
# (skipped) where namespaces cannot be made.
set -eu
: "${VMDQ:?}"
[ "$(id -u)" -eq 0 ] || { echo "not root: skipped"; exit 77; }
ID=$$
NS_EXT=vqe$ID
T=$(mktemp -d /tmp/vmdq-sys.XXXXXX)
SW_PID=
NSES=""
LINKS=""
FAILS=0
CHECKS=0

cleanup() {
	if [ -n "$SW_PID" ] && kill -0 "$SW_PID" 2>/dev/null; then
		kill -TERM "$SW_PID" 2>/dev/null || true
		wait "$SW_PID" 2>/dev/null || true
	fi
	for l in $LINKS; do ip link del "$l" 2>/dev/null || true; done
	for n in $NSES; do
		# processes outlive a deleted namespace: stop them first
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
eq() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" != "$3" ]; then fail "$1: got '$2', want '$3'"; fi
}
ok() { CHECKS=$((CHECKS + 1)); "$@" || fail "$*"; }
finish() { echo "$CHECKS checks, $FAILS failed"; [ "$FAILS" -eq 0 ]; }

# netns NAME: a namespace with loopback up
netns() {
	ip netns add "$1" || { echo "cannot make network namespaces: skipped"; exit 77; }
	NSES="$NSES $1"
	ip -n "$1" link set lo up
	# no IPv6 chatter (router solicitations, DAD): counts stay exact
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# ext_host IP: namespace $NS_EXT behind a veth; the root end, the switch's
# uplink, is printed (its name)
ext_host() {
	netns "$NS_EXT"
	up=vqu$ID
	ip link add "$up" type veth peer name eth0 netns "$NS_EXT"
	LINKS="$LINKS $up"
	ip link set "$up" up
	ip -n "$NS_EXT" link set eth0 address 02:ee:00:00:00:01 up
	ip -n "$NS_EXT" addr add "$1/24" dev eth0
}

# vhost_uplink: the external host 10.9.0.1 behind the uplink veth; the
# host's own IPv6 chatter on the uplink would show in its counters, so none
vhost_uplink() {
	ext_host 10.9.0.1
	sysctl -qw "net.ipv6.conf.vqu$ID.disable_ipv6=1" 2>/dev/null || true
}

# start_switch CONFIG [OPTIONS...]: runs it in the background, waits until
# it says it is running (its TAPs and sockets exist)
start_switch() {
	local conf=$1
	shift
	"$VMDQ" switch -c "$conf" -s "$T/stats.json" "$@" 2> "$T/switch.log" &
	SW_PID=$!
	for _ in $(seq 50); do
		grep -q "switch running" "$T/switch.log" 2>/dev/null && return 0
		kill -0 "$SW_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "switch did not start:"; cat "$T/switch.log"; exit 1
}

# stop_switch: SIGTERM, expect exit 0
stop_switch() {
	kill -TERM "$SW_PID"
	set +e
	wait "$SW_PID"
	rc=$?
	set -e
	SW_PID=
	eq "switch exit status" "$rc" 0
}

# vm NS TAP MAC IP: configure the guest side of a vif's TAP
vm_up() {
	ip -n "$1" link set "$2" address "$3" up
	ip -n "$1" addr add "$4/24" dev "$2"
}

# send_raw NS IF HEXFRAME [COUNT]: a raw Ethernet frame, as is (tags included)
send_raw() {
	ip netns exec "$1" /usr/bin/python3 - "$2" "$3" "${4:-1}" <<'P'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[3])):
    s.send(bytes.fromhex(sys.argv[2]))
P
}

# capture NS IF FILE [FILTER]: starts tcpdump and returns once it listens
# (its pid is in CAP_PID); stop it with stop_capture PID
capture() {
	ip netns exec "$1" tcpdump -i "$2" --immediate-mode -n -e -U -w "$3" ${4:-} 2> "$3.log" &
	CAP_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$3.log" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "tcpdump on $2 did not start"
}
stop_capture() {
	sleep 0.5 # let the last frames arrive
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
npkts() { tcpdump -r "$1" -n -e 2>/dev/null | grep -c "${2:-.}" || true; }

# vif_field VIF JQ-PATH, queue_field QUEUE FIELD: one value from the running
# switch (started with --ctl $T/ctl.sock); "" when it is not there
vif_field() {
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs 2>/dev/null |
		jq -r ".[] | select(.name == \"$1\") | $2" 2>/dev/null || true
}
queue_field() { # QUEUE FIELD
	"$VMDQ" ctl --ctl "$T/ctl.sock" -j show queues 2>/dev/null |
		jq -r ".[] | select(.queue == $1) | .$2" 2>/dev/null || true
}

# tcp NS_SERVER IP NS_CLIENT SECONDS PORT: an iperf3 stream; prints the
# receiver's bits per second ("" if it failed)
tcp() {
	ip netns exec "$1" iperf3 -s -1 -p "$5" > /dev/null 2>&1 &
	for _ in $(seq 100); do
		ip netns exec "$1" ss -ltn 2>/dev/null | grep -q ":$5 " && break
		sleep 0.05
	done
	ip netns exec "$3" iperf3 -c "$2" -p "$5" -t "$4" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null || true
}

# ---- the kernel's default offloads left on (issue 14) ----------------------

# ext_host_defaults IP: as ext_host, every offload as the kernel sets it
ext_host_defaults() {
	netns "$NS_EXT"
	up=vqu$ID
	ip link add "$up" type veth peer name eth0 netns "$NS_EXT"
	LINKS="$LINKS $up"
	sysctl -qw "net.ipv6.conf.$up.disable_ipv6=1" 2>/dev/null || true
	ip link set "$up" up
	ip -n "$NS_EXT" link set eth0 address 02:ee:00:00:00:01 up
	ip -n "$NS_EXT" addr add "$1/24" dev eth0
}

# vm_up_defaults NS IF MAC IP: as vm_up, offloads left as they are
vm_up_defaults() {
	ip -n "$1" link set "$2" address "$3" up
	ip -n "$1" addr add "$4/24" dev "$2"
}

# veth_vm NS HOSTIF MAC IP: a container behind a veth pair: HOSTIF stays in
# the root namespace (for an afpacket or afxdp vif), eth0 in NS, defaults
veth_vm() {
	ip link add "$2" type veth peer name eth0 netns "$1"
	LINKS="$LINKS $2"
	sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null || true
	ip link set "$2" up
	vm_up_defaults "$1" eth0 "$3" "$4"
}

# csum_errors NS: TCP and UDP InCsumErrors of the namespace's stack, summed
csum_errors() {
	ip netns exec "$1" awk '
		/^(Tcp|Udp):/ { if (!($1 in h)) { for (i = 2; i <= NF; i++) h[$1, i] = $i; h[$1] = 1; next }
			for (i = 2; i <= NF; i++) if (h[$1, i] == "InCsumErrors") s += $i }
		END { print s + 0 }' /proc/net/snmp
}

# tcp_xfer NS_SERVER IP NS_CLIENT BYTES PORT: BYTES of a fixed pattern
# over one TCP connection; prints what the server read: "BYTES SHA256"
# (tcp_xfer_want BYTES prints what it must be)
tcp_xfer() {
	ip netns exec "$1" /usr/bin/python3 - "$2" "$5" > "$T/tcp.$5" <<'P' &
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("ready", flush=True)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    h.update(d)
    n += len(d)
print(n, h.hexdigest(), flush=True)
P
	for _ in $(seq 100); do grep -q ready "$T/tcp.$5" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$3" /usr/bin/python3 - "$2" "$5" "$4" <<'P' || true
import socket, sys
blk = bytes((i * 7 + 3) & 0xff for i in range(65536))
n = int(sys.argv[3])
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
while n > 0:
    s.sendall(blk[:min(n, len(blk))])
    n -= min(n, len(blk))
s.close()
P
	wait $!
	tail -1 "$T/tcp.$5"
}
tcp_xfer_want() {
	/usr/bin/python3 - "$1" <<'P'
import hashlib, sys
blk = bytes((i * 7 + 3) & 0xff for i in range(65536))
h, n = hashlib.sha256(), int(sys.argv[1])
while n > 0:
    h.update(blk[:min(n, len(blk))])
    n -= min(n, len(blk))
print(sys.argv[1], h.hexdigest())
P
}

# udp_count NS_SERVER IP NS_CLIENT COUNT PORT: COUNT datagrams of 1400
# bytes, 1 ms apart; prints how many arrived with the right contents
udp_count() {
	ip netns exec "$1" /usr/bin/python3 - "$2" "$5" "$4" > "$T/udp.$5" <<'P' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
s.settimeout(3)
n = 0
try:
    while True:
        d = s.recv(2000)
        k = int.from_bytes(d[:4], "big")
        if len(d) == 1400 and d[4:] == bytes([k & 0xff]) * 1396:
            n += 1
        if n == int(sys.argv[3]):
            break
except socket.timeout:
    pass
print(n, flush=True)
P
	for _ in $(seq 100); do grep -q ready "$T/udp.$5" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$3" /usr/bin/python3 - "$2" "$5" "$4" <<'P'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(int(sys.argv[3])):
    s.sendto(k.to_bytes(4, "big") + bytes([k & 0xff]) * 1396, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.001)
P
	wait $!
	tail -1 "$T/udp.$5"
}
