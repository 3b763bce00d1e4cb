//! The detection engine: field extraction, compiled conditions, rules
//! indexed by event type. Stage: **engine**. Knows nothing of YAML files or
//! outputs: rules arrive as [`RuleInput`]s with expanded [`cond::Cond`]s.
//!
//! Per event, only the rules indexed under the event's type are evaluated;
//! fields are extracted lazily, at most once per event, into a reusable
//! arena, so evaluation allocates nothing (an alert being built does).
//!
//! ```
//! use peregrine_engine::{cond::{Cond, Op}, Engine, EngineConfig, RuleInput};
//! use peregrine_alert::Priority;
//! let rule = RuleInput {
//!     name: "open passwd".into(),
//!     condition: Cond::And(vec![
//!         Cond::cmp("evt.type", Op::Eq, "open"),
//!         Cond::cmp("fd.name", Op::Eq, "/etc/passwd"),
//!     ]),
//!     output: vec![],
//!     priority: Priority::Warning,
//!     tags: vec![],
//!     source: "syscall".into(),
//!     enabled: true,
//!     capture: false,
//!     capture_duration_ms: 0,
//! };
//! let engine = Engine::new(vec![rule], EngineConfig::default()).unwrap();
//! assert!(engine.interesting_types().contains(peregrine_event::table::PPME_SYSCALL_OPEN_X));
//! ```

pub mod compile;
pub mod cond;
mod engine;
mod eval;
pub mod fields;
pub mod filter;
pub mod format;
pub mod ops;
pub mod output;
pub mod pipeline;
pub mod value;

pub use compile::{event_types, TypeSet};
pub use engine::{CompileError, Engine, EngineConfig, EventInput, Matched, RuleCount, RuleInput};
pub use fields::{CaptureContainers, ContainerLookup, NoContainers};
pub use filter::Filter;
pub use output::OutputPart;
pub use pipeline::{Pipeline, RawView};
