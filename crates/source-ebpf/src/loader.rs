//! Loading the probe with libbpf-rs: configuration, per-CPU ring buffers,
//! program selection for the chosen attach design, the kernel-side interest
//! filter, and the kernel's counters.

use crate::interest::ScSet;
use crate::ring::{page_size, Ring};
use crate::syscalls::{self, SYSCALL_TABLE};
use libbpf_rs::{Link, MapCore, MapFlags, MapHandle, MapType, Object, ObjectBuilder};
use std::os::fd::AsFd;
use std::time::Instant;

/// The compiled probe (see build.rs).
static PROBE_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/peregrine.bpf.o"));

/// How syscalls are hooked (see ARCHITECTURE.md for the measurements; B is
/// the default: it adds about half as much to syscalls nobody wants, which
/// dominate real workloads, for about 6% more on captured ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// A: the `sys_exit` raw tracepoint for every syscall, an in-kernel
    /// interest check, then a tail call to the syscall's handler.
    Dispatch,
    /// B: each wanted syscall's own exit tracepoint
    /// (`syscalls/sys_exit_<name>`); no BPF program runs for other syscalls.
    Tracepoint,
}

impl std::str::FromStr for Design {
    type Err = String;
    fn from_str(s: &str) -> Result<Design, String> {
        match s {
            "dispatch" | "a" | "A" => Ok(Design::Dispatch),
            "tracepoint" | "b" | "B" => Ok(Design::Tracepoint),
            other => Err(format!(
                "unknown probe design '{other}' (dispatch or tracepoint)"
            )),
        }
    }
}

/// Whether the kernel wakes the consumer when it writes an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// Wake the consumer when it has caught up (libbpf's default): lowest
    /// latency, but a wakeup per event at low rates and an irq_work in the
    /// traced syscall's path.
    Adaptive,
    /// Never wake; the consumer checks the rings every `idle_sleep` (1 ms)
    /// when they are empty. Cheaper for the traced programs (measured).
    Never,
}

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub design: Design,
    /// Ring buffer bytes per CPU (a power of two, at least a page).
    pub ring_bytes_per_cpu: usize,
    /// One ring for all CPUs instead of one per CPU.
    pub shared_ring: bool,
    /// Bytes of I/O data captured per read/write event.
    pub snaplen: u32,
    pub wakeup: Wakeup,
    /// `PPM_SC_*` codes to capture (see [`crate::interest::select`]).
    pub interest: ScSet,
    /// Drop events of this process (normally ours) in the kernel; `None`
    /// captures everything.
    pub ignore_tgid: Option<u32>,
    /// Benchmark floor: load and attach the same programs, which return at
    /// once.
    pub floor: bool,
    /// Falco's `drop_failed_exit`: exits of failed syscalls (negative
    /// return) are dropped in the kernel.
    pub drop_failed_exit: bool,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            design: Design::Tracepoint,
            ring_bytes_per_cpu: 8 << 20,
            shared_ring: false,
            snaplen: 80,
            wakeup: Wakeup::Never,
            interest: ScSet::new(),
            ignore_tgid: Some(std::process::id()),
            floor: false,
            drop_failed_exit: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("eBPF probe: {what}: {source}")]
    Libbpf {
        what: String,
        #[source]
        source: libbpf_rs::Error,
    },
    #[error("eBPF probe: {0}")]
    Config(String),
    #[error("eBPF probe: mapping ring buffer: {0}")]
    Map(#[from] std::io::Error),
}

fn lb<T>(what: impl Into<String>, r: libbpf_rs::Result<T>) -> Result<T, ProbeError> {
    r.map_err(|source| ProbeError::Libbpf {
        what: what.into(),
        source,
    })
}

/// Ring bytes per CPU for Falco's `engine.*.buf_size_preset` (1 → 1 MiB …
/// 4 → 8 MiB, Falco's default, … 10 → 512 MiB).
pub fn buf_size_preset_bytes(preset: u8) -> Option<usize> {
    match preset {
        1..=10 => Some((1usize << 20) << (preset - 1)),
        _ => None,
    }
}

/// Mirrors `struct config` in probe/probe.h.
#[repr(C)]
#[derive(Clone, Copy)]
struct RoConfig {
    boot_ns: u64,
    rb_flags: u64,
    own_tgid: u32,
    snaplen: u32,
    shared_ring: u8,
    floor: u8,
    drop_failed: u8,
    pad: [u8; 5],
}

/// Mirrors `struct runtime` in probe/probe.h.
#[repr(C)]
#[derive(Clone, Copy)]
struct Runtime {
    interest: [u8; SYSCALL_TABLE],
    ppm_sc_of: [u16; SYSCALL_TABLE],
    want_procexit: u8,
    pad: [u8; 7],
}

fn as_bytes<T: Copy>(v: &T) -> &[u8] {
    // SAFETY: T is a plain #[repr(C)] struct of integers without padding holes
    // that matter (all padding is explicit).
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

const BPF_RB_NO_WAKEUP: u64 = 1;

/// What the interest set turns into for the kernel.
struct Plan {
    runtime: Runtime,
    /// Handled syscalls to load and hook.
    handlers: Vec<&'static str>,
    /// Native numbers of wanted syscalls without a handler.
    generic: Vec<u32>,
    /// Wanted codes the probe cannot produce (tracepoints it lacks, syscalls
    /// not on this architecture).
    unsupported: ScSet,
}

fn plan(interest: &ScSet) -> Plan {
    let mut rt = Runtime {
        interest: [0; SYSCALL_TABLE],
        ppm_sc_of: [0; SYSCALL_TABLE],
        want_procexit: 0,
        pad: [0; 7],
    };
    for (nr, name) in syscalls::X86_64_SYSCALLS {
        if let (Some(code), true) = (syscalls::ppm_sc_code(name), (*nr as usize) < SYSCALL_TABLE) {
            rt.ppm_sc_of[*nr as usize] = code;
        }
    }
    let mut handlers = Vec::new();
    let mut generic = Vec::new();
    let mut unsupported = ScSet::new();
    for code in interest.iter() {
        let Some(name) = syscalls::ppm_sc_name(code) else {
            continue;
        };
        if name == "sched_process_exit" {
            rt.want_procexit = 1;
            continue;
        }
        match syscalls::native_nr(name) {
            Some(nr) if (nr as usize) < SYSCALL_TABLE => {
                rt.interest[nr as usize] = 1;
                if syscalls::handled(name).is_some() {
                    handlers.push(syscalls::handled(name).map(|h| h.name).unwrap_or(name));
                } else {
                    generic.push(nr);
                }
            }
            _ => unsupported.insert(code),
        }
    }
    Plan {
        runtime: rt,
        handlers,
        generic,
        unsupported,
    }
}

/// Counters the probe keeps per CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Events the probe produced (delivered or dropped).
    pub n_evts: u64,
    /// Dropped: ring buffer full.
    pub n_drops_buffer: u64,
    /// Dropped: larger than the maximum event size.
    pub n_drops_max_event_size: u64,
    /// Dropped: the CPU's scratch buffer was in use (a preempted program).
    pub n_drops_scratch: u64,
}

/// A loaded, attached probe.
pub struct Probe {
    obj: Object,
    /// Attachments by key: the program name, or `x_generic:<syscall>`.
    links: Vec<(String, Link)>,
    /// The ring maps (one per CPU, or one shared); kept open for the rings.
    ring_maps: Vec<MapHandle>,
    num_cpus: usize,
    pub(crate) shared_ring: bool,
    unsupported: ScSet,
    design: Design,
    /// Why the requested tracepoint design gave way to dispatch.
    fallback: Option<String>,
    load_time: std::time::Duration,
}

impl Drop for Probe {
    /// Detaching a syscall tracepoint waits for RCU grace periods (~40 ms
    /// each on this kernel); 71 links took 5.2 s one after another and
    /// 3.0 s from 32 threads, where some grace periods are shared.
    fn drop(&mut self) {
        let links = std::mem::take(&mut self.links);
        let per_thread = links.len().div_ceil(32).max(1);
        let mut groups: Vec<Vec<(String, Link)>> = Vec::new();
        let mut it = links.into_iter().peekable();
        while it.peek().is_some() {
            groups.push(it.by_ref().take(per_thread).collect());
        }
        std::thread::scope(|s| {
            for g in groups {
                s.spawn(move || drop(g));
            }
        });
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("design", &self.design)
            .field("num_cpus", &self.num_cpus)
            .field("rings", &self.ring_maps.len())
            .finish()
    }
}

/// Epoch nanoseconds at boot, so `boot-clock + offset` is wall time.
pub fn boot_time_ns() -> u64 {
    let mut rt = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut bt = rt;
    // SAFETY: clock_gettime writes into the timespecs we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut rt);
        libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut bt);
    }
    let r = rt.tv_sec as u64 * 1_000_000_000 + rt.tv_nsec as u64;
    let b = bt.tv_sec as u64 * 1_000_000_000 + bt.tv_nsec as u64;
    r.saturating_sub(b)
}

impl Probe {
    /// Loads, configures and attaches the probe.
    pub fn load(cfg: &ProbeConfig) -> Result<Probe, ProbeError> {
        let started = Instant::now();
        let page = page_size();
        if !cfg.ring_bytes_per_cpu.is_power_of_two() || cfg.ring_bytes_per_cpu < page {
            return Err(ProbeError::Config(format!(
                "ring buffer size {} must be a power of two of at least {page} bytes",
                cfg.ring_bytes_per_cpu
            )));
        }
        let num_cpus = lb("counting CPUs", libbpf_rs::num_possible_cpus())?;
        let mut plan = plan(&cfg.interest);
        // The tracepoint design attaches through tracefs; where it cannot be
        // had (a container without CAP_SYS_ADMIN or a tracefs mount) the
        // dispatch design on the raw `sys_exit` tracepoint needs neither.
        let (design, tracefs, fallback) = match cfg.design {
            Design::Dispatch => (Design::Dispatch, None, None),
            Design::Tracepoint => match ensure_tracefs() {
                Ok(root) => (Design::Tracepoint, Some(root), None),
                Err(e) => (Design::Dispatch, None, Some(e.to_string())),
            },
        };
        if let Some(root) = tracefs {
            // Syscalls this kernel lacks (e.g. no module support) have no
            // tracepoint; report them instead of failing.
            let exists = |name: &str| {
                root.join("events/syscalls")
                    .join(format!("sys_exit_{}", syscalls::kernel_name(name)))
                    .exists()
            };
            let mut missing = Vec::new();
            plan.handlers.retain(|n| {
                let ok = exists(n);
                if !ok {
                    missing.push(*n);
                }
                ok
            });
            plan.generic.retain(|nr| {
                let ok = syscalls::native_name(*nr).is_some_and(exists);
                if !ok {
                    if let Some(n) = syscalls::native_name(*nr) {
                        missing.push(n);
                    }
                }
                ok
            });
            for n in missing {
                if let Some(code) = syscalls::ppm_sc_code(n) {
                    plan.unsupported.insert(code);
                }
            }
        }

        let mut builder = ObjectBuilder::default();
        let mut open = lb(
            "opening the probe object",
            builder.open_memory(PROBE_OBJECT),
        )?;

        // Programs: only what the design and the interest set need.
        let wanted_t: Vec<String> = plan.handlers.iter().map(|n| format!("t_{n}")).collect();
        let wanted_x: Vec<String> = plan.handlers.iter().map(|n| format!("x_{n}")).collect();
        let need_dispatch = design == Design::Dispatch;
        let need_generic = !plan.generic.is_empty();
        for mut prog in open.progs_mut() {
            let name = prog.name().to_string_lossy().into_owned();
            let load = match name.as_str() {
                "sys_exit" => need_dispatch,
                "t_generic" => need_dispatch && need_generic,
                "x_generic" => !need_dispatch && need_generic,
                "sched_exec" => {
                    cfg.interest.contains_name("execve") || cfg.interest.contains_name("execveat")
                }
                "sched_fork" => ["clone", "clone3", "fork", "vfork"]
                    .iter()
                    .any(|n| cfg.interest.contains_name(n)),
                "sched_exit" => plan.runtime.want_procexit != 0,
                n if n.starts_with("t_") => need_dispatch && wanted_t.iter().any(|w| w == n),
                n if n.starts_with("x_") => !need_dispatch && wanted_x.iter().any(|w| w == n),
                _ => false,
            };
            prog.set_autoload(load);
            if load && std::env::var_os("PEREGRINE_BPF_LOG").is_some() {
                prog.set_log_level(1);
            }
        }

        // Maps: per-CPU arrays sized to the CPUs, rings created here.
        let ring_count = if cfg.shared_ring { 1 } else { num_cpus };
        let mut ring_maps = Vec::with_capacity(ring_count);
        for i in 0..ring_count {
            let opts = libbpf_sys::bpf_map_create_opts {
                sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as libbpf_sys::size_t,
                ..Default::default()
            };
            ring_maps.push(lb(
                format!("creating ring buffer {i}"),
                MapHandle::create(
                    MapType::RingBuf,
                    Some(format!("pg_ring{i}")),
                    0,
                    0,
                    cfg.ring_bytes_per_cpu as u32,
                    &opts,
                ),
            )?);
        }
        let ro = RoConfig {
            boot_ns: boot_time_ns(),
            rb_flags: match cfg.wakeup {
                Wakeup::Adaptive => 0,
                Wakeup::Never => BPF_RB_NO_WAKEUP,
            },
            own_tgid: cfg.ignore_tgid.unwrap_or(0),
            snaplen: cfg.snaplen.min(16 * 1024),
            shared_ring: cfg.shared_ring as u8,
            floor: cfg.floor as u8,
            drop_failed: cfg.drop_failed_exit as u8,
            pad: [0; 5],
        };
        for mut map in open.maps_mut() {
            let name = map.name().to_string_lossy().into_owned();
            match name.as_str() {
                "auxs" => lb("sizing auxs", map.set_max_entries(num_cpus as u32))?,
                "ringbufs" => {
                    lb("sizing ringbufs", map.set_max_entries(num_cpus as u32))?;
                    lb(
                        "setting the ring template",
                        map.set_inner_map_fd(ring_maps[0].as_fd()),
                    )?;
                }
                n if n.ends_with(".rodata") => {
                    let v = map
                        .initial_value_mut()
                        .ok_or_else(|| ProbeError::Config("probe object has no .rodata".into()))?;
                    if v.len() != std::mem::size_of::<RoConfig>() {
                        return Err(ProbeError::Config(format!(
                            ".rodata is {} bytes, expected {} (probe.h and loader.rs disagree)",
                            v.len(),
                            std::mem::size_of::<RoConfig>()
                        )));
                    }
                    v.copy_from_slice(as_bytes(&ro));
                }
                n if n.ends_with(".bss") => {
                    let v = map
                        .initial_value_mut()
                        .ok_or_else(|| ProbeError::Config("probe object has no .bss".into()))?;
                    if v.len() != std::mem::size_of::<Runtime>() {
                        return Err(ProbeError::Config(format!(
                            ".bss is {} bytes, expected {}",
                            v.len(),
                            std::mem::size_of::<Runtime>()
                        )));
                    }
                    v.copy_from_slice(as_bytes(&plan.runtime));
                }
                _ => {}
            }
        }

        let obj = lb("loading the probe (verifier)", open.load())?;

        // Fill the CPU -> ring table.
        let ringbufs = find_map(&obj, "ringbufs")?;
        for cpu in 0..num_cpus {
            let ring = &ring_maps[if cfg.shared_ring { 0 } else { cpu }];
            let fd = std::os::fd::AsRawFd::as_raw_fd(&ring.as_fd()) as u32;
            lb(
                "filling ringbufs",
                ringbufs.update(
                    &(cpu as u32).to_ne_bytes(),
                    &fd.to_ne_bytes(),
                    MapFlags::ANY,
                ),
            )?;
        }

        let mut links = Vec::new();
        if need_dispatch {
            let table = find_map(&obj, "exit_progs")?;
            for prog in obj.progs() {
                let name = prog.name().to_string_lossy();
                let Some(sc) = name.strip_prefix("t_") else {
                    continue;
                };
                if !prog.autoload() {
                    continue;
                }
                let fd = std::os::fd::AsRawFd::as_raw_fd(&prog.as_fd()) as u32;
                let nrs: Vec<u32> = if sc == "generic" {
                    plan.generic.clone()
                } else {
                    syscalls::native_nr(sc).into_iter().collect()
                };
                for nr in nrs {
                    lb(
                        format!("adding {name} to the dispatch table"),
                        table.update(&nr.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY),
                    )?;
                }
            }
        }
        for prog in obj.progs_mut() {
            let name = prog.name().to_string_lossy().into_owned();
            if name.starts_with("t_") || !prog.autoload() {
                continue; // reached by tail call, or not loaded
            }
            if name == "x_generic" {
                for nr in &plan.generic {
                    let Some(sc) = syscalls::native_name(*nr) else {
                        continue;
                    };
                    let tp = format!("sys_exit_{}", syscalls::kernel_name(sc));
                    links.push((
                        format!("x_generic:{sc}"),
                        lb(
                            format!("attaching the generic handler to {tp}"),
                            prog.attach_tracepoint(libbpf_rs::TracepointCategory::Syscalls, &tp),
                        )?,
                    ));
                }
                continue;
            }
            let link = lb(format!("attaching {name}"), prog.attach())?;
            links.push((name, link));
        }

        Ok(Probe {
            obj,
            links,
            ring_maps,
            num_cpus,
            shared_ring: cfg.shared_ring,
            unsupported: plan.unsupported,
            design,
            fallback,
            load_time: started.elapsed(),
        })
    }

    /// Maps the ring buffers for reading.
    pub fn rings(&self, bytes: usize) -> Result<Vec<Ring>, ProbeError> {
        self.ring_maps
            .iter()
            .map(|m| Ring::map(m.as_fd(), bytes).map_err(ProbeError::Map))
            .collect()
    }

    pub(crate) fn ring_fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.ring_maps
            .iter()
            .map(|m| std::os::fd::AsRawFd::as_raw_fd(&m.as_fd()))
    }

    pub fn num_cpus(&self) -> usize {
        self.num_cpus
    }

    /// The design in use: the configured one, or dispatch when the
    /// tracepoint design could not be had (see [`Probe::fallback`]).
    pub fn design(&self) -> Design {
        self.design
    }

    /// Why the configured tracepoint design was replaced by dispatch.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Time taken by [`Probe::load`] (verification dominates).
    pub fn load_time(&self) -> std::time::Duration {
        self.load_time
    }

    /// Wanted codes the probe cannot produce.
    pub fn unsupported(&self) -> &ScSet {
        &self.unsupported
    }

    /// Changes the kernel-side filter without reloading: design A rewrites the
    /// bitmap, design B also attaches and detaches syscall tracepoints. Only
    /// syscalls whose handlers were loaded (the set given at load time) can be
    /// enabled; the others are returned.
    pub fn set_interest(&mut self, interest: &ScSet) -> Result<ScSet, ProbeError> {
        let p = plan(interest);
        let bss = self
            .obj
            .maps()
            .find(|m| m.name().to_string_lossy().ends_with(".bss"))
            .ok_or_else(|| ProbeError::Config("probe has no .bss".into()))?;
        lb(
            "updating the interest filter",
            bss.update(&0u32.to_ne_bytes(), as_bytes(&p.runtime), MapFlags::ANY),
        )?;
        let mut not_loaded = ScSet::new();
        let loaded: Vec<String> = self
            .obj
            .progs()
            .filter(|p| p.autoload())
            .map(|p| p.name().to_string_lossy().into_owned())
            .collect();
        let prefix = match self.design {
            Design::Dispatch => "t_",
            Design::Tracepoint => "x_",
        };
        let generic_prog = format!("{prefix}generic");
        for n in &p.handlers {
            if !loaded.iter().any(|l| *l == format!("{prefix}{n}")) {
                not_loaded.insert_name(n);
            }
        }
        if !p.generic.is_empty() && !loaded.contains(&generic_prog) {
            for nr in &p.generic {
                if let Some(n) = syscalls::native_name(*nr) {
                    not_loaded.insert_name(n);
                }
            }
        }
        if self.design == Design::Tracepoint {
            let mut wanted: Vec<String> = p.handlers.iter().map(|n| format!("x_{n}")).collect();
            wanted.extend(
                p.generic
                    .iter()
                    .filter_map(|nr| syscalls::native_name(*nr))
                    .map(|n| format!("x_generic:{n}")),
            );
            self.links
                .retain(|(k, _)| !k.starts_with("x_") || wanted.contains(k));
            for key in wanted {
                if self.links.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                let (prog_name, generic_sc) = match key.split_once(':') {
                    Some((p, sc)) => (p.to_string(), Some(sc.to_string())),
                    None => (key.clone(), None),
                };
                let Some(prog) = self
                    .obj
                    .progs_mut()
                    .find(|p| p.name().to_string_lossy() == prog_name && p.autoload())
                else {
                    continue;
                };
                let link = match generic_sc {
                    Some(sc) => lb(
                        format!("attaching the generic handler to {sc}"),
                        prog.attach_tracepoint(
                            libbpf_rs::TracepointCategory::Syscalls,
                            format!("sys_exit_{}", syscalls::kernel_name(&sc)),
                        ),
                    )?,
                    None => lb(format!("attaching {prog_name}"), prog.attach())?,
                };
                self.links.push((key, link));
            }
        }
        Ok(not_loaded)
    }

    /// The kernel's counters, per CPU.
    pub fn counters(&self) -> Result<Vec<CpuCounters>, ProbeError> {
        let map = find_map(&self.obj, "stats")?;
        let per_cpu = lb(
            "reading counters",
            map.lookup_percpu(&0u32.to_ne_bytes(), MapFlags::ANY),
        )?
        .unwrap_or_default();
        Ok(per_cpu
            .iter()
            .map(|v| {
                let word = |i: usize| {
                    v.get(i * 8..i * 8 + 8)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_ne_bytes)
                        .unwrap_or(0)
                };
                CpuCounters {
                    n_evts: word(0),
                    n_drops_buffer: word(1),
                    n_drops_max_event_size: word(2),
                    n_drops_scratch: word(3),
                }
            })
            .collect())
    }

    /// Names of the loaded programs (for diagnostics and tests).
    pub fn program_names(&self) -> Vec<String> {
        self.obj
            .progs()
            .map(|p| p.name().to_string_lossy().into_owned())
            .collect()
    }
}

/// libbpf finds tracepoint ids in tracefs, which a fresh machine may not
/// have mounted. Returns the tracefs root.
fn ensure_tracefs() -> Result<std::path::PathBuf, ProbeError> {
    for p in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        if std::path::Path::new(p).join("events/syscalls").exists() {
            return Ok(p.into());
        }
    }
    let c = |s: &str| std::ffi::CString::new(s).expect("no NUL");
    let (src, target, fstype) = (c("nodev"), c("/sys/kernel/tracing"), c("tracefs"));
    // SAFETY: plain mount(2) with NUL-terminated strings we own.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    let root = std::path::PathBuf::from("/sys/kernel/tracing");
    if rc != 0 || !root.join("events/syscalls").exists() {
        return Err(ProbeError::Config(format!(
            "the tracepoint design needs tracefs at /sys/kernel/tracing and mounting it failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(root)
}

fn find_map<'a>(obj: &'a Object, name: &str) -> Result<libbpf_rs::Map<'a>, ProbeError> {
    obj.maps()
        .find(|m| m.name() == name)
        .ok_or_else(|| ProbeError::Config(format!("probe has no map {name}")))
}

/// Names of every program in the embedded object.
pub fn object_program_names() -> Result<Vec<String>, ProbeError> {
    let mut builder = ObjectBuilder::default();
    let open = lb(
        "opening the probe object",
        builder.open_memory(PROBE_OBJECT),
    )?;
    Ok(open
        .progs()
        .map(|p| p.name().to_string_lossy().into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::HANDLED;

    #[test]
    fn plan_splits_handled_generic_and_tracepoints() {
        let mut s = ScSet::new();
        for n in ["openat", "getpid", "sched_process_exit", "sched_switch"] {
            assert!(s.insert_name(n));
        }
        let p = plan(&s);
        assert_eq!(p.handlers, vec!["openat"]);
        assert_eq!(p.generic, vec![39]); // getpid
        assert_eq!(p.runtime.want_procexit, 1);
        assert_eq!(p.runtime.interest[257], 1);
        assert_eq!(p.runtime.interest[0], 0);
        assert!(p.unsupported.contains_name("sched_switch"));
        assert_eq!(
            p.runtime.ppm_sc_of[39],
            syscalls::ppm_sc_code("getpid").unwrap()
        );
    }

    #[test]
    fn presets_match_falco() {
        assert_eq!(buf_size_preset_bytes(4), Some(8 << 20));
        assert_eq!(buf_size_preset_bytes(1), Some(1 << 20));
        assert_eq!(buf_size_preset_bytes(10), Some(512 << 20));
        assert_eq!(buf_size_preset_bytes(0), None);
        assert_eq!(buf_size_preset_bytes(11), None);
    }

    #[test]
    fn object_has_both_programs_for_every_handled_syscall() {
        let names = object_program_names().expect("open object");
        for h in HANDLED {
            for prefix in ["t_", "x_"] {
                let want = format!("{prefix}{}", h.name);
                assert!(names.contains(&want), "missing program {want}");
            }
        }
    }
}
