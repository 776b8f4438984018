# A throwaway Linux guest for QEMU, made from the host's Debian kernel and
# busybox (sourced by tests/system/vhost_qemu.sh; needs qemu-system-x86,
# linux-image-amd64, busybox-static).  qemu_initrd OUT IP [PEER PEERMAC]
# builds an initramfs whose /init loads virtio-net, gives eth0 address IP/24
# (and a permanent neighbour entry for PEER: no ARP of the guest's own) and
# prints "guest: rx N tx N" to the console every half second (the kernel
# itself answers ARP and ping).  qemu_kernel prints the kernel's path.
qemu_kernel() { ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1; }
qemu_initrd() {
	local out=$1 ip=$2 peer=${3:-} peermac=${4:-} k d
	k=$(qemu_kernel)
	k=${k#/boot/vmlinuz-}
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/lib/modules"
	cp /bin/busybox "$d/bin/busybox"
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
while true; do
	echo "guest: rx \$(cat /sys/class/net/eth0/statistics/rx_packets) tx \$(cat /sys/class/net/eth0/statistics/tx_packets)"
	sleep 0.5
done
EOF
	chmod +x "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
	rm -rf "$d"
}
