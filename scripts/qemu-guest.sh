# A throwaway Linux guest for QEMU, made from the host's Debian kernel and
# busybox (sourced by tests/system/vhost_qemu.sh; needs qemu-system-x86,
# linux-image-amd64, busybox-static).  qemu_initrd OUT IP [PEER PEERMAC]
# builds an initramfs whose /init loads virtio-net, gives eth0 address IP/24
# (and a permanent neighbour entry for PEER: no ARP of the guest's own) and
# prints "guest: rx N tx N" and "guest: csumerr N" (TCP's InCsumErrors) to
# the console every half second (the kernel itself answers ARP and ping).
# At boot it prints "guest: features BITS" (the virtio features its driver
# negotiated, bit 0 first) and listens on TCP port 5001: once a peer has
# sent it a stream and closed, it prints "guest: tcp-in BYTES" and then
# sends 1 MiB to PEER port 5002 (retrying each second until it is taken),
# "guest: tcp-out done".  EXTRA (optional, a directory) is copied into the
# initramfs as it is; its executable /job, if any, runs in the background
# once eth0 is up.  qemu_kernel prints the kernel's path.
qemu_kernel() { ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1; }
qemu_initrd() {
	local out=$1 ip=$2 peer=${3:-} peermac=${4:-} extra=${5:-} k d
	k=$(qemu_kernel)
	k=${k#/boot/vmlinuz-}
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/lib/modules"
	cp /bin/busybox "$d/bin/busybox"
	[ -z "$extra" ] || cp -a "$extra/." "$d/"
	for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		failover net_failover virtio_net; do
		f=$(find "/lib/modules/$k" -name "$m.ko*" | head -1)
		[ -n "$f" ] || { echo "qemu_initrd: no module $m for $k" >&2; rm -rf "$d"; return 1; }
		case $f in
		*.xz) xz -dc "$f" > "$d/lib/modules/$m.ko" ;;
		*.zst) zstd -qdc "$f" > "$d/lib/modules/$m.ko" ;;
		*) cp "$f" "$d/lib/modules/$m.ko" ;;
		esac
	done
	cat > "$d/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
	insmod /lib/modules/\$m.ko
done
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
ip link set lo up
ip link set eth0 up
ip addr add $ip/24 dev eth0
${peer:+arp -s $peer $peermac}
echo "guest: up \$(cat /sys/class/net/eth0/address) queues \$(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
echo "guest: features \$(cat /sys/class/net/eth0/device/features)"
[ -x /job ] && /job &
(
	echo "guest: tcp-in \$(nc -l -p 5001 | wc -c)"
	dd if=/dev/urandom of=/blob bs=65536 count=16 2>/dev/null
	${peer:+until nc $peer 5002 < /blob > /dev/null; do sleep 1; done; echo "guest: tcp-out done"}
) &
while true; do
	echo "guest: rx \$(cat /sys/class/net/eth0/statistics/rx_packets) tx \$(cat /sys/class/net/eth0/statistics/tx_packets)"
	echo "guest: csumerr \$(grep '^Tcp:' /proc/net/snmp | tail -1 | awk '{ print \$NF }')"
	sleep 0.5
done
EOF
	chmod +x "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
	rm -rf "$d"
}
