//! The regression runner: reads the suite's cases, runs `peregrine` for each
//! and checks the outcome as Falco's old runner did.

pub mod schema;

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

/// Python-`re` patterns of the suite in Rust's regex dialect. The only
/// construct Rust lacks is the leading negative lookahead `^(?!.*X.*)`
/// (with DOTALL: X occurs nowhere), returned as `(false, X)`.
fn pattern(p: &str, dotall: bool) -> (bool, regex::Regex) {
    let (positive, body) = match p.strip_prefix("^(?!").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (
            false,
            inner
                .trim_start_matches(".*")
                .trim_end_matches(".*")
                .to_string(),
        ),
        None => (true, p.to_string()),
    };
    let flags = if dotall { "(?s)" } else { "" };
    let re = regex::Regex::new(&format!("{flags}{body}"))
        .unwrap_or_else(|e| panic!("pattern {p:?}: {e}"));
    (positive, re)
}

fn contains(text: &str, p: &str, dotall: bool) -> bool {
    let (positive, re) = pattern(p, dotall);
    re.is_match(text) == positive
}

fn validate_json(out: &RunOutput) -> Result<Value, String> {
    let first = out.stdout.lines().next().unwrap_or("");
    serde_json::from_str(first).map_err(|e| format!("first stdout line is not JSON ({e}): {first}"))
}

/// Expected validation errors/warnings: `kind` is `errors` or `warnings`.
fn check_validate_items(case: &Case, out: &RunOutput, key: &str, kind: &str, f: &mut Vec<String>) {
    let Some(items) = case.get(key).and_then(Node::as_seq) else {
        return;
    };
    let v = match validate_json(out) {
        Ok(v) => v,
        Err(e) => return f.push(e),
    };
    let empty = Vec::new();
    let results = v["falco_load_results"].as_array().unwrap_or(&empty);
    for exp in items {
        let g = |k: &str| {
            exp.get(k)
                .and_then(Node::as_str)
                .map(|s| reworded(&case.name, s))
        };
        let (code, ty, name) = (
            g("code").unwrap_or_default(),
            g("item_type").unwrap_or_default(),
            g("item_name").unwrap_or_default(),
        );
        let msg = g("message");
        let msg_contains = g("message_contains");
        let (msg, msg_contains) = (msg.as_deref(), msg_contains.as_deref());
        let found = results.iter().any(|r| {
            r[kind].as_array().unwrap_or(&empty).iter().any(|e| {
                let m = e["message"].as_str().unwrap_or("");
                e["code"] == code.as_str()
                    && (msg == Some(m) || msg_contains.is_some_and(|c| m.contains(c)))
                    && e["context"]["locations"]
                        .as_array()
                        .unwrap_or(&empty)
                        .iter()
                        .any(|l| l["item_type"] == ty.as_str() && l["item_name"] == name.as_str())
            })
        });
        if !found {
            f.push(format!(
                "{kind}: expected {code} for {ty} '{name}' with message {}; actual {kind}: {}",
                msg.map(|m| format!("{m:?}"))
                    .unwrap_or_else(|| format!("containing {:?}", msg_contains.unwrap_or(""))),
                Value::Array(
                    results
                        .iter()
                        .flat_map(|r| r[kind].as_array().cloned().unwrap_or_default())
                        .collect()
                )
            ));
        }
    }
}

/// "Triggered rules by rule name:" counts.
fn rule_counts(stdout: &str) -> Option<BTreeMap<String, u64>> {
    let at = stdout.find("Triggered rules by rule name:")?;
    let mut m = BTreeMap::new();
    for line in stdout[at..].lines().skip(1) {
        if !line.starts_with(char::is_whitespace) {
            continue;
        }
        if let Some((name, n)) = line.trim_start().rsplit_once(": ") {
            if let Ok(n) = n.trim().parse() {
                m.insert(name.to_string(), n);
            }
        }
    }
    Some(m)
}

/// Keys sorted recursively, as nlohmann's `json::dump` writes objects.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `line` is the compact form of `actual` (no reformatting), and equals
/// `want` once `hostname` is removed.
fn same_json_text(actual: Value, line: &str, want: &str) -> bool {
    let compact: String = actual.to_string();
    let rest: String = without_hostname(actual).to_string();
    compact == line && rest == want
}

fn without_hostname(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.shift_remove("hostname");
    }
    v
}

/// Checks `actual` holds the expected lines in order (the runner's
/// "strictly contains"). For JSON alerts a line matches when it is, apart
/// from `hostname`, byte for byte what Falco 0.44 writes for the expected
/// object: keys in nlohmann's sorted order, same value types, same text.
/// (The 2023 file has `output_fields` grafted last, as Falco then did.)
fn check_strictly_contains(dir: &Path, actual: &str, expected_file: &str, f: &mut Vec<String>) {
    let path = dir.join(expected_file);
    let json_path = path.with_extension("json");
    let (expected, is_json): (Vec<String>, bool) = if expected_file.ends_with(".json") {
        let text = std::fs::read_to_string(&path).expect("read expected json");
        (text.lines().map(str::to_string).collect(), true)
    } else if let Ok(text) = std::fs::read_to_string(&path) {
        (text.lines().map(str::to_string).collect(), false)
    } else {
        // The .txt beside the .json was not copied into the conformance
        // data; upstream it is exactly the `output` of each JSON line.
        let text = std::fs::read_to_string(&json_path).expect("read expected json");
        let lines = text
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("expected json line");
                v["output"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        (lines, false)
    };
    if expected.is_empty() {
        return f.push(format!("{expected_file}: no expected lines"));
    }
    let mut cursor = 0;
    let lines: Vec<&str> = actual.lines().collect();
    for exp in &expected {
        let hit = if is_json {
            let e: Value = serde_json::from_str(exp).expect("expected json line");
            let want = sorted(&without_hostname(e)).to_string();
            lines[cursor..].iter().position(|l| {
                serde_json::from_str::<Value>(l).is_ok_and(|a| same_json_text(a, l, &want))
            })
        } else {
            lines[cursor..]
                .iter()
                .position(|l| l.contains(exp.as_str()))
        };
        match hit {
            Some(i) => cursor += i + 1,
            None => {
                let want = if is_json {
                    serde_json::from_str::<Value>(exp)
                        .map(|e| sorted(&without_hostname(e)).to_string())
                        .unwrap_or_default()
                } else {
                    exp.clone()
                };
                return f.push(format!(
                    "output does not strictly contain {expected_file}: expected line\n  {want}\nnot found after line {cursor} of actual:\n{}",
                    lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
                ));
            }
        }
    }
}

/// Every failure of `out` against the case's expectations.
pub fn check_case(dir: &Path, case: &Case, out: &RunOutput, schema: &Value) -> Vec<String> {
    let mut f = Vec::new();
    if let Some(s) = case.str("stdout_is") {
        if s != out.stdout {
            f.push(format!(
                "stdout_is: expected {s:?}, actual {:?}",
                out.stdout
            ));
        }
    }
    for p in case.strs("stderr_contains") {
        if !contains(&out.stderr, &p, true) {
            f.push(format!("stderr does not match {p:?}"));
        }
    }
    for p in case.strs("stdout_contains") {
        if !contains(&out.stdout, &p, true) {
            f.push(format!("stdout does not match {p:?}"));
        }
    }
    for p in case.strs("stderr_not_contains") {
        if contains(&out.stderr, &p, false) {
            f.push(format!("stderr matches {p:?} but should not"));
        }
    }
    for p in case.strs("stdout_not_contains") {
        if contains(&out.stdout, &p, false) {
            f.push(format!("stdout matches {p:?} but should not"));
        }
    }
    let want_exit = case.get("exit_status").and_then(Node::as_i64).unwrap_or(0);
    if i64::from(out.code) != want_exit {
        f.push(format!(
            "exit status: expected {want_exit}, actual {}",
            out.code
        ));
    }
    if case.get("validate_ok").is_some() {
        match validate_json(out) {
            Err(e) => f.push(e),
            Ok(v) => {
                for ok in case.strs("validate_ok") {
                    let found = v["falco_load_results"].as_array().is_some_and(|rs| {
                        rs.iter().any(|r| {
                            r["successful"] == true
                                && r["name"].as_str().is_some_and(|n| {
                                    Path::new(n).file_name().and_then(|b| b.to_str())
                                        == Some(ok.as_str())
                                })
                        })
                    });
                    if !found {
                        f.push(format!("validate_ok: no successful result for {ok}"));
                    }
                }
            }
        }
    }
    check_validate_items(case, out, "validate_errors", "errors", &mut f);
    check_validate_items(case, out, "validate_warnings", "warnings", &mut f);
    if case.get("grpc").is_some() {
        f.push("grpc: no gRPC output to query".into());
    }
    if out.code != 0 {
        return f;
    }
    if !case.has_validate() {
        check_detections(case, out, &mut f);
        check_json_alerts(case, out, schema, &mut f);
    }
    for (actual, expected) in strictly_contains(case) {
        let text = if actual == "stdout" {
            out.stdout.as_str()
        } else {
            out.files.get(&actual).map(String::as_str).unwrap_or("")
        };
        check_strictly_contains(dir, text, &expected, &mut f);
    }
    f
}

fn check_detections(case: &Case, out: &RunOutput, f: &mut Vec<String>) {
    let detected = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Events detected: "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    let Some(detected) = detected else {
        return f.push("no line 'Events detected: <count>' on stdout".into());
    };
    if case.bool("detect", false) {
        if detected == 0 {
            f.push("detect: expected detections, actual 0".into());
        }
        for level in case.strs("detect_level") {
            let re = regex::Regex::new(&format!("(?i){}: (\\d+)", regex::escape(&level)))
                .expect("level regex");
            match re
                .captures(&out.stdout)
                .and_then(|c| c[1].parse::<u64>().ok())
            {
                Some(n) if n > 0 => {}
                n => f.push(format!(
                    "detect_level {level}: expected a count > 0, actual {n:?}"
                )),
            }
        }
    } else if detected > 0 {
        f.push(format!("detect: expected none, actual {detected}"));
    }
    if let Some(items) = case.get("detect_counts").and_then(Node::as_seq) {
        let counts = rule_counts(&out.stdout).unwrap_or_default();
        for item in items {
            for (k, v) in item.as_map().unwrap_or_default() {
                let rule = k.as_str().unwrap_or_default();
                let want = v.as_i64().unwrap_or(-1);
                let got = counts.get(rule).copied().unwrap_or(0);
                if i64::try_from(got).ok() != Some(want) {
                    f.push(format!(
                        "count of rule '{rule}': expected {want}, actual {got}"
                    ));
                }
            }
        }
    }
}

/// Lines starting with `{` are alerts: they must carry the runner's
/// attributes and validate against the project's alert schema.
fn check_json_alerts(case: &Case, out: &RunOutput, schema: &Value, f: &mut Vec<String>) {
    let mut attrs = vec!["time", "rule", "priority"];
    if case.bool("json_include_output_property", true) {
        attrs.push("output");
    }
    if case.bool("json_include_tags_property", true) {
        attrs.push("tags");
    }
    for line in out.stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                f.push(format!("alert line is not JSON ({e}): {line}"));
                continue;
            }
        };
        let json_case = case.bool("json_output", false);
        if json_case {
            for a in &attrs {
                if v.get(a).is_none() {
                    f.push(format!("JSON alert lacks \"{a}\": {line}"));
                }
            }
        }
        let errs = schema::validate(schema, &v);
        if !errs.is_empty() {
            f.push(format!(
                "JSON alert violates alert.schema.json: {errs:?}: {line}"
            ));
        }
        SCHEMA_CHECKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// JSON alerts validated against the schema so far (this process).
pub static SCHEMA_CHECKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

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
