# testpmd guests for the vhost-user system tests (sourced after lib.sh):
# guest NAME MAC MODE [testpmd args...] starts one on $T/NAME.sock (QUEUES
# queue pairs, default 1), guest_kill stops it, vif_field reads the
# switch's view of a vif, wire_send sends frames from the external host,
# tx_to_vm and tx_to_wire check a txonly guest's frames end to end.
. "$(dirname "$0")/../../scripts/testpmd.sh"
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing: skipped"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3: skipped"; exit 77; }

GUESTS=""
cleanup_guests() {
	for g in $GUESTS; do
		[ -f "$T/$g.pid" ] && kill -9 "$(cat "$T/$g.pid")" 2>/dev/null || true
		[ -f "$T/$g.hold" ] && kill "$(cat "$T/$g.hold")" 2>/dev/null || true
	done
	cleanup
}
trap cleanup_guests EXIT INT TERM

# guest NAME MAC MODE [testpmd args...]: a testpmd guest on $T/NAME.sock,
# driven through a fifo (its commands) and read from its log
guest() {
	local name=$1 mac=$2 mode=$3
	shift 3
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	# the fifo is held open by a sleeping writer so testpmd never sees EOF
	sleep 100000 > "$T/$name.in" 2>/dev/null < /dev/null &
	echo $! > "$T/$name.hold"
	stdbuf -oL dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 512 --no-pci \
		--file-prefix "vq$ID$name" --log-level=lib.eal:error \
		--vdev "net_virtio_user0,mac=$mac,path=$T/$name.sock,queues=${QUEUES:-1}${VDEV_EXTRA:-}" -- \
		-i --nb-cores=1 --total-num-mbufs=16384 --forward-mode="$mode" "$@" \
		< "$T/$name.in" > "$T/$name.log" 2>&1 &
	echo $! > "$T/$name.pid"
	GUESTS="$GUESTS $name"
	for _ in $(seq 100); do
		grep -q "^testpmd>" "$T/$name.log" 2>/dev/null && break
		sleep 0.1
	done
	testpmd_cmd "$name" start
	# running: the switch sees live rings
	for _ in $(seq 100); do
		[ "$(vif_field "$name" .guest.state)" = running ] && return 0
		sleep 0.1
	done
	fail "guest $name did not come up"; tail -20 "$T/$name.log"
}
guest_kill() {
	kill -9 "$(cat "$T/$1.pid")" 2>/dev/null || true
	wait "$(cat "$T/$1.pid")" 2>/dev/null || true
	kill "$(cat "$T/$1.hold")" 2>/dev/null || true
}

# paced frames from the wire: HEX COUNT (1 ms apart, so three guests that
# share one CPU keep up)
wire_send() {
	ip netns exec "$NS_EXT" /usr/bin/python3 - "$1" "$2" <<'P'
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
f = bytes.fromhex(sys.argv[1])
for i in range(int(sys.argv[2])):
    s.send(f)
    time.sleep(0.001)
P
}
pad() { printf '%s' "$1"; printf '%0*d' $((2 * $2 - ${#1})) 0; }

# tx_to_vm VM MAC PEER: VM's guest, started afresh in txonly towards PEER's
# MAC for a second: every frame it sent was read by the switch, and each
# was delivered to PEER or counted as dropped there (PEER's ring full);
# PEER's guest (rxonly) counted what the switch delivered
tx_to_vm() {
	local vm=$1 mac=$2 peer=$3
	guest_kill "$vm"
	local from0 to0 drop0 rx0 sent got dropped
	from0=$(vif_field "$vm" .from_vm)
	to0=$(vif_field "$peer" .to_vm)
	drop0=$(vif_field "$peer" '.drops."port-tx" // 0')
	rx0=$(testpmd_stat "$peer" RX-packets)
	guest "$vm" "$mac" txonly --eth-peer=0,"$(vif_field "$peer" .mac)"
	sleep 1
	testpmd_cmd "$vm" stop
	sleep 0.5
	sent=$(testpmd_stat "$vm" TX-packets)
	ok test "${sent:-0}" -gt 1000
	eq "$vm frames the switch read" $(( $(vif_field "$vm" .from_vm) - from0 )) "$sent"
	got=$(( $(vif_field "$peer" .to_vm) - to0 ))
	dropped=$(( $(vif_field "$peer" '.drops."port-tx" // 0') - drop0 ))
	eq "$vm -> $peer: delivered + dropped (guest ring full)" $((got + dropped)) "$sent"
	eq "$peer guest counted what the switch delivered" \
		$(( $(testpmd_stat "$peer" RX-packets) - rx0 )) "$got"
}

# tx_to_wire VM MAC: the same towards the external host: every frame read
# went to the wire or was counted, and the external host got them all
tx_to_wire() {
	local vm=$1 mac=$2
	guest_kill "$vm"
	local from0 wire0 drops0 rx0 sent dfrom dwire ddrops rx1
	from0=$(vif_field "$vm" .from_vm)
	wire0=$(vif_field "$vm" .to_wire)
	drops0=$(vif_field "$vm" '.drops | add // 0')
	rx0=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
	guest "$vm" "$mac" txonly --eth-peer=0,02:ee:00:00:00:01
	sleep 1
	testpmd_cmd "$vm" stop
	sleep 0.5
	sent=$(testpmd_stat "$vm" TX-packets)
	dfrom=$(( $(vif_field "$vm" .from_vm) - from0 ))
	dwire=$(( $(vif_field "$vm" .to_wire) - wire0 ))
	ddrops=$(( $(vif_field "$vm" '.drops | add // 0') - drops0 ))
	rx1=$(ip -n "$NS_EXT" -s -j link show eth0 | jq '.[0].stats64.rx.packets')
	ok test "${sent:-0}" -gt 1000
	eq "$vm -> wire: frames the switch read" "$dfrom" "$sent"
	eq "$vm -> wire: on the wire or counted" $((dwire + ddrops)) "$dfrom"
	eq "$vm -> wire: the external host got them" $((rx1 - rx0)) "$dwire"
}

# ---- vu_guest.py: a front-end the test drives line by line ----
# vg_start NAME MAC: a vu_guest.py on $T/NAME.sock, commands through a fifo
vg_start() {
	mkfifo "$T/$1.cmd"
	sleep 100000 > "$T/$1.cmd" 2>/dev/null < /dev/null &
	echo $! > "$T/$1.hold"
	/usr/bin/python3 "$(dirname "$0")/vu_guest.py" "$T/$1.sock" "$2" < "$T/$1.cmd" > "$T/$1.out" 2>&1 &
	echo $! > "$T/$1.pid"
	GUESTS="$GUESTS $1"
	for _ in $(seq 50); do grep -q connected "$T/$1.out" 2>/dev/null && return 0; sleep 0.1; done
	fail "vu_guest $1 did not connect"; cat "$T/$1.out"
}
# vg NAME COMMAND...: its one line of answer (VG_WAIT tenths of a second at
# most, default 150)
vg() {
	local n0 name=$1
	shift
	n0=$(wc -l < "$T/$name.out")
	echo "$*" > "$T/$name.cmd"
	for _ in $(seq "${VG_WAIT:-150}"); do
		[ "$(wc -l < "$T/$name.out")" -gt "$n0" ] && break
		sleep 0.1
	done
	tail -1 "$T/$name.out"
}

# wire_send_ts DSTMAC COUNT: frames 1 ms apart from the external host, each
# carrying its send time (CLOCK_MONOTONIC ns, little-endian, at byte 14)
# for vu_guest.py's `lat`
wire_send_ts() {
	ip netns exec "$NS_EXT" /usr/bin/python3 - "$1" "$2" <<'P'
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
hdr = bytes.fromhex(sys.argv[1].replace(":", "") + "02ee0000000188b5")
for i in range(int(sys.argv[2])):
    s.send(hdr + struct.pack("<Q", time.monotonic_ns()) + bytes(42))
    time.sleep(0.001)
P
}

# neighbour_begin VM MAC COUNT: COUNT stamped frames from the wire to the
# honest vu_guest VM, which receives them meanwhile (background);
# neighbour_end LABEL VM COUNT MAXMS: it got every one (exact count) and
# none took longer than MAXMS from the wire to the guest
neighbour_begin() {
	( VG_WAIT=300 vg "$1" lat "$3" 25 > "$T/$1.lat" ) &
	NB_LAT=$!
	sleep 0.2
	( wire_send_ts "$2" "$3" ) &
	NB_SEND=$!
}
neighbour_end() {
	local label=$1 vm=$2 n=$3 maxms=$4 got worst
	wait "$NB_SEND" "$NB_LAT"
	got=$(cut -d' ' -f2 < "$T/$vm.lat")
	worst=$(cut -d' ' -f4 < "$T/$vm.lat")
	eq "$label: neighbour $vm lost nothing" "$got" "$n"
	ok test "${worst:-99999}" -le "$maxms"
	echo "$label: neighbour $vm worst latency ${worst} ms (bound $maxms)"
}
