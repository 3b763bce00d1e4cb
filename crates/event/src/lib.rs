//! The event model: one binary format for every source.
//!
//! Events use libscap's layout and numbering (see [`raw`]), so a live event
//! from the eBPF probe and one replayed from a capture file are the same bytes.
//! This crate decodes in place and never allocates on the decode path.
//!
//! ```
//! use peregrine_event::raw::{encode_event, RawEvent};
//! let mut buf = Vec::new();
//! encode_event(&mut buf, 1, 42, 3, false, &[b"/etc/passwd"]);
//! let (ev, _) = RawEvent::parse_with(&buf, |_| false).unwrap();
//! assert_eq!(ev.param(0), Some(&b"/etc/passwd"[..]));
//! ```

pub mod raw;
pub mod records;
pub mod source;

pub use raw::{EventError, RawEvent};
pub use source::{EventSource, Next, SourcedEvent, Tables};
