//! Fixtures for live rule tests: a real `peregrine` process whose alerts are
//! collected from stdout, real podman containers, and a scratch directory,
//! all cleaned up on drop (also when a test panics).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_peregrine");

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running `peregrine` with the default rules; every stdout line is kept.
pub struct Peregrine {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    pub json: bool,
}

fn collect(reader: impl std::io::Read + Send + 'static, sink: Arc<Mutex<Vec<String>>>) {
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut v) = sink.lock() {
                v.push(line);
            }
        }
    });
}

impl Peregrine {
    /// Starts live detection with the default rules and config and waits
    /// until the probe is attached.
    pub fn start(json: bool) -> Peregrine {
        let root = project_root();
        let config = root.join("peregrine.yaml");
        let rules = root.join("rules/peregrine_rules.yaml");
        let mut args = vec![
            "-c",
            config.to_str().expect("utf-8 path"),
            "-r",
            rules.to_str().expect("utf-8 path"),
            "-o",
            "webserver.enabled=false",
            "-o",
            "watch_config_files=false",
        ];
        if json {
            args.extend(["-o", "json_output=true"]);
        }
        Peregrine::spawn(&args)
    }

    /// Starts `peregrine ARGS` in the project root and waits until the
    /// probe is attached.
    pub fn spawn(args: &[&str]) -> Peregrine {
        let mut child = Command::new(BIN)
            .current_dir(project_root())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn peregrine");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().expect("stdout"), stdout.clone());
        collect(child.stderr.take().expect("stderr"), stderr.clone());
        let p = Peregrine {
            child,
            stdout,
            stderr,
            json: args.contains(&"json_output=true"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if p.stderr_lines()
                .iter()
                .any(|l| l.contains("live detection started"))
            {
                return p;
            }
            if let Some(lines) = p.exited() {
                panic!("peregrine exited before starting:\n{lines}");
            }
            assert!(
                Instant::now() < deadline,
                "peregrine did not start within 60 s:\n{}",
                p.stderr_lines().join("\n")
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    fn exited(&self) -> Option<String> {
        // try_wait needs &mut; a kill(pid, 0) probe does not.
        let alive = unsafe { libc::kill(self.child.id() as i32, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        (!alive || zombie).then(|| self.stderr_lines().join("\n"))
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Every JSON alert so far (lines that are not JSON are skipped).
    pub fn alerts(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("rule").is_some())
            .collect()
    }

    /// The first JSON alert of `rule` whose output fields satisfy `pred`.
    pub fn wait_alert(
        &self,
        rule: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        wait_for(timeout, || {
            self.alerts()
                .into_iter()
                .find(|a| a["rule"] == rule && pred(&a["output_fields"]))
        })
    }

    /// The first text line satisfying `pred`.
    pub fn wait_line(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(timeout, || self.lines().into_iter().find(|l| pred(l)))
    }

    /// The first stderr line satisfying `pred`.
    pub fn wait_stderr(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(timeout, || {
            self.stderr_lines().into_iter().find(|l| pred(l))
        })
    }

    /// SIGTERM, then the exit status, stdout (the summary is at its end)
    /// and stderr.
    pub fn stop(mut self) -> (Option<i32>, Vec<String>, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break s.code(),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = self.child.kill();
                    break None;
                }
            }
        };
        // Let the reader threads drain the pipes.
        thread::sleep(Duration::from_millis(200));
        (status, self.lines(), self.stderr_lines().join("\n"))
    }
}

impl Drop for Peregrine {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A string field of an alert's `output_fields` (empty when null/absent).
/// Polls `found` every 50 ms until it gives something or `timeout` passes.
fn wait_for<T>(timeout: Duration, found: impl Fn() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(x) = found() {
            return Some(x);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

pub fn field<'a>(fields: &'a Value, key: &str) -> &'a str {
    fields.get(key).and_then(Value::as_str).unwrap_or("")
}

pub fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    Command::new(program.as_ref())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {:?}: {e}", program.as_ref()))
}

pub fn sh(script: &str) -> Output {
    run("/bin/sh", &["-c", script])
}

/// A scratch directory on the root filesystem (hard links to /etc files
/// need the same filesystem), removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
    /// Files outside `dir` to remove on drop.
    extra: Mutex<Vec<PathBuf>>,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = PathBuf::from(format!("/var/tmp/{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        // Non-root scenario actors must reach it.
        let _ = run("chmod", &["0755", &dir.to_string_lossy()]);
        Scratch {
            dir,
            extra: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Remembers a file elsewhere (/bin, /etc, /root, /var/log, /dev/shm)
    /// to delete on drop.
    pub fn track(&self, path: impl Into<PathBuf>) -> String {
        let p = path.into();
        let s = p.to_string_lossy().into_owned();
        if let Ok(mut v) = self.extra.lock() {
            v.push(p);
        }
        s
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Ok(v) = self.extra.lock() {
            for p in v.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// The local busybox image the container scenarios use, built offline from
/// the host's static busybox when absent. Extra names are busybox links
/// standing for tools the rules look for (a package manager, debugfs).
pub const IMAGE: &str = "localhost/peregrine-livetests-bb:1";

pub fn ensure_image() {
    if run("podman", &["image", "exists", IMAGE]).status.success() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("peregrine-lt-image-{}", std::process::id()));
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).expect("rootfs dir");
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox (busybox-static) is installed");
    std::fs::copy(busybox, bin.join("busybox")).expect("copy busybox");
    for name in [
        "sh", "cat", "echo", "sleep", "ls", "cp", "nc", "arping", "ping", "dpkg", "debugfs",
        "true", "mkdir", "mount",
    ] {
        std::os::unix::fs::symlink("busybox", bin.join(name)).expect("symlink applet");
    }
    for d in ["tmp", "etc", "proc", "sys", "dev"] {
        std::fs::create_dir_all(dir.join("rootfs").join(d)).expect("rootfs dir");
    }
    std::fs::write(dir.join("rootfs/etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").expect("passwd");
    let tar = dir.join("bb.tar");
    let ok = run(
        "tar",
        &[
            "-C",
            &dir.join("rootfs").to_string_lossy(),
            "-cf",
            &tar.to_string_lossy(),
            ".",
        ],
    );
    assert!(ok.status.success(), "tar rootfs: {ok:?}");
    let imp = run("podman", &["import", &tar.to_string_lossy(), IMAGE]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(imp.status.success(), "podman import: {imp:?}");
}

/// A podman container running `sleep`, removed on drop.
pub struct Container {
    pub name: String,
}

impl Container {
    pub fn start(name: &str, extra: &[&str]) -> Container {
        let _ = run("podman", &["rm", "-f", "-t", "0", name]);
        let mut args = vec![
            "run",
            "-d",
            "--name",
            name,
            "--label",
            "io.kubernetes.pod.name=lt-pod",
            "--label",
            "io.kubernetes.pod.namespace=lt-ns",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[IMAGE, "sleep", "600"]);
        let out = run("podman", &args);
        assert!(out.status.success(), "podman run {name}: {out:?}");
        Container {
            name: name.to_string(),
        }
    }

    pub fn exec(&self, args: &[&str]) -> Output {
        let mut a = vec!["exec", self.name.as_str()];
        a.extend_from_slice(args);
        run("podman", &a)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = run("podman", &["rm", "-f", "-t", "0", &self.name]);
    }
}

/// Podman's Docker-compatible API, where Peregrine looks up container
/// names and images: started for the test if nothing answers on it.
pub struct PodmanService {
    child: Option<Child>,
}

pub const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

impl PodmanService {
    pub fn ensure() -> PodmanService {
        if UnixStream::connect(PODMAN_SOCKET).is_ok() {
            return PodmanService { child: None };
        }
        let _ = std::fs::create_dir_all("/run/podman");
        let child = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{PODMAN_SOCKET}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start podman system service");
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(PODMAN_SOCKET).is_err() {
            assert!(Instant::now() < deadline, "podman API did not come up");
            thread::sleep(Duration::from_millis(100));
        }
        PodmanService { child: Some(child) }
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
