//! Real podman containers and a real `podman system service` for the live
//! tests. Everything created is named uniquely and removed on drop, even
//! when a test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use peregrine_container::{ContainerManager, LifecycleEvent};

pub const IMAGE: &str = "localhost/peregrine-test-bb:2";

/// Whether podman live tests can run (they must under CI).
pub fn podman_ready(what: &str) -> bool {
    peregrine_testkit::live_ready(what) && peregrine_testkit::tool_available("podman")
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds the busybox test image (with its own /etc/passwd and /etc/group)
/// once; no registry is needed.
pub fn ensure_image() {
    let exists = Command::new("podman")
        .args(["image", "exists", IMAGE])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if exists {
        return;
    }
    let dir = TempDir::new("peregrine-img");
    let root = dir.0.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("srv/web")).unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed");
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for c in ["sh", "sleep", "cat", "echo", "ls", "id", "true"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(c)).unwrap();
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:container root:/root:/bin/sh\nweb:x:4321:4322:web user:/srv/web:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nwebgrp:x:4322:\n").unwrap();
    let tar = dir.0.join("rootfs.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    run(Command::new("podman")
        .args([
            "import",
            "-q",
            "--change",
            "CMD [\"sleep\",\"1000000\"]",
            "--change",
            "ENV PATH=/bin",
        ])
        .arg(&tar)
        .arg(IMAGE));
}

/// `podman system service` on a private socket.
pub struct PodmanService {
    child: Child,
    pub dir: TempDir,
    pub socket: PathBuf,
}

impl PodmanService {
    pub fn start() -> PodmanService {
        let dir = TempDir::new("peregrine-podman");
        let socket = dir.0.join("podman.sock");
        let child = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman system service");
        let svc = PodmanService { child, dir, socket };
        wait_until(Duration::from_secs(20), || svc.socket.exists());
        svc
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A podman container removed on drop.
pub struct Container {
    pub name: String,
    pub id: String,
}

impl Container {
    /// `podman run -d` with extra args before the image, then `cmd`.
    pub fn run_detached(name: &str, args: &[&str], cmd: &[&str]) -> Container {
        ensure_image();
        let id = run(Command::new("podman")
            .args(["run", "-d", "--name", name])
            .args(args)
            .arg(IMAGE)
            .args(cmd));
        Container {
            name: name.into(),
            id,
        }
    }

    /// `podman run` in the foreground: the container has exited on return.
    pub fn run_to_exit(name: &str, cmd: &[&str]) -> Container {
        ensure_image();
        run(Command::new("podman")
            .args(["run", "--name", name])
            .arg(IMAGE)
            .args(cmd));
        let id = run(Command::new("podman").args(["inspect", "-f", "{{.Id}}", name]));
        Container {
            name: name.into(),
            id,
        }
    }

    pub fn pid(&self) -> u32 {
        run(Command::new("podman").args(["inspect", "-f", "{{.State.Pid}}", &self.name]))
            .parse()
            .expect("pid")
    }

    pub fn stop(&self) {
        run(Command::new("podman").args(["stop", "-t", "0", &self.name]));
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Collects lifecycle records until `pred` finds one, or `limit` passes.
pub fn wait_lifecycle(
    m: &ContainerManager,
    seen: &mut Vec<LifecycleEvent>,
    limit: Duration,
    pred: impl Fn(&LifecycleEvent) -> bool,
) -> Option<LifecycleEvent> {
    let end = Instant::now() + limit;
    loop {
        if let Some(e) = seen.iter().find(|e| pred(e)) {
            return Some(e.clone());
        }
        if Instant::now() >= end {
            return None;
        }
        m.drain_lifecycle(seen);
        std::thread::sleep(Duration::from_millis(20));
    }
}
