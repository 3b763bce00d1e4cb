//! The 131 `rules-loader/` cases from Falco's engine unit tests: each
//! `CASE.yaml` is loaded and every fact of `CASE.expect` is checked.

use std::path::Path;

use peregrine_rules::describe::describe;
use peregrine_rules::loader::{ExtraOutput, ExtraOutputField, FileResult, Loader, Options};
use peregrine_rules::ruleset::NameMatch;
use peregrine_rules::FieldRegistry;
use serde_json::Value;

/// Cases added to Falco after 0.44.1 (the "too many evt.type values"
/// heuristic of falco master); they run with the master behaviour.
const POST_0441: [&str; 6] = [
    "evttype_warning_disabled_by_warn_evttypes",
    "evttype_warning_for_broad_condition",
    "no_evttype_warning_for_evt_type_contradiction",
    "no_evttype_warning_for_narrow_condition",
    "no_evttype_warning_for_never_true_macro",
    "no_evttype_warning_for_unsatisfiable_condition",
];

/// Splits `a, "b, c", {"x", "y"}, d` into top-level arguments.
fn args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut in_str, mut depth) = (false, 0);
    for c in s.chars() {
        match c {
            '"' => {
                in_str = !in_str;
                cur.push(c);
            }
            '{' if !in_str => {
                depth += 1;
                cur.push(c);
            }
            '}' if !in_str => {
                depth -= 1;
                cur.push(c);
            }
            ',' if !in_str && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

fn set(s: &str) -> Vec<String> {
    let inner = s.trim().trim_start_matches('{').trim_end_matches('}');
    args(inner)
        .iter()
        .map(|a| unquote(a))
        .filter(|a| !a.is_empty())
        .collect()
}

fn call(line: &str) -> (String, Vec<String>) {
    let open = line.find('(').expect("call");
    let name = line[..open].trim().to_string();
    let inner = &line[open + 1..line.rfind(')').expect("call")];
    (name, args(inner))
}

fn json_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('/') {
        cur = match part.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(part)?,
        };
    }
    Some(cur)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run_case(dir: &Path, case: &str) -> Result<(), String> {
    let yaml =
        std::fs::read_to_string(dir.join(format!("{case}.yaml"))).map_err(|e| e.to_string())?;
    let expect =
        std::fs::read_to_string(dir.join(format!("{case}.expect"))).map_err(|e| e.to_string())?;
    let mut name = "rules.yaml".to_string();
    let mut opts = Options {
        evttype_warning_master: POST_0441.contains(&case),
        ..Options::default()
    };
    let mut plugins: Vec<(String, String)> = Vec::new();
    for line in expect.lines() {
        if let Some(n) = line.strip_prefix("# loaded as: ") {
            name = n.trim().to_string();
        } else if let Some(s) = line.strip_prefix("setup: plugins loaded = ") {
            if s.trim() != "(none)" {
                for p in s.split(',') {
                    let mut it = p.split_whitespace();
                    plugins.push((
                        it.next().unwrap_or("").into(),
                        it.next().unwrap_or("").into(),
                    ));
                }
            }
        } else if let Some(s) = line.strip_prefix("setup: ") {
            let (f, a) = call(s);
            match f.as_str() {
                "add_extra_output_format" => opts.extra_output_formats.push(ExtraOutput {
                    format: unquote(&a[0]),
                    source: unquote(&a[1]),
                    tags: set(&a[2]),
                    rule: unquote(&a[3]),
                }),
                "add_extra_output_formatted_field" => {
                    opts.extra_output_fields.push(ExtraOutputField {
                        key: unquote(&a[0]),
                        format: unquote(&a[1]),
                        source: unquote(&a[2]),
                        tags: set(&a[3]),
                        rule: unquote(&a[4]),
                        raw: false,
                    })
                }
                other => return Err(format!("unknown setup {other}")),
            }
        }
    }
    let mut loader = Loader::with_options(
        vec![FieldRegistry::syscall(), FieldRegistry::k8s_audit()],
        opts,
    );
    let res: FileResult = loader.load(&name, &yaml).clone();
    let contents = loader.contents().clone();
    let mut ruleset = loader.ruleset().cloned();
    let fail = |what: &str| Err(format!("{what}\n{}", res.verbose(&contents)));
    let mut same_warning: Option<usize> = None;
    for line in expect
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, val) = line.split_once(": ").unwrap_or((line, ""));
        match key {
            "load" => match val {
                "ok" if !res.successful => return fail("want load ok"),
                "error" if res.successful => return fail("want load error"),
                _ => {}
            },
            "validation" => {
                let ok = res.schema_validation() == "ok";
                if (val == "ok") != ok {
                    return fail(&format!(
                        "want validation {val}, got {:?}",
                        res.schema_status
                    ));
                }
            }
            "error" => {
                if !res.errors.iter().any(|e| e.message.contains(val)) {
                    return fail(&format!("no error containing {val:?}"));
                }
            }
            "warning" => {
                if !res.warnings.iter().any(|w| w.message.contains(val)) {
                    return fail(&format!("no warning containing {val:?}"));
                }
            }
            "no-warning" => {
                if res.warnings.iter().any(|w| w.message.contains(val)) {
                    return fail(&format!("unexpected warning containing {val:?}"));
                }
            }
            "warnings" => {
                if (val == "some") != res.has_warnings() {
                    return fail(&format!("want warnings: {val}"));
                }
            }
            "requirements" => {
                let refs: Vec<(&str, &str)> = plugins
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                let ok = res.successful && loader.check_plugin_requirements(&refs).is_ok();
                if val.starts_with("satisfied") != ok {
                    return fail(&format!("want requirements {val}"));
                }
            }
            "error-snippet[0] contains" => {
                let snip = res
                    .errors
                    .first()
                    .map(|e| e.context.snippet(&contents))
                    .unwrap_or_default();
                if !snip.contains(val) {
                    return fail(&format!("error snippet {snip:?} lacks {val:?}"));
                }
            }
            k if k.starts_with("warning-snippet") => {
                let idx = if k.contains("(of a warning whose snippet contains evt.dir)") {
                    res.warnings
                        .iter()
                        .position(|w| w.context.snippet(&contents).contains("evt.dir"))
                } else if k.contains("(first warning with code LOAD_DEPRECATED_ITEM)") {
                    res.warnings
                        .iter()
                        .position(|w| w.code.code() == "LOAD_DEPRECATED_ITEM")
                } else {
                    same_warning
                };
                same_warning = idx;
                let Some(i) = idx else {
                    return fail(&format!("no warning for {k}"));
                };
                let snip = res.warnings[i].context.snippet(&contents);
                let contains = snip.contains(val);
                if k.ends_with("does not contain") == contains {
                    return fail(&format!("warning snippet {snip:?} vs {k} {val:?}"));
                }
            }
            k if k.starts_with("compiled_condition[")
                || k.starts_with("compiled_output[")
                || k.starts_with("formatted_fields[") =>
            {
                let rule_name = &k[k.find('[').unwrap_or(0) + 1..k.find(']').unwrap_or(k.len())];
                let Some(rule) = ruleset.as_ref().and_then(|r| r.rule(rule_name)) else {
                    return fail(&format!("no rule {rule_name}"));
                };
                if k.starts_with("compiled_condition") && rule.condition_compiled != val {
                    return fail(&format!(
                        "condition {:?}, want {val:?}",
                        rule.condition_compiled
                    ));
                }
                if k.starts_with("compiled_output") {
                    let not = k.ends_with("does not contain");
                    if not == rule.output.contains(val) && not || (!not && rule.output != val) {
                        return fail(&format!("output {:?} vs {k}: {val:?}", rule.output));
                    }
                }
                if k.starts_with("formatted_fields") {
                    let want: Value = serde_json::from_str(val).map_err(|e| e.to_string())?;
                    let d = describe(ruleset.as_ref().expect("ruleset"), Some(rule_name))?;
                    let got = &d["rules"][0]["details"]["extra_output_formatted_fields"];
                    if *got != want {
                        return fail(&format!("formatted fields {got} want {want}"));
                    }
                }
            }
            k if k.starts_with("describe[") => {
                let path = &k[9..k.len() - 1];
                let Some(rs) = ruleset.as_ref() else {
                    return fail("no ruleset");
                };
                let d = describe(rs, None)?;
                let got = match path.split_once("#size") {
                    Some((p, _)) => json_path(&d, p)
                        .and_then(Value::as_array)
                        .map(|a| a.len().to_string()),
                    None => json_path(&d, path).map(value_text),
                };
                if got.as_deref() != Some(val) {
                    return fail(&format!("describe {path} = {got:?}, want {val:?}"));
                }
            }
            k if k.starts_with("num_rules_for_ruleset[") => {
                let rs_name = &k[22..k.len() - 1];
                let Some(rs) = ruleset.as_mut() else {
                    return fail("no ruleset");
                };
                let id = rs.ruleset_id(rs_name);
                let want: usize = val.parse().map_err(|_| "count")?;
                if rs.enabled_count(id) != want {
                    return fail(&format!(
                        "{rs_name}: {} enabled, want {want}",
                        rs.enabled_count(id)
                    ));
                }
            }
            "op" => {
                let Some(rs) = ruleset.as_mut() else {
                    return fail("no ruleset");
                };
                let (f, a) = call(val);
                let target = a
                    .get(2)
                    .map(|s| s.trim().trim_end_matches("_id").replace('_', "-"));
                let id = rs.ruleset_id(target.as_deref().unwrap_or("falco-default-ruleset"));
                let enabled = a.get(1).map(|s| s.trim() == "true").unwrap_or(true);
                match f.as_str() {
                    "enable_rule" => rs.enable(&unquote(&a[0]), NameMatch::Substring, enabled, id),
                    "enable_rule_exact" => {
                        rs.enable(&unquote(&a[0]), NameMatch::Exact, enabled, id)
                    }
                    "enable_rule_wildcard" => {
                        rs.enable(&unquote(&a[0]), NameMatch::Wildcard, enabled, id)
                    }
                    "enable_rule_by_tag" => rs.enable_tags(&set(&a[0]), enabled, id),
                    other => return Err(format!("unknown op {other}")),
                }
            }
            k if k.starts_with("setup") => {}
            other => return Err(format!("unknown expectation {other:?}")),
        }
    }
    Ok(())
}

#[test]
fn rules_loader_cases() {
    let Some(dir) = peregrine_testkit::conformance("rules-loader") else {
        return;
    };
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".expect")
                .map(str::to_string)
        })
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&dir, case) {
            failures.push(format!("--- {case}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("rules-loader: {} cases pass", cases.len());
}
