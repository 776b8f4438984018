# Shared by scripts/bench-vhost.sh and scripts/bench-vhost-tso.sh (sourced,
# after scripts/testpmd.sh): testpmd guests and back-ends driven through
# fifos, the switch started and stopped, rates and medians.  The caller
# sets T (its temporary directory; every process started is listed in
# $T/pids, which its cleanup kills), VMDQ (the vmdq binary) and TP_PREFIX
# (a short tag for testpmd's --file-prefix); and secs for rate.

# tp NAME ARGS...: a testpmd driven through a fifo ($T/NAME.in), log in $T/NAME.log
tp() {
	local name=$1
	shift
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	sleep 100000 > "$T/$name.in" 2>/dev/null < /dev/null &
	echo $! >> "$T/pids"
	echo $! > "$T/$name.hold"
	stdbuf -oL dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "$TP_PREFIX$$$name" \
		--log-level=lib.eal:error "$@" < "$T/$name.in" > "$T/$name.log" 2>&1 &
	echo $! >> "$T/pids"
	echo $! > "$T/$name.pid"
	for _ in $(seq 150); do
		grep -q "^testpmd>" "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "testpmd $name did not start:" >&2; tail -20 "$T/$name.log" >&2; exit 1
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
# rate CMD...: the growth per second of what CMD prints over $secs seconds,
# after 2 s warm-up
rate() {
	sleep 2
	local a b
	a=$("$@")
	sleep "$secs"
	b=$("$@")
	echo $(((b - a) / secs))
}
# start_switch CONF: vmdq's switch on CPU 0, control socket $T/ctl.sock.
# PERF=DIR: perf record -g of the switch for the warm-up and the measure,
# into DIR/PERF_TAG.PID.data
start_switch() {
	"$VMDQ" switch -c "$1" --ctl "$T/ctl.sock" --cpu 0 2> "$T/switch.log" &
	SWPID=$!
	echo "$SWPID" >> "$T/pids"
	for _ in $(seq 50); do
		if grep -q "switch running" "$T/switch.log"; then
			[ -z "${PERF:-}" ] || perf record -q -g -p "$SWPID" \
				-o "$PERF/${PERF_TAG:-switch}.$SWPID.data" -- sleep "$((secs + 2))" \
				> /dev/null 2>&1 &
			return 0
		fi
		sleep 0.1
	done
	echo "switch did not start" >&2; cat "$T/switch.log" >&2; exit 1
}
stop_switch() { kill -TERM "$SWPID"; wait "$SWPID" 2>/dev/null || true; }
# med X...: the median (the middle one of an odd count, the lower middle of
# an even one)
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
