//! Cgroup path samples from real systems. Each sample names where it was
//! seen; ids are kept exactly as published.

use super::*;

fn id_of(path: &str) -> Option<(String, Runtime)> {
    ContainerRef::from_cgroup_path(path.as_bytes()).map(|r| (r.id().to_string(), r.runtime()))
}

fn expect(path: &str, id: &str, rt: Runtime) {
    assert_eq!(
        id_of(path),
        Some((id.to_string(), rt)),
        "cgroup path {path} should be {rt} container {id}"
    );
}

fn expect_host(path: &str) {
    assert_eq!(
        id_of(path),
        None,
        "cgroup path {path} should be a host cgroup"
    );
}

#[test]
fn docker_cgroupfs_v1() {
    // moby/moby#33352 (Ubuntu, docker cgroupfs driver, v1 hierarchies).
    expect(
        "/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498",
        "5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498",
        Runtime::Docker,
    );
}

#[test]
fn docker_systemd_scope() {
    // moby/moby#9365 (CentOS 7, systemd driver).
    expect(
        "/system.slice/docker-0bd31f558c426d46f30778cefbc727282e4f257537b42b361ea5d03a44f4febe.scope",
        "0bd31f558c426d46f30778cefbc727282e4f257537b42b361ea5d03a44f4febe",
        Runtime::Docker,
    );
    // containerd/containerd#285: the same scope nested under init.scope.
    expect(
        "/init.scope/system.slice/docker-b33dda97580e721a69fa81742190341f858ea809ec4a9d74a8cfd411b0ee7c26.scope",
        "b33dda97580e721a69fa81742190341f858ea809ec4a9d74a8cfd411b0ee7c26",
        Runtime::Docker,
    );
    // falcosecurity/plugins plugins/container/test/matchers.cpp "docker_systemd".
    expect(
        "/docker.slice/docker-7951fb549ab99e0722a949b6c121634e1f3a36b5bacbe5392991e3b12251e6b8.scope",
        "7951fb549ab99e0722a949b6c121634e1f3a36b5bacbe5392991e3b12251e6b8",
        Runtime::Docker,
    );
}

#[test]
fn docker_in_docker_takes_the_innermost_id() {
    // DataDog/dd-agent#3274 describes RancherOS `/docker/<outer>/docker/<inner>`.
    expect(
        "/docker/2403ccfe427f1dc7b6120dccb9ac58c2f8456950380d587a9f33ea7f00dd303d/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498",
        "5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498",
        Runtime::Docker,
    );
}

#[test]
fn docker_hybrid_proc_file_with_host_v2_line() {
    // docker/for-linux#1293 (Debian 10): v1 lines name the container, the v2
    // line is the host's containerd.service. Any container line wins.
    let text = "\
12:rdma:/
11:perf_event:/docker/a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81
10:freezer:/docker/a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81
1:name=systemd:/docker/a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81
0::/system.slice/containerd.service
";
    let r = ContainerRef::from_proc_cgroup(text.as_bytes()).expect("container");
    assert_eq!(r.short_id(), "a2ffe0e97ac2");
    assert_eq!(
        r.id(),
        "a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81"
    );
    assert_eq!(r.runtime(), Runtime::Docker);
}

#[test]
fn podman_cgroupfs_on_this_machine() {
    // Seen on the project's CI machines (podman 4.3, cgroupfs manager, hybrid
    // v1+v2): every hierarchy, including `0::`, names libpod_parent/libpod-<id>.
    let id = "c08bf7ec4e20647e3e6d6204a657973d8f35fd5946db6780aca13fada59125b1";
    let text = format!(
        "9:name=systemd:/libpod_parent/libpod-{id}\n4:memory:/libpod_parent/libpod-{id}\n0::/libpod_parent/libpod-{id}\n"
    );
    let r = ContainerRef::from_proc_cgroup(text.as_bytes()).expect("container");
    assert_eq!((r.id(), r.runtime()), (id, Runtime::Podman));
    // Its conmon sits in /libpod_parent/conmon: a host process, as in Falco.
    expect_host("/libpod_parent/conmon");
}

#[test]
fn podman_systemd_machine_slice() {
    // containers/podman#10602 (Ubuntu 20.04, v1, systemd manager).
    expect(
        "/machine.slice/libpod-2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24.scope",
        "2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24",
        Runtime::Podman,
    );
    // Same issue: a systemd-in-container's name=systemd hierarchy ends in init.scope;
    // other hierarchies of that thread still name the container.
    expect_host(
        "/machine.slice/libpod-2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24.scope/init.scope",
    );
}

#[test]
fn podman_nested_container_cgroup_v2() {
    // containers/podman#20423 (Fedora 38, cgroup v2, root podman under user@0).
    expect(
        "/user.slice/user-0.slice/user@0.service/machine.slice/libpod-cf21d19260ace8544fe8b769fc2638bf2c0873dfbfff0b6253f0569b26a1d5eb.scope/container",
        "cf21d19260ace8544fe8b769fc2638bf2c0873dfbfff0b6253f0569b26a1d5eb",
        Runtime::Podman,
    );
}

#[test]
fn podman_conmon_scope_is_host() {
    // falcosecurity/libs#1613 (systemd-cgls of machine.slice with podman).
    expect_host(
        "/machine.slice/libpod-conmon-a2bc7b153f034b17f358cde43a7f8c7475147e8a0d1b2573c26473244ec44ce4.scope",
    );
    expect(
        "/machine.slice/libpod-a2bc7b153f034b17f358cde43a7f8c7475147e8a0d1b2573c26473244ec44ce4.scope/container",
        "a2bc7b153f034b17f358cde43a7f8c7475147e8a0d1b2573c26473244ec44ce4",
        Runtime::Podman,
    );
}

#[test]
fn podman_split_mode_and_rootless() {
    // falcosecurity/plugins plugins/container/test/matchers.cpp
    // "root_libpod_cgroup_mode_split_scope" and "rootless_user_slice_libpod_no_scope".
    expect(
        "/system.slice/system-ceph-f952f5be-565c-11f0-ab72-0affea283157.slice/ceph-f952f5be-565c-11f0-ab72-0affea283157@mon.ip-10-0-25-96.service/libpod-payload-9cc35a907a1e4e7ac8c021758b2bb28db60b3a787115f9114a641bf44f8ba99b.scope",
        "9cc35a907a1e4e7ac8c021758b2bb28db60b3a787115f9114a641bf44f8ba99b",
        Runtime::Podman,
    );
    expect(
        "/user.slice/user-1000.slice/user@1000.service/libpod-1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        Runtime::Podman,
    );
}

#[test]
fn kubernetes_systemd_cri_containerd() {
    // netdata/netdata#4868 (kubepods under systemd, containerd CRI).
    expect(
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod03f3f104_3215_44f2_9686_d4dd1f05a7ed.slice/cri-containerd-09d185410c4e25236cc24717f881589bb0978b24eafd101624e627a4dd8d3439.scope",
        "09d185410c4e25236cc24717f881589bb0978b24eafd101624e627a4dd8d3439",
        Runtime::Containerd,
    );
    // containerd/nri#227 (kind node, cgroup v2, kubelet.slice root).
    expect(
        "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod1e597579_417e_482f_bf65_5fe170c3aebd.slice/cri-containerd-a09bc17f5aa29b0dbdec9ede5f46cf1396d2405917ab02e6f1eb1019f388396e.scope",
        "a09bc17f5aa29b0dbdec9ede5f46cf1396d2405917ab02e6f1eb1019f388396e",
        Runtime::Containerd,
    );
    // containerd/cri#290 (custom systemd cgroup parent).
    expect(
        "/system.slice/system-getty.slice/cri-containerd-0e768f8db752fcd648adb264498daa1d8f31562320e881d6a9ec593d24b1f779.scope",
        "0e768f8db752fcd648adb264498daa1d8f31562320e881d6a9ec593d24b1f779",
        Runtime::Containerd,
    );
}

#[test]
fn kubernetes_cri_containerd_systemd_notation_in_cgroupfs() {
    // open-telemetry/opentelemetry-java#4507: containerd with systemd-style
    // cgroupsPath but no systemd cgroup driver; some hierarchies add
    // /system.slice/containerd.service in front.
    let text = "\
11:perf_event:/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:cri-containerd:ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459
10:blkio:/system.slice/containerd.service/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:cri-containerd:ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459
";
    let r = ContainerRef::from_proc_cgroup(text.as_bytes()).expect("container");
    assert_eq!(r.short_id(), "ee4b20e90ac7");
    assert_eq!(r.runtime(), Runtime::Containerd);
    // containerd/runwasi#821, the same notation.
    expect(
        "/kubepods-besteffort-podb7c2cbdb_9ab5_47ef_977e_97e39a73da6d.slice:cri-containerd:66dda1e97c4fc48204b066f07fc1e28bab94a571820484e01576982d4cb9d32b",
        "66dda1e97c4fc48204b066f07fc1e28bab94a571820484e01576982d4cb9d32b",
        Runtime::Containerd,
    );
}

#[test]
fn kubernetes_cgroupfs_driver() {
    // falcosecurity/plugins plugins/container/test/matchers.cpp "containerd_cgroupfs"
    // and "crio_cgroupfs" (kubelet cgroupfs driver).
    expect(
        "/kubepods/besteffort/podac04f3f2-1f2c-11e9-b015-1ebee232acfa/605439acbd4fb18c145069289094b17f17e0cfa938f78012d4960bc797305f22",
        "605439acbd4fb18c145069289094b17f17e0cfa938f78012d4960bc797305f22",
        Runtime::Cri,
    );
    expect(
        "/kubepods/besteffort/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/crio-73bfe475650de66df8e2affdc98d440dcbe84f8df83b6f75a68a82eb7026136a",
        "73bfe475650de66df8e2affdc98d440dcbe84f8df83b6f75a68a82eb7026136a",
        Runtime::CriO,
    );
    // Guaranteed QoS pods have no qos level: /kubepods/pod<uid>/<id>
    // (kubernetes/kubernetes#26751 design of pod-level cgroups).
    expect(
        "/kubepods/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/73bfe475650de66df8e2affdc98d440dcbe84f8df83b6f75a68a82eb7026136a",
        "73bfe475650de66df8e2affdc98d440dcbe84f8df83b6f75a68a82eb7026136a",
        Runtime::Cri,
    );
}

#[test]
fn kubernetes_systemd_crio_and_its_conmon() {
    // opencontainers/runc#4620 (CRI-O, systemd driver, v1).
    let text = "\
13:freezer:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c.scope
11:files:/
";
    let r = ContainerRef::from_proc_cgroup(text.as_bytes()).expect("container");
    assert_eq!(r.short_id(), "5eed91756358");
    assert_eq!(r.runtime(), Runtime::CriO);
    // openshift/microshift#697: conmon scopes are the runtime's, not a container.
    expect_host(
        "/system.slice/crio-conmon-e0c85fe7644a858988d9687c2e0736a7d31922740d0f3e001c6b2e0aa7e5f528.scope",
    );
    expect(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc8bad552_5c99_4d4f_b71c_c426c0cde014.slice/crio-15b6e0c6490cad17fcf69eb837794349b4df96f84ba96c6be9828fe281c055a9.scope",
        "15b6e0c6490cad17fcf69eb837794349b4df96f84ba96c6be9828fe281c055a9",
        Runtime::CriO,
    );
    // kubernetes/minikube#11280: CRI-O pods inside a docker-based node.
    expect(
        "/docker/d6701ec289c56e4391acb11d07474b3139466857a305490575508a8b7a9fcf22/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2ca4a155_3599_498d_bb9d_4446693fa3ea.slice/crio-0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0.scope",
        "0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0",
        Runtime::CriO,
    );
}

#[test]
fn kubernetes_systemd_with_docker() {
    // kontena/pharos-cluster#440 (dockershim under kubepods.slice).
    expect(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9692aa0e_748e_11e8_8dfa_76d458035df6.slice/docker-abddff03dfd7710c79a750ce3e730365cbb2c8247a974170c1062683bc3e9152.scope",
        "abddff03dfd7710c79a750ce3e730365cbb2c8247a974170c1062683bc3e9152",
        Runtime::Docker,
    );
    expect_host("/system.slice");
}

#[test]
fn containerd_cri_without_cgroup_parent() {
    // `../shared/testing-on-this-machine.md`: containerd 1.6 CRI pods with no
    // cgroup parent land in /k8s.io/<id>.
    expect(
        "/k8s.io/3df55f0a097e2f137879866879a8a05cdb999a03d5de435f4c2f66c04b7bb8df",
        "3df55f0a097e2f137879866879a8a05cdb999a03d5de435f4c2f66c04b7bb8df",
        Runtime::Containerd,
    );
}

#[test]
fn containerd_ctr_named_containers() {
    // falcosecurity/plugins matchers.cpp "containerd_default",
    // "containerd_id_with_special_chars", "containerd_systemd_*_filtered".
    expect(
        "/default/test_container",
        "test_container",
        Runtime::Containerd,
    );
    expect(
        "/k8s.io/my-test_container",
        "my-test_container",
        Runtime::Containerd,
    );
    expect_host("/default/some_short_id.service");
    expect_host("/default/some_short_id.scope");
    // Deliberate difference from Falco: unknown namespaces with short names
    // are host cgroups. This machine's own sandbox cgroup looks like this.
    expect_host("/process_api/67614b007251695cfdddb79b623d41ac");
}

#[test]
fn nerdctl_systemd() {
    // falcosecurity/plugins matchers.cpp "nerdctl_systemd_scope".
    expect(
        "/system.slice/nerdctl-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        Runtime::Containerd,
    );
}

#[test]
fn lxc_layouts() {
    // draios/sysdig#1344: `/lxc/<name>` (old) and `/lxc.payload/<name>` (LXC 3.1).
    expect("/lxc/web1", "web1", Runtime::Lxc);
    expect(
        "/lxc.payload/web1/system.slice/cron.service",
        "web1",
        Runtime::Lxc,
    );
    // liske/needrestart#238 (LXC 4.0 on cgroup v2).
    expect(
        "/lxc.payload.focal/system.slice/avahi-daemon.service",
        "focal",
        Runtime::Lxc,
    );
    // lxc/lxc#2782: the monitor process is LXC's, on the host.
    expect_host("/lxc.monitor.focal");
}

#[test]
fn libvirt_lxc_layouts() {
    // Layouts handled by Falco's libvirt_lxc matcher (falcosecurity/plugins
    // plugins/container/src/matchers/libvirt_lxc.cpp).
    expect("/machine/guest1.libvirt-lxc", "guest1", Runtime::LibvirtLxc);
    expect("/libvirt/lxc/guest1", "guest1", Runtime::LibvirtLxc);
    let r =
        ContainerRef::from_cgroup_path(br"/machine.slice/machine-lxc\x2d2293906\x2dguest1.scope")
            .expect("libvirt-lxc");
    assert_eq!(r.runtime(), Runtime::LibvirtLxc);
    assert_eq!(r.id(), "2293906_x2dguest1");
}

#[test]
fn host_cgroups() {
    // falcosecurity/plugins matchers.cpp edge cases and common host units.
    for p in [
        "/",
        "",
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "/user.slice/user-1000.slice/session-2.scope",
        "/system.slice/docker.service",
        "/system.slice/containerd.service",
        "/kubepods.slice/kubepods-burstable.slice",
        "/kubepods/burstable/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc",
        "/libpod_parent",
        // 65 hex digits, and a non-hex 64-char id.
        "/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc4981",
        "/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc49g",
        "/user.slice/user-1000.slice/user@1000.service/libpod-1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefg",
    ] {
        expect_host(p);
    }
}

#[test]
fn cgroups_param_entries() {
    // The clone/execve `cgroups` param: NUL-separated `subsys=path`, with
    // v1 named hierarchies such as name=systemd.
    let id = "c08bf7ec4e20647e3e6d6204a657973d8f35fd5946db6780aca13fada59125b1";
    let param = format!(
        "cpuset=/\0cpu=/libpod_parent/libpod-{id}\0name=systemd=/libpod_parent/libpod-{id}\0"
    );
    let r = ContainerRef::from_cgroups_param(param.as_bytes()).expect("container");
    assert_eq!(r.id(), id);
    assert_eq!(r.short_id(), &id[..12]);
    let host = "cpuset=/\0cpu=/user.slice\0memory=/user.slice\0";
    assert_eq!(ContainerRef::from_cgroups_param(host.as_bytes()), None);
    // &str entries work too.
    let entries = [
        "cpu=/",
        "memory=/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498",
    ];
    assert_eq!(
        ContainerRef::from_cgroups(entries).map(|r| r.runtime()),
        Some(Runtime::Docker)
    );
}

#[test]
fn proc_cgroup_of_this_process_is_parsed() {
    // Whatever this test runs in, reading /proc works and never panics.
    let r = ContainerRef::read_proc(std::process::id());
    assert!(r.is_ok());
}

#[test]
fn ref_is_small_and_copy() {
    fn assert_copy<T: Copy>() {}
    assert_copy::<ContainerRef>();
    assert!(std::mem::size_of::<ContainerRef>() <= 72);
    assert!(ContainerRef::new("", Runtime::Docker).is_none());
    assert!(ContainerRef::new("a/b", Runtime::Docker).is_none());
    assert_eq!(
        ContainerRef::new("abc", Runtime::Podman).map(|r| r.short_id().to_string()),
        Some("abc".into())
    );
}
