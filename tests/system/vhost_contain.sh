#!/bin/bash
# Containment (issue 12), end to end: one hostile vhost-user guest next to
# an honest one on the same worker.
#
#   ext namespace eth0 --veth-- uplink (afpacket) [vmdq switch] vm1 vhost-user: vu_guest.py (the attacker)
#                                                              vm2 vhost-user: vu_guest.py (the neighbour)
#
# For every attack the neighbour receives a stream of frames from the wire
# (1 ms apart, each stamped with its send time): it must get every one and
# none may take longer than 250 ms from the wire to its ring (an honest
# round trip here is about 1 ms; the attacks took 1 to 5 s before).  The
# switch must survive each attack, and the attacker's vif ends up broken
# or its request refused, as each case says:
#  (1)  SET_FEATURES flipping split/packed and SET_VRING_NUM on a started
#       ring: refused (split and packed guests);
#  (2)  the memory file truncated while frames flow into it: the vif broken
#       (memory_faults 1), the process alive; a region bigger than its file:
#       SET_MEM_TABLE refused;
#  (3)  a pipe nobody reads as the call fd while frames flow: refused, and
#       the worker never blocks on it;
#  (6)  a partial header then silence, a reconnect loop with partial
#       headers, a flood of SET_VRING_ENABLE: the worker never waits;
#  (9)  an indirect table of 32768 zero-length descriptors: the vif broken;
#  (10) eight regions of 12 TiB on a 4 MiB memfd: refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guests.sh"

vhost_uplink
cat > "$T/sw.conf" <<EOF2
uplink wire afpacket vqu$ID
vif vm1 vhost-user $T/vm1.sock mac 02:00:00:00:00:01
vif vm2 vhost-user $T/vm2.sock mac 02:00:00:00:00:02
EOF2
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"

MAXMS=250
N=800
M2=02:00:00:00:00:02
SRC=02ee00000001
F1=$(pad "020000000001${SRC}0800" 64)
TOWIRE=$(pad "02ee00000001020000000001080045" 64)
alive() { kill -0 "$SW_PID" 2>/dev/null && echo alive || echo dead; }
state() { vif_field vm1 .guest.state; }
fresh() { # vm1 on a new connection, set up with "$@"
	vg vm1 reconnect > /dev/null
	for _ in $(seq 30); do [ "$(state)" = connected ] && break; sleep 0.1; done
	vg vm1 setup "$@"
}

vg_start vm1 02:00:00:00:00:01
vg_start vm2 $M2
eq "vm2 (neighbour) setup" "$(vg vm2 setup)" ok
eq "vm1 setup" "$(vg vm1 setup)" ok
wire_send "$F1" 20
eq "vm1 honest: frames intact" "$(vg vm1 recv 20 "$F1")" "got 20 bad 0"
neighbour_begin vm2 $M2 300
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "baseline" vm2 300 $MAXMS
T0=$(date +%s)

# vu_guest.py speaks packed rings too
eq "vm1 packed setup" "$(fresh packed)" ok
eq "vm1 packed ring" "$(vif_field vm1 .guest.ring)" packed
( wire_send "$F1" 300 ) &
s1=$!
eq "vm1 packed: frames intact (the ring wrapped)" "$(vg vm1 recv 300 "$F1")" "got 300 bad 0"
wait $s1
eq "vm1 packed sends" "$(vg vm1 send 300 "$TOWIRE")" "used 300"

# (1) ring layout changes under started rings: refused
for lay in split packed; do
	if [ $lay = packed ]; then eq "vm1 $lay setup" "$(fresh packed)" ok
	else eq "vm1 $lay setup" "$(fresh)" ok; fi
	neighbour_begin vm2 $M2 $N
	( wire_send "$F1" 500 ) &
	s1=$!
	eq "(1) $lay: SET_FEATURES flipping the layout refused" "$(vg vm1 flip)" "nack 1"
	eq "(1) $lay: SET_VRING_NUM on a started ring refused" "$(vg vm1 renum 128)" "nack 1"
	vg vm1 recv 500 "$F1" 3 > /dev/null
	wait $s1
	echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(1) $lay" vm2 $N $MAXMS
	eq "(1) $lay: switch alive" "$(alive)" alive
	eq "(1) $lay: vm1 memory untouched elsewhere" "$(vg vm1 canary)" intact
done

# (2) the memory file truncated while frames flow into it
eq "vm1 setup" "$(fresh)" ok
neighbour_begin vm2 $M2 $N
( wire_send "$F1" 600 ) &
s1=$!
sleep 0.3
eq "(2) vm1 truncates its memory" "$(vg vm1 truncate 0)" ok
wait $s1
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(2) truncate" vm2 $N $MAXMS
eq "(2) switch alive" "$(alive)" alive
eq "(2) vm1 broken" "$(state)" "broken: bad-address"
eq "(2) memory fault counted" "$(vif_field vm1 .guest.memory_faults)" 1
grep -q "vif vm1: guest memory truncated" "$T/switch.log" || fail "(2) not logged"
eq "(2) vm1 file back to size" "$(vg vm1 truncate 3145728)" ok
eq "(2) vm1 sets up afresh" "$(fresh)" ok
wire_send "$F1" 20
eq "(2) vm1 receives again" "$(vg vm1 recv 20 "$F1")" "got 20 bad 0"
# a region bigger than its file (a buffer past the file's end)
neighbour_begin vm2 $M2 $N
eq "(2) region bigger than its file refused" "$(fresh bigregion)" "SET_MEM_TABLE refused"
wire_send "$F1" 200
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(2) bigregion" vm2 $N $MAXMS
eq "(2) bigregion: switch alive" "$(alive)" alive

# (3) a pipe nobody reads as the call fd, while frames flow to the vif
neighbour_begin vm2 $M2 $N
eq "(3) a pipe as call fd refused" "$(fresh callpipe)" "ok (call fd refused)"
( wire_send "$F1" 1200 ) &
s1=$!
# (the rings set up after the refusal: running, without a call fd)
eq "(3) vm1 gets its frames all the same" "$(VG_WAIT=300 vg vm1 recv 1200 "$F1" 20)" "got 1200 bad 0"
wait $s1
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(3) callpipe" vm2 $N $MAXMS
eq "(3) switch alive" "$(alive)" alive

# (6) the socket: a partial header then silence; a reconnect loop; a flood
eq "vm1 setup" "$(fresh)" ok
neighbour_begin vm2 $M2 $N
vg vm1 reconnect > /dev/null
eq "(6) partial header" "$(vg vm1 partial)" ok
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(6) partial header" vm2 $N $MAXMS
neighbour_begin vm2 $M2 $N
c0=$(vif_field vm1 .guest.connects)
eq "(6) reconnect loop" "$(vg vm1 reconnectloop 6 0.5)" ok
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(6) reconnect loop" vm2 $N $MAXMS
sleep 0.3
eq "(6) every connection seen" "$(vif_field vm1 .guest.connects)" $((c0 + 6))
eq "vm1 setup" "$(fresh)" ok
neighbour_begin vm2 $M2 $N
eq "(6) SET_VRING_ENABLE flood" "$(VG_WAIT=300 vg vm1 flood 100000)" sent
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(6) flood" vm2 $N $MAXMS
for _ in $(seq 100); do [ "$(vif_field vm1 .guest.messages_deferred)" != 0 ] && break; sleep 0.1; done
ok test "$(vif_field vm1 .guest.messages_deferred)" -gt 0
eq "(6) vm1 still running after its flood" "$(state)" running
wire_send "$F1" 20
eq "(6) vm1 receives after its flood" "$(VG_WAIT=300 vg vm1 recv 20 "$F1" 20)" "got 20 bad 0"

# (9) indirect tables of 32768 zero-length descriptors
eq "vm1 setup with indirect descriptors" "$(fresh indirect)" ok
neighbour_begin vm2 $M2 $N
vg vm1 send 64 "$TOWIRE" indirect > /dev/null
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(9) indirect" vm2 $N $MAXMS
eq "(9) vm1 broken" "$(state | cut -d: -f1)" broken
eq "(9) switch alive" "$(alive)" alive

# (10) eight regions of 12 TiB on a 4 MiB memfd
eq "vm1 setup" "$(fresh)" ok
neighbour_begin vm2 $M2 $N
eq "(10) 96 TiB of mappings refused" "$(vg vm1 hugemem)" "nack 1"
echo "[$(( $(date +%s) - ${T0:-$(date +%s)} )) s]"; neighbour_end "(10) hugemem" vm2 $N $MAXMS
eq "(10) switch alive" "$(alive)" alive
eq "(10) vm1 sets up afresh" "$(fresh)" ok

if [ "$FAILS" -ne 0 ]; then
	"$VMDQ" ctl --ctl "$T/ctl.sock" show vifs || true
	tail -30 "$T/switch.log"
	tail -n 5 "$T/vm1.out" "$T/vm2.out"
fi
[ "$(alive)" = alive ] && stop_switch
finish
