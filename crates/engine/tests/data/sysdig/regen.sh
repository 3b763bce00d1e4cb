#!/usr/bin/env bash
# Regenerates the sysdig 0.29 oracles the field tests compare with.
# Run from anywhere; needs `sysdig` (apt) and ../shared/conformance.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
conf=${PEREGRINE_CONFORMANCE:-$here/../../../../../../shared/conformance}
fmt=$(cat "$here/FORMAT")
while read -r rel; do
    [ -n "$rel" ] || continue
    out="$here/$(echo "$rel" | tr '/' '_' | sed 's/\.scap$//').txt"
    sysdig -r "$conf/$rel" -p "$fmt" > "$out"
done < "$here/CAPTURES"
