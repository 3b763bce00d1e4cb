#!/usr/bin/env bash
# Container runtimes for the peregrine-container tests: podman (Docker API via
# `podman system service`), runc, a static busybox to build images offline,
# and containerd 1.6 with its CRI plugin (the tests start their own isolated
# instance; the system service is not needed).
set -euo pipefail
apt_install podman runc busybox-static containerd

# This VM forbids raising rlimits above the hard limit and crun fails in
# hybrid cgroups: use runc with the cgroupfs manager and no default ulimits.
conf=/etc/containers/containers.conf
want='[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"'
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
    $SUDO mkdir -p /etc/containers
    printf '%s\n' "$want" | $SUDO tee "$conf" >/dev/null
fi

# The apt package enables containerd's system service; the tests run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
    $SUDO systemctl disable --now containerd >/dev/null 2>&1 || true
fi
