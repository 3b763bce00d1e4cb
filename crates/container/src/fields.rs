//! Falco's `container.*` and `k8s.*` fields, computed the way Falco's
//! container plugin computes them, for the engine's field extraction.
//!
//! `None` means "no value" (rendered `<NA>`): a host process has
//! `container.id` = `host` and `container.name` = `host` but nothing else;
//! a container whose lookup has not answered has only `container.id`,
//! `container.full_id` (from the cgroup) and `container.type` (the layout's
//! guess).

use std::borrow::Cow;

use crate::cgroup::ContainerRef;
use crate::info::{labels_string, ContainerInfo};

/// A field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    /// An absolute time, ns since the epoch.
    AbsTime(u64),
}

/// Every field this module answers (without the `[arg]` part).
pub const FIELDS: &[&str] = &[
    "container.id",
    "container.full_id",
    "container.name",
    "container.image",
    "container.image.id",
    "container.image.repository",
    "container.image.tag",
    "container.image.digest",
    "container.type",
    "container.privileged",
    "container.mounts",
    "container.mount",
    "container.mount.source",
    "container.mount.dest",
    "container.mount.mode",
    "container.mount.rdwr",
    "container.mount.propagation",
    "container.start_ts",
    "container.ip",
    "container.cmdline",
    "container.healthcheck",
    "container.host_pid",
    "container.host_network",
    "container.host_ipc",
    "container.label",
    "container.labels",
    "container.cni.json",
    "k8s.pod.name",
    "k8s.ns.name",
    "k8s.pod.id",
    "k8s.pod.uid",
    "k8s.pod.sandbox_id",
    "k8s.pod.full_sandbox_id",
    "k8s.pod.label",
    "k8s.pod.labels",
    "k8s.pod.ip",
    "k8s.pod.cni.json",
];

fn s(v: &str) -> Option<FieldValue<'_>> {
    Some(FieldValue::Str(Cow::Borrowed(v)))
}

fn owned<'a>(v: String) -> Option<FieldValue<'a>> {
    Some(FieldValue::Str(Cow::Owned(v)))
}

/// The value of `field` (`arg` is what was inside `[...]`) for a thread in
/// `container` (`None`: a host thread) whose metadata is `info` (`None`: not
/// known yet).
pub fn extract<'a>(
    field: &str,
    arg: Option<&'a str>,
    container: Option<&'a ContainerRef>,
    info: Option<&'a ContainerInfo>,
) -> Option<FieldValue<'a>> {
    let Some(cref) = container else {
        return match field {
            "container.id" | "container.name" | "container.full_id" => s("host"),
            "container.type" => s("host"),
            _ => None,
        };
    };
    match field {
        "container.id" => return s(cref.short_id()),
        "container.full_id" if info.is_none() => return s(cref.id()),
        "container.type" if info.is_none() => return s(cref.runtime().as_str()),
        _ => {}
    }
    let info = info?;
    let pod = info.pod.as_ref();
    let mount = || match arg {
        Some(a) => match a.parse::<usize>() {
            Ok(i) => info.mount_by_index(i),
            // Falco: container.mount.source[X] selects by destination,
            // every other mount field by source.
            Err(_) if field == "container.mount.source" => info.mount_by_dest(a),
            Err(_) => info.mount_by_source(a),
        },
        None => None,
    };
    match field {
        "container.full_id" => s(&info.full_id),
        "container.type" => s(info.type_str()),
        "container.name" => s(&info.name),
        "container.image" => s(&info.image),
        "container.image.id" => s(&info.image_id),
        "container.image.repository" => s(&info.image_repository),
        "container.image.tag" => s(&info.image_tag),
        "container.image.digest" => s(&info.image_digest),
        "container.privileged" => Some(FieldValue::Bool(info.privileged)),
        "container.mounts" => owned(info.mounts_string()),
        // Falco renders "none" for a missing mount here, not <NA>.
        "container.mount" => match mount() {
            Some(m) => owned(m.falco_string()),
            None => s("none"),
        },
        "container.mount.source" => {
            mount().map(|m| FieldValue::Str(Cow::Borrowed(m.source.as_str())))
        }
        "container.mount.dest" => mount().map(|m| FieldValue::Str(Cow::Borrowed(m.dest.as_str()))),
        "container.mount.mode" => mount().map(|m| FieldValue::Str(Cow::Borrowed(m.mode.as_str()))),
        "container.mount.rdwr" => {
            mount().map(|m| FieldValue::Str(Cow::Borrowed(if m.rdwr { "true" } else { "false" })))
        }
        "container.mount.propagation" => {
            mount().map(|m| FieldValue::Str(Cow::Borrowed(m.propagation.as_str())))
        }
        "container.start_ts" => (info.start_ts != 0).then_some(FieldValue::AbsTime(info.start_ts)),
        "container.ip" => s(&info.ip),
        "container.cmdline" => s(&info.cmdline),
        "container.healthcheck" => (!info.healthcheck.is_empty())
            .then_some(FieldValue::Str(Cow::Borrowed(info.healthcheck.as_str()))),
        "container.host_pid" => Some(FieldValue::Bool(info.host_pid)),
        "container.host_network" => Some(FieldValue::Bool(info.host_network)),
        "container.host_ipc" => Some(FieldValue::Bool(info.host_ipc)),
        "container.label" => info
            .labels
            .get(arg?)
            .map(|v| FieldValue::Str(Cow::Borrowed(v.as_str()))),
        "container.labels" => owned(info.labels_string()),
        "container.cni.json" | "k8s.pod.cni.json" => {
            pod.map(|p| FieldValue::Str(Cow::Borrowed(p.cni_json.as_str())))
        }
        "k8s.pod.name" => pod.map(|p| FieldValue::Str(Cow::Borrowed(p.name.as_str()))),
        "k8s.ns.name" => pod.map(|p| FieldValue::Str(Cow::Borrowed(p.namespace.as_str()))),
        "k8s.pod.id" | "k8s.pod.uid" => pod.map(|p| FieldValue::Str(Cow::Borrowed(p.uid.as_str()))),
        "k8s.pod.sandbox_id" => pod.map(|p| FieldValue::Str(Cow::Borrowed(p.short_sandbox_id()))),
        "k8s.pod.full_sandbox_id" => {
            pod.map(|p| FieldValue::Str(Cow::Borrowed(p.sandbox_id.as_str())))
        }
        "k8s.pod.label" => pod?
            .labels
            .get(arg?)
            .map(|v| FieldValue::Str(Cow::Borrowed(v.as_str()))),
        "k8s.pod.labels" => pod.map(|p| FieldValue::Str(Cow::Owned(labels_string(&p.labels)))),
        "k8s.pod.ip" => pod.map(|p| FieldValue::Str(Cow::Borrowed(p.ip.as_str()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Runtime;
    use crate::info::{Mount, PodInfo};

    fn text(v: Option<FieldValue<'_>>) -> Option<String> {
        match v? {
            FieldValue::Str(s) => Some(s.into_owned()),
            FieldValue::Bool(b) => Some(b.to_string()),
            FieldValue::AbsTime(t) => Some(t.to_string()),
        }
    }

    #[test]
    fn host_pending_and_known() {
        assert_eq!(
            text(extract("container.id", None, None, None)).as_deref(),
            Some("host")
        );
        assert_eq!(
            text(extract("container.name", None, None, None)).as_deref(),
            Some("host")
        );
        assert_eq!(text(extract("k8s.pod.name", None, None, None)), None);

        let id = "c08bf7ec4e20647e3e6d6204a657973d8f35fd5946db6780aca13fada59125b1";
        let r = ContainerRef::new(id, Runtime::Podman).unwrap();
        assert_eq!(
            text(extract("container.id", None, Some(&r), None)).as_deref(),
            Some("c08bf7ec4e20")
        );
        assert_eq!(
            text(extract("container.full_id", None, Some(&r), None)).as_deref(),
            Some(id)
        );
        assert_eq!(
            text(extract("container.name", None, Some(&r), None)),
            None,
            "unknown yet: <NA>"
        );

        let mut info = ContainerInfo {
            full_id: id.into(),
            runtime: Some(Runtime::Podman),
            name: "web".into(),
            start_ts: 7,
            mounts: vec![Mount {
                source: "/var/run/docker.sock".into(),
                dest: "/sock".into(),
                mode: "".into(),
                rdwr: true,
                propagation: "rprivate".into(),
            }],
            pod: Some(PodInfo {
                name: "nginx-deployment-xyz".into(),
                namespace: "default".into(),
                sandbox_id: "63060edc2d3aa803ab559f2393776b151f99fc5b05035b21db66b3b62246ad6a"
                    .into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        info.pod
            .as_mut()
            .unwrap()
            .labels
            .insert("app".into(), "nginx".into());
        let k = |f: &str, a: Option<&str>| text(extract(f, a, Some(&r), Some(&info)));
        assert_eq!(k("container.name", None).as_deref(), Some("web"));
        assert_eq!(k("container.type", None).as_deref(), Some("podman"));
        assert_eq!(
            k("k8s.pod.name", None).as_deref(),
            Some("nginx-deployment-xyz")
        );
        assert_eq!(k("k8s.ns.name", None).as_deref(), Some("default"));
        assert_eq!(
            k("k8s.pod.sandbox_id", None).as_deref(),
            Some("63060edc2d3a")
        );
        assert_eq!(k("k8s.pod.label", Some("app")).as_deref(), Some("nginx"));
        assert_eq!(k("k8s.pod.labels", None).as_deref(), Some("app:nginx"));
        assert_eq!(
            k("container.mount", Some("0")).as_deref(),
            Some("/var/run/docker.sock:/sock::true:rprivate")
        );
        assert_eq!(k("container.mount", Some("3")).as_deref(), Some("none"));
        assert_eq!(
            k("container.mount.dest", Some("/var/run/docker.sock")).as_deref(),
            Some("/sock")
        );
        assert_eq!(
            k("container.mount.source", Some("/sock")).as_deref(),
            Some("/var/run/docker.sock")
        );
        assert_eq!(k("container.start_ts", None).as_deref(), Some("7"));
        assert_eq!(k("container.privileged", None).as_deref(), Some("false"));
        assert_eq!(k("no.such.field", None), None);
        for f in FIELDS {
            // Every listed field is answered for a known container (some may be empty).
            let needs_arg = matches!(*f, "container.label" | "k8s.pod.label")
                || f.starts_with("container.mount.");
            let arg = if needs_arg { Some("0") } else { None };
            if !needs_arg && *f != "container.healthcheck" {
                assert!(extract(f, arg, Some(&r), Some(&info)).is_some(), "{f}");
            }
        }
    }
}
