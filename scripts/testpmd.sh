# Helpers for driving dpdk-testpmd in interactive mode from a script
# (sourced by scripts/bench-vhost.sh and tests/system/vhost.sh).  A testpmd
# named NAME reads its commands from the fifo $T/NAME.in and logs to
# $T/NAME.log.

# testpmd_cmd NAME COMMAND
testpmd_cmd() { echo "$2" > "$T/$1.in"; }

# testpmd_stat NAME FIELD: a port 0 counter (RX-packets, RX-bytes,
# TX-packets, ...) from a fresh 'show port stats 0'
testpmd_stat() {
	local n0 n
	n0=$(grep -c '^  #\+$' "$T/$1.log" || true)
	testpmd_cmd "$1" "show port stats 0"
	for _ in $(seq 50); do
		n=$(grep -c '^  #\+$' "$T/$1.log" || true)
		[ "$n" -gt "$n0" ] && break
		sleep 0.1
	done
	awk '/NIC statistics for port 0/ { b = "" } { b = b "\n" $0 } END { print b }' \
		"$T/$1.log" | grep -o "$2: *[0-9]*" | head -1 | grep -o "[0-9]*$"
}
