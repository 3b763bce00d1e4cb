//! The Kubernetes CRI (`runtime.v1.RuntimeService`) over containerd's or
//! CRI-O's socket. Field numbers are those of the public CRI `api.proto`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cgroup::Runtime;
use crate::error::LookupError;
use crate::h2::GrpcConn;
use crate::info::{split_image, ContainerInfo, Mount, PodInfo};
use crate::proto::{fields, map_entry, Enc, Wire};

const SERVICE: &str = "/runtime.v1.RuntimeService/";
/// gRPC NOT_FOUND.
const NOT_FOUND: u32 = 5;
/// Falco keeps at most this much of a CNI result.
const MAX_CNI_JSON: usize = 4096;

/// `ContainerState` enum values.
pub const CONTAINER_RUNNING: u64 = 1;
pub const CONTAINER_EXITED: u64 = 2;

pub struct CriClient {
    pub socket: PathBuf,
    pub timeout: Duration,
    pub label_max_len: usize,
    runtime: OnceLock<Runtime>,
}

/// A row of ListContainers.
#[derive(Clone, Debug, Default)]
pub struct CriContainer {
    pub id: String,
    pub pod_sandbox_id: String,
    pub state: u64,
}

impl CriClient {
    pub fn new(socket: PathBuf, timeout: Duration, label_max_len: usize) -> Self {
        CriClient {
            socket,
            timeout,
            label_max_len,
            runtime: OnceLock::new(),
        }
    }

    fn connect(&self) -> Result<(GrpcConn, Instant), LookupError> {
        let deadline = Instant::now() + self.timeout;
        Ok((GrpcConn::connect(&self.socket, deadline)?, deadline))
    }

    /// The runtime behind the socket (Version's runtime_name), asked once.
    fn runtime(&self, conn: &mut GrpcConn, deadline: Instant) -> Result<Runtime, LookupError> {
        if let Some(rt) = self.runtime.get() {
            return Ok(*rt);
        }
        let req = Enc::new().string(1, "v1").finish();
        let resp = conn.call(&format!("{SERVICE}Version"), &req, deadline)?;
        let mut name = String::new();
        for (num, w) in fields(&resp) {
            if num == 2 {
                name = w.as_string();
            }
        }
        let rt = match name.as_str() {
            "containerd" => Runtime::Containerd,
            "cri-o" => Runtime::CriO,
            _ => Runtime::Cri,
        };
        Ok(*self.runtime.get_or_init(|| rt))
    }

    /// All containers with their states.
    pub fn list(&self) -> Result<Vec<CriContainer>, LookupError> {
        let (mut conn, deadline) = self.connect()?;
        self.list_on(&mut conn, deadline, None)
    }

    fn list_on(
        &self,
        conn: &mut GrpcConn,
        deadline: Instant,
        id: Option<&str>,
    ) -> Result<Vec<CriContainer>, LookupError> {
        let mut req = Enc::new();
        if let Some(id) = id {
            req.message(1, |f| {
                f.string(1, id);
            });
        }
        let resp = conn.call(&format!("{SERVICE}ListContainers"), &req.finish(), deadline)?;
        let mut out = Vec::new();
        for (num, w) in fields(&resp).collect_checked()? {
            if num != 1 {
                continue;
            }
            let mut c = CriContainer::default();
            for (n, v) in fields(w.as_bytes()) {
                match n {
                    1 => c.id = v.as_string(),
                    2 => c.pod_sandbox_id = v.as_string(),
                    6 => c.state = v.as_u64(),
                    _ => {}
                }
            }
            out.push(c);
        }
        Ok(out)
    }

    /// Looks a container (or pod sandbox) up; `Ok(None)` if unknown here.
    pub fn lookup(&self, id: &str) -> Result<Option<ContainerInfo>, LookupError> {
        let (mut conn, deadline) = self.connect()?;
        let runtime = self.runtime(&mut conn, deadline)?;
        let listed = self.list_on(&mut conn, deadline, Some(id))?;
        let Some(row) = listed
            .into_iter()
            .find(|c| c.id == id || c.id.starts_with(id))
        else {
            // Not a workload container: maybe the pod's sandbox (pause).
            return match self.sandbox_status(&mut conn, deadline, id) {
                Ok(sb) => Ok(Some(sandbox_info(id, runtime, &sb))),
                Err(LookupError::Grpc {
                    code: NOT_FOUND, ..
                }) => Ok(None),
                Err(e) => Err(e),
            };
        };
        let req = Enc::new().string(1, &row.id).bool(2, true).finish();
        let resp = match conn.call(&format!("{SERVICE}ContainerStatus"), &req, deadline) {
            Ok(r) => r,
            Err(LookupError::Grpc {
                code: NOT_FOUND, ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let status = decode_container_status(&resp)?;
        let sandbox = if row.pod_sandbox_id.is_empty() {
            None
        } else {
            self.sandbox_status(&mut conn, deadline, &row.pod_sandbox_id)
                .ok()
        };
        Ok(Some(self.to_info(runtime, &row, status, sandbox)))
    }

    fn sandbox_status(
        &self,
        conn: &mut GrpcConn,
        deadline: Instant,
        id: &str,
    ) -> Result<Sandbox, LookupError> {
        let req = Enc::new().string(1, id).bool(2, true).finish();
        let resp = conn.call(&format!("{SERVICE}PodSandboxStatus"), &req, deadline)?;
        decode_sandbox(&resp)
    }

    fn to_info(
        &self,
        runtime: Runtime,
        row: &CriContainer,
        st: Status,
        sandbox: Option<Sandbox>,
    ) -> ContainerInfo {
        let info_json: Value = st
            .info
            .get("info")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);
        let annotation = |k: &str| {
            info_json["runtimeSpec"]["annotations"][k]
                .as_str()
                .map(str::to_string)
        };
        let mut info = ContainerInfo {
            full_id: st.id.clone(),
            runtime: Some(runtime),
            name: st.name,
            created_ts: st.created_at.max(0) as u64,
            start_ts: st.started_at.max(0) as u64,
            mounts: st.mounts,
            running: st.state == CONTAINER_RUNNING,
            pid: info_json["pid"].as_u64().unwrap_or(0) as u32,
            privileged: privileged_of(&info_json),
            ..Default::default()
        };
        // Image name: the spec's, unless it is only an id.
        let mut image = st.image;
        let mut tag_from_spec = false;
        if let Some(pos) = st.image_ref.find("sha256:") {
            if pos == 0 {
                info.image_digest = st.image_ref.clone();
            } else if st.image_ref.as_bytes()[pos - 1] == b'@' {
                info.image_digest = st.image_ref[pos..].to_string();
                tag_from_spec = true;
            }
        }
        let spec_image = image.clone();
        if tag_from_spec {
            image = st.image_ref[..st.image_ref.find('@').unwrap_or(0)].to_string();
        }
        if image.is_empty() || image.starts_with("sha256") {
            if let Some(name) = annotation("io.kubernetes.cri.image-name")
                .or_else(|| annotation("io.kubernetes.cri-o.Image"))
                .or_else(|| annotation("io.kubernetes.cri-o.ImageName"))
            {
                image = name;
                tag_from_spec = false;
            }
        }
        if tag_from_spec {
            let (_, tag) = split_image(&spec_image);
            if !tag.is_empty() && !spec_image.starts_with("sha256") {
                image = format!("{image}:{tag}");
            }
        }
        let (repo, tag) = split_image(&image);
        info.image_repository = repo.to_string();
        info.image_tag = tag.to_string();
        info.image = image;
        let config_image = info_json["config"]["image"]["image"].as_str().unwrap_or("");
        info.image_id = if let Some(hex) = config_image.strip_prefix("sha256:") {
            hex.to_string()
        } else if !st.image_id.is_empty() {
            st.image_id.trim_start_matches("sha256:").to_string()
        } else {
            st.image_ref
                .strip_prefix("sha256:")
                .unwrap_or("")
                .to_string()
        };
        if let Some(args) = info_json["config"]["command"].as_array() {
            let mut cmd: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
            if let Some(more) = info_json["config"]["args"].as_array() {
                cmd.extend(more.iter().filter_map(Value::as_str));
            }
            info.cmdline = cmd.join(" ");
        }
        info.labels = st
            .labels
            .into_iter()
            .filter(|(_, v)| v.len() <= self.label_max_len)
            .collect();
        let sandbox_id = if row.pod_sandbox_id.is_empty() {
            st.id
        } else {
            row.pod_sandbox_id.clone()
        };
        info.labels
            .insert("io.kubernetes.sandbox.id".into(), sandbox_id.clone());
        let mut pod = PodInfo {
            sandbox_id,
            name: info
                .labels
                .get("io.kubernetes.pod.name")
                .cloned()
                .unwrap_or_default(),
            namespace: info
                .labels
                .get("io.kubernetes.pod.namespace")
                .cloned()
                .unwrap_or_default(),
            uid: info
                .labels
                .get("io.kubernetes.pod.uid")
                .cloned()
                .unwrap_or_default(),
            ..Default::default()
        };
        if let Some(sb) = sandbox {
            pod.name = sb.name.clone();
            pod.namespace = sb.namespace.clone();
            pod.uid = sb.uid.clone();
            info.labels
                .insert("io.kubernetes.pod.uid".into(), sb.uid.clone());
            info.labels
                .insert("io.kubernetes.pod.name".into(), sb.name.clone());
            info.labels
                .insert("io.kubernetes.pod.namespace".into(), sb.namespace.clone());
            pod.labels = sb
                .labels
                .into_iter()
                .filter(|(_, v)| v.len() <= self.label_max_len)
                .collect();
            pod.ip = sb.ip.clone();
            pod.cni_json = sb.cni_json;
            info.ip = sb.ip;
            info.host_network = sb.host_network;
            info.host_pid = sb.host_pid;
            info.host_ipc = sb.host_ipc;
        }
        info.pod = Some(pod);
        info
    }
}

fn privileged_of(info: &Value) -> bool {
    info["runtimeSpec"]["linux"]["security_context"]["privileged"]
        .as_bool()
        .or_else(|| info["config"]["linux"]["security_context"]["privileged"].as_bool())
        .or_else(|| info["privileged"].as_bool())
        .unwrap_or(false)
}

#[derive(Default)]
struct Status {
    id: String,
    name: String,
    state: u64,
    created_at: i64,
    started_at: i64,
    image: String,
    image_ref: String,
    image_id: String,
    labels: BTreeMap<String, String>,
    mounts: Vec<Mount>,
    info: BTreeMap<String, String>,
}

fn name_of(meta: Wire<'_>) -> String {
    fields(meta.as_bytes())
        .find(|(n, _)| *n == 1)
        .map(|(_, w)| w.as_string())
        .unwrap_or_default()
}

fn decode_container_status(resp: &[u8]) -> Result<Status, LookupError> {
    let mut st = Status::default();
    for (num, w) in fields(resp).collect_checked()? {
        match num {
            1 => {
                for (n, v) in fields(w.as_bytes()).collect_checked()? {
                    match n {
                        1 => st.id = v.as_string(),
                        2 => st.name = name_of(v),
                        3 => st.state = v.as_u64(),
                        4 => st.created_at = v.as_u64() as i64,
                        5 => st.started_at = v.as_u64() as i64,
                        8 => st.image = name_of(v),
                        9 => st.image_ref = v.as_string(),
                        12 => map_entry(v.as_bytes(), &mut st.labels),
                        14 => st.mounts.push(decode_mount(v.as_bytes())),
                        17 => st.image_id = v.as_string(),
                        _ => {}
                    }
                }
            }
            2 => map_entry(w.as_bytes(), &mut st.info),
            _ => {}
        }
    }
    if st.id.is_empty() {
        return Err(LookupError::Protocol(
            "ContainerStatus without an id".into(),
        ));
    }
    Ok(st)
}

fn decode_mount(bytes: &[u8]) -> Mount {
    let mut m = Mount {
        rdwr: true,
        propagation: "private".into(),
        ..Default::default()
    };
    for (n, v) in fields(bytes) {
        match n {
            1 => m.dest = v.as_string(),
            2 => m.source = v.as_string(),
            3 => m.rdwr = v.as_u64() == 0,
            5 => {
                m.propagation = match v.as_u64() {
                    0 => "private",
                    1 => "rslave",
                    2 => "rshared",
                    _ => "unknown",
                }
                .into()
            }
            _ => {}
        }
    }
    m
}

#[derive(Default, Debug)]
struct Sandbox {
    id: String,
    name: String,
    uid: String,
    namespace: String,
    ready: bool,
    created_at: i64,
    ip: String,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    labels: BTreeMap<String, String>,
    cni_json: String,
}

/// `NamespaceMode` NODE.
const NODE: u64 = 2;

fn decode_sandbox(resp: &[u8]) -> Result<Sandbox, LookupError> {
    // proto3 omits the default state, SANDBOX_READY (0).
    let mut sb = Sandbox {
        ready: true,
        ..Default::default()
    };
    let mut info = BTreeMap::new();
    for (num, w) in fields(resp).collect_checked()? {
        match num {
            1 => {
                for (n, v) in fields(w.as_bytes()).collect_checked()? {
                    match n {
                        1 => sb.id = v.as_string(),
                        2 => {
                            for (m, x) in fields(v.as_bytes()) {
                                match m {
                                    1 => sb.name = x.as_string(),
                                    2 => sb.uid = x.as_string(),
                                    3 => sb.namespace = x.as_string(),
                                    _ => {}
                                }
                            }
                        }
                        3 => sb.ready = v.as_u64() == 0,
                        4 => sb.created_at = v.as_u64() as i64,
                        5 => {
                            if let Some((_, ip)) = fields(v.as_bytes()).find(|(m, _)| *m == 1) {
                                sb.ip = ip.as_string();
                            }
                        }
                        6 => decode_namespaces(v.as_bytes(), &mut sb),
                        7 => map_entry(v.as_bytes(), &mut sb.labels),
                        _ => {}
                    }
                }
            }
            2 => map_entry(w.as_bytes(), &mut info),
            _ => {}
        }
    }
    if let Some(v) = info
        .get("info")
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
    {
        let cni = if !v["cniResult"].is_null() {
            v["cniResult"].to_string()
        } else {
            v["runtimeSpec"]["annotations"]["io.kubernetes.cri-o.CNIResult"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        let mut end = cni.len().min(MAX_CNI_JSON);
        while !cni.is_char_boundary(end) {
            end -= 1;
        }
        sb.cni_json = cni[..end].to_string();
    }
    Ok(sb)
}

/// LinuxPodSandboxStatus{namespaces=1{options=2{network=1,pid=2,ipc=3}}}.
fn decode_namespaces(linux: &[u8], sb: &mut Sandbox) {
    for (n, ns) in fields(linux) {
        if n != 1 {
            continue;
        }
        for (m, opts) in fields(ns.as_bytes()) {
            if m != 2 {
                continue;
            }
            for (k, mode) in fields(opts.as_bytes()) {
                let node = mode.as_u64() == NODE;
                match k {
                    1 => sb.host_network = node,
                    2 => sb.host_pid = node,
                    3 => sb.host_ipc = node,
                    _ => {}
                }
            }
        }
    }
}

/// Info for a pod sandbox (pause container) id.
fn sandbox_info(id: &str, runtime: Runtime, sb: &Sandbox) -> ContainerInfo {
    let mut labels = sb.labels.clone();
    labels.insert("io.kubernetes.sandbox.id".into(), sb.id.clone());
    labels.insert("io.kubernetes.pod.uid".into(), sb.uid.clone());
    labels.insert("io.kubernetes.pod.name".into(), sb.name.clone());
    labels.insert("io.kubernetes.pod.namespace".into(), sb.namespace.clone());
    ContainerInfo {
        full_id: if sb.id.is_empty() {
            id.to_string()
        } else {
            sb.id.clone()
        },
        runtime: Some(runtime),
        name: sb.name.clone(),
        created_ts: sb.created_at.max(0) as u64,
        ip: sb.ip.clone(),
        host_network: sb.host_network,
        host_pid: sb.host_pid,
        host_ipc: sb.host_ipc,
        is_pod_sandbox: true,
        running: sb.ready,
        labels,
        pod: Some(PodInfo {
            name: sb.name.clone(),
            namespace: sb.namespace.clone(),
            uid: sb.uid.clone(),
            sandbox_id: sb.id.clone(),
            labels: sb.labels.clone(),
            ip: sb.ip.clone(),
            cni_json: sb.cni_json.clone(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_status_decodes() {
        let msg = Enc::new()
            .message(1, |s| {
                s.string(1, "abc")
                    .message(2, |m| {
                        m.string(1, "nginx");
                    })
                    .uint(3, CONTAINER_RUNNING)
                    .uint(5, 1_000)
                    .message(8, |i| {
                        i.string(1, "localhost/bb:1");
                    })
                    .string(9, "sha256:1234")
                    .map(12, &[("io.kubernetes.pod.name", "web")])
                    .message(14, |m| {
                        m.string(1, "/data").string(2, "/host").bool(3, true).uint(5, 2);
                    });
            })
            .map(2, &[("info", r#"{"pid":77,"config":{"image":{"image":"sha256:beef"},"command":["sleep"],"args":["9"],"linux":{"security_context":{"privileged":true}}}}"#)])
            .finish();
        let st = decode_container_status(&msg).unwrap();
        assert_eq!(
            (st.id.as_str(), st.name.as_str(), st.state),
            ("abc", "nginx", CONTAINER_RUNNING)
        );
        let client = CriClient::new("/none".into(), Duration::from_millis(5), 100);
        let row = CriContainer {
            id: "abc".into(),
            pod_sandbox_id: "sb1".into(),
            state: CONTAINER_RUNNING,
        };
        let info = client.to_info(Runtime::Containerd, &row, st, None);
        assert_eq!(info.image, "localhost/bb:1");
        assert_eq!(
            (info.image_repository.as_str(), info.image_tag.as_str()),
            ("localhost/bb", "1")
        );
        assert_eq!(info.image_id, "beef");
        assert_eq!(info.image_digest, "sha256:1234");
        assert!(info.privileged);
        assert_eq!(info.pid, 77);
        assert_eq!(info.cmdline, "sleep 9");
        assert_eq!(info.mounts[0].falco_string(), "/host:/data::false:rshared");
        let pod = info.pod.unwrap();
        assert_eq!((pod.name.as_str(), pod.sandbox_id.as_str()), ("web", "sb1"));
    }

    #[test]
    fn sandbox_decodes() {
        let msg = Enc::new()
            .message(1, |s| {
                s.string(1, "sb1")
                    .message(2, |m| {
                        m.string(1, "nginx-abc")
                            .string(2, "uid-1")
                            .string(3, "default");
                    })
                    .message(5, |n| {
                        n.string(1, "10.0.0.7");
                    })
                    .message(6, |l| {
                        l.message(1, |ns| {
                            ns.message(2, |o| {
                                o.uint(1, NODE).uint(2, 0);
                            });
                        });
                    })
                    .map(7, &[("app", "web")]);
            })
            .finish();
        let sb = decode_sandbox(&msg).unwrap();
        assert_eq!(
            (sb.name.as_str(), sb.uid.as_str(), sb.namespace.as_str()),
            ("nginx-abc", "uid-1", "default")
        );
        assert!(sb.ready && sb.host_network && !sb.host_pid);
        assert_eq!(sb.ip, "10.0.0.7");
        let info = sandbox_info("sb1", Runtime::Containerd, &sb);
        assert!(info.is_pod_sandbox);
        assert_eq!(
            info.pod.unwrap().labels.get("app").map(String::as_str),
            Some("web")
        );
    }
}
