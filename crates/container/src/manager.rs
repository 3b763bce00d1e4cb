//! The container cache and its lookup workers.
//!
//! Callers on the event path only touch an `RwLock`ed map for a hash lookup
//! (writers hold it for an insert, never across I/O) and, on the first
//! sight of a container, push a job onto the workers' queue. All runtime
//! I/O happens on worker threads with per-request timeouts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cgroup::{ContainerRef, Runtime};
use crate::config::Config;
use crate::cri::{CriClient, CONTAINER_EXITED, CONTAINER_RUNNING};
use crate::docker::{self, DockerClient, DockerEvent};
use crate::error::LookupError;
use crate::info::ContainerInfo;
use crate::users::{GroupEntry, UserEntry, UserTable};

/// Where a container's metadata lookup stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupState {
    /// Not answered yet: fields render `<NA>`.
    Pending,
    Known,
    /// Failed or not found; a retry is scheduled.
    Retrying,
    /// Retries exhausted.
    GaveUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleKind {
    /// The container runs and its metadata is known.
    Started,
    Stopped,
}

/// A record for the engine to turn into Falco's `container` event.
#[derive(Clone, Debug)]
pub struct LifecycleEvent {
    pub kind: LifecycleKind,
    pub info: Arc<ContainerInfo>,
    /// Wall-clock time the record was made, ns since the epoch.
    pub ts_ns: u64,
}

/// Counters, for the stats API and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub containers: u64,
    pub lookups: u64,
    pub lookups_ok: u64,
    pub lookups_failed: u64,
    pub lookups_timed_out: u64,
    pub lookups_not_found: u64,
    pub retries: u64,
    pub gave_up: u64,
    pub jobs_dropped: u64,
    pub lifecycle_dropped: u64,
    pub event_stream_errors: u64,
}

#[derive(Default)]
struct Counters {
    lookups: AtomicU64,
    lookups_ok: AtomicU64,
    lookups_failed: AtomicU64,
    lookups_timed_out: AtomicU64,
    lookups_not_found: AtomicU64,
    retries: AtomicU64,
    gave_up: AtomicU64,
    jobs_dropped: AtomicU64,
    lifecycle_dropped: AtomicU64,
    event_stream_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

struct Slot {
    state: LookupState,
    info: Option<Arc<ContainerInfo>>,
    first_seen: Instant,
    attempts: u32,
    started_sent: bool,
    stopped: bool,
    removed_at: Option<Instant>,
    gave_up_at: Option<Instant>,
}

impl Slot {
    fn pending() -> Slot {
        Slot {
            state: LookupState::Pending,
            info: None,
            first_seen: Instant::now(),
            attempts: 0,
            started_sent: false,
            stopped: false,
            removed_at: None,
            gave_up_at: None,
        }
    }
}

type Job = (String, Runtime);

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    retries: BinaryHeap<Reverse<(Instant, String, u8)>>,
}

/// Bound on queued lookups; beyond it first sights are dropped and counted.
const MAX_JOBS: usize = 16_384;
/// How often background threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

enum Engine {
    Docker(DockerClient),
    Cri(CriClient),
}

impl Engine {
    fn socket(&self) -> &std::path::Path {
        match self {
            Engine::Docker(d) => &d.socket,
            Engine::Cri(c) => &c.socket,
        }
    }

    /// Lower is asked first for a container whose cgroup suggests `hint`.
    fn rank(&self, hint: Runtime) -> u8 {
        match (self, hint) {
            (Engine::Docker(d), h) if d.kind == h => 0,
            (Engine::Cri(_), Runtime::Containerd | Runtime::CriO | Runtime::Cri) => 0,
            (Engine::Docker(_), _) => 1,
            (Engine::Cri(_), _) => 2,
        }
    }

    fn lookup(&self, id: &str) -> Result<Option<ContainerInfo>, LookupError> {
        match self {
            Engine::Docker(d) => d.inspect(id),
            Engine::Cri(c) => c.lookup(id),
        }
    }
}

struct Shared {
    config: Config,
    engines: Vec<Engine>,
    slots: RwLock<HashMap<Box<str>, Slot>>,
    queue: Mutex<Queue>,
    queue_cv: Condvar,
    lifecycle: Mutex<VecDeque<LifecycleEvent>>,
    lifecycle_len: AtomicUsize,
    /// Bumped after every published answer; waiters sleep on it.
    answers: Mutex<u64>,
    answers_cv: Condvar,
    users: RwLock<HashMap<Box<str>, Arc<UserTable>>>,
    counters: Counters,
    stop: AtomicBool,
}

/// Container metadata cache with asynchronous lookups. See the crate docs.
pub struct ContainerManager {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn runtime_code(r: Runtime) -> u8 {
    r.falco_code() as u8
}

fn runtime_from_code(c: u8) -> Runtime {
    [
        Runtime::Docker,
        Runtime::Podman,
        Runtime::Containerd,
        Runtime::CriO,
        Runtime::Cri,
        Runtime::Lxc,
        Runtime::LibvirtLxc,
    ]
    .into_iter()
    .find(|r| runtime_code(*r) == c)
    .unwrap_or(Runtime::Docker)
}

impl ContainerManager {
    /// Starts the workers, the Docker-API event listeners and the CRI
    /// pollers. Returns at once; nothing here waits on a runtime.
    pub fn new(config: Config) -> Self {
        let mut engines = Vec::new();
        let timeout = config.request_timeout;
        let max = config.label_max_len;
        for (cfg, kind) in [
            (&config.podman, Runtime::Podman),
            (&config.docker, Runtime::Docker),
        ] {
            if cfg.enabled {
                for s in &cfg.sockets {
                    engines.push(Engine::Docker(DockerClient {
                        socket: config.resolve(s),
                        kind,
                        timeout,
                        label_max_len: max,
                    }));
                }
            }
        }
        if config.cri.enabled {
            for s in &config.cri.sockets {
                engines.push(Engine::Cri(CriClient::new(config.resolve(s), timeout, max)));
            }
        }
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            config,
            engines,
            slots: RwLock::new(HashMap::new()),
            queue: Mutex::new(Queue::default()),
            queue_cv: Condvar::new(),
            lifecycle: Mutex::new(VecDeque::new()),
            lifecycle_len: AtomicUsize::new(0),
            answers: Mutex::new(0),
            answers_cv: Condvar::new(),
            users: RwLock::new(HashMap::new()),
            counters: Counters::default(),
            stop: AtomicBool::new(false),
        });
        let mut threads = Vec::new();
        for i in 0..workers {
            let s = shared.clone();
            threads.push(spawn(&format!("ctr-lookup-{i}"), move || worker(&s)));
        }
        for (i, e) in shared.engines.iter().enumerate() {
            let s = shared.clone();
            match e {
                Engine::Docker(_) if s.config.listen_events => {
                    threads.push(spawn(&format!("ctr-events-{i}"), move || {
                        docker_listener(&s, i)
                    }));
                }
                Engine::Cri(_) => {
                    threads.push(spawn(&format!("ctr-cri-{i}"), move || cri_poller(&s, i)))
                }
                _ => {}
            }
        }
        ContainerManager { shared, threads }
    }

    /// Notes that a thread of this container was seen. Never blocks on a
    /// runtime: an unknown container is queued for lookup.
    pub fn observe(&self, container: &ContainerRef, _pid: u32) {
        if let Ok(slots) = self.shared.slots.read() {
            // A container given up on is asked again, at most once per
            // `retry_max`, while its threads keep showing up.
            if let Some(slot) = slots.get(container.id()) {
                if slot
                    .gave_up_at
                    .is_none_or(|t| t.elapsed() < self.shared.config.retry_max)
                {
                    return;
                }
            }
        }
        self.shared.ensure(container.id(), container.runtime());
    }

    /// The container's metadata if a lookup has answered.
    pub fn get(&self, id: &str) -> Option<Arc<ContainerInfo>> {
        self.shared.slots.read().ok()?.get(id)?.info.clone()
    }

    /// Where the lookup stands, `None` for a container never observed.
    pub fn state(&self, id: &str) -> Option<LookupState> {
        Some(self.shared.slots.read().ok()?.get(id)?.state)
    }

    /// Like [`observe`](Self::observe) then [`get`](Self::get), but for a
    /// container first seen less than `config.wait_for_new` ago, waits for
    /// its lookup up to that bound. With the default (zero) never waits.
    pub fn get_or_wait(&self, container: &ContainerRef, pid: u32) -> Option<Arc<ContainerInfo>> {
        self.observe(container, pid);
        let wait = self.shared.config.wait_for_new;
        let deadline = {
            let slots = self.shared.slots.read().ok()?;
            let slot = slots.get(container.id())?;
            if slot.info.is_some() || wait.is_zero() || slot.state != LookupState::Pending {
                return slot.info.clone();
            }
            slot.first_seen + wait
        };
        let mut gen = self.shared.answers.lock().ok()?;
        loop {
            if let Some(info) = self.get(container.id()) {
                return Some(info);
            }
            if self.state(container.id()) != Some(LookupState::Pending) {
                return None;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            gen = self.shared.answers_cv.wait_timeout(gen, left).ok()?.0;
        }
    }

    /// Moves pending lifecycle records into `out`; returns how many.
    /// Costs one atomic load when there are none.
    pub fn drain_lifecycle(&self, out: &mut Vec<LifecycleEvent>) -> usize {
        if self.shared.lifecycle_len.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let Ok(mut q) = self.shared.lifecycle.lock() else {
            return 0;
        };
        let n = q.len();
        out.extend(q.drain(..));
        self.shared.lifecycle_len.store(0, Ordering::Release);
        n
    }

    /// The user `uid` as the container's own /etc/passwd names it, read
    /// through /proc/`pid`/root and cached per container.
    pub fn user(&self, container: &ContainerRef, pid: u32, uid: u32) -> Option<Arc<UserEntry>> {
        self.users_for(container, pid, |t| t.users.contains_key(&uid))?
            .users
            .get(&uid)
            .cloned()
    }

    /// The group `gid` from the container's own /etc/group.
    pub fn group(&self, container: &ContainerRef, pid: u32, gid: u32) -> Option<Arc<GroupEntry>> {
        self.users_for(container, pid, |t| t.groups.contains_key(&gid))?
            .groups
            .get(&gid)
            .cloned()
    }

    fn users_for(
        &self,
        container: &ContainerRef,
        pid: u32,
        has: impl Fn(&UserTable) -> bool,
    ) -> Option<Arc<UserTable>> {
        let existing = self.shared.users.read().ok()?.get(container.id()).cloned();
        if let Some(t) = &existing {
            if has(t) || !t.stale() {
                return existing;
            }
        }
        let root = self
            .shared
            .config
            .resolve(&PathBuf::from(format!("/proc/{pid}/root")));
        let fresh = UserTable::load(&root);
        // A dead pid reads nothing: keep what we had.
        if fresh.users.is_empty() && fresh.groups.is_empty() {
            if let Some(t) = existing {
                return Some(t);
            }
        }
        let fresh = Arc::new(fresh);
        self.shared
            .users
            .write()
            .ok()?
            .insert(container.id().into(), fresh.clone());
        Some(fresh)
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            containers: self
                .shared
                .slots
                .read()
                .map(|s| s.len() as u64)
                .unwrap_or(0),
            lookups: l(&c.lookups),
            lookups_ok: l(&c.lookups_ok),
            lookups_failed: l(&c.lookups_failed),
            lookups_timed_out: l(&c.lookups_timed_out),
            lookups_not_found: l(&c.lookups_not_found),
            retries: l(&c.retries),
            gave_up: l(&c.gave_up),
            jobs_dropped: l(&c.jobs_dropped),
            lifecycle_dropped: l(&c.lifecycle_dropped),
            event_stream_errors: l(&c.event_stream_errors),
        }
    }
}

impl Drop for ContainerManager {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.queue_cv.notify_all();
        self.shared.answers_cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap_or_else(|e| panic!("cannot start container thread {name}: {e}"))
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Creates a pending slot and queues its lookup, unless known already.
    fn ensure(&self, id: &str, hint: Runtime) {
        let Ok(mut slots) = self.slots.write() else {
            return;
        };
        if let Some(slot) = slots.get_mut(id) {
            if slot
                .gave_up_at
                .is_some_and(|t| t.elapsed() >= self.config.retry_max)
            {
                slot.gave_up_at = None;
                slot.attempts = 0;
                slot.state = if slot.info.is_some() {
                    LookupState::Known
                } else {
                    LookupState::Retrying
                };
                drop(slots);
                self.enqueue(id.to_string(), hint);
            }
            return;
        }
        if !hint.has_api() {
            // LXC and libvirt-lxc have no API to ask: the id is all there is.
            let info = Arc::new(ContainerInfo {
                full_id: id.to_string(),
                runtime: Some(hint),
                name: id.to_string(),
                running: true,
                ..Default::default()
            });
            let mut slot = Slot::pending();
            slot.state = LookupState::Known;
            slot.info = Some(info.clone());
            slot.started_sent = true;
            slots.insert(id.into(), slot);
            drop(slots);
            self.push_lifecycle(LifecycleKind::Started, info);
            return;
        }
        slots.insert(id.into(), Slot::pending());
        drop(slots);
        self.enqueue(id.to_string(), hint);
    }

    fn enqueue(&self, id: String, hint: Runtime) {
        let Ok(mut q) = self.queue.lock() else { return };
        if q.jobs.len() >= MAX_JOBS {
            bump(&self.counters.jobs_dropped);
            return;
        }
        q.jobs.push_back((id, hint));
        drop(q);
        self.queue_cv.notify_one();
    }

    fn push_lifecycle(&self, kind: LifecycleKind, info: Arc<ContainerInfo>) {
        let Ok(mut q) = self.lifecycle.lock() else {
            return;
        };
        if q.len() >= self.config.lifecycle_capacity {
            bump(&self.counters.lifecycle_dropped);
            return;
        }
        q.push_back(LifecycleEvent {
            kind,
            info,
            ts_ns: now_ns(),
        });
        self.lifecycle_len.store(q.len(), Ordering::Release);
    }

    fn notify_answer(&self) {
        if let Ok(mut g) = self.answers.lock() {
            *g += 1;
        }
        self.answers_cv.notify_all();
    }

    fn next_job(&self) -> Option<Job> {
        let mut q = self.queue.lock().ok()?;
        loop {
            if self.stopping() {
                return None;
            }
            let now = Instant::now();
            while q
                .retries
                .peek()
                .is_some_and(|Reverse((due, _, _))| *due <= now)
            {
                if let Some(Reverse((_, id, code))) = q.retries.pop() {
                    q.jobs.push_back((id, runtime_from_code(code)));
                }
            }
            if let Some(job) = q.jobs.pop_front() {
                return Some(job);
            }
            let wait = q
                .retries
                .peek()
                .map(|Reverse((due, _, _))| due.saturating_duration_since(now))
                .unwrap_or(POLL)
                .min(POLL);
            q = self.queue_cv.wait_timeout(q, wait).ok()?.0;
        }
    }

    /// Asks the engines, best-ranked first. `Ok(None)`: every reachable
    /// engine said it does not know the container.
    fn lookup(&self, id: &str, hint: Runtime) -> Result<Option<ContainerInfo>, LookupError> {
        let mut order: Vec<&Engine> = self.engines.iter().collect();
        order.sort_by_key(|e| e.rank(hint));
        let mut last_err = None;
        let mut reachable = false;
        for e in order {
            if !docker::socket_present(e.socket()) {
                continue;
            }
            reachable = true;
            match e.lookup(id) {
                Ok(Some(info)) => return Ok(Some(info)),
                Ok(None) => {}
                Err(err) => last_err = Some(err),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None if reachable => Ok(None),
            None => Err(LookupError::Protocol(
                "no container runtime socket is present".into(),
            )),
        }
    }

    fn process(&self, id: String, hint: Runtime) {
        let still_wanted = self
            .slots
            .read()
            .map(|s| {
                s.get(id.as_str())
                    .is_some_and(|slot| slot.removed_at.is_none())
            })
            .unwrap_or(false);
        if !still_wanted {
            return;
        }
        bump(&self.counters.lookups);
        let result = self.lookup(&id, hint);
        match &result {
            Ok(Some(_)) => bump(&self.counters.lookups_ok),
            Ok(None) => bump(&self.counters.lookups_not_found),
            Err(e) => {
                bump(&self.counters.lookups_failed);
                if e.is_timeout() {
                    bump(&self.counters.lookups_timed_out);
                }
            }
        }
        let mut events = Vec::new();
        {
            let Ok(mut slots) = self.slots.write() else {
                return;
            };
            let Some(slot) = slots.get_mut(id.as_str()) else {
                return;
            };
            match result {
                Ok(Some(mut info)) => {
                    if slot.stopped {
                        info.running = false;
                    }
                    let info = Arc::new(info);
                    slot.info = Some(info.clone());
                    slot.state = LookupState::Known;
                    slot.attempts = 0;
                    slot.gave_up_at = None;
                    if !slot.started_sent {
                        slot.started_sent = true;
                        events.push((LifecycleKind::Started, info.clone()));
                        if slot.stopped {
                            events.push((LifecycleKind::Stopped, info));
                        }
                    }
                }
                _ => {
                    slot.attempts += 1;
                    if slot.attempts > self.config.max_retries {
                        slot.state = LookupState::GaveUp;
                        slot.gave_up_at = Some(Instant::now());
                        bump(&self.counters.gave_up);
                    } else {
                        slot.state = if slot.info.is_some() {
                            LookupState::Known
                        } else {
                            LookupState::Retrying
                        };
                        bump(&self.counters.retries);
                        let due = Instant::now() + self.config.backoff(slot.attempts);
                        if let Ok(mut q) = self.queue.lock() {
                            q.retries
                                .push(Reverse((due, id.clone(), runtime_code(hint))));
                        }
                    }
                }
            }
        }
        for (kind, info) in events {
            self.push_lifecycle(kind, info);
        }
        self.notify_answer();
    }

    /// The runtime reported a start: (re)look the container up.
    fn on_started(&self, id: &str, hint: Runtime) {
        let requeue = {
            let Ok(mut slots) = self.slots.write() else {
                return;
            };
            match slots.get_mut(id) {
                Some(slot) if slot.stopped || slot.state != LookupState::Pending => {
                    // A restart: refresh and announce again.
                    slot.stopped = false;
                    slot.started_sent = false;
                    slot.removed_at = None;
                    slot.attempts = 0;
                    true
                }
                Some(_) => false,
                None => {
                    slots.insert(id.into(), Slot::pending());
                    true
                }
            }
        };
        if requeue {
            self.enqueue(id.to_string(), hint);
        }
    }

    fn on_stopped(&self, id: &str) {
        let event = {
            let Ok(mut slots) = self.slots.write() else {
                return;
            };
            let Some(slot) = slots.get_mut(id) else {
                return;
            };
            if slot.stopped {
                return;
            }
            slot.stopped = true;
            match (&slot.info, slot.started_sent) {
                (Some(info), true) => {
                    let mut stopped = (**info).clone();
                    stopped.running = false;
                    let stopped = Arc::new(stopped);
                    slot.info = Some(stopped.clone());
                    Some(stopped)
                }
                _ => None,
            }
        };
        if let Some(info) = event {
            self.push_lifecycle(LifecycleKind::Stopped, info);
        }
    }

    fn on_removed(&self, id: &str) {
        self.on_stopped(id);
        if let Ok(mut slots) = self.slots.write() {
            if let Some(slot) = slots.get_mut(id) {
                slot.removed_at.get_or_insert_with(Instant::now);
            }
        }
    }

    fn evict_removed(&self) {
        let after = self.config.evict_after;
        let mut gone = Vec::new();
        if let Ok(mut slots) = self.slots.write() {
            slots.retain(|id, s| {
                let keep = s.removed_at.is_none_or(|t| t.elapsed() < after);
                if !keep {
                    gone.push(id.clone());
                }
                keep
            });
        }
        if !gone.is_empty() {
            if let Ok(mut users) = self.users.write() {
                for id in gone {
                    users.remove(&id);
                }
            }
        }
    }

    /// Sleeps `d` in short steps; false once stopping.
    fn nap(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while !self.stopping() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(POLL));
        }
        false
    }
}

fn worker(s: &Shared) {
    while let Some((id, hint)) = s.next_job() {
        s.process(id, hint);
    }
}

/// Follows one Docker-API socket's events; on (re)connect lists running
/// containers so those started earlier are looked up too.
fn docker_listener(s: &Shared, index: usize) {
    let Some(Engine::Docker(client)) = s.engines.get(index) else {
        return;
    };
    while !s.stopping() {
        if !docker::socket_present(&client.socket) {
            if !s.nap(Duration::from_secs(1)) {
                return;
            }
            continue;
        }
        let mut stream = match client.events(POLL) {
            Ok(st) => st,
            Err(_) => {
                bump(&s.counters.event_stream_errors);
                if !s.nap(Duration::from_secs(2)) {
                    return;
                }
                continue;
            }
        };
        // Subscribed first, listed second: nothing started in between is missed.
        if let Ok(ids) = client.list_running() {
            for id in ids {
                s.on_started_if_new(&id, client.kind);
            }
        }
        let mut last_evict = Instant::now();
        loop {
            if s.stopping() {
                return;
            }
            if last_evict.elapsed() >= Duration::from_secs(1) {
                s.evict_removed();
                last_evict = Instant::now();
            }
            match stream.next_line() {
                Ok(Some(line)) => match docker::parse_event(&line) {
                    Some(DockerEvent::Started(id)) => s.on_started(&id, client.kind),
                    Some(DockerEvent::Died(id)) => s.on_stopped(&id),
                    Some(DockerEvent::Removed(id)) => s.on_removed(&id),
                    None => {}
                },
                Ok(None) => {}
                Err(_) => {
                    bump(&s.counters.event_stream_errors);
                    break;
                }
            }
        }
        if !s.nap(Duration::from_millis(500)) {
            return;
        }
    }
}

impl Shared {
    fn on_started_if_new(&self, id: &str, hint: Runtime) {
        let known = self
            .slots
            .read()
            .map(|s| s.contains_key(id))
            .unwrap_or(true);
        if !known {
            self.ensure(id, hint);
        }
    }
}

/// Lists one CRI socket's containers periodically: new ones are looked up
/// (announcing them), exited and vanished ones are marked stopped/removed.
fn cri_poller(s: &Shared, index: usize) {
    let Some(Engine::Cri(client)) = s.engines.get(index) else {
        return;
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    while !s.stopping() {
        if docker::socket_present(&client.socket) {
            match client.list() {
                Ok(list) => {
                    let mut now_seen = HashMap::new();
                    for c in list {
                        // CREATED containers wait for their start: the
                        // Started record promises a running container.
                        if c.state == CONTAINER_EXITED {
                            s.on_stopped(&c.id);
                        } else if c.state == CONTAINER_RUNNING {
                            s.on_started_if_new(&c.id, Runtime::Cri);
                        }
                        now_seen.insert(c.id, c.state);
                    }
                    for id in seen.keys() {
                        if !now_seen.contains_key(id) {
                            s.on_removed(id);
                        }
                    }
                    seen = now_seen;
                    s.evict_removed();
                }
                Err(_) => bump(&s.counters.event_stream_errors),
            }
        }
        if !s.nap(s.config.cri_poll_interval) {
            return;
        }
    }
}
