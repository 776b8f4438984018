#!/bin/sh
# SPDX-License-Identifier: MIT
# libvmdq exports only its API: every global symbol it defines with default
# visibility carries the vmdq_ prefix; everything else is hidden.
# usage: symbols.sh LIBVMDQ.a
set -eu
lib=$1
syms=$(readelf -sW "$lib" | awk '$5 == "GLOBAL" && $7 != "UND" { print $6, $8 }')
bad=$(printf '%s\n' "$syms" | awk '$1 == "DEFAULT" && $2 !~ /^vmdq_/ { print $2 }')
if [ -n "$bad" ]; then
	echo "FAIL: exported without the vmdq_ prefix (make them static, or keep them out of include/vmdq/):"
	printf '  %s\n' $bad
	exit 1
fi
# the API is still there, exported
for s in vmdq_dev_create vmdq_rx_burst vmdq_cmd_parse; do
	if ! printf '%s\n' "$syms" | grep -qx "DEFAULT $s"; then
		echo "FAIL: $s is not exported"
		exit 1
	fi
done
n=$(printf '%s\n' "$syms" | awk '$1 == "DEFAULT"' | wc -l)
h=$(printf '%s\n' "$syms" | awk '$1 == "HIDDEN"' | wc -l)
echo "ok: $n exported (all vmdq_), $h hidden"
