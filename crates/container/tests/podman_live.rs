//! The Docker-API path against a real `podman system service` with real
//! podman containers: started before the manager, after it, and one that
//! exits immediately; Kubernetes labels, image split, privileged, mounts,
//! lifecycle records and users inside a container.

mod support;

use std::time::Duration;

use peregrine_container::{
    Config, ContainerManager, ContainerRef, EngineConfig, LifecycleKind, LookupState, Runtime,
};
use support::*;

fn manager_for(svc: &PodmanService) -> ContainerManager {
    ContainerManager::new(Config {
        podman: EngineConfig::with_sockets([svc.socket.clone()]),
        docker: EngineConfig::off(),
        cri: EngineConfig::off(),
        ..Config::default()
    })
}

const POD_LABELS: &[&str] = &[
    "--label",
    "io.kubernetes.pod.name=nginx-deployment-xyz",
    "--label",
    "io.kubernetes.pod.namespace=default",
    "--label",
    "io.kubernetes.container.name=nginx",
    "--label",
    "team=web",
];

#[test]
fn podman_containers_before_after_and_exited() {
    if !podman_ready("podman_live") {
        return;
    }
    ensure_image();
    let svc = PodmanService::start();
    let vol = TempDir::new("peregrine-vol");
    let mount = format!("{}:/data:ro", vol.0.display());

    // Started before the manager, privileged, with a bind mount.
    let before_name = unique("peregrine-before");
    let mut args: Vec<&str> = POD_LABELS.to_vec();
    args.extend(["--privileged", "-v", &mount]);
    let before = Container::run_detached(&before_name, &args, &["sleep", "1000"]);

    let m = manager_for(&svc);
    let mut seen = Vec::new();

    // The container's own cgroup, as the probe would see it, names it.
    let cref = ContainerRef::read_proc(before.pid())
        .unwrap()
        .expect("a container cgroup");
    assert_eq!(cref.id(), before.id);
    assert_eq!(cref.runtime(), Runtime::Podman);
    m.observe(&cref, before.pid());
    assert!(
        wait_until(Duration::from_secs(15), || m.get(cref.id()).is_some()),
        "{:?}",
        m.stats()
    );
    let info = m.get(cref.id()).unwrap();
    assert_eq!(m.state(cref.id()), Some(LookupState::Known));
    assert_eq!(info.full_id, before.id);
    assert_eq!(info.id(), &before.id[..12]);
    assert_eq!(info.type_str(), "podman");
    assert_eq!(info.name, before_name);
    assert_eq!(info.image, IMAGE);
    assert_eq!(info.image_repository, "localhost/peregrine-test-bb");
    assert_eq!(info.image_tag, "2");
    assert_eq!(info.image_id.len(), 64, "image id {:?}", info.image_id);
    assert!(
        info.image_digest.starts_with("sha256:"),
        "digest {:?}",
        info.image_digest
    );
    assert!(info.privileged);
    assert!(info.running);
    assert!(info.start_ts > 0 && info.created_ts > 0 && info.start_ts >= info.created_ts);
    assert_eq!(info.cmdline, "sleep 1000");
    assert_eq!(info.labels.get("team").map(String::as_str), Some("web"));
    let data = info.mount_by_dest("/data").expect("the /data mount");
    assert_eq!(data.source, vol.0.display().to_string());
    assert!(!data.rdwr);
    assert_eq!(
        info.mount_by_source(&format!("{}*", vol.0.display()))
            .map(|m| m.dest.as_str()),
        Some("/data")
    );
    let pod = info
        .pod
        .as_ref()
        .expect("pod identity from io.kubernetes labels");
    assert_eq!(pod.name, "nginx-deployment-xyz");
    assert_eq!(pod.namespace, "default");
    // Announced as started (listed when the events stream connected).
    let started = wait_lifecycle(&m, &mut seen, Duration::from_secs(5), |e| {
        e.kind == LifecycleKind::Started && e.info.full_id == before.id
    });
    assert!(
        started.is_some(),
        "no Started record for the pre-existing container"
    );

    // Started after the manager: known from the events stream, before any
    // of its processes is observed.
    let after_name = unique("peregrine-after");
    let after = Container::run_detached(&after_name, POD_LABELS, &["sleep", "1000"]);
    let rec = wait_lifecycle(&m, &mut seen, Duration::from_secs(15), |e| {
        e.kind == LifecycleKind::Started && e.info.full_id == after.id
    })
    .expect("Started record for the new container");
    assert_eq!(rec.info.name, after_name);
    assert!(!rec.info.privileged);
    assert_eq!(
        rec.info.pod.as_ref().map(|p| p.name.as_str()),
        Some("nginx-deployment-xyz")
    );
    assert!(rec.info.to_falco_json().contains(&after_name));
    let aref = ContainerRef::read_proc(after.pid())
        .unwrap()
        .expect("container cgroup");
    assert_eq!(
        m.get(aref.id()).map(|i| i.name.clone()),
        Some(after_name.clone())
    );

    // Stopping it is announced.
    after.stop();
    let stopped = wait_lifecycle(&m, &mut seen, Duration::from_secs(15), |e| {
        e.kind == LifecycleKind::Stopped && e.info.full_id == after.id
    })
    .expect("Stopped record");
    assert!(!stopped.info.running);

    // A container that exits immediately still gets its metadata.
    let quick_name = unique("peregrine-quick");
    let quick = Container::run_to_exit(&quick_name, &["true"]);
    let qref = ContainerRef::new(&quick.id, Runtime::Podman).unwrap();
    m.observe(&qref, 0);
    assert!(
        wait_until(Duration::from_secs(15), || m.get(&quick.id).is_some()),
        "{:?}",
        m.stats()
    );
    let q = m.get(&quick.id).unwrap();
    assert_eq!(q.name, quick_name);
    assert_eq!(q.image, IMAGE);
    assert!(!q.running);
    assert!(wait_lifecycle(&m, &mut seen, Duration::from_secs(5), |e| {
        e.kind == LifecycleKind::Started && e.info.full_id == quick.id
    })
    .is_some());

    let stats = m.stats();
    assert!(stats.lookups_ok >= 3, "{stats:?}");
}

#[test]
fn users_resolve_from_the_container_rootfs() {
    if !podman_ready("users_in_container") {
        return;
    }
    let name = unique("peregrine-users");
    let c = Container::run_detached(&name, &["--user", "4321:4322"], &["sleep", "1000"]);
    let pid = c.pid();
    let cref = ContainerRef::read_proc(pid)
        .unwrap()
        .expect("container cgroup");
    let m = ContainerManager::new(Config::without_engines());
    let web = m
        .user(&cref, pid, 4321)
        .expect("uid 4321 from the container's /etc/passwd");
    assert_eq!(web.name, "web");
    assert_eq!(web.homedir, "/srv/web");
    assert_eq!(web.shell, "/bin/sh");
    assert_eq!(
        m.group(&cref, pid, 4322).map(|g| g.name.clone()),
        Some("webgrp".into())
    );
    // The container's root, not the host's.
    assert_eq!(
        m.user(&cref, pid, 0).map(|u| u.homedir.clone()),
        Some("/root".into())
    );
    assert_eq!(
        m.user(&cref, pid, 0).map(|u| u.name.clone()),
        Some("root".into())
    );
    assert!(m.user(&cref, pid, 777).is_none());
    // Cached: still answers once the process is gone.
    c.stop();
    assert_eq!(
        m.user(&cref, pid, 4321).map(|u| u.name.clone()),
        Some("web".into())
    );
}
