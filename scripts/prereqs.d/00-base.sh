#!/usr/bin/env bash
# Test tools used across areas: sysdig as a reference reader of scap files.
set -euo pipefail
apt_install sysdig
