//! Container metadata as the runtimes report it, with Falco's renderings.

use std::collections::BTreeMap;

use crate::cgroup::{Runtime, SHORT_ID_LEN};

/// One mount, as `container.mount*` fields show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mount {
    pub source: String,
    pub dest: String,
    pub mode: String,
    pub rdwr: bool,
    pub propagation: String,
}

impl Mount {
    /// Falco's `source:dest:mode:rdwr:propagation`.
    pub fn falco_string(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.source, self.dest, self.mode, self.rdwr, self.propagation
        )
    }
}

/// Kubernetes pod identity of a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// Full sandbox id (`k8s.pod.full_sandbox_id`).
    pub sandbox_id: String,
    /// The pod's own labels (from the sandbox), not the container's.
    pub labels: BTreeMap<String, String>,
    pub ip: String,
    /// CNI result JSON (`k8s.pod.cni.json`), CRI only.
    pub cni_json: String,
}

impl PodInfo {
    /// `k8s.pod.sandbox_id`: the first 12 characters.
    pub fn short_sandbox_id(&self) -> &str {
        short(&self.sandbox_id)
    }
}

/// What the runtime said about a container. Immutable once published;
/// refreshed by replacing the whole `Arc`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerInfo {
    pub full_id: String,
    /// `None` only for the default value; every looked-up container has one.
    pub runtime: Option<Runtime>,
    pub name: String,
    pub image: String,
    pub image_repository: String,
    pub image_tag: String,
    /// Image id without `sha256:`.
    pub image_id: String,
    /// Registry digest, `sha256:…`.
    pub image_digest: String,
    pub privileged: bool,
    pub mounts: Vec<Mount>,
    pub labels: BTreeMap<String, String>,
    /// Creation and start times, ns since the epoch (0 when unknown).
    pub created_ts: u64,
    pub start_ts: u64,
    pub ip: String,
    /// The container's main command line (entrypoint and arguments).
    pub cmdline: String,
    /// Configured user (`Config.User`), may be empty.
    pub user: String,
    /// Docker health check command, when configured.
    pub healthcheck: String,
    pub host_pid: bool,
    pub host_network: bool,
    pub host_ipc: bool,
    /// A Kubernetes pod sandbox (pause container) rather than a workload.
    pub is_pod_sandbox: bool,
    pub pod: Option<PodInfo>,
    /// The runtime's view of the main process pid, 0 when unknown.
    pub pid: u32,
    /// Whether the runtime reported the container running.
    pub running: bool,
}

impl ContainerInfo {
    /// `container.id`.
    pub fn id(&self) -> &str {
        short(&self.full_id)
    }

    /// `container.type`.
    pub fn type_str(&self) -> &'static str {
        self.runtime.map(Runtime::as_str).unwrap_or("")
    }

    /// `container.mounts`: every mount in Falco's form, comma separated.
    pub fn mounts_string(&self) -> String {
        let parts: Vec<String> = self.mounts.iter().map(Mount::falco_string).collect();
        parts.join(",")
    }

    pub fn mount_by_index(&self, index: usize) -> Option<&Mount> {
        self.mounts.get(index)
    }

    /// First mount whose source matches `pattern` (a glob).
    pub fn mount_by_source(&self, pattern: &str) -> Option<&Mount> {
        self.mounts.iter().find(|m| glob_match(pattern, &m.source))
    }

    /// First mount whose destination matches `pattern` (a glob).
    pub fn mount_by_dest(&self, pattern: &str) -> Option<&Mount> {
        self.mounts.iter().find(|m| glob_match(pattern, &m.dest))
    }

    /// `container.labels`: `k:v, k2:v2` without Kubernetes-internal labels.
    pub fn labels_string(&self) -> String {
        labels_string(&self.labels)
    }

    /// The Falco `container` event JSON (`{"container": {…}}`), from which
    /// the engine can synthesize a `container` event.
    pub fn to_falco_json(&self) -> String {
        let mounts: Vec<serde_json::Value> = self
            .mounts
            .iter()
            .map(|m| {
                serde_json::json!({
                    "Source": m.source, "Destination": m.dest, "Mode": m.mode,
                    "RW": m.rdwr, "Propagation": m.propagation,
                })
            })
            .collect();
        let (sandbox_id, pod_labels, cni) = match &self.pod {
            Some(p) => (p.sandbox_id.as_str(), Some(&p.labels), p.cni_json.as_str()),
            None => ("", None, ""),
        };
        let v = serde_json::json!({"container": {
            "type": self.runtime.map(Runtime::falco_code).unwrap_or(0xffff),
            "id": self.id(),
            "full_id": self.full_id,
            "name": self.name,
            "image": self.image,
            "imagedigest": self.image_digest,
            "imageid": self.image_id,
            "imagerepo": self.image_repository,
            "imagetag": self.image_tag,
            "User": self.user,
            "cni_json": cni,
            "created_time": self.created_ts / 1_000_000_000,
            "host_ipc": self.host_ipc,
            "host_network": self.host_network,
            "host_pid": self.host_pid,
            "ip": self.ip,
            "is_pod_sandbox": self.is_pod_sandbox,
            "labels": self.labels,
            "pod_sandbox_id": sandbox_id,
            "privileged": self.privileged,
            "pod_sandbox_labels": pod_labels,
            "Mounts": mounts,
        }});
        v.to_string()
    }
}

impl ContainerInfo {
    /// Reads the `{"container": {…}}` JSON of a capture's `container`
    /// event (what libsinsp and [`ContainerInfo::to_falco_json`] write).
    /// Unknown keys are ignored; `None` when there is no container object.
    pub fn from_falco_json(text: &str) -> Option<ContainerInfo> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let c = v.get("container")?;
        let st = |k: &str| c.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let bo = |k: &str| c.get(k).and_then(|x| x.as_bool()).unwrap_or(false);
        let map = |k: &str| -> BTreeMap<String, String> {
            c.get(k)
                .and_then(|x| x.as_object())
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let runtime = c.get("type").and_then(|x| x.as_u64()).and_then(|code| {
            [
                Runtime::Docker,
                Runtime::Lxc,
                Runtime::LibvirtLxc,
                Runtime::Cri,
                Runtime::Containerd,
                Runtime::CriO,
                Runtime::Podman,
            ]
            .into_iter()
            .find(|r| r.falco_code() as u64 == code)
        });
        let mounts = c
            .get("Mounts")
            .and_then(|x| x.as_array())
            .map(|ms| {
                ms.iter()
                    .map(|m| Mount {
                        source: m
                            .get("Source")
                            .and_then(|x| x.as_str())
                            .unwrap_or("")
                            .into(),
                        dest: m
                            .get("Destination")
                            .and_then(|x| x.as_str())
                            .unwrap_or("")
                            .into(),
                        mode: m.get("Mode").and_then(|x| x.as_str()).unwrap_or("").into(),
                        rdwr: m.get("RW").and_then(|x| x.as_bool()).unwrap_or(false),
                        propagation: m
                            .get("Propagation")
                            .and_then(|x| x.as_str())
                            .unwrap_or("")
                            .into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let labels = map("labels");
        let full_id = match st("full_id") {
            f if !f.is_empty() => f,
            _ => st("id"),
        };
        let pod_name = labels.get("io.kubernetes.pod.name").cloned();
        let pod = pod_name.map(|name| PodInfo {
            name,
            namespace: labels
                .get("io.kubernetes.pod.namespace")
                .cloned()
                .unwrap_or_default(),
            uid: labels
                .get("io.kubernetes.pod.uid")
                .cloned()
                .unwrap_or_default(),
            sandbox_id: st("pod_sandbox_id"),
            labels: map("pod_sandbox_labels"),
            ip: st("ip"),
            cni_json: st("cni_json"),
        });
        let image = st("image");
        let (repo, tag) = split_image(&image);
        Some(ContainerInfo {
            runtime,
            name: st("name"),
            image_repository: match st("imagerepo") {
                r if !r.is_empty() => r,
                _ => repo.to_string(),
            },
            image_tag: match st("imagetag") {
                t if !t.is_empty() => t,
                _ => tag.to_string(),
            },
            image_id: st("imageid"),
            image_digest: st("imagedigest"),
            privileged: bo("privileged"),
            mounts,
            labels,
            created_ts: c.get("created_time").and_then(|x| x.as_u64()).unwrap_or(0) * 1_000_000_000,
            ip: st("ip"),
            user: st("User"),
            host_pid: bo("host_pid"),
            host_network: bo("host_network"),
            host_ipc: bo("host_ipc"),
            is_pod_sandbox: bo("is_pod_sandbox"),
            pod,
            running: true,
            image,
            full_id,
            ..Default::default()
        })
    }
}

pub(crate) fn short(id: &str) -> &str {
    match id.char_indices().nth(SHORT_ID_LEN) {
        Some((pos, _)) => &id[..pos],
        None => id,
    }
}

/// Falco's label list: `k:v` joined by `, `, skipping `io.kubernetes.*` and
/// `annotation.*` keys; an empty value renders as the bare key.
pub fn labels_string(labels: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in labels {
        if k.starts_with("annotation.") || k.starts_with("io.kubernetes.") {
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push(':');
            out.push_str(v);
        }
    }
    out
}

/// Splits an image reference into repository and tag, the way Falco does:
/// a digest (`@sha256:…`) is dropped, and the tag is what follows the last
/// `:` after the last `/` (so registry ports stay in the repository).
pub fn split_image(image: &str) -> (&str, &str) {
    let image = match image.find('@') {
        Some(at) => &image[..at],
        None => image,
    };
    let last_slash = image.rfind('/');
    match image.rfind(':') {
        Some(colon) if last_slash.is_none_or(|s| colon > s) => {
            (&image[..colon], &image[colon + 1..])
        }
        _ => (image, ""),
    }
}

/// Shell-style glob: `*` any run (including `/`), `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// RFC 3339 time (`2026-11-29T01:26:21.834085603Z`, `…+09:00`) to ns since
/// the epoch. Times before 1970 (Docker's `0001-01-01T00:00:00Z` for
/// "never") and malformed input give 0.
pub fn parse_rfc3339_ns(s: &str) -> u64 {
    parse_rfc3339(s).unwrap_or(0)
}

fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        let kept = &digits[..digits.len().min(9)];
        nanos = kept.parse().ok()?;
        nanos *= 10i64.pow(9 - kept.len() as u32);
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            let off = oh * 3600 + om * 60;
            if sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    if secs < 0 {
        return None;
    }
    Some(secs as u64 * 1_000_000_000 + nanos as u64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_split_follows_falco() {
        // Examples from Falco's parseImageRepoTag documentation.
        assert_eq!(
            split_image("registry.example.com:5000/foo/bar:latest@sha256:abc"),
            ("registry.example.com:5000/foo/bar", "latest")
        );
        assert_eq!(
            split_image("registry.example.com:5000/foo/bar@sha256:abc"),
            ("registry.example.com:5000/foo/bar", "")
        );
        assert_eq!(
            split_image("registry.example.com:5000/foo/bar"),
            ("registry.example.com:5000/foo/bar", "")
        );
        assert_eq!(split_image("foo/bar:latest"), ("foo/bar", "latest"));
        assert_eq!(split_image("foo:latest"), ("foo", "latest"));
        assert_eq!(split_image("localhost/bb:1"), ("localhost/bb", "1"));
        assert_eq!(split_image(""), ("", ""));
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:01Z"), 1_000_000_000);
        assert_eq!(
            parse_rfc3339_ns("2026-11-29T01:26:21.834085603Z"),
            1_795_915_581_834_085_603
        );
        // Same instant with an offset.
        assert_eq!(
            parse_rfc3339_ns("2026-11-29T10:26:21.834085603+09:00"),
            1_795_915_581_834_085_603
        );
        assert_eq!(
            parse_rfc3339_ns("2026-11-29T01:26:21.5Z") % 1_000_000_000,
            500_000_000
        );
        assert_eq!(parse_rfc3339_ns("0001-01-01T00:00:00Z"), 0);
        assert_eq!(parse_rfc3339_ns("garbage"), 0);
        assert_eq!(parse_rfc3339_ns("2026-13-01T00:00:00Z"), 0);
    }

    #[test]
    fn globs() {
        assert!(glob_match("/usr/local/*", "/usr/local/bin"));
        assert!(glob_match("/var/run/docker.sock", "/var/run/docker.sock"));
        assert!(!glob_match("/var/run/docker.sock", "/var/run/docker.sock2"));
        assert!(glob_match("*docker.sock", "/run/docker.sock"));
        assert!(glob_match("/a?c", "/abc"));
        assert!(!glob_match("/a?c", "/ac"));
    }

    #[test]
    fn falco_renderings() {
        let mut info = ContainerInfo {
            full_id: "c08bf7ec4e20647e3e6d6204a657973d8f35fd5946db6780aca13fada59125b1".into(),
            runtime: Some(Runtime::Podman),
            ..Default::default()
        };
        info.labels
            .insert("io.kubernetes.pod.name".into(), "x".into());
        info.labels.insert("app".into(), "web".into());
        info.labels.insert("flag".into(), "".into());
        info.mounts.push(Mount {
            source: "/host/etc".into(),
            dest: "/etc/h".into(),
            mode: "ro".into(),
            rdwr: false,
            propagation: "rprivate".into(),
        });
        assert_eq!(info.id(), "c08bf7ec4e20");
        assert_eq!(info.labels_string(), "app:web, flag");
        assert_eq!(info.mounts_string(), "/host/etc:/etc/h:ro:false:rprivate");
        assert_eq!(
            info.mount_by_source("/host/*").map(|m| m.dest.as_str()),
            Some("/etc/h")
        );
        assert_eq!(
            info.mount_by_dest("/etc/h").map(|m| m.source.as_str()),
            Some("/host/etc")
        );
        let json: serde_json::Value = serde_json::from_str(&info.to_falco_json()).unwrap();
        assert_eq!(json["container"]["type"], 11);
        assert_eq!(json["container"]["id"], "c08bf7ec4e20");
        assert_eq!(json["container"]["Mounts"][0]["RW"], false);
    }
}
