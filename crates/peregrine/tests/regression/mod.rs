//! The regression runner: reads the suite's cases, runs `peregrine` for each
//! and checks the outcome as Falco's old runner did.

mod checks;
pub mod oracle;
pub mod schema;

use checks::{check_case, rule_counts, SCHEMA_CHECKED};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peregrine_yaml::Node;
use serde_json::Value;

/// Cases where Falco 0.44.1 itself no longer gives the suite's 2023 answer;
/// Peregrine follows current Falco. Each is still run, and must still
/// differ: a case that starts passing must leave this table.
pub const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "disabled_rules_using_substring",
        "Falco 0.44 selects rules to disable by name pattern (`rules[].disable.rule`), no longer by substring (`-D`)",
    ),
    (
        "disabled_and_enabled_rules_1",
        "Falco 0.44 applies enable/disable selections in order; combining them is no longer an error",
    ),
    (
        "disabled_and_enabled_rules_2",
        "Falco 0.44 applies enable/disable selections in order; combining them is no longer an error",
    ),
    (
        "grpc_unix_socket_outputs",
        "Falco 0.44 dropped the gRPC server and output (falco 43aaffc4): with gRPC its only output, the conf enables none, and Falco 0.44 and Peregrine both stop with 'No output configured'",
    ),
];

/// Falco 0.44 evaluates only exit events (an old capture's enter event is
/// folded into its exit and dropped; see the conformance README), so where
/// the 2023 suite counted both halves of a syscall the count halves:
/// (case, rule, Falco 0.44's count). Expected output files keep, likewise,
/// only the exit half of each enter/exit pair of lines.
pub const FALCO_044_EXIT_ONLY: &[(&str, &str, i64)] = &[
    (
        "rule_names_with_regex_chars",
        "Open From Cat ($\\.*+?()[]{}|^)",
        4,
    ),
    ("multiple_rules_suppress_info", "open_from_cat", 4),
    ("catchall_order", "dev_null", 3),
];

/// Falco 0.44's count for `rule` in `case` when it differs from the suite's.
pub fn exit_only_count(case: &str, rule: &str) -> Option<i64> {
    FALCO_044_EXIT_ONLY
        .iter()
        .find(|(c, r, _)| *c == case && *r == rule)
        .map(|(_, _, n)| *n)
}

/// Validation messages and codes Falco 0.44.1 words differently from the
/// 2023 suite (case, old text, Falco 0.44.1's text, from its rule loader and
/// libsinsp 0.25). The case is checked against the new wording: code, item
/// type and name are unchanged.
pub const FALCO_044_WORDING: &[(&str, &str, &str)] = &[
    (
        "invalid_engine_version_not_number",
        "Can't decode YAML scalar value",
        "Unable to parse engine version 'not-a-number' as a semver string. Expected \"x.y.z\" semver format.",
    ),
    (
        "invalid_append_macro_dangling",
        "Macro has 'append' key but no macro by that name already exists",
        "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
    ),
    (
        "invalid_list_append_dangling",
        "List has 'append' key but no list by that name already exists",
        "List uses 'append' or 'override.items: append' but no list by that name already exists",
    ),
    (
        "invalid_rule_append_dangling",
        "Rule has 'append' key but no rule by that name already exists",
        "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
    ),
    (
        "invalid_rule_output",
        "invalid formatting token not_a_real_field",
        "unknown filter: unexpected token after '",
    ),
    (
        "validate_skip_unknown_noevt",
        "LOAD_UNKNOWN_FIELD",
        "LOAD_UNKNOWN_FILTER",
    ),
    (
        "engine_version_mismatch",
        "Rules require engine version 9999999, but engine version is",
        "Rules require engine version 0.9999999.0, but engine version is",
    ),
];

fn reworded(case: &str, text: &str) -> String {
    FALCO_044_WORDING
        .iter()
        .find(|(c, old, _)| *c == case && *old == text)
        .map(|(_, _, new)| new.to_string())
        .unwrap_or_else(|| text.to_string())
}

/// A case of the suite: its name and its YAML mapping.
pub struct Case {
    pub name: String,
    pub node: Node,
}

impl Case {
    fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key)
    }
    fn str(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|n| n.as_str()).map(str::to_string)
    }
    fn bool(&self, key: &str, default: bool) -> bool {
        self.get(key).and_then(Node::as_bool).unwrap_or(default)
    }
    /// A scalar or a sequence of scalars, as the old runner accepted both.
    fn strs(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            None => Vec::new(),
            Some(n) => match n.as_seq() {
                Some(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                None => n
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default(),
            },
        }
    }
    fn has_validate(&self) -> bool {
        self.get("validate_rules_file").is_some()
    }
}

fn suite_dir() -> Option<PathBuf> {
    peregrine_testkit::conformance("falco-regression")
}

/// The cases of one suite file, in file order.
pub fn cases(file: &str) -> Option<Vec<Case>> {
    let dir = suite_dir()?;
    let text = std::fs::read_to_string(dir.join(file)).expect("read suite file");
    let docs = peregrine_yaml::parse(&text).expect("suite file is YAML");
    let top = docs[0].get("trace_files").expect("trace_files: !mux");
    let map = top.as_map().expect("cases mapping");
    Some(
        map.iter()
            .map(|(k, v)| Case {
                name: k.as_str().unwrap_or_default().to_string(),
                node: v.clone(),
            })
            .collect(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Cases that replay a capture (no `validate_rules_file`).
    Detection,
    /// Cases that validate rules files (`-V`).
    Validation,
    All,
}

/// Why a case cannot run here, if it cannot.
fn skip_reason(dir: &Path, case: &Case) -> Option<String> {
    if let Some(t) = case.str("trace_file") {
        if !t.starts_with("trace_files/") || !dir.join(&t).is_file() {
            return Some(format!(
                "trace file {t} is not one of the committed captures (it was downloaded at test time)"
            ));
        }
    }
    if case.get("package").is_some() {
        return Some("installs a Falco package".into());
    }
    None
}

/// What one run of the binary gave.
pub struct RunOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub cmdline: String,
    /// Files named by `output_strictly_contains`, after the run.
    pub files: BTreeMap<String, String>,
}

/// Per-run scratch directory: outputs the confs write to `/tmp/falco_outputs/`
/// go here instead, so concurrent runs never share files.
fn scratch(case: &str) -> PathBuf {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!(
        "peregrine-regress-{}-{n}-{case}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

const FALCO_OUTPUTS: &str = "/tmp/falco_outputs/";

fn remap_output_path(p: &str, scratch: &Path) -> PathBuf {
    match p.strip_prefix(FALCO_OUTPUTS) {
        Some(rest) => scratch.join(rest),
        None => PathBuf::from(p),
    }
}

/// How to spell the command line.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Spelling {
    /// `-e FILE` and `-A` instead of `-o engine.kind=replay …` and
    /// `-o base_syscalls.all=true`.
    pub classic: bool,
    /// `-o json_output=true` whatever the case says.
    pub force_json: bool,
}

/// The command line Falco's runner built, in Falco 0.44's spelling (or the
/// classic one).
fn build_args(dir: &Path, case: &Case, scratch: &Path, spelling: Spelling) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let validate = case.strs("validate_rules_file");
    for f in &validate {
        args.push("-V".into());
        args.push(dir.join(f).display().to_string());
    }
    let mut rules = case.strs("rules_file");
    if rules.is_empty() && validate.is_empty() {
        // The runner's default: Falco's own rules of the time.
        rules.push("../falco-rules/falco_rules.yaml".into());
    }
    for f in &rules {
        args.push("-r".into());
        args.push(dir.join(f).display().to_string());
    }
    // The runner's default config was Falco's falco.yaml; the suite's confs
    // write to /tmp/falco_outputs, remapped to this run's scratch directory.
    let conf = match case.str("conf_file") {
        Some(c) => {
            let text = std::fs::read_to_string(dir.join(&c)).expect("read conf");
            let text = text.replace(FALCO_OUTPUTS, &format!("{}/", scratch.display()));
            let p = scratch.join("falco.yaml");
            std::fs::write(&p, text).expect("write conf");
            p
        }
        None => dir.join("../falco-config/falco.yaml"),
    };
    args.push("-c".into());
    args.push(conf.display().to_string());
    if let Some(t) = case.str("trace_file") {
        if spelling.classic {
            args.push("-e".into());
            args.push(dir.join(t).display().to_string());
        } else {
            args.push("-o".into());
            args.push("engine.kind=replay".into());
            args.push("-o".into());
            args.push(format!(
                "engine.replay.capture_file={}",
                dir.join(t).display()
            ));
        }
    }
    // -D / -T / -t, applied in that order as Falco 0.44 selections; `-t`
    // (run only these tags) is "disable everything, enable the tags".
    let mut sel = Vec::new();
    for r in case.strs("disabled_rules") {
        sel.push(format!("disable.rule={r}"));
    }
    for t in case.strs("disable_tags") {
        sel.push(format!("disable.tag={t}"));
    }
    let run_tags = case.strs("run_tags");
    if !run_tags.is_empty() {
        sel.push("disable.rule=*".into());
        for t in run_tags {
            sel.push(format!("enable.tag={t}"));
        }
    }
    for (i, s) in sel.iter().enumerate() {
        args.push("-o".into());
        args.push(format!("rules[{i}].{s}"));
    }
    let json = !validate.is_empty() || case.bool("json_output", false) || spelling.force_json;
    for (k, v) in [
        ("json_output", json),
        (
            "json_include_output_property",
            case.bool("json_include_output_property", true),
        ),
        (
            "json_include_tags_property",
            case.bool("json_include_tags_property", true),
        ),
    ] {
        args.push("-o".into());
        args.push(format!("{k}={v}"));
    }
    args.push("-o".into());
    args.push(format!(
        "priority={}",
        case.str("priority").unwrap_or_else(|| "debug".into())
    ));
    args.push("-v".into());
    for s in case.strs("enable_source") {
        args.push(format!("--enable-source={s}"));
    }
    if let Some(o) = case.str("addl_cmdline_opts") {
        args.extend(o.split_whitespace().map(str::to_string));
    }
    if let Some(d) = case.get("run_duration").and_then(Node::as_i64) {
        args.push("-M".into());
        args.push(d.to_string());
    }
    if case.bool("all_events", false) {
        if spelling.classic {
            args.push("-A".into());
        } else {
            args.push("-o".into());
            args.push("base_syscalls.all=true".into());
        }
    }
    if case.bool("time_iso_8601", false) {
        args.push("-o".into());
        args.push("time_format_iso_8601=true".into());
    }
    args
}

fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

pub fn run_case(dir: &Path, case: &Case, spelling: Spelling) -> RunOutput {
    let scratch = scratch(&case.name);
    let args = build_args(dir, case, &scratch, spelling);
    let mut child = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(&args)
        .env("FALCO_HOSTNAME", "test-falco-hostname")
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn peregrine");
    let out = read_all(child.stdout.take().expect("stdout"));
    let err = read_all(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + Duration::from_secs(180);
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut files = BTreeMap::new();
    for (actual, _) in strictly_contains(case) {
        if actual != "stdout" {
            let p = remap_output_path(&actual, &scratch);
            files.insert(actual, std::fs::read_to_string(p).unwrap_or_default());
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    RunOutput {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        cmdline: format!("peregrine {}", args.join(" ")),
        files,
    }
}

/// `output_strictly_contains` pairs: (actual: `stdout` or a file, expected file).
fn strictly_contains(case: &Case) -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let Some(items) = case.get("output_strictly_contains").and_then(Node::as_seq) {
        for item in items {
            for (k, e) in item.as_map().unwrap_or_default() {
                if let (Some(k), Some(e)) = (k.as_str(), e.as_str()) {
                    v.push((k.to_string(), e.to_string()));
                }
            }
        }
    }
    v
}

/// Runs the family's cases of `file`; panics naming every failing case with
/// expected vs actual, after printing the tally.
pub fn run_family(file: &str, family: Family, spelling: Spelling) {
    let Some(dir) = suite_dir() else {
        return;
    };
    let all = cases(file).expect("suite");
    let schema = schema::load();
    let (mut passed, mut known, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &all {
        let in_family = match family {
            Family::Detection => !case.has_validate(),
            Family::Validation => case.has_validate(),
            Family::All => true,
        };
        if !in_family {
            continue;
        }
        if let Some(why) = skip_reason(&dir, case) {
            println!("SKIPPED {}: {why}", case.name);
            skipped += 1;
            continue;
        }
        ran += 1;
        let out = run_case(&dir, case, spelling);
        let fails = check_case(&dir, case, &out, &schema);
        let known_diff = KNOWN_DIFFERENCES.iter().find(|(n, _)| *n == case.name);
        match (known_diff, fails.is_empty()) {
            (None, true) => passed += 1,
            (Some((_, why)), false) => {
                println!("KNOWN DIFFERENCE {}: {why} ({})", case.name, fails.join("; "));
                known += 1;
            }
            (Some(_), true) => failures.push(format!(
                "case {} passes but is listed in KNOWN_DIFFERENCES: remove it from the table",
                case.name
            )),
            (None, false) => failures.push(format!(
                "case {} FAILED\n  command: {}\n  exit: {}\n  {}\n  --- stdout (first 40 lines)\n{}\n  --- stderr (first 40 lines)\n{}",
                case.name,
                out.cmdline,
                out.code,
                fails.join("\n  "),
                out.stdout.lines().take(40).collect::<Vec<_>>().join("\n"),
                out.stderr.lines().take(40).collect::<Vec<_>>().join("\n"),
            )),
        }
    }
    println!(
        "{file} ({}{}): ran {ran}, passed {passed}, known different {known}, skipped {skipped}, failed {}; {} JSON alerts schema-checked",
        match family {
            Family::Detection => "detection",
            Family::Validation => "validation",
            Family::All => "all",
        },
        if spelling.classic { ", classic flags" } else { "" },
        failures.len(),
        SCHEMA_CHECKED.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(ran > 0, "no case of {file} ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs every runnable replay case of `file` with `json_output` forced on:
/// each alert line must validate against `schemas/alert.schema.json`, and
/// rule alerts on stdout must be exactly as many, per rule, as the summary
/// counts (outputs neither lose nor invent alerts). Returns the number of
/// alerts checked.
pub fn json_alerts_of_every_case(file: &str) -> usize {
    let Some(dir) = suite_dir() else {
        return 0;
    };
    let schema = schema::load();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases(file).expect("suite") {
        let expected_exit = case.get("exit_status").and_then(Node::as_i64).unwrap_or(0);
        if case.has_validate()
            || expected_exit != 0
            || skip_reason(&dir, &case).is_some()
            || KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == case.name)
        {
            continue;
        }
        let spelling = Spelling {
            force_json: true,
            ..Spelling::default()
        };
        let out = run_case(&dir, &case, spelling);
        let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
        for line in out.stdout.lines().filter(|l| l.starts_with('{')) {
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: not JSON ({e}): {line}", case.name));
                    continue;
                }
            };
            let errs = schema::validate(&schema, &v);
            if !errs.is_empty() {
                failures.push(format!("{}: {errs:?}: {line}", case.name));
            }
            checked += 1;
            if v["source"] != "internal" {
                *per_rule
                    .entry(v["rule"].as_str().unwrap_or_default().to_string())
                    .or_default() += 1;
            }
        }
        let counted: BTreeMap<String, u64> = rule_counts(&out.stdout)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        if counted != per_rule {
            failures.push(format!(
                "{}: alerts per rule on stdout {per_rule:?}, summary counts {counted:?}",
                case.name
            ));
        }
    }
    println!("{file}: {checked} JSON alerts checked against the schema");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    checked
}
