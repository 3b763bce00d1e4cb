#!/usr/bin/env bash
# Live overhead benchmark of the eBPF probe (root and BTF needed): a
# syscall-heavy workload with nothing attached, with empty programs on the
# same hooks (the floor), and with the real probe feeding a consumer, for both
# attach designs. Prints slowdowns, events/s, drops, consumer CPU% and RSS.
#   BENCH_SCALE=1.0  iteration multiplier     BENCH_RUNS=5  repeats (best kept)
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p peregrine-ebpf --bench live "$@"
