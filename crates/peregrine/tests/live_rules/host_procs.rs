//! Process behaviour on the host: servers spawning shells and package
//! managers, secret searches, ptrace, fileless and /dev/shm execution,
//! kernel modules, setuid bits, history removal, binary dir changes, SSH
//! keys, setns, BPF loads, system users.

use std::process::Command;

use crate::live_support::{field, run, sh, Scratch};
use crate::{cmd_has, Suite};

pub fn host_processes(s: &mut Suite<'_>, w: &Scratch) {
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

pub fn host_more(s: &mut Suite<'_>, w: &Scratch) {
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
