#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The kernel's software GSO against vmdq's (tests/system/gso_kernel.sh).

Run inside a network namespace holding bridge BR and veth IF (and its
peer), IF a port of BR with TSO, GSO and checksum offload off so the kernel
must cut and checksum every super-frame itself.  Each super-frame below is
written to a TAP with IFF_VNET_HDR (the virtio-net header saying NEEDS_CSUM
and the GSO type and size, as a VM's virtio-net would), the TAP a port of
BR; the bridge forwards the super-frame to IF, and the frames the kernel
then puts on IF are captured there (outgoing, the VLAN tag the kernel keeps
as metadata put back from PACKET_AUXDATA).  The same super-frames go through gso_ref (vmdq's
vmdq_off_check + vmdq_gso_segment) and the two sets of segments are compared
byte for byte.  No field is exempt: the kernel varies none of them for a
super-frame given this way (no FIXEDID, no ACCECN via a virtio-net header).

usage: gso_kernel.py BR IF GSO_REF WORKDIR
"""
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_OUTGOING = 4
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000

DST = bytes.fromhex("020000000002")
SRC = bytes.fromhex("020000000001")


def csum_fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def sum16(b):
    if len(b) % 2:
        b = b + b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def super_frame(v6=False, udp=False, tags=(), payload=4000, flags=0x18, ipid=1,
                seq=1000, df=True, tcpopt=b""):
    """A super-frame as a sender hands it over: lengths of the whole, the L4
    checksum field holding the (uncomplemented) pseudo-header sum."""
    eth = DST + SRC
    for tpid, vid in tags:
        eth += struct.pack("!HH", tpid, vid)
    eth += struct.pack("!H", 0x86DD if v6 else 0x0800)
    data = bytes((i * 7 + 3) & 0xFF for i in range(payload))
    proto = 17 if udp else 6
    if udp:
        l4 = struct.pack("!HHHH", 40000, 5201, 8 + payload, 0)
    else:
        doff = (20 + len(tcpopt)) // 4
        l4 = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 0x01020304, doff << 4, flags,
                         502, 0, 0) + tcpopt
    l4len = len(l4) + payload
    if v6:
        saddr = bytes.fromhex("fd000000000000000000000000000001")
        daddr = bytes.fromhex("fd000000000000000000000000000002")
        ip = struct.pack("!IHBB", 0x60000000, l4len, proto, 64) + saddr + daddr
        pseudo = sum16(saddr + daddr) + l4len + proto
    else:
        saddr = socket.inet_aton("10.99.0.1")
        daddr = socket.inet_aton("10.99.0.2")
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + l4len, ipid, 0x4000 if df else 0, 64,
                         proto, 0) + saddr + daddr
        ip = ip[:10] + struct.pack("!H", 0xFFFF - csum_fold(sum16(ip))) + ip[12:]
        pseudo = sum16(saddr + daddr) + l4len + proto
    co = 6 if udp else 16
    l4 = l4[:co] + struct.pack("!H", csum_fold(pseudo)) + l4[co + 2:]
    frame = eth + ip + l4 + data
    return frame, len(eth), len(eth) + len(ip), co


# name, frame arguments, mss, virtio gso_type
CASES = [
    ("tcpv4", dict(payload=4000, flags=0x18 | 0x01, ipid=7, seq=0xFFFFF000), 1448, 1),
    ("tcpv4-exact", dict(payload=4344, flags=0x10, ipid=0xFFFE), 1448, 1),
    ("tcpv4-opts-ecn", dict(payload=9000, flags=0x80 | 0x18, tcpopt=b"\x01\x01\x08\x0a" + bytes(8),
                            df=False), 1448, 0x81),
    ("tcpv4-64k", dict(payload=65535 - 20 - 20, flags=0x18), 1448, 1),
    ("tcpv6", dict(v6=True, payload=3001, flags=0x19), 1440, 4),
    ("tcpv6-cwr", dict(v6=True, payload=5000, flags=0x80 | 0x10), 1000, 0x84),
    ("tcpv4-vlan", dict(tags=((0x8100, 100),), payload=5000, flags=0x18, ipid=300), 1448, 1),
    ("tcpv6-vlan", dict(v6=True, tags=((0x8100, 7),), payload=2881, flags=0x18), 1440, 4),
    ("tcpv4-qinq", dict(tags=((0x88A8, 10), (0x8100, 20)), payload=3000, flags=0x18), 1400, 1),
    ("udpv4", dict(udp=True, payload=3500, ipid=40), 1200, 5),
    ("udpv6", dict(v6=True, udp=True, payload=2400), 1200, 5),
]


def pcap_write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)))
            f.write(fr)


def pcap_read(path):
    with open(path, "rb") as f:
        b = f.read()
    magic = struct.unpack("<I", b[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    out, at = [], 24
    while at < len(b):
        _, _, cap, _ = struct.unpack("<IIII", b[at:at + 16])
        out.append(b[at + 16:at + 16 + cap])
        at += 16 + cap
    return out


def field(seg, l3, l4, off, v6, udp):
    """The name of the header field at byte off of a segment."""
    if off < l3:
        return "ethernet/tags"
    if off < l4:
        o = off - l3
        names6 = [(4, "version/class/flow"), (6, "payload length"), (8, "next/hop"),
                  (40, "addresses")]
        names4 = [(1, "ihl"), (2, "tos"), (4, "total length"), (6, "id"), (8, "frag"),
                  (10, "ttl/proto"), (12, "header checksum"), (20, "addresses"),
                  (60, "options")]
        for end, n in (names6 if v6 else names4):
            if o < end:
                return ("ipv6 " if v6 else "ipv4 ") + n
    o = off - l4
    names = [(4, "ports"), (6, "length"), (8, "checksum")] if udp else \
        [(4, "ports"), (8, "seq"), (12, "ack"), (13, "doff"), (14, "flags"), (16, "window"),
         (18, "checksum"), (20, "urgent"), (60, "options")]
    for end, n in names:
        if o < end:
            return ("udp " if udp else "tcp ") + n
    return "payload"


def main():
    br, ifname, gso_ref, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    cap.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    cap.bind((ifname, ETH_P_ALL))
    cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    tap = os.open("/dev/net/tun", os.O_RDWR)
    ifr = fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"vgt%d" % os.getpid(),
                                                  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    tapname = ifr[:16].rstrip(b"\0").decode()
    subprocess.run(["ip", "link", "set", tapname, "master", br, "up"], check=True)
    time.sleep(0.2)

    frames, mss_args, kernel_segs, meta = [], [], [], []
    fails = 0
    for name, kw, mss, vtype in CASES:
        frame, l3, l4, co = super_frame(**kw)
        hdr = l4 + (8 if kw.get("udp") else 20 + len(kw.get("tcpopt", b"")))
        # the virtio-net header: a TAP takes it in host order (little-endian here)
        vh = struct.pack("<BBHHHH", 1, vtype, hdr, mss, l4, co)
        # drain anything already captured
        while select.select([cap], [], [], 0)[0]:
            cap.recv(70000)
        try:
            os.write(tap, vh + frame)
        except OSError as e:
            print("FAIL %s: write: %s" % (name, e))
            fails += 1
        segs = []
        deadline = time.time() + 2
        payload = len(frame) - hdr
        want = (payload + mss - 1) // mss
        while len(segs) < want and time.time() < deadline:
            if not select.select([cap], [], [], 0.2)[0]:
                continue
            data, anc, _, addr = cap.recvmsg(70000, 64)
            if addr[2] != PACKET_OUTGOING or data[:12] != DST + SRC:
                continue
            for level, typ, aux in anc:
                if level != SOL_PACKET or typ != PACKET_AUXDATA:
                    continue
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", aux[:20])
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            segs.append(data)
        if len(segs) != want:
            print("FAIL %s: the kernel sent %d segments, want %d" % (name, len(segs), want))
            fails += 1
        frames.append(frame)
        mss_args.append(str(mss))
        kernel_segs.append(segs)
        meta.append((name, l3, l4, kw.get("v6", False), kw.get("udp", False), want))

    pcap_write(work + "/super.pcap", frames)
    for i, segs in enumerate(kernel_segs):
        pcap_write(work + "/kernel-%d.pcap" % i, segs)
    r = subprocess.run([gso_ref, work + "/super.pcap", work + "/vmdq.pcap"] + mss_args)
    if r.returncode != 0:
        print("FAIL: gso_ref exited %d" % r.returncode)
        return 1
    ours = pcap_read(work + "/vmdq.pcap")
    at = 0
    checks = 0
    for (name, l3, l4, v6, udp, want), ksegs in zip(meta, kernel_segs):
        vsegs = ours[at:at + want]
        at += want
        if len(vsegs) != want:
            print("FAIL %s: vmdq made %d segments, want %d" % (name, len(vsegs), want))
            fails += 1
        for i, (k, v) in enumerate(zip(ksegs, vsegs)):
            checks += 1
            if k == v:
                continue
            fails += 1
            if len(k) != len(v):
                print("FAIL %s segment %d: kernel %d bytes, vmdq %d" % (name, i, len(k), len(v)))
                continue
            diff = [j for j in range(len(k)) if k[j] != v[j]]
            fields = sorted({field(k, l3, l4, j, v6, udp) for j in diff})
            print("FAIL %s segment %d: %d bytes differ, in: %s" % (name, i, len(diff),
                                                                 ", ".join(fields)))
        print("%s: %d segments compared" % (name, min(len(ksegs), len(vsegs))))
    if at != len(ours):
        print("FAIL: vmdq made %d segments in all, want %d" % (len(ours), at))
        fails += 1
    print("%d segments, %d failures" % (checks, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
