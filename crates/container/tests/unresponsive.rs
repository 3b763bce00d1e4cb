//! A runtime socket that accepts connections but never answers must not
//! delay callers: `observe`/`get` return at once, lookups time out on the
//! workers, are counted and retried with backoff.

mod support;

use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use peregrine_container::{
    Config, ContainerManager, ContainerRef, EngineConfig, LookupState, Runtime,
};
use support::{wait_until, TempDir};

/// Accepts and holds every connection without reading or writing.
struct SilentSocket {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentSocket {
    fn bind(path: &std::path::Path) -> SilentSocket {
        let listener = UnixListener::bind(path).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s.load(Ordering::Relaxed) {
                if let Ok((conn, _)) = listener.accept() {
                    held.push(conn);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        SilentSocket {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentSocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(2);

#[test]
fn silent_sockets_never_delay_callers() {
    let dir = TempDir::new("peregrine-silent");
    let docker_sock = dir.0.join("docker.sock");
    let cri_sock = dir.0.join("cri.sock");
    let _docker = SilentSocket::bind(&docker_sock);
    let _cri = SilentSocket::bind(&cri_sock);
    let m = ContainerManager::new(Config {
        docker: EngineConfig::with_sockets([docker_sock]),
        podman: EngineConfig::off(),
        cri: EngineConfig::with_sockets([cri_sock]),
        request_timeout: TIMEOUT,
        retry_base: Duration::from_millis(100),
        max_retries: 1,
        cri_poll_interval: Duration::from_millis(100),
        ..Config::default()
    });
    let docker_ref = ContainerRef::new(&"a".repeat(64), Runtime::Docker).unwrap();
    let cri_ref = ContainerRef::new(&"b".repeat(64), Runtime::Containerd).unwrap();

    // Far below the request timeout: nothing here waits on the sockets.
    let t0 = Instant::now();
    for _ in 0..1000 {
        m.observe(&docker_ref, 1);
        m.observe(&cri_ref, 1);
        assert!(m.get(docker_ref.id()).is_none());
        assert!(m.get(cri_ref.id()).is_none());
    }
    let took = t0.elapsed();
    assert!(
        took < TIMEOUT / 4,
        "observe/get took {took:?} with silent sockets"
    );
    assert_eq!(m.state(docker_ref.id()), Some(LookupState::Pending));

    // Both lookups time out on the workers (HTTP/1.1 and HTTP/2 clients),
    // are counted, retried, then given up.
    assert!(
        wait_until(Duration::from_secs(30), || m.stats().gave_up >= 2),
        "{:?}",
        m.stats()
    );
    let s = m.stats();
    assert!(s.lookups_timed_out >= 2, "{s:?}");
    assert!(s.retries >= 2, "{s:?}");
    assert_eq!(s.lookups_ok, 0);
    assert_eq!(m.state(cri_ref.id()), Some(LookupState::GaveUp));
    // Shutting down does not hang on the held connections either.
    let t1 = Instant::now();
    drop(m);
    assert!(t1.elapsed() < TIMEOUT * 2, "drop took {:?}", t1.elapsed());
}

#[test]
fn bounded_wait_for_new_containers() {
    let dir = TempDir::new("peregrine-silent-wait");
    let sock = dir.0.join("docker.sock");
    let _silent = SilentSocket::bind(&sock);
    let wait = Duration::from_millis(300);
    let m = ContainerManager::new(Config {
        docker: EngineConfig::with_sockets([sock]),
        podman: EngineConfig::off(),
        cri: EngineConfig::off(),
        request_timeout: Duration::from_secs(5),
        wait_for_new: wait,
        listen_events: false,
        ..Config::default()
    });
    let r = ContainerRef::new(&"c".repeat(64), Runtime::Docker).unwrap();
    let t0 = Instant::now();
    assert!(m.get_or_wait(&r, 1).is_none());
    let waited = t0.elapsed();
    assert!(
        waited >= wait,
        "returned before the configured wait: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(2),
        "waited {waited:?}, longer than the bound"
    );
    // The bound is per container, from its first sight: later calls return at once.
    let t1 = Instant::now();
    assert!(m.get_or_wait(&r, 1).is_none());
    assert!(t1.elapsed() < wait, "second call waited {:?}", t1.elapsed());
}

#[test]
fn absent_sockets_fail_fast_and_are_counted() {
    let m = ContainerManager::new(Config {
        docker: EngineConfig::with_sockets(["/nonexistent/docker.sock"]),
        podman: EngineConfig::off(),
        cri: EngineConfig::with_sockets(["/nonexistent/cri.sock"]),
        max_retries: 0,
        ..Config::default()
    });
    let r = ContainerRef::new(&"d".repeat(64), Runtime::Docker).unwrap();
    m.observe(&r, 1);
    assert!(wait_until(Duration::from_secs(5), || m.state(r.id())
        == Some(LookupState::GaveUp)));
    assert_eq!(m.stats().lookups_failed, 1);
    // LXC has no API: known at once from the cgroup alone.
    let lxc = ContainerRef::from_cgroup_path(b"/lxc.payload.web1").unwrap();
    m.observe(&lxc, 1);
    let info = m.get(lxc.id()).expect("lxc info");
    assert_eq!((info.type_str(), info.name.as_str()), ("lxc", "web1"));
    let mut out = Vec::new();
    assert_eq!(m.drain_lifecycle(&mut out), 1);
    assert_eq!(m.drain_lifecycle(&mut out), 0);
}

#[test]
fn given_up_containers_are_asked_again_later() {
    let m = ContainerManager::new(Config {
        docker: EngineConfig::with_sockets(["/nonexistent/docker.sock"]),
        podman: EngineConfig::off(),
        cri: EngineConfig::off(),
        max_retries: 0,
        retry_max: Duration::from_secs(2),
        ..Config::default()
    });
    let r = ContainerRef::new(&"e".repeat(64), Runtime::Docker).unwrap();
    m.observe(&r, 1);
    assert!(wait_until(Duration::from_secs(5), || m.state(r.id())
        == Some(LookupState::GaveUp)));
    // Within retry_max: no new lookup.
    m.observe(&r, 1);
    assert_eq!(m.stats().lookups, 1);
    std::thread::sleep(Duration::from_millis(2100));
    m.observe(&r, 1);
    assert!(
        wait_until(Duration::from_secs(5), || m.stats().lookups == 2),
        "{:?}",
        m.stats()
    );
}
