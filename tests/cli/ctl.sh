#!/bin/sh
# vmdq ctl against a running switch (capture vifs, no root needed).
. "$(dirname "$0")/lib.sh"
cd "$T"
S="$T/ctl.sock"
printf 'device profile 82576\nfilter add mac 02:00:00:00:00:09 queue 5\n' > sw.conf
printf '02:ee:00:00:00:01 02:00:00:00:00:01 repeat 3\n' > vm1.txt
"$MKPCAP" vm1.txt vm1.pcap
"$VMDQ" switch -c sw.conf --ctl "$S" -s stats.json 2> log &
SW=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
ctl() { "$VMDQ" ctl --ctl "$S" "$@"; }
eq "socket mode" "$(stat -c %a "$S")" 600
ctl show filters > out
contains "show filters" out "     1 mac   02:00:00:00:00:09     -     5"
eq "filter add prints id" "$(ctl filter add mac 02:00:00:00:00:0a vlan 7 queue 6)" 2
set +e
ctl filter add mac 02:00:00:00:00:0a vlan 7 queue 6 2> err; eq "duplicate exit" $? 1
contains "duplicate reason" err "vmdq ctl: error: filter add: a filter for this MAC and VLAN already exists"
ctl filter del 99 2> err; eq "del unknown exit" $? 1
contains "del unknown" err "no filter with id 99"
ctl frobnicate 2> err; eq "unknown command exit" $? 1
contains "unknown command" err "unknown command 'frobnicate'"
ctl show nothing 2> err; eq "show unknown exit" $? 1
ctl at 3 device vmdq on 2> err; eq "no at" $? 1
"$VMDQ" ctl --ctl "$T/nope.sock" show vifs 2> err; eq "unreachable exit" $? 1
contains "unreachable" err "is 'vmdq switch' running?"
"$VMDQ" ctl 2> err; eq "no command" $? 2
set -e
eq "json filters" "$(ctl -j show filters | jq -c '.[1]')" '{"id":2,"kind":"pair","mac":"02:00:00:00:00:0a","vlan":7,"queue":6}'
# vifs come and go at runtime
ctl vif vm1 pcap vm1.pcap vm1-out.pcap mac 02:00:00:00:00:01
eq "vif listed" "$(ctl -j show vifs | jq -r '.[0] | "\(.name) \(.backend) \(.mac) \(.queue)"')" "vm1 pcap 02:00:00:00:00:01 1"
eq "vif filter" "$(ctl -j show filters | jq -c '.[2] | [.kind, .mac, .queue]')" '["mac","02:00:00:00:00:01",1]'
eq "vif fdb" "$(ctl -j show fdb | jq -c '.[] | select(.port == "vm1") | [.mac, .vlan, .static]')" '["02:00:00:00:00:01",0,true]'
ctl show queues > out
contains "queue owner" out "    1 vm1"
sleep 0.3
eq "frames from the vm counted" "$(ctl -j show vifs | jq '.[0].from_vm')" 3
set +e
ctl vif vm1 pcap vm1.pcap x.pcap mac 02:00:00:00:00:02 2> err; eq "dup vif exit" $? 1
contains "dup vif" err "vif vm1: exists already"
ctl vif vm2 pcap vm1.pcap x.pcap 2> err; eq "vif without mac" $? 1
# one command language: a bad vif line gives the same reason in a config
# file (FILE:LINE: reason) as on the control socket (error: reason), and
# leaves nothing behind
nf=$(ctl -j show filters | jq length)
for case in "vlan 5000|vif vm9: vlan: '5000' is not in 1..4094" \
	    "frob|vif vm9: unknown backend 'frob'" \
	    "queues 2|vif vm9: queues 2: a pcap vif has at most 1 queue pair"; do
	what=${case%%|*} reason=${case#*|}
	case $what in
	frob) line="vif vm9 frob x mac 02:00:00:00:00:09" ;;
	*) line="vif vm9 pcap vm1.pcap x.pcap mac 02:00:00:00:00:09 $what" ;;
	esac
	printf 'device profile 82576\n%s\n' "$line" > badvif.conf
	"$VMDQ" switch -c badvif.conf --ctl "$T/bad.sock" 2> err; eq "bad vif ($what) in a config: exit" $? 2
	eq "bad vif ($what) in a config: FILE:LINE: reason" "$(cat err)" "badvif.conf:2: $reason"
	ctl $line 2> err; eq "bad vif ($what) on the socket: exit" $? 1
	eq "bad vif ($what) on the socket: the same reason" "$(cat err)" "vmdq ctl: error: $reason"
	eq "bad vif ($what) on the socket: no vif left" "$(ctl -j show vifs | jq -c '[.[].name]')" '["vm1"]'
	eq "bad vif ($what) on the socket: no filter left" "$(ctl -j show filters | jq length)" "$nf"
done
set -e
ctl vif del vm1
eq "vif gone" "$(ctl -j show vifs | jq length)" 0
eq "its filter gone" "$(ctl -j show filters | jq length)" 2
# a client that sends garbage, or goes away mid-command, does not hurt it
/usr/bin/python3 - "$S" <<'P'
import socket, sys
for payload in (b"\x00\xff garbage", b"device vmdq", b"x" * 10000):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(payload); s.close()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x01\x02\n"); print(s.recv(100)); s.close()
P
eq "still serving" "$(ctl -j show filters | jq length)" 2
# a batch (-f FILE): one connection; every line checked first, then run in
# order up to the first refused; outputs in order on stdout
nf=$(ctl -j show filters | jq length)
printf 'filter add mac 02:00:00:00:01:01 queue 6\n# a comment\n\nvif vm3 pcap vm1.pcap vm3-out.pcap mac 02:00:00:00:00:03\nfilter add mac 02:00:00:00:01:02 vlan 3 queue 7\nvif vm4 pcap vm1.pcap vm4-out.pcap mac 02:00:00:00:00:04\n' > b1
ctl -f b1 > out
ids() { ctl -j show filters | jq -r ".[] | select(.mac == \"$1\") | .id"; }
eq "batch: the filters' ids, in order" "$(tr '\n' ' ' < out)" "$(ids 02:00:00:00:01:01) $(ids 02:00:00:00:01:02) "
eq "batch: its vifs" "$(ctl -j show vifs | jq -c '[.[].name]')" '["vm3","vm4"]'
eq "batch: its filters (and the vifs')" "$(ctl -j show filters | jq length)" $((nf + 4))
nf=$((nf + 4))
set +e
printf 'filter add mac 02:00:00:00:01:03 queue 6\nfrobnicate\n' > b2
ctl -f b2 > out 2> err; eq "batch with a bad line: exit" $? 1
eq "batch with a bad line: FILE:LINE: reason" "$(cat err)" "b2:2: unknown command 'frobnicate' (expected device, filter, queue, at, uplink or vif)"
eq "batch with a bad line: nothing run" "$(ctl -j show filters | jq length)" "$nf"
printf 'filter add mac 02:00:00:00:01:04 queue 6\nvif del vm3\nfilter add mac 02:00:00:00:01:01 queue 6\nvif del vm4\n' |
	ctl -f - > out 2> err; eq "batch refused at line 3: exit" $? 1
eq "batch refused at line 3: the reason" "$(cat err)" "<stdin>:3: filter add: a filter for this MAC already exists"
eq "batch refused at line 3: what ran before" "$(cat out)" "$(ids 02:00:00:00:01:04)"
eq "batch refused at line 3: lines 1-2 done, 4 not" "$(ctl -j show vifs | jq -c '[.[].name]')" '["vm4"]'
eq "batch refused at line 3: filters" "$(ctl -j show filters | jq length)" "$nf"
python3 -c '
for i in range(4097): print("filter add mac 02:00:00:02:%02x:%02x queue 6" % (i >> 8, i & 255))' > b3
ctl -f b3 2> err; eq "batch of 4097: exit" $? 1
eq "batch of 4097: refused" "$(cat err)" "b3:4097: more than 4096 commands in one batch"
eq "batch of 4097: nothing run" "$(ctl -j show filters | jq length)" "$nf"
ctl -f b1 show vifs 2> err; eq "batch and a command: exit" $? 2
set -e
# 130 commands: three visits of the main worker (64 at a time)
python3 -c '
for i in range(1, 131): print("queue 0 weight %d" % i)' > b4
eq "batch of 130: no output" "$(ctl -f b4 | wc -c)" 0
eq "batch of 130: the last one ran last" "$(ctl -j show queues | jq '.[0].weight')" 130
ctl queue 0 weight 1
set +e
# the switch's own bounds: a batch past CTL_MAX_BATCH bytes, and one never
# finished (the deadline), are refused; the switch goes on serving
/usr/bin/python3 - "$S" <<'P2' > out
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b"-f\n" + b"#" * (1048576 + 10)); s.shutdown(socket.SHUT_WR)
except OSError:
    pass
print(s.recv(200).decode().split("\n")[0]); s.close()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"-f\nfilter add mac 02:00:00:00:01:05 queue 6\n")
s.settimeout(10); print(s.recv(200).decode().split("\n")[0]); s.close()
P2
set -e
eq "batch too long, batch never finished" "$(cat out | tr '\n' '|')" "error: batch too long (1048576 bytes at most)|error: request not finished within 5 s|"
eq "still serving, nothing of either run" "$(ctl -j show filters | jq length)" "$nf"
# one socket, one switch
set +e
"$VMDQ" switch -c sw.conf --ctl "$S" 2> err; eq "second switch exit" $? 1
contains "second switch" err "another switch is listening there"
set -e
kill -TERM $SW
set +e; wait $SW; rc=$?; set -e
eq "clean exit" "$rc" 0
eq "socket removed" "$(test -e "$S" && echo yes || echo no)" no
finish
