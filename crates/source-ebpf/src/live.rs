//! The live [`EventSource`]: events straight out of the probe's ring buffers,
//! lent to the caller in place (no copy, no allocation per event). With one
//! ring per CPU the oldest head event is taken first, so the stream is in
//! timestamp order as far as the rings can tell.
//!
//! The consumer never waits for anything but data: the ring buffers are the
//! queue, and when the engine falls behind the kernel counts drops instead of
//! blocking the traced programs.

use crate::loader::{CpuCounters, Probe, ProbeConfig, ProbeError, Wakeup};
use crate::procfs::{self, ProcScan};
use crate::ring::{Record, Ring};
use peregrine_event::raw::RawEvent;
use peregrine_event::source::{EventSource, Next, SourcedEvent, Tables};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Configuration of the live source.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub probe: ProbeConfig,
    /// After this long without events, `next` returns [`Next::Idle`].
    pub poll_interval: Duration,
    /// Sleep between ring checks when the kernel does not wake us
    /// ([`Wakeup::Never`]).
    pub idle_sleep: Duration,
    /// Scan /proc at startup (threads, fds, users, machine, interfaces).
    pub scan_proc: bool,
    /// Root of the host file system (`HOST_ROOT`); /proc and /etc are read
    /// below it.
    pub host_root: Option<PathBuf>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            probe: ProbeConfig::default(),
            poll_interval: Duration::from_millis(100),
            idle_sleep: Duration::from_millis(1),
            scan_proc: true,
            host_root: std::env::var_os("HOST_ROOT").map(PathBuf::from),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("live source: {0}")]
    Io(#[from] std::io::Error),
}

/// Consumer-side counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Events handed to the caller.
    pub delivered: u64,
    /// Records that did not parse as events (should stay 0).
    pub malformed: u64,
}

/// Kernel and consumer counters together.
#[derive(Debug, Clone, Default)]
pub struct LiveStats {
    pub per_cpu: Vec<CpuCounters>,
    pub consumer: ConsumerStats,
}

impl LiveStats {
    pub fn n_evts(&self) -> u64 {
        self.per_cpu.iter().map(|c| c.n_evts).sum()
    }
    pub fn n_drops_buffer(&self) -> u64 {
        self.per_cpu.iter().map(|c| c.n_drops_buffer).sum()
    }
    pub fn n_drops(&self) -> u64 {
        self.per_cpu
            .iter()
            .map(|c| c.n_drops_buffer + c.n_drops_max_event_size + c.n_drops_scratch)
            .sum()
    }
    /// The totals a drop monitor compares from one check to the next.
    pub fn drop_counters(&self) -> DropCounters {
        DropCounters {
            n_evts: self.n_evts(),
            n_drops_buffer: self.n_drops_buffer(),
            n_drops_other: self.per_cpu.iter().map(|c| c.n_drops_max_event_size).sum(),
        }
    }
}

/// Counters as the kernel keeps them (totals since start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    /// Events the probe saw, dropped ones included.
    pub n_evts: u64,
    /// Dropped because the ring buffer was full.
    pub n_drops_buffer: u64,
    /// Dropped for any other reason (event too large, ...).
    pub n_drops_other: u64,
}

impl DropCounters {
    pub fn n_drops(&self) -> u64 {
        self.n_drops_buffer + self.n_drops_other
    }
}

pub struct LiveSource {
    // Field order matters for drop: rings unmap before the probe closes maps.
    rings: Vec<Ring>,
    heads: Vec<Option<Record>>,
    /// The record lent by the last `next` (ring index), consumed on the next call.
    lent: Option<(usize, Record)>,
    probe: Probe,
    epoll: OwnedFd,
    tables: Tables,
    num: u64,
    shared: bool,
    wakeup: Wakeup,
    poll_interval: Duration,
    idle_sleep: Duration,
    idle_since: Option<Instant>,
    stats: ConsumerStats,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("probe", &self.probe)
            .field("delivered", &self.stats.delivered)
            .finish()
    }
}

impl LiveSource {
    /// Loads and attaches the probe, then scans /proc (so nothing that starts
    /// in between is missed: its events wait in the rings).
    pub fn open(cfg: &LiveConfig) -> Result<LiveSource, LiveError> {
        let probe = Probe::load(&cfg.probe)?;
        let rings = probe.rings(cfg.probe.ring_bytes_per_cpu)?;
        // SAFETY: epoll_create1 has no preconditions; the result is checked.
        let efd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if efd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: efd is a fresh descriptor we own.
        let epoll = unsafe { OwnedFd::from_raw_fd(efd) };
        for (i, fd) in probe.ring_fds().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: valid epoll and map fds; ev lives across the call.
            if unsafe { libc::epoll_ctl(efd, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                return Err(std::io::Error::last_os_error().into());
            }
        }
        let tables = if cfg.scan_proc {
            let scan = ProcScan::new(cfg.host_root.clone());
            procfs::scan_tables(&scan, cfg.probe.ignore_tgid)
        } else {
            Tables::default()
        };
        let n = rings.len();
        Ok(LiveSource {
            rings,
            heads: vec![None; n],
            lent: None,
            shared: probe.shared_ring,
            probe,
            epoll,
            tables,
            num: 0,
            wakeup: cfg.probe.wakeup,
            poll_interval: cfg.poll_interval,
            idle_sleep: cfg.idle_sleep,
            idle_since: None,
            stats: ConsumerStats::default(),
        })
    }

    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    /// See [`Probe::set_interest`].
    pub fn set_interest(&mut self, interest: &crate::ScSet) -> Result<crate::ScSet, LiveError> {
        Ok(self.probe.set_interest(interest)?)
    }

    /// Kernel counters plus ours (reads a map: call it once a second, not per
    /// event).
    pub fn stats(&self) -> Result<LiveStats, LiveError> {
        Ok(LiveStats {
            per_cpu: self.probe.counters()?,
            consumer: self.stats,
        })
    }

    pub fn consumer_stats(&self) -> ConsumerStats {
        self.stats
    }

    /// Bytes waiting in the rings.
    pub fn pending_bytes(&self) -> u64 {
        self.rings.iter().map(Ring::pending).sum()
    }

    #[inline]
    fn release_lent(&mut self) {
        if let Some((i, rec)) = self.lent.take() {
            self.rings[i].consume(&rec);
        }
    }

    /// Index of the ring whose head event is oldest.
    #[inline]
    fn pick(&mut self) -> Option<usize> {
        if self.rings.len() == 1 {
            if self.heads[0].is_none() {
                self.heads[0] = self.rings[0].peek();
            }
            return self.heads[0].map(|_| 0);
        }
        let mut best: Option<(usize, u64)> = None;
        for i in 0..self.rings.len() {
            if self.heads[i].is_none() {
                self.heads[i] = self.rings[i].peek();
            }
            if let Some(rec) = &self.heads[i] {
                let b = self.rings[i].bytes(rec);
                let ts = b
                    .get(..8)
                    .and_then(|s| s.try_into().ok())
                    .map(u64::from_le_bytes)
                    .unwrap_or(0);
                if best.is_none_or(|(_, t)| ts < t) {
                    best = Some((i, ts));
                }
            }
        }
        best.map(|(i, _)| i)
    }

    fn wait(&mut self, timeout: Duration) -> Result<(), LiveError> {
        for r in &mut self.rings {
            r.publish();
        }
        if self.wakeup == Wakeup::Never {
            std::thread::sleep(timeout.min(self.idle_sleep));
            return Ok(());
        }
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: evs is a valid buffer of 8 entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                evs.as_mut_ptr(),
                evs.len() as i32,
                ms,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e.into());
            }
        }
        Ok(())
    }
}

impl LiveSource {
    /// Gives the /proc scan away (the process table moved, the small
    /// tables copied), for state to be seeded without a second copy.
    pub fn take_tables(&mut self) -> Tables {
        self.tables.take()
    }
}

impl EventSource for LiveSource {
    type Error = LiveError;

    fn tables(&self) -> &Tables {
        &self.tables
    }

    fn next(&mut self) -> Result<Next<'_>, LiveError> {
        self.release_lent();
        loop {
            if let Some(i) = self.pick() {
                let Some(rec) = self.heads[i].take() else {
                    continue;
                };
                let bytes = self.rings[i].bytes(&rec);
                let (cpu, ev_bytes) = if self.shared {
                    let cpu = bytes
                        .get(..2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]]))
                        .unwrap_or(0);
                    (cpu, bytes.get(8..).unwrap_or(&[]))
                } else {
                    (i as u16, bytes)
                };
                // SAFETY: the record stays in the mapping, untouched by the
                // producer, until `release_lent` consumes it on the next call;
                // the returned borrow of `self` ends before that call.
                let ev_bytes: &[u8] =
                    unsafe { std::slice::from_raw_parts(ev_bytes.as_ptr(), ev_bytes.len()) };
                match RawEvent::parse(ev_bytes) {
                    Ok((event, _)) => {
                        self.idle_since = None;
                        self.num += 1;
                        self.stats.delivered += 1;
                        self.lent = Some((i, rec));
                        return Ok(Next::Event(SourcedEvent {
                            num: self.num,
                            cpu,
                            flags: 0,
                            event,
                        }));
                    }
                    Err(_) => {
                        self.stats.malformed += 1;
                        self.rings[i].consume(&rec);
                        continue;
                    }
                }
            }
            let since = *self.idle_since.get_or_insert_with(Instant::now);
            let waited = since.elapsed();
            if waited >= self.poll_interval {
                self.idle_since = None;
                return Ok(Next::Idle);
            }
            self.wait(self.poll_interval - waited)?;
        }
    }
}
