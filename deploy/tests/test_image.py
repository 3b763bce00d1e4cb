"""The container image, built with podman from the Containerfile, and run the
way the chart's DaemonSet runs it.

- ImageBuild: scripts/build-image.sh builds the image (Debian base made with
  debootstrap, no registry) and it holds what the agent needs, nothing more.
- Capabilities: the capability set and security settings the chart renders
  are enough for the probe's kinds of BPF programs and for reading other
  users' /proc entries, and each capability is needed.
- Runtime: the image run as the rendered DaemonSet (same capabilities, host
  PID namespace, mounts, args, config) answers /healthz, detects a terminal
  shell in another podman container with the default rules (that
  container's name and image in the alert), fires a rule from `customRules`,
  and posts alerts to the falcosidekick URL. Needs live detection in the
  agent.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chartlib as lib  # noqa: E402
import podlib  # noqa: E402
from podlib import podman  # noqa: E402

BASE_IMAGE = "localhost/debian-base:bookworm"
CAPCHECK_SRC = Path(__file__).resolve().parent / "capcheck"


def workspace_version() -> str:
    text = (lib.ROOT / "Cargo.toml").read_text()
    section = text[text.index("[workspace.package]"):]
    return re.search(r'^version\s*=\s*"([^"]+)"', section, re.M).group(1)


_built_image: str | None = None


def build_image() -> str:
    """Builds (or finds up to date, thanks to layer caching) the image."""
    global _built_image
    if _built_image is None:
        proc = subprocess.run([str(lib.ROOT / "scripts" / "build-image.sh")], cwd=lib.ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600)
        if proc.returncode != 0:
            raise AssertionError(f"scripts/build-image.sh failed:\n{proc.stderr[-6000:]}")
        _built_image = proc.stdout.strip().splitlines()[-1]
    return _built_image


def build_base_image() -> None:
    proc = subprocess.run([str(lib.ROOT / "scripts" / "build-image.sh"), "--base-only"], cwd=lib.ROOT, text=True,
                          capture_output=True, timeout=1800)
    if proc.returncode != 0:
        raise AssertionError(f"scripts/build-image.sh --base-only failed:\n{proc.stderr[-6000:]}")


def image_values(image: str, extra: dict | None = None) -> dict:
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.rpartition(":")
    values = {"image": {"registry": registry, "repository": repository, "tag": tag, "pullPolicy": "Never"}}
    return lib.merge(values, extra or {})


class ImageBuild(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.image = build_image()
        cls.files = set(subprocess.run(
            f"c=$(podman create {cls.image}) && podman export $c | tar -t; podman rm $c >/dev/null",
            shell=True, text=True, capture_output=True, check=True).stdout.split())

    def test_named_after_workspace_version(self):
        self.assertEqual(self.image, f"localhost/peregrine:{workspace_version()}")

    def test_runs_the_agent_by_default(self):
        config = json.loads(podman("image", "inspect", self.image))[0]["Config"]
        self.assertEqual(config["Cmd"], ["/usr/bin/peregrine", "-c", "/etc/peregrine/peregrine.yaml"])
        self.assertNotIn("Entrypoint", {k for k, v in config.items() if v})
        out = podman("run", "--rm", "--cap-drop", "all", self.image, "/usr/bin/peregrine", "--version")
        self.assertIn(workspace_version(), out)

    def test_holds_binary_rules_config_and_nothing_else(self):
        for path in ["usr/bin/peregrine", "etc/peregrine/peregrine.yaml", "etc/peregrine/rules/",
                     "etc/ssl/certs/ca-certificates.crt", "lib64/ld-linux-x86-64.so.2",
                     "lib/x86_64-linux-gnu/libc.so.6"]:
            self.assertIn(path, self.files)
        for rules_file in sorted((lib.ROOT / "rules").glob("*.y*ml")):
            self.assertIn(f"etc/peregrine/rules/{rules_file.name}", self.files)
        # No toolchain, no kernel headers, no driver, no package manager.
        for absent in ["usr/src/", "lib/modules/", "usr/bin/cargo", "usr/bin/clang", "usr/bin/apt-get"]:
            self.assertNotIn(absent, self.files)
        config = subprocess.run(
            f"c=$(podman create {self.image}) && podman export $c | tar -xO etc/peregrine/peregrine.yaml;"
            " podman rm $c >/dev/null", shell=True, text=True, capture_output=True, check=True).stdout
        self.assertEqual(config, (lib.ROOT / "peregrine.yaml").read_text())

    def test_small(self):
        size = int(podman("image", "inspect", "-f", "{{.Size}}", self.image).strip())
        self.assertLess(size, 60 * 1024 * 1024, f"image is {size} bytes")


def build_capcheck(out: Path) -> Path:
    """Compiles the capability probe (its own BPF object, CO-RE against this
    kernel's BTF) into a static binary that runs in any image."""
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(CAPCHECK_SRC.glob("*.c")))).hexdigest()[:16]
    binary = out / f"capcheck-{key}"
    if binary.exists():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("capcheck-*"):
        stale.unlink()
    work = out / f"build-{key}"
    work.mkdir(exist_ok=True)
    steps = [
        f"bpftool btf dump file /sys/kernel/btf/vmlinux format c > {work}/vmlinux.h",
        f"clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I{work} -c {CAPCHECK_SRC}/capcheck.bpf.c -o {work}/capcheck.bpf.o",
        f"bpftool gen skeleton {work}/capcheck.bpf.o name capcheck_bpf > {work}/capcheck.skel.h",
        f"clang -O2 -Wall -static -I{work} {CAPCHECK_SRC}/capcheck.c -o {binary}.tmp -lbpf -lelf -lz",
    ]
    for step in steps:
        proc = subprocess.run(step, shell=True, text=True, capture_output=True)
        if proc.returncode != 0:
            raise AssertionError(f"building capcheck failed: {step}\n{proc.stderr}")
    os.rename(f"{binary}.tmp", binary)
    shutil.rmtree(work)
    return binary


def host_bounding_caps() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    return 0


CAP_SYS_RESOURCE = 24


class Capabilities(unittest.TestCase):
    """The chart's security settings, run for real: a program doing what the
    agent does at start (load a CO-RE tp_btf and a raw_tp program with a ring
    buffer; read another user's /proc entries and the host's /etc/passwd;
    query the runtime socket through its read-only mount) in a container made
    from the rendered DaemonSet, with the image and command swapped for it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = podlib.temp_workdir("peregrine-capcheck-")
        cls.workdir = Path(cls.tmp.name)
        cls.binary = build_capcheck(lib.ROOT / "target" / "deploy-tests")
        build_base_image()
        # A workload of another user, as on any node.
        cls.target = "peregrine-capcheck-target"
        podman("rm", "-f", cls.target, check=False)
        podman("run", "-d", "--name", cls.target, "--user", "65534:65534", BASE_IMAGE, "sleep", "600")
        cls.target_pid = podman("inspect", "-f", "{{.State.Pid}}", cls.target).strip()
        cls.api = PodmanApi().__enter__()

    @classmethod
    def tearDownClass(cls):
        podman("rm", "-f", "-t", "0", cls.target, check=False)
        cls.api.__exit__(None, None, None)
        cls.tmp.cleanup()

    def capcheck(self, values: dict) -> dict:
        values = lib.merge({
            # The runtime this machine has: podman's Docker-compatible socket.
            "collectors": {"containerEngine": {"engines": {
                "docker": {"enabled": False}, "cri": {"enabled": False}, "podman": {"enabled": True}}}},
            "mounts": {
                "volumes": [{"name": "capcheck", "hostPath": {"path": str(self.binary.parent), "type": "Directory"}}],
                "volumeMounts": [{"name": "capcheck", "mountPath": "/capcheck", "readOnly": True}],
            },
        }, values)
        docs = lib.resources(lib.render(values))
        pod = podlib.PodmanPod(docs, self.workdir, name="peregrine-capcheck", image=BASE_IMAGE,
                               command=[f"/capcheck/{self.binary.name}"],
                               args=["/host/proc", self.target_pid, "/host" + PodmanApi.SOCKET])
        try:
            pod.start()
            podman("wait", pod.name, timeout=60)
            out, err = pod.logs()
        finally:
            pod.remove()
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            raise AssertionError(f"capcheck printed no JSON: {out!r} {err!r}") from None

    def with_caps(self, caps: list[str], **security) -> dict:
        sc = {"capabilities": {"drop": ["ALL"], "add": caps}}
        sc.update(security)
        return self.capcheck({"containerSecurityContext": sc})

    def test_chart_settings_suffice(self):
        result = self.capcheck({})
        print(f"capcheck with the chart's settings: {result}")
        for check in ALL_CHECKS:
            self.assertEqual(result[check], "ok", f"{check} with the chart's settings: {result}")

    def test_each_capability_is_needed(self):
        chart_caps = lib.load_chart().values["containerSecurityContext"]["capabilities"]["add"]
        # What fails without each capability (fd links cannot be reached
        # without listing the fd directory; no events without programs).
        fails_without = {
            "BPF": ["bpf", "ringbuf"],
            "PERFMON": ["bpf", "ringbuf"],
            "SYS_PTRACE": ["proc_exe", "proc_root", "proc_fd_dir", "proc_fd_link"],
            "DAC_READ_SEARCH": ["proc_environ", "proc_fd_dir", "proc_fd_link"],
        }
        for cap, checks in fails_without.items():
            with self.subTest(without=cap):
                result = self.with_caps([c for c in chart_caps if c != cap])
                for check in ALL_CHECKS:
                    if check in checks:
                        self.assertNotEqual(result[check], "ok", f"{check} works without {cap}: {result}")
                    else:
                        self.assertEqual(result[check], "ok", f"{check} failed without {cap} only: {result}")

    def test_sys_resource_unneeded_on_this_kernel(self):
        """Kept for kernels before 5.11 (BPF memory against RLIMIT_MEMLOCK);
        here BPF memory is charged to the memory cgroup."""
        chart_caps = lib.load_chart().values["containerSecurityContext"]["capabilities"]["add"]
        result = self.with_caps([c for c in chart_caps if c != "SYS_RESOURCE"])
        self.assertEqual(result["bpf"], "ok", result)
        if not host_bounding_caps() & (1 << CAP_SYS_RESOURCE):
            print("note: this machine's bounding set lacks CAP_SYS_RESOURCE, so every run here is without it")

    def test_runtime_default_seccomp_refuses_bpf(self):
        """Why the chart sets seccompProfile Unconfined: the runtime's default
        profile (podman's here, like moby's and containerd's) allows bpf()
        only with SYS_ADMIN."""
        chart_caps = lib.load_chart().values["containerSecurityContext"]["capabilities"]["add"]
        result = self.with_caps(chart_caps, seccompProfile={"type": "RuntimeDefault"})
        self.assertEqual(result["bpf"], "Operation not permitted", result)
        self.assertEqual(result["proc_environ"], "ok", result)


ALL_CHECKS = ["bpf", "ringbuf", "proc_environ", "proc_exe", "proc_root", "proc_fd_dir", "proc_fd_link",
              "host_etc", "socket"]


# ---------------------------------------------------------------------------
# Runtime: the agent image as the DaemonSet runs it.

# The default rule (rules/peregrine_rules.yaml) a `kubectl exec -it … -- sh`
# must trip, as in the README's walk-through.
SHELL_RULE = "Terminal shell in container"

WORKLOAD_IMAGE = "localhost/peregrine-test-web:1"
WORKLOAD = "peregrine-test-web"
AGENT = "peregrine-agent-test"
CANARY = "/tmp/peregrine-chart-canary"


class AlertReceiver(http.server.BaseHTTPRequestHandler):
    """Stands in for falcosidekick: takes POSTed JSON alerts."""

    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            AlertReceiver.received.append(json.loads(body))
        except json.JSONDecodeError:
            AlertReceiver.received.append({"unparsable": body.decode(errors="replace")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def build_workload_image() -> None:
    if subprocess.run(["podman", "image", "exists", WORKLOAD_IMAGE]).returncode == 0:
        return
    with podlib.temp_workdir("peregrine-web-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        (rootfs / "tmp").mkdir()
        shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
        for tool in ["sh", "sleep", "cat", "echo", "ls"]:
            (rootfs / "bin" / tool).symlink_to("busybox")
        (rootfs / "tmp" / "peregrine-chart-canary").write_text("canary\n")
        subprocess.run(f"tar -C {rootfs} -c . | podman import - {WORKLOAD_IMAGE}", shell=True, check=True,
                       capture_output=True)


class PodmanApi:
    """The Docker-compatible API on /run/podman/podman.sock (the chart's
    podman engine socket), started for the test unless already served."""

    SOCKET = "/run/podman/podman.sock"

    def __init__(self):
        self.proc = None

    def __enter__(self):
        if not self.answering():
            os.makedirs(os.path.dirname(self.SOCKET), exist_ok=True)
            self.proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{self.SOCKET}"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not podlib.wait_until(self.answering, 20):
                raise AssertionError("podman system service did not answer")
        return self

    def answering(self) -> bool:
        proc = subprocess.run(["curl", "-sf", "--unix-socket", self.SOCKET, "http://d/_ping"],
                              capture_output=True, text=True)
        return proc.returncode == 0

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)


class Runtime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.image = build_image()
        build_workload_image()
        cls.tmp = podlib.temp_workdir("peregrine-runtime-")
        cls.server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), AlertReceiver)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.api = PodmanApi().__enter__()
        values = image_values(cls.image, {
            "customRules": {"50-chart-test.yaml": lib.CUSTOM_RULE},
            # This machine runs podman: its socket is the runtime to ask.
            "collectors": {"containerEngine": {"engines": {
                "docker": {"enabled": False}, "cri": {"enabled": False}, "podman": {"enabled": True}}}},
            "falcosidekick": {"enabled": True,
                              "url": f"http://host.containers.internal:{cls.server.server_address[1]}"},
        })
        cls.docs = lib.resources(lib.render(values))
        cls.agent = podlib.PodmanPod(cls.docs, Path(cls.tmp.name), name=AGENT)
        podman("rm", "-f", WORKLOAD, check=False)
        cls.agent.start()

    @classmethod
    def tearDownClass(cls):
        out, err = cls.agent.logs()
        print(f"--- agent stdout (tail) ---\n{out[-3000:]}\n--- agent stderr (tail) ---\n{err[-3000:]}")
        cls.agent.remove()
        podman("rm", "-f", "-t", "0", WORKLOAD, check=False)
        cls.api.__exit__(None, None, None)
        cls.server.shutdown()
        cls.tmp.cleanup()

    def alerts(self) -> list[dict]:
        out, _ = self.agent.logs()
        alerts = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    alerts.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return alerts

    def test_1_healthz_answers(self):
        self.wait_healthy()

    def wait_healthy(self):
        """Waits for the liveness probe's endpoint, as the kubelet would;
        fails at once if the agent exited."""
        probe = lib.agent_container(self.docs)["livenessProbe"]["httpGet"]

        def healthy():
            if not self.agent.running():
                raise AssertionError(f"the agent exited: {self.agent.logs()}\n"
                                     f"podman {' '.join(self.agent.run_args_used)}")
            try:
                return self.agent.http_get(probe["path"])[0] == 200
            except OSError:
                return False
        self.assertTrue(podlib.wait_until(healthy, 90, reraise=AssertionError),
                        f"{probe['path']} never answered 200; logs={self.agent.logs()}")

    def test_2_shell_in_container_detected_with_name_and_image(self):
        self.wait_healthy()
        podman("run", "-d", "--name", WORKLOAD, "--label", "io.kubernetes.pod.name=nginx-7d9c",
               "--label", "io.kubernetes.pod.namespace=default", WORKLOAD_IMAGE, "sleep", "600")
        # An interactive shell, as `kubectl exec -it nginx -- sh` gives (a tty via script(1)).
        subprocess.run(["script", "-qec", f"podman exec -it {WORKLOAD} sh -c 'cat {CANARY}; exit 0'", "/dev/null"],
                       check=True, capture_output=True, timeout=60)

        def shell_alert():
            for alert in self.alerts():
                fields = alert.get("output_fields", {})
                if alert.get("rule") == SHELL_RULE and fields.get("container.name") == WORKLOAD:
                    return alert
            return None
        alert = podlib.wait_until(shell_alert, 30)
        self.assertIsNotNone(alert, f"no {SHELL_RULE!r} alert for {WORKLOAD}; alerts: {self.alerts()}")
        print(f"shell detected: {alert['output']}")
        self.assertEqual(alert["output_fields"]["proc.name"], "sh")
        self.assertIn(WORKLOAD, alert["output"])
        self.assertEqual(alert["output_fields"]["container.image.repository"], WORKLOAD_IMAGE.rsplit(":", 1)[0])
        self.assertIn(WORKLOAD_IMAGE.rsplit(":", 1)[0], alert["output"])

        # The customRules rule fired too, with the container in its output.
        canary = podlib.wait_until(
            lambda: next((a for a in self.alerts() if a.get("rule") == "Chart canary file read"), None), 30)
        self.assertIsNotNone(canary, f"the customRules rule did not fire; alerts: {self.alerts()}")
        self.assertIn(f"container={WORKLOAD}", canary["output"])
        self.assertEqual(canary["priority"], "Warning")

        # And falcosidekick's endpoint received it as the same JSON.
        posted = podlib.wait_until(
            lambda: next((a for a in AlertReceiver.received if a.get("rule") == "Chart canary file read"), None), 30)
        self.assertIsNotNone(posted, f"nothing POSTed to the falcosidekick URL: {AlertReceiver.received}")
        self.assertEqual(posted["output"], canary["output"])


if __name__ == "__main__":
    unittest.main()
