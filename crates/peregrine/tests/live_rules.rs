//! The default rules against real behaviour: one real `peregrine` (real
//! probe, `rules/peregrine_rules.yaml`, JSON alerts) watches while each
//! scenario does the thing a rule is about — and a near miss that must not
//! alert. A second `peregrine` with text output checks the headline
//! behaviours in text form.
//!
//! Scenarios are told apart by markers (unique paths and arguments, the
//! container's name), never by timing, so unrelated activity on the machine
//! cannot satisfy or break them. Near misses are checked once at the end,
//! after every positive alert has arrived (the pipeline is in order, so the
//! near misses done before them have been judged by then) plus a settle time.

mod live_support;

use std::net::TcpListener;
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use live_support::{field, run, sh, Container, Peregrine, PodmanService, Scratch};
use serde_json::Value;

/// How long an alert may take: the issue asks for one second; the rest is
/// slack for a loaded CI machine.
const ALERT_TIMEOUT: Duration = Duration::from_secs(5);

type Pred = Box<dyn Fn(&Value) -> bool>;

struct Suite<'a> {
    json: &'a Peregrine,
    passed: Vec<String>,
    failures: Vec<String>,
    /// (scenario, rule or None for any rule, predicate on output fields)
    forbidden: Vec<(String, Option<String>, Pred)>,
}

fn cmd_has(marker: &str) -> impl Fn(&Value) -> bool + 'static {
    let m = marker.to_string();
    move |f: &Value| field(f, "proc.cmdline").contains(&m)
}

impl<'a> Suite<'a> {
    /// Waits for an alert of `rule` matching `pred`, then checks `fields`
    /// (exact values of output fields).
    fn expect(
        &mut self,
        scenario: &str,
        rule: &str,
        pred: impl Fn(&Value) -> bool,
        fields: &[(&str, &str)],
    ) -> Option<Value> {
        let started = Instant::now();
        let Some(alert) = self.json.wait_alert(rule, ALERT_TIMEOUT, pred) else {
            let seen: Vec<String> = self
                .json
                .alerts()
                .iter()
                .filter(|a| a["rule"] == rule)
                .map(|a| a["output"].as_str().unwrap_or("").to_string())
                .collect();
            self.failures.push(format!(
                "{scenario}: no '{rule}' alert within {ALERT_TIMEOUT:?}; alerts of that rule: {seen:#?}"
            ));
            return None;
        };
        let f = &alert["output_fields"];
        for (k, want) in fields {
            let got = match &f[*k] {
                Value::String(s) => s.clone(),
                Value::Null => "<NA>".to_string(),
                v => v.to_string(),
            };
            if got != *want {
                self.failures.push(format!(
                    "{scenario}: '{rule}' field {k} = {got:?}, want {want:?} (alert: {})",
                    alert["output"]
                ));
                return Some(alert);
            }
        }
        self.passed.push(format!(
            "{scenario}: '{rule}' after {} ms",
            started.elapsed().as_millis()
        ));
        Some(alert)
    }

    /// A near miss: no alert (of `rule`, or of any rule) may match `pred`.
    fn forbid(
        &mut self,
        scenario: &str,
        rule: Option<&str>,
        pred: impl Fn(&Value) -> bool + 'static,
    ) {
        self.forbidden.push((
            scenario.to_string(),
            rule.map(str::to_string),
            Box::new(pred),
        ));
    }

    fn check_forbidden(&mut self) {
        thread::sleep(Duration::from_secs(2));
        let alerts = self.json.alerts();
        for (scenario, rule, pred) in &self.forbidden {
            let hit = alerts.iter().find(|a| {
                rule.as_deref().is_none_or(|r| a["rule"] == r) && pred(&a["output_fields"])
            });
            match hit {
                Some(a) => self.failures.push(format!(
                    "{scenario} (near miss): unexpected alert '{}': {}",
                    a["rule"], a["output"]
                )),
                None => self
                    .passed
                    .push(format!("{scenario} (near miss): no alert")),
            }
        }
    }
}

#[test]
fn default_rules_alert_on_real_behaviour() {
    if !peregrine_testkit::live_ready("default rules")
        || !peregrine_testkit::tool_available("podman")
        || !peregrine_testkit::tool_available("strace")
        || !peregrine_testkit::tool_available("perl")
        || !peregrine_testkit::tool_available("insmod")
        || !peregrine_testkit::tool_available("script")
        || !peregrine_testkit::tool_available("setpriv")
        || !peregrine_testkit::tool_available("ssh")
        || !peregrine_testkit::tool_available("bpftool")
        || !peregrine_testkit::tool_available("nsenter")
    {
        return;
    }
    live_support::ensure_image();
    let _api = PodmanService::ensure();
    let tag = format!("peregrine-lt{}", std::process::id());
    let w = Scratch::new(&tag);

    let json = Peregrine::start(true);
    let text = Peregrine::start(false);
    let mut s = Suite {
        json: &json,
        passed: Vec::new(),
        failures: Vec::new(),
        forbidden: Vec::new(),
    };

    // Containers start under the probe: their runtimes' bookkeeping
    // (netavark locks in /etc/containers, runc's memfd copy of itself, …)
    // must not alert.
    let plain = Container::start(&format!("{tag}-c"), &[]);
    let privileged = Container::start(&format!("{tag}-p"), &["--privileged"]);
    // Network bookkeeping: podman opens /etc/containers/networks/netavark.lock
    // for writing on these.
    run("podman", &["network", "ls"]);
    let once = run("podman", &["run", "--rm", live_support::IMAGE, "true"]);
    assert!(once.status.success(), "podman run --rm: {once:?}");
    s.forbid("container runtimes", None, |f| {
        let name = field(f, "proc.name");
        [
            "podman",
            "conmon",
            "netavark",
            "aardvark-dns",
            "runc",
            "crun",
            "catatonit",
        ]
        .contains(&name)
            || name.starts_with("runc:[")
            || field(f, "fd.name").starts_with("/etc/containers/")
    });

    host_files(&mut s, &w, &text);
    host_processes(&mut s, &w, &text);
    host_network(&mut s, &w);
    host_more(&mut s, &w);
    containers(&mut s, &plain, &privileged, &text);

    s.check_forbidden();
    let (passed, failures) = (s.passed, s.failures);
    drop(plain);
    drop(privileged);
    let (code, summary) = json.stop();
    let _ = text.stop();
    eprintln!("passed:\n  {}", passed.join("\n  "));
    let events = summary
        .lines()
        .find(|l| l.starts_with("Events seen by the probe"))
        .unwrap_or("no event counts in the summary")
        .to_string();
    eprintln!("peregrine: {events}");
    assert_eq!(code, Some(0), "peregrine exit status; stderr:\n{summary}");
    assert!(
        summary.contains("Events seen by the probe"),
        "no summary:\n{summary}"
    );
    // Missed alerts with drops mean the machine outran the consumer (e.g. a
    // debug build under a parallel compile), which the counts make plain.
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n  {}\nperegrine: {events}",
        failures.len(),
        failures.len() + passed.len(),
        failures.join("\n  ")
    );
}

fn text_has(text: &Peregrine, what: &str, parts: &[&str]) -> Result<(), String> {
    text.wait_line(ALERT_TIMEOUT, |l| parts.iter().all(|p| l.contains(p)))
        .map(|_| ())
        .ok_or_else(|| format!("{what}: no text alert line containing {parts:?}"))
}

/// The issue's bar for the headline behaviours: the alert within one second
/// of the behaviour (measured from the acting command's exit, so the time
/// a container exec takes to set up is not counted against the engine).
const HEADLINE_LATENCY: Duration = Duration::from_secs(1);

fn headline_in_time(s: &mut Suite<'_>, what: &str, acted: Instant, alert: Option<Value>) {
    if alert.is_none() {
        return;
    }
    let took = acted.elapsed();
    if took > HEADLINE_LATENCY {
        s.failures.push(format!(
            "{what}: alert seen {} ms after the behaviour (limit {} ms)",
            took.as_millis(),
            HEADLINE_LATENCY.as_millis()
        ));
    } else {
        s.passed
            .push(format!("{what}: within {} ms", took.as_millis()));
    }
}

fn record(s: &mut Suite<'_>, r: Result<(), String>, what: &str) {
    match r {
        Ok(()) => s.passed.push(format!("{what}: text form")),
        Err(e) => s.failures.push(e),
    }
}

fn host_files(s: &mut Suite<'_>, w: &Scratch, text: &Peregrine) {
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

fn host_processes(s: &mut Suite<'_>, w: &Scratch, _text: &Peregrine) {
    // A "server" (a dash named nginx) running a shell and a package manager.
    let nginx = w.path("nginx");
    std::fs::copy("/bin/dash", &nginx).expect("copy dash");
    let builder = w.path("builder");
    std::fs::copy("/bin/dash", &builder).expect("copy dash");
    let m = format!("{}-srvsh", w.dir.display());
    run(&nginx, &["-c", &format!("sh -c ': {m}'; true")]);
    s.expect(
        "nginx spawns sh",
        "Shell spawned by server program",
        cmd_has(&m),
        &[("proc.name", "sh"), ("proc.pname", "nginx")],
    );
    let m_nm = format!("{}-srvsh-nm", w.dir.display());
    run(&builder, &["-c", &format!("sh -c ': {m_nm}'; true")]);
    s.forbid("builder spawns sh", None, cmd_has(&m_nm));

    let m = format!("{}-pkg", w.dir.display());
    run(
        &nginx,
        &["-c", &format!("dpkg --status {m} >/dev/null 2>&1; true")],
    );
    s.expect(
        "nginx runs dpkg",
        "Package manager spawned by server program",
        cmd_has(&m),
        &[("proc.name", "dpkg"), ("proc.pname", "nginx")],
    );
    let m_nm = format!("{}-pkg-nm", w.dir.display());
    run(
        &builder,
        &["-c", &format!("dpkg --status {m_nm} >/dev/null 2>&1; true")],
    );
    s.forbid("builder runs dpkg", None, cmd_has(&m_nm));

    // Searches for secrets.
    let m = w.path("m-search");
    std::fs::create_dir_all(&m).expect("mkdir");
    run("find", &[&m, "-name", "id_rsa"]);
    s.expect(
        "find -name id_rsa",
        "Search for private keys or passwords",
        cmd_has(&m),
        &[],
    );
    let m_nm = w.path("m-search-nm");
    std::fs::create_dir_all(&m_nm).expect("mkdir");
    run("find", &[&m_nm, "-name", "notes.txt"]);
    s.forbid("find -name notes.txt", None, cmd_has(&m_nm));

    // Bulk data removal.
    let f = w.path("m-shred");
    std::fs::write(&f, "secret").expect("write");
    run("shred", &["-u", &f]);
    s.expect(
        "shred -u",
        "Remove bulk data from disk",
        cmd_has(&f),
        &[("proc.name", "shred")],
    );
    let f_nm = w.path("m-rm-nm");
    std::fs::write(&f_nm, "x").expect("write");
    run("rm", &["-f", &f_nm]);
    s.forbid("rm -f one file", None, cmd_has(&f_nm));

    // ptrace: a tracer that is not a known debugger attaches; TRACEME.
    let injector = w.path("injector");
    std::fs::copy("/usr/bin/strace", &injector).expect("copy strace");
    let m = w.path("m-ptrace");
    run(&injector, &["-o", "/dev/null", "/bin/echo", &m]);
    s.expect(
        "non-debugger ptrace attach",
        "PTRACE attached to process",
        |f| field(f, "proc.name") == "injector" && field(f, "proc.cmdline").contains("m-ptrace"),
        &[],
    );
    let m_nm = w.path("m-ptrace-nm");
    run("strace", &["-o", "/dev/null", "/bin/echo", &m_nm]);
    s.forbid("strace (a known debugger)", None, cmd_has(&m_nm));

    let m = w.path("m-traceme");
    run("perl", &["-e", "syscall(101, 0, 0, 0, 0)", &m]);
    s.expect(
        "PTRACE_TRACEME",
        "PTRACE anti-debug attempt",
        cmd_has(&m),
        &[("proc.name", "perl")],
    );
    let m_nm = w.path("m-traceme-nm");
    run(
        "strace",
        &[
            "-o",
            "/dev/null",
            "perl",
            "-e",
            "syscall(101, 0, 0, 0, 0)",
            &m_nm,
        ],
    );
    s.forbid("TRACEME under strace", None, cmd_has(&m_nm));

    // Fileless execution: /bin/echo copied into a memfd and executed.
    let m = w.path("m-memfd");
    let script = r#"my $n = "lt"; my $fd = syscall(319, $n, 0); die "memfd_create: $!" if $fd < 0;
        open(my $o, ">&=", $fd) or die; open(my $i, "<", "/bin/echo") or die; binmode $i;
        local $/; my $d = <$i>; print $o $d; close $i; $o->flush;
        exec {"/proc/self/fd/$fd"} "echo", $ARGV[0] or die "exec: $!";"#;
    let out = run("perl", &["-e", script, &m]);
    assert!(out.status.success(), "memfd exec: {out:?}");
    s.expect(
        "exec from memfd",
        "Fileless execution via memfd_create",
        cmd_has(&m),
        &[],
    );
    let m_nm = w.path("m-memfd-nm");
    run("/bin/echo", &[&m_nm]);
    s.forbid("exec from disk", None, cmd_has(&m_nm));

    // Execution from /dev/shm.
    let shm = w.track(format!(
        "/dev/shm/{}",
        w.dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::copy("/bin/echo", &shm).expect("copy echo");
    let m = w.path("m-shm");
    run(&shm, &[&m]);
    s.expect(
        "run from /dev/shm",
        "Execution from /dev/shm",
        cmd_has(&m),
        &[],
    );
    let local = w.path("echo");
    std::fs::copy("/bin/echo", &local).expect("copy echo");
    let m_nm = w.path("m-shm-nm");
    run(&local, &[&m_nm]);
    s.forbid("run from a scratch dir", None, cmd_has(&m_nm));

    // Kernel module loading (this kernel has no module support; the attempt
    // is what counts).
    let m = w.path("m-module.ko");
    std::fs::write(&m, "not a module").expect("write");
    run("insmod", &[&m]);
    s.expect(
        "insmod",
        "Kernel module load",
        cmd_has(&m),
        &[("proc.name", "insmod")],
    );
    let m_nm = w.path("m-module-nm.ko");
    run("modinfo", &[&m_nm]);
    s.forbid("modinfo", None, cmd_has(&m_nm));
}

fn host_network(s: &mut Suite<'_>, w: &Scratch) {
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

fn containers(s: &mut Suite<'_>, plain: &Container, privileged: &Container, text: &Peregrine) {
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

fn host_more(s: &mut Suite<'_>, w: &Scratch) {
    // Searching for cloud credentials.
    let m = w.path("m-aws");
    std::fs::create_dir_all(&m).expect("mkdir");
    run("grep", &["-r", "aws_secret_access_key", &m]);
    s.expect(
        "grep aws_secret_access_key",
        "Search for cloud credentials",
        cmd_has(&m),
        &[],
    );
    let m_nm = w.path("m-aws-nm");
    std::fs::create_dir_all(&m_nm).expect("mkdir");
    run("grep", &["-r", "hello", &m_nm]);
    s.forbid("grep hello", None, cmd_has(&m_nm));

    // setuid bit.
    let f = w.path("m-suid");
    std::fs::write(&f, "x").expect("write");
    run("chmod", &["u+s", &f]);
    s.expect(
        "chmod u+s",
        "Set setuid or setgid bit",
        cmd_has(&f),
        &[("proc.name", "chmod")],
    );
    let f_nm = w.path("m-suid-nm");
    std::fs::write(&f_nm, "x").expect("write");
    run("chmod", &["0755", &f_nm]);
    s.forbid("chmod 0755", None, cmd_has(&f_nm));

    // Shell history removal.
    let hist = w.path(".bash_history");
    std::fs::write(&hist, "ls\n").expect("write");
    run("rm", &["-f", &hist]);
    s.expect(
        "rm .bash_history",
        "Delete or rename shell history",
        cmd_has(&hist),
        &[],
    );

    // Renaming and deleting below a binary directory.
    let name = w
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let a = w.track(format!("/bin/{name}-mv"));
    let b = w.track(format!("/bin/{name}-mv2"));
    std::fs::write(&a, "x").expect("write below /bin");
    run("mv", &[&a, &b]);
    s.expect(
        "mv below /bin",
        "Modify binary dirs",
        cmd_has(&b),
        &[("proc.name", "mv"), ("evt.type", "renameat2")],
    );
    run("rm", &["-f", &b]);
    let b2 = b.clone();
    s.expect(
        "rm below /bin",
        "Modify binary dirs",
        move |f| field(f, "proc.name") == "rm" && field(f, "proc.cmdline").contains(&b2),
        &[("evt.type", "unlinkat")],
    );
    let (x, y) = (w.path("m-mv-nm"), w.path("m-mv-nm2"));
    std::fs::write(&x, "x").expect("write");
    run("mv", &[&x, &y]);
    s.forbid("mv in a scratch dir", None, cmd_has(&y));

    // SSH authorized keys.
    std::fs::create_dir_all(w.path(".ssh")).expect("mkdir .ssh");
    let keys = w.path(".ssh/authorized_keys");
    sh(&format!("echo 'ssh-ed25519 AAAA lt' >> {keys}"));
    s.expect(
        "append to authorized_keys",
        "Add SSH authorized key",
        |f| field(f, "fd.name") == keys,
        &[],
    );
    let known = w.path(".ssh/known_hosts");
    sh(&format!("echo 'host ssh-ed25519 AAAA' >> {known}"));
    s.forbid("append to known_hosts", None, move |f| {
        field(f, "fd.name") == known
    });

    // Entering another process's namespace.
    let mut target = Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let pid = target.id().to_string();
    let m = w.path("m-setns");
    run("nsenter", &["-t", &pid, "-u", "/bin/echo", &m]);
    s.expect(
        "nsenter",
        "Change thread namespace",
        cmd_has(&m),
        &[("proc.name", "nsenter")],
    );
    let _ = target.kill();
    let _ = target.wait();
    let m_nm = w.path("m-setns-nm");
    run("unshare", &["-u", "/bin/echo", &m_nm]);
    s.forbid("unshare (no setns)", None, cmd_has(&m_nm));

    // A service account with a terminal shell; without a terminal it is a
    // service doing its job.
    let m = w.path("m-sysuser");
    let www = ["--reuid=33", "--regid=33", "--clear-groups"];
    let out = run(
        "script",
        &[
            "-qec",
            &format!("setpriv {} sh -c ': {m}'", www.join(" ")),
            "/dev/null",
        ],
    );
    assert!(out.status.success(), "script setpriv: {out:?}");
    s.expect(
        "www-data shell on a terminal",
        "Interactive shell by a system user",
        cmd_has(&m),
        &[("user.name", "www-data"), ("proc.name", "sh")],
    );
    let m_nm = w.path("m-sysuser-nm");
    let script = format!(": {m_nm}");
    run(
        "setsid",
        &[&["-w", "setpriv"][..], &www[..], &["sh", "-c", &script]].concat(),
    );
    s.forbid("www-data shell without a terminal", None, cmd_has(&m_nm));

    // Loading BPF programs (bpftool's feature probe loads one per type).
    let out = run("bpftool", &["feature", "probe", "kernel", "macros"]);
    assert!(out.status.success(), "bpftool feature probe: {out:?}");
    s.expect(
        "bpftool feature probe",
        "BPF program loaded",
        |f| {
            field(f, "proc.name") == "bpftool" && field(f, "proc.cmdline").contains("feature probe")
        },
        &[],
    );
    run("bpftool", &["prog", "list"]);
    s.forbid("bpftool prog list", Some("BPF program loaded"), |f| {
        field(f, "proc.cmdline").contains("prog list")
    });
}
