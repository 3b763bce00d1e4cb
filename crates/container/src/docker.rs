//! The Docker Engine API (also served by Podman's `podman system service`).
//! Unversioned paths, so any daemon version answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::cgroup::Runtime;
use crate::error::LookupError;
use crate::http1;
use crate::info::{parse_rfc3339_ns, split_image, ContainerInfo, Mount, PodInfo};

/// One Docker-API socket.
pub struct DockerClient {
    pub socket: PathBuf,
    /// What the config calls this socket (docker or podman); a `Libpod`
    /// server header makes it podman whatever the config says.
    pub kind: Runtime,
    pub timeout: Duration,
    pub label_max_len: usize,
}

/// What a container event on the stream means for the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum DockerEvent {
    Started(String),
    Died(String),
    Removed(String),
}

impl DockerClient {
    fn get_json(&self, path: &str) -> Result<Option<(Value, String)>, LookupError> {
        let resp = http1::get(&self.socket, path, self.timeout)?;
        match resp.status {
            200 => {
                let v = serde_json::from_slice(&resp.body)
                    .map_err(|e| LookupError::Protocol(format!("{path}: {e}")))?;
                Ok(Some((v, resp.server)))
            }
            404 => Ok(None),
            code => Err(LookupError::Http(code)),
        }
    }

    fn runtime_for(&self, server: &str) -> Runtime {
        if server.starts_with("Libpod") {
            Runtime::Podman
        } else {
            self.kind
        }
    }

    /// Inspects a container; `Ok(None)` when this daemon does not know it.
    pub fn inspect(&self, id: &str) -> Result<Option<ContainerInfo>, LookupError> {
        if !is_safe_id(id) {
            return Ok(None);
        }
        let Some((v, server)) = self.get_json(&format!("/containers/{id}/json"))? else {
            return Ok(None);
        };
        let mut info = self.to_info(&v, self.runtime_for(&server));
        self.add_image_details(&v, &mut info);
        self.add_linked_details(&v, &mut info);
        Ok(Some(info))
    }

    /// Ids of running containers.
    pub fn list_running(&self) -> Result<Vec<String>, LookupError> {
        let Some((v, _)) = self.get_json("/containers/json")? else {
            return Ok(Vec::new());
        };
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["Id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Opens the container events stream.
    pub fn events(&self, poll: Duration) -> Result<http1::Stream, LookupError> {
        // filters={"type":["container"]}, URL-encoded.
        http1::Stream::open(
            &self.socket,
            "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D",
            self.timeout,
            poll,
        )
    }

    fn to_info(&self, v: &Value, runtime: Runtime) -> ContainerInfo {
        let config = &v["Config"];
        let host = &v["HostConfig"];
        let net = &v["NetworkSettings"];
        let mut info = ContainerInfo {
            full_id: str_of(&v["Id"]).to_string(),
            runtime: Some(runtime),
            name: str_of(&v["Name"]).trim_start_matches('/').to_string(),
            image: str_of(&config["Image"]).to_string(),
            image_id: str_of(&v["Image"])
                .trim_start_matches("sha256:")
                .to_string(),
            privileged: host["Privileged"].as_bool().unwrap_or(false),
            created_ts: parse_rfc3339_ns(str_of(&v["Created"])),
            start_ts: parse_rfc3339_ns(str_of(&v["State"]["StartedAt"])),
            user: str_of(&config["User"]).to_string(),
            host_pid: str_of(&host["PidMode"]) == "host",
            host_network: str_of(&host["NetworkMode"]) == "host",
            host_ipc: str_of(&host["IpcMode"]) == "host",
            pid: v["State"]["Pid"].as_u64().unwrap_or(0) as u32,
            running: v["State"]["Running"].as_bool().unwrap_or(false),
            ..Default::default()
        };
        if info.image.is_empty() || info.image.starts_with("sha256:") {
            // Podman keeps the reference the user gave in ImageName.
            if let Some(name) = v["ImageName"].as_str() {
                info.image = name.to_string();
            }
        }
        let (repo, tag) = split_image(&info.image);
        info.image_repository = repo.to_string();
        info.image_tag = tag.to_string();
        info.ip = str_of(&net["IPAddress"]).to_string();
        if info.ip.is_empty() {
            if let Some(nets) = net["Networks"].as_object() {
                if let Some(ip) = nets
                    .values()
                    .filter_map(|n| n["IPAddress"].as_str())
                    .find(|ip| !ip.is_empty())
                {
                    info.ip = ip.to_string();
                }
            }
        }
        let mut cmd: Vec<&str> = vec![str_of(&v["Path"])];
        if let Some(args) = v["Args"].as_array() {
            cmd.extend(args.iter().map(str_of));
        }
        info.cmdline = cmd
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(test) = config["Healthcheck"]["Test"].as_array() {
            info.healthcheck = test.iter().map(str_of).collect::<Vec<_>>().join(" ");
        }
        info.labels = labels_of(&config["Labels"], self.label_max_len);
        if let Some(mounts) = v["Mounts"].as_array() {
            info.mounts = mounts
                .iter()
                .map(|m| Mount {
                    source: str_of(&m["Source"]).to_string(),
                    dest: str_of(&m["Destination"]).to_string(),
                    mode: str_of(&m["Mode"]).to_string(),
                    rdwr: m["RW"].as_bool().unwrap_or(false),
                    propagation: str_of(&m["Propagation"]).to_string(),
                })
                .collect();
        }
        info.is_pod_sandbox = info.name.contains("k8s_POD");
        info.pod = pod_from_labels(&info.labels, &info.ip);
        info
    }

    /// Digest and tag from the image's RepoDigests/RepoTags (best effort).
    fn add_image_details(&self, v: &Value, info: &mut ContainerInfo) {
        let image_ref = str_of(&v["Image"]);
        if image_ref.is_empty() || !is_safe_id(image_ref.trim_start_matches("sha256:")) {
            return;
        }
        let Ok(Some((img, _))) = self.get_json(&format!("/images/{image_ref}/json")) else {
            return;
        };
        let digests: Vec<&str> = img["RepoDigests"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut any = Vec::new();
        for rd in &digests {
            if let Some((repo, digest)) = rd.split_once('@') {
                any.push(digest);
                if repo == info.image_repository {
                    info.image_digest = digest.to_string();
                    break;
                }
            }
        }
        if info.image_digest.is_empty() && any.len() == 1 {
            info.image_digest = any[0].to_string();
        }
        if let Some(id) = img["Id"].as_str() {
            info.image_id = id.trim_start_matches("sha256:").to_string();
        }
        if info.image_tag.is_empty() {
            let tags = img["RepoTags"].as_array();
            if let Some(tag) = tags
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|rt| {
                    let (repo, tag) = split_image(rt);
                    (repo == info.image_repository && !tag.is_empty()).then_some(tag)
                })
            {
                info.image_tag = tag.to_string();
            }
        }
    }

    /// Network from a `container:<id>` network mode, and pod labels from the
    /// sandbox container (dockershim puts pod labels on the `k8s_POD` one).
    fn add_linked_details(&self, v: &Value, info: &mut ContainerInfo) {
        if info.ip.is_empty() {
            if let Some(other) = str_of(&v["HostConfig"]["NetworkMode"]).strip_prefix("container:")
            {
                if is_safe_id(other) {
                    if let Ok(Some((o, _))) = self.get_json(&format!("/containers/{other}/json")) {
                        info.ip = str_of(&o["NetworkSettings"]["IPAddress"]).to_string();
                    }
                }
            }
        }
        let Some(pod) = info.pod.as_mut() else { return };
        pod.ip = info.ip.clone();
        if pod.sandbox_id.is_empty()
            || pod.sandbox_id == info.full_id
            || !is_safe_id(&pod.sandbox_id)
        {
            return;
        }
        if let Ok(Some((sb, _))) = self.get_json(&format!("/containers/{}/json", pod.sandbox_id)) {
            pod.labels = labels_of(&sb["Config"]["Labels"], self.label_max_len)
                .into_iter()
                .filter(|(k, _)| !k.starts_with("io.kubernetes.") && !k.starts_with("annotation."))
                .collect();
            if pod.ip.is_empty() {
                pod.ip = str_of(&sb["NetworkSettings"]["IPAddress"]).to_string();
            }
        }
    }
}

/// Parses one line of the events stream.
pub fn parse_event(line: &[u8]) -> Option<DockerEvent> {
    let v: Value = serde_json::from_slice(line).ok()?;
    if v["Type"].as_str().is_some_and(|t| t != "container") {
        return None;
    }
    let id = v["Actor"]["ID"]
        .as_str()
        .or_else(|| v["id"].as_str())?
        .to_string();
    let action = v["Action"].as_str().or_else(|| v["status"].as_str())?;
    match action {
        "start" => Some(DockerEvent::Started(id)),
        "die" => Some(DockerEvent::Died(id)),
        "destroy" | "remove" => Some(DockerEvent::Removed(id)),
        _ => None,
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Ids and names go into URL paths: only plain name characters.
fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b':'))
}

fn labels_of(v: &Value, max_len: usize) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|s| s.len() <= max_len)
                        .map(|s| (k.clone(), s.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Pod identity from the `io.kubernetes.*` labels the kubelet (or a test)
/// puts on a container.
pub(crate) fn pod_from_labels(labels: &BTreeMap<String, String>, ip: &str) -> Option<PodInfo> {
    let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
    let name = get("io.kubernetes.pod.name");
    let namespace = get("io.kubernetes.pod.namespace");
    let uid = get("io.kubernetes.pod.uid");
    if name.is_empty() && namespace.is_empty() && uid.is_empty() {
        return None;
    }
    Some(PodInfo {
        name,
        namespace,
        uid,
        sandbox_id: get("io.kubernetes.sandbox.id"),
        labels: BTreeMap::new(),
        ip: ip.to_string(),
        cni_json: String::new(),
    })
}

/// Does `socket` exist (possibly under a host root prefix)?
pub(crate) fn socket_present(socket: &Path) -> bool {
    std::fs::symlink_metadata(socket).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse() {
        // Line shapes as podman 4.3's compat API sends them.
        let line = br#"{"status":"start","id":"f673","from":"localhost/bbtest:1","Type":"container","Action":"start","Actor":{"ID":"f673cf95","Attributes":{"name":"evtest"}}}"#;
        assert_eq!(
            parse_event(line),
            Some(DockerEvent::Started("f673cf95".into()))
        );
        let line = br#"{"Type":"container","Action":"die","Actor":{"ID":"ab"}}"#;
        assert_eq!(parse_event(line), Some(DockerEvent::Died("ab".into())));
        let line = br#"{"Type":"container","Action":"destroy","Actor":{"ID":"ab"}}"#;
        assert_eq!(parse_event(line), Some(DockerEvent::Removed("ab".into())));
        assert_eq!(parse_event(br#"{"Type":"image","Action":"pull"}"#), None);
        assert_eq!(parse_event(b"not json"), None);
    }

    #[test]
    fn inspect_json_to_info() {
        let v: Value = serde_json::from_str(
            r#"{"Id":"c08bf7ec4e20647e3e6d6204a657973d8f35fd5946db6780aca13fada59125b1",
            "Created":"2026-11-29T01:26:21.449967377Z","Path":"sleep","Args":["100"],
            "State":{"Running":true,"Pid":42,"StartedAt":"2026-11-29T01:26:21.834085603Z"},
            "Image":"sha256:a137","Name":"/cgtest",
            "HostConfig":{"Privileged":true,"NetworkMode":"bridge","PidMode":"host","IpcMode":"shareable"},
            "Mounts":[{"Source":"/tmp/x","Destination":"/data","Mode":"","RW":true,"Propagation":"rprivate"}],
            "Config":{"User":"","Image":"localhost/bbtest:1","Labels":{"io.kubernetes.pod.name":"nginx-abc","io.kubernetes.pod.namespace":"default","big":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
            "NetworkSettings":{"IPAddress":"","Networks":{"podman":{"IPAddress":"10.88.0.2"}}}}"#,
        )
        .unwrap();
        let c = DockerClient {
            socket: "/nonexistent".into(),
            kind: Runtime::Docker,
            timeout: Duration::from_millis(10),
            label_max_len: 100,
        };
        let info = c.to_info(&v, Runtime::Podman);
        assert_eq!(info.id(), "c08bf7ec4e20");
        assert_eq!(info.name, "cgtest");
        assert_eq!(
            (info.image_repository.as_str(), info.image_tag.as_str()),
            ("localhost/bbtest", "1")
        );
        assert_eq!(info.image_id, "a137");
        assert!(info.privileged && info.host_pid && !info.host_network);
        assert_eq!(info.ip, "10.88.0.2");
        assert_eq!(info.cmdline, "sleep 100");
        assert_eq!(info.pid, 42);
        assert_eq!(info.mounts[0].falco_string(), "/tmp/x:/data::true:rprivate");
        assert!(
            !info.labels.contains_key("big"),
            "labels over label_max_len are dropped"
        );
        let pod = info.pod.as_ref().unwrap();
        assert_eq!(
            (pod.name.as_str(), pod.namespace.as_str()),
            ("nginx-abc", "default")
        );
        assert!(info.start_ts > info.created_ts);
    }
}
