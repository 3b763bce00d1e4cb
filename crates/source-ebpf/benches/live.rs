//! Live overhead benchmark: a syscall-heavy workload run with nothing
//! attached, with the same hooks holding empty programs (the floor), and with
//! the real probe feeding a user-space consumer; for both attach designs.
//!
//! `cargo bench -p peregrine-ebpf --bench live` (root and BTF needed).
//! Env: `BENCH_SCALE` (default 1.0) scales iteration counts; `BENCH_RUNS`
//! (default 5) repeats each measurement and keeps the fastest.
//!
//! Workloads (a forked child, pinned to CPU 0, raw syscalls):
//! - `getppid`: a syscall no rule wants (cost added to uninteresting syscalls);
//! - `open+close`: openat + close of /etc/passwd, both captured (2 events);
//! - `open+read+close`: with a 64-byte read (read is not captured by default);
//! - `find+cat`: `find /usr/include -type f | xargs cat >/dev/null`, a real
//!   mix (mostly reads, which the default set does not capture; opens, closes,
//!   execs it does), as the CPU time its processes use;
//! - `stress-ng --syscall` bogo-ops/s with `BENCH_STRESS=1` (stress-ng
//!   installed).

use peregrine_ebpf::{interest, Design, LiveConfig, LiveSource, ScSet, Wakeup};
use peregrine_event::{EventSource, Next};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Syscalls Falco's stable/incubating/sandbox rules name in `evt.type`.
const RULE_SYSCALLS: &[&str] = &[
    "accept",
    "accept4",
    "bpf",
    "chmod",
    "connect",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "execve",
    "execveat",
    "fchmod",
    "fchmodat",
    "finit_module",
    "init_module",
    "link",
    "linkat",
    "listen",
    "mkdir",
    "mkdirat",
    "open",
    "openat",
    "openat2",
    "ptrace",
    "recvfrom",
    "recvmsg",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendmsg",
    "sendto",
    "setns",
    "setuid",
    "socket",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
    "unshare",
    "userfaultfd",
];

fn default_interest() -> ScSet {
    let mut rules = ScSet::new();
    for n in RULE_SYSCALLS {
        rules.insert_name(n);
    }
    interest::select(&rules, &interest::BaseSyscalls::default()).set
}

#[derive(Clone, Copy, Debug)]
enum Work {
    Getppid,
    OpenClose,
    OpenReadClose,
}

impl Work {
    fn iters(self, scale: f64) -> u64 {
        let base = match self {
            Work::Getppid => 3_000_000.0,
            Work::OpenClose | Work::OpenReadClose => 300_000.0,
        };
        (base * scale).max(1000.0) as u64
    }
}

fn pin(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity on the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// CPU time of the calling thread: unlike wall time it does not count time
/// other processes (this machine is shared) take from the workload, and it
/// does count the probe, which runs in the workload's context.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes into ts.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Runs `iters` iterations in a forked child pinned to CPU 0; returns CPU ns
/// per iteration as the child measured it.
fn run_child(work: Work, iters: u64) -> f64 {
    let path = std::ffi::CString::new("/etc/passwd").unwrap();
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two fds.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only makes raw syscalls and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        pin(0);
        let mut buf = [0u8; 64];
        let start = now_ns();
        for _ in 0..iters {
            // SAFETY: raw syscalls on our own buffers.
            unsafe {
                match work {
                    Work::Getppid => {
                        libc::syscall(libc::SYS_getppid);
                    }
                    Work::OpenClose | Work::OpenReadClose => {
                        let fd = libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), 0);
                        if matches!(work, Work::OpenReadClose) {
                            libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), 64);
                        }
                        libc::syscall(libc::SYS_close, fd);
                    }
                }
            }
        }
        let per = (now_ns() - start) as f64 / iters as f64;
        let bytes = per.to_le_bytes();
        // SAFETY: writing to our pipe, then leaving.
        unsafe {
            libc::write(fds[1], bytes.as_ptr().cast(), 8);
            libc::_exit(0);
        }
    }
    // SAFETY: parent side: close the write end, read the result, reap.
    unsafe {
        libc::close(fds[1]);
        let mut b = [0u8; 8];
        libc::read(fds[0], b.as_mut_ptr().cast(), 8);
        libc::close(fds[0]);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        f64::from_le_bytes(b)
    }
}

fn best(runs: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn children_cpu_ms() -> f64 {
    // SAFETY: getrusage writes into the struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU milliseconds of a find|xargs cat pipeline pinned to CPU 0.
fn run_mix() -> f64 {
    use std::os::unix::process::CommandExt;
    let before = children_cpu_ms();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", "find /usr/include -type f | xargs cat > /dev/null"]);
    // SAFETY: pre_exec runs in the child between fork and exec; pin() only
    // calls sched_setaffinity.
    unsafe {
        cmd.pre_exec(|| {
            pin(0);
            Ok(())
        });
    }
    let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        return f64::NAN;
    }
    children_cpu_ms() - before
}

fn stress_ng_rate() -> Option<f64> {
    let out = std::process::Command::new("stress-ng")
        .args([
            "--syscall",
            "1",
            "-t",
            "4",
            "--taskset",
            "0",
            "--metrics-brief",
        ])
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.contains(" syscall ") && l.contains("metrc"))
        .and_then(|l| l.split_whitespace().rev().nth(1)?.parse().ok())
}

#[derive(Default, Clone, Copy)]
struct Row {
    getppid: f64,
    open_close: f64,
    open_read_close: f64,
    mix_ms: f64,
    stress: Option<f64>,
}

fn measure(scale: f64, runs: usize, stress: bool) -> Row {
    Row {
        getppid: best(runs, || {
            run_child(Work::Getppid, Work::Getppid.iters(scale))
        }),
        open_close: best(runs, || {
            run_child(Work::OpenClose, Work::OpenClose.iters(scale))
        }),
        open_read_close: best(runs, || {
            run_child(Work::OpenReadClose, Work::OpenReadClose.iters(scale))
        }),
        mix_ms: best(runs, run_mix),
        stress: if stress { stress_ng_rate() } else { None },
    }
}

struct Consumed {
    events: u64,
    wall: Duration,
    cpu: Duration,
    drops: u64,
    n_evts: u64,
    load_time: Duration,
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes into ts.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Loads the probe in a consumer thread (pinned to CPU 1), runs `work` while
/// it consumes, returns what it saw.
fn with_probe<R>(cfg: LiveConfig, consume: bool, work: impl FnOnce() -> R) -> (R, Consumed) {
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let stop2 = stop.clone();
    let consumer = std::thread::spawn(move || {
        pin(1);
        let mut src = LiveSource::open(&cfg).expect("load probe");
        let load_time = src.probe().load_time();
        let before = src.stats().expect("stats");
        ready_tx.send(()).unwrap();
        let (w0, c0) = (Instant::now(), thread_cpu());
        let mut events = 0u64;
        let mut sink = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            if !consume {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match src.next().expect("next") {
                Next::Event(e) => {
                    events += 1;
                    // what an engine touches first: type and thread
                    sink = sink.wrapping_add(e.event.event_type() as u64 ^ e.event.tid());
                }
                Next::Idle => {}
                Next::End => break,
            }
        }
        std::hint::black_box(sink);
        let after = src.stats().expect("stats");
        Consumed {
            events,
            wall: w0.elapsed(),
            cpu: thread_cpu() - c0,
            drops: after.n_drops() - before.n_drops(),
            n_evts: after.n_evts() - before.n_evts(),
            load_time,
        }
    });
    ready_rx.recv().expect("probe loaded");
    let r = work();
    stop.store(true, Ordering::Relaxed);
    (r, consumer.join().expect("consumer"))
}

/// The real agent: `peregrine` with the default rules, as the README starts
/// it (alerts to /dev/null), measured from outside.
fn peregrine_bin() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("PEREGRINE_BIN") {
        return Some(p.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("target/release/peregrine");
    p.is_file().then_some(p)
}

fn proc_cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // fields 14 and 15 (utime, stime) are 11 and 12 after the comm.
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    t(11) + t(12)
}

fn proc_hwm_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

struct AgentRun {
    consumed: Consumed,
    rss_mb: f64,
}

fn with_agent<R>(bin: &std::path::Path, work: impl FnOnce() -> R) -> (R, AgentRun) {
    use std::io::{BufRead, BufReader};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = std::process::Command::new(bin)
        .current_dir(&root)
        .args([
            "-r",
            "rules/peregrine_rules.yaml",
            "-o",
            "webserver.enabled=false",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start peregrine");
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("peregrine did not start");
        if line.contains("live detection started") {
            break;
        }
    }
    let (w0, c0) = (Instant::now(), proc_cpu_ticks(pid));
    let r = work();
    // Let it drain what the workload produced.
    std::thread::sleep(Duration::from_millis(200));
    let wall = w0.elapsed();
    let ticks = proc_cpu_ticks(pid) - c0;
    let rss_mb = proc_hwm_mb(pid);
    // SAFETY: kill(2) on our child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let _ = child.wait();
    let _ = reader.join();
    let mut consumed = Consumed {
        events: 0,
        wall,
        cpu: Duration::from_secs_f64(ticks as f64 / 100.0),
        drops: 0,
        n_evts: 0,
        load_time: Duration::ZERO,
    };
    for line in rx.try_iter() {
        // "Events seen by the probe: N (R/s), delivered: D, dropped: X (buffer full: Y)"
        if let Some(rest) = line.strip_prefix("Events seen by the probe: ") {
            let num = |key: &str| {
                rest.split_once(key)
                    .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
                    .unwrap_or(0u64)
            };
            consumed.n_evts = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            consumed.events = num("delivered: ");
            consumed.drops = num("dropped: ");
        }
    }
    (r, AgentRun { consumed, rss_mb })
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
        .unwrap_or(false);
    if !root || !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        println!("live bench: SKIPPED (needs root and BTF)");
        return;
    }
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // stress-ng --syscall runs few syscalls per second and is noisy on a
    // shared machine; opt in with BENCH_STRESS=1.
    let stress = std::env::var_os("BENCH_STRESS").is_some()
        && std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("stress-ng").is_file()))
            .unwrap_or(false);
    let interest = default_interest();
    println!(
        "live bench: {} syscalls wanted (Falco rules' evt.types + state set); {} rounds, configurations \
         interleaved in each round, fastest run kept",
        interest.len(),
        runs
    );
    // (design, hooks, probe config); the agent row has no probe config.
    let mut configs: Vec<(&str, &str, Option<LiveConfig>)> = vec![("-", "none", None)];
    for design in [Design::Dispatch, Design::Tracepoint] {
        let name = match design {
            Design::Dispatch => "A:dispatch",
            Design::Tracepoint => "B:tracept",
        };
        let mut cfg = LiveConfig::default();
        cfg.probe.design = design;
        cfg.probe.interest = interest;
        cfg.probe.wakeup = Wakeup::Never;
        cfg.scan_proc = false;
        let mut floor = cfg.clone();
        floor.probe.floor = true;
        configs.push((name, "empty", Some(floor)));
        configs.push((name, "probe", Some(cfg.clone())));
        if design == Design::Dispatch {
            let mut w = cfg.clone();
            w.probe.wakeup = Wakeup::Adaptive;
            configs.push((name, "probe+w", Some(w)));
            let mut shared = cfg.clone();
            shared.probe.shared_ring = true;
            configs.push((name, "probe+1r", Some(shared)));
        }
    }
    let agent_bin = peregrine_bin();
    match &agent_bin {
        Some(_) => configs.push(("B:tracept", "agent", None)),
        None => println!(
            "(no target/release/peregrine: build it for the agent row, or set PEREGRINE_BIN)"
        ),
    }
    let mut agent_rss = 0f64;
    let n = configs.len();
    let mut rows = vec![
        Row {
            getppid: f64::INFINITY,
            open_close: f64::INFINITY,
            open_read_close: f64::INFINITY,
            mix_ms: f64::INFINITY,
            stress: None,
        };
        n
    ];
    let mut seen: Vec<Option<Consumed>> = (0..n).map(|_| None).collect();
    for round in 0..runs {
        let last = round + 1 == runs;
        for (i, (_, _, cfg)) in configs.iter().enumerate() {
            let run = || measure(scale, 1, stress && last);
            let (r, c) = match cfg {
                None if configs[i].1 == "agent" => {
                    let bin = agent_bin.as_deref().expect("agent binary");
                    let (r, a) = with_agent(bin, run);
                    agent_rss = agent_rss.max(a.rss_mb);
                    (r, Some(a.consumed))
                }
                None => (run(), None),
                Some(cfg) => {
                    let consume = !cfg.probe.floor;
                    let (r, c) = with_probe(cfg.clone(), consume, run);
                    (r, if consume { Some(c) } else { None })
                }
            };
            let row = &mut rows[i];
            row.getppid = row.getppid.min(r.getppid);
            row.open_close = row.open_close.min(r.open_close);
            row.open_read_close = row.open_read_close.min(r.open_read_close);
            row.mix_ms = row.mix_ms.min(r.mix_ms);
            if r.stress.is_some() {
                row.stress = r.stress;
            }
            if let Some(c) = c {
                let acc = seen[i].get_or_insert(Consumed {
                    events: 0,
                    wall: Duration::ZERO,
                    cpu: Duration::ZERO,
                    drops: 0,
                    n_evts: 0,
                    load_time: Duration::ZERO,
                });
                acc.events += c.events;
                acc.wall += c.wall;
                acc.cpu += c.cpu;
                acc.drops += c.drops;
                acc.n_evts += c.n_evts;
                acc.load_time = acc.load_time.max(c.load_time);
            }
        }
        eprint!(".");
    }
    eprintln!();
    let none = rows[0];
    let fmt_stress = |r: &Row| r.stress.map(|v| format!("{v:.0}")).unwrap_or("-".into());
    println!();
    println!(
        "{:<11} {:<8} {:>9} {:>11} {:>16} {:>9} {:>11} {:>8} {:>8} {:>8} {:>9} {:>6} {:>6}",
        "design",
        "hooks",
        "getppid",
        "open+close",
        "open+read+close",
        "find+cat",
        "stress-ng/s",
        "+ns/sys",
        "oc×none",
        "oc×floor",
        "events/s",
        "drops",
        "cpu%"
    );
    let mut floor = none;
    for (i, (design, hooks, _)) in configs.iter().enumerate() {
        let r = &rows[i];
        if *hooks == "empty" {
            floor = *r;
        }
        let consumer = match &seen[i] {
            Some(c) => {
                let secs = c.wall.as_secs_f64().max(1e-9);
                format!(
                    "{:>8.2} {:>9.0} {:>6} {:>5.1}%",
                    r.open_close / floor.open_close,
                    c.events as f64 / secs,
                    c.drops,
                    100.0 * c.cpu.as_secs_f64() / secs
                )
            }
            None => String::new(),
        };
        println!(
            "{:<11} {:<8} {:>7.1}ns {:>9.1}ns {:>14.1}ns {:>7.0}ms {:>11} {:>8.1} {:>8.2} {}",
            design,
            hooks,
            r.getppid,
            r.open_close,
            r.open_read_close,
            r.mix_ms,
            fmt_stress(r),
            r.getppid - none.getppid,
            r.open_close / none.open_close,
            consumer
        );
    }
    if let Some(c) = seen.iter().flatten().next() {
        println!("probe load time (verification), worst: {:?}", c.load_time);
    }
    if agent_rss > 0.0 {
        println!("agent (peregrine, default rules): peak RSS {agent_rss:.1} MB; its events/s, drops and cpu% are from its own summary and /proc");
    }
    println!();
    println!(
        "peak RSS of this process (probe, rings, consumer): {:.1} MB",
        peak_rss_mb()
    );
    println!(
        "hooks: none = nothing attached; empty = same hooks, programs return at once (the floor);"
    );
    println!("       probe = real probe, consumer polls the rings (no kernel wakeups);");
    println!(
        "       probe+w = the kernel wakes the consumer; probe+1r = one ring shared by all CPUs"
    );
    println!("       agent = the peregrine binary with rules/peregrine_rules.yaml (default config), oc×floor against B's floor");
    println!(
        "times are CPU time per iteration of the workload (not wall time: the machine is shared)"
    );
    println!("+ns/sys: getppid cost over nothing attached; oc×: open+close time over none / over the floor");
    println!("events/s: delivered to the consumer while the workloads ran; cpu%: consumer thread");
    println!("Falco 0.44 to beat: +25 ns per uninteresting syscall, open+close 1.75x, ~83% of a core, 50 MB RSS, no drops");
}
