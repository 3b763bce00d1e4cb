//! `peregrine -V FILE… -o json_output=true` on the four upstream rules files,
//! checked against what Falco 0.44.1 (container plugin loaded) prints, as
//! established from its sources: `validate_rules_files.cpp` (one JSON line,
//! `falco_load_results` per file, exit 0 when all load),
//! `rule_loader::result::as_json` (keys, schema fields), the
//! `deprecated_field_warning` of `filter_warning_resolver` (`evt.dir`
//! conditions in the deprecated rules) and `rule_loader::context` (location
//! chain, condition-expression names, snippets).

use std::process::Command;

use serde_json::Value;

fn peregrine(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(args)
        .output()
        .expect("run peregrine");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FILES: [&str; 4] = [
    "falco_rules.yaml",
    "falco-incubating_rules.yaml",
    "falco-sandbox_rules.yaml",
    "falco-deprecated_rules.yaml",
];

const EVT_DIR_DESC: &str = "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// `files`: (path, content) of every file loaded so far. A warning names the
/// rule's own file: Falco recompiles everything on each load, so rules of
/// earlier files that now expand the deprecated file's redefined macros
/// (`outbound`, `inbound_outbound`) are reported in its result.
fn check_deprecated_warning(w: &Value, files: &[(String, String)]) {
    assert_eq!(
        keys(w),
        ["code", "codedesc", "context", "deprecated_field", "message"]
    );
    assert_eq!(w["code"], "LOAD_DEPRECATED_ITEM");
    assert_eq!(
        w["codedesc"],
        "A deprecated item is employed by lists, macros, or rules."
    );
    assert_eq!(w["deprecated_field"], "evt.dir");
    assert_eq!(w["message"], EVT_DIR_DESC);
    let locs = w["context"]["locations"].as_array().expect("locations");
    let types: Vec<&str> = locs
        .iter()
        .map(|l| l["item_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "rules content",
            "rule",
            "rule condition",
            "condition expression"
        ]
    );
    let file = locs[0]["position"]["name"].as_str().unwrap();
    let content = &files
        .iter()
        .find(|(p, _)| p == file)
        .unwrap_or_else(|| panic!("unknown file {file}"))
        .1;
    assert_eq!(locs[0]["position"]["line"], 0);
    assert_eq!(locs[1]["position"]["name"], file);
    let rule = locs[1]["item_name"].as_str().unwrap();
    // The rule's position points at its `- rule: NAME` item.
    let off = locs[1]["position"]["offset"].as_u64().unwrap() as usize;
    assert!(
        content[off..].starts_with(&format!("rule: {rule}")),
        "{rule} at {off}"
    );
    // The condition expression starts where the condition value does
    // (parser position 0 added to the YAML mark) and is named by its text.
    assert_eq!(locs[3]["position"], {
        let mut p = locs[2]["position"].clone();
        p["name"] = locs[3]["position"]["name"].clone();
        p
    });
    let expr_name = locs[3]["position"]["name"].as_str().unwrap();
    assert!(
        expr_name.starts_with('"') && expr_name.ends_with('"'),
        "{expr_name}"
    );
    let snippet = w["context"]["snippet"].as_str().unwrap();
    assert!(snippet.ends_with("^\n"), "{snippet:?}");
}

#[test]
fn validate_json_on_the_upstream_rules_files_matches_falco() {
    let Some(dir) = peregrine_testkit::conformance("falco-rules") else {
        return;
    };
    let paths: Vec<String> = FILES
        .iter()
        .map(|f| dir.join(f).to_string_lossy().into_owned())
        .collect();
    let mut args = Vec::new();
    for p in &paths {
        args.extend(["-V", p.as_str()]);
    }
    args.extend(["-o", "json_output=true"]);
    let (code, out, err) = peregrine(&args);
    assert_eq!(code, 0, "{err}");
    // stderr is Falco's log: each message after a `Sun Nov 29 07:11:36
    // 2026: ` time prefix (a multi-line message once), the files listed
    // under "Validating rules file(s):".
    let logged: Vec<&str> = err
        .lines()
        .filter_map(|l| {
            let (time, msg) = l.split_at_checked(24)?;
            let stamped = time.as_bytes()[3] == b' ' && time[20..].parse::<u16>().is_ok();
            msg.strip_prefix(": ").filter(|_| stamped)
        })
        .collect();
    // The log's first line is stamped.
    assert_eq!(
        logged.first().copied(),
        err.lines().next().and_then(|l| l.get(26..)),
        "{err}"
    );
    let at = logged
        .iter()
        .position(|m| *m == "Validating rules file(s):")
        .expect("validating line");
    let listed: Vec<String> = paths.iter().map(|p| format!("   {p}")).collect();
    assert_eq!(logged[at + 1..at + 1 + paths.len()], listed[..], "{err}");
    assert_eq!(out.lines().count(), 1, "one JSON line");
    let doc: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(keys(&doc), ["falco_load_results"]);
    let results = doc["falco_load_results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for (r, p) in results.iter().zip(&paths) {
        assert_eq!(
            keys(r),
            [
                "errors",
                "name",
                "schema_valid",
                "schema_warnings",
                "successful",
                "warnings"
            ]
        );
        assert_eq!(r["name"], p.as_str());
        assert_eq!(r["successful"], true);
        assert_eq!(r["schema_valid"], true);
        assert_eq!(r["errors"], Value::Array(vec![]));
        assert_eq!(r["schema_warnings"], Value::Array(vec![]));
    }
    for r in &results[..3] {
        assert_eq!(r["warnings"], Value::Array(vec![]), "{}", r["name"]);
    }
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| (p.clone(), std::fs::read_to_string(p).expect("read")))
        .collect();
    let warnings = results[3]["warnings"].as_array().unwrap();
    // One warning per rule whose expanded condition reads evt.dir, in
    // rule definition order across the files.
    assert_eq!(warnings.len(), 12);
    for w in warnings {
        check_deprecated_warning(w, &files);
    }
    let first = &warnings[0]["context"]["locations"][1];
    assert_eq!(
        first["item_name"],
        "Disallowed SSH Connection Non Standard Port"
    );
    assert_eq!(first["position"]["name"], paths[0].as_str());

    // Alone, the deprecated file says the same about each of its rules.
    let (code, out, _) = peregrine(&["-V", &paths[3], "-o", "json_output=true"]);
    assert_eq!(code, 0);
    let alone: Value = serde_json::from_str(&out).expect("json");
    let w = alone["falco_load_results"][0]["warnings"]
        .as_array()
        .unwrap();
    assert_eq!(w.len(), 4, "only the deprecated file's own rules");
    for x in w {
        check_deprecated_warning(x, &files[3..]);
    }
    assert_eq!(
        w[0]["context"]["locations"][1]["item_name"],
        "Disallowed SSH Connection"
    );
    assert_eq!(
        w[0]["context"]["locations"][3]["position"]["name"],
        "\"inbound_outbound ...\""
    );
    assert_eq!(
        w[0]["context"]["snippet"],
        format!(
            "inbound_outbound and ssh_port and not allowed_ssh_hosts\n{}^\n",
            " ".repeat(54)
        )
    );
}

#[test]
fn validate_reads_json_output_from_the_config_file_too() {
    let dir = std::env::temp_dir().join(format!("peregrine-validate-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let rules = dir.join("r.yaml");
    std::fs::write(
        &rules,
        "- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: WARNING\n",
    )
    .expect("write");
    let cfg = dir.join("falco.yaml");
    std::fs::write(&cfg, "json_output: true\n").expect("write");
    let (r, c) = (rules.to_str().unwrap(), cfg.to_str().unwrap());
    let (code, out, _) = peregrine(&["-c", c, "-V", r]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).expect("json from the config's json_output");
    assert_eq!(doc["falco_load_results"][0]["successful"], true);
    // -o wins over the file.
    let (code, out, _) = peregrine(&["-c", c, "-V", r, "-o", "json_output=false"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("{r}: Ok"));
}
