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

#[path = "live_rules/containers.rs"]
mod containers;
#[path = "live_rules/host_files.rs"]
mod host_files;
#[path = "live_rules/host_procs.rs"]
mod host_procs;
#[path = "live_rules/network.rs"]
mod network;

use std::thread;
use std::time::{Duration, Instant};

use live_support::{field, run, Container, Peregrine, PodmanService, Scratch};
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

    host_files::host_files(&mut s, &w, &text);
    host_procs::host_processes(&mut s, &w);
    network::host_network(&mut s, &w);
    host_procs::host_more(&mut s, &w);
    containers::containers(&mut s, &plain, &privileged, &text);

    s.check_forbidden();
    let (passed, failures) = (s.passed, s.failures);
    drop(plain);
    drop(privileged);
    let (code, _, summary) = json.stop();
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

/// The bar for the headline behaviours: the alert within one second
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
