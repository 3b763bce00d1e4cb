//! The live source: the CO-RE eBPF probe (C, in `probe/`), its loader, the
//! ring-buffer consumer and the /proc scan that seeds state at startup.
//! Stage: **source**. Nothing else in Peregrine touches BPF.
//!
//! Events come out in libscap's layout and numbering, exit events only, each
//! carrying its syscall's enter params too, so the engine cannot tell them
//! from a replayed capture.
//!
//! ```no_run
//! use peregrine_ebpf::{interest, LiveConfig, LiveSource};
//! use peregrine_event::{EventSource, Next};
//!
//! // Syscalls the rules need, plus what state needs (Falco's base_syscalls).
//! let mut rules = interest::ScSet::new();
//! rules.insert_name("openat");
//! rules.insert_name("execve");
//! let selection = interest::select(&rules, &interest::BaseSyscalls::default());
//!
//! let mut cfg = LiveConfig::default();
//! cfg.probe.interest = selection.set;
//! let mut src = LiveSource::open(&cfg).expect("root and BTF");
//! println!("{} threads at startup", src.tables().threads.len());
//! while let Ok(next) = src.next() {
//!     match next {
//!         Next::Event(ev) => println!("{} {}", ev.cpu, ev.event.type_name()),
//!         Next::Idle => {} // periodic work: src.stats(), drop monitor
//!         Next::End => break,
//!     }
//! }
//! ```

pub mod interest;
pub mod live;
pub mod loader;
pub mod procfs;
pub mod ring;
pub mod syscalls;

pub use interest::{BaseSyscalls, ScSet};
pub use live::{DropCounters, LiveConfig, LiveError, LiveSource, LiveStats};
pub use loader::{buf_size_preset_bytes, Design, Probe, ProbeConfig, ProbeError, Wakeup};
