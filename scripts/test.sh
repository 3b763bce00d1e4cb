#!/usr/bin/env bash
# Runs the whole test suite: installs test prerequisites, checks formatting
# and lints, then every test (unit, conformance, live probe, containers).
# Live tests need root and BTF; conformance tests read ../shared/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --release
# Tests share the machine's kernel and containers: run test binaries one at a
# time so live tests do not see each other's events.
cargo test --workspace --release -- --test-threads=1
