"""Runs a rendered pod spec with podman the way the kubelet would run it:
the same image, command and args, environment, security context (privileged
flag, capabilities, seccomp, AppArmor, user, read-only root, no new
privileges), host PID namespace, host paths, ConfigMap and emptyDir volumes,
and ports. Fields it cannot reproduce raise instead of being ignored.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import chartlib as lib



def podman(*args: str, check: bool = True, capture: bool = True, timeout: float | None = 600) -> str:
    proc = subprocess.run(["podman", *args], check=False, text=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PodmanPod:
    """The agent container of a rendered workload, as podman arguments.

    `overrides` replaces the image/command/args (to run another program
    under the same security settings and mounts, e.g. the capability check);
    `skip_missing_host_paths` leaves out hostPath volumes absent on this
    machine (the kubelet would create empty directories there).
    """

    def __init__(self, docs: list[dict[str, Any]], workdir: Path, *, name: str,
                 image: str | None = None, command: list[str] | None = None, args: list[str] | None = None,
                 skip_missing_host_paths: bool = True):
        self.docs = docs
        self.workdir = workdir
        self.name = name
        self.skipped_host_paths: list[str] = []
        self.published: dict[int, int] = {}  # container port → host port
        wl = lib.workload(docs)
        self.pod_meta = wl["spec"]["template"]["metadata"]
        self.pod = wl["spec"]["template"]["spec"]
        self.container = lib.agent_container(docs)
        self.image = image or self.container["image"]
        self.command = command if command is not None else self.container.get("command")
        self.args = args if args is not None else self.container.get("args", [])
        self.skip_missing = skip_missing_host_paths
        self.run_args_used: list[str] = []

    def run_args(self) -> list[str]:
        c, pod = self.container, self.pod
        out = ["run", "-d", "--name", self.name, "--hostname", self.name]
        unsupported = set(pod) - {"serviceAccountName", "automountServiceAccountToken", "hostPID", "tolerations",
                                  "containers", "volumes", "priorityClassName", "nodeSelector", "affinity",
                                  "imagePullSecrets", "securityContext"}
        if unsupported:
            raise NotImplementedError(f"pod fields not reproduced: {sorted(unsupported)}")
        if pod.get("hostPID"):
            out.append("--pid=host")
        out += self.security_args(c.get("securityContext") or {})
        out += self.apparmor_args()
        for env in c.get("env", []):
            out += ["-e", f"{env['name']}={self.env_value(env)}"]
        out += self.volume_args()
        for port in c.get("ports", []):
            host_port = free_port()
            self.published[port["containerPort"]] = host_port
            out += ["-p", f"127.0.0.1:{host_port}:{port['containerPort']}"]
        limits = (c.get("resources") or {}).get("limits") or {}
        if "memory" in limits:
            out += ["--memory", kube_memory_to_podman(limits["memory"])]
        if self.command:
            out += ["--entrypoint", json.dumps(self.command)]
        out.append(self.image)
        out += self.args
        return out

    def security_args(self, sc: dict[str, Any]) -> list[str]:
        out: list[str] = []
        if sc.get("privileged"):
            out.append("--privileged")
        caps = sc.get("capabilities") or {}
        for cap in caps.get("drop", []):
            out += ["--cap-drop", cap.lower() if cap == "ALL" else cap]
        for cap in caps.get("add", []):
            out += ["--cap-add", cap]
        if sc.get("readOnlyRootFilesystem"):
            # Kubernetes mounts nothing writable by itself: no tmpfs /tmp or /run.
            out += ["--read-only", "--read-only-tmpfs=false"]
        if sc.get("allowPrivilegeEscalation") is False:
            out += ["--security-opt", "no-new-privileges"]
        if "runAsUser" in sc:
            out += ["--user", f"{sc['runAsUser']}:{sc.get('runAsGroup', 0)}"]
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp in (None, "Unconfined"):
            # Unset is Unconfined on a kubelet without --seccomp-default.
            out += ["--security-opt", "seccomp=unconfined"]
        elif seccomp != "RuntimeDefault":
            raise NotImplementedError(f"seccomp profile {seccomp}")
        if sc.get("runAsNonRoot") and sc.get("runAsUser", 1) == 0:
            raise ValueError("runAsNonRoot with runAsUser 0 would not start")
        return out

    def apparmor_args(self) -> list[str]:
        profile = (self.pod_meta.get("annotations") or {}).get(
            f"container.apparmor.security.beta.kubernetes.io/{self.container['name']}")
        if profile in (None, "", "runtime/default"):
            return []
        if profile == "unconfined":
            return ["--security-opt", "apparmor=unconfined"]
        if profile.startswith("localhost/"):
            return ["--security-opt", f"apparmor={profile.removeprefix('localhost/')}"]
        raise ValueError(f"AppArmor profile {profile}")

    def env_value(self, env: dict[str, Any]) -> str:
        if "value" in env:
            return str(env["value"])
        field = env.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field == "spec.nodeName":
            return socket.gethostname()
        raise NotImplementedError(f"env {env}")

    def volume_args(self) -> list[str]:
        volumes = {v["name"]: v for v in self.pod.get("volumes", [])}
        configmaps = {d["metadata"]["name"]: d for d in lib.by_kind(self.docs, "ConfigMap")}
        out: list[str] = []
        for mount in self.container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            target = mount["mountPath"]
            ro = ":ro" if mount.get("readOnly") else ""
            if "hostPath" in volume:
                source = volume["hostPath"]["path"]
                if not os.path.exists(source):
                    if volume["hostPath"].get("type") in ("Directory", "File", "Socket", "CharDevice"):
                        raise FileNotFoundError(f"hostPath {source} ({volume['hostPath']['type']}) is missing")
                    if self.skip_missing:
                        self.skipped_host_paths.append(source)
                        continue
                out += ["-v", f"{source}:{target}{ro}"]
            elif "configMap" in volume:
                data = configmaps[volume["configMap"]["name"]]["data"]
                folder = self.workdir / f"configmap-{mount['name']}"
                folder.mkdir(parents=True, exist_ok=True)
                for key, text in data.items():
                    (folder / key).write_text(text)
                out += ["-v", f"{folder}:{target}{ro}"]
            elif "emptyDir" in volume:
                out += ["--mount", f"type=tmpfs,destination={target}"]
            else:
                raise NotImplementedError(f"volume {volume}")
        return out

    def start(self) -> None:
        podman("rm", "-f", self.name, check=False)
        self.run_args_used = self.run_args()
        podman(*self.run_args_used)

    def logs(self) -> tuple[str, str]:
        proc = subprocess.run(["podman", "logs", self.name], text=True, capture_output=True, check=False)
        return proc.stdout, proc.stderr

    def running(self) -> bool:
        state = podman("inspect", "-f", "{{.State.Running}}", self.name, check=False).strip()
        return state == "true"

    def http_get(self, path: str, port: int | None = None, timeout: float = 2) -> tuple[int, str]:
        container_port = port or next(iter(self.published))
        url = f"http://127.0.0.1:{self.published[container_port]}{path}"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")

    def remove(self) -> None:
        podman("rm", "-f", "-t", "5", self.name, check=False)


def kube_memory_to_podman(quantity: str) -> str:
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    for suffix, unit in units.items():
        if str(quantity).endswith(suffix):
            return str(quantity)[: -len(suffix)] + unit
    return str(quantity)


def wait_until(predicate, timeout: float, interval: float = 0.5, reraise: type | None = None):
    """The first truthy result of `predicate` within `timeout` seconds, else
    None. Exceptions are retried, except those of type `reraise`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            if reraise is not None and isinstance(e, reraise):
                raise
        time.sleep(interval)
    return None


def temp_workdir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix, dir="/var/tmp")
