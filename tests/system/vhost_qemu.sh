#!/bin/bash
# A QEMU VM on a vhost-user vif (issue 4 point 4's second client): QEMU's
# own vhost-user front-end and the guest kernel's virtio-net driver, two
# queue pairs.  Topology:
#
#   ext namespace eth0 10.9.0.1 --veth-- uplink (afpacket) [vmdq switch] vm5 vhost-user queues 2
#                                                               (QEMU, Linux guest 10.9.0.5)
#
# The guest is the host's Debian kernel with a busybox initramfs
# (scripts/qemu-guest.sh); no KVM is needed (TCG).  vectors=0 (INTx): QEMU
# 7.2 without KVM crashes starting a vhost-user device with MSI-X vectors
# (a segfault in msix_set_vector_notifiers), before any guest code runs.  Checks: QEMU connects
# and the rings run; the external host pings the guest (ARP and ICMP both
# ways through the switch, exact counts); UDP from 32 source ports reaches
# the guest over both of its queue pairs and the guest's own count equals
# the switch's.  All of it twice: split virtqueues, then packed ones.
# Then offloads (issue 14), with every interface's offloads left on and no
# targeted vif (vm5 deleted): guests on vm6 and vm7 (`offloads on`,
# `targeted off`, one vCPU each) negotiate checksum offload and TSO both
# ways.  vm6 takes 1 MiB of TCP from the external host and sends 1 MiB back
# (its 1 MiB leaves it in fewer frames than 1448-byte segments would take);
# then vm6 and vm7 send each other 1 MiB of TCP (MD5 equal at both ends)
# and 200 UDP datagrams, and vm6 and the external host 200 each way
# (contents checked, tests/system/guest_udp.c in the guests).  Each TCP
# part crosses as super-frames (gso-super grows by at least its bytes over
# 128 KiB), nothing is segmented or checksummed in software (gso-segments,
# csum-completed unchanged), and no stack counts a checksum error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../scripts/qemu-guest.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 missing: skipped"; exit 77; }
[ -n "$(qemu_kernel)" ] && [ -x /bin/busybox ] || { echo "no kernel or busybox: skipped"; exit 77; }

QPID=
QPIDS=
cleanup_qemu() {
	for p in $QPID $QPIDS; do kill -9 "$p" 2>/dev/null || true; done
	cleanup
}
trap cleanup_qemu EXIT INT TERM
guest_rx() { grep -a "^guest: rx" "$T/qemu.log" | tail -1 | awk '{ print $3 }'; }
guest_line() { grep -a "^guest: rx" "$T/qemu.log" | tail -1 | tr -d '\r'; }

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm5 vhost-user $T/vm5.sock mac 02:00:00:00:00:05 queue 1 queues 2
vif vm6 vhost-user $T/vm6.sock targeted off offloads on mac 02:00:00:00:00:06 queue 3
vif vm7 vhost-user $T/vm7.sock targeted off offloads on mac 02:00:00:00:00:07 queue 4
EOF
start_switch "$T/sw.conf" --ctl "$T/ctl.sock"

qemu_initrd "$T/initrd.gz" 10.9.0.5 10.9.0.1 02:ee:00:00:00:01
# run_guest on|off RING: boots the guest (virtio-net-pci packed=on|off) and
# checks it end to end; the vif's rings must be RING (split or packed)
run_guest() {
	rm -f "$T/qemu.log" "$T/qemu.out"
	qemu-system-x86_64 -nodefaults -display none -no-reboot -machine pc -smp 2 -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$(qemu_kernel)" -initrd "$T/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet" -serial "file:$T/qemu.log" \
		-chardev "socket,id=c0,path=$T/vm5.sock" \
		-netdev vhost-user,id=n0,chardev=c0,queues=2 \
		-device "virtio-net-pci,netdev=n0,mac=02:00:00:00:00:05,mq=on,vectors=0,packed=$1" \
		> "$T/qemu.out" 2>&1 &
	QPID=$!
	up=
	for _ in $(seq 300); do
		grep -aq "^guest: rx" "$T/qemu.log" 2>/dev/null && { up=1; break; }
		kill -0 "$QPID" 2>/dev/null || break
		sleep 0.5
	done
	if [ -z "$up" ]; then
		fail "the guest did not come up (packed=$1)"
		tail -n 20 "$T/qemu.out" "$T/qemu.log" "$T/switch.log"
		finish
		exit 1
	fi
	eq "QEMU connected, rings running" "$(vif_field vm5 .guest.state)" running
	eq "the guest's rings" "$(vif_field vm5 .guest.ring)" "$2"
	eq "the guest uses both queue pairs" "$(queue_field 1 rss)" 2

	# ping: 10 requests, 10 replies (TCG is slow: generous deadline).  The
	# guest prints its first line before its stack answers at full pace:
	# wait for one reply first; a round under TCG load can still miss a
	# reply by its deadline, so up to three rounds, one of them 10 of 10
	for _ in $(seq 30); do
		ip netns exec "$NS_EXT" ping -c 1 -W 1 10.9.0.5 > /dev/null 2>&1 && break
	done
	for r in 1 2 3; do
		out=$(ip netns exec "$NS_EXT" ping -c 10 -i 0.2 -W 5 10.9.0.5 2>&1 || true)
		got=$(echo "$out" | grep -o '[0-9]* received' | grep -o '[0-9]*')
		[ "$got" = 10 ] && break
		sleep 1
		echo "ping round $r: $got of 10 replies (packed=$1); $(guest_line); switch: to_vm $(vif_field vm5 .to_vm) from_vm $(vif_field vm5 .from_vm)"
	done
	eq "ping through the switch" "$got" 10

	# UDP from 32 source ports: both pairs carry some; the guest counts them all
	# (no ARP either way meanwhile: permanent entries on both sides)
	ip -n "$NS_EXT" neigh replace 10.9.0.5 lladdr 02:00:00:00:00:05 dev eth0 nud permanent
	sleep 1
	rx0=$(guest_rx); to0=$(vif_field vm5 .to_vm)
	q1=$(queue_field 1 frames); q2=$(queue_field 2 frames)
	ip netns exec "$NS_EXT" /usr/bin/python3 - <<-'P'
	import socket, time
	for k in range(5):
	    for port in range(5000, 5032):
	        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	        s.bind(("10.9.0.1", port))
	        s.sendto(b"x" * 18, ("10.9.0.5", 9))
	        s.close()
	        time.sleep(0.002)
	P
	sleep 2
	dq1=$(( $(queue_field 1 frames) - q1 )); dq2=$(( $(queue_field 2 frames) - q2 ))
	eq "160 datagrams sorted to the guest's two queues" $((dq1 + dq2)) 160
	ok test "$dq1" -gt 0 -a "$dq2" -gt 0
	eq "the switch delivered them" $(( $(vif_field vm5 .to_vm) - to0 )) 160
	sleep 1
	eq "the guest counted them" $(( $(guest_rx) - rx0 )) 160

	kill -9 "$QPID" 2>/dev/null || true
	wait "$QPID" 2>/dev/null || true
	QPID=
	for _ in $(seq 30); do
		[ "$(vif_field vm5 .guest.state)" = waiting ] && break
		sleep 0.1
	done
	eq "QEMU gone: the vif waits again" "$(vif_field vm5 .guest.state)" waiting
}

run_guest off split
# the same guest with packed virtqueues (the Linux driver's, interrupts on)
run_guest on packed

# ---- offloads: TCP and UDP both ways, checksums left to the guests and the kernel ----
# No targeted vif from here on: the uplink's super-frames then reach a guest
# whole (while one exists they are cut before the device)
ok "$VMDQ" ctl --ctl "$T/ctl.sock" vif del vm5
glog() { grep -a "^guest: $2" "$T/$1.log" 2>/dev/null | tail -1 | tr -d '\r' | cut -d' ' -f3-; }
ostat() { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats | jq -r ".offload[\"$1\"]"; }
# boot_guest NAME MAC: an offload guest on vif NAME (one queue pair, one
# vCPU) from $T/NAME.gz; waits until it is up and checks its features
boot_guest() {
	rm -f "$T/$1.log"
	qemu-system-x86_64 -nodefaults -display none -no-reboot -machine pc -smp 1 -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$(qemu_kernel)" -initrd "$T/$1.gz" \
		-append "console=ttyS0 panic=-1 quiet" -serial "file:$T/$1.log" \
		-chardev "socket,id=c0,path=$T/$1.sock" -netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,mac=$2,vectors=0" \
		> "$T/$1.out" 2>&1 &
	QPIDS="$QPIDS $!"
	for _ in $(seq 300); do
		[ -n "$(glog "$1" rx)" ] && break
		kill -0 $! 2>/dev/null || break
		sleep 0.5
	done
	[ -n "$(glog "$1" rx)" ] || { fail "$1: the offload guest did not come up"; tail -n 20 "$T/$1.out" "$T/$1.log"; }
	eq "$1: QEMU connected, rings running" "$(vif_field "$1" .guest.state)" running
	local feats b
	feats=$(glog "$1" features)
	# CSUM 0, GUEST_CSUM 1, GUEST_TSO4 7, GUEST_TSO6 8, HOST_TSO4 11, HOST_TSO6 12, MRG_RXBUF 15
	for b in 0 1 7 8 11 12 15; do
		eq "$1: feature bit $b negotiated" "${feats:$b:1}" 1
	done
}

# The guests' jobs (scripts/qemu-guest.sh runs /job): vm6 (10.9.0.6) and
# vm7 (10.9.0.7) each send the other 1 MiB of TCP (vm7 first, then vm6)
# and then 200 UDP datagrams; vm6 also takes 200 from the external host and
# sends it 200.  Each prints the MD5 of what it sent and of what it took,
# and its UDP InCsumErrors at the end.
${CC:-cc} -static -O2 -o "$T/guest_udp" "$(dirname "$0")/guest_udp.c" ||
	{ fail "cannot build guest_udp (static)"; finish; exit 1; }
# job ME PEER PEERMAC FIRST(1: sends its TCP first): the /job of guest ME
job() {
	local order="tcp_in; tcp_out"
	[ -z "$4" ] || order="tcp_out; tcp_in"
	mkdir -p "$T/x$1"
	cp "$T/guest_udp" "$T/x$1/guest_udp"
	cat > "$T/x$1/job" <<-J
	#!/bin/busybox sh
	arp -s $2 $3
	dd if=/dev/urandom of=/blob2 bs=65536 count=16 2>/dev/null
	echo "guest: blob \$(md5sum < /blob2 | cut -d' ' -f1)"
	(echo "guest: udp-vm-in \$(/guest_udp recv 5006 200)") &
	${4:+#}(echo "guest: udp-ext-in \$(/guest_udp recv 5008 200)") &
	# busybox nc shuts its sending half when its input ends, and the
	# peer's nc then stops: the listener's input is a fifo that never ends
	mkfifo /never
	tcp_in() {
		nc -l -p 5003 0<> /never > /rx
		echo "guest: vm-tcp-in \$(wc -c < /rx | tr -d ' ') \$(md5sum < /rx | cut -d' ' -f1)"
	}
	tcp_out() {
		until nc $2 5003 < /blob2 > /dev/null; do sleep 1; done
		echo "guest: vm-tcp-out done"
	}
	$order
	sleep 1
	/guest_udp send $2 5006 200
	echo "guest: udp-vm-out done"
	${4:+#}/guest_udp send 10.9.0.1 5007 200 && echo "guest: udp-ext-out done"
	wait
	echo "guest: udp-csumerr \$(awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if (\$i == "InCsumErrors") c = i; h = 1; next } print \$c; exit }' /proc/net/snmp)"
	J
	chmod +x "$T/x$1/job" "$T/x$1/guest_udp"
}
job 10.9.0.6 10.9.0.7 02:00:00:00:00:07 ""
job 10.9.0.7 10.9.0.6 02:00:00:00:00:06 1
qemu_initrd "$T/vm6.gz" 10.9.0.6 10.9.0.1 02:ee:00:00:00:01 "$T/x10.9.0.6"
qemu_initrd "$T/vm7.gz" 10.9.0.7 10.9.0.1 02:ee:00:00:00:01 "$T/x10.9.0.7"

boot_guest vm6 02:00:00:00:00:06
ip -n "$NS_EXT" neigh replace 10.9.0.6 lladdr 02:00:00:00:00:06 dev eth0 nud permanent
ce0=$(csum_errors "$NS_EXT")
sup0=$(ostat gso-super) seg0=$(ostat gso-segments) cc0=$(ostat csum-completed)
from0=$(vif_field vm6 .from_vm)

# TCP between the external host and vm6, 1 MiB each way
ip netns exec "$NS_EXT" timeout 90 /usr/bin/python3 - > "$T/tcp-out" 2>&1 <<-'P' &
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.0.1", 5002))
s.listen(1)
c, _ = s.accept()
n = 0
while n < 1 << 20:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
print(n)
P
SRV=$!
ip netns exec "$NS_EXT" timeout 90 /usr/bin/python3 - <<-'P' || fail "offloads: TCP to the guest did not go through"
import os, socket
s = socket.create_connection(("10.9.0.6", 5001), timeout=30)
s.sendall(os.urandom(1 << 20))
s.close()
P
for _ in $(seq 120); do
	[ -n "$(glog vm6 tcp-in)" ] && [ -n "$(glog vm6 tcp-out)" ] && break
	sleep 0.5
done
eq "offloads: TCP ext -> guest, every byte" "$(glog vm6 tcp-in)" 1048576
eq "offloads: TCP guest -> ext" "$(glog vm6 tcp-out)" done
wait "$SRV" || true
eq "offloads: TCP guest -> ext, every byte" "$(cat "$T/tcp-out")" 1048576
sent=$(( $(vif_field vm6 .from_vm) - from0 ))
ok test "$sent" -lt 724   # 1 MiB in 1448-byte segments takes 725 frames
# super-frames at 64 KiB would be 32 for the 2 MiB; the kernel makes them
# smaller at times (TSO autosizing, slower under TCG): 16 (2 MiB / 128 KiB)
# at least, where 1448-byte frames would make 0
sup1=$(ostat gso-super)
echo "ext <-> vm6: $((sup1 - sup0)) super-frames"
ok test "$((sup1 - sup0))" -ge 16

# UDP between the external host and vm6 (200 each way: vm6 sends its own
# once its guest-to-guest part is done), then vm7 joins: guest to guest
ip netns exec "$NS_EXT" timeout 240 /usr/bin/python3 - > "$T/udp-in" <<-'P' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.1", 5007))
n = 0
while n < 200:
    d = s.recv(2000)
    s.settimeout(5)
    k = int.from_bytes(d[:4], "big")
    if len(d) == 1400 and d[4:] == bytes([k & 0xff]) * 1396:
        n += 1
print(n, flush=True)
P
UDPSRV=$!
ip netns exec "$NS_EXT" /usr/bin/python3 - <<-'P'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(200):
    s.sendto(k.to_bytes(4, "big") + bytes([k & 0xff]) * 1396, ("10.9.0.6", 5008))
    time.sleep(0.002)
P
boot_guest vm7 02:00:00:00:00:07
for _ in $(seq 240); do
	[ -n "$(glog vm6 udp-csumerr)" ] && [ -n "$(glog vm7 udp-csumerr)" ] && break
	sleep 0.5
done
for g in vm6 vm7; do
	eq "$g: its job done, no UDP checksum error" "$(glog $g udp-csumerr)" 0
done
eq "TCP vm7 -> vm6: every byte, as sent" "$(glog vm6 vm-tcp-in)" "1048576 $(glog vm7 blob)"
eq "TCP vm6 -> vm7: every byte, as sent" "$(glog vm7 vm-tcp-in)" "1048576 $(glog vm6 blob)"
sup2=$(ostat gso-super)
echo "vm6 <-> vm7: $((sup2 - sup1)) super-frames"
ok test "$((sup2 - sup1))" -ge 16
eq "UDP vm7 -> vm6, every datagram intact" "$(glog vm6 udp-vm-in)" 200
eq "UDP vm6 -> vm7, every datagram intact" "$(glog vm7 udp-vm-in)" 200
eq "UDP ext -> vm6, every datagram intact" "$(glog vm6 udp-ext-in)" 200
eq "UDP vm6 -> ext sent" "$(glog vm6 udp-ext-out)" done
wait "$UDPSRV" || true
eq "UDP vm6 -> ext, every datagram intact" "$(cat "$T/udp-in")" 200
# every hop took the super-frames and partial checksums whole
eq "offloads: segments made in software" "$(( $(ostat gso-segments) - seg0 ))" 0
eq "offloads: checksums completed in software" "$(( $(ostat csum-completed) - cc0 ))" 0
sleep 1
for g in vm6 vm7; do
	eq "$g: no TCP checksum error" "$(glog $g csumerr)" 0
done
eq "offloads: no checksum error on the external host" "$(csum_errors "$NS_EXT")" "$ce0"
[ "$FAILS" -ne 0 ] && { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs; "$VMDQ" ctl --ctl "$T/ctl.sock" -j show stats; tail -n 8 "$T/vm6.log" "$T/vm7.log"; }
for p in $QPIDS; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
QPIDS=
kill -TERM "$SW_PID"; wait "$SW_PID" || true
SW_PID=
finish
