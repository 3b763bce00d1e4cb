#!/usr/bin/env bash
# The eBPF probe: clang/llvm/libelf/zlib/bpftool come from scripts/prereqs.sh.
# stress-ng is one of the live benchmark's workloads (scripts/bench-live.sh).
set -euo pipefail
apt_install stress-ng
