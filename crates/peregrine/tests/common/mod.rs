//! A running `peregrine` agent for live tests: started with arguments,
//! its stdout/stderr lines collected, stopped with SIGTERM.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_peregrine");

/// A running `peregrine` whose stdout/stderr lines are collected.
pub struct Agent {
    pub child: Child,
    pub out: Arc<Mutex<Vec<String>>>,
    pub err: Arc<Mutex<Vec<String>>>,
}

fn collect(r: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    lines
}

impl Agent {
    pub fn start(args: &[&str]) -> Agent {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn peregrine");
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        let a = Agent { child, out, err };
        assert!(
            a.wait_err("live detection started", Duration::from_secs(30)),
            "agent did not start: {:?}",
            a.err.lock().unwrap()
        );
        a
    }

    pub fn wait_line(lines: &Mutex<Vec<String>>, needle: &str, within: Duration) -> bool {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if lines.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn wait_out(&self, needle: &str, within: Duration) -> bool {
        Self::wait_line(&self.out, needle, within)
    }

    pub fn wait_err(&self, needle: &str, within: Duration) -> bool {
        Self::wait_line(&self.err, needle, within)
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: plain kill(2) on our child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM, wait for exit; returns (exit code, stdout, stderr).
    pub fn stop(mut self) -> (i32, Vec<String>, Vec<String>) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(100));
        let out = self.out.lock().unwrap().clone();
        let err = self.err.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out, err)
    }
}

/// The first collected line that parses as a JSON alert of `rule` and
/// satisfies `pred`.
pub fn find_alert(
    lines: &Mutex<Vec<String>>,
    rule: &str,
    within: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let end = Instant::now() + within;
    loop {
        let found = lines.lock().unwrap().iter().find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            (v["rule"] == rule && pred(&v)).then_some(v)
        });
        if found.is_some() || Instant::now() >= end {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
