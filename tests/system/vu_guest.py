#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small vhost-user front-end for the hostile-guest system test.

It is a guest the test controls byte by byte: one queue pair, guest memory
in a memfd, split rings, and ways to lie that no real driver offers (a
descriptor outside memory, a loop, a read-only receive buffer, a transmit
length that lies, malformed messages).  Commands come one per line on stdin,
and each gets one line of answer on stdout:

  setup [address|loop|readonly]  negotiate, share memory, start both rings
                                 with 64 receive buffers (the first one bad)
  recv N HEX [SECONDS]           wait for N frames, each the frame HEX
  send N HEX [lie]               transmit N copies of HEX (lie: one chain
                                 whose length runs past guest memory)
  stop                           GET_VRING_BASE on both rings
  status                         GET_STATUS
  canary                         bytes no descriptor points at, unchanged?
  badmsg                         SET_VRING_NUM with a 4-byte payload
  hugemsg                        a header that announces 4096 bytes
  reconnect                      a new connection (the old one closed)
  quit
"""
import mmap
import os
import select
import socket
import struct
import sys
import time

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, SET_VRING_ENABLE = 15, 16, 18
GET_STATUS = 40
NEED_REPLY = 0x8
F_VERSION_1, F_PROTOCOL_FEATURES = 32, 30
PF_REPLY_ACK, PF_STATUS = 3, 16
D_NEXT, D_WRITE = 1, 2

NUM = 256                      # ring size
GPA = 0x40000000               # guest-physical base of the one region
UVA = 0x7f0000000000           # the front-end's address of it
REGION = 1 << 20               # declared to the switch
MEMFD = 2 << 20                # the memfd is bigger: the rest is a canary
HDR = 12                       # virtio-net header (VERSION_1)
# ring layout in the region: (desc, avail, used) for RX (0) and TX (1)
RINGS = [(0x0000, 0x1000, 0x2000), (0x3000, 0x4000, 0x5000)]
RXBUF, TXBUF, BUFSZ, NBUF = 0x10000, 0x40000, 2048, 64
CANARY_IN = (0x80000, REGION)  # inside the region, no descriptor points here
CANARY_OUT = (REGION, MEMFD)   # past the region, the switch never maps it


class Guest:
    def __init__(self, path, mac):
        self.path, self.mac = path, bytes.fromhex(mac.replace(":", ""))
        self.fd = os.memfd_create("vu-guest")
        os.ftruncate(self.fd, MEMFD)
        self.mem = mmap.mmap(self.fd, MEMFD)
        self.sock = None
        self.connect()

    def connect(self):
        if self.sock:
            self.sock.close()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)

    # ---- messages ----
    def send(self, req, payload=b"", fds=(), flags=0x1, size=None):
        hdr = struct.pack("<III", req, flags, len(payload) if size is None else size)
        if fds:
            socket.send_fds(self.sock, [hdr + payload], list(fds))
        else:
            self.sock.sendall(hdr + payload)

    def reply(self, req):
        hdr = self.recv_exact(12)
        r, flags, size = struct.unpack("<III", hdr)
        body = self.recv_exact(size)
        if r != req or not flags & 0x4:
            raise RuntimeError(f"reply to {req}: request {r} flags {flags:#x}")
        return body

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise EOFError("the switch hung up")
            b += c
        return b

    def ask(self, req, payload=b"", fds=()):
        """A request with NEED_REPLY: the switch's 0 (done) or 1 (refused)."""
        self.send(req, payload, fds, flags=0x1 | NEED_REPLY)
        return struct.unpack("<Q", self.reply(req))[0]

    def get_u64(self, req):
        self.send(req)
        return struct.unpack("<Q", self.reply(req))[0]

    # ---- memory ----
    def off(self, gpa):
        return gpa - GPA

    def put_desc(self, ring, i, addr, length, flags, nxt=0):
        struct.pack_into("<QIHH", self.mem, RINGS[ring][0] + 16 * i, addr, length, flags, nxt)

    def offer(self, ring, head):
        avail = RINGS[ring][1]
        idx = self.avail_idx[ring]
        struct.pack_into("<H", self.mem, avail + 4 + 2 * (idx % NUM), head)
        self.avail_idx[ring] = (idx + 1) & 0xffff
        struct.pack_into("<H", self.mem, avail + 2, self.avail_idx[ring])

    def used_idx(self, ring):
        return struct.unpack_from("<H", self.mem, RINGS[ring][2] + 2)[0]

    def used_elem(self, ring, i):
        return struct.unpack_from("<II", self.mem, RINGS[ring][2] + 4 + 8 * (i % NUM))

    def kick(self, ring):
        os.eventfd_write(self.kicks[ring], 1)

    # ---- commands ----
    def setup(self, bad=None):
        self.mem[0:REGION] = bytes(REGION)
        for a, b in (CANARY_IN, CANARY_OUT):
            self.mem[a:b] = b"\xa5" * (b - a)
        feats = self.get_u64(GET_FEATURES)
        want = 1 << F_VERSION_1 | 1 << F_PROTOCOL_FEATURES
        if feats & want != want:
            return f"features {feats:#x} lack {want:#x}"
        self.send(SET_FEATURES, struct.pack("<Q", want))
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", pf & (1 << PF_REPLY_ACK | 1 << PF_STATUS)))
        if self.ask(SET_OWNER):
            return "SET_OWNER refused"
        table = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, REGION, UVA, 0)
        if self.ask(SET_MEM_TABLE, table, [self.fd]):
            return "SET_MEM_TABLE refused"
        self.kicks, self.calls, self.avail_idx, self.seen = [], [], [0, 0], [0, 0]
        for r in (0, 1):
            d, a, u = RINGS[r]
            steps = [(SET_VRING_NUM, struct.pack("<II", r, NUM)),
                     (SET_VRING_ADDR, struct.pack("<IIQQQQ", r, 0, UVA + d, UVA + u, UVA + a, 0)),
                     (SET_VRING_BASE, struct.pack("<II", r, 0))]
            for req, p in steps:
                if self.ask(req, p):
                    return f"request {req} for ring {r} refused"
            call, kick = os.eventfd(0, os.EFD_NONBLOCK), os.eventfd(0, os.EFD_NONBLOCK)
            self.calls.append(call)
            self.kicks.append(kick)
            if self.ask(SET_VRING_CALL, struct.pack("<Q", r), [call]):
                return "SET_VRING_CALL refused"
        for i in range(NBUF):
            self.put_desc(0, i, GPA + RXBUF + i * BUFSZ, BUFSZ, D_WRITE)
        if bad == "address":   # past the region: into the canary
            self.put_desc(0, 0, GPA + REGION + 0x100, BUFSZ, D_WRITE)
        elif bad == "loop":    # a chain that comes back to itself
            self.put_desc(0, 0, GPA + RXBUF, BUFSZ // 2, D_WRITE | D_NEXT, 0)
        elif bad == "readonly":
            self.put_desc(0, 0, GPA + RXBUF, BUFSZ, 0)
        elif bad:
            return f"unknown fault {bad}"
        for i in range(NBUF):
            self.offer(0, i)
        for r in (0, 1):
            if self.ask(SET_VRING_KICK, struct.pack("<Q", r), [self.kicks[r]]):
                return "SET_VRING_KICK refused"
            if self.ask(SET_VRING_ENABLE, struct.pack("<II", r, 1)):
                return "SET_VRING_ENABLE refused"
        self.kick(0)
        return "ok"

    def recv(self, n, frame, secs=5.0):
        frame = bytes.fromhex(frame)
        deadline, got, bad = time.monotonic() + secs, 0, 0
        while got < n and time.monotonic() < deadline:
            if self.used_idx(0) == self.seen[0]:
                time.sleep(0.001)
                continue
            head, length = self.used_elem(0, self.seen[0])
            self.seen[0] = (self.seen[0] + 1) & 0xffff
            a = RXBUF + head * BUFSZ
            if head >= NBUF or bytes(self.mem[a + HDR:a + length]) != frame:
                bad += 1
            got += 1
            self.offer(0, head)   # the buffer goes back
        self.kick(0)
        return f"got {got} bad {bad}"

    def send_frames(self, n, frame, lie=False):
        frame = bytes(HDR) + bytes.fromhex(frame)
        n0 = self.used_idx(1)
        for i in range(n):
            slot = i % NBUF
            a = TXBUF + slot * BUFSZ
            self.mem[a:a + len(frame)] = frame
            length = REGION if lie and i == 0 else len(frame)
            self.put_desc(1, slot, GPA + a, length, 0)
            self.offer(1, slot)
            if (i + 1) % NBUF == 0 or i + 1 == n:
                self.kick(1)
                deadline = time.monotonic() + 2
                while (self.used_idx(1) - n0) & 0xffff < i + 1 and time.monotonic() < deadline:
                    time.sleep(0.001)
        return f"used {(self.used_idx(1) - n0) & 0xffff}"

    def stop(self):
        bases = []
        for r in (0, 1):
            self.send(GET_VRING_BASE, struct.pack("<II", r, 0))
            bases.append(struct.unpack("<II", self.reply(GET_VRING_BASE))[1])
        return "bases " + " ".join(map(str, bases))

    def canary(self):
        for a, b in (CANARY_IN, CANARY_OUT):
            if self.mem[a:b] != b"\xa5" * (b - a):
                return f"changed in {a:#x}-{b:#x}"
        return "intact"


def main():
    g = Guest(sys.argv[1], sys.argv[2])
    print("connected", flush=True)
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        try:
            if w[0] == "setup":
                out = g.setup(w[1] if len(w) > 1 else None)
            elif w[0] == "recv":
                out = g.recv(int(w[1]), w[2], float(w[3]) if len(w) > 3 else 5.0)
            elif w[0] == "send":
                out = g.send_frames(int(w[1]), w[2], len(w) > 3 and w[3] == "lie")
            elif w[0] == "stop":
                out = g.stop()
            elif w[0] == "status":
                out = f"status {g.get_u64(GET_STATUS):#x}"
            elif w[0] == "canary":
                out = g.canary()
            elif w[0] == "badmsg":
                g.send(SET_VRING_NUM, struct.pack("<I", 0), flags=0x1 | NEED_REPLY)
                out = f"nack {struct.unpack('<Q', g.reply(SET_VRING_NUM))[0]}"
            elif w[0] == "hugemsg":
                g.send(SET_VRING_NUM, bytes(8), size=4096)
                r, _, _ = select.select([g.sock], [], [], 3)
                try:
                    out = "hung up" if r and not g.sock.recv(1) else "still open"
                except ConnectionResetError:
                    out = "hung up"
            elif w[0] == "reconnect":
                g.connect()
                out = "ok"
            elif w[0] == "quit":
                break
            else:
                out = f"unknown command {w[0]}"
        except (EOFError, OSError, RuntimeError, struct.error) as e:
            out = f"error {e}"
        print(out, flush=True)


if __name__ == "__main__":
    main()
