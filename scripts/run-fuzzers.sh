#!/bin/sh
# Runs every fuzz target for a bounded time from its seed corpus in the repo.
# New inputs go to a scratch copy, so the repository's corpus is not touched.
#   run-fuzzers.sh BUILD [SECONDS [RUNS [TARGET...]]]
# RUNS (> 0) runs each target for that many executions instead of SECONDS.
set -eu
build=$1
seconds=${2:-30}
runs=${3:-0}
[ $# -gt 3 ] && shift 3 && targets="$*" || targets="sort cmd pcap vu_msg vu_ring vu_state fdb offload"
limit="-max_total_time=$seconds"
[ "$runs" -gt 0 ] && limit="-runs=$runs"
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vmdq-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for t in $targets; do
	mkdir -p "$work/$t"
	cp "$top/tests/fuzz/corpus/$t/"* "$work/$t/" 2>/dev/null || true
	extra=""
	# the tcpdump captures in ../shared are seeds for the capture target
	[ "$t" = pcap ] && [ -d "$top/../shared/corpus/tcpdump" ] && extra="$top/../shared/corpus/tcpdump"
	echo "fuzz_$t: $limit"
	if ! "$build/tests/fuzz_$t" "$limit" -print_final_stats=0 \
		-artifact_prefix="$work/" "$work/$t" $extra >"$work/$t.log" 2>&1; then
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] && { echo "artifact: $a ($(wc -c <"$a") bytes), base64:"; base64 -w0 "$a" | head -c 600; echo; }
		done
		# the report last: a log's tail then shows what failed and where
		echo "fuzz_$t failed:"
		grep -E -A12 "^==[0-9]+==ERROR|runtime error|deadly signal" "$work/$t.log" | head -40 ||
			tail -40 "$work/$t.log"
		status=1
	fi
	grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs" "$work/$t.log" | tail -1 || true
done
exit $status
