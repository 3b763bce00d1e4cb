//! The Helm chart (deploy/helm/peregrine) and the plain manifests
//! (deploy/kubernetes), checked with real Helm and Kubernetes' schemas.

use peregrine_deploy_tests::{helm_python, run_python_tests};

fn run(group: &str) {
    if let Some(python) = helm_python() {
        run_python_tests(&python, &format!("test_chart.{group}"));
    }
}

#[test]
fn chart_renders_meaningful_value_combinations() {
    run("Render");
}

#[test]
fn chart_passes_strict_helm_lint() {
    run("Lint");
}

#[test]
fn rendered_resources_valid_for_kubernetes_versions() {
    run("KubernetesSchemas");
}

#[test]
fn malformed_values_rejected_with_clear_messages() {
    run("MalformedValues");
}

#[test]
fn readme_lists_every_value() {
    run("Documentation");
}

#[test]
fn plain_manifests_match_chart_defaults() {
    run("PlainManifests");
}
