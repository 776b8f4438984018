#!/bin/sh
# The benchmarks run and check their own results (not their speed: speed is
# measured by hand on a quiet machine, see BENCHMARKS.md).  bench sort
# verifies that every frame landed in its queue; bench hol that the FIFO
# column is within +-0.005 of the classic values.
. "$(dirname "$0")/lib.sh"
"$VMDQ" bench sort --frames 65536 --passes 1 > "$T/sort.txt"
contains "sort: all frames sorted" "$T/sort.txt" "every frame sorted into its queue: yes"
eq "sort: three table sizes" "$(grep -cE '^ +(8|1024|65536) ' "$T/sort.txt")" 3
"$VMDQ" bench hol > "$T/hol.txt"
eq "hol: sizes" "$(grep -cE '^ +(2|4|8|16|32|64) ' "$T/hol.txt")" 6
eq "hol: none outside" "$(grep -c 'outside' "$T/hol.txt")" 0
# N=2 FIFO within 0.005 of 0.75, VOQ at 1.0
eq "hol: N=2 voq" "$(awk '$1 == 2 {print $5}' "$T/hol.txt")" 1.0000
# bench switch: its own check (every frame from the wire delivered), and a
# count the switch or the device refuses named, not measured
"$VMDQ" bench switch --vifs 8,16,5000 --runs 1 --ms 20 > "$T/switch.txt"
contains "switch: all delivered" "$T/switch.txt" "every frame from the wire delivered: yes"
eq "switch: two counts" "$(grep -cE '^ +(8|16) ' "$T/switch.txt")" 2
contains "switch: 5000 refused" "$T/switch.txt" "5000 vifs: not measured: the device has 4096 queues"
contains "switch: ratio" "$T/switch.txt" "ratio 16/8 vifs: group"
set +e
"$VMDQ" bench switch --vifs 0 2> "$T/e"; eq "bad --vifs" $? 2
"$VMDQ" bench sort --filters 7 2> "$T/e"; eq "bad --filters" $? 2
"$VMDQ" bench hol --slots 5 2> "$T/e"; eq "bad --slots" $? 2
set -e
finish
