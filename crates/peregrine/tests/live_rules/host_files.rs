//! Sensitive reads, writes below system directories, logs, links,
//! traversal and other processes' environments, on the host.

use std::process::Command;
use std::time::Instant;

use crate::live_support::{field, run, sh, Peregrine, Scratch};
use crate::{cmd_has, headline_in_time, record, text_has, Suite};

pub fn host_files(s: &mut Suite<'_>, w: &Scratch, text: &Peregrine) {
    // Reads of sensitive files.
    let m = w.path("m-read");
    run("cat", &["/etc/shadow", &m]);
    s.expect(
        "cat /etc/shadow as root",
        "Read sensitive file untrusted",
        cmd_has(&m),
        &[
            ("fd.name", "/etc/shadow"),
            ("proc.name", "cat"),
            ("user.name", "root"),
        ],
    );
    // Relative to the cwd, and relative to a directory fd: state resolves
    // both to /etc/shadow.
    let m = w.path("m-read-cwd");
    sh(&format!("cd /etc && exec cat shadow {m}"));
    s.expect(
        "cat shadow in /etc",
        "Read sensitive file untrusted",
        cmd_has(&m),
        &[("fd.name", "/etc/shadow")],
    );
    // proc.name is the acting thread's name (the test harness names it).
    let me = std::fs::read_to_string("/proc/thread-self/comm").unwrap_or_default();
    let me = me.trim().to_string();
    let etc = std::fs::File::open("/etc").expect("open /etc");
    let fd = unsafe {
        use std::os::fd::AsRawFd;
        libc::openat(
            etc.as_raw_fd(),
            c"shadow".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    assert!(fd >= 0, "openat(/etc fd, shadow) as root");
    unsafe { libc::close(fd) };
    s.expect(
        "openat(/etc fd, \"shadow\")",
        "Read sensitive file untrusted",
        move |f| field(f, "proc.name") == me && field(f, "fd.name") == "/etc/shadow",
        &[],
    );
    let trusted = w.path("sshd");
    std::fs::copy("/bin/cat", &trusted).expect("copy cat");
    let m_nm = w.path("m-read-nm");
    run(&trusted, &["/etc/shadow", &m_nm]);
    run("cat", &["/etc/hostname", &m_nm]);
    s.forbid(
        "sensitive read by sshd / non-sensitive read",
        None,
        cmd_has(&m_nm),
    );

    // The headline: a non-root program reading /etc/shadow.
    let m = w.path("m-denied");
    let nobody = [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "cat",
        "/etc/shadow",
    ];
    run("setpriv", &[&nobody[..], &[m.as_str()]].concat());
    let acted = Instant::now();
    let alert = s.expect(
        "cat /etc/shadow as nobody",
        "Sensitive file read denied",
        cmd_has(&m),
        &[("fd.name", "/etc/shadow"), ("user.uid", "65534")],
    );
    headline_in_time(s, "cat /etc/shadow as nobody", acted, alert);
    // The open failed: no fd was read, so the "read" rule stays quiet.
    s.forbid(
        "failed open of /etc/shadow",
        Some("Read sensitive file untrusted"),
        cmd_has(&m),
    );
    let r = text_has(
        text,
        "cat /etc/shadow as nobody",
        &[
            "Notice Refused attempt to read a sensitive file",
            "file=/etc/shadow",
            &m,
        ],
    );
    record(s, r, "cat /etc/shadow as nobody");
    let m_nm = w.path("m-denied-nm");
    run(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "cat",
            "/etc/hostname",
            &m_nm,
        ],
    );
    s.forbid("nobody reads /etc/hostname", None, cmd_has(&m_nm));

    // Writes below binary dirs, /etc, /root (the headline: echo x > /bin/evil).
    let evil = w.track(format!(
        "/bin/evil-{}",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    sh(&format!("echo x > {evil}"));
    let acted = Instant::now();
    let alert = s.expect(
        "sh -c 'echo x > /bin/evil'",
        "Write below binary dir",
        |f| field(f, "fd.name") == evil,
        &[("proc.name", "sh")],
    );
    headline_in_time(s, "sh -c 'echo x > /bin/evil'", acted, alert);
    let r = text_has(
        text,
        "sh -c 'echo x > /bin/evil'",
        &[
            "Error File below a binary directory opened for writing",
            &format!("file={evil}"),
        ],
    );
    record(s, r, "sh -c 'echo x > /bin/evil'");
    let ok_file = w.path("evil");
    sh(&format!("echo x > {ok_file}"));
    s.forbid("write to a scratch file", None, move |f| {
        field(f, "fd.name") == ok_file
    });

    let etc = w.track(format!(
        "/etc/{}",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    sh(&format!("echo x > {etc}"));
    s.expect(
        "write a file below /etc",
        "Write below etc",
        |f| field(f, "fd.name") == etc,
        &[("proc.name", "sh")],
    );
    let root = w.track(format!(
        "/root/{}",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    sh(&format!("echo x > {root}"));
    s.expect(
        "write a file in /root",
        "Write below root",
        |f| field(f, "fd.name") == root,
        &[("proc.name", "sh")],
    );

    // Log clearing: truncation alerts, appending does not.
    let log = w.track(format!(
        "/var/log/{}.log",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    let log_nm = w.track(format!(
        "/var/log/{}-nm.log",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    sh(&format!(
        "echo x >> {log_nm}; echo y >> {log_nm}; : > {log}"
    ));
    s.expect(
        "truncate a log file",
        "Clear log activities",
        |f| field(f, "fd.name") == log,
        &[],
    );
    let log_nm2 = log_nm.clone();
    s.forbid("append to a log file", None, move |f| {
        field(f, "fd.name") == log_nm2
    });

    // Symlinks and hard links over sensitive files.
    let link = w.path("m-symlink");
    run("ln", &["-s", "/etc/shadow", &link]);
    s.expect(
        "ln -s /etc/shadow",
        "Create symlink over sensitive file",
        cmd_has(&link),
        &[
            ("evt.arg.target", "/etc/shadow"),
            ("evt.arg.linkpath", &link),
        ],
    );
    let link_nm = w.path("m-symlink-nm");
    run("ln", &["-s", "/etc/hostname", &link_nm]);
    s.forbid("ln -s /etc/hostname", None, cmd_has(&link_nm));
    let hard = w.path("m-hardlink");
    run("ln", &["/etc/shadow", &hard]);
    s.expect(
        "ln /etc/shadow",
        "Create hardlink over sensitive file",
        cmd_has(&hard),
        &[("evt.arg.oldpath", "/etc/shadow")],
    );
    let hard_nm = w.path("m-hardlink-nm");
    std::fs::write(w.path("plain"), "x").expect("write plain");
    run("ln", &[&w.path("plain"), &hard_nm]);
    s.forbid("ln of a plain file", None, cmd_has(&hard_nm));

    // Directory traversal to an /etc file.
    let trav = format!("{}/../../../etc/hostname", w.dir.display());
    run("cat", &[&trav]);
    s.expect(
        "cat <dir>/../../../etc/hostname",
        "Directory traversal read of etc file",
        cmd_has(&trav),
        &[("fd.name", "/etc/hostname")],
    );
    let trav_nm = w.path("m-trav-nm");
    run("cat", &["/etc/hostname", &trav_nm]);
    s.forbid("cat /etc/hostname", None, cmd_has(&trav_nm));

    // Reading another process's environment.
    let mut victim = Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let env_path = format!("/proc/{}/environ", victim.id());
    let m = w.path("m-environ");
    run("cat", &[&env_path, &m]);
    s.expect(
        "cat /proc/PID/environ",
        "Read environment of another process",
        cmd_has(&m),
        &[("fd.name", &env_path)],
    );
    let _ = victim.kill();
    let _ = victim.wait();
    let m_nm = w.path("m-environ-nm");
    run("cat", &["/proc/self/environ", &m_nm]);
    s.forbid("cat /proc/self/environ", None, cmd_has(&m_nm));
}
