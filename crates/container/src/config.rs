//! Where the runtimes listen and how patiently to ask them. Defaults follow
//! Falco's container plugin `engines` settings.

use std::path::PathBuf;
use std::time::Duration;

/// One runtime API and the sockets to try.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub enabled: bool,
    pub sockets: Vec<PathBuf>,
}

impl EngineConfig {
    fn on(sockets: &[&str]) -> Self {
        EngineConfig {
            enabled: true,
            sockets: sockets.iter().map(PathBuf::from).collect(),
        }
    }

    /// A disabled engine.
    pub fn off() -> Self {
        EngineConfig {
            enabled: false,
            sockets: Vec::new(),
        }
    }

    /// An enabled engine on exactly these sockets.
    pub fn with_sockets<I: IntoIterator<Item = P>, P: Into<PathBuf>>(sockets: I) -> Self {
        EngineConfig {
            enabled: true,
            sockets: sockets.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Docker Engine API sockets.
    pub docker: EngineConfig,
    /// Podman's Docker-compatible API sockets (`podman system service`).
    pub podman: EngineConfig,
    /// CRI sockets (containerd, CRI-O, k3s).
    pub cri: EngineConfig,
    /// Prefix for socket paths and /proc when running in a container
    /// (Falco's HOST_ROOT, e.g. `/host`).
    pub host_root: Option<PathBuf>,
    /// Longest a single runtime request may take.
    pub request_timeout: Duration,
    /// How long callers of [`crate::ContainerManager::get_or_wait`] may wait
    /// for a container seen for the first time. Zero: never wait.
    pub wait_for_new: Duration,
    /// Retries after a failed lookup, with exponential backoff.
    pub max_retries: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Lookup worker threads.
    pub workers: usize,
    /// Labels with longer values are not kept (Falco's label_max_len).
    pub label_max_len: usize,
    /// Follow the Docker API events stream for start/stop.
    pub listen_events: bool,
    /// How often CRI runtimes are listed for new and stopped containers.
    pub cri_poll_interval: Duration,
    /// Lifecycle records kept until drained; more are dropped and counted.
    pub lifecycle_capacity: usize,
    /// Removed containers stay in the cache this long, for late events.
    pub evict_after: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            docker: EngineConfig::on(&["/var/run/docker.sock"]),
            podman: EngineConfig::on(&["/run/podman/podman.sock"]),
            cri: EngineConfig::on(&[
                "/run/containerd/containerd.sock",
                "/run/crio/crio.sock",
                "/run/k3s/containerd/containerd.sock",
                "/run/host-containerd/containerd.sock",
            ]),
            host_root: None,
            request_timeout: Duration::from_secs(2),
            wait_for_new: Duration::ZERO,
            max_retries: 6,
            retry_base: Duration::from_millis(250),
            retry_max: Duration::from_secs(30),
            workers: 2,
            label_max_len: 100,
            listen_events: true,
            cri_poll_interval: Duration::from_secs(2),
            lifecycle_capacity: 4096,
            evict_after: Duration::from_secs(60),
        }
    }
}

impl Config {
    /// No engines: container ids only (lookups always fail fast).
    pub fn without_engines() -> Self {
        Config {
            docker: EngineConfig::off(),
            podman: EngineConfig::off(),
            cri: EngineConfig::off(),
            ..Config::default()
        }
    }

    pub(crate) fn resolve(&self, socket: &std::path::Path) -> PathBuf {
        match &self.host_root {
            Some(root) => root.join(socket.strip_prefix("/").unwrap_or(socket)),
            None => socket.to_path_buf(),
        }
    }

    /// Backoff before retry number `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(20))
            .unwrap_or(u32::MAX);
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}
