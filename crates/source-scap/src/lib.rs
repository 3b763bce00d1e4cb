//! Capture files in the scap format (pcapng-style blocks): reader and writer.
//! Stage: **source**. Yields [`peregrine_event::SourcedEvent`]s and the tables
//! (process, fd, user lists) the file carries.
//!
//! - [`ScapReader`] reads every block version libscap has written (section
//!   headers of both byte orders, with or without options; machine info;
//!   process lists v1–v9; fd lists; user and interface lists; event blocks
//!   with and without flags, v1 and v2, large-payload ones), skips unknown
//!   blocks, and reads gzip transparently. Events are handed out in place.
//! - [`ScapWriter`] writes captures that libscap readers (Falco, sysdig) read.
//! - [`decode`] holds the pure block decoders (fuzzed).
//!
//! Errors name the file, the block and the byte offset; nothing panics on bad
//! input and allocations are bounded by what the file holds.
//!
//! ```no_run
//! use peregrine_scap::ScapReader;
//! let mut r = ScapReader::open("capture.scap")?;
//! println!("{} threads", r.tables().threads.len());
//! while let Some(ev) = r.next_event()? {
//!     println!("{} {} {}", ev.num, ev.event.type_name(), ev.event.tid());
//! }
//! # Ok::<(), peregrine_scap::ScapError>(())
//! ```

pub mod block;
pub mod convert;
pub mod decode;
mod error;
mod input;
mod reader;
mod writer;

pub use error::{ErrorKind, ScapError};
pub use reader::{ReadStats, ScapReader, MAX_BLOCK_LEN, MAX_EVENT_BLOCK_LEN};
pub use writer::{ByteOrder, FileOut, ScapWriter};
