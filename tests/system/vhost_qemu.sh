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
# Then offloads (issue 14): a guest on vm6 (`offloads on`, `targeted off`)
# negotiates checksum offload and TSO both ways, takes 1 MiB of TCP from the
# external host and sends 1 MiB back, with every interface's offloads left
# on: both ends count no checksum error, and the guest's 1 MiB left it in
# super-frames (fewer frames than 1448-byte segments would take).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../scripts/qemu-guest.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 missing: skipped"; exit 77; }
[ -n "$(qemu_kernel)" ] && [ -x /bin/busybox ] || { echo "no kernel or busybox: skipped"; exit 77; }

QPID=
cleanup_qemu() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null || true
	cleanup
}
trap cleanup_qemu EXIT INT TERM
guest_rx() { grep -a "^guest: rx" "$T/qemu.log" | tail -1 | awk '{ print $3 }'; }

vhost_uplink
cat > "$T/sw.conf" <<EOF
uplink wire afpacket vqu$ID
vif vm5 vhost-user $T/vm5.sock mac 02:00:00:00:00:05 queue 1 queues 2
vif vm6 vhost-user $T/vm6.sock targeted off offloads on mac 02:00:00:00:00:06 queue 3
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

	# ping: 10 requests, 10 replies (TCG is slow: generous deadline)
	out=$(ip netns exec "$NS_EXT" ping -c 10 -i 0.2 -W 5 10.9.0.5 2>&1 || true)
	eq "ping through the switch" "$(echo "$out" | grep -o '[0-9]* received' | grep -o '[0-9]*')" 10

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

# ---- offloads: TCP both ways, checksums left to the guest and the kernel ----
ext_csumerr() {
	ip netns exec "$NS_EXT" awk '/^Tcp:/ { n++ } n == 2 && /^Tcp:/ { print $NF; exit }' /proc/net/snmp
}
glog() { grep -a "^guest: $1" "$T/qemu6.log" 2>/dev/null | tail -1 | tr -d '\r' | cut -d' ' -f3-; }
qemu_initrd "$T/initrd6.gz" 10.9.0.6 10.9.0.1 02:ee:00:00:00:01
rm -f "$T/qemu6.log"
qemu-system-x86_64 -nodefaults -display none -no-reboot -machine pc -smp 2 -m 256 \
	-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
	-kernel "$(qemu_kernel)" -initrd "$T/initrd6.gz" \
	-append "console=ttyS0 panic=-1 quiet" -serial "file:$T/qemu6.log" \
	-chardev "socket,id=c0,path=$T/vm6.sock" -netdev vhost-user,id=n0,chardev=c0 \
	-device "virtio-net-pci,netdev=n0,mac=02:00:00:00:00:06,vectors=0" \
	> "$T/qemu6.out" 2>&1 &
QPID=$!
for _ in $(seq 300); do
	[ -n "$(glog rx)" ] && break
	kill -0 "$QPID" 2>/dev/null || break
	sleep 0.5
done
[ -n "$(glog rx)" ] || { fail "the offload guest did not come up"; tail -n 20 "$T/qemu6.out" "$T/qemu6.log"; }
eq "offloads: QEMU connected, rings running" "$(vif_field vm6 .guest.state)" running
feats=$(glog features)
# CSUM 0, GUEST_CSUM 1, GUEST_TSO4 7, GUEST_TSO6 8, HOST_TSO4 11, HOST_TSO6 12, MRG_RXBUF 15
for b in 0 1 7 8 11 12 15; do
	eq "offloads: feature bit $b negotiated" "${feats:$b:1}" 1
done
ip -n "$NS_EXT" neigh replace 10.9.0.6 lladdr 02:00:00:00:00:06 dev eth0 nud permanent
ce0=$(ext_csumerr)
from0=$(vif_field vm6 .from_vm)
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
	[ -n "$(glog tcp-in)" ] && [ -n "$(glog tcp-out)" ] && break
	sleep 0.5
done
eq "offloads: TCP ext -> guest, every byte" "$(glog tcp-in)" 1048576
eq "offloads: TCP guest -> ext" "$(glog tcp-out)" done
wait "$SRV" || true
eq "offloads: TCP guest -> ext, every byte" "$(cat "$T/tcp-out")" 1048576
sleep 1
eq "offloads: no checksum error in the guest" "$(glog csumerr)" 0
eq "offloads: no checksum error on the external host" "$(ext_csumerr)" "$ce0"
sent=$(( $(vif_field vm6 .from_vm) - from0 ))
ok test "$sent" -lt 724   # 1 MiB in 1448-byte segments takes 725 frames
[ "$FAILS" -ne 0 ] && { "$VMDQ" ctl --ctl "$T/ctl.sock" -j show vifs; tail -n 5 "$T/qemu6.log"; }
kill -9 "$QPID" 2>/dev/null || true
wait "$QPID" 2>/dev/null || true
QPID=
kill -TERM "$SW_PID"; wait "$SW_PID" || true
SW_PID=
finish
