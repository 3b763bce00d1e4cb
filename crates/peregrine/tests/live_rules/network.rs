//! Network behaviour on the host: netcat running a program for its peer
//! (and so its standard streams on a socket), ssh to an odd port.

use std::net::TcpListener;
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::thread;

use serde_json::Value;

use crate::live_support::{field, run, Scratch};
use crate::Suite;

pub fn host_network(s: &mut Suite<'_>, w: &Scratch) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("busybox");
    let nc = w.path("nc");
    symlink(busybox, &nc).expect("symlink nc");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = thread::spawn(move || {
        // Serve three connections: nc -e, plain nc, ssh.
        for _ in 0..3 {
            if let Ok((c, _)) = listener.accept() {
                drop(c);
            }
        }
    });
    // netcat running a program for its peer: stdin/stdout become the socket.
    let out = Command::new(&nc)
        .args(["-w", "2", "127.0.0.1", &port, "-e", "/bin/true"])
        .stdin(Stdio::null())
        .output()
        .expect("nc -e");
    let _ = out;
    let with_port = {
        let p = port.clone();
        move |f: &Value| field(f, "proc.cmdline").contains(&format!("127.0.0.1 {p} -e"))
    };
    s.expect(
        "nc -e",
        "Netcat remote code execution",
        &with_port,
        &[("proc.name", "nc")],
    );
    s.expect(
        "nc -e",
        "Redirect STDOUT/STDIN to network connection",
        &with_port,
        &[("proc.name", "nc")],
    );
    let out = Command::new(&nc)
        .args(["-w", "2", "127.0.0.1", &port])
        .stdin(Stdio::null())
        .output()
        .expect("nc");
    let _ = out;
    let p = port.clone();
    s.forbid("plain nc", None, move |f| {
        let c = field(f, "proc.cmdline");
        field(f, "proc.name") == "nc" && c.contains(&p) && !c.contains("-e")
    });

    // ssh out to a port that is not an SSH port (the listener hangs up).
    let _ = run(
        "ssh",
        &[
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=3",
            "-p",
            &port,
            "peregrine-lt@127.0.0.1",
            "true",
        ],
    );
    let _ = server.join();
    // "-c" inside a host name is not the -c option.
    run(&nc, &["-w", "1", "peregrine-lt-c.invalid", "80"]);
    s.forbid("nc to a host named *-c*", None, |f| {
        field(f, "proc.cmdline").contains("peregrine-lt-c.invalid")
    });
    let p = port.clone();
    s.expect(
        "ssh -p <odd port>",
        "SSH connection to a non-standard port",
        move |f| field(f, "proc.cmdline").contains(&format!("-p {p} ")),
        &[("proc.name", "ssh"), ("fd.sport", &port)],
    );
}
