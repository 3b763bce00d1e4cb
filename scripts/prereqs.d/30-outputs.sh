#!/usr/bin/env bash
# Outputs, config and metrics tests: a real syslog daemon (rsyslogd), a real
# Prometheus text-format checker (promtool), python's jsonschema for the
# alert and config JSON Schemas.
set -euo pipefail
apt_install rsyslog prometheus python3
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema || apt_install python3-jsonschema
