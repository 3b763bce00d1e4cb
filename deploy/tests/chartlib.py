"""Shared helpers of the deployment tests: rendering the chart with real Helm,
the README values table, the plain manifests, and the value combinations the
tests render.

Run `python3 deploy/tests/update.py` (with the helm venv's python) to
regenerate the README table and deploy/kubernetes/ after a chart change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from helm_python.chart import Chart

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "deploy" / "helm" / "peregrine"
MANIFESTS = ROOT / "deploy" / "kubernetes" / "peregrine.yaml"
README = CHART_DIR / "README.md"
RELEASE = "peregrine"
NAMESPACE = "peregrine"

# Kubernetes versions the rendered resources are validated against: the
# oldest the chart supports (Chart.yaml kubeVersion) and the newest known.
KUBE_VERSIONS = ["1.25", "1.30", "1.37"]


def load_chart() -> Chart:
    return Chart.load(CHART_DIR)


def render(values: dict[str, Any] | None = None, *, chart: Chart | None = None) -> dict[str, str]:
    """Every rendered template (path → text), as `helm template` gives them."""
    owned = chart is None
    chart = chart or load_chart()
    try:
        return chart.render(values=values or {}, name=RELEASE, namespace=NAMESPACE)
    finally:
        if owned:
            chart.close()


def resources(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """The Kubernetes objects of a render, in template order (NOTES excluded)."""
    docs = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(rendered[path]):
            if doc:
                docs.append(doc)
    return docs


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of two values maps: maps merge, the rest replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def agent_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The peregrine.yaml the chart hands to the agent, parsed."""
    for cm in by_kind(docs, "ConfigMap"):
        if "peregrine.yaml" in cm.get("data", {}):
            return yaml.safe_load(cm["data"]["peregrine.yaml"])
    raise AssertionError("no ConfigMap carries peregrine.yaml")


def workload(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = by_kind(docs, "DaemonSet") + by_kind(docs, "Deployment")
    assert len(found) == 1, f"expected one DaemonSet or Deployment, found {len(found)}"
    return found[0]


def agent_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = workload(docs)["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "peregrine")


# A customRules rule for the tests; self-contained (no macros from the
# default rules), so it loads whatever the default rules hold.
CUSTOM_RULE = """\
- rule: Chart canary file read
  desc: a custom rule from the chart values
  condition: evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.name = /tmp/peregrine-chart-canary
  output: canary read (file=%fd.name container=%container.name image=%container.image.repository)
  priority: WARNING
"""

# Value combinations the tests render, lint and validate: each a use a
# platform team has, not a random mix.
COMBINATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "falcosidekick": {"falcosidekick": {"enabled": True}},
    "falcosidekick-url": {
        "falcosidekick": {"enabled": True, "url": "https://sidekick.security.svc:2801"},
        "config": {"http_output": {"insecure": True}},
    },
    "metrics-servicemonitor": {
        "metrics": {"enabled": True, "interval": "15m", "service": {"type": "ClusterIP", "port": 9376}},
        "serviceMonitor": {"create": True, "labels": {"release": "kube-prometheus-stack"}, "interval": "30s"},
    },
    "custom-rules": {
        "customRules": {"10-canary.yaml": CUSTOM_RULE, "20-more.yml": "- list: web_images\n  items: [nginx]\n"},
        "config": {"rules_files": ["/etc/peregrine/rules"], "priority": "warning"},
    },
    "deployment-no-syscalls": {
        "controller": {"kind": "deployment", "deployment": {"replicas": 2}},
        "driver": {"enabled": False},
    },
    "private-registry-placement": {
        "image": {"registry": "registry.corp.example", "repository": "security/peregrine", "tag": "0.1.0-rc1",
                  "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "regcred"}],
        "priorityClassName": "system-node-critical",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "node.kubernetes.io/instance-type", "operator": "NotIn",
                                   "values": ["fargate"]}]}]}}},
        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                         "effect": "NoSchedule"}],
        "resources": {"requests": {"cpu": "200m", "memory": "300Mi"}, "limits": {"memory": "1Gi"}},
        "podAnnotations": {"team": "security"},
        "podLabels": {"tier": "node-agent"},
        "controller": {"annotations": {"owner": "platform"}, "labels": {"app.kubernetes.io/part-of": "security"},
                       "daemonset": {"updateStrategy": {"type": "RollingUpdate",
                                                        "rollingUpdate": {"maxUnavailable": "10%"}}}},
        "podSecurityContext": {"fsGroup": 0},
        "serviceAccount": {"name": "peregrine-agent", "annotations": {"owner": "platform"}},
    },
    "runtimes-containerd-podman": {
        "collectors": {"containerEngine": {"engines": {
            "docker": {"enabled": False},
            "podman": {"enabled": True},
            "cri": {"enabled": True, "sockets": ["/run/containerd/containerd.sock"]},
        }}},
    },
    "collectors-off": {"collectors": {"enabled": False}},
    "privileged": {
        "containerSecurityContext": {"privileged": True, "allowPrivilegeEscalation": True,
                                     "capabilities": None, "seccompProfile": None},
        "appArmorProfile": "",
    },
    "webserver-off": {"config": {"webserver": {"enabled": False}}},
    "webserver-tls-port": {"config": {"webserver": {"ssl_enabled": True, "listen_port": 8443,
                                                    "ssl_certificate": "/etc/peregrine/certs/peregrine.pem"}},
                           "metrics": {"enabled": True}},
    "falco-values-file": {
        "falco": {"json_output": False, "priority": "notice", "rules_files": ["/etc/peregrine/rules"]},
        "podPriorityClassName": "high",
        "driver": {"kind": "kmod"},
        "collectors": {"containerEngine": {"engines": {"lxc": {"enabled": True}}}},
    },
    "extras": {
        "extra": {
            "env": [{"name": "RUST_BACKTRACE", "value": "1"}],
            "args": ["-o", "log_level=debug"],
            "initContainers": [{"name": "wait", "image": "busybox:1.36", "command": ["true"]}],
        },
        "mounts": {
            "volumes": [{"name": "certs", "secret": {"secretName": "peregrine-certs"}}],
            "volumeMounts": [{"name": "certs", "mountPath": "/etc/peregrine/certs", "readOnly": True}],
        },
        "fullnameOverride": "node-security",
        "namespaceOverride": "security",
    },
}


# ---------------------------------------------------------------------------
# The README values table, generated from values.yaml's `# --` comments.

VALUES_BEGIN = "<!-- values:begin (generated from values.yaml by deploy/tests/update.py) -->"
VALUES_END = "<!-- values:end -->"


def documented_values() -> list[tuple[str, Any, str]]:
    """(dotted key, default, description) of every documented value, in file
    order. A `# -- text` comment documents the key below it; a documented
    map is one value (its inner keys are its default); an undocumented map
    is walked into. Raises if a leaf has no description."""
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    defaults = yaml.safe_load("\n".join(lines))
    rows: list[tuple[str, Any, str]] = []
    stack: list[tuple[int, str]] = []  # (indent, key) of enclosing maps
    pending: list[str] = []
    documented_prefixes: list[str] = []
    missing: list[str] = []
    key_re = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(\s|$)")
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            continue  # plain comments (notes, commented examples) are not descriptions
        m = key_re.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [m.group(2)])
        inside_documented = any(path.startswith(p + ".") for p in documented_prefixes)
        value = lookup(defaults, path)
        if pending and not inside_documented:
            rows.append((path, value, " ".join(pending)))
            documented_prefixes.append(path)
        elif not inside_documented and not isinstance(value, dict):
            missing.append(path)
        elif not inside_documented and isinstance(value, dict) and not value:
            missing.append(path)
        pending = []
        stack.append((indent, m.group(2)))
    if missing:
        raise AssertionError("values without a `# --` description in values.yaml: " + ", ".join(missing))
    return rows


def lookup(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def values_table() -> str:
    out = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for key, value, desc in documented_values():
        default = json.dumps(value, separators=(", ", ": ")).replace("|", "\\|")
        out.append(f"| `{key}` | {type_name(value)} | `{default}` | {desc.replace('|', chr(92) + '|')} |")
    return "\n".join(out)


def readme_with_table(readme: str) -> str:
    start = readme.index(VALUES_BEGIN) + len(VALUES_BEGIN)
    end = readme.index(VALUES_END)
    return readme[:start] + "\n" + values_table() + "\n" + readme[end:]


# ---------------------------------------------------------------------------
# Plain manifests for users without Helm.

MANIFEST_HEADER = """\
# Peregrine for Kubernetes without Helm: the Helm chart in deploy/helm/peregrine
# rendered with its default values (release "peregrine", namespace "peregrine").
# Generated by deploy/tests/update.py; a test keeps it in sync with the chart.
# Do not edit: change the chart (or render it with your values) instead.
#
#   kubectl apply -f deploy/kubernetes/peregrine.yaml
"""


def plain_manifests() -> str:
    rendered = render({})
    parts = [MANIFEST_HEADER.rstrip("\n"),
             yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": NAMESPACE, "labels": {
                                 "app.kubernetes.io/name": "peregrine",
                                 # hostPID, hostPath and capabilities need the privileged level
                                 "pod-security.kubernetes.io/enforce": "privileged"}}},
                            sort_keys=False).rstrip("\n")]
    for path in sorted(rendered):
        text = rendered[path].strip("\n")
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        lines = [line for line in text.splitlines() if "helm.sh/chart:" not in line]
        text = "\n".join(lines).replace("app.kubernetes.io/managed-by: Helm", "app.kubernetes.io/managed-by: kubectl")
        parts.append(f"# Source: {path}\n{text.strip()}")
    return "\n---\n".join(parts) + "\n"
