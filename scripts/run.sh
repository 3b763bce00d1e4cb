#!/usr/bin/env bash
# Installs prerequisites, builds Peregrine and starts live detection with the
# default rules, printing alerts as they happen. Ctrl-C stops it.
# Extra arguments go to peregrine (e.g. -o json_output=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh
cargo build --release -p peregrine
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
exec $SUDO ./target/release/peregrine -c ./peregrine.yaml "$@"
