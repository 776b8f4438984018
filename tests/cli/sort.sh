#!/bin/sh
# vmdq sort: outputs, trace, `at` schedule, config errors, bad inputs.
. "$(dirname "$0")/lib.sh"

# --- the bundled example: every count is known -----------------------------
"$VMDQ" sort -c "$SRCDIR/examples/demo.conf" -r "$BUILDDIR/demo.pcap" -w "$T/o" --trace
S="$T/o/stats.json"
eq frames "$(jq .frames "$S")" 104
eq queues "$(jq '.queues | length' "$S")" 16
eq q0 "$(jq -c '.queues[0]' "$S")" '{"queue":0,"frames":18,"bytes":1152,"missed":0,"errors":0}'
eq q1 "$(jq -c '.queues[1]' "$S")" '{"queue":1,"frames":42,"bytes":2688,"missed":0,"errors":0}'
eq q2 "$(jq -c '.queues[2]' "$S")" '{"queue":2,"frames":25,"bytes":1600,"missed":0,"errors":0}'
eq q3 "$(jq -c '.queues[3]' "$S")" '{"queue":3,"frames":15,"bytes":960,"missed":0,"errors":0}'
eq drops "$(jq -c .drops "$S")" '{"filtered":0,"runt":1,"oversize":2,"crc":0,"truncated":1}'
eq conservation "$(jq '[.queues[].frames, .queues[].missed, .drops[]] | add' "$S")" 104
for q in 0 1 2 3; do
	eq "rxq-$q.pcap frames" "$(npkts "$T/o/rxq-$q.pcap")" "$(jq ".queues[$q].frames" "$S")"
done
eq "no file for empty queue" "$(ls "$T/o" | grep -c 'rxq-4')" 0
# input timestamps kept (nanoseconds): first frame of VM2 is input frame 40
in_ts=$(tcpdump -r "$BUILDDIR/demo.pcap" --nano -tt -n 2>/dev/null | sed -n 41p | cut -d' ' -f1)
out_ts=$(tcpdump -r "$T/o/rxq-2.pcap" --nano -tt -n 2>/dev/null | head -1 | cut -d' ' -f1)
eq "timestamp kept" "$out_ts" "$in_ts"
# trace: one line per frame, in order, with the SPEC's keys
eq "trace lines" "$(wc -l < "$T/o/trace.jsonl")" 104
eq "trace order" "$(jq -s '[.[].frame] == [range(104)]' "$T/o/trace.jsonl")" true
eq "trace keys" "$(head -1 "$T/o/trace.jsonl" | jq -c 'keys_unsorted')" '["frame","queue","drop","match","filter","errors"]'
eq "trace vm1" "$(sed -n 1p "$T/o/trace.jsonl" | jq -c .)" '{"frame":0,"queue":1,"drop":null,"match":true,"filter":1,"errors":[]}'
eq "trace pair" "$(sed -n 66p "$T/o/trace.jsonl" | jq -c .)" '{"frame":65,"queue":3,"drop":null,"match":true,"filter":3,"errors":[]}'
eq "trace bcast" "$(sed -n 84p "$T/o/trace.jsonl" | jq -c .)" '{"frame":83,"queue":0,"drop":null,"match":false,"filter":null,"errors":[]}'
eq "trace oversize" "$(sed -n 101p "$T/o/trace.jsonl" | jq -c .)" '{"frame":100,"queue":null,"drop":"oversize","match":false,"filter":null,"errors":["oversize"]}'
eq "trace runt" "$(sed -n 103p "$T/o/trace.jsonl" | jq -c .)" '{"frame":102,"queue":null,"drop":"runt","match":false,"filter":null,"errors":["runt"]}'
eq "trace truncated" "$(sed -n 104p "$T/o/trace.jsonl" | jq -c .)" '{"frame":103,"queue":null,"drop":"truncated","match":false,"filter":null,"errors":["truncated"]}'

# --- `at K`: runs just before frame K ----------------------------------------
printf '02:00:00:00:00:01 02:aa:00:00:00:01 repeat 20\n' > "$T/f.txt"
"$MKPCAP" "$T/f.txt" "$T/vm1.pcap"
cat > "$T/at.conf" <<'C'
device vmdq on
device promisc on
filter add mac 02:00:00:00:00:01 queue 1
at 5 filter del 1
at 12 filter add mac 02:00:00:00:00:01 queue 2   # gets id 2
at 12 device default-queue 7                      # same K: file order
C
"$VMDQ" sort -c "$T/at.conf" -r "$T/vm1.pcap" -w "$T/at" --trace
eq "at: before" "$(jq -c 'select(.frame < 5) | .queue' "$T/at/trace.jsonl" | sort -u)" 1
eq "at: between" "$(jq -c 'select(.frame >= 5 and .frame < 12) | .queue' "$T/at/trace.jsonl" | sort -u)" 0
eq "at: after" "$(jq -c 'select(.frame >= 12) | [.queue, .filter]' "$T/at/trace.jsonl" | sort -u)" '[2,2]'

# --- config errors: FILE:LINE: reason, exit 2, nothing written ---------------
printf 'device vmdq on\n\n# comment\ndevice queues lots\n' > "$T/bad1.conf"
if "$VMDQ" sort -c "$T/bad1.conf" -r "$T/vm1.pcap" -w "$T/bad1" 2> "$T/err"; then fail "bad1 accepted"; fi
contains "syntax error line" "$T/err" "$T/bad1.conf:4: device queues: 'lots' is not a number"
eq "nothing written (syntax)" "$(test -e "$T/bad1" && echo yes || echo no)" no
printf 'device profile 82575\nfilter add mac 02:00:00:00:00:01 queue 1\nfilter add mac 02:00:00:00:00:01 queue 2\n' > "$T/bad2.conf"
set +e; "$VMDQ" sort -c "$T/bad2.conf" -r "$T/vm1.pcap" -w "$T/bad2" 2> "$T/err"; rc=$?; set -e
eq "exit status" "$rc" 2
contains "duplicate line" "$T/err" "$T/bad2.conf:3: filter add: a filter for this MAC already exists"
eq "nothing written (semantic)" "$(test -e "$T/bad2" && echo yes || echo no)" no
printf 'device vmdq on\nat 3 filter del 9\n' > "$T/bad3.conf"
if "$VMDQ" sort -c "$T/bad3.conf" -r "$T/vm1.pcap" -w "$T/bad3" 2> "$T/err"; then fail "bad3 accepted"; fi
contains "scheduled error found first" "$T/err" "$T/bad3.conf:2: filter del: no filter with id 9"
eq "nothing written (at)" "$(test -e "$T/bad3" && echo yes || echo no)" no
printf 'device profile 82575\nfilter add mac 02:00:00:00:00:01 queue 4\n' > "$T/bad4.conf"
if "$VMDQ" sort -c "$T/bad4.conf" -r "$T/vm1.pcap" -w "$T/bad4" 2> "$T/err"; then fail "bad4 accepted"; fi
contains "queue range" "$T/err" "$T/bad4.conf:2: filter add: queue 4 is out of range (the device has 4 queues, 0..3)"

# --- inputs that are not Ethernet captures ----------------------------------
echo "hello" > "$T/text.pcap"
set +e; "$VMDQ" sort -c "$T/at.conf" -r "$T/text.pcap" -w "$T/x" 2> "$T/err"; rc=$?; set -e
eq "not pcap exit" "$rc" 1
contains "not pcap" "$T/err" "not a pcap or pcapng capture"
# a pcap header with link type 101 (raw IP)
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\145\000\000\000' > "$T/raw.pcap"
if "$VMDQ" sort -c "$T/at.conf" -r "$T/raw.pcap" -w "$T/x" 2> "$T/err"; then fail "raw accepted"; fi
contains "not ethernet" "$T/err" "is not Ethernet"
if "$VMDQ" sort -c "$T/at.conf" -r "$T/missing.pcap" -w "$T/x" 2> "$T/err"; then fail "missing accepted"; fi
contains "missing file" "$T/err" "missing.pcap: No such file or directory"

# --- a damaged capture: what could be read is sorted and accounted for ------
"$MKPCAP" "$T/f.txt" "$T/cut.pcap"
truncate -s 500 "$T/cut.pcap"
"$VMDQ" sort -c "$T/at.conf" -r "$T/cut.pcap" -w "$T/cut" 2> "$T/err"
contains "damage reported" "$T/err" "damaged after frame 5"
eq "damaged: frames read" "$(jq .frames "$T/cut/stats.json")" 5

# --- progress on a terminal ---------------------------------------------------
printf '02:00:00:00:00:01 02:aa:00:00:00:01 repeat 1500000\n' > "$T/big.txt"
"$MKPCAP" "$T/big.txt" "$T/big.pcap"
script -qec "$VMDQ sort -c $T/at.conf -r $T/big.pcap -w $T/big --trace" "$T/tty.log" > /dev/null
contains "progress shown" "$T/tty.log" "vmdq sort: "
contains "progress percent" "$T/tty.log" "%)"
"$VMDQ" sort -c "$T/at.conf" -r "$T/big.pcap" -w "$T/big2" 2> "$T/err"
eq "no progress off a terminal" "$(wc -c < "$T/err")" 0
finish
