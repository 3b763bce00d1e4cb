//! Figures for the per-event costs: container ids from `cgroups` params
//! (host and container threads) and a cache `get`. Prints ns/op.
//! Run: `cargo bench -p peregrine-container`.

use std::hint::black_box;
use std::time::Instant;

use peregrine_container::{Config, ContainerManager, ContainerRef};

fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    for _ in 0..iters / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    let ns = t.elapsed().as_nanos() as f64 / iters as f64;
    println!("{name:<48} {ns:>8.1} ns/op");
}

fn main() {
    // A v1+v2 host thread: 13 hierarchies, as the probe reports them.
    let host: Vec<u8> = [
        "cpuset=/",
        "cpu=/user.slice",
        "cpuacct=/user.slice",
        "blkio=/user.slice",
        "memory=/user.slice/user-1000.slice/session-2.scope",
        "devices=/user.slice",
        "freezer=/",
        "net_cls=/",
        "perf_event=/",
        "net_prio=/",
        "hugetlb=/",
        "pids=/user.slice/user-1000.slice/session-2.scope",
        "name=systemd=/user.slice/user-1000.slice/session-2.scope",
    ]
    .iter()
    .flat_map(|s| s.bytes().chain([0]))
    .collect();
    let id = "09d185410c4e25236cc24717f881589bb0978b24eafd101624e627a4dd8d3439";
    let path = format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod03f3f104_3215_44f2_9686_d4dd1f05a7ed.slice/cri-containerd-{id}.scope");
    let ctr: Vec<u8> = [
        "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "pids",
    ]
    .iter()
    .flat_map(|s| format!("{s}={path}\0").into_bytes())
    .collect();
    time(
        "from_cgroups_param (host thread, 13 entries)",
        1_000_000,
        || {
            black_box(ContainerRef::from_cgroups_param(black_box(&host)));
        },
    );
    time("from_cgroups_param (kubepods container)", 1_000_000, || {
        black_box(ContainerRef::from_cgroups_param(black_box(&ctr)));
    });
    let m = ContainerManager::new(Config::without_engines());
    let r = ContainerRef::from_cgroups_param(&ctr).unwrap();
    m.observe(&r, 1);
    time("observe (already seen) + get", 1_000_000, || {
        m.observe(black_box(&r), 1);
        black_box(m.get(r.id()));
    });
}
