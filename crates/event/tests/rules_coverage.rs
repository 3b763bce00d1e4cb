//! Every event type Falco's rules name (`evt.type ...` in the stable,
//! incubating, sandbox and deprecated rules) is in the table, with both its
//! enter and exit events, like libscap's.

use peregrine_event::table::{self, Direction};

fn rule_event_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("evt.type") {
        rest = &rest[i + "evt.type".len()..];
        let t = rest.trim_start();
        let t = if let Some(r) = t.strip_prefix("!=") {
            r
        } else if let Some(r) = t.strip_prefix('=') {
            r
        } else if let Some(r) = t.strip_prefix("in") {
            r
        } else {
            continue;
        };
        let t = t.trim_start();
        let (list, single) = match t.strip_prefix('(') {
            Some(r) => (r.split(')').next().unwrap_or(""), false),
            None => (t, true),
        };
        let mut items: Vec<&str> = list
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if single {
            items.truncate(1);
        }
        for it in items {
            let it = it.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            if !it.is_empty()
                && it
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                names.push(it.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn falco_rules_event_types_are_covered() {
    let Some(dir) = peregrine_testkit::conformance("falco-rules") else {
        return;
    };
    let mut all = Vec::new();
    for f in [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
        "falco-deprecated_rules.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        all.extend(rule_event_names(&text));
    }
    all.sort();
    all.dedup();
    // Names that are lists or macros rather than event types are not lower-case
    // syscall words we would find in the table; everything left must be there.
    assert!(all.len() > 30, "{all:?}");
    let mut missing = Vec::new();
    for name in &all {
        let types: Vec<u16> = table::event_types_named(name).collect();
        if types.is_empty() {
            missing.push(name.clone());
            continue;
        }
        let has = |d| types.iter().any(|&t| table::direction(t) == d);
        // Scheduler switches are enter-only in libscap; everything else has both halves.
        if name != "switch" {
            assert!(
                has(Direction::Enter) && has(Direction::Exit),
                "{name}: {types:?}"
            );
        }
    }
    // The scan also picks up list and macro names used after `evt.type in`.
    let not_events: Vec<&String> = missing
        .iter()
        .filter(|n| !dir.join("falco_rules.yaml").exists() || !is_list_or_macro(&dir, n))
        .collect();
    assert!(
        not_events.is_empty(),
        "event types missing from the table: {not_events:?}"
    );
}

fn is_list_or_macro(dir: &std::path::Path, name: &str) -> bool {
    [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
        "falco-deprecated_rules.yaml",
    ]
    .iter()
    .any(|f| {
        let t = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        t.contains(&format!("- list: {name}\n")) || t.contains(&format!("- macro: {name}\n"))
    })
}

#[test]
fn scanner_finds_names() {
    let n = rule_event_names(
        "condition: evt.type in (open, openat) and evt.type=execve or evt.type != fd",
    );
    assert_eq!(n, vec!["execve", "fd", "open", "openat"]);
}
