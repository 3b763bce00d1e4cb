//! Falco's own rules files: the four `falco-rules/` files load together
//! (stable → incubating → sandbox, deprecated) and `k8s_audit_rules.yaml`
//! loads; the warnings are the ones Falco itself gives for them.

use peregrine_rules::loader::{Loader, WarningCode};

const FILES: [&str; 4] = [
    "falco-rules/falco_rules.yaml",
    "falco-rules/falco-incubating_rules.yaml",
    "falco-rules/falco-sandbox_rules.yaml",
    "falco-rules/falco-deprecated_rules.yaml",
];

#[test]
fn falco_rules_files_load_together() {
    let mut loader = Loader::new();
    for f in FILES {
        let Some(path) = peregrine_testkit::conformance(f) else {
            return;
        };
        let res = loader.load_file(&path.to_string_lossy()).clone();
        assert!(res.successful, "{}", res.verbose(loader.contents()));
        assert_eq!(res.schema_validation(), "ok", "{:?}", res.schema_status);
    }
    let results = loader.results();
    // The first three files load cleanly; the deprecated file redefines the
    // `outbound`/`inbound_outbound` macros with `evt.dir`, so Falco flags every
    // rule using them (12 rules across the four files).
    for r in &results[..3] {
        assert!(r.warnings.is_empty(), "{}", r.verbose(loader.contents()));
    }
    let last = &results[3];
    assert_eq!(
        last.warnings.len(),
        12,
        "{}",
        last.verbose(loader.contents())
    );
    assert!(last
        .warnings
        .iter()
        .all(|w| w.code == WarningCode::DeprecatedItem && w.deprecated_field.is_some()));
    let rs = loader.ruleset().expect("ruleset");
    assert_eq!(rs.rules.len(), 25 + 31 + 37 + 4);
    assert!(rs.required_engine_version.is_some());
    assert!(loader.check_plugin_requirements(&[]).is_ok());
    // Every syscall rule is indexed by a bounded set of event types.
    for r in &rs.rules {
        assert!(
            !r.event_types.is_all(),
            "{} matches every event type",
            r.name
        );
    }
}

#[test]
fn k8s_audit_rules_load() {
    let Some(path) = peregrine_testkit::conformance("k8saudit/k8s_audit_rules.yaml") else {
        return;
    };
    let mut loader = Loader::new();
    let res = loader.load_file(&path.to_string_lossy()).clone();
    assert!(res.successful, "{}", res.verbose(loader.contents()));
    let rs = loader.ruleset().expect("ruleset");
    assert_eq!(rs.rules.len(), 48);
    assert!(rs.rules.iter().all(|r| r.source == "k8s_audit"));
    // The k8saudit/json plugins are not provided natively (yet).
    assert!(loader.check_plugin_requirements(&[]).is_err());
    assert!(loader
        .check_plugin_requirements(&[("k8saudit", "0.18.0"), ("json", "0.7.0")])
        .is_ok());
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_crash() {
    let depth = 200_000;
    let src = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let mut loader = Loader::new();
    let res = loader.load("deep.yaml", &src).clone();
    assert!(!res.successful);
}
