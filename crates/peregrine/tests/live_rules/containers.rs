//! Behaviour in real podman containers: a terminal shell, package managers,
//! dropped binaries, debugfs, release_agent, the Kubernetes API, packet
//! sockets.

use std::time::Instant;

use serde_json::Value;

use crate::live_support::{field, run, Container, Peregrine};
use crate::{cmd_has, headline_in_time, record, text_has, Suite};

pub fn containers(s: &mut Suite<'_>, plain: &Container, privileged: &Container, text: &Peregrine) {
    let (c, p) = (plain.name.as_str(), privileged.name.as_str());
    let in_c = |name: &str| {
        let n = name.to_string();
        move |f: &Value| field(f, "container.name") == n
    };
    let both = |name: &str, marker: &str| {
        let (n, m) = (name.to_string(), marker.to_string());
        move |f: &Value| field(f, "container.name") == n && field(f, "proc.cmdline").contains(&m)
    };

    // The headline: an interactive shell in a container.
    let m = format!("{c}-term");
    let out = run(
        "script",
        &[
            "-qec",
            &format!("podman exec -it {c} sh -c ': {m}'"),
            "/dev/null",
        ],
    );
    assert!(out.status.success(), "podman exec -it: {out:?}");
    let acted = Instant::now();
    let alert = s.expect(
        "podman exec -it sh",
        "Terminal shell in container",
        both(c, &m),
        &[
            ("proc.name", "sh"),
            (
                "container.image.repository",
                "localhost/peregrine-livetests-bb",
            ),
            ("container.image.tag", "1"),
            ("k8s.pod.name", "lt-pod"),
            ("k8s.ns.name", "lt-ns"),
        ],
    );
    headline_in_time(s, "podman exec -it sh", acted, alert);
    let r = text_has(
        text,
        "podman exec -it sh",
        &[
            "Notice Terminal shell in container",
            &format!("container_name={c}"),
            "image=localhost/peregrine-livetests-bb:1",
            &m,
        ],
    );
    record(s, r, "podman exec -it sh");
    let m_nm = format!("{c}-term-nm");
    plain.exec(&["sh", "-c", &format!(": {m_nm}")]);
    s.forbid("podman exec sh without a terminal", None, cmd_has(&m_nm));

    // A package manager in a container.
    let m = format!("{c}-dpkg");
    plain.exec(&["dpkg", "-s", &m]);
    s.expect(
        "dpkg in a container",
        "Package management process in container",
        both(c, &m),
        &[(
            "container.image.repository",
            "localhost/peregrine-livetests-bb",
        )],
    );
    let m_nm = format!("{c}-ls-nm");
    plain.exec(&["ls", &m_nm]);
    s.forbid("ls in a container", None, cmd_has(&m_nm));

    // Drop a binary into the container's writable layer and run it.
    let m = format!("{c}-drop");
    plain.exec(&[
        "sh",
        "-c",
        &format!("cp /bin/busybox /tmp/echo && /tmp/echo {m}"),
    ]);
    s.expect(
        "dropped binary in a container",
        "Drop and execute new binary in container",
        both(c, &m),
        &[("proc.exepath", "/tmp/echo")],
    );
    let m_nm = format!("{c}-image-nm");
    plain.exec(&["/bin/echo", &m_nm]);
    s.forbid("image binary in a container", None, cmd_has(&m_nm));

    // debugfs in a privileged container (a busybox link stands for it: the
    // exec is what the rule sees); not in an unprivileged one.
    let m = format!("{p}-debugfs");
    privileged.exec(&["debugfs", &m]);
    s.expect(
        "debugfs in a privileged container",
        "Debugfs launched in privileged container",
        both(p, &m),
        &[("proc.name", "debugfs")],
    );
    let m_nm = format!("{c}-debugfs-nm");
    plain.exec(&["debugfs", &m_nm]);
    s.forbid("debugfs in an unprivileged container", None, cmd_has(&m_nm));

    // A release_agent write with CAP_SYS_ADMIN (privileged), not without.
    let m = format!("{p}-ragent");
    privileged.exec(&["sh", "-c", &format!("echo x > /tmp/release_agent; : {m}")]);
    s.expect(
        "release_agent in a privileged container",
        "Container escape through release_agent",
        both(p, &m),
        &[("fd.name", "/tmp/release_agent")],
    );
    let m_nm = format!("{c}-ragent-nm");
    plain.exec(&[
        "sh",
        "-c",
        &format!("echo x > /tmp/release_agent; : {m_nm}"),
    ]);
    s.forbid("release_agent without CAP_SYS_ADMIN", None, cmd_has(&m_nm));

    // A connection to the Kubernetes API server's port from a container (a
    // listener in the container stands in for the server); another port is
    // not the API server. (Paths, not applet names: busybox sh runs applets
    // through /proc/self/exe, whose process name is "exe".)
    let connect_to = |port: u16| {
        format!(
            "/bin/nc -l -p {port} -w 3 >/dev/null </dev/null & sleep 1; \
             echo hi | /bin/nc -w 1 127.0.0.1 {port}; wait"
        )
    };
    plain.exec(&["sh", "-c", &connect_to(6443)]);
    let cn = c.to_string();
    s.expect(
        "nc to :6443 from a container",
        "Contact Kubernetes API server from container",
        move |f| field(f, "container.name") == cn && field(f, "proc.cmdline").contains("6443"),
        &[("proc.name", "nc"), ("k8s.pod.name", "lt-pod")],
    );
    plain.exec(&["sh", "-c", &connect_to(6444)]);
    s.forbid("nc to :6444 from a container", None, |f| {
        field(f, "proc.cmdline").contains("127.0.0.1 6444")
    });

    // A packet socket (arping) in a container; ping uses no packet socket.
    privileged.exec(&["arping", "-c", "1", "-w", "1", "-I", "eth0", "127.0.0.1"]);
    s.expect(
        "arping in a container",
        "Packet socket created in container",
        in_c(p),
        &[("proc.name", "arping")],
    );
    plain.exec(&["ping", "-c", "1", "-W", "1", "127.0.0.1"]);
    let cn = c.to_string();
    s.forbid(
        "ping in a container",
        Some("Packet socket created in container"),
        move |f| field(f, "container.name") == cn,
    );
}
