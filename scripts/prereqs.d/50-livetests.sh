#!/usr/bin/env bash
# Live tests of the default rules (crates/peregrine/tests/live_rules.rs) act
# out each threat for real: strace (ptrace), perl (TRACEME, memfd exec), kmod
# (insmod), util-linux (setpriv, script), openssh-client (ssh to an odd
# port), plus podman and busybox-static from 20-containers.sh.
set -euo pipefail
apt_install strace perl kmod util-linux bsdutils openssh-client findutils coreutils busybox-static podman
