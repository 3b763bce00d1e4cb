//! An independent reader agrees: live events (with the /proc scan as the
//! process list) written to a capture file are read by sysdig, which prints
//! the same types and params we decoded.

mod common;

use common::*;
use peregrine_ebpf::Design;
use peregrine_event::table as t;
use std::time::Duration;

#[test]
fn sysdig_reads_live_events() {
    if !live() || !peregrine_testkit::tool_available("sysdig") {
        return;
    }
    let mut src = open_with(
        Design::Tracepoint,
        set(&["openat", "close", "execve", "fork", "connect", "socket"]),
        |c| c.scan_proc = true,
    );
    let passwd = cstr("/etc/passwd");
    let sh = cstr("/bin/sh");
    let argv = CArgs::new(&["sh", "-c", "exit 0"]);
    let envp = CArgs::new(&["A=1"]);
    let child = fork_child(|| {
        let fd = sys(
            libc::SYS_openat,
            &[libc::AT_FDCWD as _, ptr(passwd.as_ptr()), 0],
        );
        sys(libc::SYS_close, &[fd]);
        sys(
            libc::SYS_execve,
            &[ptr(sh.as_ptr()), ptr(argv.as_ptr()), ptr(envp.as_ptr())],
        );
    });
    wait(child);
    let evs = collect(&mut src, child, Duration::from_secs(15));
    let tables = peregrine_event::EventSource::tables(&src).clone();
    let dir = scratch("sysdig");
    let path = dir.join("live.scap");
    let mut w = peregrine_scap::ScapWriter::create(&path, &tables).expect("create capture");
    for e in &evs {
        w.write_raw(e.cpu, 0, &e.ev()).expect("write event");
    }
    w.close().expect("close capture");
    let out = std::process::Command::new("sysdig")
        .arg("-r")
        .arg(&path)
        .arg("-p")
        .arg("*%evt.type %proc.name %evt.args")
        .output()
        .expect("run sysdig");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sysdig failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let open = evs
        .iter()
        .find(|e| e.ty() == t::PPME_SYSCALL_OPENAT_2_X)
        .expect("openat event");
    let fd = open.int("fd");
    assert!(
        text.lines()
            .any(|l| l.starts_with("openat ") && l.contains(&format!("fd={fd}(<f>/etc/passwd)"))),
        "sysdig output:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("close ") && l.contains("res=0")),
        "sysdig output:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("execve ")
            && l.contains("exe=sh")
            && l.contains("args=-c.exit 0.")),
        "sysdig output:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("procexit ")),
        "sysdig output:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
