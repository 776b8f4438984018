#!/bin/sh
# Hostile control clients (SPEC 4; issue 12 point 11): a client that never
# reads its reply, never finishes its line, sends a line far too long, or
# opens more connections than the switch keeps, does not keep another
# `vmdq ctl` from its answer (within 2 s here) nor SIGTERM from stopping the
# switch (within 2 s).  Capture ports only, no root needed.
. "$(dirname "$0")/lib.sh"
cd "$T"
S="$T/ctl.sock"
MAXC=16   # CTL_MAX_CLIENTS
# 3000 stations on the wire: `-j show fdb` is then a reply larger than a
# socket's send buffer, which a client that never reads leaves unsent
python3 -c '
for i in range(3000):
    print("ff:ff:ff:ff:ff:ff 02:aa:00:00:%02x:%02x" % (i >> 8, i & 255))' > many.txt
"$MKPCAP" many.txt many.pcap
printf 'device profile 82576\n' > sw.conf
start() {
	"$VMDQ" switch -c sw.conf --ctl "$S" 2> log &
	SW=$!
	for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
	"$VMDQ" ctl --ctl "$S" uplink up pcap many.pcap /dev/null
	for _ in $(seq 50); do
		[ "$("$VMDQ" ctl --ctl "$S" -j show fdb | jq length)" = 3000 ] && break
		sleep 0.1
	done
}
# running PID: the process exists and has not exited (a zombie has)
running() { [ -e /proc/$1 ] && ! grep -q '^[0-9]* ([^)]*) Z' /proc/$1/stat 2>/dev/null; }
# stop_within SECONDS: SIGTERM, then STOPPED=stopped if the switch is gone
# within SECONDS (else it is killed), RC its exit status
stop_within() {
	kill -TERM $SW
	for _ in $(seq $(($1 * 20))); do running $SW || break; sleep 0.05; done
	STOPPED=stopped
	if running $SW; then
		STOPPED=running
		kill -KILL $SW
	fi
	RC=0
	wait $SW || RC=$?
}
cat > lib.py <<'P'
import socket, subprocess, sys, time
S, VMDQ = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(S)
    return s
def honest():
    """vmdq ctl show vifs: 'answered' if it succeeded within 2 s"""
    t = time.time()
    try:
        p = subprocess.run([VMDQ, 'ctl', '--ctl', S, 'show', 'vifs'],
                           capture_output=True, timeout=8)
    except subprocess.TimeoutExpired:
        return 'no answer in 8 s'
    dt = time.time() - t
    if p.returncode != 0:
        return 'failed: %r' % p.stderr
    return 'answered' if dt < 2 else 'answered after %.1f s' % dt
def drain(s, limit=8):
    """everything the switch sends until it closes (or limit seconds)"""
    s.settimeout(limit)
    got = b''
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    return got
P
start
full=$("$VMDQ" ctl --ctl "$S" -j show fdb | wc -c)
CHECKS=$((CHECKS + 1))
[ "$full" -gt 300000 ] || fail "show fdb reply $full bytes: not larger than a socket buffer"

# 1. clients that never read a reply larger than the socket's buffer
cat > noread.py <<'P'
exec(open('lib.py').read())
hogs = [conn() for _ in range(3)]
for h in hogs:
    h.sendall(b'-j show fdb\n')
time.sleep(0.5)
print(honest())
# the switch gives a reply 5 s to be taken, then drops the client
time.sleep(6)
got = drain(hogs[0])
print('dropped' if 0 < len(got) < int(sys.argv[3]) else 'got %d bytes' % len(got))
P
python3 noread.py "$S" "$VMDQ" "$full" > out
eq "never-reading clients: another ctl answered" "$(sed -n 1p out)" answered
eq "never-reading client dropped after its reply's time" "$(sed -n 2p out)" dropped

# 2. a line that never ends: 100 bytes every 0.2 s, no newline
cat > slow.py <<'P'
exec(open('lib.py').read())
import threading
s = conn()
t0 = time.time()
def trickle():
    try:
        for _ in range(100):
            s.send(b'x' * 100)
            time.sleep(0.2)
    except OSError:
        pass
threading.Thread(target=trickle, daemon=True).start()
time.sleep(0.5)
print(honest())
got = drain(s, 10)
print(got.decode(errors='replace').strip(), 'in time' if time.time() - t0 < 7 else 'late')
P
python3 slow.py "$S" "$VMDQ" > out
eq "slow line: another ctl answered" "$(sed -n 1p out)" answered
eq "slow line: cut off after 5 s" "$(sed -n 2p out)" "error: request not finished within 5 s in time"

# 3. a 1 MiB line without a newline, the reply never read
cat > long.py <<'P'
exec(open('lib.py').read())
import threading
s = conn()
def flood():
    try:
        s.sendall(b'y' * (1 << 20))
    except OSError:
        pass
threading.Thread(target=flood, daemon=True).start()
time.sleep(0.3)
print(honest())
print(drain(s, 3).decode(errors='replace').strip())
P
python3 long.py "$S" "$VMDQ" > out
eq "1 MiB line: another ctl answered" "$(sed -n 1p out)" answered
eq "1 MiB line: refused" "$(sed -n 2p out)" "error: request too long"

# 4. more connections than the switch keeps: the one idle longest goes
cat > many.py <<'P'
exec(open('lib.py').read())
import select
N = int(sys.argv[3])
socks = []
for _ in range(N + 1):
    socks.append(conn())
    time.sleep(0.02)
time.sleep(0.5)
def closed():
    return [i for i, s in enumerate(socks) if select.select([s], [], [], 0)[0]]
print(closed())
print(honest())
time.sleep(0.2)
print(closed())
print(drain(socks[0], 1).decode(errors='replace').strip())
P
python3 many.py "$S" "$VMDQ" $MAXC > out
eq "$((MAXC + 1)) connections: the oldest closed" "$(sed -n 1p out)" "[0]"
eq "$((MAXC + 1)) connections: another ctl answered" "$(sed -n 2p out)" answered
eq "$((MAXC + 1)) connections: the next oldest made room for it" "$(sed -n 3p out)" "[0, 1]"
eq "$((MAXC + 1)) connections: the reason" "$(sed -n 4p out)" \
	"error: too many control connections ($MAXC at most): the one idle longest is closed"
eq "still serving" "$("$VMDQ" ctl --ctl "$S" -j show fdb | jq length)" 3000

# 5. SIGTERM while every kind of hostile client holds on
cat > hold.py <<'P'
exec(open('lib.py').read())
hold = []
for _ in range(3):
    s = conn(); s.sendall(b'-j show fdb\n'); hold.append(s)
for _ in range(3):
    hold.append(conn())
s = conn(); s.sendall(b'show vi'); hold.append(s)
time.sleep(0.3)
open('ready', 'w').close()
time.sleep(30)
P
python3 hold.py "$S" "$VMDQ" &
H=$!
for _ in $(seq 50); do [ -e ready ] && break; sleep 0.1; done
stop_within 2
eq "SIGTERM with hostile clients: stopped within 2 s" "$STOPPED" stopped
eq "SIGTERM with hostile clients: clean exit" "$RC" 0
kill $H 2>/dev/null || true
wait $H 2>/dev/null || true
eq "socket removed" "$(test -e "$S" && echo yes || echo no)" no
finish
