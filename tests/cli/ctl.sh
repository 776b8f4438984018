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
