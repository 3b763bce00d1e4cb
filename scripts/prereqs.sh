#!/usr/bin/env bash
# Installs what Peregrine needs on Debian (bookworm or newer), idempotently.
#   scripts/prereqs.sh         build + run prerequisites
#   scripts/prereqs.sh --test  also what the test suite needs (each area adds
#                              its own script in scripts/prereqs.d/)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "prereqs: installing ${missing[*]}"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
export -f apt_install
export SUDO

# Build: C for the eBPF probe (clang, CO-RE), libbpf's needs, gzip.
apt_install build-essential clang llvm libelf-dev zlib1g-dev pkg-config bpftool ca-certificates

# Rust: use an existing toolchain, else Debian's current one.
if ! command -v cargo >/dev/null 2>&1; then
    apt_install rustc-web cargo-web
fi

if [ "${1:-}" = "--test" ]; then
    for f in scripts/prereqs.d/*.sh; do
        [ -e "$f" ] || continue
        echo "prereqs: $f"
        bash "$f"
    done
fi
