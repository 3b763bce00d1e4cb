//! Reload triggers: SIGHUP, and (with `watch_config_files`) changes to the
//! loaded config and rules files. Shutdown requests (SIGTERM, SIGINT) too.
//!
//! The reload itself belongs to the main loop, in this order, so a broken
//! file never replaces working rules:
//!
//! 1. `if triggers.take_reload() { … }` (polled between event batches);
//! 2. `config::load(&same LoadOptions)`: on error, log it, count
//!    `peregrine_reload_failures_total`, keep running;
//! 3. load and compile the new rules files completely, off to the side;
//!    on error, same as above;
//! 4. swap the compiled ruleset in atomically (an `Arc` behind a lock or
//!    an atomic pointer the event loop re-reads per batch), rebuild the
//!    outputs only if their config changed (shutdown the old `Outputs`
//!    after starting the new), update the `sha256_*_files_info` and
//!    `reload_timestamp` metrics, and restart the [`FileWatcher`] on the
//!    new file list.
//!
//! Files are polled (size, mtime, inode, and for directories their
//! entries) rather than watched with inotify: Kubernetes ConfigMaps are
//! updated by swapping a symlink, which polling sees without special cases.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

static RELOAD: AtomicBool = AtomicBool::new(false);
static SHUTDOWN: AtomicBool = AtomicBool::new(false);
static REOPEN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work: set a flag.
    if sig == libc::SIGHUP {
        RELOAD.store(true, Ordering::SeqCst);
    } else if sig == libc::SIGUSR1 {
        REOPEN.store(true, Ordering::SeqCst);
    } else {
        SHUTDOWN.store(true, Ordering::SeqCst);
    }
}

/// Process-wide reload and shutdown requests.
pub struct ReloadTriggers;

impl ReloadTriggers {
    /// SIGHUP requests a reload; SIGTERM and SIGINT request shutdown;
    /// SIGUSR1 asks the outputs to reopen their files (log rotation).
    pub fn install_signal_handlers() -> std::io::Result<()> {
        for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            // SAFETY: the handler only stores to atomics.
            let r = unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut())
            };
            if r != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    pub fn request_reload() {
        RELOAD.store(true, Ordering::SeqCst);
    }

    /// True once per request.
    pub fn take_reload() -> bool {
        RELOAD.swap(false, Ordering::SeqCst)
    }

    /// True once per SIGUSR1.
    pub fn take_reopen() -> bool {
        REOPEN.swap(false, Ordering::SeqCst)
    }

    pub fn shutdown_requested() -> bool {
        SHUTDOWN.load(Ordering::SeqCst)
    }
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stamp {
    Missing,
    File(u64, Option<SystemTime>, u64),
    Dir(Vec<(PathBuf, Box<Stamp>)>),
}

fn stamp(p: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(p) {
        Err(_) => Stamp::Missing,
        Ok(m) if m.is_dir() => {
            let mut entries: Vec<(PathBuf, Box<Stamp>)> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|e| e.is_file())
                        .map(|e| {
                            let s = stamp(&e);
                            (e, Box::new(s))
                        })
                        .collect()
                })
                .unwrap_or_default();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Stamp::Dir(entries)
        }
        Ok(m) => Stamp::File(m.len(), m.modified().ok(), m.ino()),
    }
}

/// Polls files and directories; calls `on_change` once per change seen.
pub struct FileWatcher {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl FileWatcher {
    pub fn start(
        paths: Vec<PathBuf>,
        interval: Duration,
        on_change: impl Fn(&Path) + Send + 'static,
    ) -> FileWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name("config-watch".into())
            .spawn(move || {
                let mut stamps: Vec<Stamp> = paths.iter().map(|p| stamp(p)).collect();
                while !s.load(Ordering::SeqCst) {
                    std::thread::sleep(interval);
                    for (p, old) in paths.iter().zip(stamps.iter_mut()) {
                        let new = stamp(p);
                        if new != *old {
                            *old = new;
                            on_change(p);
                        }
                    }
                }
            })
            .ok();
        FileWatcher { stop, handle }
    }

    /// Watches `paths` and turns changes into [`ReloadTriggers`] requests.
    pub fn reload_on_change(paths: Vec<PathBuf>) -> FileWatcher {
        FileWatcher::start(paths, Duration::from_secs(1), |_| {
            ReloadTriggers::request_reload()
        })
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn sighup_requests_a_reload_and_file_changes_are_seen() {
        ReloadTriggers::install_signal_handlers().unwrap();
        let _ = ReloadTriggers::take_reload();
        // SAFETY: raising a signal we handle.
        unsafe { libc::raise(libc::SIGHUP) };
        assert!(ReloadTriggers::take_reload());
        assert!(!ReloadTriggers::take_reload());

        let dir = std::env::temp_dir().join(format!("peregrine-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rules.d")).unwrap();
        let file = dir.join("peregrine.yaml");
        std::fs::write(&file, "a: 1\n").unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = FileWatcher::start(
            vec![file.clone(), dir.join("rules.d")],
            Duration::from_millis(20),
            move |p| {
                let _ = tx.send(p.to_path_buf());
            },
        );
        std::thread::sleep(Duration::from_millis(60));
        std::fs::write(&file, "a: 22\n").unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), file);
        std::fs::write(dir.join("rules.d/x.yaml"), "- list: l\n").unwrap();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            dir.join("rules.d")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
