//! The event model: one binary format for every source.
//!
//! Events use libscap's layout and numbering (see [`raw`]), so a live event
//! from the eBPF probe and one replayed from a capture file are the same bytes.
//! This crate decodes in place and never allocates on the decode path.
//!
//! - [`raw`]: the zero-copy [`RawEvent`] view and its validation.
//! - [`table`]: every libscap event type with its params, flag names and the
//!   syscall names of generic events.
//! - [`param`]: typed, lazy param access ([`param::Value`]).
//! - [`format`]: libsinsp-style rendering of params (`evt.args`), with state
//!   supplied through [`format::ArgContext`].
//! - [`fields`]: `%field` output formats and the event-level fields.
//! - [`records`], [`source`]: what sources hand over besides events.
//!
//! ```
//! use peregrine_event::raw::{encode_event, RawEvent};
//! use peregrine_event::format::{write_args, NoContext, Rendered};
//! use peregrine_event::table::PPME_SYSCALL_OPEN_X;
//!
//! let mut buf = Vec::new();
//! let (fd, flags, mode) = (3i64.to_le_bytes(), 4097u32.to_le_bytes(), 0u32.to_le_bytes());
//! encode_event(&mut buf, 1, 42, PPME_SYSCALL_OPEN_X, false,
//!              &[&fd, b"/etc/passwd\0", &flags, &mode]);
//! let (ev, _) = RawEvent::parse(&buf).unwrap();
//! assert_eq!(ev.type_name(), "open");
//! assert_eq!(ev.param_by_name("name").unwrap().as_str(), Some("/etc/passwd"));
//! let mut args = String::new();
//! write_args(&mut args, &ev, &NoContext, &mut Rendered::default());
//! assert_eq!(args, "fd=3 name=/etc/passwd flags=4097(O_RDONLY|O_CLOEXEC) mode=0 ");
//! ```

pub mod fields;
pub mod format;
pub mod names;
pub mod net;
pub mod param;
pub mod raw;
pub mod records;
pub mod source;
pub mod table;
pub mod time;

pub use param::{Param, Value};
pub use raw::{EventError, RawEvent};
pub use source::{EventSource, Next, SourcedEvent, Tables};
pub use table::{Direction, EventInfo};
