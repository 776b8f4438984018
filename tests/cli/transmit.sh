#!/bin/sh
# vmdq transmit: arbiters on a simulated wire, exact times and latencies.
. "$(dirname "$0")/lib.sh"

# Queue 1: four 1518-byte frames posted at t0.  Queue 2: one 64-byte frame
# posted at t0 too.  At 10 Gbit/s a 1518-byte frame holds the wire for
# (1518+4+20)*8/10e9 s = 1233.6 ns.
printf '02:00:00:00:00:09 02:00:00:00:00:01 len 1518 repeat 4 gap 0\n' > "$T/g.txt"
"$MKPCAP" "$T/g.txt" "$T/greedy.pcap"
# Both files start at the same instant t0 (mkpcap's epoch); ties in posting
# time go to the lower queue number.
printf '02:00:00:00:00:09 02:00:00:00:00:02 len 64\n' > "$T/l.txt"
"$MKPCAP" "$T/l.txt" "$T/light.pcap"
printf 'device arbiter fifo\n' > "$T/fifo.conf"
printf 'device arbiter rr\n' > "$T/rr.conf"

# fifo: the light frame (same posting time t0, higher queue) waits for all
# four greedy frames: starts at 4 x 1233.6 = 4934.4 ns -> 4934
"$VMDQ" transmit -c "$T/fifo.conf" -w "$T/fifo.pcap" -s "$T/fifo.json" 1="$T/greedy.pcap" 2="$T/light.pcap"
eq "fifo order" "$(tcpdump -r "$T/fifo.pcap" -n -e 2>/dev/null | grep -o 'length [0-9]*' | head -5 | tr '\n' ' ')" "length 1518 length 1518 length 1518 length 1518 length 64 "
eq "fifo q2 latency" "$(jq -c '.queues[1].latency_us' "$T/fifo.json")" '{"p50":4.934,"p99":4.934,"max":4.934}'
eq "fifo q1 latency" "$(jq -c '.queues[0].latency_us' "$T/fifo.json")" '{"p50":1.233,"p99":3.7,"max":3.7}'
eq "fifo stats" "$(jq -c '[.queues[] | [.queue, .frames, .bytes]]' "$T/fifo.json")" '[[1,4,6072],[2,1,64]]'
# transmission start times on the inputs' clock
t0=$(tcpdump -r "$T/greedy.pcap" --nano -tt -n 2>/dev/null | head -1 | cut -d' ' -f1 | tr -d .)
got=$(tcpdump -r "$T/fifo.pcap" --nano -tt -n 2>/dev/null | cut -d' ' -f1 | tr -d . | while read -r t; do echo $((t - t0)); done | tr '\n' ' ')
eq "fifo start times" "$got" "0 1233 2467 3700 4934 "

# rr: queue 1 goes first (lowest non-empty), then queue 2, then queue 1
"$VMDQ" transmit -c "$T/rr.conf" -w "$T/rr.pcap" -s "$T/rr.json" 1="$T/greedy.pcap" 2="$T/light.pcap"
eq "rr order" "$(tcpdump -r "$T/rr.pcap" -n -e 2>/dev/null | grep -o 'length [0-9]*' | head -5 | tr '\n' ' ')" "length 1518 length 64 length 1518 length 1518 length 1518 "
eq "rr q2 latency" "$(jq -c '.queues[1].latency_us' "$T/rr.json")" '{"p50":1.233,"p99":1.233,"max":1.233}'
got=$(tcpdump -r "$T/rr.pcap" --nano -tt -n 2>/dev/null | cut -d' ' -f1 | tr -d . | while read -r t; do echo $((t - t0)); done | tr '\n' ' ')
# 1518 ends at 1233.6; 64-byte frame holds (64+24)*8/10 = 70.4 ns
eq "rr start times" "$got" "0 1233 1304 2537 3771 "

# the rate matters: at 1g everything takes ten times as long
"$VMDQ" transmit -c "$T/fifo.conf" -w "$T/slow.pcap" -s "$T/slow.json" --rate 1g 1="$T/greedy.pcap" 2="$T/light.pcap"
eq "1g latency" "$(jq '.queues[1].latency_us.max' "$T/slow.json")" 49.344
"$VMDQ" transmit -c "$T/fifo.conf" -w "$T/bps.pcap" -s "$T/bps.json" --rate 1000000000 1="$T/greedy.pcap" 2="$T/light.pcap"
eq "rate in bits/s" "$(jq -c . "$T/bps.json")" "$(jq -c . "$T/slow.json")"

# drr with weights: queue 2 weight 3 sends three frames per queue-1 frame
printf '02:00:00:00:00:09 02:00:00:00:00:03 len 1000 repeat 12 gap 0\n' > "$T/a.txt"
"$MKPCAP" "$T/a.txt" "$T/a.pcap"
printf 'device arbiter drr\nqueue 2 weight 3\n' > "$T/drr.conf"
"$VMDQ" transmit -c "$T/drr.conf" -w "$T/drr.pcap" 1="$T/a.pcap" 2="$T/a.pcap"
eq "drr share" "$(tcpdump -r "$T/drr.pcap" -n -e 2>/dev/null | head -8 | grep -c '02:00:00:00:00:03')" 8
eq "drr frames" "$(npkts "$T/drr.pcap")" 24

# errors
set +e
"$VMDQ" transmit -c "$T/rr.conf" -w "$T/x.pcap" --rate fast 1="$T/a.pcap" 2>"$T/err"; rc=$?
eq "bad rate exit" "$rc" 2
contains "bad rate" "$T/err" "--rate: 'fast' is not a rate"
"$VMDQ" transmit -c "$T/rr.conf" -w "$T/x.pcap" 99="$T/a.pcap" 2>"$T/err"; rc=$?
eq "bad queue exit" "$rc" 2
contains "bad queue" "$T/err" "queue 99 is out of range (the device has 16 queues)"
"$VMDQ" transmit -c "$T/rr.conf" -w "$T/x.pcap" "$T/a.pcap" 2>"$T/err"; rc=$?
contains "missing Q=" "$T/err" "expected Q=IN.pcap"
printf 'at 3 device vmdq on\n' > "$T/at.conf"
"$VMDQ" transmit -c "$T/at.conf" -w "$T/x.pcap" 1="$T/a.pcap" 2>"$T/err"; rc=$?
contains "no at in transmit" "$T/err" "$T/at.conf:1: at: only vmdq sort runs a schedule"
set -e
finish
