//! The seam every event source implements (capture file, live eBPF, later
//! Kubernetes audit). The engine is generic over it.

use crate::raw::RawEvent;
use crate::records::{GroupRecord, InterfaceRecord, MachineInfo, ThreadRecord, UserRecord};

/// An event as a source delivers it: the scap-layout bytes plus the metadata
/// that lives outside them (CPU, block flags, sequence number).
#[derive(Debug, Clone, Copy)]
pub struct SourcedEvent<'a> {
    /// 1-based sequence number in the stream, as `evt.num` shows it.
    pub num: u64,
    pub cpu: u16,
    /// Flags from an EVF block (0 when the source has none).
    pub flags: u32,
    pub event: RawEvent<'a>,
}

/// What a source knows before its first event, and may learn later (e.g.
/// proc-list blocks in the middle of a file).
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub machine: Option<MachineInfo>,
    pub threads: Vec<ThreadRecord>,
    pub users: Vec<UserRecord>,
    pub groups: Vec<GroupRecord>,
    pub interfaces: Vec<InterfaceRecord>,
}

impl Tables {
    /// A copy of everything but the process table.
    pub fn without_threads(&self) -> Tables {
        Tables {
            machine: self.machine.clone(),
            threads: Vec::new(),
            users: self.users.clone(),
            groups: self.groups.clone(),
            interfaces: self.interfaces.clone(),
        }
    }

    /// Gives the tables away to whoever builds state from them: the
    /// process table moves out (it is much of a busy host's tables), the
    /// small ones are copied.
    pub fn take(&mut self) -> Tables {
        let mut t = self.without_threads();
        t.threads = std::mem::take(&mut self.threads);
        t
    }
}

/// A pull-based stream of events. `next` lends the event: it borrows the
/// source, so bytes are never copied on the way to the engine.
pub trait EventSource {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Tables known so far (read once before the first `next`).
    fn tables(&self) -> &Tables;

    /// Next item. A capture file never returns `Idle`; a live source returns
    /// it when nothing arrived within its poll interval, so the caller can do
    /// periodic work (drop statistics, metrics) without a second thread.
    fn next(&mut self) -> Result<Next<'_>, Self::Error>;
}

#[derive(Debug, Clone, Copy)]
pub enum Next<'a> {
    Event(SourcedEvent<'a>),
    Idle,
    End,
}
