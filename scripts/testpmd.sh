# Helpers for driving dpdk-testpmd in interactive mode from a script
# (sourced by scripts/bench-vhost.sh and tests/system/guests.sh).  A testpmd
# named NAME reads its commands from the fifo $T/NAME.in and logs to
# $T/NAME.log.

# testpmd_cmd NAME COMMAND
testpmd_cmd() { echo "$2" > "$T/$1.in"; }

# testpmd_show NAME COMMAND HEADER DONE FIELD: FIELD's number in the newest
# block that starts with HEADER, after COMMAND; DONE is a line that appears
# once more when testpmd has printed the block (DONE = HEADER: the block has
# no end line, so give it a moment once its header is there)
testpmd_show() {
	local n0 n
	n0=$(grep -c "$4" "$T/$1.log" || true)
	testpmd_cmd "$1" "$2"
	for _ in $(seq 50); do
		n=$(grep -c "$4" "$T/$1.log" || true)
		[ "$n" -gt "$n0" ] && break
		sleep 0.1
	done
	[ "$3" = "$4" ] && sleep 0.2
	awk -v h="$3" 'index($0, h) { b = "" } { b = b "\n" $0 } END { print b }' \
		"$T/$1.log" | grep -o "$5: *[0-9]*" | head -1 | grep -o "[0-9]*$"
}

# testpmd_stat NAME FIELD: a port 0 counter (RX-packets, RX-bytes,
# TX-packets, ...) from a fresh 'show port stats 0'
testpmd_stat() {
	testpmd_show "$1" "show port stats 0" "NIC statistics for port 0" '^  #\+$' "$2"
}

# testpmd_xstat NAME FIELD: one of port 0's extended counters
# (rx_q0_good_packets, tx_q1_good_packets, ...)
testpmd_xstat() {
	testpmd_show "$1" "show port xstats 0" "NIC extended statistics for port 0" \
		"NIC extended statistics for port 0" "^$2"
}
