"""The chart's values.schema.json, written as Python for readability: what
each value may be, so that Helm refuses malformed values with the key's path
and the rule broken. `deploy/tests/update.py` writes the JSON file; a test
keeps the two in sync.
"""

from __future__ import annotations

import json
from typing import Any

# Small builders: a JSON Schema node of each type.
def S(**kw: Any) -> dict[str, Any]:  # noqa: N802 - short names keep the tree readable
    return {"type": "string", **kw}


def B(**kw: Any) -> dict[str, Any]:  # noqa: N802
    return {"type": "boolean", **kw}


def I(**kw: Any) -> dict[str, Any]:  # noqa: N802, E743
    return {"type": "integer", **kw}


def O(props: dict[str, Any] | None = None, extra: Any = False, **kw: Any) -> dict[str, Any]:  # noqa: N802, E741
    """An object with these properties; `extra` says what other keys may be
    (False: none, True: anything, or a schema)."""
    node: dict[str, Any] = {"type": "object"}
    if props is not None:
        node["properties"] = props
    node["additionalProperties"] = extra
    node.update(kw)
    return node


def A(items: dict[str, Any], **kw: Any) -> dict[str, Any]:  # noqa: N802
    return {"type": "array", "items": items, **kw}


def strmap(desc: str) -> dict[str, Any]:
    return O(None, {"type": "string"}, description=desc)


port = I(minimum=1, maximum=65535)
duration = S(pattern="^([0-9]+(ms|s|m|h|d|w|y))+$", description="a Prometheus duration, e.g. 30s, 15m, 1h")
abspath = S(pattern="^/", description="an absolute path")
probe = O({k: I(minimum=0 if k == "initialDelaySeconds" else 1) for k in
           ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "failureThreshold"]})
engine = O({"enabled": B(), "sockets": A(abspath, description="absolute socket paths on the host")})
legacy_engine = O({"enabled": B()}, description="Falco's engine without sockets; accepted for Falco values files, unused by Peregrine")
output = O({"enabled": B()}, True)
priority = S(pattern="^(?i:emergency|alert|critical|error|warning|notice|info|informational|debug)$",
             description="a Falco priority: emergency, alert, critical, error, warning, notice, informational (info), debug")
cap = S(pattern="^(CAP_)?[A-Z_]+$", description="a capability name such as BPF or CAP_BPF")
config = O({
    "rules_files": A(S(minLength=1)),
    "config_files": A(S(minLength=1)),
    "json_output": B(), "json_include_output_property": B(), "json_include_tags_property": B(),
    "json_include_message_property": B(), "json_include_output_fields_property": B(),
    "time_format_iso_8601": B(), "buffered_outputs": B(), "watch_config_files": B(),
    "priority": priority,
    "log_level": S(enum=["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"]),
    "log_stderr": B(), "log_syslog": B(),
    "stdout_output": output, "syslog_output": output,
    "file_output": O({"enabled": B(), "keep_alive": B(), "filename": S()}, True),
    "program_output": O({"enabled": B(), "keep_alive": B(), "program": S()}, True),
    "http_output": O({"enabled": B(), "url": S(pattern="^$|^https?://", description="an http:// or https:// URL"),
                      "user_agent": S(), "insecure": B()}, True),
    "webserver": O({"enabled": B(), "listen_port": port, "listen_address": S(),
                    "k8s_healthz_endpoint": S(pattern="^/", description="a path starting with /"),
                    "prometheus_metrics_enabled": B(), "ssl_enabled": B(), "ssl_certificate": S(),
                    "threadiness": I(minimum=0)}, True),
    "outputs_queue": O({"capacity": I(minimum=0)}, True),
    "metrics": O({"enabled": B(), "interval": duration, "output_rule": B()}, True),
    "engine": O({"kind": S()}, True),
    "append_output": A(O(None, True)),
    "load_plugins": A(S()),
    "plugins": A(O({"name": S(minLength=1)}, True, required=["name"])),
}, True, description="peregrine.yaml (falco.yaml-compatible) keys; known keys are type-checked, others pass through")

def values_schema() -> dict[str, Any]:
    return SCHEMA


def values_schema_json() -> str:
    return json.dumps(SCHEMA, indent=2) + "\n"


SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Values of the Peregrine Helm chart",
    "definitions": {"config": config},
    **O({
        "image": O({
            "registry": S(description="registry host, or empty"),
            "repository": S(minLength=1),
            "tag": {"type": ["string", "number"]},
            "pullPolicy": S(enum=["Always", "IfNotPresent", "Never"]),
        }, required=["repository"]),
        "imagePullSecrets": A(O({"name": S(minLength=1)}, required=["name"])),
        "nameOverride": S(pattern="^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength=63,
                          description="a DNS label: lowercase letters, digits and '-'"),
        "fullnameOverride": S(pattern="^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength=63,
                              description="a DNS label: lowercase letters, digits and '-'"),
        "namespaceOverride": S(pattern="^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength=63),
        "controller": O({
            "kind": S(enum=["daemonset", "deployment"]),
            "annotations": strmap("annotations"),
            "labels": strmap("labels"),
            "daemonset": O({"updateStrategy": O({
                "type": S(enum=["RollingUpdate", "OnDelete"]),
                "rollingUpdate": O({"maxUnavailable": {"type": ["integer", "string"]},
                                    "maxSurge": {"type": ["integer", "string"]}}),
            })}),
            "deployment": O({"replicas": I(minimum=0)}),
        }),
        "serviceAccount": O({"create": B(), "name": S(), "annotations": strmap("annotations"),
                             "automountToken": B()}),
        "podAnnotations": strmap("pod annotations"),
        "podLabels": strmap("pod labels"),
        "priorityClassName": S(), "podPriorityClassName": S(),
        "podSecurityContext": O(None, True),
        "containerSecurityContext": O({
            "privileged": {"type": ["boolean", "null"]},
            "allowPrivilegeEscalation": {"type": ["boolean", "null"]},
            "readOnlyRootFilesystem": {"type": ["boolean", "null"]},
            "runAsUser": {"type": ["integer", "null"], "minimum": 0},
            "runAsGroup": {"type": ["integer", "null"], "minimum": 0},
            "runAsNonRoot": {"type": ["boolean", "null"]},
            "capabilities": O({"add": A(cap), "drop": A(cap)}),
            "seccompProfile": O({"type": S(enum=["RuntimeDefault", "Unconfined", "Localhost"]),
                                 "localhostProfile": S()}),
        }, True),
        "appArmorProfile": S(pattern="^$|^(unconfined|runtime/default|localhost/.+)$",
                             description="unconfined, runtime/default or localhost/<profile>"),
        "resources": O({"requests": O(None, {"type": ["string", "number"]}),
                        "limits": O(None, {"type": ["string", "number"]}),
                        "claims": A(O(None, True))}),
        "nodeSelector": strmap("node labels"),
        "affinity": O(None, True),
        "tolerations": A(O({
            "key": S(), "operator": S(enum=["Exists", "Equal"]), "value": S(),
            "effect": S(enum=["", "NoSchedule", "PreferNoSchedule", "NoExecute"]),
            "tolerationSeconds": I(),
        })),
        "healthChecks": O({"startupProbe": probe, "livenessProbe": probe, "readinessProbe": probe}),
        "driver": O({
            "enabled": B(),
            "kind": S(enum=["modern_ebpf", "auto", "ebpf", "kmod", "modern-bpf", "module"]),
            "modernEbpf": O({"bufSizePreset": I(minimum=0, maximum=10), "cpusForEachBuffer": I(minimum=0),
                             "dropFailedExit": B()}),
        }),
        "collectors": O({
            "enabled": B(),
            "containerEngine": O({
                "enabled": B(), "labelMaxLen": I(minimum=0), "withSize": B(),
                "hooks": A(S(enum=["create", "start"])),
                "engines": O({"docker": engine, "podman": engine, "containerd": engine, "cri": engine,
                              "lxc": legacy_engine, "libvirt_lxc": legacy_engine, "bpm": legacy_engine}),
            }),
        }),
        "customRules": O(None, False,
                         patternProperties={"^[-._a-zA-Z0-9]+\\.ya?ml$": {"type": "string", "description": "rules YAML"}},
                         propertyNames={"pattern": "^[-._a-zA-Z0-9]+\\.ya?ml$",
                                        "description": "a file name ending in .yaml or .yml"}),
        "falcosidekick": O({"enabled": B(), "url": S(pattern="^$|^https?://[^/\\s]+",
                                                     description="an http:// or https:// URL")}),
        "metrics": O({
            "enabled": B(), "interval": duration, "outputRule": B(), "scrapeAnnotations": B(),
            "service": O({"create": B(), "type": S(enum=["ClusterIP", "NodePort", "LoadBalancer"]),
                          "port": port, "labels": strmap("labels"), "annotations": strmap("annotations")}),
        }),
        "serviceMonitor": O({
            "create": B(), "labels": strmap("labels"), "interval": duration, "scrapeTimeout": duration,
            "relabelings": A(O(None, True)), "targetLabels": A(S()),
        }),
        "extra": O({
            "env": A(O({"name": S(minLength=1)}, True, required=["name"])),
            "args": A(S()),
            "initContainers": A(O({"name": S(minLength=1), "image": S(minLength=1)}, True, required=["name", "image"])),
        }),
        "mounts": O({
            "volumes": A(O({"name": S(minLength=1)}, True, required=["name"])),
            "volumeMounts": A(O({"name": S(minLength=1), "mountPath": abspath}, True, required=["name", "mountPath"])),
        }),
        "config": {"$ref": "#/definitions/config"},
        "falco": {"$ref": "#/definitions/config"},
        "global": O(None, True, description="Helm's global values (unused)"),
    }),
}
