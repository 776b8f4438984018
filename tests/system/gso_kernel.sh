#!/bin/sh
# Software segmentation checked against the kernel's (issue 14): the same
# super-frames (TCPv4, TCPv6, VLAN- and QinQ-tagged, with options, CWR,
# FIN/PSH, IP id wrap; UDP too) cut by the kernel's GSO and by vmdq's
# vmdq_gso_segment, compared byte for byte (gso_kernel.py).  The kernel is
# made to segment in software on a veth with TSO, GSO and checksum offload
# off: the one place the project turns offloads off, since the point here
# is the kernel's own software path.
. "$(dirname "$0")/lib.sh"
: "${GSO_REF:?}"
NS=vqg$ID
netns "$NS"
[ -c /dev/net/tun ] || { echo "no /dev/net/tun: skipped"; exit 77; }
ip -n "$NS" link add vgbr$ID type bridge forward_delay 0 || { echo "no bridge: skipped"; exit 77; }
ip -n "$NS" link add vga$ID type veth peer name vgb$ID || { echo "no veth: skipped"; exit 77; }
ip -n "$NS" link set vga$ID master vgbr$ID up
ip -n "$NS" link set vgb$ID up
ip -n "$NS" link set vgbr$ID up
ip netns exec "$NS" ethtool -K vga$ID tso off gso off tx off >/dev/null 2>&1 ||
	{ echo "ethtool cannot turn the veth's offloads off: skipped"; exit 77; }
CHECKS=$((CHECKS + 1))
ip netns exec "$NS" /usr/bin/python3 "$(dirname "$0")/gso_kernel.py" vgbr$ID vga$ID "$GSO_REF" "$T" ||
	fail "vmdq's segments differ from the kernel's"
finish
