#!/bin/bash
# bench-vhost.sh BUILD [SECONDS]: vmdq's vhost-user back-end against DPDK's
# (testpmd with net_vhost), with a testpmd virtio-user guest on the other
# core (issue 4 point 5).  Every pair is measured in the same run, one busy
# process per core: the back-end (vmdq switch, or testpmd vhost) on CPU 0,
# the guest's forwarding lcore on CPU 1.
#
#   host -> guest: vmdq replays a capture from memory (pcap uplink, loop 0)
#                  to the guest's MAC, targeted and not; DPDK: testpmd vhost
#                  in txonly.  The guest runs rxonly; rate = its RX-packets.
#   guest -> host: the guest runs txonly; vmdq's uplink discards (/dev/null),
#                  rate = frames the uplink took; DPDK: testpmd vhost rxonly,
#                  rate = its RX-packets.
# Needs root (testpmd), dpdk-testpmd and librte-net-vhost/virtio.  SIZES="64"
# measures one frame size only; PACKED=1 gives the guest packed virtqueues
# (both back-ends); AB=OLD_VMDQ compares two builds (below).
# LOG=1: the cost of dirty-page logging (live migration) instead, 64-byte
# frames with logging off and on side by side; testpmd's virtio-user cannot
# turn logging on, so BUILD/tests/bench_vu_log plays QEMU and the guest in
# one process (no root needed).
set -eu
build=${1:-build}
secs=${2:-5}
if [ "${LOG:-0}" = 1 ]; then
	exec "$build/tests/bench_vu_log" "$secs"
fi
VMDQ=$(cd "$build" && pwd)/vmdq
MKPCAP=$(cd "$build" && pwd)/vmdq-mkpcap
T=$(mktemp -d /tmp/vmdq-bench-vhost.XXXXXX)
# every process started is listed in $T/pids (the runs are subshells: a
# variable would not reach cleanup, and a leftover fifo holder would keep
# the heavy lock's descriptor open)
cleanup() {
	for p in $(cat "$T/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing (apt-get install dpdk-dev)"; exit 1; }
. "$(dirname "$0")/testpmd.sh"

# tp NAME ARGS...: a testpmd driven through a fifo ($T/NAME.in), log in $T/NAME.log
tp() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	sleep 100000 > "$T/$name.in" 2>/dev/null < /dev/null &
	echo $! >> "$T/pids"
	echo $! > "$T/$name.hold"
	stdbuf -oL dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "vqb$$$name" \
		--log-level=lib.eal:error "$@" < "$T/$name.in" > "$T/$name.log" 2>&1 &
	echo $! >> "$T/pids"
	echo $! > "$T/$name.pid"
	for _ in $(seq 150); do
		grep -q "^testpmd>" "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "testpmd $name did not start:"; tail -20 "$T/$name.log"; exit 1
}
# tstop NAME: kills it and waits until it is gone (a testpmd started next
# with the same --file-prefix fails while the old one still holds it)
tstop() {
	local p
	p=$(cat "$T/$1.pid")
	kill -9 "$p" "$(cat "$T/$1.hold")" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	rm -f "$T/$1.in"
}
# guest MODE SIZE [args]: the virtio-user guest on $T/vh.sock, forwarding on CPU 1
guest() {
	local mode=$1 size=$2
	shift 2
	tp guest -l 0,1 --main-lcore 0 \
		--vdev "net_virtio_user0,mac=02:00:00:00:00:01,path=$T/vh.sock,queues=1${PACKED:+,packed_vq=1}" -- \
		-i --nb-cores=1 --total-num-mbufs=32768 --forward-mode="$mode" \
		--txpkts="$size" "$@"
	testpmd_cmd guest start
}
# rate NAME FIELD: FIELD's growth per second over $secs seconds, after 2 s warm-up
rate() {
	sleep 2
	local a b
	a=$("$@")
	sleep "$secs"
	b=$("$@")
	echo $(((b - a) / secs))
}
sw_uplink_tx() { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq .uplink.tx_frames; }

start_switch() {
	"$VMDQ" switch -c "$1" --ctl "$T/ctl.sock" --cpu 0 2> "$T/switch.log" &
	SWPID=$!
	echo "$SWPID" >> "$T/pids"
	for _ in $(seq 50); do grep -q "switch running" "$T/switch.log" && return 0; sleep 0.1; done
	echo "switch did not start"; cat "$T/switch.log"; exit 1
}
stop_switch() { kill -TERM "$SWPID"; wait "$SWPID" 2>/dev/null || true; }

vmdq_h2g() { # SIZE targeted(on|off)
	printf '02:00:00:00:00:01 02:ee:00:00:00:01 len %s repeat 256\n' "$1" > "$T/f.txt"
	"$MKPCAP" "$T/f.txt" "$T/f.pcap"
	cat > "$T/sw.conf" <<EOF
uplink wire pcap $T/f.pcap /dev/null loop 0
vif vm1 vhost-user $T/vh.sock targeted $2 mac 02:00:00:00:00:01
EOF
	start_switch "$T/sw.conf"
	guest rxonly 64
	rate testpmd_stat guest RX-packets
	tstop guest
	stop_switch
}
dpdk_h2g() { # SIZE
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/vh.sock,queues=1" -- \
		-i --nb-cores=1 --total-num-mbufs=32768 --forward-mode=txonly --txpkts="$1" \
		--eth-peer=0,02:00:00:00:00:01
	guest rxonly 64
	testpmd_cmd host start
	rate testpmd_stat guest RX-packets
	tstop guest
	tstop host
}
vmdq_g2h() { # SIZE
	: > "$T/e.txt"
	"$MKPCAP" "$T/e.txt" "$T/e.pcap"
	cat > "$T/sw.conf" <<EOF
uplink wire pcap $T/e.pcap /dev/null
vif vm1 vhost-user $T/vh.sock mac 02:00:00:00:00:01
EOF
	start_switch "$T/sw.conf"
	guest txonly "$1" --eth-peer=0,02:ee:00:00:00:01
	rate sw_uplink_tx
	tstop guest
	stop_switch
}
dpdk_g2h() { # SIZE
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/vh.sock,queues=1" -- \
		-i --nb-cores=1 --total-num-mbufs=32768 --forward-mode=rxonly
	guest txonly "$1" --eth-peer=0,02:ee:00:00:00:01
	testpmd_cmd host start
	rate testpmd_stat host RX-packets
	tstop guest
	tstop host
}

# median of three
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# AB=OLD_VMDQ [ABSIZE=BYTES] [ABN=ROUNDS]: an older build of vmdq against
# this one and DPDK, ABN (5) interleaved rounds, each host -> guest targeted
# and guest -> host (ABSIZE bytes, 64), then the medians (ABN=3: of three)
if [ -n "${AB:-}" ]; then
	NEW=$VMDQ
	sz=${ABSIZE:-64}
	echo "$sz-byte frames/s: host->guest targeted old new dpdk | guest->host old new dpdk"
	A=() B=() C=() D=() E=() F=()
	for _ in $(seq "${ABN:-5}"); do
		VMDQ=$AB; a=$(vmdq_h2g "$sz" on); d=$(vmdq_g2h "$sz")
		VMDQ=$NEW; b=$(vmdq_h2g "$sz" on); e=$(vmdq_g2h "$sz")
		c=$(dpdk_h2g "$sz"); f=$(dpdk_g2h "$sz")
		echo "$a $b $c | $d $e $f"
		A+=("$a") B+=("$b") C+=("$c") D+=("$d") E+=("$e") F+=("$f")
	done
	if [ "${ABN:-5}" = 3 ]; then
		echo "medians: host->guest targeted old $(med "${A[@]}") new $(med "${B[@]}") dpdk $(med "${C[@]}")"
		echo "         guest->host old $(med "${D[@]}") new $(med "${E[@]}") dpdk $(med "${F[@]}")"
	fi
	exit 0
fi

echo "vmdq vhost-user vs DPDK vhost (testpmd): frames/s at the receiver, $secs s per"
echo "figure; each figure is the median of three, the runs of a pair interleaved"
if [ -n "${PACKED:-}" ]; then echo "guest with packed virtqueues"; fi
printf '%-34s %6s %12s   %s\n' "path" "bytes" "median" "runs"
for size in ${SIZES:-64 1518}; do
	A=() B=() C=() D=() E=()
	for _ in 1 2 3; do
		A+=("$(vmdq_h2g "$size" on)")
		B+=("$(vmdq_h2g "$size" off)")
		C+=("$(dpdk_h2g "$size")")
		D+=("$(vmdq_g2h "$size")")
		E+=("$(dpdk_g2h "$size")")
	done
	r1=$(med "${A[@]}") r2=$(med "${B[@]}") r3=$(med "${C[@]}") r4=$(med "${D[@]}") r5=$(med "${E[@]}")
	printf '%-34s %6s %12s   %s\n' "host->guest vmdq targeted" "$size" "$r1" "${A[*]}"
	printf '%-34s %6s %12s   %s\n' "host->guest vmdq not targeted" "$size" "$r2" "${B[*]}"
	printf '%-34s %6s %12s   %s\n' "host->guest DPDK vhost txonly" "$size" "$r3" "${C[*]}"
	printf '%-34s %6s %12s   %s\n' "guest->host vmdq" "$size" "$r4" "${D[*]}"
	printf '%-34s %6s %12s   %s\n' "guest->host DPDK vhost rxonly" "$size" "$r5" "${E[*]}"
	awk -v a="$r1" -v b="$r2" -v c="$r3" -v d="$r4" -v e="$r5" -v s="$size" 'BEGIN {
		printf "  %s bytes: targeted/DPDK %.2fx, targeted/not %.2fx, guest->host vmdq/DPDK %.2fx\n",
			s, a / c, a / b, d / e }'
done
