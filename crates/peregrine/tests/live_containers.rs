//! The seed scenario end to end: a shell in a podman container labelled like
//! a Kubernetes pod, seen by the live agent, with user, process, container id,
//! name, image, pod and namespace in the alert (text and JSON); containers
//! started before and after the agent, one that exits at once, and a runtime
//! socket that never answers.

mod live_support;
#[path = "../../container/tests/support/mod.rs"]
mod support;

use live_support::Peregrine;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Container, PodmanService};

const RULE: &str = "Terminal shell in container";

/// A config whose container plugin asks only `socket` (Docker API).
fn config(dir: &Path, socket: &Path, json: bool) -> std::path::PathBuf {
    let rules = peregrine_testkit::project_root().join("rules/peregrine_rules.yaml");
    let cfg = format!(
        "rules_files: [{rules}]\njson_output: {json}\nstdout_output: {{enabled: true}}\nwebserver: {{enabled: false}}\nwatch_config_files: false\nload_plugins: [container]\nplugins:\n  - name: container\n    library_path: libcontainer.so\n    init_config:\n      engines:\n        docker: {{enabled: true, sockets: ['{sock}']}}\n        podman: {{enabled: false}}\n        containerd: {{enabled: false}}\n        cri: {{enabled: false}}\n",
        rules = rules.display(),
        sock = socket.display()
    );
    let p = dir.join("peregrine.yaml");
    std::fs::write(&p, cfg).unwrap();
    p
}

const POD_LABELS: [&str; 6] = [
    "--label",
    "io.kubernetes.pod.name=nginx-deployment-xyz",
    "--label",
    "io.kubernetes.pod.namespace=default",
    "--label",
    "io.kubernetes.container.name=nginx",
];

/// `podman exec -it NAME sh -c 'exit'` on a pseudo-terminal (as
/// `kubectl exec -it` does).
fn exec_shell(name: &str) {
    let status = Command::new("script")
        .args([
            "-qc",
            &format!("podman exec -it {name} sh -c exit"),
            "/dev/null",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("script");
    assert!(status.success(), "podman exec into {name}");
}

fn assert_seed_fields(alert: &serde_json::Value, c: &Container) {
    let f = &alert["output_fields"];
    assert_eq!(f["container.id"], c.id[..12], "{alert}");
    assert_eq!(f["container.name"], c.name.as_str(), "{alert}");
    assert_eq!(
        f["container.image.repository"], "localhost/peregrine-test-bb",
        "{alert}"
    );
    assert_eq!(f["k8s.pod.name"], "nginx-deployment-xyz", "{alert}");
    assert_eq!(f["k8s.ns.name"], "default", "{alert}");
    assert_eq!(f["proc.name"], "sh", "{alert}");
    assert_eq!(f["user.name"], "root", "{alert}");
    assert_eq!(alert["priority"], "Notice");
}

fn for_container<'a>(c: &'a Container) -> impl Fn(&serde_json::Value) -> bool + 'a {
    move |fields| fields["container.name"] == c.name.as_str()
}

#[test]
fn shell_in_containers_started_before_and_after_the_agent() {
    if !support::podman_ready("seed scenario") {
        return;
    }
    let svc = PodmanService::start();
    let before = Container::run_detached(
        &support::unique("pg-before"),
        &POD_LABELS,
        &["sleep", "1000"],
    );
    let cfg = config(&svc.dir.0, &svc.socket, true);
    let agent = Peregrine::spawn(&["-c", cfg.to_str().unwrap()]);

    let t0 = Instant::now();
    exec_shell(&before.name);
    let a = agent
        .wait_alert(RULE, Duration::from_secs(5), for_container(&before))
        .unwrap_or_else(|| panic!("no alert for {}: {:?}", before.name, agent.lines()));
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_seed_fields(&a, &before);

    let after = Container::run_detached(
        &support::unique("pg-after"),
        &POD_LABELS,
        &["sleep", "1000"],
    );
    exec_shell(&after.name);
    let a = agent
        .wait_alert(RULE, Duration::from_secs(5), for_container(&after))
        .unwrap_or_else(|| panic!("no alert for {}: {:?}", after.name, agent.lines()));
    assert_seed_fields(&a, &after);
    let text = a["output"].as_str().unwrap();
    for want in [
        format!("container_name={}", after.name),
        "k8s_pod_name=nginx-deployment-xyz".to_string(),
        "k8s_ns_name=default".to_string(),
    ] {
        assert!(text.contains(&want), "{want} missing in {text}");
    }
    agent.stop();
}

#[test]
fn shell_in_a_container_that_exits_at_once() {
    if !support::podman_ready("short-lived container") {
        return;
    }
    let svc = PodmanService::start();
    let cfg = config(&svc.dir.0, &svc.socket, true);
    let agent = Peregrine::spawn(&["-c", cfg.to_str().unwrap()]);
    support::ensure_image();
    let name = support::unique("pg-quick");
    let status = Command::new("script")
        .args([
            "-qc",
            &format!(
                "podman run -it --name {name} {} localhost/peregrine-test-bb:2 sh -c exit",
                POD_LABELS.join(" ")
            ),
            "/dev/null",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let id = support::run(Command::new("podman").args(["inspect", "-f", "{{.Id}}", &name]));
    let c = Container { name, id };
    assert!(status.success());
    let a = agent
        .wait_alert(RULE, Duration::from_secs(5), for_container(&c))
        .unwrap_or_else(|| panic!("no alert with metadata: {:?}", agent.lines()));
    assert_seed_fields(&a, &c);
    agent.stop();
}

#[test]
fn text_alerts_carry_the_same_fields() {
    if !support::podman_ready("seed scenario, text") {
        return;
    }
    let svc = PodmanService::start();
    let c = Container::run_detached(&support::unique("pg-text"), &POD_LABELS, &["sleep", "1000"]);
    let cfg = config(&svc.dir.0, &svc.socket, false);
    let agent = Peregrine::spawn(&["-c", cfg.to_str().unwrap()]);
    exec_shell(&c.name);
    let want = format!("container_name={}", c.name);
    assert!(
        agent
            .wait_line(Duration::from_secs(5), |l| l.contains(&want))
            .is_some(),
        "{:?}",
        agent.lines()
    );
    let out = agent.lines();
    let line = out.iter().find(|l| l.contains(&want)).unwrap();
    assert!(
        line.contains(": Notice Terminal shell in container"),
        "{line}"
    );
    for want in [
        format!("container_id={}", &c.id[..12]),
        "image=localhost/peregrine-test-bb".to_string(),
        "k8s_pod_name=nginx-deployment-xyz".to_string(),
        "k8s_ns_name=default".to_string(),
        "user=root".to_string(),
        "process=sh".to_string(),
    ] {
        assert!(line.contains(&want), "{want} missing in {line}");
    }
    agent.stop();
}

#[test]
fn a_runtime_socket_that_never_answers_does_not_delay_alerts() {
    if !support::podman_ready("dead runtime socket") {
        return;
    }
    let dir = support::TempDir::new("pg-dead-sock");
    let sock = dir.0.join("never.sock");
    // Accepts connections (the kernel does) but never reads or answers.
    let _listener = UnixListener::bind(&sock).unwrap();
    let c = Container::run_detached(&support::unique("pg-dead"), &POD_LABELS, &["sleep", "1000"]);
    let cfg = config(&dir.0, &sock, true);
    let agent = Peregrine::spawn(&["-c", cfg.to_str().unwrap()]);
    let t0 = Instant::now();
    exec_shell(&c.name);
    let exec_done = t0.elapsed();
    let id12 = c.id[..12].to_string();
    let a = agent
        .wait_alert(RULE, Duration::from_secs(5), |fields| {
            fields["container.id"] == id12.as_str()
        })
        .unwrap_or_else(|| panic!("no alert: {:?}", agent.lines()));
    let arrived = t0.elapsed();
    // Metadata cannot be had; the alert comes anyway, within a second of
    // the exec finishing.
    assert!(
        arrived < exec_done + Duration::from_secs(1),
        "alert after {arrived:?} (exec took {exec_done:?})"
    );
    assert!(a["output_fields"]["container.name"].is_null(), "{a}");
    agent.stop();
}
