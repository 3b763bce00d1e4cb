//! Container ids from cgroup paths.
//!
//! Runs per clone/execve event, so it never allocates: the id is copied into
//! a fixed inline buffer and everything else is byte slicing. Only the
//! trailing component(s) of each path are examined (like Falco), so a
//! process nested inside a container's own systemd tree is attributed to
//! the innermost container id found at the end of the path.

use std::fmt;

/// The longest id kept. Runtime ids are 64 hex digits; LXC/ctr names longer
/// than this are not treated as containers (Falco does the same).
pub const MAX_ID_LEN: usize = 64;
/// Length of `container.id` (the short id).
pub const SHORT_ID_LEN: usize = 12;

/// Which runtime a container belongs to, as Falco's `container.type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Runtime {
    Docker,
    Podman,
    Containerd,
    CriO,
    /// A Kubernetes pod container whose runtime the cgroup does not tell
    /// (cgroupfs driver: `/kubepods/<qos>/pod<uid>/<id>`).
    Cri,
    Lxc,
    LibvirtLxc,
}

impl Runtime {
    /// The `container.type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Cri => "cri",
            Runtime::Lxc => "lxc",
            Runtime::LibvirtLxc => "libvirt-lxc",
        }
    }

    /// Falco's numeric container type (the `type` of the `container` event JSON).
    pub fn falco_code(self) -> u32 {
        match self {
            Runtime::Docker => 0,
            Runtime::Lxc => 1,
            Runtime::LibvirtLxc => 2,
            Runtime::Cri => 6,
            Runtime::Containerd => 7,
            Runtime::CriO => 8,
            Runtime::Podman => 11,
        }
    }

    /// Whether a runtime API can be asked about this container at all.
    pub fn has_api(self) -> bool {
        !matches!(self, Runtime::Lxc | Runtime::LibvirtLxc)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container as identified from a thread's cgroups: its id and the runtime
/// the cgroup layout suggests. `Copy`, no heap: cheap to keep per thread.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContainerRef {
    id: [u8; MAX_ID_LEN],
    len: u8,
    runtime: Runtime,
}

impl fmt::Debug for ContainerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContainerRef({} {})", self.runtime, self.id())
    }
}

impl ContainerRef {
    /// A reference from a known id (e.g. from a runtime event). `None` when
    /// the id is empty, too long or has bytes no runtime uses.
    pub fn new(id: &str, runtime: Runtime) -> Option<Self> {
        let b = id.as_bytes();
        if b.is_empty() || b.len() > MAX_ID_LEN || !b.iter().all(|&c| is_name_byte(c)) {
            return None;
        }
        let mut buf = [0u8; MAX_ID_LEN];
        buf[..b.len()].copy_from_slice(b);
        Some(ContainerRef {
            id: buf,
            len: b.len() as u8,
            runtime,
        })
    }

    fn from_bytes(id: &[u8], runtime: Runtime) -> Self {
        debug_assert!(!id.is_empty() && id.len() <= MAX_ID_LEN);
        let mut buf = [0u8; MAX_ID_LEN];
        buf[..id.len()].copy_from_slice(id);
        ContainerRef {
            id: buf,
            len: id.len() as u8,
            runtime,
        }
    }

    /// The id as found in the cgroup: for runtimes with hex ids this is the
    /// full 64-digit id (`container.full_id`).
    pub fn id(&self) -> &str {
        // Only ASCII name bytes are ever stored.
        std::str::from_utf8(&self.id[..self.len as usize]).unwrap_or("")
    }

    /// `container.id`: the first 12 characters.
    pub fn short_id(&self) -> &str {
        let id = self.id();
        &id[..id.len().min(SHORT_ID_LEN)]
    }

    /// The runtime the cgroup layout suggests; metadata may refine it
    /// (e.g. [`Runtime::Cri`] becomes containerd or cri-o).
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// Whether the id is a 64-digit hex runtime id.
    pub fn is_hex_id(&self) -> bool {
        self.len as usize == MAX_ID_LEN && is_hex(&self.id[..MAX_ID_LEN])
    }

    /// From the entries of the `cgroups` param of clone/execve events
    /// (`subsys=path`), bare paths, or `/proc/PID/cgroup` lines
    /// (`N:controllers:path`). The first entry naming a container wins.
    pub fn from_cgroups<I, S>(entries: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // v1 hierarchies usually repeat one path: test each distinct run once.
        let mut previous: Option<(S, usize, usize)> = None;
        for entry in entries {
            let bytes = entry.as_ref();
            let path = entry_path(bytes);
            let repeated = previous
                .as_ref()
                .is_some_and(|(p, start, len)| p.as_ref().get(*start..*start + *len) == Some(path));
            if !repeated {
                if let Some(found) = Self::from_cgroup_path(path) {
                    return Some(found);
                }
            }
            let start = path.as_ptr() as usize - bytes.as_ptr() as usize;
            let len = path.len();
            previous = Some((entry, start, len));
        }
        None
    }

    /// From the raw `cgroups` param bytes: NUL-separated `subsys=path` strings.
    pub fn from_cgroups_param(param: &[u8]) -> Option<Self> {
        Self::from_cgroups(param.split(|&b| b == 0).filter(|s| !s.is_empty()))
    }

    /// From the text of `/proc/PID/cgroup`.
    pub fn from_proc_cgroup(text: &[u8]) -> Option<Self> {
        Self::from_cgroups(text.split(|&b| b == b'\n').filter(|s| !s.is_empty()))
    }

    /// Reads `/proc/PID/cgroup` (used for processes found at startup).
    /// `Ok(None)` for a host process.
    pub fn read_proc(pid: u32) -> std::io::Result<Option<Self>> {
        let text = std::fs::read(format!("/proc/{pid}/cgroup"))?;
        Ok(Self::from_proc_cgroup(&text))
    }

    /// From one cgroup path (relative to its hierarchy's root).
    pub fn from_cgroup_path(path: &[u8]) -> Option<Self> {
        let path = trim_trailing_slashes(path);
        if path.len() < 2 {
            return None;
        }
        if has_lxc_component(path) && memchr::memmem::find(path, b"/libvirt/lxc/").is_none() {
            if let Some(found) = match_lxc(path) {
                return Some(found);
            }
        }
        let (parent, last) = split_last(path);
        if let Some(found) = match_component(parent, last) {
            return Some(found);
        }
        // systemd-managed podman/cri-o may nest the payload one level down
        // (`libpod-<id>.scope/container`).
        if last == b"container" && !parent.is_empty() {
            let (grand, comp) = split_last(parent);
            return match_component(grand, comp);
        }
        None
    }
}

/// The path part of a cgroups entry in any of the accepted forms.
fn entry_path(entry: &[u8]) -> &[u8] {
    let entry = trim_eol(entry);
    if entry.first() == Some(&b'/') {
        return entry;
    }
    // `subsys=path` (the subsys may itself contain '=', as in name=systemd).
    for pos in memchr::memchr_iter(b'=', entry) {
        if entry.get(pos + 1) == Some(&b'/') {
            return &entry[pos + 1..];
        }
    }
    // `N:controllers:path`; the path may contain ':' so split twice only.
    let mut parts = entry.splitn(3, |&b| b == b':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(_), Some(path)) => path,
        _ => &[],
    }
}

fn trim_eol(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let [rest @ .., b'\n' | b'\r'] = s {
        s = rest;
    }
    s
}

fn trim_trailing_slashes(s: &[u8]) -> &[u8] {
    let mut s = s;
    while s.len() > 1 && s[s.len() - 1] == b'/' {
        s = &s[..s.len() - 1];
    }
    s
}

/// (parent path, last component) of `/a/b/c` → (`/a/b`, `c`).
fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memrchr(b'/', path) {
        Some(pos) => (&path[..pos], &path[pos + 1..]),
        None => (&[], path),
    }
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

fn is_hex_id(s: &[u8]) -> bool {
    s.len() == MAX_ID_LEN && is_hex(s)
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

fn is_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_LEN && s.iter().all(|&c| is_name_byte(c))
}

/// containerd namespaces whose `/<ns>/<name>` cgroups (ctr, nerdctl with
/// cgroupfs) are accepted with non-hex names. Falco accepts any namespace;
/// that also claims host cgroups such as `/process_api/<32 hex>` (seen on
/// this project's CI machines), so only well-known namespaces are trusted.
const CONTAINERD_NAMESPACES: &[&[u8]] = &[b"default", b"k8s.io", b"moby", b"buildkit"];

/// `<prefix><64 hex><suffix>` layouts of one path component, with the
/// runtime they imply. `None` runtime: a runtime helper (conmon), not a
/// container.
const SCOPED_LAYOUTS: &[(&[u8], Option<Runtime>)] = &[
    (b"docker-", Some(Runtime::Docker)),
    (b"libpod-conmon-", None),
    (b"libpod-payload-", Some(Runtime::Podman)),
    (b"libpod-", Some(Runtime::Podman)),
    (b"cri-containerd-", Some(Runtime::Containerd)),
    (b"crio-conmon-", None),
    (b"crio-", Some(Runtime::CriO)),
    (b"nerdctl-", Some(Runtime::Containerd)),
];

fn match_component(parent: &[u8], comp: &[u8]) -> Option<ContainerRef> {
    if comp.is_empty() {
        return None;
    }
    // Runtime ids are 64 hex digits: shorter components can only be
    // LXC/libvirt/ctr names (checked below).
    let stem = comp.strip_suffix(b".scope").unwrap_or(comp);
    for (prefix, runtime) in SCOPED_LAYOUTS.iter().filter(|_| comp.len() >= MAX_ID_LEN) {
        if let Some(id) = stem.strip_prefix(*prefix) {
            if is_hex_id(id) {
                return runtime.map(|rt| ContainerRef::from_bytes(id, rt));
            }
        }
    }
    // runc's systemd notation used as a cgroupfs path:
    // `kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>`.
    let colon = (comp.len() > MAX_ID_LEN)
        .then(|| memchr::memchr(b':', comp))
        .flatten()
        .and_then(|_| memchr::memmem::find(comp, b":cri-containerd:"));
    if let Some(pos) = colon {
        let id = &comp[pos + b":cri-containerd:".len()..];
        if is_hex_id(id) {
            return Some(ContainerRef::from_bytes(id, Runtime::Containerd));
        }
        return None;
    }
    if is_hex_id(comp) {
        return Some(ContainerRef::from_bytes(comp, bare_id_runtime(parent)));
    }
    // libvirt-lxc without systemd: `/<name>.libvirt-lxc`.
    if let Some(name) = comp.strip_suffix(b".libvirt-lxc") {
        if is_name(name) {
            return Some(ContainerRef::from_bytes(name, Runtime::LibvirtLxc));
        }
    }
    // libvirt-lxc under systemd: `machine-lxc\x2d<id>\x2d<name>.scope`
    // (systemd escapes '-' as `\x2d`).
    if let Some(rest) = comp.strip_prefix(b"machine-lxc\\x2d") {
        if let Some(name) = rest.strip_suffix(b".scope") {
            if !name.is_empty() && name.len() <= MAX_ID_LEN && name.iter().all(|&c| c != b'/') {
                let mut buf = [0u8; MAX_ID_LEN];
                let mut n = 0;
                for &c in name {
                    buf[n] = if is_name_byte(c) { c } else { b'_' };
                    n += 1;
                }
                return Some(ContainerRef::from_bytes(&buf[..n], Runtime::LibvirtLxc));
            }
        }
    }
    // Legacy libvirt: `/libvirt/lxc/<name>`.
    if parent.ends_with(b"/libvirt/lxc") && is_name(comp) {
        return Some(ContainerRef::from_bytes(comp, Runtime::LibvirtLxc));
    }
    // ctr/nerdctl containers in a containerd namespace: `/<ns>/<name>`.
    if let Some(ns) = parent.strip_prefix(b"/") {
        if CONTAINERD_NAMESPACES.contains(&ns) && is_name(comp) && !is_systemd_unit(comp) {
            return Some(ContainerRef::from_bytes(comp, Runtime::Containerd));
        }
    }
    None
}

fn is_systemd_unit(comp: &[u8]) -> bool {
    comp.ends_with(b".service") || comp.ends_with(b".slice") || comp.ends_with(b".scope")
}

/// Runtime of a bare `<64 hex>` component, from its parent directory.
fn bare_id_runtime(parent: &[u8]) -> Runtime {
    let (grand, dir) = split_last(parent);
    if dir == b"docker" {
        return Runtime::Docker;
    }
    if grand.is_empty() && CONTAINERD_NAMESPACES.contains(&dir) {
        return Runtime::Containerd;
    }
    // kubelet cgroupfs driver: /kubepods[/qos]/pod<uid>/<id>.
    if dir.starts_with(b"pod") && memchr::memmem::find(parent, b"kubepods").is_some() {
        return Runtime::Cri;
    }
    // Falco's default for a bare 64-hex id.
    Runtime::Docker
}

/// Whether some component starts with `lxc` (cheap pre-check, no searcher).
fn has_lxc_component(path: &[u8]) -> bool {
    memchr::memchr_iter(b'/', path).any(|i| path[i + 1..].starts_with(b"lxc"))
}

/// LXC: `/lxc/<name>`, `/lxc.payload/<name>` (LXC 3.1+), `/lxc.payload.<name>`
/// (LXC 4.0). The monitor cgroups (`lxc.monitor…`) are host processes.
fn match_lxc(path: &[u8]) -> Option<ContainerRef> {
    const MARKERS: &[&[u8]] = &[b"/lxc/", b"/lxc.payload/", b"/lxc.payload."];
    for marker in MARKERS {
        if let Some(pos) = memchr::memmem::find(path, marker) {
            let rest = &path[pos + marker.len()..];
            let end = memchr::memchr(b'/', rest).unwrap_or(rest.len());
            let name = &rest[..end];
            if is_name(name) {
                return Some(ContainerRef::from_bytes(name, Runtime::Lxc));
            }
        }
    }
    None
}

#[cfg(test)]
#[path = "cgroup_tests.rs"]
mod tests;
