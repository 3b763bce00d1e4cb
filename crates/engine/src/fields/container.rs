//! `container.*` and `k8s.*`: the fields Falco's container plugin provides,
//! served natively. Values come from `peregrine-container` (the thread's
//! container from its cgroups, metadata from a [`ContainerLookup`]).

use std::sync::{Arc, RwLock};

use peregrine_container::fields::{self as cfields, FieldValue};
use peregrine_container::{ContainerInfo, ContainerManager, ContainerRef, GroupEntry, UserEntry};
use rustc_hash::FxHashMap;

use super::{Ctx, FArg, Fid};
use crate::value::Out;

/// Where container metadata and container users come from. Must never
/// block the event path.
pub trait ContainerLookup {
    /// Metadata of a container by full id, if known yet.
    fn container(&self, full_id: &str) -> Option<Arc<ContainerInfo>>;
    /// A thread of a container was seen (lets a live lookup start).
    fn observe(&self, _container: &ContainerRef, _pid: u32) {}
    /// A user as the container's own /etc/passwd defines it.
    fn user(&self, _container: &ContainerRef, _pid: u32, _uid: u32) -> Option<Arc<UserEntry>> {
        None
    }
    fn group(&self, _container: &ContainerRef, _pid: u32, _gid: u32) -> Option<Arc<GroupEntry>> {
        None
    }
    /// A capture's `container` event (its JSON), for replayed metadata.
    fn on_container_event(&self, _json: &[u8]) {}
}

/// No container metadata at all.
pub struct NoContainers;
impl ContainerLookup for NoContainers {
    fn container(&self, _: &str) -> Option<Arc<ContainerInfo>> {
        None
    }
}

/// Metadata carried by a capture's `container` events (replays).
#[derive(Default)]
pub struct CaptureContainers {
    by_id: RwLock<FxHashMap<String, Arc<ContainerInfo>>>,
}

impl ContainerLookup for CaptureContainers {
    fn container(&self, full_id: &str) -> Option<Arc<ContainerInfo>> {
        let map = self.by_id.read().ok()?;
        map.get(full_id)
            .or_else(|| {
                // Captures name containers by their short id.
                map.get(&full_id[..full_id.len().min(12)])
            })
            .cloned()
    }

    fn on_container_event(&self, json: &[u8]) {
        let Ok(text) = std::str::from_utf8(json) else {
            return;
        };
        let text = text.trim_end_matches('\0');
        if let Some(info) = ContainerInfo::from_falco_json(text) {
            if let Ok(mut map) = self.by_id.write() {
                map.insert(info.full_id.clone(), Arc::new(info));
            }
        }
    }
}

/// Live metadata from the runtimes.
impl ContainerLookup for ContainerManager {
    fn container(&self, full_id: &str) -> Option<Arc<ContainerInfo>> {
        self.get(full_id)
    }
    /// A container's first processes wait for its lookup up to the
    /// manager's `wait_for_new` (bounded, once per container), so the first
    /// alerts of a new or short-lived container carry its name and image.
    fn observe(&self, container: &ContainerRef, pid: u32) {
        let _ = ContainerManager::get_or_wait(self, container, pid);
    }
    fn user(&self, c: &ContainerRef, pid: u32, uid: u32) -> Option<Arc<UserEntry>> {
        ContainerManager::user(self, c, pid, uid)
    }
    fn group(&self, c: &ContainerRef, pid: u32, gid: u32) -> Option<Arc<GroupEntry>> {
        ContainerManager::group(self, c, pid, gid)
    }
}

pub(super) fn extract(fid: Fid, name: &str, arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    let Some(t) = ctx.thread else { return true };
    let cref = t.container.as_ref();
    if matches!(
        fid,
        Fid::ProcIsContainerHealthcheck
            | Fid::ProcIsContainerLivenessProbe
            | Fid::ProcIsContainerReadinessProbe
    ) {
        let hc = cref
            .and_then(|c| ctx.containers.container(c.id()))
            .is_some_and(|m| fid == Fid::ProcIsContainerHealthcheck && is_probe(t, &m.healthcheck));
        out.bool(hc);
        return true;
    }
    // The id needs no metadata: it comes from the thread's cgroups.
    if fid == Fid::ContainerId {
        match cref {
            Some(c) => out.str(c.short_id().as_bytes()),
            None => out.str(b"host"),
        }
        return true;
    }
    let info = cref.and_then(|c| ctx.containers.container(c.id()));
    // A numeric argument (`container.mount[0]`) is spelled into a stack
    // buffer: extraction never allocates.
    let mut digits = [0u8; 24];
    let arg_text: Option<&str> = match arg {
        FArg::None => None,
        FArg::Name(n) => Some(n),
        FArg::Index(i) => {
            let mut w = std::io::Cursor::new(&mut digits[..]);
            let _ = std::io::Write::write_fmt(&mut w, format_args!("{i}"));
            let n = w.position() as usize;
            std::str::from_utf8(&digits[..n]).ok()
        }
    };
    let v = cfields::extract(name, arg_text, cref, info.as_deref());
    match v {
        Some(FieldValue::Str(s)) => out.str(s.as_bytes()),
        Some(FieldValue::Bool(b)) => out.bool(b),
        Some(FieldValue::AbsTime(ts)) => out.u64(ts),
        None => {}
    }
    true
}

fn is_probe(t: &peregrine_state::Thread, probe: &str) -> bool {
    !probe.is_empty() && probe.split(' ').next().is_some_and(|exe| *t.exe == *exe)
}
