#!/usr/bin/env bash
# Builds Peregrine's container image with podman, without any registry:
#   1. localhost/debian-base:bookworm: a minimal Debian rootfs made with
#      debootstrap from the Debian mirror and imported (once; --rebuild-base
#      redoes it);
#   2. the image itself from ./Containerfile (a build stage with Debian's Rust
#      and clang, a runtime stage holding only the binary, the libraries it
#      links, CA certificates, the default config and rules).
# Layers and cargo's registry and target folders are cached between runs, so
# a second run with unchanged sources rebuilds nothing.
#
#   scripts/build-image.sh [--tag IMAGE] [--rebuild-base] [--base-only]
# Prints the image name on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

base_image="${PEREGRINE_BASE_IMAGE:-localhost/debian-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
image="${PEREGRINE_IMAGE:-localhost/peregrine:$version}"
rebuild_base=false
base_only=false
while [ $# -gt 0 ]; do
    case "$1" in
    --tag) image="$2"; shift 2 ;;
    --rebuild-base) rebuild_base=true; shift ;;
    --base-only) base_only=true; shift ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
    esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for tool in podman debootstrap; do
    command -v "$tool" >/dev/null || { echo "build-image: $tool missing (run scripts/prereqs.sh --test)" >&2; exit 1; }
done

if $rebuild_base || ! $SUDO podman image exists "$base_image"; then
    work="$(mktemp -d /var/tmp/peregrine-rootfs.XXXXXX)"
    trap '$SUDO rm -rf "$work"' EXIT
    echo "build-image: debootstrap bookworm from $mirror into $work"
    $SUDO debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    # The security suite carries current toolchain packages (rustc-web).
    $SUDO rm -f "$work/rootfs/etc/apt/sources.list"
    $SUDO tee "$work/rootfs/etc/apt/sources.list.d/debian.sources" >/dev/null <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    $SUDO rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
    $SUDO tar -C "$work/rootfs" --numeric-owner -cf - . |
        $SUDO podman import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base_image" >/dev/null
    echo "build-image: imported $base_image"
fi

if $base_only; then
    echo "$base_image"
    exit 0
fi

# The host's CA bundle lets cargo inside the build reach crates.io through a
# TLS-inspecting proxy; it is a build secret, never part of a layer.
ca_bundle="${CARGO_HTTP_CAINFO:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
secret=()
[ -s "$ca_bundle" ] && secret=(--secret "id=ca-bundle,src=$ca_bundle")
$SUDO podman build --layers "${secret[@]}" --build-arg "BASE_IMAGE=$base_image" \
    -f Containerfile -t "$image" . >&2
echo "$image"
