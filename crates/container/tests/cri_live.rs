//! The CRI path against a real containerd 1.6 from apt with its CRI plugin,
//! isolated in a temp dir. Pods are made through the CRI API as the kubelet
//! makes them (host network, so no CNI); the image is a local busybox one
//! imported with `ctr`, no registry.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peregrine_container::testing::{fields, Enc, GrpcConn};
use peregrine_container::{
    Config, ContainerManager, ContainerRef, EngineConfig, LifecycleKind, Runtime,
};
use support::*;

const SVC: &str = "/runtime.v1.RuntimeService/";
const NODE: u64 = 2;

fn call(sock: &Path, method: &str, req: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut c = GrpcConn::connect(sock, deadline).expect("connect to containerd");
    c.call(&format!("{SVC}{method}"), req, deadline)
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn first_string(resp: &[u8]) -> String {
    fields(resp)
        .find(|(n, _)| *n == 1)
        .map(|(_, w)| w.as_string())
        .unwrap_or_default()
}

/// containerd on a private root, state and socket; stops what it ran on drop.
struct Containerd {
    child: Option<Child>,
    dir: TempDir,
    sock: PathBuf,
    sandboxes: Vec<String>,
}

impl Containerd {
    fn start() -> Containerd {
        let dir = TempDir::new("peregrine-containerd");
        let sock = dir.0.join("containerd.sock");
        let default = run(Command::new("containerd").args(["config", "default"]));
        let d = dir.0.display();
        let config = default
            .replace(
                "root = \"/var/lib/containerd\"",
                &format!("root = \"{d}/root\""),
            )
            .replace(
                "state = \"/run/containerd\"",
                &format!("state = \"{d}/state\""),
            )
            .replace(
                "address = \"/run/containerd/containerd.sock\"",
                &format!("address = \"{}\"", sock.display()),
            )
            .replace(
                "restrict_oom_score_adj = false",
                "restrict_oom_score_adj = true",
            );
        assert!(config.contains("restrict_oom_score_adj = true"));
        let cfg = dir.0.join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(dir.0.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let c = Containerd {
            child: Some(child),
            dir,
            sock,
            sandboxes: Vec::new(),
        };
        assert!(
            wait_until(Duration::from_secs(30), || c.sock.exists()),
            "containerd socket"
        );
        c
    }

    fn ctr(&self, args: &[&str]) -> String {
        run(Command::new("ctr")
            .arg("-a")
            .arg(&self.sock)
            .args(["-n", "k8s.io"])
            .args(args))
    }

    /// Imports the busybox image and tags it as the sandbox (pause) image.
    fn import_image(&self) {
        ensure_image();
        let tar = self.dir.0.join("img.tar");
        run(Command::new("podman")
            .args(["save", "--format", "oci-archive", "-o"])
            .arg(&tar)
            .arg(IMAGE));
        self.ctr(&["images", "import", &tar.display().to_string()]);
        let names = self.ctr(&["images", "ls", "-q"]);
        let name = names
            .lines()
            .find(|l| l.contains("peregrine-test-bb"))
            .unwrap_or_else(|| panic!("imported image not listed: {names}"))
            .to_string();
        if name != IMAGE {
            self.ctr(&["images", "tag", &name, IMAGE]);
        }
        self.ctr(&["images", "tag", IMAGE, "registry.k8s.io/pause:3.6"]);
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for sb in &self.sandboxes {
            let req = Enc::new().string(1, sb).finish();
            let deadline = Instant::now() + Duration::from_secs(20);
            if let Ok(mut c) = GrpcConn::connect(&self.sock, deadline) {
                let _ = c.call(&format!("{SVC}StopPodSandbox"), &req, deadline);
                let _ = c.call(&format!("{SVC}RemovePodSandbox"), &req, deadline);
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Shims this containerd started outlive it: end them by pid.
        let marker = self.sock.display().to_string();
        if let Ok(procs) = std::fs::read_dir("/proc") {
            for p in procs.flatten() {
                let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                let cmd = String::from_utf8_lossy(&cmd);
                if cmd.contains("containerd-shim") && cmd.contains(&marker) {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
            }
        }
        let prefix = self.dir.0.display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for m in points {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
    }
}

fn pod_config(e: &mut Enc, uid: &str, logs: &str) {
    e.message(1, |m| {
        m.string(1, "nginx-deployment-xyz")
            .string(2, uid)
            .string(3, "default");
    })
    .string(3, logs)
    .map(6, &[("app", "nginx"), ("tier", "web")])
    .message(8, |l| {
        l.message(2, |sc| {
            sc.message(1, |ns| {
                ns.uint(1, NODE);
            });
        });
    });
}

#[test]
fn containerd_cri_pods() {
    if !peregrine_testkit::live_ready("containerd_cri")
        || !peregrine_testkit::tool_available("containerd")
        || !podman_ready("containerd_cri")
    {
        return;
    }
    let mut cd = Containerd::start();
    cd.import_image();
    let uid = format!(
        "0f6c5d1e-{:04x}-4c1b-9a7e-5d2e8c0b1a2f",
        std::process::id() & 0xffff
    );
    let logs = cd.dir.0.join("pods").display().to_string();

    let sandbox = first_string(&call(
        &cd.sock,
        "RunPodSandbox",
        &Enc::new()
            .message(1, |c| pod_config(c, &uid, &logs))
            .finish(),
    ));
    assert_eq!(sandbox.len(), 64, "sandbox id {sandbox:?}");
    cd.sandboxes.push(sandbox.clone());

    // The manager starts between the pod and its workload container.
    let m = ContainerManager::new(Config {
        docker: EngineConfig::off(),
        podman: EngineConfig::off(),
        cri: EngineConfig::with_sockets([cd.sock.clone()]),
        cri_poll_interval: Duration::from_millis(200),
        ..Config::default()
    });

    let create = Enc::new()
        .string(1, &sandbox)
        .message(2, |c| {
            c.message(1, |m| {
                m.string(1, "nginx");
            })
            .message(2, |i| {
                i.string(1, IMAGE);
            })
            .string(3, "sleep")
            .string(4, "1000")
            .map(
                9,
                &[
                    ("io.kubernetes.pod.name", "nginx-deployment-xyz"),
                    ("io.kubernetes.pod.namespace", "default"),
                    ("io.kubernetes.container.name", "nginx"),
                ],
            )
            .string(11, "nginx.log")
            .message(15, |l| {
                l.message(2, |sc| {
                    sc.message(3, |ns| {
                        ns.uint(1, NODE);
                    });
                });
            });
        })
        .message(3, |c| pod_config(c, &uid, &logs))
        .finish();
    let container = first_string(&call(&cd.sock, "CreateContainer", &create));
    assert_eq!(container.len(), 64, "container id {container:?}");
    call(
        &cd.sock,
        "StartContainer",
        &Enc::new().string(1, &container).finish(),
    );

    // Announced by the poller, with metadata, before any process is observed.
    let mut seen = Vec::new();
    let rec = wait_lifecycle(&m, &mut seen, Duration::from_secs(20), |e| {
        e.kind == LifecycleKind::Started && e.info.full_id == container
    })
    .unwrap_or_else(|| panic!("no Started record; stats {:?}", m.stats()));
    let info = rec.info;
    assert_eq!(info.type_str(), "containerd");
    assert_eq!(info.name, "nginx");
    assert_eq!(info.image, IMAGE);
    assert_eq!(
        (info.image_repository.as_str(), info.image_tag.as_str()),
        ("localhost/peregrine-test-bb", "2")
    );
    assert!(!info.image_id.is_empty());
    assert!(!info.privileged);
    assert!(info.running && info.start_ts > 0);
    assert_eq!(info.cmdline, "sleep 1000");
    assert!(info.host_network);
    let pod = info.pod.as_ref().expect("pod info");
    assert_eq!(pod.name, "nginx-deployment-xyz");
    assert_eq!(pod.namespace, "default");
    assert_eq!(pod.uid, uid);
    assert_eq!(pod.sandbox_id, sandbox);
    assert_eq!(pod.labels.get("app").map(String::as_str), Some("nginx"));
    assert_eq!(info.labels.get("io.kubernetes.sandbox.id"), Some(&sandbox));

    // The container's process: its cgroup names it, and users resolve from its rootfs.
    assert!(info.pid > 0, "verbose info carries the pid");
    let cref = ContainerRef::read_proc(info.pid)
        .unwrap()
        .expect("container cgroup");
    assert_eq!(cref.id(), container);
    assert_eq!(cref.runtime(), Runtime::Containerd);
    assert_eq!(
        m.get(cref.id()).map(|i| i.name.clone()),
        Some("nginx".into())
    );
    assert_eq!(
        m.user(&cref, info.pid, 4321).map(|u| u.name.clone()),
        Some("web".into())
    );

    // The pod sandbox (pause) process resolves to the pod.
    let sref = ContainerRef::new(&sandbox, Runtime::Cri).unwrap();
    m.observe(&sref, 0);
    assert!(
        wait_until(Duration::from_secs(10), || m.get(&sandbox).is_some()),
        "{:?}",
        m.stats()
    );
    let sb = m.get(&sandbox).unwrap();
    assert!(sb.is_pod_sandbox);
    assert_eq!(
        sb.pod.as_ref().map(|p| p.name.as_str()),
        Some("nginx-deployment-xyz")
    );

    // Stopping the container is announced by the poller.
    call(
        &cd.sock,
        "StopContainer",
        &Enc::new().string(1, &container).uint(2, 1).finish(),
    );
    assert!(
        wait_lifecycle(&m, &mut seen, Duration::from_secs(20), |e| {
            e.kind == LifecycleKind::Stopped && e.info.full_id == container
        })
        .is_some(),
        "no Stopped record"
    );
    drop(m);
}
