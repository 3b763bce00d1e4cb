//! Times loading Falco's upstream rules files (the four `falco-rules/`
//! files together, and `k8s_audit_rules.yaml`) and prints the figures.
//! Run: `cargo bench -p peregrine-rules --bench load`.

use std::time::{Duration, Instant};

use peregrine_rules::loader::Loader;

fn main() {
    let root = peregrine_testkit::project_root().join("../shared/conformance");
    let files = [
        "falco-rules/falco_rules.yaml",
        "falco-rules/falco-incubating_rules.yaml",
        "falco-rules/falco-sandbox_rules.yaml",
        "falco-rules/falco-deprecated_rules.yaml",
    ];
    let read = |f: &str| std::fs::read_to_string(root.join(f)).ok();
    let Some(contents) = files
        .iter()
        .map(|f| read(f))
        .collect::<Option<Vec<String>>>()
    else {
        eprintln!(
            "SKIPPED: conformance data not found under {}",
            root.display()
        );
        return;
    };
    let k8s = read("k8saudit/k8s_audit_rules.yaml");
    let runs = 20;
    let time = |what: &str, sets: &[(&str, &str)]| {
        let mut best = Duration::MAX;
        let mut total = Duration::ZERO;
        let mut rules = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let mut loader = Loader::new();
            for (name, content) in sets {
                let res = loader.load(name, content);
                assert!(res.successful, "{}", res.summary());
            }
            let el = t.elapsed();
            rules = loader.ruleset().map(|r| r.rules.len()).unwrap_or(0);
            best = best.min(el);
            total += el;
        }
        println!(
            "{what}: {rules} rules, best {:.1} ms, mean {:.1} ms over {runs} runs",
            best.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3 / runs as f64
        );
    };
    let all: Vec<(&str, &str)> = files
        .iter()
        .copied()
        .zip(contents.iter().map(String::as_str))
        .collect();
    time("falco_rules.yaml alone", &all[..1]);
    time("stable+incubating+sandbox+deprecated", &all);
    if let Some(k) = &k8s {
        time(
            "k8s_audit_rules.yaml",
            &[("k8s_audit_rules.yaml", k.as_str())],
        );
    }
}
