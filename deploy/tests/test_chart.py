"""The Helm chart, rendered by real Helm (helm-python-sdk's Go engine):
rendering of the default values and of meaningful combinations, `helm lint
--strict`, every resource validated against Kubernetes' own schemas of several
versions, malformed values rejected with clear messages, and the README and
the plain manifests in sync with the chart.

Run from the repository: `<helm venv>/bin/python -m unittest -v deploy/tests/test_chart.py`
(the Rust test crate `peregrine-deploy-tests` does this under `cargo test`).
"""

from __future__ import annotations

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kubernetes_validate  # noqa: E402
import yaml  # noqa: E402
from helm_python.chart import lint  # noqa: E402
from helm_python.errors import HelmError, HelmRenderError, HelmValuesError  # noqa: E402

import chartlib as lib  # noqa: E402
import schema  # noqa: E402


class ChartTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chart = lib.load_chart()

    @classmethod
    def tearDownClass(cls):
        cls.chart.close()

    def docs(self, values=None):
        return lib.resources(lib.render(values, chart=self.chart))


class Render(ChartTestCase):
    """What each meaningful combination of values renders to."""

    def test_every_combination_renders(self):
        for name, values in lib.COMBINATIONS.items():
            with self.subTest(combination=name):
                docs = self.docs(values)
                self.assertTrue(docs, "nothing rendered")
                self.assertReferencesResolve(docs)

    def assertReferencesResolve(self, docs):
        """The pod spec names only things the release creates or the cluster has."""
        wl = lib.workload(docs)
        pod = wl["spec"]["template"]
        self.assertEqual(wl["spec"]["selector"]["matchLabels"],
                         {k: pod["metadata"]["labels"][k] for k in wl["spec"]["selector"]["matchLabels"]},
                         "selector does not match the pod labels")
        spec = pod["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        configmaps = {d["metadata"]["name"] for d in lib.by_kind(docs, "ConfigMap")}
        for v in volumes.values():
            if "configMap" in v:
                self.assertIn(v["configMap"]["name"], configmaps, f"volume {v['name']} names a missing ConfigMap")
        for c in spec["containers"]:
            for m in c.get("volumeMounts", []):
                self.assertIn(m["name"], volumes, f"mount {m['mountPath']} names a missing volume")
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in c:
                    self.assertIn(c[probe]["httpGet"]["port"], ports, f"{probe} names a missing port")
        accounts = {d["metadata"]["name"] for d in lib.by_kind(docs, "ServiceAccount")}
        if accounts:
            self.assertIn(spec["serviceAccountName"], accounts)
        for svc in lib.by_kind(docs, "Service"):
            for key, value in svc["spec"]["selector"].items():
                self.assertEqual(pod["metadata"]["labels"].get(key), value, "Service selects no agent pod")
            for port in svc["spec"]["ports"]:
                self.assertIn(port["targetPort"], {p["name"] for p in lib.agent_container(docs)["ports"]})

    def test_defaults_least_privileged_daemonset(self):
        docs = self.docs()
        self.assertEqual(sorted(d["kind"] for d in docs), ["ConfigMap", "DaemonSet", "ServiceAccount"])
        ds = lib.one(docs, "DaemonSet")
        spec = ds["spec"]["template"]["spec"]
        self.assertTrue(spec["hostPID"])
        self.assertFalse(spec.get("hostNetwork", False))
        self.assertFalse(spec["automountServiceAccountToken"])
        self.assertEqual(spec["tolerations"], [{"operator": "Exists"}], "must run on every node, control plane too")
        c = lib.agent_container(docs)
        sc = c["securityContext"]
        self.assertFalse(sc["privileged"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertEqual(sorted(sc["capabilities"]["add"]),
                         ["BPF", "DAC_READ_SEARCH", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"])
        self.assertNotIn("SYS_ADMIN", sc["capabilities"]["add"])
        self.assertEqual(sc["seccompProfile"], {"type": "Unconfined"})
        annotations = ds["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["container.apparmor.security.beta.kubernetes.io/peregrine"], "unconfined")
        self.assertEqual(c["image"], "ghcr.io/peregrine-security/peregrine:0.1.0")
        self.assertEqual(c["command"], ["/usr/bin/peregrine"])
        self.assertEqual(c["args"], ["-c", "/etc/peregrine/config/peregrine.yaml"])
        env = {e["name"]: e for e in c["env"]}
        self.assertEqual(env["HOST_ROOT"]["value"], "/host")
        self.assertEqual(env["FALCO_HOSTNAME"]["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName")
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        for host, inside in [("/proc", "/host/proc"), ("/etc", "/host/etc"),
                             ("/run/containerd/containerd.sock", "/host/run/containerd/containerd.sock"),
                             ("/run/crio/crio.sock", "/host/run/crio/crio.sock"),
                             ("/var/run/docker.sock", "/host/var/run/docker.sock")]:
            self.assertIn(inside, mounts)
            self.assertTrue(mounts[inside].get("readOnly"), f"{inside} must be read-only")
            self.assertEqual(volumes[mounts[inside]["name"]]["hostPath"]["path"], host)
        # Nothing else of the host: no /sys, /dev, /boot, /lib/modules, /usr.
        host_paths = {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
        self.assertEqual(host_paths, {"/proc", "/etc", "/var/run/docker.sock", "/run/containerd/containerd.sock",
                                      "/run/crio/crio.sock", "/run/k3s/containerd/containerd.sock"})
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            self.assertEqual(c[probe]["httpGet"], {"path": "/healthz", "port": "web"})
        self.assertEqual(c["ports"], [{"name": "web", "containerPort": 8765, "protocol": "TCP"}])
        self.assertEqual(c["resources"]["limits"]["memory"], "1Gi")

    def test_defaults_agent_config(self):
        cfg = lib.agent_config(self.docs())
        self.assertEqual(cfg["rules_files"], ["/etc/peregrine/rules", "/etc/peregrine/rules.d"])
        self.assertEqual(cfg["engine"]["kind"], "modern_ebpf")
        self.assertEqual(cfg["engine"]["modern_ebpf"]["buf_size_preset"], 4)
        self.assertEqual(cfg["webserver"], {"enabled": True, "listen_port": 8765, "listen_address": "0.0.0.0",
                                            "k8s_healthz_endpoint": "/healthz",
                                            "prometheus_metrics_enabled": False})
        self.assertFalse(cfg["syslog_output"]["enabled"], "no /dev/log in the pod")
        self.assertFalse(cfg["http_output"]["enabled"])
        self.assertTrue(cfg["json_output"])
        # Peregrine's default rules name container and pod fields in their
        # outputs; appending suggested fields (Falco's default) would repeat them.
        self.assertNotIn("append_output", cfg)
        self.assertEqual(cfg["load_plugins"], ["container"])
        (plugin,) = cfg["plugins"]
        self.assertEqual(plugin["name"], "container")
        engines = plugin["init_config"]["engines"]
        self.assertEqual({name: e["enabled"] for name, e in engines.items()},
                         {"docker": True, "podman": False, "containerd": False, "cri": True})
        self.assertEqual(engines["cri"]["sockets"], ["/run/containerd/containerd.sock", "/run/crio/crio.sock",
                                                     "/run/k3s/containerd/containerd.sock"])

    def test_config_checksum_follows_config(self):
        def checksum(values):
            wl = lib.workload(self.docs(values))
            return wl["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        self.assertEqual(checksum({}), checksum({}))
        self.assertNotEqual(checksum({}), checksum({"config": {"log_level": "debug"}}))
        # Rules changes are hot-reloaded (watch_config_files), not restarts.
        self.assertEqual(checksum({"config": {"rules_files": ["/a", "/etc/peregrine/rules.d"]}}),
                         checksum({"config": {"rules_files": ["/a"]}, "customRules": {"x.yaml": "- list: a\n  items: []"}}))

    def test_falcosidekick(self):
        cfg = lib.agent_config(self.docs(lib.COMBINATIONS["falcosidekick"]))
        self.assertEqual(cfg["http_output"], {"enabled": True, "url": "http://falcosidekick:2801"})
        self.assertTrue(cfg["json_output"])
        self.assertTrue(cfg["json_include_output_property"])
        cfg = lib.agent_config(self.docs(lib.COMBINATIONS["falcosidekick-url"]))
        self.assertEqual(cfg["http_output"], {"enabled": True, "url": "https://sidekick.security.svc:2801",
                                              "insecure": True})
        # The toggle wins over a contradicting config.
        cfg = lib.agent_config(self.docs({"falcosidekick": {"enabled": True},
                                          "config": {"json_output": False, "http_output": {"enabled": False}}}))
        self.assertTrue(cfg["json_output"])
        self.assertTrue(cfg["http_output"]["enabled"])

    def test_metrics_and_servicemonitor(self):
        docs = self.docs(lib.COMBINATIONS["metrics-servicemonitor"])
        cfg = lib.agent_config(docs)
        self.assertTrue(cfg["metrics"]["enabled"])
        self.assertEqual(cfg["metrics"]["interval"], "15m")
        self.assertTrue(cfg["webserver"]["prometheus_metrics_enabled"])
        pod = lib.workload(docs)["spec"]["template"]
        self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true")
        self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/port"], "8765")
        self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/path"], "/metrics")
        svc = lib.one(docs, "Service")
        self.assertEqual(svc["spec"]["ports"], [{"name": "metrics", "port": 9376, "targetPort": "web",
                                                 "protocol": "TCP"}])
        sm = lib.one(docs, "ServiceMonitor")
        self.assertServiceMonitorSelects(sm, svc)
        self.assertEqual(sm["metadata"]["labels"]["release"], "kube-prometheus-stack")
        self.assertEqual(sm["spec"]["endpoints"][0]["interval"], "30s")
        # The toggle turns the web server on, as in Falco's chart.
        cfg = lib.agent_config(self.docs({"metrics": {"enabled": True}, "config": {"webserver": {"enabled": False}}}))
        self.assertTrue(cfg["webserver"]["enabled"])
        # Without metrics: no Service, no annotations, metrics off.
        docs = self.docs()
        self.assertFalse(lib.by_kind(docs, "Service"))
        self.assertNotIn("prometheus.io/scrape", lib.workload(docs)["spec"]["template"]["metadata"]["annotations"])

    def assertServiceMonitorSelects(self, sm, svc):
        """What the Prometheus Operator does with a ServiceMonitor: select the
        Service by labels in the namespace, scrape its named port."""
        self.assertEqual(sm["apiVersion"], "monitoring.coreos.com/v1")
        for key, value in sm["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(svc["metadata"]["labels"].get(key), value, f"ServiceMonitor selector {key}")
        self.assertIn(svc["metadata"]["namespace"], sm["spec"]["namespaceSelector"]["matchNames"])
        ports = {p["name"] for p in svc["spec"]["ports"]}
        for endpoint in sm["spec"]["endpoints"]:
            self.assertIn(endpoint["port"], ports)
            self.assertEqual(endpoint["path"], "/metrics")

    def test_custom_rules_mounted_and_loaded_after_defaults(self):
        docs = self.docs(lib.COMBINATIONS["custom-rules"])
        rules_cm = next(d for d in lib.by_kind(docs, "ConfigMap") if d["metadata"]["name"] == "peregrine-rules")
        self.assertEqual(rules_cm["data"]["10-canary.yaml"].strip(), lib.CUSTOM_RULE.strip())
        self.assertEqual(yaml.safe_load(rules_cm["data"]["20-more.yml"]), [{"list": "web_images", "items": ["nginx"]}])
        cfg = lib.agent_config(docs)
        # The user replaced rules_files: the chart still appends the custom rules, last.
        self.assertEqual(cfg["rules_files"], ["/etc/peregrine/rules", "/etc/peregrine/rules.d"])
        self.assertEqual(cfg["priority"], "warning")
        c = lib.agent_container(docs)
        mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/etc/peregrine/rules.d")
        volume = next(v for v in lib.workload(docs)["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
        self.assertEqual(volume["configMap"]["name"], "peregrine-rules")
        # Without customRules nothing is mounted there.
        self.assertFalse([m for m in lib.agent_container(self.docs())["volumeMounts"]
                          if m["mountPath"] == "/etc/peregrine/rules.d"])

    def test_deployment_without_syscall_source_has_no_host_access(self):
        docs = self.docs(lib.COMBINATIONS["deployment-no-syscalls"])
        self.assertFalse(lib.by_kind(docs, "DaemonSet"))
        dep = lib.one(docs, "Deployment")
        self.assertEqual(dep["spec"]["replicas"], 2)
        spec = dep["spec"]["template"]["spec"]
        self.assertNotIn("hostPID", spec)
        self.assertFalse([v for v in spec["volumes"] if "hostPath" in v])
        c = lib.agent_container(docs)
        self.assertEqual(c["args"][-2:], ["--disable-source", "syscall"])
        self.assertNotIn("HOST_ROOT", {e["name"] for e in c["env"]})
        cfg = lib.agent_config(docs)
        self.assertNotIn("engine", cfg)
        self.assertNotIn("plugins", cfg)
        self.assertNotIn("container.apparmor.security.beta.kubernetes.io/peregrine",
                         dep["spec"]["template"]["metadata"]["annotations"])

    def test_placement_registry_and_overrides(self):
        docs = self.docs(lib.COMBINATIONS["private-registry-placement"])
        ds = lib.one(docs, "DaemonSet")
        spec = ds["spec"]["template"]["spec"]
        c = lib.agent_container(docs)
        self.assertEqual(c["image"], "registry.corp.example/security/peregrine:0.1.0-rc1")
        self.assertEqual(c["imagePullPolicy"], "Always")
        self.assertEqual(spec["imagePullSecrets"], [{"name": "regcred"}])
        self.assertEqual(spec["priorityClassName"], "system-node-critical")
        self.assertEqual(spec["nodeSelector"], {"kubernetes.io/os": "linux"})
        self.assertIn("nodeAffinity", spec["affinity"])
        self.assertEqual(spec["tolerations"][0]["key"], "node-role.kubernetes.io/control-plane")
        self.assertEqual(c["resources"], {"requests": {"cpu": "200m", "memory": "300Mi"},
                                          "limits": {"cpu": "1000m", "memory": "1Gi"}})
        self.assertEqual(spec["securityContext"], {"fsGroup": 0})
        self.assertEqual(spec["serviceAccountName"], "peregrine-agent")
        self.assertEqual(ds["metadata"]["annotations"], {"owner": "platform"})
        self.assertEqual(ds["spec"]["updateStrategy"]["rollingUpdate"], {"maxUnavailable": "10%"})
        self.assertEqual(ds["spec"]["template"]["metadata"]["labels"]["tier"], "node-agent")
        self.assertEqual(ds["spec"]["template"]["metadata"]["annotations"]["team"], "security")

    def test_runtime_sockets_follow_engines(self):
        def sockets(values):
            docs = self.docs(values)
            mounts = [m["mountPath"] for m in lib.agent_container(docs)["volumeMounts"]
                      if m["name"].startswith("runtime-socket-")]
            cfg = lib.agent_config(docs)
            engines = cfg["plugins"][0]["init_config"]["engines"]
            return mounts, sorted(name for name, e in engines.items() if e["enabled"])
        mounts, engines = sockets(lib.COMBINATIONS["runtimes-containerd-podman"])
        self.assertEqual(mounts, ["/host/run/podman/podman.sock", "/host/run/containerd/containerd.sock"])
        self.assertEqual(engines, ["cri", "podman"])
        mounts, engines = sockets(lib.COMBINATIONS["collectors-off"])
        self.assertEqual((mounts, engines), ([], []))
        # The same socket in two engines is mounted once.
        mounts, _ = sockets({"collectors": {"containerEngine": {"engines": {
            "containerd": {"enabled": True, "sockets": ["/run/containerd/containerd.sock"]}}}}})
        self.assertEqual(mounts.count("/host/run/containerd/containerd.sock"), 1)

    def test_privileged_override(self):
        docs = self.docs(lib.COMBINATIONS["privileged"])
        sc = lib.agent_container(docs)["securityContext"]
        self.assertTrue(sc["privileged"])
        self.assertNotIn("capabilities", sc)
        self.assertNotIn("container.apparmor.security.beta.kubernetes.io/peregrine",
                         lib.workload(docs)["spec"]["template"]["metadata"]["annotations"])

    def test_webserver_off_and_tls(self):
        docs = self.docs(lib.COMBINATIONS["webserver-off"])
        c = lib.agent_container(docs)
        for key in ("ports", "startupProbe", "livenessProbe", "readinessProbe"):
            self.assertNotIn(key, c)
        docs = self.docs(lib.COMBINATIONS["webserver-tls-port"])
        c = lib.agent_container(docs)
        self.assertEqual(c["ports"][0]["containerPort"], 8443)
        self.assertEqual(c["livenessProbe"]["httpGet"]["scheme"], "HTTPS")
        annotations = lib.workload(docs)["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/port"], "8443")
        self.assertEqual(annotations["prometheus.io/scheme"], "https")

    def test_falco_values_file(self):
        docs = self.docs(lib.COMBINATIONS["falco-values-file"])
        cfg = lib.agent_config(docs)
        self.assertFalse(cfg["json_output"])
        self.assertEqual(cfg["priority"], "notice")
        self.assertEqual(cfg["rules_files"], ["/etc/peregrine/rules"])
        self.assertEqual(cfg["engine"]["kind"], "modern_ebpf", "every Falco driver kind maps to the one probe")
        self.assertEqual(lib.workload(docs)["spec"]["template"]["spec"]["priorityClassName"], "high")
        rendered = lib.render(lib.COMBINATIONS["falco-values-file"], chart=self.chart)
        notes = next(v for k, v in rendered.items() if k.endswith("NOTES.txt"))
        self.assertIn("driver.kind=kmod is a Falco driver kind", notes)

    def test_extras_and_names(self):
        docs = self.docs(lib.COMBINATIONS["extras"])
        for d in docs:
            self.assertEqual(d["metadata"]["namespace"], "security")
        ds = lib.one(docs, "DaemonSet")
        self.assertEqual(ds["metadata"]["name"], "node-security")
        spec = ds["spec"]["template"]["spec"]
        self.assertEqual(spec["initContainers"][0]["name"], "wait")
        c = lib.agent_container(docs)
        self.assertEqual(c["args"][-2:], ["-o", "log_level=debug"])
        self.assertIn({"name": "RUST_BACKTRACE", "value": "1"}, c["env"])
        self.assertIn({"name": "certs", "mountPath": "/etc/peregrine/certs", "readOnly": True}, c["volumeMounts"])
        self.assertIn({"name": "certs", "secret": {"secretName": "peregrine-certs"}}, spec["volumes"])


class Lint(unittest.TestCase):
    """`helm lint --strict` (warnings are failures) for several Kubernetes versions."""

    def test_strict_lint(self):
        for kube in lib.KUBE_VERSIONS:
            for name, values in lib.COMBINATIONS.items():
                with self.subTest(kube=kube, combination=name):
                    report = lint(lib.CHART_DIR, values, strict=True, kube_version=f"v{kube}.0",
                                  namespace=lib.NAMESPACE)
                    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
                    self.assertEqual(problems, [], json.dumps(report, indent=2))


class KubernetesSchemas(unittest.TestCase):
    """Every rendered resource is valid for the Kubernetes API (strict:
    unknown fields are errors) of each supported version."""

    def test_every_resource_of_every_combination(self):
        with lib.load_chart() as chart:
            rendered = {name: lib.resources(lib.render(values, chart=chart))
                        for name, values in lib.COMBINATIONS.items()}
        checked = 0
        for kube in lib.KUBE_VERSIONS:
            for name, docs in rendered.items():
                for doc in docs:
                    if doc["kind"] == "ServiceMonitor":
                        continue  # a CRD: checked against the Service it selects in Render
                    with self.subTest(kube=kube, combination=name, kind=doc["kind"]):
                        kubernetes_validate.validate(doc, kube, strict=True)
                        checked += 1
        self.assertGreater(checked, len(lib.COMBINATIONS) * len(lib.KUBE_VERSIONS) * 3)

    def test_plain_manifests(self):
        docs = [d for d in yaml.safe_load_all(lib.MANIFESTS.read_text()) if d]
        for kube in lib.KUBE_VERSIONS:
            for doc in docs:
                with self.subTest(kube=kube, kind=doc["kind"]):
                    kubernetes_validate.validate(doc, kube, strict=True)

    def test_validator_catches_a_broken_resource(self):
        """The validation above can fail: a misspelt field is rejected."""
        ds = lib.one(lib.resources(lib.render({})), "DaemonSet")
        ds["spec"]["template"]["spec"]["hostPid"] = True
        with self.assertRaises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(ds, lib.KUBE_VERSIONS[-1], strict=True)


# Malformed values and the message each must produce: the key's path and what
# is wrong with it.
MALFORMED = [
    ({"image": {"pullPolicy": "Sometimes"}}, ["/image/pullPolicy", "'Always', 'IfNotPresent', 'Never'"]),
    ({"imagee": {"tag": "1"}}, ["additional properties 'imagee' not allowed"]),
    ({"controller": {"kind": "statefulset"}}, ["/controller/kind", "'daemonset', 'deployment'"]),
    ({"customRules": {"rules.txt": "- rule: x"}}, ["/customRules", "'rules.txt'", "ya?ml"]),
    ({"customRules": {"a.yaml": ["- rule: x"]}}, ["/customRules/a.yaml", "want string"]),
    ({"config": {"webserver": {"listen_port": 70000}}}, ["/config/webserver/listen_port", "65,535"]),
    ({"config": {"rules_files": "/etc/peregrine/rules"}}, ["/config/rules_files", "want array"]),
    ({"config": {"json_output": "yes"}}, ["/config/json_output", "want boolean"]),
    ({"config": {"priority": "loud"}}, ["/config/priority", "'loud'"]),
    ({"falco": {"http_output": {"url": "sidekick:2801"}}}, ["/falco/http_output/url"]),
    ({"falcosidekick": {"url": "falcosidekick:2801"}}, ["/falcosidekick/url", "'falcosidekick:2801'"]),
    ({"falcosidekick": {"enabled": "true"}}, ["/falcosidekick/enabled", "want boolean"]),
    ({"tolerations": [{"operator": "Maybe"}]}, ["/tolerations/0/operator", "'Exists', 'Equal'"]),
    ({"tolerations": {"operator": "Exists"}}, ["/tolerations", "want array"]),
    ({"resources": "large"}, ["/resources", "want object"]),
    ({"resources": {"limits": {"memory": ["1Gi"]}}}, ["/resources/limits/memory"]),
    ({"collectors": {"containerEngine": {"engines": {"cri": {"sockets": ["run/crio/crio.sock"]}}}}},
     ["/collectors/containerEngine/engines/cri/sockets/0", "'^/'"]),
    ({"collectors": {"containerEngine": {"engines": {"rkt": {"enabled": True}}}}}, ["'rkt' not allowed"]),
    ({"metrics": {"interval": "1 hour"}}, ["/metrics/interval", "'1 hour'"]),
    ({"metrics": {"service": {"port": 0}}}, ["/metrics/service/port", "minimum"]),
    ({"containerSecurityContext": {"capabilities": {"add": ["bpf"]}}},
     ["/containerSecurityContext/capabilities/add/0", "'bpf'"]),
    ({"appArmorProfile": "docker-default"}, ["/appArmorProfile", "'docker-default'"]),
    ({"driver": {"kind": "gvisor"}}, ["/driver/kind", "'modern_ebpf'"]),
    ({"healthChecks": {"livenessProbe": {"periodSeconds": 0}}}, ["/healthChecks/livenessProbe/periodSeconds"]),
    ({"fullnameOverride": "Peregrine_Agent"}, ["/fullnameOverride", "'Peregrine_Agent'"]),
    ({"imagePullSecrets": ["regcred"]}, ["/imagePullSecrets/0", "want object"]),
    ({"extra": {"args": [["-o", "x=y"]]}}, ["/extra/args/0", "want string"]),
    ({"mounts": {"volumeMounts": [{"name": "x", "mountPath": "relative"}]}}, ["/mounts/volumeMounts/0/mountPath"]),
]

# Combinations the schema cannot judge alone, refused by the chart's checks.
CONTRADICTORY = [
    ({"controller": {"kind": "deployment"}}, "syscall source (driver.enabled=true) must run on every node"),
    ({"serviceMonitor": {"create": True}}, "serviceMonitor.create=true scrapes the metrics Service"),
    ({"containerSecurityContext": {"privileged": True}}, "allowPrivilegeEscalation=true"),
]


class MalformedValues(unittest.TestCase):
    """Malformed values are refused before anything renders, with a message
    naming the key and the rule it breaks."""

    def test_schema_rejections(self):
        with lib.load_chart() as chart:
            for values, expected in MALFORMED:
                with self.subTest(values=values):
                    with self.assertRaises(HelmValuesError) as caught:
                        chart.render(values=values, name=lib.RELEASE, namespace=lib.NAMESPACE)
                    message = str(caught.exception)
                    for part in expected:
                        self.assertIn(part, message)
                    # The same rejection through the schema alone (what `helm install` runs first).
                    with self.assertRaises(HelmValuesError):
                        chart.validate_schema(chart.merge_values(values))

    def test_contradictions_rejected(self):
        with lib.load_chart() as chart:
            for values, expected in CONTRADICTORY:
                with self.subTest(values=values):
                    with self.assertRaises(HelmRenderError) as caught:
                        chart.render(values=values, name=lib.RELEASE, namespace=lib.NAMESPACE)
                    self.assertIn(expected, str(caught.exception))

    def test_well_formed_values_accepted(self):
        with lib.load_chart() as chart:
            for name, values in lib.COMBINATIONS.items():
                with self.subTest(combination=name):
                    try:
                        chart.validate_schema(chart.merge_values(values))
                    except HelmError as e:  # pragma: no cover - the failure message is the point
                        self.fail(f"{name}: {e}")


class Documentation(unittest.TestCase):
    """The README lists every value; the schema knows every value."""

    maxDiff = None

    def test_readme_values_table_in_sync(self):
        readme = lib.README.read_text()
        expected = lib.readme_with_table(readme)
        self.assertEqual(readme, expected,
                         "deploy/helm/peregrine/README.md's values table is stale: run "
                         "`~/.cache/peregrine/helm-venv/bin/python deploy/tests/update.py`")

    def test_every_value_documented_once(self):
        rows = lib.documented_values()
        keys = [k for k, _, _ in rows]
        self.assertEqual(len(keys), len(set(keys)))
        # Independently of the comment parser: every leaf of values.yaml is
        # a documented key or inside one.
        defaults = yaml.safe_load((lib.CHART_DIR / "values.yaml").read_text())
        for leaf in leaves(defaults):
            self.assertTrue(any(leaf == k or leaf.startswith(k + ".") for k in keys), f"{leaf} is not documented")
        for key in keys:
            self.assertIn(f"`{key}`", lib.README.read_text())

    def test_schema_file_in_sync(self):
        self.assertEqual((lib.CHART_DIR / "values.schema.json").read_text(), schema.values_schema_json(),
                         "values.schema.json is stale: run "
                         "`~/.cache/peregrine/helm-venv/bin/python deploy/tests/update.py`")

    def test_schema_knows_every_value(self):
        schema = json.loads((lib.CHART_DIR / "values.schema.json").read_text())
        for key, _, _ in lib.documented_values():
            node = schema
            for part in key.split("."):
                self.assertIn(part, node.get("properties", {}), f"values.schema.json has no {key}")
                node = node["properties"][part]


def leaves(tree, prefix=""):
    if isinstance(tree, dict) and tree:
        for k, v in tree.items():
            yield from leaves(v, f"{prefix}{k}.")
    else:
        yield prefix.rstrip(".")


class PlainManifests(unittest.TestCase):
    maxDiff = None

    def test_in_sync_with_chart_defaults(self):
        self.assertEqual(lib.MANIFESTS.read_text(), lib.plain_manifests(),
                         "deploy/kubernetes/peregrine.yaml is stale: run "
                         "`~/.cache/peregrine/helm-venv/bin/python deploy/tests/update.py`")


if __name__ == "__main__":
    unittest.main()
