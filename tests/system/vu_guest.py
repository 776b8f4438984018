#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small vhost-user front-end for the hostile-guest system test.

It is a guest the test controls byte by byte: one queue pair, guest memory
in a memfd, split or packed rings, and ways to lie that no real driver
offers (a descriptor outside memory, a loop, a read-only receive buffer, a
transmit length that lies, malformed messages, a truncated memory file, a
pipe for an eventfd, floods).  Ring indexes and packed descriptor flags are
written with single aligned 16-bit stores (a memoryview cast to 'H'), as a
driver must: the switch may read them at any moment.  Commands come one per
line on stdin, and each gets one line of answer on stdout:

  setup [FAULT] [packed] [indirect] [offloads]
                                 negotiate, share memory, start both rings
                                 with 64 receive buffers (the first one bad);
                                 FAULT: address|loop|readonly (the first
                                 buffer), callpipe (ring 0's call fd is a
                                 pipe nobody reads), bigregion (the region
                                 declared 4x its file, the first buffer past
                                 the file's end); packed: packed rings;
                                 offloads: CSUM and HOST_TSO4/6 too
  recv N HEX [SECONDS]           wait for N frames, each the frame HEX
  lat N [SECONDS]                wait for N frames carrying the sender's
                                 CLOCK_MONOTONIC ns at byte 14: "got N max MS"
  send N HEX [lie|indirect]      transmit N copies of HEX (lie: one chain
                                 whose length runs past guest memory;
                                 indirect: each an indirect table of 32768
                                 descriptors, 32767 of them zero-length)
  sendvnet N KIND HEX            transmit N copies of HEX (at least 64 bytes)
                                 behind a hostile virtio-net header, KIND:
                                 gso0 (TSO with gso_size 0), csumrange
                                 (csum_start at the frame's end), csumoff
                                 (csum_offset past it), gsotype (type 7), ufo
                                 (type 3, never offered), nocsum (TSO without
                                 NEEDS_CSUM), ecn (TSO with ECN, not
                                 negotiated), superlong (HEX padded to 65563
                                 bytes, one byte over the limit)
  truncate BYTES                 the memory file cut to BYTES (the guest
                                 touches its memory no more)
  flip                           SET_FEATURES to the other ring layout
  renum N                        SET_VRING_NUM N on ring 0
  partial                        the first 6 bytes of a header, then silence
  reconnectloop N SECONDS        N times: a new connection, a partial header,
                                 SECONDS of silence
  flood N                        N SET_VRING_ENABLE messages at once
  hugemem                        SET_MEM_TABLE: 8 regions of 12 TiB each on a
                                 4 MiB memfd
  stop                           GET_VRING_BASE on both rings
  status                         GET_STATUS
  canary                         bytes no descriptor points at, unchanged?
  badmsg                         SET_VRING_NUM with a 4-byte payload
  hugemsg                        a header that announces 4096 bytes
  reconnect                      a new connection (the old one closed)
  log ok|small|pipe|socket|off   dirty-page logging (live migration), as QEMU
                                 turns it on: LOG_SHMFD, SET_LOG_BASE with a
                                 memfd log just large enough for the memory
                                 ("log taken"), then LOG_ALL and both rings'
                                 VHOST_VRING_F_LOG with their used rings'
                                 addresses; small: a log one byte too small,
                                 pipe/socket: a pipe or a socket as the log's
                                 fd ("log refused 1": answered and refused);
                                 off: SET_FEATURES without LOG_ALL
  dirty [clear]                  the log against the frames received since
                                 the last clear: "dirty missing M extra E",
                                 M pages that were written and are not marked
                                 (the buffers of those frames, the receive
                                 ring's used entries), E pages marked that no
                                 write of the switch touched (rings allowed);
                                 clear: zero the log (as QEMU's sync does)
  quit
"""
import fcntl
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
SET_LOG_BASE = 6
F_LOG_ALL, PF_LOG_SHMFD, VRING_F_LOG = 26, 1, 1
NEED_REPLY = 0x8
F_VERSION_1, F_PROTOCOL_FEATURES = 32, 30
PF_REPLY_ACK, PF_STATUS = 3, 16
D_NEXT, D_WRITE = 1, 2

F_INDIRECT, F_PACKED = 28, 34
F_CSUM, F_HOST_TSO4, F_HOST_TSO6 = 0, 11, 12
MAX_SUPER = 65562              # the largest super-frame vmdq takes
D_INDIRECT = 4
PK_AVAIL, PK_USED = 1 << 7, 1 << 15

NUM = 256                      # ring size
GPA = 0x40000000               # guest-physical base of the one region
UVA = 0x7f0000000000           # the front-end's address of it
REGION = 2 << 20               # declared to the switch
MEMFD = 3 << 20                # the memfd is bigger: the rest is a canary
INDIR = 0x100000               # an indirect table of 32768 descriptors
NINDIR = 32768
HDR = 12                       # virtio-net header (VERSION_1)
# ring layout in the region: (desc, avail, used) for RX (0) and TX (1)
RINGS = [(0x0000, 0x1000, 0x2000), (0x3000, 0x4000, 0x5000)]
RXBUF, TXBUF, BUFSZ, NBUF = 0x10000, 0x40000, 2048, 64
CANARY_IN = (0x80000, INDIR)   # inside the region, no descriptor points here
CANARY_OUT = (REGION, MEMFD)   # past the region, the switch never maps it


class Guest:
    def __init__(self, path, mac):
        self.path, self.mac = path, bytes.fromhex(mac.replace(":", ""))
        self.fd = os.memfd_create("vu-guest")
        os.ftruncate(self.fd, MEMFD)
        self.mem = mmap.mmap(self.fd, MEMFD)
        self.m16 = memoryview(self.mem).cast("H")   # aligned 16-bit stores
        self.packed = False
        self.sock = None
        self.log = None                # the dirty log's mapping (log ok)
        self.got_heads = set()         # receive heads filled since "dirty clear"
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

    def w16(self, off, v):
        self.m16[off >> 1] = v & 0xffff     # one aligned 16-bit store

    def r16(self, off):
        return self.m16[off >> 1]           # one aligned 16-bit load

    def put_desc(self, ring, i, addr, length, flags, nxt=0):
        """Split: the descriptor (published later through the avail ring).
        Packed: kept until offer() writes it into the ring."""
        if self.packed:
            self.pk_desc[ring][i] = (addr, length, flags)
        else:
            struct.pack_into("<QIHH", self.mem, RINGS[ring][0] + 16 * i, addr, length, flags, nxt)

    def offer(self, ring, head):
        if self.packed:
            # the next slot: address, length, id; then its flags in one store
            addr, length, flags = self.pk_desc[ring][head]
            slot, wrap = self.avail_idx[ring], self.pk_wrap[ring]
            d = RINGS[ring][0] + 16 * slot
            struct.pack_into("<QIH", self.mem, d, addr, length, head)
            self.w16(d + 14, flags | (PK_AVAIL if wrap else PK_USED))
            slot += 1
            if slot == NUM:
                slot, self.pk_wrap[ring] = 0, wrap ^ 1
            self.avail_idx[ring] = slot
            return
        avail = RINGS[ring][1]
        idx = self.avail_idx[ring]
        self.w16(avail + 4 + 2 * (idx % NUM), head)
        self.avail_idx[ring] = (idx + 1) & 0xffff
        self.w16(avail + 2, self.avail_idx[ring])

    def pop_used(self, ring):
        """The next used entry (head, length), or None."""
        if self.packed:
            slot, wrap = self.seen[ring], self.pk_used_wrap[ring]
            d = RINGS[ring][0] + 16 * slot
            f = self.r16(d + 14)
            if bool(f & PK_AVAIL) != bool(wrap) or bool(f & PK_USED) != bool(wrap):
                return None
            length, head = struct.unpack_from("<IH", self.mem, d + 8)
            slot += 1
            if slot == NUM:
                slot, self.pk_used_wrap[ring] = 0, wrap ^ 1
            self.seen[ring] = slot
            self.nused[ring] += 1
            return head, length
        if self.used_idx(ring) == self.seen[ring]:
            return None
        e = self.used_elem(ring, self.seen[ring])
        self.seen[ring] = (self.seen[ring] + 1) & 0xffff
        self.nused[ring] += 1
        return e

    def used_idx(self, ring):
        return self.r16(RINGS[ring][2] + 2)

    def used_elem(self, ring, i):
        return struct.unpack_from("<II", self.mem, RINGS[ring][2] + 4 + 8 * (i % NUM))

    def kick(self, ring):
        os.eventfd_write(self.kicks[ring], 1)

    # ---- commands ----
    def setup(self, *words):
        bad = None
        packed = "packed" in words
        for w in words:
            if w not in ("packed", "indirect", "offloads"):
                bad = w
        self.packed = False        # the memory is written plainly first
        self.mem[0:REGION] = bytes(REGION)
        for a, b in (CANARY_IN, CANARY_OUT):
            self.mem[a:b] = b"\xa5" * (b - a)
        feats = self.get_u64(GET_FEATURES)
        want = 1 << F_VERSION_1 | 1 << F_PROTOCOL_FEATURES
        if packed:
            want |= 1 << F_PACKED
        if "indirect" in words:
            want |= 1 << F_INDIRECT
        if "offloads" in words:
            want |= 1 << F_CSUM | 1 << F_HOST_TSO4 | 1 << F_HOST_TSO6
        if feats & want != want:
            return f"features {feats:#x} lack {want:#x}"
        self.features = want
        self.send(SET_FEATURES, struct.pack("<Q", want))
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", pf & (1 << PF_REPLY_ACK | 1 << PF_STATUS)))
        if self.ask(SET_OWNER):
            return "SET_OWNER refused"
        size = 4 * MEMFD if bad == "bigregion" else REGION
        table = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, size, UVA, 0)
        if self.ask(SET_MEM_TABLE, table, [self.fd]):
            return "SET_MEM_TABLE refused"
        self.packed = packed
        self.kicks, self.calls, self.avail_idx, self.seen = [], [], [0, 0], [0, 0]
        self.nused, self.pk_wrap, self.pk_used_wrap = [0, 0], [1, 1], [1, 1]
        self.pk_desc = [{}, {}]
        note = ""
        for r in (0, 1):
            d, a, u = RINGS[r]
            steps = [(SET_VRING_NUM, struct.pack("<II", r, NUM)),
                     (SET_VRING_ADDR, struct.pack("<IIQQQQ", r, 0, UVA + d, UVA + u, UVA + a, 0)),
                     (SET_VRING_BASE, struct.pack("<II", r, 0x8000 if packed else 0))]
            for req, p in steps:
                if self.ask(req, p):
                    return f"request {req} for ring {r} refused"
            call, kick = os.eventfd(0, os.EFD_NONBLOCK), os.eventfd(0, os.EFD_NONBLOCK)
            if bad == "callpipe" and r == 0:
                rd, call = os.pipe()
                self.pipe_rd = rd        # held, never read
                fcntl.fcntl(call, 1031, 4096)   # F_SETPIPE_SZ: 512 calls fill it
            self.calls.append(call)
            self.kicks.append(kick)
            if self.ask(SET_VRING_CALL, struct.pack("<Q", r), [call]):
                if bad != "callpipe":
                    return "SET_VRING_CALL refused"
                note = " (call fd refused)"
        for i in range(NBUF):
            self.put_desc(0, i, GPA + RXBUF + i * BUFSZ, BUFSZ, D_WRITE)
        if bad == "address":   # past the region: into the canary
            self.put_desc(0, 0, GPA + REGION + 0x100, BUFSZ, D_WRITE)
        elif bad == "loop":    # a chain that comes back to itself
            self.put_desc(0, 0, GPA + RXBUF, BUFSZ // 2, D_WRITE | D_NEXT, 0)
        elif bad == "readonly":
            self.put_desc(0, 0, GPA + RXBUF, BUFSZ, 0)
        elif bad == "bigregion":   # inside the declared region, past the file
            self.put_desc(0, 0, GPA + 2 * MEMFD, BUFSZ, D_WRITE)
        elif bad and bad != "callpipe":
            return f"unknown fault {bad}"
        for i in range(NBUF):
            self.offer(0, i)
        for r in (0, 1):
            if self.ask(SET_VRING_KICK, struct.pack("<Q", r), [self.kicks[r]]):
                return "SET_VRING_KICK refused"
            if self.ask(SET_VRING_ENABLE, struct.pack("<II", r, 1)):
                return "SET_VRING_ENABLE refused"
        self.kick(0)
        return "ok" + note

    def recv(self, n, frame, secs=5.0):
        frame = bytes.fromhex(frame)
        deadline, got, bad = time.monotonic() + secs, 0, 0
        while got < n and time.monotonic() < deadline:
            e = self.pop_used(0)
            if e is None:
                time.sleep(0.001)
                continue
            head, length = e
            a = RXBUF + head * BUFSZ
            if head >= NBUF or bytes(self.mem[a + HDR:a + length]) != frame:
                bad += 1
            self.got_heads.add(head)
            got += 1
            self.offer(0, head % NBUF)   # the buffer goes back
        self.kick(0)
        return f"got {got} bad {bad}"

    def lat(self, n, secs=10.0):
        """Frames stamped by the sender (CLOCK_MONOTONIC ns, bytes 14-21):
        how many came, and the longest any took (ms)."""
        deadline, got, worst = time.monotonic() + secs, 0, 0
        while got < n and time.monotonic() < deadline:
            e = self.pop_used(0)
            if e is None:
                time.sleep(0.0002)
                continue
            now = time.monotonic_ns()
            head, length = e
            a = RXBUF + (head % NBUF) * BUFSZ + HDR
            if head < NBUF and length >= HDR + 22 and self.mem[a:a + 6] == self.mac:
                sent = struct.unpack_from("<Q", self.mem, a + 14)[0]
                worst = max(worst, now - sent)
                got += 1
            self.offer(0, head % NBUF)
            if got % 16 == 0:
                self.kick(0)
        self.kick(0)
        return f"got {got} max {worst // 1000000}"

    def send_frames(self, n, frame, how=None, vnet=None):
        frame = (vnet or bytes(HDR)) + bytes.fromhex(frame)
        n0 = self.nused[1]
        if how == "indirect":
            # 32767 zero-length pieces, then the frame: one table per chain
            t = INDIR
            for i in range(NINDIR - 1):
                struct.pack_into("<QIHH", self.mem, t + 16 * i, GPA + TXBUF, 0, D_NEXT, i + 1)
            struct.pack_into("<QIHH", self.mem, t + 16 * (NINDIR - 1), GPA + TXBUF,
                             len(frame), 0, 0)
        for i in range(n):
            slot = i % NBUF
            # a super-frame takes the whole transmit area, one at a time
            a = TXBUF + (0 if len(frame) > BUFSZ else slot * BUFSZ)
            self.mem[a:a + len(frame)] = frame
            length = REGION if how == "lie" and i == 0 else len(frame)
            if how == "indirect":
                self.put_desc(1, slot, GPA + INDIR, 16 * NINDIR, D_INDIRECT)
            else:
                self.put_desc(1, slot, GPA + a, length, 0)
            self.offer(1, slot)
            if (i + 1) % NBUF == 0 or i + 1 == n:
                self.kick(1)
                deadline = time.monotonic() + 2
                while self.nused[1] - n0 < i + 1 and time.monotonic() < deadline:
                    if self.pop_used(1) is None:
                        time.sleep(0.001)
        return f"used {self.nused[1] - n0}"

    def send_vnet(self, n, kind, frame):
        """N frames behind a virtio-net header that lies (little-endian:
        flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
        num_buffers).  TSO over IPv4 is type 1, NEEDS_CSUM flag 1."""
        ln = len(bytes.fromhex(frame))
        hdrs = {
            "gso0": (1, 1, 54, 0, 34, 16),
            "csumrange": (1, 0, 0, 0, ln, 0),
            "csumoff": (1, 0, 0, 0, 34, ln),
            "gsotype": (1, 7, 54, 1448, 34, 16),
            "ufo": (1, 3, 42, 1448, 34, 6),
            "nocsum": (0, 1, 54, 1448, 0, 0),
            "ecn": (1, 0x81, 54, 1448, 34, 16),
            "superlong": (0, 0, 0, 0, 0, 0),
        }
        if kind not in hdrs:
            return f"unknown kind {kind}"
        if kind == "superlong":
            frame = frame + "00" * (MAX_SUPER + 1 - ln)
        return self.send_frames(n, frame, vnet=struct.pack("<BBHHHHH", *hdrs[kind], 0))

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


    def partial(self):
        self.sock.sendall(struct.pack("<III", GET_FEATURES, 1, 0)[:6])
        return "ok"

    def reconnectloop(self, n, secs):
        for _ in range(n):
            self.connect()
            self.partial()
            time.sleep(secs)
        return "ok"

    def flood(self, n):
        msg = struct.pack("<IIIII", SET_VRING_ENABLE, 1, 8, 0, 1)
        self.sock.sendall(msg * n)
        return "sent"

    def hugemem(self):
        fd = os.memfd_create("vu-huge")
        os.ftruncate(fd, 4 << 20)
        size = 12 << 40
        table = struct.pack("<II", 8, 0) + b"".join(
            struct.pack("<QQQQ", GPA + i * size, size, UVA + i * size, 0) for i in range(8))
        try:
            return f"nack {self.ask(SET_MEM_TABLE, table, [fd] * 8)}"
        finally:
            os.close(fd)

    def log_cmd(self, kind):
        if kind == "off":
            return f"nack {self.ask(SET_FEATURES, struct.pack('<Q', self.features))}"
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        self.send(SET_PROTOCOL_FEATURES, struct.pack(
            "<Q", pf & (1 << PF_REPLY_ACK | 1 << PF_STATUS | 1 << PF_LOG_SHMFD)))
        pages = (GPA + REGION + 4095) // 4096
        size = (pages + 7) // 8            # covers every page of the region
        if kind == "small":
            size -= 1
        held = []
        if kind == "pipe":
            rd, fd = os.pipe()
            held = [rd, fd]
        elif kind == "socket":
            a, b = socket.socketpair()
            held, fd = [a, b], a.fileno()
        else:
            fd = os.memfd_create("vu-log")
            os.ftruncate(fd, size)
            held = [fd]
        try:
            self.send(SET_LOG_BASE, struct.pack("<QQ", size, 0), [fd])
            body = self.reply(SET_LOG_BASE)   # answered, whatever became of it
            if body:
                return f"log refused {struct.unpack('<Q', body)[0]}"
            if kind != "ok":
                return "log taken (a lie)"
            self.log = mmap.mmap(fd, size)
            self.logsize = size
        finally:
            for h in held:
                if isinstance(h, int):
                    os.close(h)
                else:
                    h.close()
        if self.ask(SET_FEATURES, struct.pack("<Q", self.features | 1 << F_LOG_ALL)):
            return "LOG_ALL refused"
        for r in (0, 1):
            d, a, u = RINGS[r]
            if self.ask(SET_VRING_ADDR, struct.pack("<IIQQQQ", r, VRING_F_LOG, UVA + d, UVA + u,
                                                    UVA + a, GPA + u)):
                return f"ring {r}'s log address refused"
        return "log taken"

    def dirty(self, clear=False):
        if self.log is None:
            return "no log"
        if clear:
            self.log[:] = bytes(self.logsize)
            self.got_heads = set()
            return "cleared"
        page = lambda off: (GPA + off) // 4096
        marked = {i * 8 + b for i, v in enumerate(self.log[:]) if v for b in range(8)
                  if v >> b & 1}
        # written: the buffers of the frames received, the receive ring's
        # used entries (packed: its descriptor ring)
        need = {page(RXBUF + h * BUFSZ + k) for h in self.got_heads for k in (0, BUFSZ - 1)}
        rx_used = RINGS[0][0] if self.packed else RINGS[0][2]
        if self.got_heads:
            need.add(page(rx_used))
        # may be marked too: either ring's used area and flags
        rings = {page(off) for off in range(0, RINGS[1][2] + 0x1000, 4096)}
        return f"dirty missing {len(need - marked)} extra {len(marked - need - rings)}"

    def flip(self):
        return f"nack {self.ask(SET_FEATURES, struct.pack('<Q', self.features ^ 1 << F_PACKED))}"

    def renum(self, n):
        return f"nack {self.ask(SET_VRING_NUM, struct.pack('<II', 0, n))}"


def main():
    g = Guest(sys.argv[1], sys.argv[2])
    print("connected", flush=True)
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        try:
            if w[0] == "setup":
                out = g.setup(*w[1:])
            elif w[0] == "recv":
                out = g.recv(int(w[1]), w[2], float(w[3]) if len(w) > 3 else 5.0)
            elif w[0] == "send":
                out = g.send_frames(int(w[1]), w[2], w[3] if len(w) > 3 else None)
            elif w[0] == "sendvnet":
                out = g.send_vnet(int(w[1]), w[2], w[3])
            elif w[0] == "lat":
                out = g.lat(int(w[1]), float(w[2]) if len(w) > 2 else 10.0)
            elif w[0] == "truncate":
                os.ftruncate(g.fd, int(w[1]))
                out = "ok"
            elif w[0] == "flip":
                out = g.flip()
            elif w[0] == "renum":
                out = g.renum(int(w[1]))
            elif w[0] == "partial":
                out = g.partial()
            elif w[0] == "reconnectloop":
                out = g.reconnectloop(int(w[1]), float(w[2]))
            elif w[0] == "flood":
                out = g.flood(int(w[1]))
            elif w[0] == "hugemem":
                out = g.hugemem()
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
            elif w[0] == "log":
                out = g.log_cmd(w[1])
            elif w[0] == "dirty":
                out = g.dirty(len(w) > 1 and w[1] == "clear")
            elif w[0] == "quit":
                break
            else:
                out = f"unknown command {w[0]}"
        except (EOFError, OSError, RuntimeError, struct.error) as e:
            out = f"error {e}"
        print(out, flush=True)


if __name__ == "__main__":
    main()
