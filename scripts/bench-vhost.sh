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
TP_PREFIX=vqb
. "$(dirname "$0")/bench-lib.sh"

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
sw_uplink_tx() { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq .uplink.tx_frames; }

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
	rm -f "$T/vh.sock" # a killed testpmd leaves it, and net_vhost cannot bind then
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
	rm -f "$T/vh.sock" # a killed testpmd leaves it, and net_vhost cannot bind then
	tp host -l 0,1 --main-lcore 1 --vdev "net_vhost0,iface=$T/vh.sock,queues=1" -- \
		-i --nb-cores=1 --total-num-mbufs=32768 --forward-mode=rxonly
	guest txonly "$1" --eth-peer=0,02:ee:00:00:00:01
	testpmd_cmd host start
	rate testpmd_stat host RX-packets
	tstop guest
	tstop host
}

# AB=OLD_VMDQ [ABSIZE=BYTES] [ABN=ROUNDS]: an older build of vmdq against
# this one and DPDK, ABN (5) interleaved rounds, each host -> guest targeted
# and not (copy), and guest -> host (ABSIZE bytes, 64); each round's ratios
# new/old, then the medians of the rounds and their ratios.  PERF=DIR
# records each switch run (perf record -g, DIR/{old,new}-PATH.PID.data).
if [ -n "${AB:-}" ]; then
	NEW=$VMDQ
	sz=${ABSIZE:-64}
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b / a }'; }
	echo "$sz-byte frames/s, old = $AB, new = $NEW"
	echo "host->guest targeted old new dpdk | host->guest copy old new | guest->host old new dpdk || new/old targeted copy g->h"
	A=() B=() C=() D=() E=() F=() G=() H=()
	for _ in $(seq "${ABN:-5}"); do
		VMDQ=$AB
		a=$(PERF_TAG=old-h2g-targeted vmdq_h2g "$sz" on)
		g=$(PERF_TAG=old-h2g-copy vmdq_h2g "$sz" off)
		d=$(PERF_TAG=old-g2h vmdq_g2h "$sz")
		VMDQ=$NEW
		b=$(PERF_TAG=new-h2g-targeted vmdq_h2g "$sz" on)
		h=$(PERF_TAG=new-h2g-copy vmdq_h2g "$sz" off)
		e=$(PERF_TAG=new-g2h vmdq_g2h "$sz")
		c=$(dpdk_h2g "$sz"); f=$(dpdk_g2h "$sz")
		echo "$a $b $c | $g $h | $d $e $f || $(ratio "$a" "$b") $(ratio "$g" "$h") $(ratio "$d" "$e")"
		A+=("$a") B+=("$b") C+=("$c") D+=("$d") E+=("$e") F+=("$f") G+=("$g") H+=("$h")
	done
	echo "medians of ${ABN:-5}:"
	echo "  host->guest targeted old $(med "${A[@]}") new $(med "${B[@]}") dpdk $(med "${C[@]}")" \
		"new/old $(ratio "$(med "${A[@]}")" "$(med "${B[@]}")")"
	echo "  host->guest copy     old $(med "${G[@]}") new $(med "${H[@]}")" \
		"new/old $(ratio "$(med "${G[@]}")" "$(med "${H[@]}")")"
	echo "  guest->host          old $(med "${D[@]}") new $(med "${E[@]}") dpdk $(med "${F[@]}")" \
		"new/old $(ratio "$(med "${D[@]}")" "$(med "${E[@]}")")"
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
