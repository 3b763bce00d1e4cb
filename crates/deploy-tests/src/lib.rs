//! Tests of the Kubernetes deployment (`deploy/`, `Containerfile`), run by
//! `cargo test`: the Helm chart rendered and linted by real Helm, every
//! resource validated against Kubernetes' schemas, the plain manifests and
//! the chart README kept in sync, the image built with podman, the chart's
//! capability set proven on the kernel, and the image run as the DaemonSet
//! runs it.
//!
//! The checks themselves are Python (`deploy/tests/*.py`), since Helm and the
//! Kubernetes schemas come from PyPI (`helm-python-sdk`,
//! `kubernetes-validate`, installed in a venv by
//! `scripts/prereqs.d/40-helm.sh`). Each Rust test runs one group:
//!
//! ```no_run
//! if let Some(python) = peregrine_deploy_tests::helm_python() {
//!     peregrine_deploy_tests::run_python_tests(&python, "test_chart.Render");
//! }
//! ```

use std::path::PathBuf;
use std::process::Command;

use peregrine_testkit::{in_ci, project_root};

/// The venv made by `scripts/prereqs.d/40-helm.sh`.
pub fn helm_venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("PEREGRINE_HELM_VENV") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/peregrine/helm-venv")
}

/// The venv's python when Helm and kubernetes-validate import; else `None`
/// after a skip notice (a panic under CI, where prereqs install them).
pub fn helm_python() -> Option<PathBuf> {
    let python = helm_venv().join("bin/python");
    let importable = Command::new(&python)
        .args(["-c", "import helm_python, kubernetes_validate, yaml"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if importable {
        return Some(python);
    }
    let why = format!(
        "deployment tests need helm-python-sdk and kubernetes-validate in {} (run scripts/prereqs.sh --test)",
        helm_venv().display()
    );
    if in_ci() {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// Runs `python -m unittest -v deploy/tests/<target>` from the project root
/// (`target` is `module.Class` or `module.Class.test_name`), streaming its
/// report, and fails when any check fails.
pub fn run_python_tests(python: &std::path::Path, target: &str) {
    run_python_tests_with_env(python, target, &[]);
}

/// As [`run_python_tests`], with extra environment variables.
pub fn run_python_tests_with_env(python: &std::path::Path, target: &str, env: &[(&str, &str)]) {
    let root = project_root();
    let status = Command::new(python)
        .current_dir(root.join("deploy/tests"))
        .args(["-m", "unittest", "-v", target])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .envs(env.iter().copied())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        status.success(),
        "deploy/tests {target} failed (report above)"
    );
}
