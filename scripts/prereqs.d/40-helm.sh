#!/usr/bin/env bash
# Kubernetes deployment tests: real Helm (v4, from PyPI's helm-python-sdk) and
# kubernetes-validate in a Python venv; podman + debootstrap for the image;
# libbpf-dev (static libbpf) + clang + bpftool for the capability check.
# Idempotent: an existing venv with both packages importable is kept.
set -euo pipefail
apt_install python3 python3-venv python3-pip podman runc busybox-static debootstrap curl \
    libbpf-dev clang bpftool

# Podman on this kind of VM: no raising rlimits, cgroupfs, runc (see
# ../shared/testing-on-this-machine.md). Only written when absent.
if [ ! -e /etc/containers/containers.conf ]; then
    $SUDO mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' |
        $SUDO tee /etc/containers/containers.conf >/dev/null
fi

venv="${PEREGRINE_HELM_VENV:-$HOME/.cache/peregrine/helm-venv}"
# The system interpreter, not a pyenv shim: the venv must outlive shell setups.
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
if ! "$venv/bin/python" -c 'import helm_python, kubernetes_validate' 2>/dev/null; then
    echo "prereqs: creating $venv (helm-python-sdk, kubernetes-validate)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check helm-python-sdk kubernetes-validate PyYAML
fi
