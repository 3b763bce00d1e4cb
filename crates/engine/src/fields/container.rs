//! `container.*` and `k8s.*`: the fields Falco's container plugin provides,
//! served natively from a [`ContainerLookup`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{Ctx, FArg, Fid};
use crate::value::Out;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    pub source: String,
    pub dest: String,
    pub mode: String,
    pub rdwr: bool,
    pub propagation: String,
}

/// What is known of a container (and its pod).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerMeta {
    pub full_id: String,
    /// `docker`, `podman`, `containerd`, `cri-o`, …
    pub runtime: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub image_repository: String,
    pub image_tag: String,
    pub image_digest: String,
    pub privileged: Option<bool>,
    pub host_pid: Option<bool>,
    pub host_network: Option<bool>,
    pub host_ipc: Option<bool>,
    pub mounts: Vec<Mount>,
    pub start_ts: u64,
    pub ip: String,
    pub cmdline: String,
    pub cni_json: String,
    pub healthcheck: String,
    pub liveness_probe: String,
    pub readiness_probe: String,
    pub labels: BTreeMap<String, String>,
    pub pod_name: String,
    pub pod_uid: String,
    pub pod_namespace: String,
    pub pod_sandbox_id: String,
    pub pod_ip: String,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_cni_json: String,
}

/// Where container metadata comes from (the runtimes, or a capture's
/// container events). Must not block.
pub trait ContainerLookup {
    fn container(&self, full_id: &str) -> Option<Arc<ContainerMeta>>;
}

/// No container metadata at all.
pub struct NoContainers;
impl ContainerLookup for NoContainers {
    fn container(&self, _: &str) -> Option<Arc<ContainerMeta>> {
        None
    }
}

fn nonempty(out: &mut Out<'_>, s: &str) {
    if !s.is_empty() {
        out.str(s.as_bytes())
    }
}

fn mount_by<'a>(m: &'a ContainerMeta, arg: &FArg) -> Option<&'a Mount> {
    match arg {
        FArg::Index(i) => m.mounts.get(usize::try_from(*i).ok()?),
        FArg::Name(dest) => m.mounts.iter().find(|x| x.dest == **dest),
        FArg::None => None,
    }
}

fn labels(out: &mut Out<'_>, l: &BTreeMap<String, String>) {
    if l.is_empty() {
        return;
    }
    let mut text = std::mem::take(&mut out.arena.text);
    text.clear();
    for (i, (k, v)) in l.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{k}:{v}");
    }
    out.str(text.as_bytes());
    out.arena.text = text;
}

pub(super) fn extract(fid: Fid, arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    let Some(t) = ctx.thread else { return true };
    let cid: &str = &t.container_id;
    if cid.is_empty() {
        match fid {
            Fid::ContainerId | Fid::ContainerFullId | Fid::ContainerName => out.str(b"host"),
            Fid::ContainerType => out.str(b"host"),
            Fid::ProcIsContainerHealthcheck
            | Fid::ProcIsContainerLivenessProbe
            | Fid::ProcIsContainerReadinessProbe => out.bool(false),
            _ => {}
        }
        return true;
    }
    match fid {
        Fid::ContainerId => {
            return {
                out.str(&cid.as_bytes()[..cid.len().min(12)]);
                true
            }
        }
        Fid::ContainerFullId => {
            return {
                out.str(cid.as_bytes());
                true
            }
        }
        _ => {}
    }
    let Some(m) = ctx.containers.container(cid) else {
        return true;
    };
    match fid {
        Fid::ContainerName => nonempty(out, &m.name),
        Fid::ContainerImage => nonempty(out, &m.image),
        Fid::ContainerImageId => nonempty(out, &m.image_id),
        Fid::ContainerType => nonempty(out, &m.runtime),
        Fid::ContainerPrivileged => {
            if let Some(p) = m.privileged {
                out.bool(p)
            }
        }
        Fid::ContainerHostPid => {
            if let Some(p) = m.host_pid {
                out.bool(p)
            }
        }
        Fid::ContainerHostNetwork => {
            if let Some(p) = m.host_network {
                out.bool(p)
            }
        }
        Fid::ContainerHostIpc => {
            if let Some(p) = m.host_ipc {
                out.bool(p)
            }
        }
        Fid::ContainerMounts => {
            if !m.mounts.is_empty() {
                let mut text = std::mem::take(&mut out.arena.text);
                text.clear();
                for (i, x) in m.mounts.iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    let _ = write!(
                        text,
                        "{}:{}:{}:{}:{}",
                        x.source, x.dest, x.mode, x.rdwr, x.propagation
                    );
                }
                out.str(text.as_bytes());
                out.arena.text = text;
            }
        }
        Fid::ContainerMount => {
            if let Some(x) = mount_by(&m, arg) {
                let mut text = std::mem::take(&mut out.arena.text);
                text.clear();
                let _ = write!(
                    text,
                    "{}:{}:{}:{}:{}",
                    x.source, x.dest, x.mode, x.rdwr, x.propagation
                );
                out.str(text.as_bytes());
                out.arena.text = text;
            }
        }
        Fid::ContainerMountSource => {
            if let Some(x) = mount_by(&m, arg) {
                out.str(x.source.as_bytes())
            }
        }
        Fid::ContainerMountDest => {
            if let Some(x) = mount_by(&m, arg) {
                out.str(x.dest.as_bytes())
            }
        }
        Fid::ContainerMountMode => {
            if let Some(x) = mount_by(&m, arg) {
                out.str(x.mode.as_bytes())
            }
        }
        Fid::ContainerMountRdwr => {
            if let Some(x) = mount_by(&m, arg) {
                out.str(if x.rdwr { b"true" } else { b"false" })
            }
        }
        Fid::ContainerMountPropagation => {
            if let Some(x) = mount_by(&m, arg) {
                out.str(x.propagation.as_bytes())
            }
        }
        Fid::ContainerImageRepository => nonempty(out, &m.image_repository),
        Fid::ContainerImageTag => nonempty(out, &m.image_tag),
        Fid::ContainerImageDigest => nonempty(out, &m.image_digest),
        Fid::ContainerHealthcheck => nonempty(out, &m.healthcheck),
        Fid::ContainerLivenessProbe => nonempty(out, &m.liveness_probe),
        Fid::ContainerReadinessProbe => nonempty(out, &m.readiness_probe),
        Fid::ContainerStartTs => {
            if m.start_ts > 0 {
                out.u64(m.start_ts)
            }
        }
        Fid::ContainerDuration => {
            if m.start_ts > 0 {
                out.u64(ctx.ev.ts().saturating_sub(m.start_ts))
            }
        }
        Fid::ContainerIp => nonempty(out, &m.ip),
        Fid::ContainerCniJson => nonempty(out, &m.cni_json),
        Fid::ContainerLabel => {
            if let FArg::Name(k) = arg {
                if let Some(v) = m.labels.get(&**k) {
                    out.str(v.as_bytes())
                }
            }
        }
        Fid::ContainerLabels => labels(out, &m.labels),
        Fid::ContainerCmdline => nonempty(out, &m.cmdline),
        Fid::ProcIsContainerHealthcheck => {
            out.bool(!m.healthcheck.is_empty() && is_probe(t, &m.healthcheck))
        }
        Fid::ProcIsContainerLivenessProbe => {
            out.bool(!m.liveness_probe.is_empty() && is_probe(t, &m.liveness_probe))
        }
        Fid::ProcIsContainerReadinessProbe => {
            out.bool(!m.readiness_probe.is_empty() && is_probe(t, &m.readiness_probe))
        }
        Fid::K8sPodName => nonempty(out, &m.pod_name),
        Fid::K8sPodId | Fid::K8sPodUid => nonempty(out, &m.pod_uid),
        Fid::K8sPodSandboxId => {
            let s = &m.pod_sandbox_id;
            nonempty(out, &s[..s.len().min(12)])
        }
        Fid::K8sPodFullSandboxId => nonempty(out, &m.pod_sandbox_id),
        Fid::K8sPodLabel => {
            if let FArg::Name(k) = arg {
                if let Some(v) = m.pod_labels.get(&**k) {
                    out.str(v.as_bytes())
                }
            }
        }
        Fid::K8sPodLabels => labels(out, &m.pod_labels),
        Fid::K8sPodIp => nonempty(out, &m.pod_ip),
        Fid::K8sPodCniJson => nonempty(out, &m.pod_cni_json),
        Fid::K8sNsName => nonempty(out, &m.pod_namespace),
        _ => return false,
    }
    true
}

fn is_probe(t: &peregrine_state::Thread, probe: &str) -> bool {
    let mut parts = probe.split(' ');
    let exe = parts.next().unwrap_or("");
    *t.exe == *exe
}
